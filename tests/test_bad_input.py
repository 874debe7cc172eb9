"""Bad input: invalid requests and malformed venue payloads each get a clear error.

A clear error names what was wrong and what was expected, and nothing is sent or lost:
a request is refused before the first order; a malformed answer leaves its order
"unknown" and asked for again by client order id; a malformed push is dropped, the
truth being recoverable by the same query. (Malformed scenario files and config are
covered by test_scenario_file_errors.py, test_scenario_file_values.py and
test_config_values.py.)
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import attrs
import pytest
from loguru import logger

from fsm.core.pretrade import RequestError
from fsm.core.values import (
    EntryRequest,
    LegSpec,
)
from fsm.shell.engine import EntryEngine
from fsm.sim import scenario as scenarios
from fsm.sim.runner import simulate_async
from tests.conftest import assert_safe
from tests.simkit import SYMBOL, request, venue
from venues import protocol as base
from venues.market import OrderStatus
from venues.protocol import (
    CancelAck,
    FillUpdate,
    MalformedPayload,
    OrderSnapshot,
    OrderUpdate,
    PlaceAck,
)
from venues.sim.venue import SimulatedVenue
from venues.sim.virtual_time import run_virtual

D = Decimal

# ------------------------------------------------------------------ invalid requests


def _refused(req: EntryRequest, venues: dict[str, SimulatedVenue]) -> str:
    async def run() -> str:
        engine = EntryEngine(venues)
        with pytest.raises(RequestError) as caught:
            await engine.enter(req)
        return str(caught.value)

    message = run_virtual(run())
    assert not [e for v in venues.values() for e in v.journal if e.kind == "placed"]
    return message


@pytest.mark.parametrize(("qty", "expected"), [
    ("0", "long leg on alpha BTC/USDT:USDT: quantity 0: expected a quantity greater than 0"),
    ("-0.5", "long leg on alpha BTC/USDT:USDT: quantity -0.5: expected a quantity greater "
     "than 0"),
    ("0.0004", "quantity 0.0004 rounds to 0.000 at lot 0.001, below the minimum quantity 0.001"),
])
def test_a_bad_size_is_refused_before_anything_is_sent(qty: str, expected: str) -> None:
    assert expected in _refused(request(qty), {"alpha": venue("alpha"), "beta": venue("beta")})


def test_an_unknown_venue_is_refused_naming_the_known_ones() -> None:
    message = _refused(request(), {"alpha": venue("alpha"), "gamma": venue("gamma")})
    assert message == "unknown venue 'beta'; configured venues: alpha, gamma"


def test_a_symbol_the_venue_does_not_list_is_refused_naming_it() -> None:
    req = EntryRequest(LegSpec("alpha", SYMBOL, "0.5"), LegSpec("beta", "ETH/USDT:USDT", "0.5"),
                       entry_id="t1")
    message = _refused(req, {"alpha": venue("alpha"), "beta": venue("beta")})
    assert message.startswith("short leg on beta: cannot read market 'ETH/USDT:USDT' (")
    assert message.endswith("); expected a symbol beta lists")


# ------------------------------------------------------------------ malformed payloads

GOOD: dict[type, dict[str, Any]] = {
    FillUpdate: {"venue": "a", "symbol": "S", "client_id": "c", "trade_id": "t",
                 "qty": D("0.1"), "price": D(60000), "fee": D("0.01")},
    OrderUpdate: {"venue": "a", "symbol": "S", "client_id": "c",
                  "status": OrderStatus.OPEN, "filled": D(0)},
    OrderSnapshot: {"client_id": "c", "status": OrderStatus.OPEN, "qty": D(1), "filled": D(0)},
    CancelAck: {"client_id": "c", "filled": D(0)},
    PlaceAck: {"client_id": "c", "venue_order_id": None},
}

BAD = [
    (FillUpdate, "qty", None, "expected a decimal number greater than 0"),
    (FillUpdate, "qty", "0.1.2", "expected a decimal number greater than 0"),
    (FillUpdate, "qty", 0.1, "expected a decimal number greater than 0"),
    (FillUpdate, "qty", D(0), "expected a decimal number greater than 0"),
    (FillUpdate, "price", "NaN", "expected a decimal number greater than 0"),
    (FillUpdate, "price", D("NaN"), "expected a decimal number greater than 0"),
    (FillUpdate, "fee", D("-Infinity"), "expected a decimal number"),
    (FillUpdate, "liquidity", "rebate", "expected one of 'maker', 'taker'"),
    (FillUpdate, "fee", None, "expected a decimal number"),
    (FillUpdate, "trade_id", "", "expected a non-empty string"),
    (FillUpdate, "trade_id", None, "expected a non-empty string"),
    (FillUpdate, "client_id", 7, "expected a non-empty string"),
    (OrderUpdate, "status", "partially_filled_cancelled",
     "expected one of 'open', 'filled', 'canceled', 'rejected'"),
    (OrderUpdate, "status", None, "expected one of"),
    (OrderUpdate, "status", ["open"], "expected one of"),
    (OrderUpdate, "filled", None, "expected a decimal number of at least 0"),
    (OrderUpdate, "filled", "-1", "expected a decimal number of at least 0"),
    (OrderSnapshot, "filled", "abc", "expected a decimal number of at least 0"),
    (OrderSnapshot, "qty", None, "expected a decimal number greater than 0"),
    (OrderSnapshot, "fills", [None], "expected a tuple of FillUpdate"),
    (CancelAck, "filled", "lots", "expected a decimal number of at least 0"),
    (PlaceAck, "venue_order_id", 12, "expected a non-empty string"),
]


@pytest.mark.parametrize(("kind", "field", "value", "expected"), BAD,
                         ids=[f"{k.__name__}.{f}={v!r}" for k, f, v, _ in BAD])
def test_a_malformed_payload_names_the_field_the_value_and_what_was_expected(
        kind: type, field: str, value: Any, expected: str) -> None:
    with pytest.raises(MalformedPayload) as caught:
        kind(**{**GOOD[kind], field: value})
    message = str(caught.value)
    assert message.startswith(f"{kind.__name__}.{field}: got ")
    assert expected in message


@pytest.mark.parametrize("kind", list(GOOD))
def test_well_formed_payloads_pass_and_decimal_strings_are_taken_exactly(kind: type) -> None:
    assert kind(**GOOD[kind]) == kind(**GOOD[kind])
    assert FillUpdate(**{**GOOD[FillUpdate], "qty": "0.1"}).qty == D("0.1")


def test_a_snapshot_cannot_claim_more_filled_than_its_size() -> None:
    with pytest.raises(MalformedPayload, match=r"OrderSnapshot\.filled: got 2, expected at most"):
        OrderSnapshot("c", OrderStatus.FILLED, D(1), D(2))


def test_malformed_payload_is_neither_a_rejection_nor_not_found() -> None:
    """The engine must not read a garbled answer as a definite one."""
    assert not issubclass(MalformedPayload, base.OrderRejected | base.OrderNotFound)


class _Garbling(SimulatedVenue):
    """A venue whose first query answer (or first create answer) cannot be parsed."""

    garble_query = False
    garble_place = False

    async def query(self, symbol: str, client_id: str) -> OrderSnapshot:
        snapshot = await super().query(symbol, client_id)
        if self.garble_query:
            self.garble_query = False
            return OrderSnapshot(client_id, "weird", snapshot.qty, None)  # type: ignore[arg-type]
        return snapshot

    async def place(self, order: Any) -> PlaceAck:
        ack = await super().place(order)
        if self.garble_place and order.purpose.value == "hedge":
            self.garble_place = False
            return PlaceAck(ack.client_id, 42)  # type: ignore[arg-type]
        return ack


@attrs.frozen
class _GarblingSpec(scenarios.VenueSpec):
    garble_query: bool = False
    garble_place: bool = False

    def build(self) -> SimulatedVenue:
        made = _Garbling(self.name, [self.market], latency_s=self.latency_s,
                         request_timeout_s=self.request_timeout_s, script=self.script,
                         reactions=self.reactions, duplicate_fills=self.duplicate_fills,
                         stream_delay_s=self.stream_delay_s)
        made.garble_query, made.garble_place = self.garble_query, self.garble_place
        return made


def _garbled(name: str, **flags: bool) -> Any:
    """Run a shipped scenario with beta's answers garbled once, as ``flags`` say."""
    loaded = scenarios.load_builtin(name)
    venues = tuple(
        _GarblingSpec(**attrs.asdict(v, recurse=False), **(flags if v.name == "beta" else {}))
        for v in loaded.venues
    )
    return run_virtual(simulate_async(attrs.evolve(loaded, venues=venues)))


def test_a_malformed_query_answer_leaves_the_order_unknown_and_it_is_asked_again() -> None:
    run = _garbled("cancel_not_found_filled", garble_query=True)
    assert_safe(run)
    unknown = [s for s in run.steps if type(s.event).__name__ == "OutcomeUnknown"]
    assert unknown and "MalformedPayload" in unknown[0].event.reason
    queries = [c for s in run.steps for c in s.commands if type(c).__name__ == "QueryOrder"]
    assert len(queries) == 2
    assert not [o for o in run.result.orders if o.purpose == "hedge"]


def test_a_malformed_create_answer_is_not_a_rejection_and_no_second_hedge_is_sent() -> None:
    run = _garbled("one_leg_fills_first", garble_place=True)
    assert_safe(run)
    hedges = [o for o in run.result.orders if o.purpose == "hedge"]
    assert [(h.client_id, h.filled) for h in hedges] == [("aesim1Sh1", D("0.5"))]


def test_a_push_that_is_no_venue_update_is_dropped_and_the_entry_goes_on() -> None:
    async def run() -> Any:
        alpha, beta = venue("alpha", script=[]), venue("beta")
        venues = {"alpha": alpha, "beta": beta}
        for v in venues.values():
            v.start()
        engine = EntryEngine(venues)
        loop = asyncio.get_running_loop()
        loop.call_later(0.1, engine._on_update, "alpha", {"status": "filled", "qty": None})
        loop.call_later(0.1, engine.kill, "t1")
        return await engine.enter(request())

    logged: list[str] = []
    sink = logger.add(lambda m: logged.append(str(m)), level="ERROR")
    logger.enable("fsm")
    try:
        result = run_virtual(run())
    finally:
        logger.disable("fsm")
        logger.remove(sink)
    assert result.final_state == "rolled_back" and result.net_exposure == 0
    assert any("alpha: dropped a push that is no venue update" in m for m in logged), logged
