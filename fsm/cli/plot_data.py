"""What a picture of one entry shows, decided apart from drawing it: a pure function.

``picture(result, events)`` reads an ``EntryResult`` and the events the entry processed
(from a run's steps or a journal's) and returns every line, bar, mark and shaded span
the figure will hold, on the entry's own clock in milliseconds. ``fsm.cli.plot`` only
draws what this returns, so what the figure claims is tested here without a plotting
library, and a figure cannot say something the result does not.

The exposure is the result's own (fill reports as the engine received them, the same
series ``unhedged_ms`` integrates), so the shaded spans add up to ``unhedged_ms``; the
venues' positions are the running sums of this entry's fills on each venue (buys
positive), so they add up to that exposure at every instant; where a venue's own
position moved otherwise (a fill the engine never heard of), that is kept beside them
(``venue_moved``) and drawn as the venue's word at the end. The mids are the books the
entry held (the start's, each one pushed or read since): what it priced from, not
necessarily the market between two of them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from decimal import Decimal

import attrs

from fsm.core import events as ev
from fsm.core.result import EntryResult, OrderReport
from venues.market import Book, Leg, Side

#: A step series: each value holds from its instant (ms) until the next one.
Steps = tuple[tuple[float, Decimal], ...]


@attrs.frozen
class VenueSeries:
    venue: str
    leg: str  # the leg the entry trades there: long or short
    symbol: str
    start_position: Decimal  # what the venue held before the entry (not drawn in)
    positions: Steps  # this entry's own position there, signed (long > 0)
    mids: Steps  # the mid of each book the entry held for the leg
    #: How far the venue's own position moved from the start to the end, as the result
    #: reports it: differs from ``positions`` where a fill never reached the engine.
    venue_moved: Decimal | None = None


@attrs.frozen
class FillMark:
    at_ms: float
    venue: str
    client_id: str
    purpose: str
    side: str
    qty: Decimal
    price: Decimal


@attrs.frozen
class OrderBar:
    """One order's life: placed at ``start_ms``, terminal at ``end_ms`` (or still open)."""

    client_id: str
    venue: str
    purpose: str
    side: str
    qty: Decimal
    price: Decimal | None
    status: str
    start_ms: float
    end_ms: float
    ended: bool  # False: not terminal when the record stops (``end_ms`` is that instant)
    fills: tuple[FillMark, ...]

    @property
    def label(self) -> str:
        price = "market" if self.price is None else f"@ {self.price}"
        return f"{self.client_id} {self.purpose} {self.side} {self.qty} {price}"


@attrs.frozen
class Picture:
    entry_id: str
    scenario: str | None  # the scenario's name, or None (a live entry)
    final_state: str
    net_exposure: Decimal
    tolerance: Decimal
    end_ms: float
    base: str  # units of positions (BTC), from the long leg's symbol
    quote: str  # units of prices (USDT)
    venues: tuple[VenueSeries, ...]  # the long leg's venue first
    exposure: Steps
    orders: tuple[OrderBar, ...]  # in the order they were placed
    fills: tuple[FillMark, ...]  # in the order the engine heard of them
    unhedged: tuple[tuple[float, float], ...]  # (from, to) ms while the exposure was not 0
    unhedged_ms: float
    moments: tuple[tuple[float, str], ...] = ()  # (ms, what): a kill, a recovery

    @property
    def title(self) -> str:
        where = f"scenario {self.scenario}" if self.scenario else "live entry"
        return (f"entry {self.entry_id} ({where}): {self.final_state}, net exposure "
                f"{self.net_exposure} {self.base} (one lot {self.tolerance})")


def units(symbol: str) -> tuple[str, str]:
    """(base, quote) of a ccxt symbol such as ``BTC/USDT:USDT``; a bare name is its own base."""
    base, _, rest = symbol.partition("/")
    return base, (rest.partition(":")[0] or "quote")


def picture(result: EntryResult, events: Iterable[ev.Event], scenario: str | None = None
            ) -> Picture:
    """Everything a figure of the entry shows; ``events`` in the order it processed them."""
    start = result.started_at

    def ms(at: float) -> float:
        return round((at - start) * 1000, 3)

    end_ms = result.timings.duration_ms
    side_of = {o.client_id: o for o in result.orders}
    fills = tuple(FillMark(f.at_ms, f.venue, f.client_id, side_of[f.client_id].purpose,
                           side_of[f.client_id].side, f.qty, f.price)
                  for f in result.fills if f.client_id in side_of)
    events = tuple(events)
    mids = _mids(events, ms)
    venues = tuple(
        VenueSeries(leg.venue, name, leg.symbol,
                    result.positions.get(leg.venue, {}).get("start", Decimal(0)),
                    _positions(leg.venue, fills), tuple(mids.get(Leg(name), ())),
                    _moved(result.positions.get(leg.venue, {})))
        for name, leg in result.legs.items())
    exposure = ((0.0, Decimal(0)), *result.exposure)
    base, quote = units(result.legs[Leg.LONG.value].symbol)
    spans = unhedged_spans(exposure, end_ms)
    return Picture(
        entry_id=result.entry_id, scenario=scenario, final_state=result.final_state,
        net_exposure=result.net_exposure, tolerance=result.tolerance, end_ms=end_ms,
        base=base, quote=quote, venues=venues, exposure=exposure,
        orders=tuple(_bar(o, fills, end_ms) for o in result.orders), fills=fills,
        unhedged=spans, unhedged_ms=result.timings.unhedged_ms, moments=_moments(events, ms))


def _moved(held: dict[str, Decimal]) -> Decimal | None:
    return held["end"] - held["start"] if "start" in held and "end" in held else None


def _positions(venue: str, fills: Iterable[FillMark]) -> Steps:
    held, points = Decimal(0), [(0.0, Decimal(0))]
    for fill in fills:
        if fill.venue == venue:
            held += fill.qty * Side(fill.side).sign
            points.append((fill.at_ms, held))
    return tuple(points)


def _mids(events: Iterable[ev.Event], ms: Callable[[float], float]
          ) -> dict[Leg, list[tuple[float, Decimal]]]:
    """Per leg, the mid of every book the entry was given (start, pushes, reads, recovery)."""
    mids: dict[Leg, list[tuple[float, Decimal]]] = {}

    def held(leg: Leg, at: float, book: Book) -> None:
        mids.setdefault(leg, []).append((ms(at), book.mid))

    for event in events:
        match event:
            case ev.Start() | ev.Recovered():
                for leg, book in event.books.items():
                    held(leg, event.at, book)
            case ev.BookUpdate():
                held(event.leg, event.at, event.book)
            case ev.BookRead() if event.book is not None:
                held(event.leg, event.at, event.book)
    return mids


def _moments(events: Iterable[ev.Event], ms: Callable[[float], float]
             ) -> tuple[tuple[float, str], ...]:
    """Instants an operator looks for first: the entry was killed, or rebuilt after a crash."""
    found: list[tuple[float, str]] = []
    for event in events:
        match event:
            case ev.Kill():
                found.append((ms(event.at), f"kill: {event.reason}"))
            case ev.Recovered():
                found.append((ms(event.at), "recovered from the journal"))
    return tuple(found)


def _bar(order: OrderReport, fills: tuple[FillMark, ...], end_ms: float) -> OrderBar:
    ended = order.terminal_ms is not None
    return OrderBar(
        order.client_id, order.venue, order.purpose, order.side, order.qty, order.price,
        order.status, order.submitted_ms,
        order.terminal_ms if order.terminal_ms is not None else max(end_ms, order.submitted_ms),
        ended, tuple(f for f in fills if f.client_id == order.client_id))


def unhedged_spans(exposure: Steps, end_ms: float) -> tuple[tuple[float, float], ...]:
    """The intervals in which the step series is not zero, merged, up to ``end_ms``.

    The same rule as the result's ``unhedged_ms`` (any non-zero imbalance counts), so
    the spans' total is that figure.
    """
    spans: list[tuple[float, float]] = []
    for (at, net), (until, _) in itertools.pairwise([*exposure, (end_ms, Decimal(0))]):
        if net == 0 or until <= at:
            continue
        if spans and spans[-1][1] == at:
            spans[-1] = (spans[-1][0], until)
        else:
            spans.append((at, until))
    return tuple(spans)


def value_at(series: Steps, at_ms: float) -> Decimal:
    """A step series' value at an instant (after every change made at that instant)."""
    value = Decimal(0)
    for when, held in series:
        if when > at_ms:
            break
        value = held
    return value
