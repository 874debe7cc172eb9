"""The account reads of okx and hyperliquid through ccxt (no doubles of theirs here yet):
ccxt builds and signs every request, a recorder answers with real-format payloads (the
``Recorder`` of ``tests/test_ccxt_requests.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from fsm.core.choices import RequiredMarginMode
from fsm.core.config import EntryConfig
from fsm.core.preflight import Severity, assess
from fsm.shell import preflight
from tests.test_ccxt_requests import HL_META, OKX_INSTRUMENT, OKX_ORDER_ACK, QUOTE, Recorder
from venues import protocol as base
from venues.account import AccountChange, AccountFacts, MarginMode, PositionMode
from venues.ccxt.adapter import CcxtVenue

OKX_CREDS = {"apiKey": "k" * 8, "secret": "s" * 8, "password": "p" * 8}
OKX = "BTC/USDT:USDT"


def _okx_answers(pos_mode: str, lever: str) -> dict[str, Any]:
    return {
        "/api/v5/public/instruments": {"code": "0", "msg": "", "data": [OKX_INSTRUMENT]},
        "/api/v5/account/config": {"code": "0", "msg": "", "data": [{
            "acctLv": "2", "autoLoan": False, "ctIsoMode": "automatic", "greeksType": "PA",
            "level": "Lv1", "levelTmp": "", "mgnIsoMode": "automatic", "posMode": pos_mode,
            "uid": "44705892343619584"}]},
        "/api/v5/account/leverage-info": {"code": "0", "msg": "", "data": [{
            "instId": "BTC-USDT-SWAP", "mgnMode": "cross", "posSide": "net", "lever": lever}]},
    }


def _read(exchange: str, answers: dict[str, Any], creds: dict[str, str], symbol: str,
          change: AccountChange | None = None) -> tuple[AccountFacts, list[Any]]:
    async def main() -> tuple[AccountFacts, list[Any]]:
        venue = CcxtVenue("v", exchange, credentials=creds, sandbox=False,
                          config={"timeout_on_exit": 0})
        recorder = Recorder(answers)
        for instance in (venue.trading, venue.background):
            instance.fetch = recorder.fetch
        try:
            if change is not None:
                await venue.configure_account(symbol, change)
            return await venue.account(symbol), recorder.sent
        finally:
            await venue.close()

    return asyncio.run(main())


def test_okx_reads_position_mode_and_the_leverage_of_the_margin_mode_orders_carry() -> None:
    facts, sent = _read("okx", _okx_answers("net_mode", "3"), OKX_CREDS, OKX)
    # nothing carried yet: ccxt's default, cross, and the leverage kept for it
    assert (facts.position_mode, facts.margin_mode, facts.leverage) == (
        PositionMode.ONE_WAY, MarginMode.CROSS, Decimal(3))
    assert ("GET", "/api/v5/account/leverage-info",
            {"instId": "BTC-USDT-SWAP", "mgnMode": "cross"}) in sent
    rows = {f.item: f for f in assess(facts, EntryConfig(margin_mode="cross"))}
    assert {rows[i].severity for i in ("position mode", "margin mode", "leverage")} == {
        Severity.OK}
    assert rows["may trade"].severity is Severity.WARN


def test_okx_orders_carry_the_margin_mode_the_config_requires() -> None:
    """okx takes the margin mode with each order: the pre-flight makes ours carry the
    config's (isolated by default), reads the leverage kept for it, and the entry's
    orders then go out with that ``tdMode``."""
    answers = {**_okx_answers("net_mode", "3"), "/api/v5/trade/batch-orders": OKX_ORDER_ACK}

    async def main() -> tuple[AccountFacts, list[Any]]:
        venue = CcxtVenue("v", "okx", credentials=OKX_CREDS, sandbox=False,
                          config={"timeout_on_exit": 0})
        recorder = Recorder(answers)
        for instance in (venue.trading, venue.background):
            instance.fetch = recorder.fetch
        try:
            facts = await preflight.facts(venue, OKX, margin=RequiredMarginMode.ISOLATED)
            await venue.place(QUOTE)
            return facts, recorder.sent
        finally:
            await venue.close()

    facts, sent = asyncio.run(main())
    assert facts.margin_mode is MarginMode.ISOLATED
    assert ("GET", "/api/v5/account/leverage-info",
            {"instId": "BTC-USDT-SWAP", "mgnMode": "isolated"}) in sent
    [create] = [body for method, path, body in sent if path == "/api/v5/trade/batch-orders"]
    assert create["tdMode"] == "isolated"
    assert {f.item: f.severity for f in assess(facts, EntryConfig())}["margin mode"] is (
        Severity.OK)


def test_okx_hedge_mode_and_high_leverage_are_refused() -> None:
    facts, _ = _read("okx", _okx_answers("long_short_mode", "50"), OKX_CREDS, OKX)
    rows = {f.item: f for f in assess(facts, EntryConfig(margin_mode="cross"))}
    assert rows["position mode"].severity is Severity.FAIL
    assert "Position mode > One-way mode" in rows["position mode"].fix
    assert rows["leverage"].severity is Severity.FAIL and facts.leverage == 50


def test_okx_set_margin_mode_is_carried_and_the_leverage_set_for_it() -> None:
    answers = {**_okx_answers("net_mode", "3"), "/api/v5/account/set-leverage": {
        "code": "0", "msg": "", "data": [{"instId": "BTC-USDT-SWAP", "lever": "3",
                                          "mgnMode": "isolated", "posSide": "net"}]}}
    facts, sent = _read("okx", answers, OKX_CREDS, OKX,
                        AccountChange(margin_mode=MarginMode.ISOLATED, leverage=3))
    assert facts.margin_mode is MarginMode.ISOLATED
    [set_leverage] = [body for method, path, body in sent
                      if path == "/api/v5/account/set-leverage"]
    assert (set_leverage["mgnMode"], str(set_leverage["lever"])) == ("isolated", "3")


def test_hyperliquid_reads_leverage_and_margin_from_active_asset_data() -> None:
    """One-way by design; the leverage in force and its type from ``activeAssetData``,
    asked for the wallet and the perp's coin; the key's permission cannot be read."""
    wallet = "0x" + "ab" * 20
    creds = {"walletAddress": wallet, "privateKey": "0x" + "11" * 32}
    answers = {"/info:metaAndAssetCtxs": HL_META, "/info:meta": HL_META[0],
               "/info:activeAssetData": {"user": wallet, "coin": "BTC", "markPx": "60000.0",
                                         "leverage": {"type": "cross", "value": 20},
                                         "maxTradeSzs": ["1.0", "1.0"],
                                         "availableToTrade": ["1.0", "1.0"]}}
    facts, sent = _read("hyperliquid", answers, creds, "BTC/USDC:USDC")
    assert ("POST", "/info", {"type": "activeAssetData", "user": wallet, "coin": "BTC"}) in sent
    assert facts.position_mode is PositionMode.ONE_WAY
    assert (facts.leverage, facts.margin_mode, facts.can_trade) == (
        Decimal(20), MarginMode.CROSS, None)
    rows = {f.item: f for f in assess(facts, EntryConfig())}
    assert rows["leverage"].severity is Severity.FAIL  # 20x over the default 5x
    assert rows["margin mode"].severity is Severity.FAIL  # cross where isolated is required
    assert "ccxt has no read of the key's trade permission for hyperliquid" in rows[
        "may trade"].fix


def test_hyperliquid_stays_one_way_when_its_account_read_fails() -> None:
    creds = {"walletAddress": "0x" + "ab" * 20, "privateKey": "0x" + "11" * 32}
    answers = {"/info:metaAndAssetCtxs": HL_META, "/info:meta": HL_META[0]}
    facts, _ = _read("hyperliquid", answers, creds, "BTC/USDC:USDC")
    assert facts.position_mode is PositionMode.ONE_WAY  # by design, not read
    assert (facts.leverage, facts.margin_mode) == (None, None)
    assert any(n.startswith("leverage: read failed") for n in facts.notes), facts.notes


def test_recover_sends_okx_orders_in_the_entry_s_margin_mode(tmp_path: Path) -> None:
    """A rollback sent by ``recover`` goes out in the margin mode the entry's orders had:
    an okx reduce-only order in the other mode has no position to reduce."""
    from fsm.cli.recover import recover_ccxt
    from fsm.core.values import EntryRequest, LegSpec
    from fsm.shell.journal import Journal

    journal = Journal(tmp_path / "j.sqlite", origin={"kind": "ccxt", "sandbox": True})
    request = EntryRequest(LegSpec("okx", OKX, "0.01"), LegSpec("okx", OKX, "0.01"), "cx1")
    journal.open_entry("cx1", request, EntryConfig(margin_mode="isolated"))
    built: list[CcxtVenue] = []

    def factory(exchange: str, creds: Mapping[str, str], sandbox: bool) -> base.Venue:
        venue = CcxtVenue(exchange, exchange, credentials=OKX_CREDS, sandbox=sandbox,
                          config={"timeout_on_exit": 0})
        recorder = Recorder({})  # the entry sent nothing: recovery asks nothing
        for instance in (venue.trading, venue.background):
            instance.fetch = recorder.fetch
        built.append(venue)
        return venue

    try:
        recover_ccxt(journal, journal.unfinished(), live=False, factory=factory,
                     environ={f"ATOMIC_ENTRY_OKX_{k}": "x" for k in ("API_KEY", "SECRET",
                                                                    "PASSWORD")})
    finally:
        journal.close()
    [venue] = built
    assert [i.options.get("defaultMarginMode") for i in (venue.trading, venue.background)] == [
        "isolated", "isolated"]
