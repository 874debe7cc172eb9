"""The safety invariants of an entry (1 to 7 and 9), checked from its result and the
venues' truth, and one of the entries sharing an account (8, ``shared_account``).

Used by the tests, the property tests and ``atomic-entry simulate`` (which refuses to
call a run good when one is broken). Each check reads what happened, never how the
engine meant it: ``venue_filled`` is what each venue says each order filled, and
positions are the venues' own, so a fill the engine counted twice shows up here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from fsm.core import spec
from fsm.core.commands import AmendOrder
from fsm.core.ids import PREFIX
from fsm.core.result import EntryResult
from fsm.core.spec import EntryState, OrderState
from venues.depth import cost_bps, within
from venues.market import PlaceOrder, Purpose, TimeInForce

ENTRY_TERMINAL = spec.terminal_names(spec.ENTRY_STATES)
ORDER_TERMINAL = spec.terminal_names(spec.ORDER_STATES)
MAX_CLIENT_ID = 28


def _net_at(result: EntryResult, at_ms: float) -> Decimal:
    """The imbalance known when something was sent at ``at_ms``.

    Fills can land in the very instant of the send (zero latency in simulation, or the
    order's own fill), and the exposure record cannot tell which of them came first:
    the imbalance before that instant and each one within it may have been the one the
    engine saw, so the largest counts. (The property tests check the exact figure at
    the moment of sending, from the entry's own ledger.)
    """
    before = Decimal(0)
    candidates = []
    for when, value in result.exposure:
        if when < at_ms:
            before = value
        elif when == at_ms:
            candidates.append(value)
        else:
            break
    return max([before, *candidates], key=abs)


def cancel_before_hedge(result: EntryResult) -> list[str]:
    """1. No hedge (or trim) is sent on a leg whose quote is not venue-confirmed terminal."""
    out = []
    quotes = {o.leg: o for o in result.orders if o.purpose == "quote"}
    for order in result.orders:
        if order.purpose not in ("hedge", "trim"):
            continue
        quote = quotes.get(order.leg)
        if quote is None:
            continue
        ended = quote.terminal_ms
        if ended is None or ended > order.submitted_ms or quote.status not in ORDER_TERMINAL:
            out.append(
                f"cancel-before-hedge: {order.purpose} {order.client_id} sent at "
                f"{order.submitted_ms} ms while quote {quote.client_id} was not terminal "
                f"(terminal at {ended})"
            )
    return out


def reconciliation(
    result: EntryResult, venue_filled: Mapping[str, Decimal] | None = None,
    alone: bool = True,
) -> list[str]:
    """2. Fills are counted once, hedges are sized from them, and agree with the venues."""
    out = []
    seen: set[tuple[str, str]] = set()
    for fill in result.fills:
        key = (fill.venue, fill.trade_id)
        if key in seen:
            out.append(f"reconciliation: trade {fill.trade_id} on {fill.venue} counted twice")
        seen.add(key)
    for order in result.orders:
        if order.purpose != "hedge":
            continue
        net = _net_at(result, order.submitted_ms)
        if order.qty > abs(net):
            out.append(f"reconciliation: hedge {order.client_id} of {order.qty} exceeds the "
                       f"imbalance {net} known when it was sent")
    provisional = _left_live(result)
    if venue_filled is not None:
        for order in result.orders:
            truth = venue_filled.get(order.client_id, Decimal(0))
            if truth != order.filled and order.client_id not in provisional:
                out.append(f"reconciliation: {order.client_id} filled {truth} on "
                           f"{order.venue}, the entry counted {order.filled}")
    for leg_name, leg in result.legs.items():
        sides = result.positions.get(leg.venue)
        if sides is None or "end" not in sides or not alone:
            continue
        moved = sides["end"] - sides["start"]
        moved = moved if leg_name == "long" else -moved
        live_there = any(o.venue == leg.venue for o in result.orders
                         if o.client_id in provisional)
        if moved != leg.filled and _single_leg_venue(result, leg.venue) and not live_there:
            out.append(f"reconciliation: {leg.venue} position moved {moved}, the entry "
                       f"counted {leg.filled}")
    return out


def _left_live(result: EntryResult) -> set[str]:
    """Orders a stuck entry left live and named in its alert: their counts are provisional.

    A venue that keeps refusing a cancel leaves the order resting and the entry stuck;
    fills reported after that are the alert's reader's business, not the entry's.
    """
    return {
        o.client_id for o in result.orders
        if o.status not in ORDER_TERMINAL and result.final_state == EntryState.STUCK
        and any(o.client_id in alert for alert in result.alerts)
    }


def _single_leg_venue(result: EntryResult, venue: str) -> bool:
    return sum(1 for leg in result.legs.values() if leg.venue == venue) == 1


def no_overfill(
    result: EntryResult, venue_filled: Mapping[str, Decimal] | None = None
) -> list[str]:
    """3. No leg ever fills more than its target plus one lot (gross, in its direction)."""
    out = []
    for leg_name, leg in result.legs.items():
        side = "buy" if leg_name == "long" else "sell"
        gross = sum(
            (o.filled if venue_filled is None else venue_filled.get(o.client_id, Decimal(0))
             for o in result.orders if o.leg == leg_name and o.side == side),
            Decimal(0),
        )
        if gross > leg.target + result.tolerance:
            out.append(f"overfill: {leg_name} leg filled {gross}, target {leg.target}, "
                       f"lot {result.tolerance}")
    return out


def ambiguity_resolved(
    result: EntryResult, venue_filled: Mapping[str, Decimal] | None = None
) -> list[str]:
    """4. An order of unknown outcome is never taken as failed: none ends 'rejected' with fills."""
    out = []
    for order in result.orders:
        truth = order.filled if venue_filled is None else venue_filled.get(
            order.client_id, Decimal(0))
        if order.status == OrderState.REJECTED and truth > 0:
            out.append(f"ambiguity: {order.client_id} taken as rejected but it filled {truth}")
    return out


def terminal_and_flat(result: EntryResult, alone: bool = True) -> list[str]:
    """5. Terminal entry, terminal orders, and |net| within one lot unless an alert says so;
    ``complete`` always within one lot (beyond it the entry ends ``unbalanced``).

    An order may stay live only in a ``stuck`` entry whose alert names it.
    """
    out = []
    if result.final_state not in ENTRY_TERMINAL:
        out.append(f"terminal: entry ended in non-terminal state {result.final_state}")
    named = _left_live(result)
    for order in result.orders:
        # The one way to end with an order live: the venue kept refusing to cancel it,
        # and the entry says so, stuck, in an alert naming the order.
        if order.status not in ORDER_TERMINAL and order.client_id not in named:
            out.append(f"terminal: order {order.client_id} left {order.status}")
    if alone and all("end" in s for s in result.positions.values()):
        # the venues' own positions, moved by this entry only and read after it
        true_net = sum((s["end"] - s["start"] for s in result.positions.values()), Decimal(0))
    else:  # other entries trade there too, or a venue was unread: the legs, order by order
        true_net = result.legs["long"].filled - result.legs["short"].filled
    if abs(true_net) > result.tolerance and not result.alerts:
        out.append(f"exposure: net {true_net} exceeds one lot ({result.tolerance}) "
                   "and no alert was raised")
    if result.final_state == EntryState.COMPLETE and abs(true_net) > result.tolerance:
        out.append(f"complete: net {true_net} exceeds one lot ({result.tolerance}); "
                   "an entry that is not balanced within a lot must not end complete")
    return out


def deterministic_ids(result: EntryResult) -> list[str]:
    """6. Client ids are short, plain and unique (their determinism is tested by re-running)."""
    out = []
    ids = [o.client_id for o in result.orders]
    if len(set(ids)) != len(ids):
        out.append(f"client ids: duplicates among {ids}")
    for cid in ids:
        if not (cid.startswith(PREFIX) and cid.isascii() and cid.isalnum()
                and len(cid) <= MAX_CLIENT_ID):
            out.append(f"client ids: {cid!r} is not within {MAX_CLIENT_ID} ASCII alphanumerics")
    return out


def fresh_books(commands: Iterable[object], max_book_age_s: float) -> list[str]:
    """7. No order is priced from a book older than ``max_book_age_s``.

    Every order whose price the entry computed (quotes, aggressive limits, amends) and
    every hedge (sized and checked tradable against the book, and a market order that
    must cross what the book shows now) carries the age of the book it came from. Trims
    and rollbacks are IOC limits at their budget's worst price from the freshest book
    held, never held back for a book read (a naked leg waits for nothing): their age is
    carried but not bounded here.
    """
    out = []
    for command in commands:
        priced = isinstance(command, AmendOrder) or (
            isinstance(command, PlaceOrder)
            and command.purpose in (Purpose.QUOTE, Purpose.HEDGE))
        if not priced:
            continue
        assert isinstance(command, AmendOrder | PlaceOrder)
        age = command.book_age_s
        if age is None or age > max_book_age_s:
            what = "no book age" if age is None else f"a book {age:.3f} s old"
            out.append(f"fresh books: {type(command).__name__} {command.client_id} was "
                       f"priced from {what}; expected at most {max_book_age_s} s")
    return out


def shared_account(
    results: Sequence[EntryResult], held: Mapping[str, Decimal], now: Mapping[str, Decimal],
    venue_filled: Mapping[str, Decimal], outside: Mapping[str, Decimal] | None = None,
) -> list[str]:
    """8. Entries sharing one account (one symbol per venue) add up: each venue now holds
    what it held before plus what every entry reports it filled there, order by order.

    A fill that no entry reports, or reports twice, shows up here even when each entry
    alone looks right. An order a stuck entry left live counts by ``venue_filled`` (its
    report is provisional); ``outside`` is what trades no result reports made on each
    venue (an entry whose caller walked away), by the venues' own account.
    """
    out = []
    for venue, before in held.items():
        reported = (outside or {}).get(venue, Decimal(0))
        for result in results:
            provisional = _left_live(result)
            for order in result.orders:
                if order.venue != venue:
                    continue
                filled = (venue_filled.get(order.client_id, Decimal(0))
                          if order.client_id in provisional else order.filled)
                reported += filled if order.side == "buy" else -filled
        if before + reported != now[venue]:
            out.append(f"account: {venue} holds {now[venue]}; it held {before} and what "
                       f"the entries report moves it by {reported}")
    return out


def within_budgets(commands: Iterable[object],
                   executions: Iterable[tuple[str, Decimal]] = ()) -> list[str]:
    """9. Every marketable order has a protective price and no fill lands outside its budget.

    A hedge, trim or rollback, a quote the plan sends as taker (an IOC), and an amend
    (only ever to cross, as the hedge), must carry its budget (bps), the mid it is measured
    from and a limit no worse than the price they allow; ``executions`` are the venues' own
    trades (client id, price), each checked against its order's limit. An amended quote
    may have filled before the amend landed, at or inside its own quote price (which no
    budget sets; a negative offset quotes across the touch), so its fills are judged
    against the looser of the two prices.
    """
    commands = list(commands)
    out, limited = [], {}
    placed = {c.client_id: c for c in commands if isinstance(c, PlaceOrder)}
    sides = {cid: c.side for cid, c in placed.items()}
    for command in commands:
        if isinstance(command, AmendOrder):
            what, side = "amend", sides.get(command.client_id)
            if side is None:
                continue  # an amend of an order this list does not hold: nothing to judge
        elif isinstance(command, PlaceOrder) and (
                command.purpose is not Purpose.QUOTE or command.time_in_force is TimeInForce.IOC):
            # a resting quote is not marketable; a quote the plan sends as taker IOC is
            what, side = command.purpose.value, command.side
        else:
            continue
        cid, price = command.client_id, command.price
        budget, reference = command.budget_bps, command.budget_reference
        if price is None or budget is None or reference is None:
            out.append(f"budgets: {what} {cid} has no protective price "
                       f"(price {price}, budget {budget} bps from {reference})")
        elif cost_bps(side, price, reference) > budget:
            out.append(f"budgets: {cid} is limited at {price}, beyond its budget of "
                       f"{budget} bps from {reference}")
        else:
            limited[cid] = command
    for cid, fill_price in executions:
        order = limited.get(cid)
        if order is None or order.price is None:
            continue
        limit = order.price
        quoted = placed[cid].price
        if isinstance(order, AmendOrder) and quoted is not None and within(
                sides[cid], limit, quoted):
            limit = quoted  # the quote's own price is the looser: fills before the amend
        if not within(sides[cid], fill_price, limit):
            out.append(f"budgets: {cid} filled at {fill_price}, outside its limit "
                       f"{limit} ({order.budget_bps} bps from {order.budget_reference})")
    return out


def check(
    result: EntryResult, venue_filled: Mapping[str, Decimal] | None = None,
    *, alone: bool = True, commands: Iterable[object] = (),
    max_book_age_s: float = float("inf"), executions: Iterable[tuple[str, Decimal]] = (),
) -> list[str]:
    """Every violation of every invariant; empty when the entry was safe.

    ``alone``: no other entry traded the same venues meanwhile, so the venues'
    position changes are this entry's alone and can be checked against it.
    ``commands``: what the entry sent, for the book-freshness check against
    ``max_book_age_s`` (the entry's config) and for the budgets against ``executions``
    (the venues' trades: client id, price).
    """
    commands = list(commands)
    return [
        *cancel_before_hedge(result),
        *reconciliation(result, venue_filled, alone),
        *no_overfill(result, venue_filled),
        *ambiguity_resolved(result, venue_filled),
        *terminal_and_flat(result, alone),
        *deterministic_ids(result),
        *fresh_books(commands, max_book_age_s),
        *within_budgets(commands, executions),
    ]
