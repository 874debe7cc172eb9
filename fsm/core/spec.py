"""The state tables of an entry and of its orders. Everything that affects transitions lives here.

Two tables, each a list of rows read top to bottom:

* ``ENTRY_STATES`` / ``ENTRY_TRANSITIONS``: the hedged entry, a hierarchical machine
  run by ``transitions``. Parents let one row serve a group (``kill`` is declared once
  on ``active``).
* ``ORDER_STATES`` / ``ORDER_TRANSITIONS``: the lifecycle of one order, including the
  late edges real venues produce (fill while pending_cancel, fill after canceled,
  cancel rejected, not found, unknown outcome).

For one (state, trigger) the first row whose guards all hold is taken; a child's rows
are tried before its parent's. ``dest=None`` is an internal transition: effects run,
the state stays. Guards and effects are named here and implemented as methods of the
same name on ``fsm.core.entry.EntryModel`` and ``fsm.core.orders.OrderRecord``; the engine, the
diagrams, the review tables and the table-driven tests are all generated from these
rows, so a row's ``meaning`` is written once and read everywhere.

Entry triggers:

* ``start``: begin quoting with the books just read.
* ``fill``: a new fill (deduplicated by trade id) was recorded on one of our orders.
* ``order_update``: one of our orders changed lifecycle state (fired after ``fill`` when
  one event did both, e.g. a query answer that brings fills and a new state).
* ``timeout``: the quote timer fired (retry timers are the orders' business).
* ``kill`` / ``fatal``: stop and flatten (asked for, or forced by a venue).
* ``evaluate``: fired by the model itself after every event, in states that decide
  from the books rather than from one event, until no row applies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import attrs


@attrs.frozen
class State:
    name: str
    meaning: str
    children: tuple[State, ...] = ()
    terminal: bool = False

    @property
    def initial(self) -> str | None:
        """Entering a parent enters its first child."""
        return self.children[0].name if self.children else None


@attrs.frozen
class Row:
    """One transition: ``source --trigger [guards]--> dest / effects``."""

    trigger: str
    source: str
    dest: str | None
    meaning: str
    guards: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """A readable id, used as the test id and in review tables."""
        dest = self.dest if self.dest is not None else "(stays)"
        conditions = [*self.guards, *(f"not {name}" for name in self.unless)]
        guard = f" [{', '.join(conditions)}]" if conditions else ""
        return f"{self.source} --{self.trigger}{guard}--> {dest}"


SEPARATOR = "."

# --------------------------------------------------------------------------- entry

ENTRY_STATES: tuple[State, ...] = (
    State("new", "Created; nothing sent yet."),
    State(
        "active",
        "Working before any rollback: quotes, cancels or hedges may be live. Kill and "
        "venue-fatal errors are declared here once for every working state.",
        children=(
            State("quoting", "Both quotes rest near the touch; no fill has reached the trigger."),
            State(
                "withdrawing",
                "No trigger fill, but the quotes are being pulled (quote timeout, or a "
                "quote ended); waiting for every cancel to be confirmed.",
            ),
            State(
                "first_leg_filled",
                "A leg filled first. Its sibling quote is neutralised and every imbalance is "
                "hedged; the first leg may keep quoting as the maker leg.",
                children=(
                    State(
                        "cancelling",
                        "Cancels sent; waiting until the venue confirms each quote terminal. "
                        "Fills may still arrive and are counted.",
                    ),
                    State(
                        "amending",
                        "Amend-to-cross: the sibling quote itself was amended through the touch "
                        "for the imbalance, one atomic request; waiting for the venue's answer.",
                    ),
                    State(
                        "reconciling",
                        "Every quote the next step depends on is terminal: quantities are "
                        "settled from deduplicated fills and the next step is chosen.",
                    ),
                    State("hedging", "A hedge order for the imbalance works on the lagging venue."),
                    State(
                        "trimming",
                        "A reduce-only order trims dust the lagging venue cannot take off the "
                        "leading leg.",
                    ),
                    State(
                        "maker_quoting",
                        "Hedged within dust; the maker leg still quotes the rest of its size.",
                    ),
                ),
            ),
        ),
    ),
    State(
        "rolling_back",
        "Flattening exactly what this entry opened, sized from its own fills.",
        children=(
            State("cancelling", "Every live order of this entry is being cancelled, confirmed."),
            State("flattening", "Reduce-only orders close this entry's own fills on each venue."),
        ),
    ),
    State(
        "giving_up",
        "An order's outcome could not be learned (every query its budget allows failed): "
        "every other live order is cancelled, confirmed, and nothing new is sent.",
    ),
    State("complete", "Hedged; the size achieved is reported (it may be less than asked).", terminal=True),
    State("withdrawn", "Nothing filled; every quote was withdrawn; nothing was opened.", terminal=True),
    State("rolled_back", "Everything this entry opened has been closed again.", terminal=True),
    State(
        "stuck",
        "Rollback could not finish, or an order stayed unresolved; an alert names the "
        "residual on each venue and every order that may still be live.",
        terminal=True,
    ),
)

_Q = "active.quoting"
_W = "active.withdrawing"
_F = "active.first_leg_filled"
_C = f"{_F}.cancelling"
_A = f"{_F}.amending"
_R = f"{_F}.reconciling"
_H = f"{_F}.hedging"
_T = f"{_F}.trimming"
_M = f"{_F}.maker_quoting"
_RB = "rolling_back"
_RBC = f"{_RB}.cancelling"
_RBF = f"{_RB}.flattening"
_G = "giving_up"

ENTRY_TRANSITIONS: tuple[Row, ...] = (
    Row("start", "new", _Q, "Quote both legs near the touch and start the quote timer.",
        effects=("place_quotes", "start_quote_timer")),
    # -- declared once for every working state
    Row("kill", "active", _RB, "Stop on request: withdraw every live order, then flatten.",
        effects=("cancel_live_orders",)),
    Row("fatal", "active", _RB, "A venue failed unrecoverably: withdraw everything, flatten.",
        effects=("cancel_live_orders",)),
    Row("fill", "active", None, "Count the fill; the state decides what it means in evaluate."),
    Row("order_update", "active", _G, "An order stayed unknown through every query its budget "
        "allows: stop, cancel every other live order; flatten nothing yet.",
        guards=("order_unresolved",), effects=("cancel_live_orders",)),
    Row("order_update", "active", _RB, "A cancel was refused (or could not be sent) more often "
        "than its budget allows.",
        guards=("cancel_budget_spent",), effects=("cancel_live_orders",)),
    Row("order_update", "active", None, "Note the order's new lifecycle state."),
    # -- quoting
    Row("fill", _Q, _A, "The first fill reaching the trigger ratio, and the sibling's venue can "
        "amend: amend the sibling quote through the touch for the imbalance.",
        guards=("trigger_fill_reached", "sibling_amendable"),
        effects=("choose_first_leg", "amend_sibling_to_cross")),
    Row("fill", _Q, _F, "The first fill reaching the trigger ratio: cancel the sibling quote now.",
        guards=("trigger_fill_reached",), effects=("choose_first_leg", "cancel_sibling_quote")),
    Row("order_update", _Q, _W, "A quote ended before any trigger fill: withdraw the other.",
        guards=("a_quote_ended",), effects=("cancel_live_quotes",)),
    Row("timeout", _Q, _W, "Quote timeout before any trigger fill: withdraw both quotes.",
        effects=("cancel_live_quotes",)),
    # -- withdrawing
    Row("timeout", _W, None, "Already withdrawing."),
    Row("evaluate", _W, _R, "A fill slipped in while withdrawing: settle and hedge it.",
        guards=("quotes_settled", "anything_filled")),
    Row("evaluate", _W, "withdrawn", "Every quote is terminal and nothing filled.",
        guards=("quotes_settled",)),
    # -- first_leg_filled and its children
    Row("timeout", _F, None, "Quote timeout: cancel the maker quote; its last fills get hedged.",
        effects=("cancel_live_quotes",)),
    Row("evaluate", _A, _R, "The amended quote is terminal (it crossed and filled, or it ended): "
        "settle quantities.", guards=("sibling_settled",)),
    Row("evaluate", _A, _C, "The amend was refused, went unanswered or left part resting: cancel "
        "the quote, then hedge what remains.",
        guards=("amend_answered",), effects=("cancel_sibling_quote",)),
    Row("evaluate", _C, _H, "Every cancel is confirmed and the imbalance needs a hedge: send it at "
        "once (what reconciling would decide, one transition sooner).",
        guards=("cancels_settled", "imbalance_hedgeable"), effects=("place_hedge",)),
    Row("evaluate", _C, _R, "Every cancel is confirmed or its order filled: settle quantities.",
        guards=("cancels_settled",)),
    Row("evaluate", _R, _C, "The imbalance needs the venue whose quote still rests: cancel it first.",
        guards=("hedge_venue_quote_live",), effects=("cancel_hedge_venue_quote",)),
    Row("evaluate", _R, _H, "Hedge the imbalance on the lagging venue.",
        guards=("imbalance_hedgeable",), effects=("place_hedge",)),
    Row("evaluate", _R, _M, "Balanced within dust while the maker leg still quotes.",
        guards=("maker_still_quoting",)),
    Row("evaluate", _R, _C, "A quote is still being cancelled: wait for its confirmation.",
        guards=("cancel_in_flight",)),
    Row("evaluate", _R, _T, "Dust the lagging venue cannot take: trim it off the leading leg.",
        guards=("dust_trimmable",), effects=("place_trim",)),
    Row("evaluate", _R, "complete", "Nothing left to do: report the size and any residual.",
        guards=("orders_settled",), effects=("report_residual",)),
    Row("evaluate", _R, _C, "An order is unexpectedly live: cancel it before completing.",
        effects=("cancel_live_orders",)),
    Row("evaluate", _H, _RB, "The hedge venue stayed unavailable through every send retry: roll "
        "back on the other venue now rather than wait on with the position naked.",
        guards=("hedge_settled", "hedge_unsendable"), effects=("cancel_live_orders",)),
    Row("evaluate", _H, _RB, "Hedging failed and its retry budget is spent: roll back.",
        guards=("hedge_settled", "hedge_budget_spent"), effects=("cancel_live_orders",)),
    Row("evaluate", _H, _R, "The hedge order is terminal: settle again.",
        guards=("hedge_settled",)),
    Row("evaluate", _T, _R, "The trim order is terminal: settle again.",
        guards=("trim_settled",)),
    Row("evaluate", _M, _R, "A maker fill widened the imbalance, or the maker quote ended.",
        guards=("reconcile_needed",)),
    # -- rolling back
    Row("kill", _RB, None, "Already rolling back."),
    Row("fatal", _RB, None, "Already rolling back."),
    Row("timeout", _RB, None, "The quote timer no longer matters."),
    Row("fill", _RB, None, "Count the fill; flattening is sized once every order is terminal."),
    Row("order_update", _RB, _G, "An order stayed unknown through every query its budget allows: "
        "stop flattening, cancel every other live order.",
        guards=("order_unresolved",), effects=("cancel_live_orders",)),
    Row("order_update", _RB, "stuck", "A cancel was refused (or could not be sent) more often "
        "than its budget allows.",
        guards=("cancel_budget_spent",), effects=("raise_residual_alert",)),
    Row("order_update", _RB, None, "Note the order's new lifecycle state."),
    Row("evaluate", _RBC, _RBF, "Every order is terminal and this entry holds a position: flatten it.",
        guards=("orders_settled", "exposure_flattenable"), effects=("place_flatten",)),
    Row("evaluate", _RBC, "rolled_back", "Every order is terminal and nothing is left to close.",
        guards=("orders_settled",), unless=("exposure_beyond_lot",)),
    Row("evaluate", _RBC, "stuck", "What is left cannot be traded: alert with the residuals.",
        guards=("orders_settled",), effects=("raise_residual_alert",)),
    Row("evaluate", _RBF, "rolled_back", "Flattened to within one lot.",
        guards=("orders_settled",), unless=("exposure_beyond_lot",)),
    Row("evaluate", _RBF, _RBF, "A flatten order fell short: send another while the budget lasts.",
        guards=("orders_settled", "exposure_flattenable", "rollback_budget_left"),
        effects=("place_flatten",)),
    Row("evaluate", _RBF, "stuck", "Flattening cannot finish: alert with the residuals.",
        guards=("orders_settled",), effects=("raise_residual_alert",)),
    # -- giving up on an order whose outcome cannot be learned
    Row("kill", _G, None, "Already stopping."),
    Row("fatal", _G, None, "Already stopping."),
    Row("timeout", _G, None, "The quote timer no longer matters."),
    Row("fill", _G, None, "Count the fill; it changes the residual reported."),
    Row("order_update", _G, None, "Note the order's new lifecycle state."),
    Row("evaluate", _G, _RB, "A late answer resolved every order after all: roll back as a kill "
        "would, sized from the fills now known.", guards=("orders_settled",)),
    Row("evaluate", _G, "stuck", "Only unresolved orders (their last cancel answered) and orders "
        "nobody can cancel remain: alert naming each as possibly live, with the residual per "
        "venue. Nothing is flattened: an unresolved order may be a filled hedge, and closing "
        "the known fills would then open the very exposure it closed.",
        guards=("waiting_over",), effects=("raise_residual_alert",)),
)

ENTRY_INITIAL = "new"

# --------------------------------------------------------------------------- orders

ORDER_STATES: tuple[State, ...] = (
    State("pending_new", "Sent; no answer yet."),
    State("open", "Resting on the venue, nothing filled."),
    State("partially_filled", "Resting on the venue, part filled."),
    State("pending_cancel", "Cancel sent; the order can still fill until the venue confirms."),
    State("unknown", "A request got no answer: only a query by client order id can tell."),
    State("unsent", "The venue was unavailable: the create definitely did not leave; it is sent "
          "again, same client order id, after a backoff."),
    State("unresolved", "Every query the budget allows failed: it may rest, may have filled, or "
          "may never have arrived. A last cancel was sent; the entry stops waiting for it."),
    State("filled", "Filled completely.", terminal=True),
    State("canceled", "Venue-confirmed cancelled; a late report may still add fills.", terminal=True),
    State("rejected", "Definitely refused; nothing rests, nothing filled.", terminal=True),
)

ORDER_INITIAL = "pending_new"

_LIVE = ("pending_new", "open", "partially_filled")
_ASKING = ("unknown", "unresolved")
_NOT_FILLED = ("pending_new", "open", "partially_filled", "pending_cancel", *_ASKING, "unsent",
               "canceled")
_KNOWN = ("open", "partially_filled", "filled", "canceled", "rejected")

ORDER_TRANSITIONS: tuple[Row, ...] = (
    Row("accept", "pending_new", "open", "The venue acknowledged the order."),
    *(Row("accept", s, "pending_cancel", "Found live, and it is to go: cancel it (a cancel "
          "whose answer was lost counts against the cancel budget, or this never ends).",
          guards=("cancel_wanted", "cancel_budget_left"), effects=("send_cancel",))
      for s in _ASKING),
    *(Row("accept", s, "partially_filled", "Found live with fills.", guards=("has_fills",))
      for s in _ASKING),
    *(Row("accept", s, "open", "Found live.") for s in _ASKING),
    Row("accept", "unsent", "open", "A copy sent before under the same client id arrived after "
        "all: the pending retry is dropped."),
    *(Row("accept", s, None, "A duplicate or late acknowledgement.")
      for s in ("open", "partially_filled", "pending_cancel", "filled", "canceled")),
    Row("accept", "rejected", "unknown", "Acknowledged after a refusal: contradicting answers, ask.",
        effects=("query_order",)),
    Row("resend", "rejected", "pending_new",
        "It never reached the venue as far as a query can tell: send the same intent again "
        "under the same client id, so a late copy is refused as a duplicate.",
        guards=("lost_in_flight",)),
    Row("reject", "pending_new", "rejected", "The venue refused it."),
    Row("reject", "pending_cancel", "rejected", "Refused while a cancel was already on its way."),
    *(Row("reject", s, "rejected", "Found refused.") for s in (*_ASKING, "unsent")),
    *(Row("reject", s, None, "A late or duplicate refusal of an order whose outcome is known.")
      for s in ("open", "partially_filled", "filled", "canceled", "rejected")),
    *(Row("fill", s, "filled", "This fill completes the order.", guards=("is_complete",))
      for s in (*_NOT_FILLED, "rejected")),
    *(Row("fill", s, "partially_filled", "Part filled.") for s in (*_LIVE, "unsent")),
    Row("fill", "pending_cancel", None, "Fill while the cancel is in flight: counted, still cancelling."),
    *(Row("fill", s, None, "Fill while the outcome is unknown: counted; it may still rest.")
      for s in _ASKING),
    Row("fill", "canceled", None, "Fill reported after the cancel (late report): counted."),
    Row("fill", "rejected", "unknown", "A fill for an order believed refused: ask the venue.",
        effects=("query_order",)),
    Row("fill", "filled", None, "A late detail of a fill already counted in the cumulative."),
    *(Row("request_amend", s, None, "Amend price and size in place; the order stays live.",
          effects=("send_amend",)) for s in ("open", "partially_filled")),
    *(Row("request_cancel", s, "pending_cancel", "Ask the venue to cancel.",
          effects=("send_cancel",)) for s in _LIVE),
    Row("request_cancel", "unsent", "rejected", "Never sent: drop the pending retry; nothing "
        "rests, nothing filled."),
    *(Row("request_cancel", s, None, "Already going, or its outcome is being asked for.")
      for s in ("pending_cancel", *_ASKING, "filled", "canceled", "rejected")),
    *(Row("cancel_confirm", s, "filled", "Terminal at the venue with its full size filled.",
          guards=("is_complete",))
      for s in (*_LIVE, "pending_cancel", *_ASKING, "unsent")),
    *(Row("cancel_confirm", s, "canceled", "The venue confirmed the order is done.")
      for s in (*_LIVE, "pending_cancel", *_ASKING, "unsent")),
    *(Row("cancel_confirm", s, None, "A duplicate confirmation.")
      for s in ("canceled", "filled", "rejected")),
    Row("cancel_reject", "pending_cancel", None, "Cancel refused: the order is live, ask again.",
        guards=("cancel_budget_left",), effects=("send_cancel",)),
    Row("cancel_reject", "pending_cancel", "partially_filled", "Cancel refused: still live, part filled.",
        guards=("has_fills",)),
    Row("cancel_reject", "pending_cancel", "open", "Cancel refused: still live."),
    *(Row("cancel_reject", s, None, "A late refusal: the order's state is already known, or "
          "cannot be learned from it.")
      for s in ("pending_new", "open", "partially_filled", *_ASKING, "unsent", "filled",
                "canceled", "rejected")),
    Row("not_found", "pending_cancel", "unknown", "Cancel found nothing: filled or never placed? Ask.",
        effects=("query_order",)),
    Row("not_found", "unknown", None, "A cancel found nothing while the order's outcome is asked: "
        "filled and gone, or never placed? Only the query's answer can tell.",
        guards=("answers_cancel",)),
    Row("not_found", "unknown", None, "Nothing found while the create is still on its way (requests "
        "can overtake each other): wait for its answer or its timeout, then ask again.",
        guards=("create_in_flight",)),
    Row("not_found", "unknown", "rejected", "A query found nothing: the order never reached the venue.",
        unless=("was_acknowledged",)),
    Row("not_found", "unknown", None, "The venue forgot an order it had: ask again after a backoff, "
        "while the query budget lasts.",
        guards=("query_budget_left",), effects=("query_later",)),
    Row("not_found", "unknown", "unresolved", "Still unknown after every query: send a last "
        "cancel (harmless if nothing rests) and let the entry give up on it.",
        effects=("cancel_last",)),
    *(Row("not_found", s, "unknown", "The venue does not know an order we think live: ask.",
          effects=("query_order",)) for s in _LIVE),
    *(Row("not_found", s, None, "The venue forgot a finished order.")
      for s in ("filled", "canceled", "rejected")),
    Row("not_found", "unsent", None, "Nothing there, as expected of a create that never left."),
    Row("not_found", "unresolved", None, "Filled and purged, or never placed: still unresolved."),
    Row("unknown", "pending_new", "unknown", "The create got no answer: ask by client order id.",
        effects=("query_order",)),
    Row("unknown", "pending_cancel", "unknown", "The cancel got no answer: ask by client order id.",
        effects=("query_order",)),
    Row("unknown", "unknown", None, "The query got no answer: ask again after a backoff, while the "
        "query budget lasts.",
        guards=("query_budget_left",), effects=("query_later",)),
    Row("unknown", "unknown", "unresolved", "Still unknown after every query: send a last cancel "
        "(harmless if nothing rests) and let the entry give up on it.",
        effects=("cancel_last",)),
    *(Row("unknown", s, None, "A late timeout on an order whose outcome is known, or cannot be "
          "learned from it.")
      for s in (*_KNOWN, "unsent", "unresolved")),
    Row("place_unsent", "pending_new", "unsent", "The create never left (venue unavailable): send "
        "it again after a backoff, same client id, while the send budget lasts.",
        guards=("send_budget_left",), effects=("retry_later",)),
    Row("place_unsent", "pending_new", "rejected", "The create never left and every send retry is "
        "spent: the intent fails like a refusal, marked unsendable.",
        effects=("note_unsendable",)),
    Row("place_unsent", "pending_cancel", "rejected", "The create never left and a cancel is "
        "wanted: nothing rests; no retry."),
    Row("place_unsent", "unknown", "rejected", "The create never left: nothing can rest (the "
        "query or cancel in flight will find nothing).", unless=("was_acknowledged",)),
    *(Row("place_unsent", s, None, "A late or contradicting answer to a create.")
      for s in ("unknown", *_KNOWN, "unsent", "unresolved")),
    Row("cancel_unsent", "pending_cancel", None, "The cancel never left (venue unavailable): send "
        "it again after a backoff, while the send budget lasts.",
        guards=("send_budget_left",), effects=("retry_later",)),
    Row("cancel_unsent", "pending_cancel", "partially_filled", "The cancel never left and every "
        "send retry is spent: still live, part filled; the entry gives up on cancelling it.",
        guards=("has_fills",), effects=("give_up_cancel",)),
    Row("cancel_unsent", "pending_cancel", "open", "The cancel never left and every send retry is "
        "spent: still live; the entry gives up on cancelling it.",
        effects=("give_up_cancel",)),
    *(Row("cancel_unsent", s, None, "A cancel that never left changes nothing here (an unknown "
          "order's query decides).")
      for s in ("pending_new", *_ASKING, *_KNOWN, "unsent")),
    Row("query_unsent", "unknown", None, "The query never left: ask again after a backoff, while the "
        "query budget lasts.",
        guards=("query_budget_left",), effects=("query_later",)),
    Row("query_unsent", "unknown", "unresolved", "Still unknown after every query: send a last "
        "cancel (harmless if nothing rests) and let the entry give up on it.",
        effects=("cancel_last",)),
    *(Row("query_unsent", s, None, "A query that never left, for an order whose state is known "
          "(or cannot be learned).")
      for s in ("pending_new", "pending_cancel", *_KNOWN, "unsent", "unresolved")),
    Row("retry_due", "unsent", "pending_new", "Backoff over: send the create again, same client id.",
        effects=("send_place",)),
    Row("retry_due", "pending_cancel", None, "Backoff over: send the cancel again.",
        effects=("send_cancel_again",)),
    Row("retry_due", "unknown", None, "Backoff over: ask again by client order id.",
        effects=("query_order",)),
    *(Row("retry_due", s, None, "No retry is due in this state any more.")
      for s in ("pending_new", "unresolved", *_KNOWN)),
    # -- restart: the process died and ``recover`` rebuilt the entry from its journal.
    # Every answer and report addressed to the dead process is lost, so every order not
    # known finished is asked about afresh, as after any lost answer.
    *(Row("restart", s, "unknown", "Restarted: the answers and reports addressed to the dead "
          "process are lost; ask by client order id.", effects=("query_order",))
      for s in (*_LIVE, "pending_cancel")),
    *(Row("restart", s, "unknown", "Restarted while asking: ask again, with a fresh query "
          "budget (a last cancel's answer is lost too).", effects=("ask_afresh",))
      for s in _ASKING),
    Row("restart", "unsent", None, "Restarted: the create never left; its backoff timer "
        "fires at once and sends it, same client id."),
    *(Row("restart", s, None, "Restarted: ask once more, to count fills reported while "
          "nobody listened.", effects=("query_order",))
      for s in ("filled", "canceled", "rejected")),
)


# --------------------------------------------------------------------------- helpers

def walk(states: tuple[State, ...], prefix: str = "") -> list[tuple[str, State]]:
    """Every state with its full dotted name, parents before children."""
    out: list[tuple[str, State]] = []
    for state in states:
        name = f"{prefix}{state.name}"
        out.append((name, state))
        out.extend(walk(state.children, f"{name}{SEPARATOR}"))
    return out


def initial_leaf(states: tuple[State, ...], name: str) -> str:
    """The leaf actually entered when a transition targets ``name`` (parents enter their first child)."""
    by_name = dict(walk(states))
    while by_name[name].children:
        name = f"{name}{SEPARATOR}{by_name[name].initial}"
    return name


def leaf_names(states: tuple[State, ...]) -> list[str]:
    return [name for name, state in walk(states) if not state.children]


def terminal_names(states: tuple[State, ...]) -> frozenset[str]:
    return frozenset(name for name, state in walk(states) if state.terminal)


def ancestors(name: str) -> list[str]:
    """``a.b.c`` -> ``["a.b.c", "a.b", "a"]``: the order in which rows are tried."""
    parts = name.split(SEPARATOR)
    return [SEPARATOR.join(parts[:i]) for i in range(len(parts), 0, -1)]


def rows_for(rows: tuple[Row, ...], state: str, trigger: str) -> list[Row]:
    """The rows that may fire for ``trigger`` in ``state``, in the order they are tried."""
    return [
        row
        for scope in ancestors(state)
        for row in rows
        if row.source == scope and row.trigger == trigger
    ]


def first_enabled(rows: Iterable[Row], holds: Callable[[str], bool]) -> Row | None:
    """The row taken: the first whose guards all hold and none of whose ``unless`` do."""
    for row in rows:
        if all(holds(g) for g in row.guards) and not any(holds(u) for u in row.unless):
            return row
    return None


def triggers(rows: tuple[Row, ...]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.setdefault(row.trigger, None)
    return list(seen)
