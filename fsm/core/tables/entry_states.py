"""The entry's states: the tree ``fsm.core.tables.entry`` moves through, with what each state means.

Kept apart from the rows so that each file reads in one sitting; the rows, triggers,
guards and effects are in ``fsm.core.tables.entry``.
"""

from __future__ import annotations

from enum import StrEnum

from fsm.core.tables.rows import State, check_tree


class EntryState(StrEnum):
    """Every state of an entry by its full dotted name (the name timelines and JSON show)."""

    NEW = "new"
    ACTIVE = "active"
    QUOTING = "active.quoting"
    WITHDRAWING = "active.withdrawing"
    FIRST_LEG_FILLED = "active.first_leg_filled"
    FIRST_LEG_CANCELLING = "active.first_leg_filled.cancelling"
    AMENDING = "active.first_leg_filled.amending"
    RECONCILING = "active.first_leg_filled.reconciling"
    HEDGING = "active.first_leg_filled.hedging"
    TRIMMING = "active.first_leg_filled.trimming"
    MAKER_QUOTING = "active.first_leg_filled.maker_quoting"
    ROLLING_BACK = "rolling_back"
    ROLLBACK_CANCELLING = "rolling_back.cancelling"
    FLATTENING = "rolling_back.flattening"
    READING_ACCOUNT = "rolling_back.reading_account"
    TRIM_READING = "active.first_leg_filled.reading_account"
    READING_BOOK = "active.first_leg_filled.reading_book"
    WAITING_FOR_BOOK = "active.first_leg_filled.waiting_for_book"
    # planner (issue 16)
    TAKING = "active.first_leg_filled.taking"
    HEDGE_WAITING = "active.first_leg_filled.hedge_waiting"
    GIVING_UP = "giving_up"
    COMPLETE = "complete"
    WITHDRAWN = "withdrawn"
    ROLLED_BACK = "rolled_back"
    STUCK = "stuck"
    UNBALANCED = "unbalanced"


ENTRY_STATES: tuple[State[EntryState], ...] = (
    State(EntryState.NEW, "Created; nothing sent yet."),
    State(
        EntryState.ACTIVE,
        "Working before any rollback: quotes, cancels or hedges may be live. Kill and "
        "venue-fatal errors are declared here once for every working state.",
        children=(
            State(EntryState.QUOTING, "Both quotes rest near the touch; no fill has reached the trigger."),
            State(
                EntryState.WITHDRAWING,
                "No trigger fill, but the quotes are being pulled (quote timeout, or a "
                "quote ended); waiting for every cancel to be confirmed.",
            ),
            State(
                EntryState.FIRST_LEG_FILLED,
                "A leg filled first. Its sibling quote is neutralised and every imbalance is "
                "hedged; the first leg may keep quoting as the maker leg.",
                children=(
                    State(
                        EntryState.FIRST_LEG_CANCELLING,
                        "Cancels sent; waiting until the venue confirms each quote terminal. "
                        "Fills may still arrive and are counted.",
                    ),
                    State(
                        EntryState.AMENDING,
                        "Amend-to-cross: the sibling quote itself was amended through the touch "
                        "for the imbalance, one atomic request; waiting for the venue's answer.",
                    ),
                    State(
                        EntryState.RECONCILING,
                        "Every quote the next step depends on is terminal: quantities are "
                        "settled from deduplicated fills and the next step is chosen.",
                    ),
                    State(EntryState.HEDGING, "A hedge order for the imbalance works on the lagging venue."),
                    State(
                        EntryState.TRIMMING,
                        "An order (reduce-only where the account leaves room for it) trims "
                        "dust the lagging venue cannot take off the leading leg.",
                    ),
                    State(EntryState.MAKER_QUOTING,
                          "Hedged within dust; the maker leg still quotes the rest of its size."),
                    State(EntryState.TRIM_READING, "Before a trim: waiting for the engine's "
                          "account view, read afresh from the venue after a reduce-only refusal."),
                    State(EntryState.READING_BOOK, "Before a hedge: the lagging venue's book is "
                          "older than max_book_age_s; waiting for it to be read again."),
                    State(EntryState.WAITING_FOR_BOOK, "The lagging venue's book holds no "
                          "tradable size within the hedge budget (thin, or drained by our own "
                          "IOC): waiting for it to refill, under refill_timeout_s in all."),
                    # -- planner (issue 16): a taker start, the adaptive hedge
                    State(EntryState.TAKING, "The plan sent the other leg as a taker "
                          "(an IOC at its budget price): it ends by itself, filled or not; "
                          "nothing to cancel, wait for it before settling."),
                    State(EntryState.HEDGE_WAITING, "Adaptive hedge: the leg left behind "
                          "keeps its quote as a tight limit for at most the plan's tau*; "
                          "then it is cancelled and the rest is hedged at market."),
                ),
            ),
        ),
    ),
    State(
        EntryState.ROLLING_BACK,
        "Flattening exactly what this entry opened, sized from its own fills.",
        children=(
            State(EntryState.ROLLBACK_CANCELLING, "Every live order of this entry is being cancelled, confirmed."),
            State(EntryState.FLATTENING, "Orders close this entry's own fills on each venue, "
                  "reduce-only where the account leaves room for it."),
            State(EntryState.READING_ACCOUNT, "Before each flatten round: waiting for the "
                  "engine's account view (what the venue holds and what every live entry "
                  "may still trade there), read afresh from the venue after a reduce-only "
                  "refusal."),
        ),
    ),
    State(
        EntryState.GIVING_UP,
        "An order's outcome could not be learned (every query its budget allows failed): "
        "every other live order is cancelled, confirmed, and nothing new is sent.",
    ),
    State(EntryState.COMPLETE, "Hedged within one lot; the size achieved is reported (it may be less "
          "than asked).", terminal=True),
    State(EntryState.WITHDRAWN, "Nothing filled; every quote was withdrawn; nothing was opened.", terminal=True),
    State(EntryState.ROLLED_BACK, "Everything this entry opened has been closed again.", terminal=True),
    State(
        EntryState.STUCK,
        "Rollback could not finish, or an order stayed unresolved; an alert names the "
        "residual on each venue and every order that may still be live.",
        terminal=True,
    ),
    State(
        EntryState.UNBALANCED,
        "Every order is terminal but the legs differ by more than one lot and nothing "
        "tradable can close the gap (below a venue's minimum on both sides, or the hedge "
        "and trim budgets spent): an alert names the residual on each venue.",
        terminal=True,
    ),
)
check_tree(ENTRY_STATES)
