"""The event table (``fsm.core.tables.events``) covers every event and names only real triggers.

Which triggers an event fires is data the model reads; these checks keep that data
whole: every event class has a rule, no rule is hidden behind an earlier one, every
trigger named exists in its table, and the entry follows an order's change fill first.
"""

from __future__ import annotations

import types
import typing

from fsm.core import events as ev
from fsm.core import spec
from fsm.core.tables import events as table
from venues.market import OrderStatus


def _classes(union: object) -> set[type]:
    out: set[type] = set()
    for arg in typing.get_args(union):
        out |= _classes(arg) if isinstance(arg, types.UnionType) else {arg}
    return out


def test_every_event_class_has_a_rule() -> None:
    assert _classes(ev.Event) == {rule.event for rule in table.EVENT_RULES}


def test_no_rule_is_shadowed_by_an_earlier_one() -> None:
    """A rule for any request or timer must follow the specific rules of its class."""
    for index, rule in enumerate(table.EVENT_RULES):
        for earlier in table.EVENT_RULES[:index]:
            if earlier.event is not rule.event:
                continue
            assert earlier.operation is not None or earlier.timer is not None, (
                f"{rule.label} is shadowed by {earlier.label}")
            assert (earlier.operation, earlier.timer) != (rule.operation, rule.timer), rule.label


def test_every_trigger_named_exists_in_its_table() -> None:
    order_triggers = {r.trigger for r in (*spec.ORDER_TRANSITIONS, *spec.AMEND_TRANSITIONS)}
    entry_triggers = set(spec.triggers(spec.ENTRY_TRANSITIONS))
    for rule in table.EVENT_RULES:
        assert set(rule.order) <= order_triggers, rule.label
        assert set(rule.entry or ()) <= entry_triggers, rule.label
    assert set(table.STATUS_TRIGGERS.values()) <= order_triggers
    assert set(table.STATUS_TRIGGERS) == set(OrderStatus)
    assert {f.trigger for f in table.ENTRY_FOLLOWS} <= entry_triggers


def test_rules_are_found_by_request_and_timer() -> None:
    amend = ev.Unavailable(0.0, "c", ev.Operation.AMEND, "down")
    cancel = ev.Unavailable(0.0, "c", ev.Operation.CANCEL, "down")
    assert table.rule_for(amend).order == (spec.OrderTrigger.AMEND_FAILED,)
    assert table.rule_for(cancel).order == (spec.OrderTrigger.CANCEL_UNSENT,)
    quote = table.rule_for(ev.TimerFired(0.0, table.QUOTE_TIMER))
    retry = table.rule_for(ev.TimerFired(0.0, f"{table.RETRY_TIMER_PREFIX}c1"))
    other = table.rule_for(ev.TimerFired(0.0, "elsewhere"))
    assert (quote.entry, retry.order, other.entry) == (
        (spec.EntryTrigger.TIMEOUT,), (spec.OrderTrigger.RETRY_DUE,), ())


def test_the_entry_hears_a_fill_before_the_state_change_it_came_with() -> None:
    follows = [f.trigger for f in table.ENTRY_FOLLOWS]
    assert follows == [spec.EntryTrigger.FILL, spec.EntryTrigger.ORDER_UPDATE]
