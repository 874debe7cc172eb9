"""Which form executes the entry machine at runtime: the measurement that decided it.

Issue 12 prefers ``transitions`` executing the entry machine and allows a table
dispatch only if ``transitions`` cannot meet the reaction goals in any form. Every form
starts the same way: the look-ahead (``EntryModel._lookahead``) asks each guard once and
names the row the spec's first-enabled rule takes. They differ in who executes it:

* ``table``: ``EntryRuntime.execute`` sets the state, runs the effects, records the row
  (what ``fsm.core.runtime`` ships);
* ``transitions row``: ``transitions`` executes the chosen row alone, through the
  one-row event compiled for it (no conditions left to check);
* ``transitions trigger``: ``transitions`` picks and executes the trigger itself,
  reading the memoised guard answers (the runtime before this measurement).

The three run the same overhead benchmark (``fsm.bench.runtime.overhead``), interleaved
round by round so that a change in the machine's load hits all of them alike; the
medians of the rounds' percentiles are printed beside the bare dict-dispatch floor
measured in the same run. ``python -m fsm.bench.dispatch [--entries N] [--rounds R]
[--clock cpu]``.

``--clock cpu`` reads the thread's CPU clock instead of the wall clock, for a machine
shared with other work: time the thread spent descheduled is not counted, so the
figures approach what a quiet machine measures (each clock read is a system call,
about 0.3 us here, so they run a little higher: compare forms within one run).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from loguru import logger

from fsm.bench import goals, report, runtime
from fsm.bench.runtime import TimedModel
from fsm.core.config import EntryConfig
from fsm.core.runtime import CompiledRow, entry_runtime
from fsm.core.values import EntryRequest

PATHS = ("fill -> cancel", "confirm -> hedge")


class RowForm(TimedModel):
    """``transitions`` executes each chosen row through its one-row event."""

    def __init__(self, entry_id: str, request: EntryRequest, config: EntryConfig,
                 *_: Any) -> None:
        super().__init__(entry_id, request, config, entry_runtime(one_row_events=True))

    def _execute(self, trigger: str, row: CompiledRow) -> None:
        self._runtime.fire_row(self, row)


class TriggerForm(TimedModel):
    """``transitions`` chooses and executes the whole trigger (guards memoised)."""

    def _execute(self, trigger: str, row: CompiledRow) -> None:
        self._runtime.fire(self, trigger)


FORMS: dict[str, type[TimedModel]] = {
    "table": TimedModel, "transitions row": RowForm, "transitions trigger": TriggerForm,
}

# form -> path -> figure ("total p50", ...) -> one value per round, us
Figures = dict[str, dict[str, dict[str, list[float]]]]


def compare(entries: int, rounds: int) -> Figures:
    """Each form's reaction percentiles, one value per round; the order of the forms
    rotates from round to round."""
    names = list(FORMS)
    figures: Figures = {name: {path: {} for path in PATHS} for name in names}
    for k in range(rounds):
        for name in names[k % len(names):] + names[:k % len(names)]:
            for path, timings in zip(PATHS, runtime.overhead(entries, FORMS[name]),
                                     strict=True):
                for part in ("total", "machine"):
                    values = [getattr(t, part) for t in timings]
                    for q, label in ((0.5, "p50"), (0.99, "p99")):
                        figures[name][path].setdefault(f"{part} {label}", []).append(
                            report.percentile(values, q) / 1000)
    return figures


def render(figures: Figures, floor_p50: float, load: tuple[float, float, float]) -> str:
    """One line per (form, path): the medians over rounds, and the ratio to the floor."""
    lines = [f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; dict-dispatch floor "
             f"p50 {floor_p50:.2f} us; medians over rounds, us",
             f"{'form':<20} {'path':<17} {'p50':>7} {'p99':>7} {'machine p50':>12} "
             f"{'p50 x floor':>12}"]
    for name, paths in figures.items():
        for path, values in paths.items():
            p50, p99, machine = (statistics.median(values[key])
                                 for key in ("total p50", "total p99", "machine p50"))
            lines.append(f"{name:<20} {path:<17} {p50:7.1f} {p99:7.1f} {machine:12.1f} "
                         f"{p50 / floor_p50:12.0f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fsm.bench.dispatch", description=__doc__)
    parser.add_argument("--entries", type=int, default=3000, help="entries per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: the thread's CPU time (a machine shared with other work)")
    args = parser.parse_args(argv)
    logger.disable("fsm")
    logger.disable("venues")
    if args.clock == "cpu":
        runtime.now_ns = goals.now_ns = time.thread_time_ns
    figures = compare(args.entries, args.rounds)
    floor = report.percentile(goals.dispatch_floor_ns(), 0.5) / 1000
    print(f"{args.clock} clock; " + render(figures, floor, os.getloadavg()))


if __name__ == "__main__":
    main()
