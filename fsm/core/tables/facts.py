"""The facts an order keeps beside its lifecycle state and its amend, named as state.

Each is a yes/no the order guards (and some entry guards) read; this table says what
it means and which events and effects set and clear it, so no state of an order is
left unnamed. Budgets (queries, sends, cancel attempts) are counters and stay out.
``OrderRecord.not_found_by`` is not a fact but the parameter of the "not found" being
handled (which request it answered), kept for the ``answers_cancel`` guard.
"""

from __future__ import annotations

from enum import StrEnum

import attrs


class OrderFact(StrEnum):
    """A yes/no an order keeps beside its state; the ``OrderRecord`` attribute of that name."""

    ACKNOWLEDGED = "acknowledged"
    CREATE_ANSWERED = "create_answered"
    CANCEL_WANTED = "cancel_wanted"
    RETRY_PENDING = "retry_pending"
    CANCEL_UNREACHABLE = "cancel_unreachable"
    UNSENDABLE = "unsendable"
    LAST_CANCEL_OUT = "last_cancel_out"


@attrs.frozen
class Fact:
    """One fact: what it means, and what sets and clears it (events and effects)."""

    fact: OrderFact
    meaning: str
    set_by: str
    cleared_by: str = "never"


ORDER_FACTS: tuple[Fact, ...] = (
    Fact(OrderFact.ACKNOWLEDGED, "The venue has shown it knows the order (an acknowledgement, "
         "a fill, a cancel confirmation, a status other than rejected): a later \"not found\" "
         "means forgotten, not never placed.",
         "Accepted, Canceled, a new fill, a status report other than rejected"),
    Fact(OrderFact.CREATE_ANSWERED, "The create got its answer (or its timeout): a cancel or "
         "query finding nothing can no longer be overtaking it.",
         "Accepted, Rejected, the create's no-answer or never-sent, a restart",
         "send_place, a resend"),
    Fact(OrderFact.CANCEL_WANTED, "The entry wants the order gone: a cancel is due, or was "
         "refused and is counted against the cancel budget.",
         "the entry's cancel request, cancel_last"),
    Fact(OrderFact.RETRY_PENDING, "The backoff timer `retry.<client id>` is armed (one per "
         "order).", "retry_later, query_later", "void_retry, the timer firing"),
    Fact(OrderFact.CANCEL_UNREACHABLE, "Every send of the last cancel failed: the venue is "
         "down for it.", "give_up_cancel", "send_cancel"),
    Fact(OrderFact.UNSENDABLE, "Refused only because the create never left, every send retry "
         "spent.", "note_unsendable", "a resend"),
    Fact(OrderFact.LAST_CANCEL_OUT, "The last-resort cancel of an unresolved order is "
         "unanswered: the entry waits for it.", "cancel_last",
         "any answer to a cancel, ask_afresh"),
)
