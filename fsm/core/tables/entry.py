"""The entry table: the triggers an entry answers, its rows, and their vocabulary.

Its states (the tree the rows move through, with what each one means) are in
``fsm.core.tables.entry_states``, re-exported here.

The entry is written as a hierarchical machine: parents let one row serve a group
(``kill`` is declared once on ``active``), and a row entering a parent enters its first
child. ``fsm.core.runtime`` compiles it into the flat ``transitions`` machine that runs
it. Rows are read top to bottom; for one (state, trigger) the first row whose guards all
hold is taken, a child's rows before its parent's. ``dest=None`` is an internal transition: effects run, the state stays. Guards
and effects are methods of the same name on ``fsm.core.entry.EntryModel``.

Entry triggers:

* ``start``: begin quoting with the books just read.
* ``fill``: a new fill (deduplicated by trade id) was recorded on one of our orders.
* ``order_update``: one of our orders changed lifecycle state (fired after ``fill`` when
  one event did both, e.g. a query answer that brings fills and a new state).
* ``timeout``: the quote timer fired (retry timers are the orders' business).
* ``kill`` / ``fatal``: stop and flatten (asked for, or forced by a venue).
* ``account_read``: the engine's account view arrived (``fsm.core.entry_account``).
* ``book_read``: a book asked for arrived (or could not be read); hedges need fresh books.
* ``book_update``: a venue pushed a new book (a thin book waited on may have refilled).
* ``refill_timeout``: the refill timer fired: the time an imbalance may wait, in all, for
  a thin hedge book to refill is over.
* ``hedge_wait_over``: the adaptive hedge's timer fired (the plan's tau* is over).
* ``evaluate``: fired by the model itself after every event, in states that decide
  from the books rather than from one event, until no row applies.
"""

from __future__ import annotations

from enum import StrEnum

from fsm.core.tables.entry_states import ENTRY_STATES, EntryState
from fsm.core.tables.rows import Row

__all__ = [
    "ENTRY_INITIAL", "ENTRY_STATES", "ENTRY_TRANSITIONS", "EntryEffect", "EntryGuard", "EntryRow",
    "EntryState", "EntryTrigger",
]


class EntryTrigger(StrEnum):
    START = "start"
    KILL = "kill"
    FATAL = "fatal"
    FILL = "fill"
    ORDER_UPDATE = "order_update"
    TIMEOUT = "timeout"
    EVALUATE = "evaluate"
    ACCOUNT_READ = "account_read"
    BOOK_READ = "book_read"
    BOOK_UPDATE = "book_update"
    REFILL_TIMEOUT = "refill_timeout"
    HEDGE_WAIT_OVER = "hedge_wait_over"


class EntryGuard(StrEnum):
    """Facts an entry row may require; each is an ``EntryModel`` method of the same name."""

    A_QUOTE_ENDED = "a_quote_ended"
    AMEND_ANSWERED = "amend_answered"
    ANYTHING_FILLED = "anything_filled"
    BOOK_READ_BUDGET_LEFT = "book_read_budget_left"
    BOOK_READ_PENDING = "book_read_pending"
    CANCEL_BUDGET_SPENT = "cancel_budget_spent"
    CANCEL_IN_FLIGHT = "cancel_in_flight"
    CANCELS_SETTLED = "cancels_settled"
    DUST_TRIMMABLE = "dust_trimmable"
    EXPOSURE_BEYOND_LOT = "exposure_beyond_lot"
    EXPOSURE_FLATTENABLE = "exposure_flattenable"
    HEDGE_BLOCKED = "hedge_blocked"
    HEDGE_BOOK_STALE = "hedge_book_stale"
    HEDGE_BOOK_THIN = "hedge_book_thin"
    HEDGE_BUDGET_SPENT = "hedge_budget_spent"
    HEDGE_MAY_WAIT = "hedge_may_wait"
    HEDGE_SETTLED = "hedge_settled"
    HEDGE_UNSENDABLE = "hedge_unsendable"
    HEDGE_VENUE_QUOTE_LIVE = "hedge_venue_quote_live"
    IMBALANCE_BEYOND_LOT = "imbalance_beyond_lot"
    IMBALANCE_HEDGEABLE = "imbalance_hedgeable"
    LEAD_TRIMMABLE = "lead_trimmable"
    LEADING_QUOTE_RESTING = "leading_quote_resting"
    MAKER_STILL_QUOTING = "maker_still_quoting"
    ORDER_UNRESOLVED = "order_unresolved"
    ORDERS_SETTLED = "orders_settled"
    PART_HEDGED = "part_hedged"
    PLAN_TAKES_AT_START = "plan_takes_at_start"
    QUOTES_SETTLED = "quotes_settled"
    REDUCE_ONLY_REFUSED = "reduce_only_refused"
    REFILL_TIME_LEFT = "refill_time_left"
    RECONCILE_NEEDED = "reconcile_needed"
    ROLLBACK_BUDGET_LEFT = "rollback_budget_left"
    SIBLING_AMENDABLE = "sibling_amendable"
    SIBLING_SETTLED = "sibling_settled"
    SIBLING_TAKING = "sibling_taking"
    TRIGGER_FILL_REACHED = "trigger_fill_reached"
    TRIM_SETTLED = "trim_settled"
    WAITING_OVER = "waiting_over"


class EntryEffect(StrEnum):
    """What an entry row does; each is an ``EntryModel`` method of the same name."""

    AMEND_SIBLING_TO_CROSS = "amend_sibling_to_cross"
    CANCEL_HEDGE_VENUE_QUOTE = "cancel_hedge_venue_quote"
    CANCEL_LEADING_QUOTE = "cancel_leading_quote"
    CANCEL_LIVE_ORDERS = "cancel_live_orders"
    CANCEL_LIVE_QUOTES = "cancel_live_quotes"
    CANCEL_SIBLING_QUOTE = "cancel_sibling_quote"
    CHOOSE_FIRST_LEG = "choose_first_leg"
    PLACE_FLATTEN = "place_flatten"
    PLACE_HEDGE = "place_hedge"
    PLACE_OPENING_TAKERS = "place_opening_takers"
    PLACE_QUOTES = "place_quotes"
    PLACE_TRIM = "place_trim"
    RAISE_RESIDUAL_ALERT = "raise_residual_alert"
    READ_ACCOUNT = "read_account"
    READ_BOOK = "read_book"
    READ_POSITIONS = "read_positions"
    RAISE_UNBALANCED_ALERT = "raise_unbalanced_alert"
    START_HEDGE_TIMER = "start_hedge_timer"
    START_QUOTE_TIMER = "start_quote_timer"
    START_REFILL_WAIT = "start_refill_wait"


EntryRow = Row[EntryState, EntryTrigger, EntryGuard, EntryEffect]


ENTRY_TRANSITIONS: tuple[EntryRow, ...] = (
    # -- planner (issue 16; fsm.core.planner): a leg that starts as taker, and the adaptive
    # hedge. First: for one (state, trigger) these rows are tried before the others.
    EntryRow(EntryTrigger.START, EntryState.NEW, EntryState.QUOTING, "The plan starts a leg as taker: send it "
        "as an IOC at its budget price now, quote the maker leg(s), start the quote timer.",
        guards=(EntryGuard.PLAN_TAKES_AT_START,),
        effects=(EntryEffect.PLACE_OPENING_TAKERS, EntryEffect.PLACE_QUOTES, EntryEffect.START_QUOTE_TIMER)),
    EntryRow(EntryTrigger.FILL, EntryState.QUOTING, EntryState.TAKING, "The first fill reaching the trigger ratio while the "
        "other leg's taker IOC is still out: it ends by itself; wait for it, cancel nothing.",
        guards=(EntryGuard.TRIGGER_FILL_REACHED, EntryGuard.SIBLING_TAKING), effects=(EntryEffect.CHOOSE_FIRST_LEG,)),
    EntryRow(EntryTrigger.FILL, EntryState.QUOTING, EntryState.HEDGE_WAITING, "The first fill reaching the trigger ratio, "
        "and the plan lets the other leg's quote wait as the hedge: keep it as a tight limit "
        "for at most tau* (its legging risk stays under its fee saving).",
        guards=(EntryGuard.TRIGGER_FILL_REACHED, EntryGuard.HEDGE_MAY_WAIT),
        effects=(EntryEffect.CHOOSE_FIRST_LEG, EntryEffect.START_HEDGE_TIMER)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.TAKING, EntryState.RECONCILING, "The other leg's IOC ended: settle quantities.",
        guards=(EntryGuard.SIBLING_SETTLED,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.HEDGE_WAITING, EntryState.RECONCILING, "The tight limit ended (filled, or "
        "cancelled at the quote timeout): settle quantities.", guards=(EntryGuard.SIBLING_SETTLED,)),
    EntryRow(EntryTrigger.HEDGE_WAIT_OVER, EntryState.HEDGE_WAITING, EntryState.FIRST_LEG_CANCELLING, "tau* is over "
        "and the tight limit still rests: cancel it (confirmed), then hedge what is left at market.",
        unless=(EntryGuard.SIBLING_SETTLED,), effects=(EntryEffect.CANCEL_SIBLING_QUOTE,)),
    EntryRow(EntryTrigger.HEDGE_WAIT_OVER, EntryState.ACTIVE, None, "The hedge wait ended earlier: nothing to do."),
    EntryRow(EntryTrigger.HEDGE_WAIT_OVER, EntryState.ROLLING_BACK, None, "The hedge timer no longer matters."),
    EntryRow(EntryTrigger.HEDGE_WAIT_OVER, EntryState.GIVING_UP, None, "The hedge timer no longer matters."),
    # -- the entry's start, as it has always been
    EntryRow(EntryTrigger.START, EntryState.NEW, EntryState.QUOTING, "Quote both legs near the touch and start the quote timer.",
        effects=(EntryEffect.PLACE_QUOTES, EntryEffect.START_QUOTE_TIMER)),
    # -- declared once for every working state
    EntryRow(EntryTrigger.KILL, EntryState.ACTIVE, EntryState.ROLLING_BACK, "Stop on request: withdraw every live order, then flatten.",
        effects=(EntryEffect.CANCEL_LIVE_ORDERS,)),
    EntryRow(EntryTrigger.FATAL, EntryState.ACTIVE, EntryState.ROLLING_BACK, "A venue failed unrecoverably: withdraw everything, flatten.",
        effects=(EntryEffect.CANCEL_LIVE_ORDERS,)),
    EntryRow(EntryTrigger.FILL, EntryState.ACTIVE, None, "Count the fill; the state decides what it means in evaluate."),
    EntryRow(EntryTrigger.ACCOUNT_READ, EntryState.ACTIVE, None, "An account view nobody waits for: remembered."),
    EntryRow(EntryTrigger.BOOK_READ, EntryState.ACTIVE, None, "A book nobody waits for: remembered for the next decision."),
    EntryRow(EntryTrigger.BOOK_UPDATE, EntryState.ACTIVE, None, "A pushed book: remembered, fresh, for the next decision."),
    EntryRow(EntryTrigger.REFILL_TIMEOUT, EntryState.ACTIVE, None, "The refill time is over while no thin book is waited for: "
        "a later thin book rolls back at once."),
    EntryRow(EntryTrigger.ORDER_UPDATE, EntryState.ACTIVE, EntryState.GIVING_UP, "An order stayed unknown through every query its budget "
        "allows: stop, cancel every other live order; flatten nothing yet.",
        guards=(EntryGuard.ORDER_UNRESOLVED,), effects=(EntryEffect.CANCEL_LIVE_ORDERS,)),
    EntryRow(EntryTrigger.ORDER_UPDATE, EntryState.ACTIVE, EntryState.ROLLING_BACK, "A cancel was refused (or could not be sent) more often "
        "than its budget allows.",
        guards=(EntryGuard.CANCEL_BUDGET_SPENT,), effects=(EntryEffect.CANCEL_LIVE_ORDERS,)),
    EntryRow(EntryTrigger.ORDER_UPDATE, EntryState.ACTIVE, None, "Note the order's new lifecycle state."),
    # -- quoting
    EntryRow(EntryTrigger.FILL, EntryState.QUOTING, EntryState.AMENDING, "The first fill reaching the trigger ratio, and the sibling's venue can "
        "amend: amend the sibling quote through the touch for the imbalance (a stale book "
        "prices no amend: cancel, read, hedge instead).",
        guards=(EntryGuard.TRIGGER_FILL_REACHED, EntryGuard.SIBLING_AMENDABLE),
        unless=(EntryGuard.HEDGE_BOOK_STALE,),
        effects=(EntryEffect.CHOOSE_FIRST_LEG, EntryEffect.AMEND_SIBLING_TO_CROSS)),
    EntryRow(EntryTrigger.FILL, EntryState.QUOTING, EntryState.FIRST_LEG_FILLED, "The first fill reaching the trigger ratio: cancel the sibling quote now.",
        guards=(EntryGuard.TRIGGER_FILL_REACHED,), effects=(EntryEffect.CHOOSE_FIRST_LEG, EntryEffect.CANCEL_SIBLING_QUOTE)),
    EntryRow(EntryTrigger.ORDER_UPDATE, EntryState.QUOTING, EntryState.WITHDRAWING, "A quote ended before any trigger fill: withdraw the other.",
        guards=(EntryGuard.A_QUOTE_ENDED,), effects=(EntryEffect.CANCEL_LIVE_QUOTES,)),
    EntryRow(EntryTrigger.TIMEOUT, EntryState.QUOTING, EntryState.WITHDRAWING, "Quote timeout before any trigger fill: withdraw both quotes.",
        effects=(EntryEffect.CANCEL_LIVE_QUOTES,)),
    # -- withdrawing
    EntryRow(EntryTrigger.TIMEOUT, EntryState.WITHDRAWING, None, "Already withdrawing."),
    EntryRow(EntryTrigger.EVALUATE, EntryState.WITHDRAWING, EntryState.RECONCILING, "A fill slipped in while withdrawing: settle and hedge it.",
        guards=(EntryGuard.QUOTES_SETTLED, EntryGuard.ANYTHING_FILLED)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.WITHDRAWING, EntryState.WITHDRAWN, "Every quote is terminal and nothing filled.",
        guards=(EntryGuard.QUOTES_SETTLED,)),
    # -- first_leg_filled and its children
    EntryRow(EntryTrigger.TIMEOUT, EntryState.FIRST_LEG_FILLED, None, "Quote timeout: cancel the maker quote; its last fills get hedged.",
        effects=(EntryEffect.CANCEL_LIVE_QUOTES,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.AMENDING, EntryState.RECONCILING, "The amended quote is terminal (it crossed and filled, or it ended): "
        "settle quantities.", guards=(EntryGuard.SIBLING_SETTLED,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.AMENDING, EntryState.FIRST_LEG_CANCELLING, "The amend was refused, went unanswered or left part resting: cancel "
        "the quote, then hedge what remains.",
        guards=(EntryGuard.AMEND_ANSWERED,), effects=(EntryEffect.CANCEL_SIBLING_QUOTE,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.FIRST_LEG_CANCELLING, EntryState.HEDGING, "Every cancel is confirmed and the imbalance needs a hedge: send it at "
        "once (what reconciling would decide, one transition sooner), if its book is fresh.",
        guards=(EntryGuard.CANCELS_SETTLED, EntryGuard.IMBALANCE_HEDGEABLE),
        unless=(EntryGuard.HEDGE_BOOK_STALE, EntryGuard.HEDGE_BOOK_THIN), effects=(EntryEffect.PLACE_HEDGE,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.FIRST_LEG_CANCELLING, EntryState.RECONCILING, "Every cancel is confirmed or its order filled: settle quantities.",
        guards=(EntryGuard.CANCELS_SETTLED,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.RECONCILING, EntryState.FIRST_LEG_CANCELLING, "The imbalance needs the venue whose quote still rests: cancel it first.",
        guards=(EntryGuard.HEDGE_VENUE_QUOTE_LIVE,), effects=(EntryEffect.CANCEL_HEDGE_VENUE_QUOTE,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.RECONCILING, EntryState.READING_BOOK, "The imbalance needs a hedge but the lagging venue's book is older "
        "than max_book_age_s: read it again before pricing anything from it.", effects=(EntryEffect.READ_BOOK,),
        guards=(EntryGuard.IMBALANCE_HEDGEABLE, EntryGuard.HEDGE_BOOK_STALE, EntryGuard.BOOK_READ_BUDGET_LEFT)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.RECONCILING, EntryState.ROLLING_BACK, "The lagging venue's book could not be read through every retry the "
        "hedge budget allows: nothing can be priced there; roll back now rather than hedge blind.",
        guards=(EntryGuard.IMBALANCE_HEDGEABLE, EntryGuard.HEDGE_BOOK_STALE), effects=(EntryEffect.CANCEL_LIVE_ORDERS,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.RECONCILING, EntryState.WAITING_FOR_BOOK, "The lagging venue's book holds no tradable size within "
        "the hedge budget (thin, or what it showed was taken by our own IOC): pull the leading "
        "quote, read the book again and wait for it to refill, the refill timer running.",
        guards=(EntryGuard.IMBALANCE_HEDGEABLE, EntryGuard.HEDGE_BOOK_THIN, EntryGuard.REFILL_TIME_LEFT),
        effects=(EntryEffect.CANCEL_LEADING_QUOTE, EntryEffect.READ_BOOK, EntryEffect.START_REFILL_WAIT)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.RECONCILING, EntryState.ROLLING_BACK, "The book is thin again and the refill time is over: "
        "roll back under the wider rollback budget (safety before cost).",
        guards=(EntryGuard.IMBALANCE_HEDGEABLE, EntryGuard.HEDGE_BOOK_THIN), effects=(EntryEffect.CANCEL_LIVE_ORDERS,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.RECONCILING, EntryState.HEDGING, "Hedge the imbalance on the lagging venue, priced from its fresh book.",
        guards=(EntryGuard.IMBALANCE_HEDGEABLE,), effects=(EntryEffect.PLACE_HEDGE,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.RECONCILING, EntryState.MAKER_QUOTING, "Balanced within dust while the maker leg still quotes.",
        guards=(EntryGuard.MAKER_STILL_QUOTING,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.RECONCILING, EntryState.FIRST_LEG_CANCELLING, "A quote is still being cancelled: wait for its confirmation.",
        guards=(EntryGuard.CANCEL_IN_FLIGHT,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.RECONCILING, EntryState.TRIM_READING, "Dust the lagging venue cannot take: ask the account what the "
        "leading venue holds before trimming it off the leading leg.",
        guards=(EntryGuard.DUST_TRIMMABLE,), effects=(EntryEffect.READ_ACCOUNT,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.RECONCILING, EntryState.UNBALANCED, "Nothing more can be traded, yet the legs differ by more "
        "than one lot: not complete; alert naming the residual per venue.",
        guards=(EntryGuard.ORDERS_SETTLED, EntryGuard.IMBALANCE_BEYOND_LOT),
        effects=(EntryEffect.RAISE_UNBALANCED_ALERT,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.RECONCILING, EntryState.COMPLETE, "Nothing left to do and balanced within one lot: report the size.",
        guards=(EntryGuard.ORDERS_SETTLED,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.RECONCILING, EntryState.FIRST_LEG_CANCELLING, "An order is unexpectedly live: cancel it before completing.",
        effects=(EntryEffect.CANCEL_LIVE_ORDERS,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.HEDGING, None, "The hedge could not be sent (venue unavailable) or was refused: pull "
        "the leading leg's quote now, so the imbalance cannot grow while it cannot be hedged.",
        guards=(EntryGuard.HEDGE_BLOCKED, EntryGuard.LEADING_QUOTE_RESTING),
        effects=(EntryEffect.CANCEL_LEADING_QUOTE,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.HEDGING, EntryState.TRIM_READING, "Part of the imbalance is hedged and the hedge venue stayed "
        "unavailable through every send retry: ask the account, then shrink the leading leg, "
        "on the venue that answers, to the size hedged, and complete at the smaller size.",
        guards=(EntryGuard.HEDGE_SETTLED, EntryGuard.HEDGE_UNSENDABLE, EntryGuard.PART_HEDGED,
                EntryGuard.LEAD_TRIMMABLE), effects=(EntryEffect.READ_ACCOUNT,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.HEDGING, None, "Part hedged, the hedge venue unreachable, and the leading quote's "
        "cancel still unconfirmed: wait for it before sizing the trim.",
        guards=(EntryGuard.HEDGE_SETTLED, EntryGuard.HEDGE_UNSENDABLE, EntryGuard.PART_HEDGED,
                EntryGuard.CANCEL_IN_FLIGHT)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.HEDGING, EntryState.ROLLING_BACK, "The hedge venue stayed unavailable through every send retry: roll "
        "back on the other venue now rather than wait on with the position naked.",
        guards=(EntryGuard.HEDGE_SETTLED, EntryGuard.HEDGE_UNSENDABLE), effects=(EntryEffect.CANCEL_LIVE_ORDERS,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.HEDGING, EntryState.ROLLING_BACK, "Hedging failed and its retry budget is spent: roll back.",
        guards=(EntryGuard.HEDGE_SETTLED, EntryGuard.HEDGE_BUDGET_SPENT), effects=(EntryEffect.CANCEL_LIVE_ORDERS,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.HEDGING, EntryState.RECONCILING, "The hedge order is terminal: settle again.",
        guards=(EntryGuard.HEDGE_SETTLED,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.TRIMMING, EntryState.TRIM_READING, "A reduce-only trim was refused or clipped: read the venue's "
        "position afresh and decide again; never resend blindly.",
        guards=(EntryGuard.TRIM_SETTLED, EntryGuard.REDUCE_ONLY_REFUSED, EntryGuard.DUST_TRIMMABLE),
        effects=(EntryEffect.READ_POSITIONS,)),
    EntryRow(EntryTrigger.ACCOUNT_READ, EntryState.TRIM_READING, EntryState.TRIMMING, "Trim against the account just read: reduce-only only where the "
        "venue's position leaves room for it.",
        guards=(EntryGuard.DUST_TRIMMABLE,), effects=(EntryEffect.PLACE_TRIM,)),
    EntryRow(EntryTrigger.ACCOUNT_READ, EntryState.TRIM_READING, EntryState.RECONCILING, "Nothing to trim any more: settle again.",
        guards=(EntryGuard.ORDERS_SETTLED,)),
    EntryRow(EntryTrigger.ORDER_UPDATE, EntryState.TRIM_READING, EntryState.RECONCILING, "Every order settled again while the account was being "
        "read (after a recovery the read is lost): settle again.",
        guards=(EntryGuard.ORDERS_SETTLED,)),
    EntryRow(EntryTrigger.BOOK_READ, EntryState.READING_BOOK, EntryState.RECONCILING, "The book asked for arrived, or could not be read: decide again "
        "(a fresh book prices the hedge; a failed read reads again while the budget lasts).", unless=(EntryGuard.BOOK_READ_PENDING,)),
    EntryRow(EntryTrigger.ORDER_UPDATE, EntryState.READING_BOOK, EntryState.RECONCILING, "Every order settled again while the book was being "
        "read (after a recovery the read is lost): decide afresh.", guards=(EntryGuard.ORDERS_SETTLED,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.WAITING_FOR_BOOK, EntryState.RECONCILING, "The book refilled: a book pushed or read since "
        "holds a tradable size within the budget (measured from the mid the wait began at), or "
        "nothing needs a hedge any more: decide again.", unless=(EntryGuard.HEDGE_BOOK_THIN,)),
    EntryRow(EntryTrigger.REFILL_TIMEOUT, EntryState.WAITING_FOR_BOOK, EntryState.ROLLING_BACK, "The book did not refill within "
        "refill_timeout_s: roll back under the wider rollback budget (safety before cost).",
        guards=(EntryGuard.HEDGE_BOOK_THIN,), effects=(EntryEffect.CANCEL_LIVE_ORDERS,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.TRIMMING, EntryState.RECONCILING, "The trim order is terminal: settle again.",
        guards=(EntryGuard.TRIM_SETTLED,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.MAKER_QUOTING, EntryState.RECONCILING, "A maker fill widened the imbalance, or the maker quote ended.",
        guards=(EntryGuard.RECONCILE_NEEDED,)),
    # -- rolling back
    EntryRow(EntryTrigger.KILL, EntryState.ROLLING_BACK, None, "Already rolling back."),
    EntryRow(EntryTrigger.FATAL, EntryState.ROLLING_BACK, None, "Already rolling back."),
    EntryRow(EntryTrigger.TIMEOUT, EntryState.ROLLING_BACK, None, "The quote timer no longer matters."),
    EntryRow(EntryTrigger.FILL, EntryState.ROLLING_BACK, None, "Count the fill; flattening is sized once every order is terminal."),
    EntryRow(EntryTrigger.ORDER_UPDATE, EntryState.ROLLING_BACK, EntryState.GIVING_UP, "An order stayed unknown through every query its budget allows: "
        "stop flattening, cancel every other live order.",
        guards=(EntryGuard.ORDER_UNRESOLVED,), effects=(EntryEffect.CANCEL_LIVE_ORDERS,)),
    EntryRow(EntryTrigger.ORDER_UPDATE, EntryState.ROLLING_BACK, EntryState.STUCK, "A cancel was refused (or could not be sent) more often "
        "than its budget allows.",
        guards=(EntryGuard.CANCEL_BUDGET_SPENT,), effects=(EntryEffect.RAISE_RESIDUAL_ALERT,)),
    EntryRow(EntryTrigger.ORDER_UPDATE, EntryState.ROLLING_BACK, None, "Note the order's new lifecycle state."),
    EntryRow(EntryTrigger.BOOK_READ, EntryState.ROLLING_BACK, None, "A late book: remembered."),
    EntryRow(EntryTrigger.BOOK_UPDATE, EntryState.ROLLING_BACK, None, "A pushed book: remembered; flatten orders are priced from it."),
    EntryRow(EntryTrigger.REFILL_TIMEOUT, EntryState.ROLLING_BACK, None, "The refill timer no longer matters."),
    EntryRow(EntryTrigger.ACCOUNT_READ, EntryState.ROLLBACK_CANCELLING, None, "A late account view: remembered, the next round asks again."),
    EntryRow(EntryTrigger.ACCOUNT_READ, EntryState.FLATTENING, None, "A late account view: remembered, the next round asks again."),
    EntryRow(EntryTrigger.EVALUATE, EntryState.ROLLBACK_CANCELLING, EntryState.READING_ACCOUNT, "Every order is terminal and this entry holds a position: ask "
        "the account what the venues hold before deciding how to flatten it.",
        guards=(EntryGuard.ORDERS_SETTLED, EntryGuard.EXPOSURE_FLATTENABLE), effects=(EntryEffect.READ_ACCOUNT,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.ROLLBACK_CANCELLING, EntryState.ROLLED_BACK, "Every order is terminal and nothing is left to close.",
        guards=(EntryGuard.ORDERS_SETTLED,), unless=(EntryGuard.EXPOSURE_BEYOND_LOT,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.ROLLBACK_CANCELLING, EntryState.STUCK, "What is left cannot be traded: alert with the residuals.",
        guards=(EntryGuard.ORDERS_SETTLED,), effects=(EntryEffect.RAISE_RESIDUAL_ALERT,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.FLATTENING, EntryState.ROLLED_BACK, "Flattened to within one lot.",
        guards=(EntryGuard.ORDERS_SETTLED,), unless=(EntryGuard.EXPOSURE_BEYOND_LOT,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.FLATTENING, EntryState.READING_ACCOUNT, "A reduce-only flatten was refused or clipped: the venue's "
        "position is not what the account said. Read it afresh from the venue and decide "
        "again; never resend blindly.",
        guards=(EntryGuard.ORDERS_SETTLED, EntryGuard.EXPOSURE_FLATTENABLE, EntryGuard.ROLLBACK_BUDGET_LEFT,
                EntryGuard.REDUCE_ONLY_REFUSED), effects=(EntryEffect.READ_POSITIONS,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.FLATTENING, EntryState.READING_ACCOUNT, "A flatten order fell short: ask the account again, then send "
        "another while the budget lasts.",
        guards=(EntryGuard.ORDERS_SETTLED, EntryGuard.EXPOSURE_FLATTENABLE, EntryGuard.ROLLBACK_BUDGET_LEFT),
        effects=(EntryEffect.READ_ACCOUNT,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.FLATTENING, EntryState.STUCK, "Flattening cannot finish: alert with the residuals.",
        guards=(EntryGuard.ORDERS_SETTLED,), effects=(EntryEffect.RAISE_RESIDUAL_ALERT,)),
    EntryRow(EntryTrigger.ACCOUNT_READ, EntryState.READING_ACCOUNT, EntryState.FLATTENING, "Flatten this entry's own fills against the account just "
        "read: reduce-only only where the venue's position leaves room even if the other "
        "entries' pending orders trade first, a plain order of the same size otherwise.",
        guards=(EntryGuard.EXPOSURE_FLATTENABLE,), effects=(EntryEffect.PLACE_FLATTEN,)),
    EntryRow(EntryTrigger.ACCOUNT_READ, EntryState.READING_ACCOUNT, EntryState.ROLLBACK_CANCELLING, "Nothing tradable is left to flatten: decide the ending."),
    EntryRow(EntryTrigger.ORDER_UPDATE, EntryState.READING_ACCOUNT, EntryState.ROLLBACK_CANCELLING, "Every order settled again while the account was "
        "being read (after a recovery the read is lost): decide afresh.",
        guards=(EntryGuard.ORDERS_SETTLED,)),
    # -- giving up on an order whose outcome cannot be learned
    EntryRow(EntryTrigger.KILL, EntryState.GIVING_UP, None, "Already stopping."),
    EntryRow(EntryTrigger.FATAL, EntryState.GIVING_UP, None, "Already stopping."),
    EntryRow(EntryTrigger.TIMEOUT, EntryState.GIVING_UP, None, "The quote timer no longer matters."),
    EntryRow(EntryTrigger.FILL, EntryState.GIVING_UP, None, "Count the fill; it changes the residual reported."),
    EntryRow(EntryTrigger.ACCOUNT_READ, EntryState.GIVING_UP, None, "An account view nobody waits for: remembered."),
    EntryRow(EntryTrigger.BOOK_READ, EntryState.GIVING_UP, None, "A late book: remembered."),
    EntryRow(EntryTrigger.BOOK_UPDATE, EntryState.GIVING_UP, None, "A pushed book: remembered."),
    EntryRow(EntryTrigger.REFILL_TIMEOUT, EntryState.GIVING_UP, None, "The refill timer no longer matters."),
    EntryRow(EntryTrigger.ORDER_UPDATE, EntryState.GIVING_UP, None, "Note the order's new lifecycle state."),
    EntryRow(EntryTrigger.EVALUATE, EntryState.GIVING_UP, EntryState.ROLLING_BACK, "A late answer resolved every order after all: roll back as a kill "
        "would, sized from the fills now known.", guards=(EntryGuard.ORDERS_SETTLED,)),
    EntryRow(EntryTrigger.EVALUATE, EntryState.GIVING_UP, EntryState.STUCK, "Only unresolved orders (their last cancel answered) and orders "
        "nobody can cancel remain: alert naming each as possibly live, with the residual per "
        "venue. Nothing is flattened: an unresolved order may be a filled hedge, and closing "
        "the known fills would then open the very exposure it closed.",
        guards=(EntryGuard.WAITING_OVER,), effects=(EntryEffect.RAISE_RESIDUAL_ALERT,)),
    # -- killed before it started (while its markets were read): last, so no row moves
    EntryRow(EntryTrigger.KILL, EntryState.NEW, EntryState.WITHDRAWN, "Killed before anything was sent: "
        "nothing to withdraw, nothing opened."),
    EntryRow(EntryTrigger.BOOK_UPDATE, EntryState.NEW, None, "A pushed book before the start: remembered."),
)

ENTRY_INITIAL = EntryState.NEW
