"""``atomic-entry check`` against the exchange doubles, for the README's figures.

The doubles live on loopback inside the test harness, so the command line cannot reach
them; this script runs the command's own ``run`` on them, with the fake keys, and prints
exactly what the command prints (stdout, then stderr as ``[stderr]`` lines) and its exit
code. Run: ``PYTHONPATH=$PWD python -m tests.check_demo``.
"""

from __future__ import annotations

import contextlib
import io
import logging
from decimal import Decimal

from fsm.cli import check
from fsm.cli.main import _parser
from tests.test_live_cli import ENV, Doubles

LEGS = ["--long", "binanceusdm:BTC/USDT:USDT", "--short", "bybit:BTC/USDT:USDT"]


def _show(title: str, argv: list[str], doubles: Doubles) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = check.run(_parser().parse_args(["check", *LEGS, *argv]), environ=ENV, out=out,
                         factory=doubles.factory)
    print(f"## {title}\n$ atomic-entry check {' '.join(LEGS + argv)}")
    print(out.getvalue().rstrip())
    for line in err.getvalue().splitlines():
        print(f"[stderr] {line}")
    print(f"[exit {int(code)}]\n")


def main() -> None:
    # the harness's loopback sessions outlive each run; asyncio's notes about them are noise
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    with Doubles() as doubles:
        _show("both accounts set up safely (the doubles' defaults)", ["--qty", "0.01"], doubles)
        doubles.wires["bybit"].account.hedge = True
        doubles.wires["binanceusdm"].account.leverage = Decimal(50)
        doubles.wires["binanceusdm"].account.margin = "cross"
        _show("bybit in hedge mode, binance at 50x cross", [], doubles)
        _show("the same, fixed by the command",
              ["--set-leverage", "5", "--set-margin-mode", "isolated",
               "--set-position-mode", "one_way"], doubles)


if __name__ == "__main__":
    main()
