"""The event table: which event fires which order trigger, and which entry triggers follow.

An event reaches an entry in two steps. First the order it names (if any) takes the
order triggers its rule lists, in order: the rule's ``order`` triggers, then ``fill`` if
the event's fills grew the order (``fill_when``), then the trigger its reported status
names (``STATUS_TRIGGERS``). Bookkeeping that is not a transition (deduplicating fills,
the venue's cumulative filled figure, which request a "not found" answered) happens
before the triggers. Then the entry takes the triggers the rule names, or, for an event
about one order, those ``ENTRY_FOLLOWS`` derives from what changed on that order: a
query answer that brings fills and a new state fires ``fill`` and then ``order_update``,
so neither goes unseen.
"""

from __future__ import annotations

from enum import StrEnum

import attrs

from fsm.core import events as ev
from fsm.core.tables.entry import EntryTrigger
from fsm.core.tables.order import OrderTrigger
from venues.market import OrderStatus

QUOTE_TIMER = "quote_timeout"
REFILL_TIMER = "book_refill"
HEDGE_TIMER = "hedge_wait"  # the adaptive hedge's tau* (fsm.core.planner)
RETRY_TIMER_PREFIX = "retry."


class FillFact(StrEnum):
    """When an event's fills fire the order's ``fill`` trigger."""

    NEW_TRADE = "new_trade"  # the report's (venue, trade id) was not seen before
    FILLED_MORE = "filled_more"  # the event raised the order's filled quantity


class OrderChange(StrEnum):
    """What one event did to one order, as the entry sees it."""

    FILLED_MORE = "filled_more"
    STATE_CHANGED = "state_changed"  # its lifecycle state, or its last cancel was answered
    AMEND_ANSWERED = "amend_answered"


@attrs.frozen
class EventRule:
    """One kind of event: the triggers it fires on its order, then on the entry."""

    event: type[object]
    meaning: str
    operation: ev.Operation | None = None  # only an answer to this request; None: any
    timer: str | None = None  # a timer's name, or a prefix ending in "."
    order: tuple[OrderTrigger, ...] = ()
    fill_when: FillFact | None = None
    status: bool = False  # then the trigger of the reported status (STATUS_TRIGGERS)
    entry: tuple[EntryTrigger, ...] | None = None  # None: ENTRY_FOLLOWS the order's change
    then: tuple[EntryTrigger, ...] = ()  # entry triggers after those that follow the order

    @property
    def label(self) -> str:
        name = self.event.__name__
        if self.operation is not None:
            name += f" ({self.operation.value})"
        if self.timer is not None:
            name += f" ({self.timer}{'<client id>' if self.timer.endswith('.') else ''})"
        return name


@attrs.frozen
class Follow:
    """An entry trigger fired after an order changed, when any of ``changes`` happened."""

    trigger: EntryTrigger
    changes: tuple[OrderChange, ...]
    meaning: str


AMEND_ANSWERS = (OrderTrigger.AMEND_DONE, OrderTrigger.AMEND_FAILED)
"""Order triggers that answer an amend (the entry waiting on it may decide)."""

STATUS_TRIGGERS: dict[OrderStatus, OrderTrigger] = {
    OrderStatus.OPEN: OrderTrigger.ACCEPT,
    OrderStatus.FILLED: OrderTrigger.CANCEL_CONFIRM,
    OrderStatus.CANCELED: OrderTrigger.CANCEL_CONFIRM,
    OrderStatus.REJECTED: OrderTrigger.REJECT,
}
"""The order trigger a reported status means (a terminal status confirms the order done)."""

ENTRY_FOLLOWS: tuple[Follow, ...] = (
    Follow(EntryTrigger.FILL, (OrderChange.FILLED_MORE,), "The order filled more: count it."),
    Follow(EntryTrigger.ORDER_UPDATE, (OrderChange.STATE_CHANGED, OrderChange.AMEND_ANSWERED),
           "Then, if its state changed, its last cancel was answered or its amend was "
           "answered: decide on the new state."),
)


def follows(changed: frozenset[OrderChange]) -> tuple[EntryTrigger, ...]:
    """The entry triggers ``ENTRY_FOLLOWS`` names when the ``changed`` facts happened."""
    return tuple(f.trigger for f in ENTRY_FOLLOWS if any(c in changed for c in f.changes))


FOLLOWS_BY_CHANGE: dict[tuple[bool, bool, bool], tuple[EntryTrigger, ...]] = {
    (filled, state, amend): follows(frozenset(
        c for c, happened in ((OrderChange.FILLED_MORE, filled),
                              (OrderChange.STATE_CHANGED, state),
                              (OrderChange.AMEND_ANSWERED, amend)) if happened))
    for filled in (False, True) for state in (False, True) for amend in (False, True)
}
"""``follows`` for every (filled more, state changed, amend answered), read off the table
once: every order event asks it, and a tuple lookup costs less than building the set."""

_ANY = None

EVENT_RULES: tuple[EventRule, ...] = (
    EventRule(ev.Start, "The books were read: begin.", entry=(EntryTrigger.START,)),
    EventRule(ev.BookUpdate, "A new book pushed: remembered, fresh, for the next decision "
              "(a thin book waited on may have refilled).", entry=(EntryTrigger.BOOK_UPDATE,)),
    EventRule(ev.BookRead, "The book asked for (``ReadBook``'s answer), or why it could not "
              "be read: decide again.", entry=(EntryTrigger.BOOK_READ,)),
    EventRule(ev.TimerFired, "The quote timer.", timer=QUOTE_TIMER, entry=(EntryTrigger.TIMEOUT,)),
    EventRule(ev.TimerFired, "The refill timer: a thin hedge book has had its time to refill.",
              timer=REFILL_TIMER, entry=(EntryTrigger.REFILL_TIMEOUT,)),
    EventRule(ev.TimerFired, "The adaptive hedge's wait (tau*).", timer=HEDGE_TIMER,
              entry=(EntryTrigger.HEDGE_WAIT_OVER,)),
    EventRule(ev.TimerFired, "An order's backoff timer, if its retry is still pending.",
              timer=RETRY_TIMER_PREFIX, order=(OrderTrigger.RETRY_DUE,)),
    EventRule(ev.TimerFired, "Any other timer: of nothing this entry knows; ignored.", entry=()),
    EventRule(ev.Kill, "Stop asked for.", entry=(EntryTrigger.KILL,)),
    EventRule(ev.AccountRead, "The engine's account view (``ReadAccount``'s answer).",
              entry=(EntryTrigger.ACCOUNT_READ,)),
    EventRule(ev.VenueFatal, "A venue failed unrecoverably.", entry=(EntryTrigger.FATAL,)),
    EventRule(ev.Recovered, "Restarted from the journal: an amend awaiting its answer has "
              "lost it (as an amend with no answer), then every order restarts; the entry "
              "decides afresh with the books of now.",
              order=(OrderTrigger.RESTART,), entry=(EntryTrigger.ORDER_UPDATE,)),
    EventRule(ev.Accepted, "The venue acknowledged the order.", order=(OrderTrigger.ACCEPT,)),
    EventRule(ev.Rejected, "The venue refused the order.", order=(OrderTrigger.REJECT,)),
    EventRule(ev.FillReport, "A trade on the order.", fill_when=FillFact.NEW_TRADE),
    EventRule(ev.Canceled, "The order is done at the venue (with its filled size, if told).",
              order=(OrderTrigger.CANCEL_CONFIRM,)),
    EventRule(ev.CancelRejected, "The cancel was refused.", order=(OrderTrigger.CANCEL_REJECT,)),
    EventRule(ev.Amended, "The order was amended; its status comes with the answer.",
              order=(OrderTrigger.AMEND_DONE,), fill_when=FillFact.FILLED_MORE, status=True),
    EventRule(ev.AmendRejected, "The amend was refused (or found nothing to amend).",
              order=(OrderTrigger.AMEND_FAILED,)),
    EventRule(ev.OutcomeUnknown, "The amend got no answer: it may or may not have happened.",
              operation=ev.Operation.AMEND, order=(OrderTrigger.AMEND_FAILED,)),
    EventRule(ev.OutcomeUnknown, "A create, cancel or query got no answer.", operation=_ANY,
              order=(OrderTrigger.NO_ANSWER,)),
    EventRule(ev.Unavailable, "The amend never left.", operation=ev.Operation.AMEND,
              order=(OrderTrigger.AMEND_FAILED,)),
    EventRule(ev.Unavailable, "The create never left.", operation=ev.Operation.PLACE,
              order=(OrderTrigger.PLACE_UNSENT,)),
    EventRule(ev.Unavailable, "The cancel never left.", operation=ev.Operation.CANCEL,
              order=(OrderTrigger.CANCEL_UNSENT,)),
    EventRule(ev.Unavailable, "The query never left.", operation=ev.Operation.QUERY,
              order=(OrderTrigger.QUERY_UNSENT,)),
    *(EventRule(ev.FatalAnswer, f"A venue-fatal answer to a {op.value}: it did not happen; "
                "stop the entry.", operation=op, order=(trigger,), then=(EntryTrigger.FATAL,))
      for op, trigger in ((ev.Operation.PLACE, OrderTrigger.REJECT),
                          (ev.Operation.CANCEL, OrderTrigger.CANCEL_REJECT),
                          (ev.Operation.AMEND, OrderTrigger.AMEND_FAILED))),
    EventRule(ev.NotFound, "The venue has no order to amend.", operation=ev.Operation.AMEND,
              order=(OrderTrigger.AMEND_FAILED,)),
    EventRule(ev.NotFound, "The venue does not know the order.", order=(OrderTrigger.NOT_FOUND,)),
    EventRule(ev.StatusReport, "What a query (or a push) says: fills, then the status.",
              fill_when=FillFact.FILLED_MORE, status=True),
)


_BY_CLASS: dict[type[object], list[EventRule]] = {}
for _rule in EVENT_RULES:
    _BY_CLASS.setdefault(_rule.event, []).append(_rule)
# Classes without timer rules are looked up by (class, request) in one step: every event
# passes here, so the first-match scan below runs only for timers.
_BY_KEY: dict[tuple[type[object], ev.Operation | None], EventRule] = {}
for _cls, _rules in _BY_CLASS.items():
    if any(r.timer is not None for r in _rules):
        continue
    for _op in (None, *ev.Operation):
        _match = next((r for r in _rules if r.operation is None or r.operation is _op), None)
        if _match is not None:
            _BY_KEY[(_cls, _op)] = _match


# Classes whose rules ask neither the request nor a timer's name: their first rule
# matches every event of the class. A fill, a cancel confirmation and a status report
# have no ``operation``, and ``getattr`` with a default pays for an AttributeError.
_BY_CLASS_ALONE: dict[type[object], EventRule] = {
    _cls: _rules[0] for _cls, _rules in _BY_CLASS.items()
    if all(r.operation is None and r.timer is None for r in _rules)}


def rule_for(event: object) -> EventRule:
    """The first rule that matches ``event``: its class, its request, its timer's name."""
    found = _BY_CLASS_ALONE.get(type(event))
    if found is not None:
        return found
    found = _BY_KEY.get((type(event), getattr(event, "operation", None)))
    if found is not None:
        return found
    for rule in _BY_CLASS.get(type(event), ()):
        if rule.operation is not None and getattr(event, "operation", None) is not rule.operation:
            continue
        if rule.timer is not None:
            name = str(getattr(event, "name", ""))
            if not (name == rule.timer
                    or (rule.timer.endswith(".") and name.startswith(rule.timer))):
                continue
        return rule
    raise LookupError(f"no event rule for {type(event).__name__}")
