"""The gateway reports; the core decides: every venue error becomes one event, by table.

The gateway's ``ANSWERS`` table is checked row by row against the event it produces,
and a venue-fatal answer, now one event the core's event table maps, is checked to do
exactly what the two events the shell used to send for it (a refusal, then "venue
fatal") did: same states, same commands, same stop reason.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from fsm.core import events as ev
from fsm.core.commands import Command
from fsm.core.config import EntryConfig
from fsm.core.entry import EntryModel
from fsm.core.spec import AmendState, OrderState
from fsm.core.values import EntryRequest, LegSpec
from fsm.shell import gateway
from tests.fakevenue import RULES, book
from venues import protocol as base
from venues.market import Leg

Op = ev.Operation

EXPECTED: dict[tuple[Op, type[BaseException]], type] = {
    (Op.PLACE, base.OrderRejected): ev.Rejected,
    (Op.PLACE, base.VenueUnavailable): ev.Unavailable,
    (Op.PLACE, base.VenueFatalError): ev.FatalAnswer,
    (Op.PLACE, base.OrderNotFound): ev.OutcomeUnknown,
    (Op.PLACE, TimeoutError): ev.OutcomeUnknown,
    (Op.CANCEL, base.OrderNotFound): ev.NotFound,
    (Op.CANCEL, base.OrderRejected): ev.CancelRejected,
    (Op.CANCEL, base.VenueUnavailable): ev.Unavailable,
    (Op.CANCEL, base.VenueFatalError): ev.FatalAnswer,
    (Op.CANCEL, base.MalformedPayload): ev.OutcomeUnknown,
    (Op.AMEND, base.OrderRejected): ev.AmendRejected,
    (Op.AMEND, base.NotSupported): ev.AmendRejected,
    (Op.AMEND, base.OrderNotFound): ev.NotFound,
    (Op.AMEND, base.VenueUnavailable): ev.Unavailable,
    (Op.AMEND, base.VenueFatalError): ev.FatalAnswer,
    (Op.AMEND, base.OutcomeUnknown): ev.OutcomeUnknown,
    (Op.QUERY, base.OrderNotFound): ev.NotFound,
    (Op.QUERY, base.VenueUnavailable): ev.Unavailable,
    (Op.QUERY, base.VenueFatalError): ev.OutcomeUnknown,
}


@pytest.mark.parametrize(("operation", "error"), list(EXPECTED),
                         ids=[f"{op.value}-{err.__name__}" for op, err in EXPECTED])
def test_each_error_becomes_the_event_that_reports_it(operation: Op,
                                                      error: type[Exception]) -> None:
    event = gateway.failed(operation, error("boom"), 1.0, "c1", "alpha")
    assert type(event) is EXPECTED[(operation, error)]
    assert getattr(event, "operation", operation) is operation


def _model() -> EntryModel:
    request = EntryRequest(LegSpec("alpha", "X", "1"), LegSpec("beta", "X", "1"), entry_id="g")
    model = EntryModel("g", request, EntryConfig())
    model.handle(ev.Start(0.0, {leg: book() for leg in Leg}, {leg: RULES for leg in Leg},
                          {leg: Decimal(0) for leg in Leg}))
    return model


def _run(events: list[ev.Event]) -> tuple[list[Command], str, str | None, list[OrderState]]:
    model = _model()
    out = [c for e in events for c in model.handle(e)]
    states = [r.state for r in model.ledger]
    result = (out, model.state, model.stop_reason, states)
    model.detach()
    return result


@pytest.mark.parametrize("operation", [Op.PLACE, Op.CANCEL, Op.AMEND])
def test_a_fatal_answer_does_what_a_refusal_then_venue_fatal_did(operation: Op) -> None:
    model = _model()
    quote = next(iter(model.ledger))
    model.detach()
    cid = quote.client_id
    refusal: ev.Event = {
        Op.PLACE: ev.Rejected(1.0, cid, "locked"),
        Op.CANCEL: ev.CancelRejected(1.0, cid, "locked"),
        Op.AMEND: ev.AmendRejected(1.0, cid, "locked"),
    }[operation]
    before: list[ev.Event] = [] if operation is Op.PLACE else [ev.Accepted(0.5, cid, "v1")]
    old = _run([*before, refusal, ev.VenueFatal(1.0, "alpha", "locked")])
    new = _run([*before, ev.FatalAnswer(1.0, cid, operation, "alpha", "locked")])
    assert new == old
    assert new[1] == "rolling_back.cancelling"


def test_an_amend_not_found_fails_the_amend() -> None:
    model = _model()
    quote = next(iter(model.ledger))
    model.handle(ev.Accepted(0.5, quote.client_id, "v1"))
    quote.amend = AmendState.SENT
    model.handle(ev.NotFound(1.0, quote.client_id, Op.AMEND))
    assert quote.amend is AmendState.FAILED and quote.state is OrderState.OPEN
    model.detach()
