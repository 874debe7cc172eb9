"""The state tables of an entry, of its orders and of the circuit breakers, in one
namespace. Everything that affects transitions lives in ``fsm.core.tables``; this module
only gathers it under one name.

* ``fsm.core.tables.entry_states`` and ``fsm.core.tables.entry``: the hedged entry's
  state tree (``ENTRY_STATES``) and its rows (``ENTRY_TRANSITIONS``), written
  hierarchically; ``fsm.core.runtime`` compiles it for ``transitions``.
* ``fsm.core.tables.order``: the lifecycle of one order (``ORDER_STATES`` /
  ``ORDER_TRANSITIONS``), its amend region (``AMEND_STATES`` / ``AMEND_TRANSITIONS``),
  the rule run on every state change (``ON_STATE_CHANGE``) and the named sets of its states.
* ``fsm.core.tables.breaker``: the circuit breaker of a venue or of all of them
  (``BREAKER_STATES`` / ``BREAKER_TRANSITIONS``): active, conservative, halted.
* ``fsm.core.tables.events``: which event fires which order trigger, and which entry
  triggers follow (``EVENT_RULES``, ``ENTRY_FOLLOWS``).
* ``fsm.core.tables.facts``: the yes/no facts an order keeps beside its state.
* ``fsm.core.tables.rows``: the row and state shapes and the first-enabled rule.

The entry runtime, the order interpreter, the diagrams, the review tables, row coverage
and the table-driven tests all read these rows, so a row's ``meaning`` is written once
and read everywhere.
"""

from __future__ import annotations

from fsm.core.tables.breaker import (
    BREAKER_INITIAL,
    BREAKER_STATES,
    BREAKER_TRANSITIONS,
    BreakerEffect,
    BreakerGuard,
    BreakerRow,
    BreakerState,
    BreakerTrigger,
)
from fsm.core.tables.entry import (
    ENTRY_INITIAL,
    ENTRY_STATES,
    ENTRY_TRANSITIONS,
    EntryEffect,
    EntryGuard,
    EntryRow,
    EntryState,
    EntryTrigger,
)
from fsm.core.tables.facts import ORDER_FACTS, Fact, OrderFact
from fsm.core.tables.order import (
    AMEND_ANSWERED,
    AMEND_INITIAL,
    AMEND_STATES,
    AMEND_TRANSITIONS,
    KNOWN,
    NOT_FILLED,
    ON_STATE_CHANGE,
    ORDER_INITIAL,
    ORDER_STATES,
    ORDER_TRANSITIONS,
    RESTING,
    UNCERTAIN,
    WORKING,
    AmendRow,
    AmendState,
    OnChange,
    OrderEffect,
    OrderGuard,
    OrderRow,
    OrderState,
    OrderTrigger,
)
from fsm.core.tables.rows import (
    SEPARATOR,
    AnyRow,
    AnyState,
    Row,
    State,
    ancestors,
    first_enabled,
    initial_leaf,
    leaf_names,
    rows_for,
    terminal_names,
    triggers,
    walk,
)

__all__ = [
    "AMEND_ANSWERED",
    "AMEND_INITIAL",
    "AMEND_STATES",
    "AMEND_TRANSITIONS",
    "BREAKER_INITIAL",
    "BREAKER_STATES",
    "BREAKER_TRANSITIONS",
    "ENTRY_INITIAL",
    "ENTRY_STATES",
    "ENTRY_TRANSITIONS",
    "KNOWN",
    "NOT_FILLED",
    "ON_STATE_CHANGE",
    "ORDER_FACTS",
    "ORDER_INITIAL",
    "ORDER_STATES",
    "ORDER_TRANSITIONS",
    "RESTING",
    "SEPARATOR",
    "UNCERTAIN",
    "WORKING",
    "AmendRow",
    "AmendState",
    "AnyRow",
    "AnyState",
    "BreakerEffect",
    "BreakerGuard",
    "BreakerRow",
    "BreakerState",
    "BreakerTrigger",
    "EntryEffect",
    "EntryGuard",
    "EntryRow",
    "EntryState",
    "EntryTrigger",
    "Fact",
    "OnChange",
    "OrderEffect",
    "OrderFact",
    "OrderGuard",
    "OrderRow",
    "OrderState",
    "OrderTrigger",
    "Row",
    "State",
    "ancestors",
    "first_enabled",
    "initial_leaf",
    "leaf_names",
    "rows_for",
    "terminal_names",
    "triggers",
    "walk",
]
