"""``atomic-entry check`` and ``enter``'s pre-flight against the binance and bybit doubles.

The doubles' accounts are set per test (``tests.doubles.account``): one-way, isolated, 3x
by default; hedge mode, cross margin or 50x when a test says so. Checked to fail: with the
pre-flight call removed from ``enter`` the hedge-mode entry sent its quotes and the
refusal tests failed; with ``--set-leverage`` not passed on, the 50x account stayed 50x.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fsm.cli import check
from fsm.cli.exits import Exit
from fsm.cli.main import _parser
from tests.ccxtkit import FAKE_KEY, FAKE_SECRET
from tests.test_live_cli import ARGS, ENV, Doubles, _run

LEGS = ["--long", "binanceusdm:BTC/USDT:USDT", "--short", "bybit:BTC/USDT:USDT"]


def _check(argv: list[str], factory: Any, environ: dict[str, str] | None = None
           ) -> tuple[int, str]:
    out = io.StringIO()
    code = check.run(_parser().parse_args(["check", *LEGS, *argv]),
                     environ=ENV if environ is None else environ, out=out, factory=factory)
    return code, out.getvalue()


def _no_secret(*texts: str) -> None:
    for text in texts:
        assert FAKE_KEY not in text and FAKE_SECRET not in text


def test_check_prints_the_table_for_safe_accounts(capsys: pytest.CaptureFixture[str]) -> None:
    with Doubles() as doubles:
        code, out = _check(["--qty", "0.01"], doubles.factory)
        for core in doubles.cores.values():
            assert core.trading_requests() == []
    lines = out.splitlines()
    assert code == Exit.OK
    assert lines[0].split() == ["venue", "symbol", "check", "status", "found", "required"]
    for venue in ("binanceusdm", "bybit"):
        rows = {re.split(r"\s{2,}", line)[2]: line for line in lines[1:]
                if line.startswith(venue)}
        assert set(rows) == {"credentials", "position mode", "margin mode", "leverage",
                             "fees", "min order", "max order", "symbol trading", "may trade"}
        assert all(" ok " in row for row in rows.values())
        assert "one_way" in rows["position mode"] and " 3 " in rows["leverage"]
    _no_secret(out, *capsys.readouterr())


@pytest.mark.parametrize(("venue", "setting", "fix"), [
    ("binanceusdm", {"hedge": True},
     "fix binanceusdm position mode: set one-way position mode on binanceusdm (Futures > "
     "Preferences > Position Mode > One-way Mode) or rerun with --set-position-mode one_way"),
    ("bybit", {"hedge": True},
     "fix bybit position mode: set one-way position mode on bybit (Derivatives > Settings > "
     "Position Mode > One-Way Mode)"),
    ("bybit", {"leverage": Decimal(50)},
     "fix bybit leverage: lower leverage for BTC/USDT:USDT to 5 or less on bybit (the "
     "leverage button above the order form) or rerun with --set-leverage 5"),
    ("binanceusdm", {"leverage": Decimal(20), "margin": "cross"},
     "fix binanceusdm margin mode: set isolated margin for BTC/USDT:USDT on binanceusdm"),
    ("binanceusdm", {"can_trade": False}, "fix binanceusdm may trade: enable futures trading"),
], ids=["binance-hedge", "bybit-hedge", "bybit-50x", "binance-default-20x-cross",
        "binance-read-only"])
def test_check_refuses_an_unsafe_account_naming_the_fix(
        venue: str, setting: dict[str, Any], fix: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    with Doubles() as doubles:
        for name, value in setting.items():
            setattr(doubles.wires[venue].account, name, value)
        code, out = _check([], doubles.factory)
        for core in doubles.cores.values():
            assert core.trading_requests() == []
    err = capsys.readouterr().err
    assert code == Exit.ACCOUNT == 6
    assert any(line.startswith(fix) for line in out.splitlines()), out
    assert "account pre-flight refused: nothing sent" in err
    _no_secret(out, err)


def test_set_leverage_and_margin_mode_fix_the_account_then_check_again() -> None:
    with Doubles() as doubles:
        account = doubles.wires["bybit"].account
        account.leverage, account.margin = Decimal(50), "cross"
        doubles.wires["binanceusdm"].account.leverage = Decimal(20)
        code, out = _check(["--set-leverage", "4", "--set-margin-mode", "isolated"],
                           doubles.factory)
        assert code == Exit.OK, out
        assert account.leverage == 4 and account.margin == "isolated"
        assert doubles.wires["binanceusdm"].account.changes == ["margin isolated", "leverage 4"]
        assert doubles.cores["bybit"].trading_requests()  # the set-up itself, nothing else
        assert all("order" not in path for core in doubles.cores.values()
                   for _, path, _ in core.trading_requests())


def test_set_position_mode_switches_a_hedge_account_to_one_way() -> None:
    with Doubles() as doubles:
        doubles.wires["binanceusdm"].account.hedge = True
        code, _ = _check(["--set-position-mode", "one_way"], doubles.factory)
        assert code == Exit.OK and doubles.wires["binanceusdm"].account.hedge is False


def test_set_leverage_above_the_maximum_is_bad_input_before_connecting(
        capsys: pytest.CaptureFixture[str]) -> None:
    def factory(*_: Any) -> Any:
        raise AssertionError("nothing may connect")

    code, _ = _check(["--set-leverage", "20"], factory)
    assert code == Exit.BAD_INPUT
    assert "--set-leverage 20: expected at most --max-leverage 5" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _parser().parse_args(["check", *LEGS, "--set-leverage", "500"])
    assert "expected a whole number from 1 to 125" in capsys.readouterr().err


def test_missing_keys_are_named_before_any_connection(
        capsys: pytest.CaptureFixture[str]) -> None:
    def factory(*_: Any) -> Any:
        raise AssertionError("nothing may connect")

    environ = {k: v for k, v in ENV.items() if "BYBIT" not in k}
    code, out = _check([], factory, environ)
    assert code == Exit.BAD_INPUT and out == ""
    assert ("missing API credentials: set ATOMIC_ENTRY_BYBIT_API_KEY, "
            "ATOMIC_ENTRY_BYBIT_SECRET") in capsys.readouterr().err


def test_enter_refuses_a_hedge_mode_account_before_anything_is_sent(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    journal = tmp_path / "j.sqlite"
    with Doubles() as doubles:
        doubles.wires["bybit"].account.hedge = True
        code, out = _run([*ARGS, "--journal", str(journal)], doubles)
        for core in doubles.cores.values():
            assert core.trading_requests() == []
    err = capsys.readouterr().err
    assert code == Exit.ACCOUNT
    assert "fix bybit position mode: set one-way position mode on bybit" in err
    assert list(tmp_path.iterdir()) == []  # no journal: nothing was sent
    _no_secret(out, err)


def test_enter_refuses_an_over_leveraged_account_and_set_leverage_fixes_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    with Doubles() as doubles:
        doubles.wires["binanceusdm"].account.leverage = Decimal(50)
        code, _ = _run([*ARGS, "--dry-run"], doubles)
        assert code == Exit.ACCOUNT
        assert "--set-leverage 5" in capsys.readouterr().err
        doubles.cores["binanceusdm"].script.fill_after_create["q"] = 0.2
        # the quote timeout (real clock) only fires if the 0.2 s fill never shows
        code, _ = _run([*ARGS, "--set-leverage", "3", "--quote-timeout", "5", "--json"],
                       doubles)
        assert code == Exit.OK
        assert doubles.wires["binanceusdm"].account.leverage == 3
        assert doubles.cores["binanceusdm"].positions["BTCUSDT"] == Decimal("0.5")


def test_the_hedge_mode_doubles_refuse_orders_without_a_position_side() -> None:
    """Why the pre-flight matters: unchecked, a hedge-mode account refuses every order
    (binance -4061, bybit 10001), so one leg may fill while the other is refused."""
    import asyncio

    from tests.ccxtkit import SYMBOL, double_venue
    from venues import protocol as base
    from venues.market import Leg, OrderKind, PlaceOrder, Purpose, Side, TimeInForce

    async def attempt(exchange: str) -> str:
        async with double_venue(exchange, exchange) as d:
            d.wire.account.hedge = True
            order = PlaceOrder(client_id="aehedgeLq1", venue=exchange, symbol=SYMBOL,
                               leg=Leg.LONG, purpose=Purpose.QUOTE, side=Side.BUY,
                               kind=OrderKind.LIMIT, qty=Decimal("0.01"),
                               price=Decimal(59000), time_in_force=TimeInForce.GTC)
            with pytest.raises(base.OrderRejected) as refused:
                await d.venue.place(order)
            return str(refused.value)

    assert "position side does not match" in asyncio.run(attempt("binanceusdm"))
    assert "position idx not match position mode" in asyncio.run(attempt("bybit"))
