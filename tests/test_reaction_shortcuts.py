"""Shortcuts the reaction paths take around a general rule answer as the rule would.

A (state, trigger) whose first row has no guards and no ``unless`` is taken at once
(``fsm.core.orders._UNGUARDED``): for every such pair and every true/false assignment
of the guards its rows name, ``spec.first_enabled`` must pick that same row. Whether an
event answers a cancel is read by its exact class (``fsm.core.ledger._answers_cancel``):
every order event class is named below with the answer it must get.
"""

from __future__ import annotations

import itertools
import typing
from decimal import Decimal

from fsm.core import events as ev
from fsm.core import spec
from fsm.core.ledger import _answers_cancel
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


def test_the_ledger_knows_which_events_answer_a_cancel() -> None:
    one = Decimal(1)
    samples: list[tuple[ev.OrderEvent, bool]] = [
        (ev.Canceled(0.0, "c"), True), (ev.Canceled(0.0, "c", one), True),
        (ev.CancelRejected(0.0, "c", "too late"), True),
        (ev.Accepted(0.0, "c"), False), (ev.Rejected(0.0, "c", "no"), False),
        (ev.FillReport(0.0, "c", "t", one, one), False),
        (ev.Amended(0.0, "c", one, one, OrderStatus.OPEN, one), False),
        (ev.AmendRejected(0.0, "c", "no"), False),
        (ev.FatalAnswer(0.0, "c", ev.Operation.CANCEL, "v", "banned"), False),
        *((ev.StatusReport(0.0, "c", status, one), False) for status in OrderStatus),
    ]
    for operation in ev.Operation:
        cancel = operation is ev.Operation.CANCEL
        samples += [(ev.NotFound(0.0, "c", operation), cancel),
                    (ev.OutcomeUnknown(0.0, "c", operation, "timeout"), cancel),
                    (ev.Unavailable(0.0, "c", operation, "503"), cancel)]
    named = {type(event) for event, _ in samples}
    assert named == set(typing.get_args(ev.OrderEvent))  # every order event class
    for event, expected in samples:
        assert _answers_cancel(event) is expected, event
