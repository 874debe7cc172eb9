"""A readable timeline of one simulated entry: time, venue, event, state."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from fsm.core import events as ev
from fsm.core.commands import (
    AmendOrder,
    CancelOrder,
    CancelTimer,
    Command,
    QueryOrder,
    RaiseAlert,
    ReadAccount,
    ReadBook,
    StartTimer,
)
from fsm.core.result import EntryResult
from fsm.shell.engine import Step
from venues.market import PlaceOrder


def describe_event(event: ev.Event) -> str:
    match event:
        case ev.Start():
            return "start"
        case ev.Accepted():
            return f"accepted {event.client_id}"
        case ev.Rejected():
            return f"rejected {event.client_id}: {event.reason}"
        case ev.FillReport():
            return f"fill {event.client_id} {event.qty} @ {event.price} ({event.trade_id})"
        case ev.Canceled():
            filled = "" if event.filled is None else f" (filled {event.filled})"
            return f"cancel confirmed {event.client_id}{filled}"
        case ev.CancelRejected():
            return f"cancel rejected {event.client_id}: {event.reason}"
        case ev.Amended():
            return (f"amended {event.client_id} to {event.qty} @ {event.price}: "
                    f"{event.status.value}, filled {event.filled}")
        case ev.AmendRejected():
            return f"amend refused {event.client_id}: {event.reason}"
        case ev.NotFound():
            return f"not found {event.client_id}"
        case ev.OutcomeUnknown():
            return f"no answer to {event.operation.value} {event.client_id}: {event.reason}"
        case ev.Unavailable():
            return f"not sent: {event.operation.value} {event.client_id}: {event.reason}"
        case ev.StatusReport():
            return (f"status {event.client_id} {event.status.value}, filled {event.filled}"
                    + (f", {len(event.fills)} trade(s)" if event.fills else ""))
        case ev.BookUpdate():
            return f"book {event.book.best_bid} / {event.book.best_ask}"
        case ev.BookRead() if event.book is not None:
            return f"book read {event.leg.value}: {event.book.best_bid} / {event.book.best_ask}"
        case ev.BookRead():
            return f"book read {event.leg.value} failed: {event.failed}"
        case ev.TimerFired():
            return f"timer {event.name}"
        case ev.Kill():
            return f"kill: {event.reason}"
        case ev.FatalAnswer():
            return (f"venue fatal answer to {event.operation.value} {event.client_id}: "
                    f"{event.reason}")
        case ev.VenueFatal():
            return f"venue fatal: {event.reason}"
        case ev.Recovered():
            return "recovered from the journal: asking about every order"
        case ev.AccountRead():
            return "account: " + ", ".join(
                f"{leg.value} {view.position}" + (" (read now)" if leg in event.fresh else "")
                for leg, view in event.legs.items()) + (f"; {event.failed}" if event.failed else "")
    return type(event).__name__


def describe_command(command: Command) -> tuple[str, str]:
    """(venue, text) for one command."""
    match command:
        case PlaceOrder():
            price = "market" if command.price is None else f"@ {command.price}"
            flags = " reduce-only" if command.reduce_only else ""
            return command.venue, (
                f"-> place {command.purpose.value} {command.side.value} {command.qty} {price}"
                f" {command.time_in_force.value}{flags} ({command.client_id})"
            )
        case CancelOrder():
            return command.venue, f"-> cancel {command.client_id}"
        case AmendOrder():
            return command.venue, (
                f"-> amend {command.client_id} to {command.qty} @ {command.price}"
            )
        case QueryOrder():
            return command.venue, f"-> query {command.client_id}"
        case StartTimer():
            return "", f"-> timer {command.name} in {command.delay_s * 1000:g} ms"
        case CancelTimer():
            return "", f"-> stop timer {command.name}"
        case RaiseAlert():
            return "", f"!! ALERT {command.message}"
        case ReadBook():
            why = ("nothing within the hedge budget in the one held: waiting for a refill"
                   if command.refill else "the one held is stale")
            return command.venue, f"-> read book {command.symbol} ({why})"
        case ReadAccount():
            fresh = ", ".join(leg.value for leg in command.fresh)
            return "", "-> read account" + (f", {fresh} position from the venue" if fresh else "")
    return "", type(command).__name__


def render(steps: tuple[Step, ...], result: EntryResult) -> str:
    venue_of = {o.client_id: o.venue for o in result.orders}
    start = steps[0].event.at if steps else 0.0
    lines = [f"{'time ms':>10}  {'venue':<8}  {'event':<58}  state", "-" * 110]
    for step in steps:
        cid = getattr(step.event, "client_id", None)
        venue = venue_of.get(cid, "") if cid else ""
        at = (step.event.at - start) * 1000
        lines.append(f"{at:>10.3f}  {venue:<8}  {describe_event(step.event):<58}  {step.state}")
        for command in step.commands:
            target, text = describe_command(command)
            lines.append(f"{'':>10}  {target:<8}  {text}")
    return "\n".join(lines)


def summary(result: EntryResult) -> str:
    t = result.timings
    legs = ", ".join(
        f"{name} {leg.filled}/{leg.target} on {leg.venue}"
        + (f" avg {leg.average_price:.6f}" if leg.average_price is not None else "")
        for name, leg in result.legs.items()
    )

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:g} ms"

    positions = ", ".join(f"{v} {p['start']} -> {p.get('end', 'unread')}"
                          for v, p in result.positions.items())
    lines = [
        f"final state: {result.final_state}",
        f"legs: {legs}",
        f"net exposure: {result.net_exposure} (one lot: {result.tolerance})",
        f"positions: {positions}",
        f"first fill {ms(t.time_to_first_fill_ms)}; reaction {ms(t.reaction_ms)}; "
        f"cancel confirmed after {ms(t.cancel_confirm_ms)}; hedge sent {ms(t.hedge_sent_ms)}"
        f" and completed {ms(t.hedge_completion_ms)} after the trigger",
        f"unhedged: {t.unhedged_ms:g} ms, {t.unhedged_notional_seconds} notional-seconds",
    ]
    if t.venue_unhedged_ms is not None:  # simulated: beside it, what the venues executed
        lines[-1] += (f" as the engine knew it; {t.venue_unhedged_ms:g} ms, "
                      f"{t.venue_unhedged_notional_seconds} as the venues executed it")
    if result.downsized_from is not None:
        lines.insert(2, f"downsized: {result.downsized_from} asked; what the arrival books "
                        "hold within the hedge budget is entered")
    if result.plan is not None and not result.plan.todays:
        lines.insert(1, result.plan.summary())
    lines += [f"alert: {a}" for a in result.alerts]
    lines.append(cost_line(result))
    return "\n".join(lines)


def _bp(value: Decimal | None, signed: bool = True) -> str:
    if value is None:
        return "-"
    shown = value.quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
    return f"{shown:+}" if signed else f"{shown}"


def cost_line(result: EntryResult) -> str:
    """The entry's economics in one line a trader reads at a glance (the last line)."""
    e = result.economics
    legs = ", ".join(f"{name} {leg.liquidity}" for name, leg in e.legs.items())
    parts = [
        f"basis {_bp(e.basis_bps)} bp vs {_bp(e.arrival_basis_bps)} at arrival",
        f"fees {_bp(e.fees_bps, signed=False)} bp ({legs})",
        f"hedge slippage {_bp(e.hedge_slippage_bps, signed=False)} bp",
        f"unhedged {e.unhedged_ms:g} ms",
    ]
    if e.rollback_pnl is not None:
        parts.append(f"rollback P&L {e.rollback_pnl:+} quote")
    return "cost: " + "; ".join(parts)
