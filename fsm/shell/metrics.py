"""The engine's metrics sink: what it reports, when, and with which labels (issue 17).

The engine tells a ``MetricsSink`` the facts it learns anyway, where it learns them:
an entry admitted and retired (live entries), a book arriving (book age), a request
refused, unanswered or never sent (by venue and kind), an alert, and each entry's
result when it ends (its timings and economics, turned into ``Observation`` values by
``observations``, a pure function any sink can reuse). Nothing here imports a metrics
library: ``fsm.shell.metrics_prom`` is the Prometheus sink, loaded only when asked for,
and ``NO_METRICS`` (the default) does nothing.

Labels are bounded: venue, symbol, leg role (long, short), request kind and outcome,
final state, cost component. Never an entry id or a client order id.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Protocol

import attrs

from fsm.core import events as ev
from fsm.core.entry import EntryModel
from fsm.core.result import EntryResult
from venues.market import Leg

#: The breaker states as ``atomic_entry_breaker_state`` reports them (``set_breaker_state``).
BREAKER_LEVELS: dict[str, int] = {"active": 0, "conservative": 1, "halted": 2}
#: The venue label of the breaker that covers every venue.
GLOBAL_BREAKER = "global"


class MetricsSink(Protocol):
    """What the engine reports. Calls come on the engine's loop, between events; a sink
    must not block (a Prometheus sink only updates counters in memory)."""

    def entry_started(self) -> None: ...
    def entry_retired(self) -> None: ...
    def entry_ended(self, result: EntryResult) -> None: ...
    def alert(self) -> None: ...
    def request_failed(self, venue: str, kind: str, outcome: str) -> None: ...
    def book_arrived(self, venue: str, symbol: str, at: float) -> None: ...
    def set_breaker_state(self, venue: str, state: object) -> None: ...


class NoMetrics:
    """The default sink: the engine reports nothing, at the cost of a no-op call."""

    def entry_started(self) -> None:
        pass

    def entry_retired(self) -> None:
        pass

    def entry_ended(self, result: EntryResult) -> None:
        pass

    def alert(self) -> None:
        pass

    def request_failed(self, venue: str, kind: str, outcome: str) -> None:
        pass

    def book_arrived(self, venue: str, symbol: str, at: float) -> None:
        pass

    def set_breaker_state(self, venue: str, state: object) -> None:
        pass


NO_METRICS = NoMetrics()


def breaker_level(state: object) -> int:
    """The gauge value of a breaker state (``BREAKER_LEVELS``): its name, or an enum member
    whose value is the name, in any case; anything else is an error."""
    level = BREAKER_LEVELS.get(str(getattr(state, "value", state)).lower())
    if level is None:
        raise ValueError(f"breaker state {state!r}: expected one of "
                         f"{', '.join(BREAKER_LEVELS)}")
    return level


# ----------------------------------------------------------------- events the engine meters

#: Events that answer a request without doing it: (request kind or None for the event's
#: own ``operation``, outcome label). A ``NotFound`` is an answer, not a failure.
FAILURES: dict[type, tuple[str | None, str]] = {
    ev.Rejected: ("place", "refused"),
    ev.CancelRejected: ("cancel", "refused"),
    ev.AmendRejected: ("amend", "refused"),
    ev.OutcomeUnknown: (None, "unknown"),
    ev.Unavailable: (None, "unavailable"),
    ev.FatalAnswer: (None, "fatal"),
}
#: Events that bring books into an entry (pushed books are metered once per push, where
#: the engine receives them, not once per entry reading them).
BOOKS: frozenset[type] = frozenset({ev.Start, ev.BookRead, ev.Recovered})
METERED: frozenset[type] = frozenset(FAILURES) | BOOKS


def feed(sink: MetricsSink, model: EntryModel, event: ev.Event) -> None:
    """Report what ``event`` (one of ``METERED``, just handled by ``model``) tells."""
    if isinstance(event, ev.Start | ev.Recovered):
        for leg in event.books:
            spec = model.request.leg(leg)
            sink.book_arrived(spec.venue, spec.symbol, event.at)
        return
    if isinstance(event, ev.BookRead):
        if event.book is not None:
            spec = model.request.leg(event.leg)
            sink.book_arrived(spec.venue, spec.symbol, event.at)
        return
    kind, outcome = FAILURES[event.__class__]
    operation = getattr(event, "operation", None)
    client_id = getattr(event, "client_id", "")
    record = model.ledger.orders.get(client_id)
    venue = getattr(event, "venue", None) or (record.command.venue if record else "unknown")
    sink.request_failed(venue, kind or (operation.value if operation else "unknown"), outcome)


# ----------------------------------------------------------------- an ended entry's figures

@attrs.frozen
class Observation:
    """One value for one histogram (``metric`` without the ``atomic_entry_`` prefix)."""

    metric: str
    labels: tuple[tuple[str, str], ...]
    value: float


def _leg_labels(result: EntryResult, leg: str) -> tuple[tuple[str, str], ...]:
    report = result.legs[leg]
    return (("venue", report.venue), ("symbol", report.symbol), ("leg", leg))


def _first_leg(result: EntryResult) -> str | None:
    """The leg whose fill came first (the one the entry was exposed on)."""
    legs = {o.client_id: o.leg for o in result.orders}
    fills = sorted((f for f in result.fills if not f.hedge), key=lambda f: f.at_ms)
    return legs.get(fills[0].client_id) if fills else None


def _seconds(ms: float | None) -> float | None:
    return None if ms is None else ms / 1000


def observations(result: EntryResult) -> Iterator[Observation]:
    """The histogram values of one ended entry: timings in seconds (labelled by the leg
    they are about), unhedged exposure, and what it cost in bps by component.

    Time to first fill and the unhedged figures are about the leg that filled first;
    the cancel confirmation and the hedge completion about the other one (the sibling
    cancelled, the leg hedged). A moment that never came gives no value.
    """
    first = _first_leg(result)
    t = result.timings
    if first is not None:
        other = Leg(first).other.value
        for metric, ms, leg in (
            ("time_to_first_fill_seconds", t.time_to_first_fill_ms, first),
            ("cancel_confirmation_seconds", t.cancel_confirm_ms, other),
            ("hedge_completion_seconds", t.hedge_completion_ms, other),
            ("unhedged_seconds", t.unhedged_ms, first),
        ):
            seconds = _seconds(ms)
            if seconds is not None:
                yield Observation(metric, _leg_labels(result, leg), seconds)
        yield Observation("unhedged_notional_seconds", _leg_labels(result, first),
                          float(t.unhedged_notional_seconds))
    cost = result.economics
    shortfall = (cost.arrival_basis_bps - cost.basis_bps
                 if cost.arrival_basis_bps is not None and cost.basis_bps is not None else None)
    symbol = result.legs[Leg.LONG.value].symbol
    for component, bps in (("fees", cost.fees_bps), ("hedge_slippage", cost.hedge_slippage_bps),
                           ("basis_vs_arrival", shortfall)):
        if bps is not None:
            yield Observation("cost_bps", (("symbol", symbol), ("component", component)),
                              float(Decimal(bps)))
