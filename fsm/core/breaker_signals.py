"""What an ended entry tells the circuit breakers: its report read as breaker signals.

Read from the ``EntryResult`` alone (the rows its orders and its path took, its
timings, its final state), so a journaled or replayed entry signals exactly what the
live one did. Each signal names the venue it counts against:

* a hedge completion slower than the threshold: the venue of the hedge (or of the
  sibling quote amended to cross), where the slowness was; for an entry started as
  taker on both legs, the time between its legs' fills, on the venue that filled last;
* a request the venue refused (an order row taken on ``reject``) or left unanswered
  (``no_answer``): that order's venue, once per order and kind;
* a rollback because the lagging venue's book stayed stale through every read: that
  venue;
* an entry that ended stuck or unbalanced: both its venues.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from fsm.core.result import EntryResult
from fsm.core.tables.breaker import BreakerTrigger
from fsm.core.tables.entry import ENTRY_TRANSITIONS, EntryGuard, EntryState
from fsm.core.tables.order import ORDER_TRANSITIONS, OrderTrigger
from venues.market import Purpose, TimeInForce


@attrs.frozen
class Signal:
    """One thing a breaker hears about a venue, with the sentence that explains it."""

    trigger: BreakerTrigger
    venue: str
    reason: str


_FAULT_ROWS = {
    kind: frozenset(i for i, row in enumerate(ORDER_TRANSITIONS) if row.trigger is trigger)
    for kind, trigger in (("refused", OrderTrigger.REJECT), ("unanswered", OrderTrigger.NO_ANSWER))
}
_STALE_ROLLBACK = frozenset(
    i for i, row in enumerate(ENTRY_TRANSITIONS)
    if EntryGuard.HEDGE_BOOK_STALE in row.guards and row.dest == EntryState.ROLLING_BACK)
_UNFINISHED = (EntryState.STUCK, EntryState.UNBALANCED)


def signals(result: EntryResult, slow_hedge_s: float) -> list[Signal]:
    """Every signal of one ended entry, in a fixed order (slow, faults, stale, unfinished)."""
    return list(_signals(result, slow_hedge_s))


def _hedge_completion(result: EntryResult) -> tuple[float | None, list[str]]:
    """How long the hedge took and on which venue(s) it was slow.

    A hedge (or a sibling quote amended to cross) counts from the trigger to the hedged
    state. An entry the plan started as taker on both legs (``fsm.core.planner``: what a
    conservative breaker asks for) sends no hedge: its legs are both IOCs, and the time
    the book was naked between their fills is the hedge's, on the venue that filled last.
    """
    hedged = [o.venue for o in result.orders
              if o.filled > 0 and (o.purpose == Purpose.HEDGE.value or o.amend_rows)]
    if result.timings.hedge_completion_ms is not None or hedged:
        return result.timings.hedge_completion_ms, list(dict.fromkeys(hedged))
    quotes = [o for o in result.orders if o.purpose == Purpose.QUOTE.value]
    dual_taker = bool(quotes) and all(o.time_in_force == TimeInForce.IOC.value for o in quotes)
    if not dual_taker or result.final_state != EntryState.COMPLETE or not result.fills:
        return None, []
    last = max(result.fills, key=lambda fill: fill.at_ms)
    return result.timings.unhedged_ms, [last.venue]


def _signals(result: EntryResult, slow_hedge_s: float) -> Iterator[Signal]:
    entry = f"entry {result.entry_id}"
    took, hedged = _hedge_completion(result)
    if took is not None and took > slow_hedge_s * 1000:
        for venue in hedged:
            yield Signal(BreakerTrigger.SLOW_HEDGE, venue,
                         f"{entry}: hedge completed in {took:g} ms on {venue} "
                         f"(slower than {slow_hedge_s * 1000:g} ms)")
    for order in result.orders:
        for kind, rows in _FAULT_ROWS.items():
            if rows.intersection(order.rows):
                yield Signal(BreakerTrigger.FAULT, order.venue,
                             f"{entry}: {order.venue} {kind} a request for {order.client_id}")
    if _STALE_ROLLBACK.intersection(step.row for step in result.path):
        lagging = min(result.legs.values(), key=lambda leg: leg.filled)
        yield Signal(BreakerTrigger.FAULT, lagging.venue,
                     f"{entry}: rolled back, the book on {lagging.venue} stayed stale")
    if result.final_state in _UNFINISHED:
        for venue in dict.fromkeys(leg.venue for leg in result.legs.values()):
            yield Signal(BreakerTrigger.UNFINISHED, venue,
                         f"{entry} ended {result.final_state} (exposure may be open on {venue})")
