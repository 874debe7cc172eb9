"""Table-driven tests generated from fsm/core/spec.py: one case per row, one per invalid pair.

Guards are replaced by chosen truth values and effects by recorders, so each case
checks the machine executes the table as written: the row taken, its destination
(a parent enters its first child) and its effects in order. For every row a guard
assignment is searched that makes it the first applicable row for its state and
trigger; a row with none is shadowed by the rows above it, which is a bug.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import attrs
import pytest
from transitions import MachineError

from fsm.core import spec
from fsm.core.commands import CancelTimer
from fsm.core.config import EntryConfig, RetryPolicy
from fsm.core.entry import EntryModel
from fsm.core.orders import InvalidOrderTransition, OrderRecord
from fsm.core.values import (
    EntryRequest,
    LegSpec,
)
from venues.market import (
    Leg,
    OrderKind,
    PlaceOrder,
    Purpose,
    Side,
    TimeInForce,
)

ENTRY_LEAVES = [leaf.value for leaf in spec.leaf_names(spec.ENTRY_STATES)]  # transitions names
ORDER_STATES = [name for name, _ in spec.walk(spec.ORDER_STATES)]
ENTRY_TRIGGERS = spec.triggers(spec.ENTRY_TRANSITIONS)
ORDER_TRIGGERS = spec.triggers(spec.ORDER_TRANSITIONS)


def _assignment(rows: list[spec.Row], target: spec.Row) -> dict[str, bool] | None:
    """Guard values under which ``target`` is the first enabled row, if any."""
    names = sorted({n for row in rows for n in (*row.guards, *row.unless)})
    for values in itertools.product((True, False), repeat=len(names)):
        truth = dict(zip(names, values, strict=True))
        if spec.first_enabled(rows, truth.__getitem__) is target:
            return truth
    return None


def _entry_cases() -> list[Any]:
    cases = []
    for leaf in ENTRY_LEAVES:
        for trigger in ENTRY_TRIGGERS:
            rows = spec.rows_for(spec.ENTRY_TRANSITIONS, leaf, trigger)
            for row in rows:
                label = row.label if row.source == leaf else f"{leaf} (via {row.source}) " + \
                    row.label.split(" ", 1)[1]
                cases.append(pytest.param(leaf, row, rows, id=label))
    return cases


class _Scripted(EntryModel):
    """An entry model whose guards answer from a table and whose effects are recorded."""

    def __init__(self, truth: dict[str, bool]) -> None:
        request = EntryRequest(LegSpec("a", "X", "1"), LegSpec("b", "X", "1"), entry_id="t")
        super().__init__("t", request, EntryConfig())
        self.effects: list[str] = []
        for name, value in truth.items():
            setattr(self, name, lambda *_, v=value: v)
        for row in spec.ENTRY_TRANSITIONS:
            for effect in row.effects:
                setattr(self, effect, lambda *_, e=effect: self.effects.append(e))



@pytest.mark.parametrize(("leaf", "row", "rows"), _entry_cases())
def test_entry_row(leaf: str, row: spec.Row, rows: list[spec.Row]) -> None:
    truth = _assignment(rows, row)
    assert truth is not None, f"row is shadowed by the rows before it: {row.label}"
    model = _Scripted(truth)
    try:
        model.state = leaf
        # The model skips a trigger only when the row transitions would take does nothing.
        assert model._acts(row.trigger) == (row.dest is not None or bool(row.effects))
        assert model.trigger(row.trigger)
        expected = leaf if row.dest is None else spec.initial_leaf(spec.ENTRY_STATES, row.dest)
        assert model.state == expected
        assert model.effects == list(row.effects)
    finally:
        model.detach()


def _silent_cases() -> list[Any]:
    """(leaf, trigger) pairs with rows, under guard values that enable none of them."""
    cases = []
    for leaf in ENTRY_LEAVES:
        for trigger in ENTRY_TRIGGERS:
            rows = spec.rows_for(spec.ENTRY_TRANSITIONS, leaf, trigger)
            if rows and all(row.guards or row.unless for row in rows):
                cases.append(pytest.param(leaf, trigger, rows, id=f"{leaf} --{trigger}--> none"))
    return cases


@pytest.mark.parametrize(("leaf", "trigger", "rows"), _silent_cases())
def test_entry_skips_only_triggers_that_would_do_nothing(
    leaf: str, trigger: str, rows: list[spec.Row]
) -> None:
    names = {n for row in rows for n in (*row.guards, *row.unless)}
    # Every guard false and every "unless" true: no row is enabled.
    truth = {n: any(n in row.unless for row in rows) for n in names}
    model = _Scripted(truth)
    try:
        model.state = leaf
        assert not model._acts(trigger)
        assert not model.trigger(trigger)
        assert (model.state, model.effects) == (leaf, [])
    finally:
        model.detach()


def _invalid_entry_pairs() -> list[Any]:
    return [
        pytest.param(leaf, trigger, id=f"{leaf} --{trigger}--> rejected")
        for leaf in ENTRY_LEAVES
        for trigger in ENTRY_TRIGGERS
        if not spec.rows_for(spec.ENTRY_TRANSITIONS, leaf, trigger)
    ]


@pytest.mark.parametrize(("leaf", "trigger"), _invalid_entry_pairs())
def test_entry_invalid_pair_rejected(leaf: str, trigger: str) -> None:
    model = _Scripted({})
    try:
        model.state = leaf
        with pytest.raises(MachineError):
            model.trigger(trigger)
        assert model.state == leaf
    finally:
        model.detach()


def test_terminal_states_accept_nothing() -> None:
    terminal = spec.terminal_names(spec.ENTRY_STATES)
    assert terminal == {"complete", "withdrawn", "rolled_back", "stuck", "unbalanced"}
    for name in terminal:
        assert not any(spec.rows_for(spec.ENTRY_TRANSITIONS, name, t) for t in ENTRY_TRIGGERS)


def test_every_state_is_reachable_and_every_guard_and_effect_exists() -> None:
    reached = {spec.ENTRY_INITIAL}
    for row in spec.ENTRY_TRANSITIONS:
        if row.dest is not None:
            reached.add(spec.initial_leaf(spec.ENTRY_STATES, row.dest))
    assert reached == set(ENTRY_LEAVES)
    for row in spec.ENTRY_TRANSITIONS:
        for name in (*row.guards, *row.unless, *row.effects):
            assert callable(getattr(EntryModel, name, None)), f"{row.label}: {name} missing"
    for row in spec.ORDER_TRANSITIONS:
        for name in (*row.guards, *row.unless, *row.effects):
            assert hasattr(OrderRecord, name), f"{row.label}: {name} missing"


# ------------------------------------------------------------------ order lifecycle

def _record(state: str) -> OrderRecord:
    command = PlaceOrder("c1", "a", "X", Leg.LONG, Purpose.QUOTE, Side.BUY, OrderKind.LIMIT,
                         qty=Decimal(1), price=None,
                         time_in_force=TimeInForce.GTC)
    return OrderRecord(command, 1, 0.0, RetryPolicy(query_budget=3, cancel_budget=3),
                       state=spec.OrderState(state))


def _order_cases() -> list[Any]:
    cases = []
    for state in ORDER_STATES:
        for trigger in ORDER_TRIGGERS:
            rows = spec.rows_for(spec.ORDER_TRANSITIONS, state, trigger)
            cases += [pytest.param(state, row, rows, id=row.label) for row in rows]
    return cases


@pytest.mark.parametrize(("state", "row", "rows"), _order_cases())
def test_order_row(state: str, row: spec.Row, rows: list[spec.Row],
                   monkeypatch: pytest.MonkeyPatch) -> None:
    truth = _assignment(rows, row)
    assert truth is not None, f"row is shadowed by the rows before it: {row.label}"
    monkeypatch.setattr(OrderRecord, "_holds", lambda self, name: truth[name])
    done = _record_effects(monkeypatch)
    record = _record(state)
    record.fire(row.trigger, 1.0)
    assert record.state == (state if row.dest is None else row.dest)
    # The amend region is offered every trigger the lifecycle accepted.
    amend = spec.first_enabled(
        spec.rows_for(spec.AMEND_TRANSITIONS, spec.AMEND_INITIAL, row.trigger), truth.__getitem__)
    assert done == [*row.effects, *(amend.effects if amend else ())]


def _record_effects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace every row effect of the order table by a recorder; returns what it records."""
    done: list[str] = []
    rows = (*spec.ORDER_TRANSITIONS, *spec.AMEND_TRANSITIONS)
    for effect in {e for r in rows for e in r.effects}:
        monkeypatch.setattr(OrderRecord, effect, lambda self, e=effect: done.append(e))
    return done


def _amend_cases() -> list[Any]:
    return [pytest.param(row, id=f"amend: {row.label}") for row in spec.AMEND_TRANSITIONS]


@pytest.mark.parametrize("row", _amend_cases())
def test_amend_row(row: spec.AmendRow, monkeypatch: pytest.MonkeyPatch) -> None:
    """The amend region runs beside the lifecycle: its row moves the amend, not the order."""
    rows = spec.rows_for(spec.AMEND_TRANSITIONS, row.source, row.trigger)
    assert spec.first_enabled(rows, lambda _: True) is row, f"shadowed: {row.label}"
    done = _record_effects(monkeypatch)
    record = _record("open")
    record.amend = row.source
    record.fire(row.trigger, 1.0)
    assert (record.amend, record.state) == (row.dest or row.source, "open")
    assert done == list(row.effects)


def test_amend_only_triggers_are_refused_where_the_amend_region_has_no_row() -> None:
    record = _record("pending_new")
    with pytest.raises(InvalidOrderTransition):
        record.fire(spec.OrderTrigger.REQUEST_AMEND, 1.0)  # the lifecycle has no row
    assert record.amend is spec.AMEND_INITIAL


@pytest.mark.parametrize(("source", "dest", "queries_reset"), [
    ("unknown", "open", True), ("unresolved", "canceled", True), ("unknown", "unresolved", False),
    ("pending_new", "open", False)])
def test_on_state_change_rules(source: str, dest: str, queries_reset: bool) -> None:
    """Every change voids an armed retry; leaving uncertainty restarts the query count."""
    trigger = {"open": "accept", "canceled": "cancel_confirm", "unresolved": "no_answer"}[dest]
    record = _record(source)
    record.retry_pending, record.queries = True, 3
    commands = record.fire(spec.OrderTrigger(trigger), 1.0)
    assert record.state == dest
    assert not record.retry_pending and isinstance(commands[0], CancelTimer)
    assert record.queries == (0 if queries_reset else 3)


VENUE_TRIGGERS = ["accept", "reject", "fill", "cancel_confirm", "cancel_reject", "not_found",
                  "place_unsent", "cancel_unsent", "query_unsent", "retry_due",
                  "no_answer"]


@pytest.mark.parametrize("trigger", VENUE_TRIGGERS)
def test_order_table_answers_every_venue_report_in_every_state(trigger: str) -> None:
    """Venues say anything at any time: each report has a row in every state."""
    for state in ORDER_STATES:
        assert spec.rows_for(spec.ORDER_TRANSITIONS, state, trigger), (state, trigger)


def _invalid_order_pairs() -> list[Any]:
    return [
        pytest.param(state, trigger, id=f"{state} --{trigger}--> rejected")
        for state in ORDER_STATES
        for trigger in ORDER_TRIGGERS
        if not spec.rows_for(spec.ORDER_TRANSITIONS, state, trigger)
    ]


@pytest.mark.parametrize(("state", "trigger"), _invalid_order_pairs())
def test_order_invalid_pair_rejected(state: str, trigger: str) -> None:
    record = _record(state)
    with pytest.raises(InvalidOrderTransition):
        record.fire(trigger, 1.0)
    assert record.state == state


def test_each_order_transition_records_the_row_it_took() -> None:
    """Row coverage is counted from these: the index names the row the table shows."""
    record = _record("pending_new")
    record.fire(spec.OrderTrigger.ACCEPT, 1.0)
    record.fire(spec.OrderTrigger.ACCEPT, 2.0)  # a duplicate: an internal row, taken too
    taken = [spec.ORDER_TRANSITIONS[index] for _, index in record.rows]
    assert [(r.source, r.trigger, r.dest) for r in taken] == [
        ("pending_new", "accept", "open"), ("open", "accept", None)]
    assert [at for at, _ in record.rows] == [1.0, 2.0]
    record.amend_target = (Decimal(1), Decimal(1))
    record.fire(spec.OrderTrigger.REQUEST_AMEND, 3.0)
    (_, index), = record.amend_rows
    assert spec.AMEND_TRANSITIONS[index].dest is spec.AmendState.SENT


def test_every_yes_no_an_order_keeps_is_a_fact_the_spec_names() -> None:
    """A new flag on OrderRecord must be declared (meaning, set by, cleared by) in the spec."""
    flags = {f.name for f in attrs.fields(OrderRecord) if f.type in (bool, "bool")}
    assert flags == {str(fact) for fact in spec.OrderFact}
    assert [f.fact for f in spec.ORDER_FACTS] == list(spec.OrderFact)
