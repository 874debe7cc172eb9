"""The entry table compiled for execution: a flat ``transitions`` machine and a row table.

The spec writes the entry machine hierarchically (``kill`` once on ``active``; a
transition to a parent enters its first child), and the diagrams and review tables
show it so. The runtime flattens it over the leaf states, their dotted full names as
plain names: for each (leaf, trigger) the rows are those ``spec.rows_for`` yields, in
the order the spec's first-enabled rule tries them (the leaf's own rows, then each
ancestor's); a destination is the leaf actually entered (``spec.initial_leaf``);
``dest=None`` stays an internal transition. The same rows are compiled twice:

* into a plain ``transitions.Machine`` (``fire``), the oracle: ``transitions`` checks
  the conditions in order, changes the state and runs the effects.
  ``tests/test_runtime_matches_spec.py`` checks, for every (leaf, trigger) and guard
  assignment, that the runtime leaves a model exactly as this machine does;
* into ``CompiledRow``s that an entry executes by table dispatch (``execute``) once its
  look-ahead has chosen the row: set the state, run the effects, record the row.

Why table dispatch at runtime: issue 12 asks for a reaction (fill -> cancel, confirm ->
hedge) of p50 <= 70 us and p99 <= 120 us. Executing the chosen row through
``transitions`` costs about 20 to 35 us more per reaction than the table does, whether
``transitions`` executes the one row (its one-row event) or the whole trigger (on a
quiet machine an experiment measured table dispatch at 68/65 us p50, the one-row form
at 88/84); the rest of the path leaves no room for that. ``python -m
fsm.bench.dispatch`` measures the three forms side by side, and the README
(Benchmarks, 6) gives the figures that decided.

Guards are evaluated once per trigger. Each compiled condition is a ``_Guard`` that
asks the model's ``holds``, which memoises the answer until the model starts its next
trigger; so the model's look-ahead (which row, and does it do something? It reads the
rows as ``choices``, their guard names as plain strings, and keeps the same memo) and
``transitions``' own condition checks, where the oracle runs, share one evaluation.
Most events meet no row or an internal row without effects: nothing is executed.

Entries are not registered with ``add_model``. ``add_model`` scans the machine's model
list (linear in live entries) and binds a partial per trigger, per ``may_`` trigger and
per ``is_`` state to every model. Measured on the compiled flat machine (10,000
models, tracemalloc; busy machine, so times are rough): ``add_model`` 9.8 KiB per model,
~90 us at 0 models and ~340 us at 10,000; a subclass skipping only the membership scan
keeps the 9.8 KiB and ~100 us; holding a ``state`` attribute, 0.24 KiB (the instance
dict) and 0.3 us at any count. ``transitions`` needs no more: ``Event.trigger(model)``
works on any object with a ``state`` attribute and resolves callbacks on the model it is
given. So a model is bound by holding a state name, and fired through ``fire``: O(1).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import attrs
from transitions import Machine

from fsm.core import spec
from fsm.core.spec import EntryRow, EntryState

_EntryStateDef = spec.State[EntryState]


class Bound(Protocol):
    """What a model offers the runtime: a state name, memoised guards, a row hook."""

    state: str

    def holds(self, guard: str) -> bool: ...

    def took(self, row: int, trigger: str, moves: bool) -> None: ...


class _Guard:
    """A compiled condition: the model's memoised answer for one named guard."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, event_data: Any) -> bool:
        return bool(event_data.model.holds(self.name))

    def __repr__(self) -> str:
        return self.name


class _RowTaken:
    """The last callback of a row: tells the model which row ``transitions`` took.

    Named per row (not a machine-wide ``after_state_change`` hook), with a stable repr.
    """

    __slots__ = ("index", "moves", "trigger")

    def __init__(self, index: int, moves: bool, trigger: str | None = None) -> None:
        self.index = index
        self.moves = moves
        self.trigger = trigger  # the entry trigger a one-row event executes a row of

    def __call__(self, event_data: Any) -> None:
        event_data.model.took(self.index, self.trigger or event_data.event.name, self.moves)

    def __repr__(self) -> str:
        return f"row {self.index}"


@attrs.frozen
class CompiledRow:
    """One row as the runtime executes it, once the look-ahead has chosen it.

    ``event`` names the ``transitions`` event that executes this row alone (the one-row
    form; see ``compile_entry``): it exists in machines compiled with ``one_row_events``.
    """

    index: int  # into fsm.core.spec.ENTRY_TRANSITIONS
    dest: str | None  # the leaf entered; None: an internal row, the state stays
    effects: tuple[str, ...]
    event: str
    # Whether taking the row does anything: moves, or has effects (every look-ahead asks).
    acts: bool = attrs.field(init=False)

    @acts.default
    def _acts(self) -> bool:
        return self.dest is not None or bool(self.effects)

    @property
    def moves(self) -> bool:
        return self.dest is not None


Choice = tuple[tuple[str, ...], tuple[str, ...], CompiledRow]
"""One row as the look-ahead tries it: its ``guards`` and ``unless`` as the plain names
the model's memo and ``transitions`` use (the enums' values), and the row as executed."""


@attrs.frozen
class EntryRuntime:
    """One compiled entry machine; every entry of the process shares it."""

    machine: Machine
    rows: Mapping[tuple[str, str], tuple[EntryRow, ...]]
    compiled: Mapping[int, CompiledRow]  # id(row) -> the row as executed
    # (leaf, trigger) -> ``rows`` as the look-ahead tries them (``EntryModel._lookahead``)
    choices: Mapping[tuple[str, str], tuple[Choice, ...]]

    def choose(self, state: str, trigger: str, holds: Callable[[str], bool]) -> EntryRow | None:
        """The row the spec's first-enabled rule takes here (None: none is enabled)."""
        return spec.first_enabled(self.rows.get((state, trigger), ()), holds)

    def has_rows(self, state: str, trigger: str) -> bool:
        return (state, trigger) in self.rows

    def fire(self, model: Bound, trigger: str) -> bool:
        """Let ``transitions`` choose and execute ``trigger`` on ``model``; False: no row
        was enabled.

        Raises ``transitions.MachineError`` where the state has no row for the trigger.
        """
        return bool(self.machine.events[trigger].trigger(model))

    def execute(self, model: Bound, trigger: str, row: CompiledRow) -> None:
        """Execute a chosen row by table dispatch, as ``transitions`` executes a row:
        the state changes, then the effects run in order, then the model hears ``took``."""
        if row.dest is not None:
            model.state = row.dest
        for effect in row.effects:
            getattr(model, effect)(None)
        model.took(row.index, trigger, row.dest is not None)

    def fire_row(self, model: Bound, row: CompiledRow) -> None:
        """Let ``transitions`` execute one chosen row: its one-row event (the bench's
        ``row`` form; needs a machine compiled with ``one_row_events``)."""
        self.machine.events[row.event].trigger(model)


def compile_entry(
    states: tuple[_EntryStateDef, ...] = spec.ENTRY_STATES,
    table: tuple[EntryRow, ...] = spec.ENTRY_TRANSITIONS,
    initial: EntryState = spec.ENTRY_INITIAL,
    one_row_events: bool = False,
) -> EntryRuntime:
    """The flat machine of a hierarchical table (see the module docstring).

    ``transitions`` is handed plain strings (the enums' values): it names an Enum state
    by its member name, not its value. ``one_row_events`` adds, per row, an event without
    conditions that executes that row alone from every leaf it applies to (``row:<n>``):
    only the benchmark's comparison of dispatch forms uses them.
    """
    index = {id(row): i for i, row in enumerate(table)}
    guards: dict[str, _Guard] = {}
    rows: dict[tuple[str, str], tuple[EntryRow, ...]] = {}
    compiled: list[dict[str, Any]] = []
    executed: dict[int, CompiledRow] = {}
    sources: dict[int, list[str]] = {}
    for leaf in spec.leaf_names(states):
        for trigger in spec.triggers(table):
            found = tuple(spec.rows_for(table, leaf, trigger))
            if not found:
                continue
            rows[(leaf.value, trigger.value)] = found
            for row in found:
                dest = None if row.dest is None else spec.initial_leaf(states, row.dest).value
                compiled.append({
                    "trigger": trigger.value,
                    "source": leaf.value,
                    "dest": dest,
                    "conditions": [guards.setdefault(g, _Guard(g.value)) for g in row.guards],
                    "unless": [guards.setdefault(g, _Guard(g.value)) for g in row.unless],
                    "after": [*(e.value for e in row.effects),
                              _RowTaken(index[id(row)], row.dest is not None)],
                })
                executed[id(row)] = CompiledRow(
                    index[id(row)], dest, tuple(e.value for e in row.effects),
                    f"row:{index[id(row)]}")
                sources.setdefault(id(row), []).append(leaf.value)
    if one_row_events:
        for row in table:
            if id(row) not in executed:
                continue
            done = executed[id(row)]
            compiled.append({
                "trigger": done.event, "source": sources[id(row)], "dest": done.dest,
                "after": [*done.effects, _RowTaken(done.index, done.moves, row.trigger.value)],
            })
    machine = Machine(
        model=[], states=[leaf.value for leaf in spec.leaf_names(states)],
        transitions=compiled, initial=initial.value, auto_transitions=False, send_event=True,
    )
    choices = {key: tuple((tuple(g.value for g in row.guards),
                           tuple(u.value for u in row.unless), executed[id(row)])
                          for row in found)
               for key, found in rows.items()}
    return EntryRuntime(machine, rows, executed, choices)


@functools.cache
def entry_runtime(one_row_events: bool = False) -> EntryRuntime:
    """The process's one compiled entry machine (the synchronous machine is safe shared)."""
    return compile_entry(one_row_events=one_row_events)
