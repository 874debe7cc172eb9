"""The invariants the property tests check on a ``Desk`` after every event.

Some hold whatever the venues said (the command stream); the rest hold only when every
answer was truthful, and are checked against the desk's venue truth. That truth is
checked too: the desk keeps its orders in the simulator's own record, and a record no
real venue could hold (a complete order still open) would make every other check moot.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from fsm.core import events as ev
from fsm.core.commands import Command
from fsm.core.entry import EntryModel
from venues.market import Leg, PlaceOrder, Purpose

if TYPE_CHECKING:
    from tests.fakevenue import Desk

D = Decimal

# --------------------------------------------------------------------------- checks
# Invariants on the command stream: they hold whatever the events said, nonsense included.

def check_placed(model: EntryModel, command: PlaceOrder) -> None:
    """Invariants 6, 1 and 2 for one order the model just sent, as far as it knows."""
    cid = command.client_id
    # 6. a retried intent keeps its id: a lost create is re-sent under the same one
    before = [r for r in model.ledger if r.command.leg is command.leg
              and r.purpose is command.purpose and r.client_id != cid]
    assert not (before and before[-1].lost_in_flight()), (
        f"{cid} retries {before[-1].client_id} under a new client id")
    if command.purpose in (Purpose.HEDGE, Purpose.TRIM):
        # 1. cancel-before-hedge: that venue's quote is confirmed terminal
        quote = model.quote(command.leg)
        assert quote is None or quote.terminal, (
            f"{command.purpose.value} {cid} sent while quote {quote.client_id} is "
            f"{quote.state}")
    if command.purpose is Purpose.HEDGE:
        # 2. sized from the deduplicated imbalance, never from the target
        assert command.qty <= abs(model.imbalance()), (
            f"hedge {cid} {command.qty} exceeds the imbalance {model.imbalance()}")


def check_commands(desk: Desk, commands: list[Command]) -> None:
    model = desk.model
    if model.terminal:
        assert not [c for c in commands if isinstance(c, PlaceOrder)], "terminal entry placed"
    for command in commands:
        if not isinstance(command, PlaceOrder):
            continue
        cid = command.client_id
        # 6. one client id per intent; re-sent only when the query found it never arrived
        intent = (command.leg, command.purpose)
        assert desk._placed.setdefault(cid, intent) == intent, f"{cid} reused for {intent}"
        record = model.ledger.orders[cid]
        assert record.command is command
        check_placed(model, command)
    keys = [(f.venue, f.trade_id) for f in model.ledger.fills]
    assert len(keys) == len(set(keys)), "a trade counted twice"


# Invariants against venue truth: they hold when every answer was truthful.

def check_truth(desk: Desk, _: list[Command] | None = None) -> None:
    model = desk.model
    tolerance = model.tolerance()
    for order in desk.venue.values():
        # the truth itself is sound: an order whose fills reach its size is filled, not
        # open. Left open it would answer every query "open, fully filled", a state no
        # venue reports, and what the model made of it would prove nothing.
        assert not (order.live and order.filled >= order.qty), (
            f"{order.client_id} is open at the venue with {order.filled} of {order.qty} filled")
    for record in model.ledger:
        truth = desk.truth_filled(record.client_id)
        # 2. never more than the venue executed (a duplicate counted would show here)
        assert record.filled <= truth, f"{record.client_id} counted {record.filled} > {truth}"
        # 4. an order that filled is never taken as rejected
        assert not (record.state == "rejected" and truth > 0), f"{record.client_id} rejected"
    for leg in Leg:
        target = model.request.leg(leg).qty
        gross = sum((o.filled for o in desk.venue.values()
                     if o.command.leg is leg and o.command.side is leg.side), D(0))
        # 3. no overfill
        assert gross <= target + tolerance, f"{leg.value} filled {gross} > {target}"
    for cid in desk._placed:
        # 6. the venue never saw two orders under one id (it would have refused the second)
        refused = [e for e, _ in desk.log if isinstance(e, ev.Rejected) and e.client_id == cid
                   and "duplicate" in e.reason]
        assert not refused, f"{cid} sent again while the venue held it"


def check_settled(desk: Desk) -> None:
    """After ``settle``: terminal, orders terminal, flat within a lot or stuck and said so."""
    model = desk.model
    check_truth(desk)
    assert model.terminal, f"not terminal after settling: {model.state}"
    live = [r.client_id for r in model.ledger if r.live]
    stuck_named = model.state == "stuck" and all(
        any(cid in a.message for a in desk.alerts) for cid in live)
    assert not live or stuck_named, f"orders left live: {live}"
    if not live:
        for record in model.ledger:
            assert record.filled == desk.truth_filled(record.client_id), record.client_id
    net = desk.leg_truth(Leg.LONG) - desk.leg_truth(Leg.SHORT)
    if abs(net) > model.tolerance():
        assert model.state == "stuck" and desk.alerts, (model.state, net)
    # rollback and trims are sized from the entry's own fills, never the venue position
    for leg in Leg:
        own = sum((o.filled for o in desk.venue.values()
                   if o.command.leg is leg and o.command.side is leg.side), D(0))
        undo = sum((o.filled for o in desk.venue.values() if o.command.leg is leg
                    and o.command.purpose in (Purpose.ROLLBACK, Purpose.TRIM)), D(0))
        assert undo <= own, f"{leg.value}: undoing {undo} but the entry opened {own}"
