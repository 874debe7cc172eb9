from __future__ import annotations

from decimal import Decimal

import pytest

from fsm import scenario as scenarios
from fsm.simulation import SimulationRun, simulate


def run_builtin(name: str) -> SimulationRun:
    return simulate(scenarios.load_builtin(name))


def assert_safe(run: SimulationRun) -> None:
    """The issue's bar for every shipped scenario."""
    result = run.result
    assert run.violations == ()
    assert result.final_state in ("complete", "rolled_back")
    assert abs(result.net_exposure) <= result.tolerance
    assert all(o.status in ("filled", "canceled", "rejected") for o in result.orders)
    if run.scenario.expect_final_state:
        assert result.final_state == run.scenario.expect_final_state


@pytest.fixture
def d() -> type[Decimal]:
    return Decimal
