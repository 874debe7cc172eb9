"""The ``atomic-entry`` command line: the parser assembled from the command modules, and
the dispatch to them.

Each command is one module with ``add_parser(commands)`` and ``run(args)``; this module
knows their names and nothing of what they do. Every command returns an
``fsm.cli.exits.Exit`` (the README's table of exit codes): 0 complete, withdrawn or
rolled back; 1 a safety invariant was broken; 2 bad input, nothing sent; 3 killed or
crashed; 4 an entry ended stuck or unbalanced; 5 a circuit breaker refused the entry;
6 the account pre-flight refused a leg's account (``check``, ``enter``);
70 an unexpected error, reported on one line with the log file holding its traceback
(``fsm.cli.console``), never a bare traceback. Importing this module loads no exchange
library: commands import ccxt, graphviz, matplotlib and the benchmarks when they run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from loguru import logger

from fsm.cli import (
    bench,
    breaker,
    check,
    console,
    coverage,
    diagrams,
    enter,
    plot,
    recover,
    report,
    simulate,
)
from fsm.cli.exits import Exit
from fsm.logs import enable_logging

# In the order ``--help`` lists them.
COMMANDS: dict[str, ModuleType] = {
    "simulate": simulate, "diagrams": diagrams, "bench": bench, "enter": enter,
    "recover": recover, "report": report, "coverage": coverage, "breaker": breaker,
    "check": check,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atomic-entry",
        description="Hedged two-venue entries for funding-rate arbitrage.",
    )
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log engine decisions (each line names its entry)")
    parser.add_argument("--log-json", action="store_true",
                        help="log as JSON lines (for log shippers) on stderr")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS.values():
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logger.remove()
    enable_logging("DEBUG" if args.verbose else "WARNING", json=args.log_json)
    run: Callable[[argparse.Namespace], Exit] = COMMANDS[args.command].run
    try:
        return run(args)
    except (diagrams.DotMissing, plot.PlotError) as exc:
        print(f"atomic-entry: {exc}", file=sys.stderr)
        return Exit.BAD_INPUT
    except BrokenPipeError:  # the reader went away before the output ended
        console.emit("")
        return Exit.OK
    except Exception as exc:
        return console.report_unexpected(exc, args.command)


if __name__ == "__main__":
    raise SystemExit(main())
