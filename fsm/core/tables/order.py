"""The order table: the lifecycle of one order, its vocabulary, and the named sets of its states.

Beside the lifecycle: the rule run on every state change (``ON_STATE_CHANGE``) and the
amend region (``AMEND_TRANSITIONS``), a second region of the same order.

Each order runs ``ORDER_TRANSITIONS`` through ``fsm.core.orders.OrderRecord.fire``,
including the late edges real venues produce (fill while pending_cancel, fill after
canceled, cancel rejected, not found, no answer). Guards and effects are methods of the
same name on ``OrderRecord``. Code outside the tables asks about an order's state only
through the sets declared here (``RESTING``, ``UNCERTAIN``...), never by spelling a name.
"""

from __future__ import annotations

from enum import StrEnum

import attrs

from fsm.core.tables.rows import Row, State, check_tree


class OrderState(StrEnum):
    """Every state of an order (the names results and JSON show as an order's status)."""

    PENDING_NEW = "pending_new"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    PENDING_CANCEL = "pending_cancel"
    UNKNOWN = "unknown"
    UNSENT = "unsent"
    UNRESOLVED = "unresolved"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"


class OrderTrigger(StrEnum):
    """What can happen to an order: a request of the entry, a venue's answer, a timer."""

    REQUEST_AMEND = "request_amend"
    REQUEST_CANCEL = "request_cancel"
    RESEND = "resend"
    ACCEPT = "accept"
    REJECT = "reject"
    FILL = "fill"
    CANCEL_CONFIRM = "cancel_confirm"
    CANCEL_REJECT = "cancel_reject"
    NOT_FOUND = "not_found"
    NO_ANSWER = "no_answer"
    PLACE_UNSENT = "place_unsent"
    CANCEL_UNSENT = "cancel_unsent"
    QUERY_UNSENT = "query_unsent"
    RETRY_DUE = "retry_due"
    AMEND_DONE = "amend_done"
    AMEND_FAILED = "amend_failed"
    RESTART = "restart"


class OrderGuard(StrEnum):
    """Facts an order row may require; each is an ``OrderRecord`` method of the same name."""

    ANSWERS_CANCEL = "answers_cancel"
    CANCEL_BUDGET_LEFT = "cancel_budget_left"
    CANCEL_WANTED = "cancel_wanted"
    CREATE_IN_FLIGHT = "create_in_flight"
    HAS_FILLS = "has_fills"
    IS_COMPLETE = "is_complete"
    LOST_IN_FLIGHT = "lost_in_flight"
    QUERY_BUDGET_LEFT = "query_budget_left"
    SEND_BUDGET_LEFT = "send_budget_left"
    WAS_ACKNOWLEDGED = "was_acknowledged"


class OrderEffect(StrEnum):
    """What an order row does; each is an ``OrderRecord`` method of the same name."""

    ASK_AFRESH = "ask_afresh"
    CANCEL_LAST = "cancel_last"
    GIVE_UP_CANCEL = "give_up_cancel"
    NOTE_UNSENDABLE = "note_unsendable"
    QUERY_LATER = "query_later"
    QUERY_ORDER = "query_order"
    RETRY_LATER = "retry_later"
    SEND_AMEND = "send_amend"
    SEND_CANCEL = "send_cancel"
    SEND_CANCEL_AGAIN = "send_cancel_again"
    SEND_PLACE = "send_place"
    VOID_RETRY = "void_retry"
    END_UNCERTAINTY = "end_uncertainty"


OrderRow = Row[OrderState, OrderTrigger, OrderGuard, OrderEffect]

ORDER_STATES: tuple[State[OrderState], ...] = (
    State(OrderState.PENDING_NEW, "Sent; no answer yet."),
    State(OrderState.OPEN, "Resting on the venue, nothing filled."),
    State(OrderState.PARTIALLY_FILLED, "Resting on the venue, part filled."),
    State(OrderState.PENDING_CANCEL, "Cancel sent; the order can still fill until the venue confirms."),
    State(OrderState.UNKNOWN, "A request got no answer: only a query by client order id can tell."),
    State(OrderState.UNSENT, "The venue was unavailable: the create definitely did not leave; it is sent "
          "again, same client order id, after a backoff."),
    State(OrderState.UNRESOLVED, "Every query the budget allows failed: it may rest, may have filled, or "
          "may never have arrived. A last cancel was sent; the entry stops waiting for it."),
    State(OrderState.FILLED, "Filled completely.", terminal=True),
    State(OrderState.CANCELED, "Venue-confirmed cancelled; a late report may still add fills.", terminal=True),
    State(OrderState.REJECTED, "Definitely refused; nothing rests, nothing filled.", terminal=True),
)
check_tree(ORDER_STATES)

ORDER_INITIAL = OrderState.PENDING_NEW

# Named sets of states: the facts code outside the tables may ask about.
WORKING = (OrderState.PENDING_NEW, OrderState.OPEN, OrderState.PARTIALLY_FILLED)
"""Sent and not yet asked to go: a cancel request sends a cancel."""
RESTING = (OrderState.OPEN, OrderState.PARTIALLY_FILLED)
"""Known to rest on the venue: it can be amended, and a cancel refused there leaves it so."""
UNCERTAIN = (OrderState.UNKNOWN, OrderState.UNRESOLVED)
"""A period of uncertainty: only a query (or a last cancel's answer) can tell the outcome."""
NOT_FILLED = (OrderState.PENDING_NEW, OrderState.OPEN, OrderState.PARTIALLY_FILLED,
              OrderState.PENDING_CANCEL, *UNCERTAIN, OrderState.UNSENT, OrderState.CANCELED)
KNOWN = (OrderState.OPEN, OrderState.PARTIALLY_FILLED, OrderState.FILLED, OrderState.CANCELED,
         OrderState.REJECTED)
"""The venue has told us the order's state."""

ORDER_TRANSITIONS: tuple[OrderRow, ...] = (
    OrderRow(OrderTrigger.ACCEPT, OrderState.PENDING_NEW, OrderState.OPEN, "The venue acknowledged the order."),
    *(OrderRow(OrderTrigger.ACCEPT, s, OrderState.PENDING_CANCEL, "Found live, and it is to go: cancel it (a cancel "
          "whose answer was lost counts against the cancel budget, or this never ends).",
          guards=(OrderGuard.CANCEL_WANTED, OrderGuard.CANCEL_BUDGET_LEFT), effects=(OrderEffect.SEND_CANCEL,))
      for s in UNCERTAIN),
    *(OrderRow(OrderTrigger.ACCEPT, s, OrderState.PARTIALLY_FILLED, "Found live with fills.", guards=(OrderGuard.HAS_FILLS,))
      for s in UNCERTAIN),
    *(OrderRow(OrderTrigger.ACCEPT, s, OrderState.OPEN, "Found live.") for s in UNCERTAIN),
    OrderRow(OrderTrigger.ACCEPT, OrderState.UNSENT, OrderState.OPEN, "A copy sent before under the same client id arrived after "
        "all: the pending retry is dropped."),
    *(OrderRow(OrderTrigger.ACCEPT, s, None, "A duplicate or late acknowledgement.")
      for s in (OrderState.OPEN, OrderState.PARTIALLY_FILLED, OrderState.PENDING_CANCEL, OrderState.FILLED, OrderState.CANCELED)),
    OrderRow(OrderTrigger.ACCEPT, OrderState.REJECTED, OrderState.UNKNOWN, "Acknowledged after a refusal: contradicting answers, ask.",
        effects=(OrderEffect.QUERY_ORDER,)),
    OrderRow(OrderTrigger.RESEND, OrderState.REJECTED, OrderState.PENDING_NEW,
        "It never reached the venue as far as a query can tell: send the same intent again "
        "under the same client id, so a late copy is refused as a duplicate.",
        guards=(OrderGuard.LOST_IN_FLIGHT,)),
    OrderRow(OrderTrigger.REJECT, OrderState.PENDING_NEW, OrderState.REJECTED, "The venue refused it."),
    OrderRow(OrderTrigger.REJECT, OrderState.PENDING_CANCEL, OrderState.REJECTED, "Refused while a cancel was already on its way."),
    *(OrderRow(OrderTrigger.REJECT, s, OrderState.REJECTED, "Found refused.") for s in (*UNCERTAIN, OrderState.UNSENT)),
    *(OrderRow(OrderTrigger.REJECT, s, None, "A late or duplicate refusal of an order whose outcome is known.")
      for s in (OrderState.OPEN, OrderState.PARTIALLY_FILLED, OrderState.FILLED, OrderState.CANCELED, OrderState.REJECTED)),
    *(OrderRow(OrderTrigger.FILL, s, OrderState.FILLED, "This fill completes the order.", guards=(OrderGuard.IS_COMPLETE,))
      for s in (*NOT_FILLED, OrderState.REJECTED)),
    *(OrderRow(OrderTrigger.FILL, s, OrderState.PARTIALLY_FILLED, "Part filled.") for s in (*WORKING, OrderState.UNSENT)),
    OrderRow(OrderTrigger.FILL, OrderState.PENDING_CANCEL, None, "Fill while the cancel is in flight: counted, still cancelling."),
    *(OrderRow(OrderTrigger.FILL, s, None, "Fill while the outcome is unknown: counted; it may still rest.")
      for s in UNCERTAIN),
    OrderRow(OrderTrigger.FILL, OrderState.CANCELED, None, "Fill reported after the cancel (late report): counted."),
    OrderRow(OrderTrigger.FILL, OrderState.REJECTED, OrderState.UNKNOWN, "A fill for an order believed refused: ask the venue.",
        effects=(OrderEffect.QUERY_ORDER,)),
    OrderRow(OrderTrigger.FILL, OrderState.FILLED, None, "A late detail of a fill already counted in the cumulative."),
    *(OrderRow(OrderTrigger.REQUEST_AMEND, s, None, "Amend price and size in place; the order "
               "stays live (the amend region sends it).") for s in RESTING),
    *(OrderRow(OrderTrigger.REQUEST_CANCEL, s, OrderState.PENDING_CANCEL, "Ask the venue to cancel.",
          effects=(OrderEffect.SEND_CANCEL,)) for s in WORKING),
    OrderRow(OrderTrigger.REQUEST_CANCEL, OrderState.UNSENT, OrderState.REJECTED, "Never sent: drop the pending retry; nothing "
        "rests, nothing filled."),
    *(OrderRow(OrderTrigger.REQUEST_CANCEL, s, None, "Already going, or its outcome is being asked for.")
      for s in (OrderState.PENDING_CANCEL, *UNCERTAIN, OrderState.FILLED, OrderState.CANCELED, OrderState.REJECTED)),
    *(OrderRow(OrderTrigger.CANCEL_CONFIRM, s, OrderState.FILLED, "Terminal at the venue with its full size filled.",
          guards=(OrderGuard.IS_COMPLETE,))
      for s in (*WORKING, OrderState.PENDING_CANCEL, *UNCERTAIN, OrderState.UNSENT)),
    *(OrderRow(OrderTrigger.CANCEL_CONFIRM, s, OrderState.CANCELED, "The venue confirmed the order is done.")
      for s in (*WORKING, OrderState.PENDING_CANCEL, *UNCERTAIN, OrderState.UNSENT)),
    *(OrderRow(OrderTrigger.CANCEL_CONFIRM, s, None, "A duplicate confirmation.")
      for s in (OrderState.CANCELED, OrderState.FILLED, OrderState.REJECTED)),
    OrderRow(OrderTrigger.CANCEL_REJECT, OrderState.PENDING_CANCEL, None, "Cancel refused: the order is live, ask again.",
        guards=(OrderGuard.CANCEL_BUDGET_LEFT,), effects=(OrderEffect.SEND_CANCEL,)),
    OrderRow(OrderTrigger.CANCEL_REJECT, OrderState.PENDING_CANCEL, OrderState.PARTIALLY_FILLED, "Cancel refused: still live, part filled.",
        guards=(OrderGuard.HAS_FILLS,)),
    OrderRow(OrderTrigger.CANCEL_REJECT, OrderState.PENDING_CANCEL, OrderState.OPEN, "Cancel refused: still live."),
    *(OrderRow(OrderTrigger.CANCEL_REJECT, s, None, "A late refusal: the order's state is already known, or "
          "cannot be learned from it.")
      for s in (OrderState.PENDING_NEW, OrderState.OPEN, OrderState.PARTIALLY_FILLED, *UNCERTAIN, OrderState.UNSENT, OrderState.FILLED,
                OrderState.CANCELED, OrderState.REJECTED)),
    OrderRow(OrderTrigger.NOT_FOUND, OrderState.PENDING_CANCEL, OrderState.UNKNOWN, "Cancel found nothing: filled or never placed? Ask.",
        effects=(OrderEffect.QUERY_ORDER,)),
    OrderRow(OrderTrigger.NOT_FOUND, OrderState.UNKNOWN, None, "A cancel found nothing while the order's outcome is asked: "
        "filled and gone, or never placed? Only the query's answer can tell.",
        guards=(OrderGuard.ANSWERS_CANCEL,)),
    OrderRow(OrderTrigger.NOT_FOUND, OrderState.UNKNOWN, None, "Nothing found while the create is still on its way (requests "
        "can overtake each other): wait for its answer or its timeout, then ask again.",
        guards=(OrderGuard.CREATE_IN_FLIGHT,)),
    OrderRow(OrderTrigger.NOT_FOUND, OrderState.UNKNOWN, OrderState.REJECTED, "A query found nothing: the order never reached the venue.",
        unless=(OrderGuard.WAS_ACKNOWLEDGED,)),
    OrderRow(OrderTrigger.NOT_FOUND, OrderState.UNKNOWN, None, "The venue forgot an order it had: ask again after a backoff, "
        "while the query budget lasts.",
        guards=(OrderGuard.QUERY_BUDGET_LEFT,), effects=(OrderEffect.QUERY_LATER,)),
    OrderRow(OrderTrigger.NOT_FOUND, OrderState.UNKNOWN, OrderState.UNRESOLVED, "Still unknown after every query: send a last "
        "cancel (harmless if nothing rests) and let the entry give up on it.",
        effects=(OrderEffect.CANCEL_LAST,)),
    *(OrderRow(OrderTrigger.NOT_FOUND, s, OrderState.UNKNOWN, "The venue does not know an order we think live: ask.",
          effects=(OrderEffect.QUERY_ORDER,)) for s in WORKING),
    *(OrderRow(OrderTrigger.NOT_FOUND, s, None, "The venue forgot a finished order.")
      for s in (OrderState.FILLED, OrderState.CANCELED, OrderState.REJECTED)),
    OrderRow(OrderTrigger.NOT_FOUND, OrderState.UNSENT, None, "Nothing there, as expected of a create that never left."),
    OrderRow(OrderTrigger.NOT_FOUND, OrderState.UNRESOLVED, None, "Filled and purged, or never placed: still unresolved."),
    OrderRow(OrderTrigger.NO_ANSWER, OrderState.PENDING_NEW, OrderState.UNKNOWN, "The create got no answer: ask by client order id.",
        effects=(OrderEffect.QUERY_ORDER,)),
    OrderRow(OrderTrigger.NO_ANSWER, OrderState.PENDING_CANCEL, OrderState.UNKNOWN, "The cancel got no answer: ask by client order id.",
        effects=(OrderEffect.QUERY_ORDER,)),
    OrderRow(OrderTrigger.NO_ANSWER, OrderState.UNKNOWN, None, "The query got no answer: ask again after a backoff, while the "
        "query budget lasts.",
        guards=(OrderGuard.QUERY_BUDGET_LEFT,), effects=(OrderEffect.QUERY_LATER,)),
    OrderRow(OrderTrigger.NO_ANSWER, OrderState.UNKNOWN, OrderState.UNRESOLVED, "Still unknown after every query: send a last cancel "
        "(harmless if nothing rests) and let the entry give up on it.",
        effects=(OrderEffect.CANCEL_LAST,)),
    *(OrderRow(OrderTrigger.NO_ANSWER, s, None, "A late timeout on an order whose outcome is known, or cannot be "
          "learned from it.")
      for s in (*KNOWN, OrderState.UNSENT, OrderState.UNRESOLVED)),
    OrderRow(OrderTrigger.PLACE_UNSENT, OrderState.PENDING_NEW, OrderState.UNSENT, "The create never left (venue unavailable): send "
        "it again after a backoff, same client id, while the send budget lasts.",
        guards=(OrderGuard.SEND_BUDGET_LEFT,), effects=(OrderEffect.RETRY_LATER,)),
    OrderRow(OrderTrigger.PLACE_UNSENT, OrderState.PENDING_NEW, OrderState.REJECTED, "The create never left and every send retry is "
        "spent: the intent fails like a refusal, marked unsendable.",
        effects=(OrderEffect.NOTE_UNSENDABLE,)),
    OrderRow(OrderTrigger.PLACE_UNSENT, OrderState.PENDING_CANCEL, OrderState.REJECTED, "The create never left and a cancel is "
        "wanted: nothing rests; no retry."),
    OrderRow(OrderTrigger.PLACE_UNSENT, OrderState.UNKNOWN, OrderState.REJECTED, "The create never left: nothing can rest (the "
        "query or cancel in flight will find nothing).", unless=(OrderGuard.WAS_ACKNOWLEDGED,)),
    *(OrderRow(OrderTrigger.PLACE_UNSENT, s, None, "A late or contradicting answer to a create.")
      for s in (OrderState.UNKNOWN, *KNOWN, OrderState.UNSENT, OrderState.UNRESOLVED)),
    OrderRow(OrderTrigger.CANCEL_UNSENT, OrderState.PENDING_CANCEL, None, "The cancel never left (venue unavailable): send "
        "it again after a backoff, while the send budget lasts.",
        guards=(OrderGuard.SEND_BUDGET_LEFT,), effects=(OrderEffect.RETRY_LATER,)),
    OrderRow(OrderTrigger.CANCEL_UNSENT, OrderState.PENDING_CANCEL, OrderState.PARTIALLY_FILLED, "The cancel never left and every "
        "send retry is spent: still live, part filled; the entry gives up on cancelling it.",
        guards=(OrderGuard.HAS_FILLS,), effects=(OrderEffect.GIVE_UP_CANCEL,)),
    OrderRow(OrderTrigger.CANCEL_UNSENT, OrderState.PENDING_CANCEL, OrderState.OPEN, "The cancel never left and every send retry is "
        "spent: still live; the entry gives up on cancelling it.",
        effects=(OrderEffect.GIVE_UP_CANCEL,)),
    *(OrderRow(OrderTrigger.CANCEL_UNSENT, s, None, "A cancel that never left changes nothing here (an unknown "
          "order's query decides).")
      for s in (OrderState.PENDING_NEW, *UNCERTAIN, *KNOWN, OrderState.UNSENT)),
    OrderRow(OrderTrigger.QUERY_UNSENT, OrderState.UNKNOWN, None, "The query never left: ask again after a backoff, while the "
        "query budget lasts.",
        guards=(OrderGuard.QUERY_BUDGET_LEFT,), effects=(OrderEffect.QUERY_LATER,)),
    OrderRow(OrderTrigger.QUERY_UNSENT, OrderState.UNKNOWN, OrderState.UNRESOLVED, "Still unknown after every query: send a last "
        "cancel (harmless if nothing rests) and let the entry give up on it.",
        effects=(OrderEffect.CANCEL_LAST,)),
    *(OrderRow(OrderTrigger.QUERY_UNSENT, s, None, "A query that never left, for an order whose state is known "
          "(or cannot be learned).")
      for s in (OrderState.PENDING_NEW, OrderState.PENDING_CANCEL, *KNOWN, OrderState.UNSENT, OrderState.UNRESOLVED)),
    OrderRow(OrderTrigger.RETRY_DUE, OrderState.UNSENT, OrderState.PENDING_NEW, "Backoff over: send the create again, same client id.",
        effects=(OrderEffect.SEND_PLACE,)),
    OrderRow(OrderTrigger.RETRY_DUE, OrderState.PENDING_CANCEL, None, "Backoff over: send the cancel again.",
        effects=(OrderEffect.SEND_CANCEL_AGAIN,)),
    OrderRow(OrderTrigger.RETRY_DUE, OrderState.UNKNOWN, None, "Backoff over: ask again by client order id.",
        effects=(OrderEffect.QUERY_ORDER,)),
    *(OrderRow(OrderTrigger.RETRY_DUE, s, None, "No retry is due in this state any more.")
      for s in (OrderState.PENDING_NEW, OrderState.UNRESOLVED, *KNOWN)),
    # -- restart: the process died and ``recover`` rebuilt the entry from its journal.
    # Every answer and report addressed to the dead process is lost, so every order not
    # known finished is asked about afresh, as after any lost answer.
    *(OrderRow(OrderTrigger.RESTART, s, OrderState.UNKNOWN, "Restarted: the answers and reports addressed to the dead "
          "process are lost; ask by client order id.", effects=(OrderEffect.QUERY_ORDER,))
      for s in (*WORKING, OrderState.PENDING_CANCEL)),
    *(OrderRow(OrderTrigger.RESTART, s, OrderState.UNKNOWN, "Restarted while asking: ask again, with a fresh query "
          "budget (a last cancel's answer is lost too).", effects=(OrderEffect.ASK_AFRESH,))
      for s in UNCERTAIN),
    OrderRow(OrderTrigger.RESTART, OrderState.UNSENT, None, "Restarted: the create never left; its backoff timer "
        "fires at once and sends it, same client id."),
    *(OrderRow(OrderTrigger.RESTART, s, None, "Restarted: ask once more, to count fills reported while "
          "nobody listened.", effects=(OrderEffect.QUERY_ORDER,))
      for s in (OrderState.FILLED, OrderState.CANCELED, OrderState.REJECTED)),
)


@attrs.frozen
class OnChange:
    """An effect the interpreter runs whenever a row changes the state, before the row's own.

    ``leaving``: only when the order leaves one of these states for one outside them.
    """

    effect: OrderEffect
    meaning: str
    leaving: tuple[OrderState, ...] = ()


ON_STATE_CHANGE: tuple[OnChange, ...] = (
    OnChange(OrderEffect.VOID_RETRY, "A backoff timer armed for the old state is void: cancel "
             "it (at most one is armed per order)."),
    OnChange(OrderEffect.END_UNCERTAINTY, "The period of uncertainty is over: the next one "
             "starts with a fresh query budget.", leaving=UNCERTAIN),
)


# --------------------------------------------------------------------------- amend region
# An amend runs beside the lifecycle above, as a second region of the same order: the
# order keeps filling, being cancelled or queried while an amend is on its way. Each
# trigger is offered to both regions; a trigger neither region has a row for is a bug.

class AmendState(StrEnum):
    """Where the order's amend stands (an order is amended at most once: amend-to-cross)."""

    NONE = "none"
    SENT = "sent"
    DONE = "done"
    FAILED = "failed"


AmendRow = Row[AmendState, OrderTrigger, OrderGuard, OrderEffect]

AMEND_STATES: tuple[State[AmendState], ...] = (
    State(AmendState.NONE, "No amend asked for."),
    State(AmendState.SENT, "Amend sent; no answer yet. The order may fill, or end, meanwhile."),
    State(AmendState.DONE, "The venue holds the amended order.", terminal=True),
    State(AmendState.FAILED, "Refused, unanswered or never sent: whether it happened is left "
          "to the cancel that follows.", terminal=True),
)
check_tree(AMEND_STATES)

AMEND_INITIAL = AmendState.NONE
AMEND_ANSWERED = frozenset({AmendState.DONE, AmendState.FAILED})
"""The entry waiting on an amend may decide: it crossed, or the quote is to be cancelled."""

AMEND_TRANSITIONS: tuple[AmendRow, ...] = (
    *(AmendRow(OrderTrigger.REQUEST_AMEND, s, AmendState.SENT, "Amend price and size in "
               "place, one atomic request.", effects=(OrderEffect.SEND_AMEND,))
      for s in AmendState),
    *(AmendRow(OrderTrigger.AMEND_DONE, s, AmendState.DONE, "The venue amended the order: "
               "later fills complete it at its new size.")
      for s in AmendState),
    *(AmendRow(OrderTrigger.AMEND_FAILED, s, AmendState.FAILED, "Refused, not found, never "
               "sent, or unanswered (it may or may not have happened; the order is live or "
               "ended either way, and the entry cancels it to learn which).")
      for s in AmendState),
)
