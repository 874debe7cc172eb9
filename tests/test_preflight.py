"""The account pre-flight's judgement (``fsm.core.preflight``): facts in, findings out.

Each row of the table below is one account set-up and what the judge must say about it.
Checked to fail: with the leverage comparison made ``>=`` the 5x-at-cap row failed; with
hedge mode passed as OK the hedge row failed; with unknown treated as OK the unknown rows
failed (each restored).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import attrs
import pytest

from fsm.core.config import EntryConfig
from fsm.core.preflight import Finding, Severity, assess, refused, table
from venues.account import AccountFacts, MarginMode, PositionMode

D = Decimal
SAFE = AccountFacts(venue="binanceusdm", exchange="binanceusdm", symbol="BTC/USDT:USDT",
                    position_mode=PositionMode.ONE_WAY, margin_mode=MarginMode.ISOLATED,
                    leverage=D(3), maker_fee=D("0.0002"), taker_fee=D("0.0005"),
                    min_qty=D("0.001"), min_notional=D(5), max_qty=D(1000),
                    symbol_active=True, can_trade=True)


def _by_item(findings: tuple[Finding, ...]) -> dict[str, Finding]:
    return {f.item: f for f in findings}


@pytest.mark.parametrize(("change", "item", "severity", "fix_has"), [
    ({}, "leverage", Severity.OK, ""),
    ({"leverage": D(5)}, "leverage", Severity.OK, ""),  # at the cap is allowed
    ({"leverage": D("5.01")}, "leverage", Severity.FAIL, "--set-leverage 5"),
    ({"leverage": D(50)}, "leverage", Severity.FAIL, "lower leverage for BTC/USDT:USDT to 5"),
    ({"leverage": None}, "leverage", Severity.WARN, "not checked"),
    ({"position_mode": PositionMode.HEDGE}, "position mode", Severity.FAIL,
     "Futures > Preferences > Position Mode > One-way Mode"),
    ({"position_mode": None}, "position mode", Severity.WARN, "verify it by hand"),
    ({"margin_mode": MarginMode.CROSS}, "margin mode", Severity.FAIL,
     "--set-margin-mode isolated"),
    ({"margin_mode": MarginMode.PORTFOLIO}, "margin mode", Severity.FAIL, "isolated"),
    ({"margin_mode": None}, "margin mode", Severity.WARN, "not checked"),
    ({"maker_fee": None}, "fees", Severity.WARN, "not checked"),
    ({"symbol_active": False}, "symbol trading", Severity.FAIL, "choose another symbol"),
    ({"can_trade": False}, "may trade", Severity.FAIL, "not read-only"),
    ({"can_trade": None, "notes": ("may trade: no read on this venue",)}, "may trade",
     Severity.WARN, "no read on this venue"),
], ids=lambda v: None)
def test_each_fact_is_judged(change: dict[str, Any], item: str, severity: Severity,
                             fix_has: str) -> None:
    found = _by_item(assess(attrs.evolve(SAFE, **change), EntryConfig()))[item]
    assert found.severity is severity
    assert fix_has in found.fix
    assert refused(assess(attrs.evolve(SAFE, **change), EntryConfig())) is (
        severity is Severity.FAIL)


def test_a_safe_account_passes_every_row() -> None:
    findings = assess(SAFE, EntryConfig())
    assert [f.item for f in findings] == ["position mode", "margin mode", "leverage", "fees",
                                         "min order", "max order", "symbol trading",
                                         "may trade"]
    assert {f.severity for f in findings} == {Severity.OK} and not refused(findings)


def test_the_requirements_come_from_the_config() -> None:
    cross_50 = attrs.evolve(SAFE, margin_mode=MarginMode.CROSS, leverage=D(50))
    assert refused(assess(cross_50, EntryConfig()))
    lenient = EntryConfig(max_leverage="50", margin_mode="cross")
    assert not refused(assess(cross_50, lenient))
    assert not refused(assess(attrs.evolve(SAFE, margin_mode=None),
                              EntryConfig(margin_mode="any")))


def test_sizes_are_judged_against_the_quantity_and_touch() -> None:
    rows = _by_item(assess(SAFE, EntryConfig(), qty=D("0.0001"), price=D(60000)))
    assert rows["min order"].severity is Severity.FAIL  # under min qty (0.001)
    rows = _by_item(assess(SAFE, EntryConfig(), qty=D("0.001"), price=D(1000)))
    assert rows["min order"].severity is Severity.FAIL  # notional 1 < 5
    rows = _by_item(assess(SAFE, EntryConfig(), qty=D(1001), price=D(60000)))
    assert rows["max order"].severity is Severity.FAIL and "lower --qty" in rows["max order"].fix
    rows = _by_item(assess(SAFE, EntryConfig(), qty=D("0.01"), price=D(60000)))
    assert {rows["min order"].severity, rows["max order"].severity} == {Severity.OK}


def test_the_table_aligns_and_names_each_fix() -> None:
    hedged = attrs.evolve(SAFE, position_mode=PositionMode.HEDGE, leverage=D(20))
    text = table(assess(hedged, EntryConfig()))
    lines = text.splitlines()
    assert lines[0].split() == ["venue", "symbol", "check", "status", "found", "required"]
    assert "position mode   FAIL    hedge" in text
    assert ("fix binanceusdm leverage: lower leverage for BTC/USDT:USDT to 5 or less on "
            "binanceusdm (the leverage button above the order form) or rerun with "
            "--set-leverage 5") in lines
    assert any(line.startswith("fix binanceusdm position mode: set one-way position mode")
               for line in lines)


# -- the pre-flight over venues (fsm.shell.preflight) ------------------------------------


def test_simulated_venues_answer_a_safe_account_and_can_be_made_unsafe() -> None:
    from fsm.shell import preflight as shell
    from tests.simkit import SYMBOL, run, venue
    from venues.account import AccountChange

    alpha, beta = venue("alpha"), venue("beta")
    legs = [(alpha, SYMBOL), (beta, SYMBOL)]
    findings = run(shell.run(legs, EntryConfig(), qty=D("0.5")))
    assert not refused(findings)
    assert [f.item for f in findings if f.severity is Severity.WARN] == ["max order"] * 2
    beta.account_setup.position_mode = PositionMode.HEDGE
    alpha.account_setup.leverage = D(20)
    findings = run(shell.run(legs, EntryConfig()))
    assert {(f.venue, f.item) for f in findings if f.severity is Severity.FAIL} == {
        ("beta", "position mode"), ("alpha", "leverage")}
    change = AccountChange(leverage=4, position_mode=PositionMode.ONE_WAY)
    assert not refused(run(shell.run(legs, EntryConfig(), change=change)))
    assert alpha.account_setup.leverage == 4


def test_a_venue_without_account_reads_is_all_unknown_never_a_pass() -> None:
    from fsm.shell import preflight as shell

    class Bare:  # a venue of the core protocol only
        name = "bare"

    findings = asyncio.run(shell.run([(Bare(), "X/USDT:USDT")], EntryConfig()))  # type: ignore[list-item]
    assert not refused(findings)
    by_item = _by_item(findings)
    for item in ("position mode", "margin mode", "leverage", "may trade"):
        assert by_item[item].severity is Severity.WARN
        assert "this venue reads no account set-up" in by_item[item].fix


def test_a_failed_account_read_is_unknown_with_the_reason() -> None:
    from tests.ccxtkit import FAKE_KEY, FAKE_SECRET, SYMBOL, double_venue
    from tests.doubles.core import Refused

    async def read() -> AccountFacts:
        async with double_venue("binanceusdm", "binanceusdm") as d:
            def refuse(*_: object) -> None:
                raise Refused("rate_limit")
            d.wire._account = refuse
            return await d.venue.account(SYMBOL)

    facts = asyncio.run(read())
    assert (facts.position_mode, facts.leverage, facts.can_trade) == (None, None, None)
    assert facts.maker_fee is not None  # what was read stays
    by_item = _by_item(assess(facts, EntryConfig()))
    assert by_item["leverage"].severity is Severity.WARN
    assert "read failed" in by_item["leverage"].fix and "-1003" in by_item["leverage"].fix
    assert FAKE_KEY not in str(facts) and FAKE_SECRET not in str(facts)
