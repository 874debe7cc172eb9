"""Property tests on the sans-I/O core: ``EntryModel.handle`` fed random event sequences.

No engine and no asyncio: ``tests.fakevenue.Desk`` answers the model's commands the
way venues do, in random order and with every fault a venue produces, so each step's
decisions can be checked against venue truth. A second property adds nonsense (events
for orders that do not exist, answers to questions nobody asked, acknowledgements
after refusals, statuses that contradict each other): the model must never raise,
must stay deterministic, and its command stream must keep the invariants.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from fsm.core import events as ev
from fsm.core.config import EntryConfig, HedgeOrder
from tests.conftest import count_example, examples
from tests.desk_checks import check_settled, check_truth
from tests.fakevenue import ACTIONS, LOT, Desk, act
from venues.market import (
    Leg,
    OrderStatus,
)

D = Decimal

quantities = st.integers(2, 40).map(lambda n: LOT * n)
core_configs = st.builds(
    EntryConfig,
    quote_timeout_s=st.just(5.0),
    hedge_trigger_fill_ratio=st.sampled_from([D(0), D(0), D("0.5"), D(1)]),
    hedge_order=st.sampled_from(list(HedgeOrder)),
    hedge_retry_budget=st.integers(0, 3),
    cancel_retry_budget=st.integers(0, 3),
    rollback_retry_budget=st.integers(0, 3),
    query_retry_budget=st.integers(1, 6),
    send_retry_budget=st.integers(0, 3),
)
positions = st.fixed_dictionaries({
    Leg.LONG: st.sampled_from([D(0), D(0), D(2), D(-2)]),
    Leg.SHORT: st.sampled_from([D(0), D(0), D(2), D(-2)]),
})
choice = st.integers(0, 11)
# Weighted so that runs get past quoting: the timer and a kill end the interesting part,
# so they are rare; answers, reports and maker fills are common.
WEIGHTED = ("answer",) * 16 + ("deliver",) * 12 + ("maker_fill",) * 8 + (
    "duplicate", "duplicate", "move_book", "timer", "kill") + ("retry",) * 4
assert set(WEIGHTED) == set(ACTIONS)
truthful = st.tuples(st.sampled_from(WEIGHTED), choice, choice, choice)
steps = st.lists(truthful, max_size=60)


def _run(qty: Decimal, config: EntryConfig, start: dict[Leg, Decimal],
         actions: list[tuple[str, int, int, int]], *, truth: bool) -> Desk:
    desk = Desk(qty, config, start)
    if truth:
        desk.checks.append(check_truth)
    for name, a, b, c in actions:
        if name == "nonsense":
            nonsense(desk, a, b, c)
        else:
            act(desk, name, a, b, c)
    return desk


@settings(max_examples=examples(6))
@given(quantities, core_configs, positions, steps)
def test_truthful_venues_any_order_of_answers(
    qty: Decimal, config: EntryConfig, start: dict[Leg, Decimal],
    actions: list[tuple[str, int, int, int]],
) -> None:
    """Checked against venue truth after every event, then settled and checked again."""
    desk = _run(qty, config, start, actions, truth=True)
    try:
        count_example("core: truthful event sequences", len(desk.log))
        desk.settle()
        check_settled(desk)
    finally:
        desk.close()


def nonsense(desk: Desk, a: int, b: int, c: int) -> None:
    """An event no honest venue would send now: wrong order, unknown id, contradiction.

    Quantities stay within each order's size: a fill larger than the order is refused
    at the venue boundary (``venues.protocol``), not the core's business.
    """
    records = list(desk.model.ledger)
    at = desk._tick()
    if not records or a % 5 == 0:
        cid = f"zz{b}"  # an order of nobody
        qty = LOT
    else:
        record = records[a % len(records)]
        cid = record.client_id
        qty = max(D(0), record.qty - record.filled)
    filled = (qty * (c % 5) / 4).quantize(LOT)
    events: list[ev.Event] = [
        ev.Accepted(at, cid),
        ev.Rejected(at, cid, "nonsense"),
        ev.Canceled(at, cid, None if c % 2 else filled),
        ev.CancelRejected(at, cid, "nonsense"),
        ev.NotFound(at, cid, list(ev.Operation)[c % 3]),
        ev.OutcomeUnknown(at, cid, list(ev.Operation)[c % 3], "nonsense"),
        ev.Unavailable(at, cid, list(ev.Operation)[c % 4], "nonsense"),
        ev.TimerFired(at, f"retry.{cid}"),
        ev.StatusReport(at, cid, list(OrderStatus)[c % 4], filled),
        ev.TimerFired(at, "quote_timeout" if c % 2 else "other"),
        ev.Kill(at, "nonsense"),
        ev.VenueFatal(at, "alpha", "nonsense"),
    ]
    if filled > 0:
        events.append(ev.FillReport(at, cid, f"nonsense-{b}-{c}", filled, D(60000)))
    desk.feed(events[b % len(events)])


anything = st.one_of(truthful, truthful, st.tuples(st.just("nonsense"), choice, choice, choice))


@settings(max_examples=examples(6))
@given(quantities, core_configs, positions, st.lists(anything, max_size=60))
def test_nonsense_never_raises_and_is_deterministic(
    qty: Decimal, config: EntryConfig, start: dict[Leg, Decimal],
    actions: list[tuple[str, int, int, int]],
) -> None:
    first = _run(qty, config, start, actions, truth=False)
    second = _run(qty, config, start, actions, truth=False)
    first.close()
    second.close()
    count_example("core: event sequences with nonsense", len(first.log))
    assert first.log == second.log
    assert first.model.path == second.model.path
