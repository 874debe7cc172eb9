"""``OrderRecord.fire`` takes the row ``spec.first_enabled`` names without asking it.

A (state, trigger) whose first row has no guards and no ``unless`` is taken at once
(``fsm.core.orders._UNGUARDED``): for every such pair and every true/false assignment
of the guards its rows name, ``spec.first_enabled`` must pick that same row.
"""

from __future__ import annotations

import itertools

from fsm.core import spec
from fsm.core.orders import _STEPS, _UNGUARDED


def test_unguarded_first_rows_are_the_first_enabled() -> None:
    assert _UNGUARDED
    for key, first in _UNGUARDED.items():
        steps = _STEPS[key]
        assert first is steps[0]
        names = sorted({g for step in steps for g in (*step.guards, *step.unless)})
        for values in itertools.product((False, True), repeat=len(names)):
            truth = dict(zip(names, values, strict=True))
            assert spec.first_enabled(steps, truth.__getitem__) is first, (key, truth)
    for key, steps in _STEPS.items():  # and every other pair asks its guards
        if key not in _UNGUARDED:
            assert steps[0].guards or steps[0].unless, key
