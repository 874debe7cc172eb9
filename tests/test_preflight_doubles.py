"""The account pre-flight (``fsm.shell.preflight``) over the HTTP doubles of all four
exchanges: ccxt's real account calls read and set the doubles' ``AccountState``
(``tests.doubles.account``), and the judge's findings are checked per exchange.

What an exchange cannot do through ccxt is asserted as it is today: hyperliquid reads no
trade permission (WARN, never a pass; its leverage and margin mode come from
``activeAssetData``) and is one-way by design (asking for one-way sends nothing); okx
reads no trade permission (WARN). Checked to fail: with the
okx ``posMode`` answered as ``net_mode`` always, the okx hedge row passed.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from fsm.core.config import EntryConfig
from fsm.core.preflight import Finding, Severity, refused
from fsm.shell import preflight
from tests.ccxtkit import Double, double_venue, symbol_for
from venues.account import AccountChange, MarginMode, PositionMode

D = Decimal
OK, WARN, FAIL = Severity.OK, Severity.WARN, Severity.FAIL
EXCHANGES = ["binanceusdm", "bybit", "okx", "hyperliquid"]
# the exchanges with a hedge mode, and with a readable leverage
HEDGING = ["binanceusdm", "bybit", "okx"]


def _run(exchange: str, setting: dict[str, Any], change: AccountChange | None = None,
         config: EntryConfig | None = None) -> tuple[dict[str, Finding], Double]:
    """The findings for ``exchange``'s leg once its double's account has ``setting``
    (and ``change`` applied through the venue), and the double."""
    async def main() -> tuple[dict[str, Finding], Double]:
        async with double_venue(exchange, exchange) as d:
            for name, value in setting.items():
                setattr(d.wire.account, name, value)
            found = await preflight.run([(d.venue, symbol_for(exchange))],
                                        config or EntryConfig(), qty=D("0.01"), change=change)
            return {f.item: f for f in found}, d

    return asyncio.run(main())


def _changing(d: Double) -> list[tuple[str, str, dict[str, Any]]]:
    """The requests that could change the account (hyperliquid reads by POST /info)."""
    return [r for r in d.core.trading_requests() if r[1] != "/info"]


def _severities(rows: dict[str, Finding]) -> dict[str, Severity]:
    return {item: rows[item].severity for item in ("position mode", "margin mode",
                                                   "leverage", "may trade")}


SAFE = {  # a one-way, isolated, 3x account that may trade, as each exchange reads it
    "binanceusdm": {"position mode": OK, "margin mode": OK, "leverage": OK, "may trade": OK},
    "bybit": {"position mode": OK, "margin mode": OK, "leverage": OK, "may trade": OK},
    "okx": {"position mode": OK, "margin mode": OK, "leverage": OK, "may trade": WARN},
    "hyperliquid": {"position mode": OK, "margin mode": OK, "leverage": OK,
                    "may trade": WARN},
}


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_a_safe_account_is_read_and_judged(exchange: str) -> None:
    rows, d = _run(exchange, {})
    assert _severities(rows) == SAFE[exchange]
    assert not refused(tuple(rows.values()))
    assert {rows[i].severity for i in ("fees", "min order", "symbol trading")} == {OK}
    assert _changing(d) == []  # a read changes nothing
    assert d.core.unknown_routes == []


def test_okx_reads_the_leverage_of_the_margin_mode_its_orders_will_carry() -> None:
    rows, d = _run("okx", {"leverage": D(4)})
    assert ("GET", "/api/v5/account/leverage-info",
            {"instId": "BTC-USDT-SWAP", "mgnMode": "isolated"}) in d.core.requests
    assert " 4 " in f" {rows['leverage'].found} " and rows["leverage"].severity is OK


@pytest.mark.parametrize("exchange", HEDGING)
def test_a_hedge_mode_account_is_refused(exchange: str) -> None:
    rows, _ = _run(exchange, {"hedge": True})
    assert rows["position mode"].severity is FAIL
    assert f"set one-way position mode on {exchange}" in rows["position mode"].fix


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_an_over_leveraged_account(exchange: str) -> None:
    """Refused on every exchange: hyperliquid's leverage is read with no position open."""
    rows, _ = _run(exchange, {"leverage": D(50)})
    assert rows["leverage"].severity is FAIL and "to 5 or less" in rows["leverage"].fix


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_a_cross_margin_account_is_refused_when_isolated_is_required(exchange: str) -> None:
    rows, _ = _run(exchange, {"margin": "cross"})
    if exchange == "okx":  # no account setting: the orders carry isolated
        assert rows["margin mode"].severity is OK
    else:
        assert rows["margin mode"].severity is FAIL, rows["margin mode"]


def test_hyperliquid_reads_the_leverage_in_force_without_a_position() -> None:
    rows, d = _run("hyperliquid", {"leverage": D(4)})
    [(_, _, asked)] = [r for r in d.core.requests if r[2].get("type") == "activeAssetData"]
    assert asked["coin"] == "BTC" and asked["user"].startswith("0x")
    assert " 4 " in f" {rows['leverage'].found} " and rows["leverage"].severity is OK


@pytest.mark.parametrize(("exchange", "changes"), [
    ("binanceusdm", ["margin isolated", "leverage 4"]),
    ("bybit", ["margin isolated", "leverage 4"]),
    ("okx", ["leverage 4 isolated"]),  # the margin mode goes with each order: carried
])
def test_set_margin_mode_and_leverage_fix_the_account(exchange: str,
                                                      changes: list[str]) -> None:
    change = AccountChange(margin_mode=MarginMode.ISOLATED, leverage=4)
    rows, d = _run(exchange, {"leverage": D(50), "margin": "cross"}, change)
    assert d.wire.account.leverage == 4 and d.wire.account.changes == changes
    assert not refused(tuple(rows.values()))
    assert rows["leverage"].severity is OK
    assert all("order" not in path for _, path, _ in _changing(d))


def test_hyperliquid_set_leverage_sets_it_over_the_double() -> None:
    rows, d = _run("hyperliquid", {"leverage": D(50)}, AccountChange(leverage=4))
    assert d.wire.account.leverage == 4
    assert rows["leverage"].severity is OK and " 4 " in f" {rows['leverage'].found} "


def test_hyperliquid_set_margin_mode_alone_keeps_the_leverage_in_force() -> None:
    """hyperliquid changes the margin mode only with a leverage (one ``updateLeverage``
    action sets both): a margin-mode change alone sends the leverage in force."""
    rows, d = _run("hyperliquid", {"leverage": D(3), "margin": "cross"},
                   AccountChange(margin_mode=MarginMode.ISOLATED))
    assert d.wire.account.changes == ["leverage 3 isolated"]
    assert rows["margin mode"].severity is OK and rows["leverage"].severity is OK


def test_hyperliquid_set_margin_mode_isolated_with_leverage_stays_isolated() -> None:
    """hyperliquid sets leverage and margin mode in one ``updateLeverage`` action, and
    ccxt's set_leverage sends cross unless told: the leverage change after
    ``set_margin_mode('isolated')`` must name isolated, or it undoes it."""
    change = AccountChange(margin_mode=MarginMode.ISOLATED, leverage=4)
    _, d = _run("hyperliquid", {"leverage": D(50), "margin": "cross"}, change)
    assert d.wire.account.changes == ["leverage 4 isolated"]  # one action, sent once
    assert d.wire.account.margin == "isolated"


@pytest.mark.parametrize(("required", "after"), [("isolated", "isolated"), ("cross", "cross")])
def test_hyperliquid_set_leverage_alone_keeps_the_margin_mode_the_entry_requires(
        required: str, after: str) -> None:
    """``--set-leverage`` alone: hyperliquid sets the margin mode with it, so the change
    carries the one the config requires, never ccxt's default (cross)."""
    other = "cross" if required == "isolated" else "isolated"
    _, d = _run("hyperliquid", {"leverage": D(50), "margin": other},
                AccountChange(leverage=4), EntryConfig(margin_mode=required))
    assert d.wire.account.changes == [f"leverage 4 {after}"]
    assert d.wire.account.margin == after


@pytest.mark.parametrize("exchange", HEDGING)
def test_set_position_mode_switches_a_hedge_account_to_one_way(exchange: str) -> None:
    change = AccountChange(position_mode=PositionMode.ONE_WAY)
    rows, d = _run(exchange, {"hedge": True}, change)
    assert d.wire.account.hedge is False and d.wire.account.changes == ["hedge False"]
    assert rows["position mode"].severity is OK


def test_hyperliquid_is_one_way_already() -> None:
    """hyperliquid is one-way by design and ccxt has no switch for it: asking for one-way
    sends nothing and succeeds, so it can be asked of both legs of a pair."""
    rows, d = _run("hyperliquid", {}, AccountChange(position_mode=PositionMode.ONE_WAY))
    assert _changing(d) == [] and d.wire.account.changes == []
    assert rows["position mode"].severity is OK
