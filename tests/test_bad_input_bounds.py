"""Bad input that used to slip through (issue 13, item 11): numbers too large to be
meant, names left empty, one venue for both legs, ids with a trailing newline, files
that are not files. Each is refused where it is read, naming the input and what was
expected, before anything is sent; the bounds are ``venues.checks``'s, one set for
every door (scenario files, the Python API, the command line).
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fsm.core.config import EntryConfig
from fsm.core.ids import InvalidEntryId, check_entry_id
from fsm.core.pretrade import RequestError
from fsm.core.values import EntryRequest, LegSpec
from fsm.shell.engine import EntryEngine
from fsm.sim import scenario as scenarios
from fsm.sim.scenario import ScenarioError
from tests.scenariokit import BASE, LONG_LEG, SHORT_LEG, mutate
from tests.simkit import SYMBOL, request, venue
from venues.sim.venue import SimulatedVenue
from venues.sim.virtual_time import run_virtual

# ------------------------------------------------------------------ scenario files


def _refused(text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        scenarios.parse(text, "s.toml")
    message = str(caught.value)
    assert message.startswith("s.toml: "), message
    return message.removeprefix("s.toml: ")


QTY = "a quantity greater than 0 and at most 1,000,000,000,000, with at most 12 decimal places"


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param(mutate("latency_ms = 25", "latency_ms = 1e18"),
                 "venues.alpha.latency_ms: expected a non-negative number of milliseconds of "
                 "at most 86,400,000 (one day); got 1e+18", id="latency-1e18"),
    pytest.param(mutate("latency_ms = 25", "latency_ms = 1e300"),
                 "venues.alpha.latency_ms: expected a non-negative number of milliseconds of "
                 "at most 86,400,000 (one day); got 1e+300", id="latency-1e300"),
    pytest.param(mutate(LONG_LEG, LONG_LEG.replace('"0.5"', '"1e999999"')),
                 f"request.long.qty: expected {QTY}; got '1e999999'", id="qty-overflow"),
    pytest.param(mutate(LONG_LEG, LONG_LEG.replace('"0.5"', "9223372036854775807")),
                 f"request.long.qty: expected {QTY}; got 9223372036854775807", id="qty-int64"),
    pytest.param(mutate(LONG_LEG, LONG_LEG.replace('"0.5"', '"1e30"')),
                 f"request.long.qty: expected {QTY}; got '1e30'", id="qty-1e30"),
    pytest.param(mutate(LONG_LEG, LONG_LEG.replace('"0.5"', '"0.0000000000001"')),
                 f"request.long.qty: expected {QTY}; got '0.0000000000001'", id="qty-13-places"),
    pytest.param(mutate('position = "0"', 'position = "1e30"'),
                 "venues.alpha.market.position: expected a position between "
                 "-1,000,000,000,000 and 1,000,000,000,000, with at most 12 decimal places; "
                 "got '1e30'", id="position-1e30"),
    pytest.param(mutate('symbol = "BTC/USDT:USDT"', 'symbol = ""'),
                 "venues.alpha.market.symbol: expected a non-empty string; got ''",
                 id="empty-market-symbol"),
    pytest.param(mutate(LONG_LEG, LONG_LEG.replace('symbol = "BTC/USDT:USDT"', 'symbol = ""')),
                 "request.long.symbol: expected a non-empty string; got ''",
                 id="empty-leg-symbol"),
    pytest.param(mutate(LONG_LEG, LONG_LEG.replace('venue = "alpha"', 'venue = ""')),
                 "request.long.venue: expected a non-empty string; got ''",
                 id="empty-leg-venue"),
    pytest.param(mutate("[venues.alpha", '[venues.""', count=3)
                 .replace('venue = "alpha"', 'venue = ""'),
                 "venues: expected venue tables with non-empty names; got ''",
                 id="empty-venue-name"),
    pytest.param(mutate(SHORT_LEG, SHORT_LEG.replace('venue = "beta"', 'venue = "alpha"')),
                 "request.short.venue: expected a venue other than the long leg's: a hedged "
                 "entry needs two venues; got 'alpha'", id="same-venue"),
    pytest.param(mutate('entry_id = "sim1"', 'entry_id = "sim1\\n"'),
                 "request.entry_id: expected 1 to 16 ASCII letters or digits; got 'sim1\\n'",
                 id="entry-id-newline"),
    pytest.param(mutate('entry_id = "sim1"', 'entry_id = "sim-1"'),
                 "request.entry_id: expected 1 to 16 ASCII letters or digits; got 'sim-1'",
                 id="entry-id-dash"),
    pytest.param("x = " + "[" * 500 + "]" * 500 + "\n" + BASE,
                 "not a scenario: arrays or tables nested too deeply; expected the shallow "
                 "tables of a scenario file", id="nested-500"),
])
def test_a_value_out_of_bounds_is_refused_naming_key_and_bound(text: str, expected: str) -> None:
    assert _refused(text) == expected


def test_a_fifo_is_refused_instead_of_read(tmp_path: Path) -> None:
    fifo = tmp_path / "scenario.toml"
    os.mkfifo(fifo)  # reading it would block until a writer comes: for ever
    with pytest.raises(ScenarioError) as caught:
        scenarios.load(fifo)
    assert str(caught.value) == f"{fifo}: not a regular file; expected a scenario TOML file"


def test_an_empty_scenario_name_is_refused() -> None:
    with pytest.raises(ScenarioError, match="the scenario name is empty; expected a scenario"):
        scenarios.load("")


# ------------------------------------------------------------------ the Python API


def _refused_by_engine(req: EntryRequest, config: EntryConfig | None = None) -> str:
    venues = {"alpha": venue("alpha"), "beta": venue("beta")}

    async def run() -> str:
        with pytest.raises((RequestError, InvalidEntryId)) as caught:
            await EntryEngine(venues, config).enter(req)
        return str(caught.value)

    message = run_virtual(run())
    _assert_nothing_sent(venues)
    return message


def _assert_nothing_sent(venues: dict[str, SimulatedVenue]) -> None:
    assert not [e for v in venues.values() for e in v.journal if e.kind == "placed"]


def _req(long_venue: str = "alpha", short_venue: str = "beta", qty: str = "0.5",
         symbol: str = SYMBOL, entry_id: str = "t1") -> EntryRequest:
    return EntryRequest(LegSpec(long_venue, symbol, qty), LegSpec(short_venue, symbol, qty),
                        entry_id=entry_id)


def test_both_legs_on_one_venue_are_refused_by_the_engine() -> None:
    assert _refused_by_engine(_req(short_venue="alpha")) == (
        "both legs are on 'alpha'; expected two different venues (a hedge on the same "
        "account would net out)")


@pytest.mark.parametrize("req", [_req(short_venue="alpha"), _req(symbol=""), _req(qty="1e30")],
                         ids=["same-venue", "empty-symbol", "huge-qty"])
def test_a_request_wrong_whatever_the_markets_say_reads_no_market_data(
        req: EntryRequest) -> None:
    """Names, sizes and the two venues are checked before any book, rule or position is
    read: a desk sees the mistake at once, and a venue is not asked for nothing."""
    venues = {"alpha": venue("alpha"), "beta": venue("beta")}
    reads: list[str] = []
    for sim in venues.values():
        for method in ("book", "market_rules", "position"):
            original = getattr(sim, method)

            async def counted(*args: object, _original: Any = original,
                              _name: str = method) -> object:
                reads.append(_name)
                return await _original(*args)

            setattr(sim, method, counted)

    async def run() -> None:
        with pytest.raises(RequestError):
            await EntryEngine(venues).enter(req)

    run_virtual(run())
    assert reads == []


@pytest.mark.parametrize("qty", ["1e30", "9223372036854775807", "1e999999"])
def test_a_huge_quantity_is_refused_by_the_engine(qty: str) -> None:
    assert _refused_by_engine(_req(qty=qty)) == (
        f"long leg on alpha {SYMBOL}: quantity {Decimal(qty)}: expected {QTY}")


def test_a_request_above_max_notional_is_refused_naming_the_limit() -> None:
    # 20 BTC near 60,000: 1.2 million, above the default cap of 1 million.
    assert "is above max_notional 1000000; expected at most that" in _refused_by_engine(
        request("20"))


def test_max_notional_is_configurable() -> None:
    venues = {"alpha": venue("alpha"), "beta": venue("beta")}

    async def run() -> str:
        engine = EntryEngine(venues, EntryConfig(max_notional=Decimal("200")))
        with pytest.raises(RequestError) as caught:
            await engine.enter(request("0.5"))
        return str(caught.value)

    assert "is above max_notional 200" in run_virtual(run())
    _assert_nothing_sent(venues)


def test_an_entry_id_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(InvalidEntryId, match=r"entry_id 'sim1\\n': expected 1 to 16 ASCII"):
        check_entry_id("sim1\n")
    assert "expected 1 to 16 ASCII letters or digits" in _refused_by_engine(
        _req(entry_id="sim1\n"))


def test_an_empty_symbol_is_refused_by_the_engine() -> None:
    assert _refused_by_engine(_req(symbol="")) == (
        "long leg: symbol '': expected a non-empty name")
