"""Every shipped scenario sends the same orders and ends the same way as recorded.

The records in ``tests/golden/`` hold each built-in scenario's whole timeline (every
event, every command, the state after each step) and its result. A change meant to
alter behaviour regenerates them (``python -m tests.golden.capture``) in the same
commit, so the diff shows exactly which runs changed and how; any other change must
leave them untouched.
"""

from __future__ import annotations

import pytest

from fsm.sim import scenario as scenarios
from tests.golden.capture import HERE, record


def test_every_builtin_scenario_has_a_record() -> None:
    recorded = sorted(p.stem for p in HERE.glob("*.txt"))
    assert recorded == sorted(scenarios.builtin_names())


@pytest.mark.parametrize("name", scenarios.builtin_names())
def test_scenario_matches_its_golden_record(name: str) -> None:
    expected = (HERE / f"{name}.txt").read_text()
    assert record(name) == expected
