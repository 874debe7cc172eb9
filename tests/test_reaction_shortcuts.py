"""Shortcuts the reaction paths take around a general rule answer as the rule would.

A (state, trigger) whose first row has no guards and no ``unless`` is taken at once
(``fsm.core.orders._UNGUARDED``): for every such pair and every true/false assignment
of the guards its rows name, ``spec.first_enabled`` must pick that same row. The
ledger reads whether a fill, a status report or a cancel confirmation answers a cancel
from a table (``fsm.core.ledger._CANCEL_ANSWER``): ``_answers_cancel`` must agree.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

from fsm.core import events as ev
from fsm.core import spec
from fsm.core.ledger import _CANCEL_ANSWER, _answers_cancel
from fsm.core.orders import _STEPS, _UNGUARDED
from venues.market import OrderStatus


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


def test_the_ledger_knows_which_reaction_events_answer_a_cancel() -> None:
    one = Decimal(1)
    samples = [ev.Canceled(0.0, "c"), ev.Canceled(0.0, "c", one),
               ev.FillReport(0.0, "c", "t", one, one),
               *(ev.StatusReport(0.0, "c", status, one) for status in OrderStatus)]
    assert {type(event) for event in samples} == set(_CANCEL_ANSWER)
    for event in samples:
        assert _CANCEL_ANSWER[type(event)] is _answers_cancel(event), event
