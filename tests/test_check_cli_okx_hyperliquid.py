"""``atomic-entry check`` against the okx and hyperliquid doubles (``tests.test_check_cli``
covers binance and bybit): the same command reads, judges and sets up their accounts
through ccxt's real calls, and says what it cannot read or set there.

Checked to fail: with the okx double's ``posMode`` always ``net_mode`` the hedge test
failed.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest

from fsm.cli import check
from fsm.cli.exits import Exit
from fsm.cli.main import _parser
from tests.ccxtkit import CREDENTIALS, FAKE_KEY, FAKE_SECRET
from tests.test_live_cli import Doubles

LEGS = ["--long", "okx:BTC/USDT:USDT", "--short", "hyperliquid:BTC/USDC:USDC"]
ENV = {"ATOMIC_ENTRY_OKX_API_KEY": FAKE_KEY, "ATOMIC_ENTRY_OKX_SECRET": FAKE_SECRET,
       "ATOMIC_ENTRY_OKX_PASSWORD": CREDENTIALS["okx"]["password"],
       "ATOMIC_ENTRY_HYPERLIQUID_WALLET_ADDRESS": CREDENTIALS["hyperliquid"]["walletAddress"],
       "ATOMIC_ENTRY_HYPERLIQUID_PRIVATE_KEY": CREDENTIALS["hyperliquid"]["privateKey"]}
EXCHANGES = ("okx", "hyperliquid")


def _check(argv: list[str], doubles: Doubles) -> tuple[int, str]:
    out = io.StringIO()
    code = check.run(_parser().parse_args(["check", *LEGS, *argv]), environ=ENV, out=out,
                     factory=doubles.factory)
    return code, out.getvalue()


def _rows(out: str, venue: str) -> dict[str, str]:
    return {re.split(r"\s{2,}", line)[2]: line for line in out.splitlines()[1:]
            if line.startswith(venue)}


def test_check_reads_okx_and_hyperliquid_and_says_what_neither_can_tell(
        capsys: pytest.CaptureFixture[str]) -> None:
    with Doubles(exchanges=EXCHANGES) as doubles:
        code, out = _check(["--qty", "0.01"], doubles)
        assert [r for core in doubles.cores.values() for r in core.trading_requests()
                if r[1] != "/info"] == []  # hyperliquid reads by POST /info
    assert code == Exit.OK, out
    okx, hl = _rows(out, "okx"), _rows(out, "hyperliquid")
    for item in ("position mode", "margin mode", "leverage", "fees", "symbol trading"):
        assert " ok " in okx[item], okx[item]
    assert "one_way" in okx["position mode"] and " 3 " in okx["leverage"]
    assert " WARN " in okx["may trade"].upper()
    for item in ("position mode", "margin mode", "leverage"):
        assert " ok " in hl[item], hl[item]
    assert " WARN " in hl["may trade"].upper()
    err = capsys.readouterr().err
    assert FAKE_KEY not in out + err and FAKE_SECRET not in out + err


def test_check_refuses_an_okx_hedge_mode_account_naming_the_fix() -> None:
    with Doubles(exchanges=EXCHANGES) as doubles:
        doubles.wires["okx"].account.hedge = True
        code, out = _check([], doubles)
    assert code == Exit.ACCOUNT
    assert "fix okx position mode: set one-way position mode on okx" in out


def test_set_leverage_sets_both_accounts() -> None:
    with Doubles(exchanges=EXCHANGES) as doubles:
        for ex in EXCHANGES:
            doubles.wires[ex].account.leverage = Decimal(50)
        code, out = _check(["--set-leverage", "4"], doubles)
        assert code == Exit.OK, out
        okx, hl = doubles.wires["okx"].account, doubles.wires["hyperliquid"].account
        assert okx.leverage == 4 and okx.changes == ["leverage 4 isolated"]
        assert hl.leverage == 4 and hl.changes == ["leverage 4 isolated"]  # the mode kept
        assert " 4 " in _rows(out, "okx")["leverage"]


def test_set_position_mode_switches_okx_and_asks_nothing_of_hyperliquid() -> None:
    """hyperliquid is one-way by design (ccxt has no switch there): one-way on a pair with
    it switches the other leg and sends hyperliquid nothing."""
    with Doubles(exchanges=EXCHANGES) as doubles:
        doubles.wires["okx"].account.hedge = True
        code, out = _check(["--set-position-mode", "one_way"], doubles)
        assert code == Exit.OK, out
        assert doubles.wires["okx"].account.changes == ["hedge False"]
        assert doubles.wires["hyperliquid"].account.changes == []
    assert "one_way" in _rows(out, "okx")["position mode"]




def test_a_set_up_refused_on_one_leg_says_where_it_was_applied(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Both legs finish before the refusal is reported, and it says which leg's set-up
    went through: the operator must know what changed."""
    refusal = "Cannot switch leverage type with open position."
    with Doubles(exchanges=EXCHANGES) as doubles:
        doubles.wires["hyperliquid"].account.refused = refusal
        code, out = _check(["--set-leverage", "4"], doubles)
        assert doubles.wires["okx"].account.changes == ["leverage 4 isolated"]
    err = capsys.readouterr().err
    assert code == Exit.BAD_INPUT and out == ""
    assert refusal in err
    assert "(the set-up asked for was applied on okx:BTC/USDT:USDT)" in err
