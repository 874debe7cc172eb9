"""``python -m pytest --row-coverage``: which state-changing table rows the tests take.

The shipped scenarios' coverage is ``atomic-entry coverage``; this plugin counts what the
whole suite drives through the tables (property worlds, regressions, recovery), so a row
neither takes is visibly untested. It wraps ``EntryModel.handle`` (and ``Breaker.fire``,
for the breaker table) for the session and,
after each event, reads the rows that entry's path and its orders recorded since the
last look (every model records its rows; nothing is traced). Off unless asked for: it
costs a little per event.
"""

from __future__ import annotations

import weakref
from typing import Any

import pytest

from fsm.core.breaker import Breaker
from fsm.core.entry import EntryModel
from fsm.sim import coverage

_TAKEN: dict[str, set[int]] = {"entry": set(), "order": set(), "amend": set(),
                               coverage.BREAKER: set()}
# Read through ``Breaker.fire`` rather than from a run: ``taken`` is never called.
BREAKER_TABLE = coverage.Table(coverage.BREAKER, coverage.spec.BREAKER_TRANSITIONS, lambda run: ())
_SEEN: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


def _collect(model: EntryModel) -> None:
    seen = _SEEN.get(model, 0)
    _TAKEN["entry"].update(step.row for step in model.path[seen:])
    _SEEN[model] = len(model.path)
    for record in model.ledger:
        _TAKEN["order"].update(index for _, index in record.rows)
        _TAKEN["amend"].update(index for _, index in record.amend_rows)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--row-coverage", action="store_true",
                     help="report which state-changing table rows the tests take")


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("--row-coverage"):
        return
    handle = EntryModel.handle

    def counted(self: EntryModel, event: Any) -> Any:
        try:
            return handle(self, event)
        finally:
            _collect(self)

    EntryModel.handle = counted  # type: ignore[method-assign]
    fire = Breaker.fire

    def fired(self: Breaker, *args: Any, **kwargs: Any) -> Any:
        taken = fire(self, *args, **kwargs)
        _TAKEN[coverage.BREAKER].add(taken.row)
        return taken

    Breaker.fire = fired  # type: ignore[method-assign]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    if config.getoption("--row-coverage"):
        terminalreporter.write_line("")
        terminalreporter.write_line(
            coverage.format_report(coverage.from_taken(
                _TAKEN, "the tests", (*coverage.TABLES, BREAKER_TABLE)), "the tests"))
