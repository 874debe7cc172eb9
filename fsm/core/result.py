"""What an entry reports when it ends: the state it reached, how, and at what exposure.

Times are milliseconds on the engine clock since the entry started. Exposure is
measured from fill reports as the engine received them: that is what the engine could
act on. A lagging report stream makes that flatter than the market saw it, so where the
venues' own execution instants are known (simulated runs), ``with_venue_executions``
puts the exposure the venues executed beside it (``venue_unhedged_ms``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Protocol

import attrs

from fsm.core import economics
from fsm.core.economics import Economics
from fsm.core.entry import EntryModel, Transition
from fsm.core.orders import OrderRecord
from fsm.core.planner import Plan
from fsm.core.spec import AMEND_INITIAL, EntryState
from fsm.core.values import average_price
from venues.market import (
    Leg,
    Purpose,
)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


@attrs.frozen
class PathStep:
    at_ms: float
    trigger: str
    source: str
    dest: str
    row: int  # index into fsm.core.spec.ENTRY_TRANSITIONS: which table row was taken


@attrs.frozen
class OrderReport:
    venue: str
    symbol: str
    client_id: str
    leg: str
    purpose: str
    side: str
    kind: str
    time_in_force: str
    qty: Decimal
    price: Decimal | None
    reduce_only: bool
    status: str
    filled: Decimal
    average_price: Decimal | None
    submitted_ms: float
    terminal_ms: float | None
    # The order-table rows its transitions took, as indexes into ORDER_TRANSITIONS and
    # AMEND_TRANSITIONS: for row coverage, not part of the JSON report.
    rows: tuple[int, ...] = attrs.field(default=(), metadata={"json": False})
    amend_rows: tuple[int, ...] = attrs.field(default=(), metadata={"json": False})


@attrs.frozen
class FillView:
    venue: str
    client_id: str
    trade_id: str
    qty: Decimal
    price: Decimal
    fee: Decimal
    hedge: bool
    at_ms: float
    liquidity: str | None  # maker, taker, or None where the venue did not say
    fee_currency: str | None


@attrs.frozen
class LegReport:
    venue: str
    symbol: str
    target: Decimal
    filled: Decimal
    average_price: Decimal | None


@attrs.frozen
class Timings:
    """Entry timings in milliseconds (None where the moment never came).

    ``hedge_completion_ms`` is there only when the entry ended ``complete`` and a hedge
    filled: a rolled-back, stuck or unbalanced entry never reports a hedge completion.
    ``unhedged_*`` is what the engine knew (from fill reports as they arrived);
    ``venue_unhedged_*`` what the venues executed (from their own execution instants),
    None where they are not known (live venues).
    """

    duration_ms: float
    time_to_first_fill_ms: float | None
    reaction_ms: float | None
    cancel_confirm_ms: float | None
    hedge_sent_ms: float | None
    hedge_completion_ms: float | None
    unhedged_ms: float
    unhedged_notional_seconds: Decimal
    venue_unhedged_ms: float | None = None
    venue_unhedged_notional_seconds: Decimal | None = None


class Executed(Protocol):
    """One execution as a venue recorded it: when, for which order, signed (buys > 0)."""

    @property
    def at(self) -> float: ...
    @property
    def client_id(self) -> str: ...
    @property
    def qty(self) -> Decimal: ...


@attrs.frozen
class EntryResult:
    entry_id: str
    final_state: str
    path: tuple[PathStep, ...]
    orders: tuple[OrderReport, ...]
    fills: tuple[FillView, ...]
    legs: dict[str, LegReport]
    net_exposure: Decimal
    tolerance: Decimal
    positions: dict[str, dict[str, Decimal]]  # venue -> start, end (no end: unread after)
    timings: Timings
    exposure: tuple[tuple[float, Decimal], ...]
    alerts: tuple[str, ...]
    stop_reason: str | None
    economics: Economics  # what the entry cost (fsm.core.economics)
    # On the engine clock, for ``with_venue_executions``; not part of the JSON report.
    started_at: float = attrs.field(default=0.0, metadata={"json": False})
    reference_price: Decimal = attrs.field(default=Decimal(0), metadata={"json": False})
    # The size asked for when the pre-trade check downsized the entry to its hedge budget
    # (in the JSON only then).
    downsized_from: Decimal | None = None
    # Run conservative because a circuit breaker said so (in the JSON only then).
    conservative: bool = False
    # How the legs started and the hedge went (``fsm.core.planner``); in the JSON only
    # when it is not today's default (both quote, market hedge).
    plan: Plan | None = attrs.field(default=None, metadata={"json": False})

    @property
    def succeeded(self) -> bool:
        return self.final_state == EntryState.COMPLETE

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: Decimals become strings, so no digit is lost."""
        plain: dict[str, Any] = _plain(attrs.asdict(
            self, recurse=True, filter=lambda field, _: field.metadata.get("json", True)))
        if plain.get("downsized_from") is None:
            plain.pop("downsized_from", None)
        if not plain.get("conservative"):
            plain.pop("conservative", None)
        if self.plan is not None and not self.plan.todays:
            plain["plan"] = self.plan.as_dict()
        return plain


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def build_result(
    model: EntryModel,
    positions: dict[str, dict[str, Decimal]],
    ended_at: float,
) -> EntryResult:
    start = model.moments.get("start", 0.0)

    orders = tuple(_order_report(r, start) for r in model.ledger)
    fills = tuple(
        FillView(f.venue, f.client_id, f.trade_id, f.qty, f.price, f.fee, f.hedge,
                 _ms(f.at - start) or 0.0, f.liquidity.value if f.liquidity else None,
                 f.fee_currency)
        for f in model.ledger.fills
    )
    legs = {}
    for leg in (Leg.LONG, Leg.SHORT):
        spec = model.request.leg(leg)
        directional = [
            f for r in model.ledger if r.command.leg is leg and r.command.side is leg.side
            for f in r.fills.values()
        ]
        legs[leg.value] = LegReport(spec.venue, spec.symbol, spec.qty, model.position(leg),
                                    average_price(directional))
    timings = _timings(model, start, ended_at)
    return EntryResult(
        entry_id=model.entry_id,
        final_state=model.state,
        path=tuple(_step(t, start) for t in model.path),
        orders=orders,
        fills=fills,
        legs=legs,
        net_exposure=model.imbalance(),
        tolerance=model.tolerance(),
        positions=positions,
        timings=timings,
        exposure=tuple((_ms(at - start) or 0.0, net) for at, net in model.exposure),
        alerts=tuple(a.message for a in model.alerts),
        stop_reason=model.stop_reason,
        economics=attrs.evolve(
            economics.build(model), unhedged_ms=timings.unhedged_ms,
            unhedged_notional_seconds=timings.unhedged_notional_seconds),
        started_at=start,
        reference_price=model.reference_price,
        downsized_from=model.request.downsized_from,
        conservative=model.request.conservative,
        plan=model.plan,
    )


def _step(t: Transition, start: float) -> PathStep:
    return PathStep(_ms(t.at - start) or 0.0, t.trigger, t.source, t.dest, t.row)


def _order_report(r: OrderRecord, start: float) -> OrderReport:
    c = r.command
    return OrderReport(
        venue=c.venue, symbol=c.symbol, client_id=c.client_id, leg=c.leg.value,
        purpose=c.purpose.value, side=c.side.value, kind=c.kind.value,
        time_in_force=c.time_in_force.value, qty=c.qty, price=c.price,
        reduce_only=c.reduce_only, status=r.state.value, filled=r.filled,
        average_price=r.average_price, submitted_ms=_ms(r.submitted_at - start) or 0.0,
        terminal_ms=None if r.terminal_at is None else _ms(r.terminal_at - start),
        rows=tuple(index for _, index in r.rows),
        amend_rows=tuple(index for _, index in r.amend_rows),
    )


def _timings(model: EntryModel, start: float, ended_at: float) -> Timings:
    m = model.moments

    def between(a: str, b: float | None) -> float | None:
        return None if a not in m or b is None else _ms(b - m[a])

    sibling = model.quote(model.first_leg.other) if model.first_leg else None
    # An amended sibling quote was a hedge too (amend-to-cross): it counts when it ends.
    # Only hedges that filled, and only when the entry ended hedged: a hedge that never
    # left, was refused, or was undone by a rollback completed nothing.
    hedges = [
        r for r in model.ledger
        if (r.purpose is Purpose.HEDGE or (r is sibling and r.amend is not AMEND_INITIAL))
        and r.filled > 0
    ]
    ends = [r.terminal_at for r in hedges]
    hedged = model.state == EntryState.COMPLETE and ends and None not in ends
    last_hedge_end = max(ends) if hedged else None  # type: ignore[type-var]
    reacted = [m[k] for k in ("sibling_cancel_sent", "sibling_amend_sent") if k in m]
    unhedged_s, notional_s = _exposure_integral(
        model.exposure, ended_at, model.reference_price)
    return Timings(
        duration_ms=_ms(ended_at - start) or 0.0,
        time_to_first_fill_ms=between("start", m.get("first_fill")),
        reaction_ms=between("trigger", min(reacted) if reacted else None),
        cancel_confirm_ms=between(
            "sibling_cancel_sent", sibling.terminal_at if sibling is not None else None
        ),
        hedge_sent_ms=between("trigger", m.get("first_hedge_sent")),
        hedge_completion_ms=between("trigger", last_hedge_end),
        unhedged_ms=_ms(unhedged_s) or 0.0,
        unhedged_notional_seconds=notional_s,
    )


def _exposure_integral(
    exposure: Iterable[tuple[float, Decimal]], ended_at: float, price: Decimal,
) -> tuple[float, Decimal]:
    """Time with a non-zero imbalance, and the integral of |imbalance| x price over it."""
    seconds, notional = 0.0, Decimal(0)
    points = [*exposure, (ended_at, Decimal(0))]
    for (at, imbalance), (next_at, _) in itertools.pairwise(points):
        if imbalance != 0 and next_at > at:
            seconds += next_at - at
            notional += abs(imbalance) * price * Decimal(repr(round(next_at - at, 9)))
    # Rounding named, not taken from the thread's context: ccxt sets that context's
    # rounding to ROUND_HALF_UP when it formats a number, so results would depend on
    # whether a ccxt venue had been used in the process before.
    return seconds, notional.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)


def with_venue_executions(result: EntryResult, executions: Iterable[Executed]) -> EntryResult:
    """``result`` with the exposure the venues executed beside what the engine knew.

    Only this entry's orders count; the net is the running sum of their signed
    executions (long buys and short sells alike), at the venues' own instants, up to
    the entry's end (or its last execution, if one came later).
    """
    ours = {o.client_id for o in result.orders}
    mine = sorted((e for e in executions if e.client_id in ours), key=lambda e: e.at)
    # On the entry's own clock, to the microsecond: the same run gives the same figures
    # whatever instant its loop started from.
    net, points = Decimal(0), []
    for execution in mine:
        net += execution.qty
        points.append((round(execution.at - result.started_at, 6), net))
    ended_at = result.timings.duration_ms / 1000
    if points:
        ended_at = max(ended_at, points[-1][0])
    seconds, notional = _exposure_integral(points, ended_at, result.reference_price)
    venue_ms = _ms(seconds) or 0.0
    timings = attrs.evolve(result.timings, venue_unhedged_ms=venue_ms,
                           venue_unhedged_notional_seconds=notional)
    cost = attrs.evolve(result.economics, unhedged_ms=venue_ms,
                        unhedged_notional_seconds=notional, unhedged_source="venues")
    return attrs.evolve(result, timings=timings, economics=cost)
