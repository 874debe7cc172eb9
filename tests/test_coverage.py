"""``atomic-entry coverage``: the row-coverage report of the shipped scenarios.

Only facts that hold whatever scenarios are added or rows retired are asserted: the
report accounts for every state-changing row exactly once, its figure agrees with its
lists, and the one row every entry takes (``start``) is among the taken.
"""

from __future__ import annotations

import re

import pytest

from fsm.cli.main import main
from fsm.core import spec
from fsm.sim import coverage
from fsm.sim import scenario as scenarios


@pytest.fixture(scope="module")
def runs() -> list[coverage.SimulationRun]:
    return coverage.run_shipped()


def _listed(report: str, heading: str) -> set[int]:
    """Row indexes listed under the heading that starts with ``heading``."""
    section = report.split(heading, 1)[1].split("\n\n", 1)[0]
    return {int(m) for m in re.findall(r"^ {4} *(\d+)  ", section, flags=re.MULTILINE)}


def test_the_report_lists_every_state_changing_row_once(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["coverage"]) == 0
    report = capsys.readouterr().out
    taken, never = _listed(report, "  taken"), _listed(report, "  never taken")
    changing = {i for i, row in enumerate(spec.ENTRY_TRANSITIONS) if row.dest is not None}
    assert taken | never == changing
    assert not taken & never
    count = len(scenarios.entry_names())
    assert (f"entry table: {len(taken)} of {len(changing)} state-changing rows taken by the "
            f"{count} shipped scenarios that run an entry") in report


def test_every_shipped_scenario_takes_a_start_row(runs: list[coverage.SimulationRun]) -> None:
    """One of the start rows: the plan's (a leg starts as taker) or both quoting."""
    entry = coverage.measure(runs)[0]
    starts = [i for i, row in enumerate(spec.ENTRY_TRANSITIONS)
              if row.trigger == "start" and row.source == "new"]
    assert len(starts) == 2
    taken = {name for start in starts for name in entry.taken_by.get(start, ())}
    assert sorted(taken) == list(scenarios.entry_names())
    assert set(entry.taken_by) <= set(entry.changing)  # a path step is always a state change


def test_order_rows_are_read_from_each_order_record(runs: list[coverage.SimulationRun]) -> None:
    """The order table's coverage comes from the rows each order recorded: every shipped
    scenario but the dual taker (two IOCs filled before any acknowledgement) has an order
    the venue acknowledged, so every one takes that row."""
    order = {table.table: table for table in coverage.measure(runs)}["order"]
    (ack,) = [i for i, row in enumerate(spec.ORDER_TRANSITIONS)
              if row.trigger == "accept" and row.source == "pending_new"]
    assert set(scenarios.entry_names()) - set(order.taken_by[ack]) == {"plan_dual_taker"}
    assert order.figure == f"{len(order.changing) - len(order.never)} of {len(order.changing)}"


def test_a_table_no_run_reads_is_never_taken(runs: list[coverage.SimulationRun]) -> None:
    """A table is one more ``Table`` value: its rows and how to read the rows a run took."""
    unread = coverage.Table("order", spec.ORDER_TRANSITIONS, lambda run: ())
    (order,) = coverage.measure(runs, (unread,))
    assert order.never == order.changing
    assert order.figure == f"0 of {len(order.changing)}"
