"""Row coverage: which state-changing rows of the tables the shipped scenarios take.

The tables are the whole machine, so a row no scenario takes is behaviour nothing
shows running: either a scenario is missing or the row is dead. Every run records
which row each transition took (``EntryResult.path`` holds row indexes), so coverage is
counted from the runs themselves, not from a tracer.

Each table is one ``Table`` in ``TABLES``: its rows and how to read, from one run, the
indexes of the rows it took (the entry's path; each order's recorded rows). The breaker
table moves only over many entries, so its rows are counted from the breaker stories
(``fsm.sim.breaker_stories``), which run shipped scenarios in sequence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from fsm.core import spec
from fsm.sim import breaker_stories
from fsm.sim import scenario as scenarios
from fsm.sim.runner import SimulationRun, simulate

AnyRow = spec.Row[Any, Any, Any, Any]


@attrs.frozen
class Table:
    name: str
    rows: tuple[AnyRow, ...]
    taken: Callable[[SimulationRun], Iterable[int]]  # row indexes one run took


TABLES: tuple[Table, ...] = (
    Table("entry", spec.ENTRY_TRANSITIONS, lambda run: (step.row for step in run.result.path)),
    Table("order", spec.ORDER_TRANSITIONS,
          lambda run: (i for order in run.result.orders for i in order.rows)),
    Table("amend", spec.AMEND_TRANSITIONS,
          lambda run: (i for order in run.result.orders for i in order.amend_rows)),
)


@attrs.frozen
class TableCoverage:
    table: str
    rows: tuple[AnyRow, ...]
    changing: tuple[int, ...]  # indexes of the state-changing rows, in table order
    taken_by: dict[int, tuple[str, ...]]  # row index -> the scenarios that took it

    @property
    def never(self) -> tuple[int, ...]:
        return tuple(i for i in self.changing if i not in self.taken_by)

    @property
    def figure(self) -> str:
        return f"{len(self.changing) - len(self.never)} of {len(self.changing)}"


def state_changing(rows: Sequence[AnyRow]) -> tuple[int, ...]:
    """Rows with a destination; internal rows only run effects and leave no path step."""
    return tuple(i for i, row in enumerate(rows) if row.dest is not None)


def measure(runs: Sequence[SimulationRun],
            tables: Sequence[Table] = TABLES) -> tuple[TableCoverage, ...]:
    out = []
    for table in tables:
        taken_by: dict[int, list[str]] = {}
        for run in runs:
            for index in dict.fromkeys(table.taken(run)):
                taken_by.setdefault(index, []).append(run.scenario.name)
        out.append(TableCoverage(table.name, table.rows, state_changing(table.rows),
                                 {i: tuple(names) for i, names in sorted(taken_by.items())}))
    return tuple(out)


BREAKER = "breaker"


def measure_breaker(runs: Sequence[breaker_stories.StoryRun]) -> TableCoverage:
    """The breaker table's rows the stories take, named by story."""
    taken_by: dict[int, list[str]] = {}
    for run in runs:
        for index in dict.fromkeys(t.row for t in run.transitions):
            taken_by.setdefault(index, []).append(run.story.name)
    rows = spec.BREAKER_TRANSITIONS
    return TableCoverage(BREAKER, rows, state_changing(rows),
                         {i: tuple(names) for i, names in sorted(taken_by.items())})


def run_shipped() -> list[SimulationRun]:
    """Every built-in scenario that runs an entry, once (deterministic: virtual time); a
    scenario whose outcome is the pre-trade refusal takes no row."""
    return [simulate(scenarios.load_builtin(name)) for name in scenarios.entry_names()]


def from_taken(taken: dict[str, set[int]], who: str,
               tables: Sequence[Table] = TABLES) -> tuple[TableCoverage, ...]:
    """Coverage from row indexes gathered elsewhere (the test suite's collector), per table."""
    return tuple(
        TableCoverage(table.name, table.rows, state_changing(table.rows),
                      {i: (who,) for i in sorted(taken.get(table.name, ()))})
        for table in tables
    )


def format_report(coverage: Sequence[TableCoverage], who: str) -> str:
    """The report; ``who`` says what took the rows (e.g. "the 30 shipped scenarios")."""
    lines: list[str] = []
    for table in coverage:
        lines.append(f"{table.table} table: {table.figure} state-changing rows taken by {who}")
        lines.append("")
        lines.append("  taken (row, label, how many scenarios take it):")
        for index in table.changing:
            if index in table.taken_by:
                lines.append(f"    {index:>3}  {table.rows[index].label}  "
                             f"({len(table.taken_by[index])})")
        lines.append("")
        lines.append(f"  never taken ({len(table.never)}):")
        for index in table.never:
            lines.append(f"    {index:>3}  {table.rows[index].label}")
            lines.append(f"         {table.rows[index].meaning}")
        if not table.never:
            lines.append("    none")
        lines.append("")
    return "\n".join(lines).rstrip()
