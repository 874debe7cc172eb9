"""A market with real randomness for a simulated venue: a mid-price path, books around it
and outside trades, seeded and reproducible.

Scripted fills answer "what does the engine do when this happens"; they cannot say how
often a maker quote fills, how long a leg stays naked or what waiting costs. That needs a
price that moves and volume that trades. This module is the market's exogenous part
only: it never looks at our orders, so two strategies run on one seed meet the same
market (common random numbers), and a run is reproducible from its seed. How our
resting orders meet the flow (their place in the queue) is ``venues.sim.queue``; the
venue drives the steps in virtual time (``venues.sim.flow``).

The path. Every random venue of a scenario follows one ``PricePath``: increments in bp
of the start mid, ``sigma * sqrt(dt) * (sqrt(rho) * Zc + sqrt(1 - rho) * Zv)`` plus
Poisson jumps, where ``Zc`` is a shared factor (drawn from a stream every venue seeds
identically, so two venues agree on it without sharing an object) and ``Zv`` the venue's
own. Two venues' increments then correlate by ``rho`` and their basis (the start mids'
difference) wanders with variance ``2 sigma^2 (1 - rho) t``. Jumps are market-wide
(shared): the move that hurts an unhedged leg hits both venues. ``walk`` is arithmetic;
``gbm`` exponentiates the same increments with the Ito correction, so the mid is a
martingale in both.

Floats: the path's arithmetic (gaussians, exponentials, exp) runs in floats, the
natural domain of that math. Each value crosses into ``Decimal`` once, as a whole
number of ticks (prices) or lots (sizes) times the market's Decimal tick or lot, so no
binary rounding reaches a book, an order or a fill. The streams are stdlib
``random.Random`` seeded from strings (hashed with SHA-512 by CPython, so the same in
every process, whatever ``PYTHONHASHSEED``).
"""

from __future__ import annotations

import enum
import math
import random
from decimal import ROUND_HALF_EVEN, Decimal
from typing import NamedTuple

import attrs

from venues.market import BookLevel, MarketRules, Side
from venues.sim.script import Liquidity

__all__ = ["SECONDS_PER_YEAR", "MarketGenerator", "PricePath", "Process", "RandomMarket",
           "Trade", "VenueFlow", "annual_to_bps"]

SECONDS_PER_YEAR = 365 * 86400  # crypto perpetuals trade around the clock


def annual_to_bps(annual: float) -> float:
    """An annualised volatility (0.5 for 50%) in bp per sqrt(second)."""
    return annual * 1e4 / math.sqrt(SECONDS_PER_YEAR)


class Process(enum.Enum):
    WALK = "walk"  # arithmetic: mid = mid0 * (1 + x / 10^4)
    GBM = "gbm"  # geometric: mid = mid0 * exp(x / 10^4 - sigma^2 t / 2)


def _must(condition: bool, what: str) -> None:
    if not condition:
        raise ValueError(what)


@attrs.frozen
class PricePath:
    """The price process every random venue of a scenario shares (its common factor)."""

    seed: int
    step_s: float
    sigma_bps: float  # per sqrt(second)
    process: Process = Process.WALK
    correlation: float = 1.0  # between two venues' increments
    jump_rate_per_s: float = 0.0
    jump_sigma_bps: float = 0.0
    horizon_s: float = 300.0  # the market stands still after this: events stay bounded

    def __attrs_post_init__(self) -> None:
        _must(self.step_s > 0, f"PricePath.step_s must be > 0, got {self.step_s}")
        _must(self.sigma_bps >= 0, f"PricePath.sigma_bps must be >= 0, got {self.sigma_bps}")
        _must(0 <= self.correlation <= 1,
              f"PricePath.correlation must be in [0, 1], got {self.correlation}")
        _must(self.jump_rate_per_s >= 0 and self.jump_sigma_bps >= 0,
              "PricePath.jump_rate_per_s and jump_sigma_bps must be >= 0")
        _must(self.horizon_s >= self.step_s,
              f"PricePath.horizon_s must be at least step_s, got {self.horizon_s}")

    @property
    def steps(self) -> int:
        """How many steps the market takes before it stands still."""
        return int(self.horizon_s / self.step_s + 1e-9)


@attrs.frozen
class VenueFlow:
    """One venue's microstructure around the path: where its mid starts (the basis is
    the difference between venues), its depth profile and its outside trades."""

    mid: Decimal
    levels: int = 20
    half_spread_ticks: Decimal = Decimal("0.5")
    level_spacing_ticks: int = 1
    level_qty: Decimal = Decimal(1)
    level_qty_growth: Decimal = Decimal(1)  # each level deeper holds this times the last
    trade_rate_per_s: float = 1.0  # Poisson arrivals of outside market orders
    trade_size_mean: Decimal = Decimal(1)  # exponential sizes, rounded to the lot
    buy_share: float = 0.5  # the chance an outside trade is a buy
    queue_power: float | None = None  # None: risk-averse queue (``venues.sim.queue``)

    def __attrs_post_init__(self) -> None:
        _must(self.mid > 0, f"VenueFlow.mid must be > 0, got {self.mid}")
        _must(self.levels >= 1, f"VenueFlow.levels must be >= 1, got {self.levels}")
        _must(self.half_spread_ticks >= 0,
              f"VenueFlow.half_spread_ticks must be >= 0, got {self.half_spread_ticks}")
        _must(self.level_spacing_ticks >= 1, "VenueFlow.level_spacing_ticks must be >= 1")
        _must(self.level_qty > 0 and self.level_qty_growth > 0 and self.trade_size_mean > 0,
              "VenueFlow.level_qty, level_qty_growth and trade_size_mean must be > 0")
        _must(self.trade_rate_per_s >= 0 and 0 <= self.buy_share <= 1,
              "VenueFlow.trade_rate_per_s must be >= 0 and buy_share in [0, 1]")
        _must(self.queue_power is None or self.queue_power > 0,
              f"VenueFlow.queue_power must be > 0, got {self.queue_power}")


@attrs.frozen
class RandomMarket:
    """A venue's random market: the shared path and the venue's own flow."""

    path: PricePath
    flow: VenueFlow

    def start_book(self, rules: MarketRules) -> Liquidity:
        """The book at time zero (no randomness yet): the venue starts from it."""
        return MarketGenerator(self, "", rules).book


class Trade(NamedTuple):
    """One outside market order during a step: ``after_s`` the step's start."""

    after_s: float
    side: Side  # the outside taker's side: a buy consumes asks (and our resting sells)
    qty: Decimal


class MarketGenerator:
    """One venue's draw of its random market, one step at a time (see the module docstring).

    The venue asks for the next step when it is due, so nothing is drawn beyond what the
    run can see. Three independent streams keep the draws of one part from shifting
    another's: the shared factor, the venue's own path and its trades.
    """

    def __init__(self, model: RandomMarket, venue: str, rules: MarketRules) -> None:
        path, flow = model.path, model.flow
        seed = path.seed
        self._common = random.Random(f"{seed}:common")
        self._own = random.Random(f"{seed}:{venue}:path")
        self._trades = random.Random(f"{seed}:{venue}:trades")
        self._path = path
        self._flow = flow
        self._tick = rules.tick
        self._lot = rules.lot
        self._tick_f = float(rules.tick)
        self._mid0 = float(flow.mid)
        self._half = float(flow.half_spread_ticks)
        self._scale = path.sigma_bps * math.sqrt(path.step_s)
        self._load = (math.sqrt(path.correlation), math.sqrt(1 - path.correlation))
        self._mean_lots = float(flow.trade_size_mean / rules.lot)
        sizes = []
        for i in range(flow.levels):
            lots = (flow.level_qty * flow.level_qty_growth ** i / rules.lot).to_integral_value(
                ROUND_HALF_EVEN)
            sizes.append(max(lots, Decimal(1)) * rules.lot)
        self._sizes = tuple(sizes)
        self._levels: dict[tuple[int, int], BookLevel] = {}  # the mid wanders: levels recur
        self.step = 0
        self.x_bps = 0.0  # the path so far, in bp of the start mid
        self.book = self._book_at(self.mid_float())

    def mid_float(self) -> float:
        """The model's mid now, before the book rounds it to the tick."""
        if self._path.process is Process.WALK:
            return self._mid0 * (1 + self.x_bps / 1e4)
        variance = (self._path.sigma_bps / 1e4) ** 2 * self.step * self._path.step_s
        return self._mid0 * math.exp(self.x_bps / 1e4 - variance / 2)

    def advance(self) -> Liquidity:
        """The next step's book: the mid moves by one increment (and any jumps)."""
        common, own = self._common, self._own
        shock = self._load[0] * common.gauss(0.0, 1.0) + self._load[1] * own.gauss(0.0, 1.0)
        jump = 0.0
        rate = self._path.jump_rate_per_s
        if rate > 0:  # jump count over the step: Poisson, from exponential gaps
            elapsed = common.expovariate(rate)
            while elapsed < self._path.step_s:
                jump += common.gauss(0.0, self._path.jump_sigma_bps)
                elapsed += common.expovariate(rate)
        self.x_bps += self._scale * shock + jump
        self.step += 1
        self.book = self._book_at(self.mid_float())
        return self.book

    def trades(self) -> list[Trade]:
        """The outside trades of the coming step, in time order (Poisson arrivals)."""
        flow, draw = self._flow, self._trades
        out: list[Trade] = []
        if flow.trade_rate_per_s <= 0:
            return out
        at = draw.expovariate(flow.trade_rate_per_s)
        while at < self._path.step_s:
            side = Side.BUY if draw.random() < flow.buy_share else Side.SELL
            lots = max(1, round(draw.expovariate(1 / self._mean_lots)))
            out.append(Trade(at, side, self._lot * lots))
            at += draw.expovariate(flow.trade_rate_per_s)
        return out

    def _book_at(self, mid: float) -> Liquidity:
        ticks = max(mid / self._tick_f, self._half + 1)  # a walk far below zero stays a book
        bid = math.floor(ticks - self._half)
        ask = math.ceil(ticks + self._half)
        if ask <= bid:
            ask = bid + 1
        spacing = self._flow.level_spacing_ticks
        bids = tuple(self._level(bid - i * spacing, i) for i in range(len(self._sizes))
                     if bid - i * spacing > 0)
        asks = tuple(self._level(ask + i * spacing, i) for i in range(len(self._sizes)))
        return Liquidity(bids, asks)

    def _level(self, ticks: int, depth: int) -> BookLevel:
        level = self._levels.get((ticks, depth))
        if level is None:
            level = self._levels[(ticks, depth)] = BookLevel(self._tick * ticks,
                                                             self._sizes[depth])
        return level
