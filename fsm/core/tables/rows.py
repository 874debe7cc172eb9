"""The shape of a state table and the one rule that reads it, shared by the entry and order tables.

A table is a tree of ``State`` values and a tuple of ``Row`` values, each typed by its
machine's own vocabulary (four ``StrEnum`` classes: states, triggers, guards, effects),
so a row naming a guard of the other machine, or a misspelt state, fails ``mypy`` and
import rather than a run. The enums' values are the names users read (timelines, JSON,
diagrams); dotted values name nested states, parents first.

For one (state, trigger) the first row whose guards all hold is taken; a child's rows
are tried before its parent's (``rows_for`` then ``first_enabled``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

import attrs

SEPARATOR = "."

S = TypeVar("S", bound=StrEnum)
T = TypeVar("T", bound=StrEnum)
G = TypeVar("G", bound=StrEnum)
E = TypeVar("E", bound=StrEnum)
N_co = TypeVar("N_co", covariant=True)


@attrs.frozen
class State(Generic[S]):
    """One state of a table; ``id`` is its full dotted name, its children nest under it."""

    id: S
    meaning: str
    children: tuple[State[S], ...] = ()
    terminal: bool = False

    @property
    def name(self) -> str:
        """The short name, as drawn inside its parent."""
        return self.id.value.rsplit(SEPARATOR, 1)[-1]

    @property
    def initial(self) -> str | None:
        """Entering a parent enters its first child (short name)."""
        return self.children[0].name if self.children else None


@attrs.frozen
class Row(Generic[S, T, G, E]):
    """One transition: ``source --trigger [guards]--> dest / effects``."""

    trigger: T
    source: S
    dest: S | None
    meaning: str
    guards: tuple[G, ...] = ()
    unless: tuple[G, ...] = ()
    effects: tuple[E, ...] = ()

    @property
    def label(self) -> str:
        """A readable id, used as the test id and in review tables."""
        dest = self.dest if self.dest is not None else "(stays)"
        conditions = [*(g.value for g in self.guards), *(f"not {u}" for u in self.unless)]
        guard = f" [{', '.join(conditions)}]" if conditions else ""
        return f"{self.source} --{self.trigger}{guard}--> {dest}"


AnyRow = Row[Any, Any, Any, Any]
"""A row of either table, for code that draws or counts rows of both."""
AnyState = State[Any]


def walk(states: Iterable[State[S]]) -> list[tuple[S, State[S]]]:
    """Every state with its full name, parents before children."""
    out: list[tuple[S, State[S]]] = []
    for state in states:
        out.append((state.id, state))
        out.extend(walk(state.children))
    return out


def initial_leaf(states: tuple[State[S], ...], name: S) -> S:
    """The leaf entered when a transition targets ``name`` (parents enter their first child)."""
    by_name = dict(walk(states))
    while by_name[name].children:
        name = by_name[name].children[0].id
    return name


def leaf_names(states: tuple[State[S], ...]) -> list[S]:
    return [name for name, state in walk(states) if not state.children]


def terminal_names(states: tuple[State[S], ...]) -> frozenset[S]:
    return frozenset(name for name, state in walk(states) if state.terminal)


def ancestors(name: str) -> list[str]:
    """``a.b.c`` -> ``["a.b.c", "a.b", "a"]``: the order in which rows are tried."""
    parts = name.split(SEPARATOR)
    return [SEPARATOR.join(parts[:i]) for i in range(len(parts), 0, -1)]


def rows_for(
    rows: Iterable[Row[S, T, G, E]], state: str, trigger: str
) -> list[Row[S, T, G, E]]:
    """The rows that may fire for ``trigger`` in ``state``, in the order they are tried."""
    table = tuple(rows)
    return [
        row
        for scope in ancestors(state)
        for row in table
        if row.source == scope and row.trigger == trigger
    ]


class Guarded(Protocol[N_co]):
    """What ``first_enabled`` reads of a row: a ``Row``, or a row compiled for running
    (``fsm.core.orders``: its names as plain strings)."""

    @property
    def guards(self) -> tuple[N_co, ...]: ...

    @property
    def unless(self) -> tuple[N_co, ...]: ...


R = TypeVar("R", bound=Guarded[Any])


def first_enabled(rows: Iterable[R], holds: Callable[[Any], bool]) -> R | None:
    """The row taken: the first whose guards all hold and none of whose ``unless`` do.

    Plain loops rather than ``all``/``any`` over generators: every event of every entry
    and order passes here, and two generators per row cost more than the (memoised,
    mostly one-line) guards they ask.
    """
    for row in rows:
        for guard in row.guards:
            if not holds(guard):
                break
        else:
            for name in row.unless:
                if holds(name):
                    break
            else:
                return row
    return None


def triggers(rows: Iterable[Row[S, T, G, E]]) -> list[T]:
    seen: dict[T, None] = {}
    for row in rows:
        seen.setdefault(row.trigger, None)
    return list(seen)


def check_tree(states: Iterable[State[S]], prefix: str = "") -> None:
    """Each state's full name is its parent's plus its own: the enum and the tree agree."""
    for state in states:
        if state.id.value != f"{prefix}{state.name}":
            raise ValueError(f"state {state.id.value!r} is declared under {prefix!r}")
        check_tree(state.children, f"{state.id.value}{SEPARATOR}")
