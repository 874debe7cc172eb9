"""The execution planner: per leg maker or taker, and how the leg left behind is hedged.

A pure function of what the entry knows at its start (books, fee schedule, rules, its
config) and of the caller's volatility estimate; no clock, no I/O. Same inputs, same
plan. Every figure is in bp of the leg's notional against the arrival mid.

The model (deliberately small: the cost benchmark, ``fsm.bench.economics_table``, measures it):

* A leg's **taker cost** is its taker fee plus the impact of sweeping its size through
  the arrival book (``venues.depth``: half the spread and whatever depth it walks); a
  book too thin for the size within the hedge budget costs the whole budget. Its
  **maker cost** is its maker fee plus where its quote rests against the mid (the quote
  ``fsm.core.quotes`` would send; a quote inside a wide spread earns less). Their
  difference is the **gap**, what a maker fill saves.
* A quote fills as maker with probability ``p`` within ``quote_timeout_s`` (config, per
  venue); fills arrive as a Poisson process, so within ``t`` seconds with ``1 - (1 -
  p) ** (t / T)``.
* **Legging risk**: a leg filled while its sibling waits is unhedged; over ``t`` seconds
  its move has a standard deviation of ``sigma * sqrt(t)`` (Almgren and Chriss). The
  leg left behind may wait as a tight limit for at most ``tau* = (gap / (2 sigma))**2``
  (capped by the quote timeout): the two-sigma band ``2 sigma sqrt(tau*)`` never exceeds
  what a maker fill would save. A maker leg never waits longer than that.
* **Adverse selection**: a resting quote fills when the price came to it, so a maker
  fill after waiting ``t`` is charged the expected size of the move, ``sqrt(2/pi) sigma
  sqrt(t)``, paid on the other leg's hedge. This is what makes waiting dearer as
  volatility rises, until dual taker is cheapest.
* Expected cost of each alternative (sum over both legs): ``taker_taker`` both taker
  costs; ``maker_X`` / ``taker_Y``: Y at once, X waits tau* then goes taker, saving
  ``p(tau*) * (gap - charge)`` when that is positive; ``maker_maker``: the first quote to
  fill is maker (charged for the wait until a first fill), the other is hedged as above,
  and an entry where nothing fills within the timeout is counted at the dual taker cost
  (the caller still has to enter).
* ``auto`` takes the cheapest alternative; a maker plan must beat dual taker by
  ``MIN_EDGE_BP`` (below that the model's error dominates and the simpler, faster plan
  wins). ``conservative`` (the circuit breaker) forces dual taker.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from fsm.core.config import EntryConfig, PlanChoice, PlanHedge
from fsm.core.fees import FeeRates
from fsm.core.quotes import quote_leg
from fsm.core.values import EntryRequest
from venues.depth import BPS, Sweep, cost_bps, sweep
from venues.market import Book, Leg, MarketRules, Purpose

__all__ = ["MIN_EDGE_BP", "LegPlan", "Plan", "plan_entry", "planning"]

MIN_EDGE_BP = Decimal("0.25")
ADVERSE = Decimal(2 / math.pi).sqrt()  # E|N(0, 1)|: the expected size of a move
MAKER, TAKER = "maker", "taker"
_CENT = Decimal("0.01")


@attrs.frozen
class LegPlan:
    """How one leg starts and the figures that decided it (bp against the arrival mid)."""

    leg: Leg
    start: str  # "maker": a GTC quote at ``offset``; "taker": an IOC at its budget price
    offset: Decimal | None
    taker_bp: Decimal
    maker_bp: Decimal
    fill_probability: Decimal  # within the quote timeout
    hedge_wait_s: float  # tau*: how long its quote may wait as the hedge (0: market now)

    @property
    def gap_bp(self) -> Decimal:
        return self.taker_bp - self.maker_bp


@attrs.frozen
class Plan:
    """The planner's answer: per leg maker or taker, the hedge policy, and why."""

    long: LegPlan
    short: LegPlan
    hedge: PlanHedge  # MARKET or ADAPTIVE (never AUTO: that is resolved here)
    reason: str
    costs_bp: tuple[tuple[str, Decimal], ...]  # expected cost of each alternative
    volatility_bp: Decimal
    chosen_by: str  # "planner", "config" or "conservative"

    @property
    def name(self) -> str:
        return f"{self.long.start}_{self.short.start}"

    def leg(self, leg: Leg) -> LegPlan:
        return self.long if leg is Leg.LONG else self.short

    def takes(self, leg: Leg) -> bool:
        return self.leg(leg).start == TAKER

    def hedge_wait_s(self, leg: Leg) -> float:
        """How long ``leg``'s resting quote may wait as the hedge (0: hedge at market)."""
        if self.hedge is not PlanHedge.ADAPTIVE or self.takes(leg):
            return 0.0
        return self.leg(leg).hedge_wait_s

    @property
    def todays(self) -> bool:
        """Both legs quote and the hedge goes at market, as the config's default asks: the
        behaviour before the planner (results and timelines name only other plans)."""
        return (self.chosen_by == "config" and self.name == "maker_maker"
                and self.hedge is PlanHedge.MARKET)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, Decimals as strings (the result's ``plan``)."""
        return {
            "name": self.name, "hedge": self.hedge.value, "chosen_by": self.chosen_by,
            "reason": self.reason, "volatility_bp": str(self.volatility_bp),
            "costs_bp": {name: str(cost) for name, cost in self.costs_bp},
            "legs": {lp.leg.value: {
                "start": lp.start, "offset": None if lp.offset is None else str(lp.offset),
                "taker_bp": str(lp.taker_bp), "maker_bp": str(lp.maker_bp),
                "gap_bp": str(lp.gap_bp), "fill_probability": str(lp.fill_probability),
                "hedge_wait_s": self.hedge_wait_s(lp.leg)} for lp in (self.long, self.short)},
        }

    def summary(self) -> str:
        """One line for logs and timelines."""
        costs = ", ".join(f"{name} {cost}" for name, cost in self.costs_bp)
        waits = "; ".join(f"{lp.leg.value} waits {lp.hedge_wait_s:.2f} s" for lp in
                          (self.long, self.short) if self.hedge_wait_s(lp.leg) > 0)
        hedge = f"adaptive hedge ({waits})" if waits else "market hedge"
        return (f"plan {self.name}, {hedge} ({self.chosen_by}): {self.reason}; "
                f"expected bp {costs}")


@attrs.frozen
class _Leg:
    """One leg's economics, before any choice."""

    leg: Leg
    offset: Decimal
    taker: Decimal
    maker: Decimal
    p: Decimal
    rate: Decimal  # Poisson intensity of a maker fill, per second
    tau: Decimal  # tau*, seconds

    @property
    def gap(self) -> Decimal:
        return self.taker - self.maker

    def filled_within(self, seconds: Decimal) -> Decimal:
        return 1 - (-self.rate * seconds).exp()

    def hedge_saving(self, sigma: Decimal) -> Decimal:
        """What waiting tau* as the hedge saves in expectation (0: not worth it)."""
        if self.tau <= 0:
            return Decimal(0)
        saving = self.filled_within(self.tau) * (self.gap - ADVERSE * sigma * self.tau.sqrt())
        return max(saving, Decimal(0))


def _economics(leg: Leg, request: EntryRequest, config: EntryConfig, rules: MarketRules,
               book: Book, fees: FeeRates) -> _Leg:
    spec = request.leg(leg)
    quote = quote_leg(leg, request, config, rules, book)
    mid, side = book.mid, leg.side
    taken = sweep(book, side, quote.qty) if quote.qty > 0 else None
    budget = config.budget_bps(Purpose.HEDGE, spec.hedge_budget_bps)
    impact = taken.impact_bps(mid) if isinstance(taken, Sweep) else budget
    taker = fees.taker * BPS + min(impact, budget)
    maker = fees.maker * BPS + cost_bps(side, quote.price, mid)
    p = config.fill_probability(spec.venue)
    timeout = _seconds(config.quote_timeout_s)
    rate = -(1 - p).ln() / timeout if timeout > 0 else Decimal(0)
    sigma = config.plan_volatility_bp
    gap = taker - maker
    tau = min(timeout, (gap / (2 * sigma)) ** 2) if gap > 0 else Decimal(0)
    return _Leg(leg, quote.offset, taker, maker, p, rate, tau)


def _alternatives(legs: Mapping[Leg, _Leg], sigma: Decimal, timeout: Decimal,
                  adaptive: bool) -> dict[PlanChoice, Decimal]:
    """The expected cost of each plan, both legs, in bp (see the module docstring)."""
    long, short = legs[Leg.LONG], legs[Leg.SHORT]

    def hedged(leg: _Leg) -> Decimal:  # the leg left behind, once the other filled
        return leg.taker - (leg.hedge_saving(sigma) if adaptive else 0)

    dual = long.taker + short.taker
    total_rate = long.rate + short.rate
    filled = 1 - (-total_rate * timeout).exp()
    if total_rate > 0:
        wait = filled / total_rate  # E[min(first fill, timeout)]
        first = sum(((lp.rate / total_rate) * (lp.maker + ADVERSE * sigma * wait.sqrt()
                                                + hedged(legs[lp.leg.other]))
                     for lp in (long, short)), Decimal(0))
        both = filled * first + (1 - filled) * dual
    else:
        both = dual
    return {
        PlanChoice.TAKER_TAKER: dual,
        PlanChoice.MAKER_TAKER: short.taker + hedged(long),
        PlanChoice.TAKER_MAKER: long.taker + hedged(short),
        PlanChoice.MAKER_MAKER: both,
    }


_STARTS: dict[PlanChoice, tuple[str, str]] = {
    PlanChoice.MAKER_MAKER: (MAKER, MAKER), PlanChoice.MAKER_TAKER: (MAKER, TAKER),
    PlanChoice.TAKER_MAKER: (TAKER, MAKER), PlanChoice.TAKER_TAKER: (TAKER, TAKER),
}


def planning(config: EntryConfig, conservative: bool) -> bool:
    """Whether an entry needs a plan: not when the config asks for today's behaviour (both
    quote, market hedge) and no breaker asks for care. Such an entry skips the planner
    (about 70 us and a Plan per live entry), and behaves exactly as before it."""
    return (conservative or config.plan is not PlanChoice.MAKER_MAKER
            or config.plan_hedge is not PlanHedge.MARKET)


def plan_entry(
    request: EntryRequest,
    config: EntryConfig,
    rules: Mapping[Leg, MarketRules],
    books: Mapping[Leg, Book],
    fees: Mapping[Leg, FeeRates],
    *,
    conservative: bool = False,
) -> Plan:
    """The plan for this entry: forced by ``config.plan`` or chosen by expected cost.

    ``conservative`` (set by the circuit breaker) forces dual taker whatever the config.
    """
    sigma = config.plan_volatility_bp
    legs = {leg: _economics(leg, request, config, rules[leg], books[leg], fees[leg])
            for leg in (Leg.LONG, Leg.SHORT)}
    costs = _alternatives(legs, sigma, _seconds(config.quote_timeout_s),
                          adaptive=config.plan_hedge is not PlanHedge.MARKET)
    if conservative:
        choice, chosen_by = PlanChoice.TAKER_TAKER, "conservative"
        reason = "conservative mode (circuit breaker): both legs take at once"
    elif config.plan is not PlanChoice.AUTO:
        choice, chosen_by = config.plan, "config"
        reason = f"forced by config plan = {config.plan.value}"
    else:
        choice, chosen_by = _choose(costs), "planner"
        reason = _why(choice, costs, legs, sigma)
    starts = _STARTS[choice]
    pairs = tuple(zip((legs[Leg.LONG], legs[Leg.SHORT]), starts, strict=True))
    waits = {lp.leg: _wait(lp, config.plan_hedge, sigma) if start == MAKER else 0.0
             for lp, start in pairs}
    hedge = PlanHedge.ADAPTIVE if any(waits.values()) else PlanHedge.MARKET
    plans = [
        LegPlan(leg=lp.leg, start=start, offset=lp.offset if start == MAKER else None,
                taker_bp=_bp(lp.taker), maker_bp=_bp(lp.maker), fill_probability=lp.p,
                hedge_wait_s=waits[lp.leg])
        for lp, start in pairs
    ]
    return Plan(long=plans[0], short=plans[1], hedge=hedge, reason=reason,
                costs_bp=tuple((c.value, _bp(cost)) for c, cost in costs.items()),
                volatility_bp=sigma, chosen_by=chosen_by)


def _wait(leg: _Leg, hedge: PlanHedge, sigma: Decimal) -> float:
    """How long a maker leg's quote may wait as the hedge: tau* when the policy is
    adaptive, or auto and waiting saves something; 0 (market at once) otherwise."""
    if hedge is PlanHedge.MARKET or (hedge is PlanHedge.AUTO and leg.hedge_saving(sigma) <= 0):
        return 0.0
    return float(round(leg.tau, 3))


def _seconds(value: float) -> Decimal:
    return Decimal(repr(value))


def _bp(value: Decimal) -> Decimal:
    return value.quantize(_CENT)


def _choose(costs: Mapping[PlanChoice, Decimal]) -> PlanChoice:
    """The cheapest plan; a maker plan must beat dual taker by ``MIN_EDGE_BP``."""
    dual = costs[PlanChoice.TAKER_TAKER]
    best = min(costs, key=lambda choice: (costs[choice], choice is not PlanChoice.TAKER_TAKER))
    return best if costs[best] <= dual - MIN_EDGE_BP else PlanChoice.TAKER_TAKER


def _why(choice: PlanChoice, costs: Mapping[PlanChoice, Decimal], legs: Mapping[Leg, _Leg],
         sigma: Decimal) -> str:
    dual = costs[PlanChoice.TAKER_TAKER]
    if choice is PlanChoice.TAKER_TAKER:
        best = min(cost for plan, cost in costs.items() if plan is not PlanChoice.TAKER_TAKER)
        return (f"waiting saves less than {MIN_EDGE_BP} bp at {sigma} bp/sqrt(s): the best "
                f"maker plan costs {_bp(best)} bp against {_bp(dual)} bp")
    if choice is PlanChoice.MAKER_MAKER:
        return (f"both quote: {_bp(costs[choice])} bp expected against {_bp(dual)} bp "
                "for dual taker")
    maker = legs[Leg.LONG] if choice is PlanChoice.MAKER_TAKER else legs[Leg.SHORT]
    return (f"maker on {maker.leg.value} (gap {_bp(maker.gap)} bp, fill probability "
            f"{maker.p}), taker on {maker.leg.other.value}: {_bp(costs[choice])} bp "
            f"expected against {_bp(dual)} bp for dual taker")
