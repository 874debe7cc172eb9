"""``atomic-entry enter --dry-run``: what the entry would send, priced from live books.

The plan is built from the same pieces the entry model uses (``fit_to_budget``,
``plan_quotes``, ``client_order_id``, the planner) so that a dry run shows the first
quotes the real run would place (a leg the plan starts as taker at its IOC price); it
only reads the venues (rules and books) and sends nothing.
"""

from __future__ import annotations

from typing import Any

from fsm.core.config import EntryConfig
from fsm.core.fees import rates_for
from fsm.core.ids import client_order_id
from fsm.core.planner import plan_entry, planning
from fsm.core.pretrade import fit_to_budget
from fsm.core.pricing import protective_price
from fsm.core.quotes import plan_quotes
from fsm.core.values import EntryRequest
from venues import protocol as base
from venues.market import Leg, Purpose


async def plan(request: EntryRequest, config: EntryConfig,
               venues: dict[str, base.Venue]) -> dict[str, Any]:
    """The first quotes of ``request``, after the pre-trade checks pass (they raise if not)."""
    rules, books = {}, {}
    for leg in (Leg.LONG, Leg.SHORT):
        spec = request.leg(leg)
        rules[leg] = await venues[spec.venue].market_rules(spec.symbol)
        books[leg] = await venues[spec.venue].book(spec.symbol)
    request = fit_to_budget(request, config, rules, books)
    entry_id = request.entry_id or "dryrun"
    out: dict[str, Any] = {"dry_run": True, "sent": 0, "checks": "passed", "legs": {}}
    if request.downsized_from is not None:
        out["downsized_from"] = str(request.downsized_from)
    plan = None
    if planning(config, conservative=False):  # the plan the entry would follow
        plan = plan_entry(request, config, rules, books, {
            leg: rates_for(request.leg(leg).venue, request.leg(leg).symbol, rules[leg],
                           config.fees) for leg in (Leg.LONG, Leg.SHORT)})
        out["plan"] = plan.as_dict()
    for leg, quote in plan_quotes(request, config, rules, books).items():
        spec = request.leg(leg)
        qty, price = quote.qty, quote.price
        if plan is not None and plan.takes(leg):  # an IOC at the hedge budget's price
            budget = config.budget_bps(Purpose.HEDGE, spec.hedge_budget_bps)
            price = protective_price(leg.side, books[leg].mid, budget, rules[leg].tick)
        out["legs"][leg.value] = {
            "venue": spec.venue, "symbol": spec.symbol, "side": leg.side.value,
            "start": "taker" if plan is not None and plan.takes(leg) else "maker",
            "qty": str(qty), "quote_price": str(price),
            "best_bid": str(books[leg].best_bid), "best_ask": str(books[leg].best_ask),
            "notional": str(qty * price), "client_id": client_order_id(
                entry_id, leg, Purpose.QUOTE, 1),
            "rules": {"lot": str(rules[leg].lot), "tick": str(rules[leg].tick),
                      "min_qty": str(rules[leg].min_qty),
                      "min_notional": str(rules[leg].min_notional)},
        }
    return out
