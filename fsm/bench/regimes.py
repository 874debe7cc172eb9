"""The market regimes of the cost benchmark: volatility x book depth x the venues' fees.

Each regime is the shipped ``random_calm`` scenario (two venues, a shared seeded path, a
one-tick spread, 0.5 BTC a leg at 60,000) with its market parameters evolved in code,
so one file stays the single description of the venues and the regimes differ only in
what they name:

* volatility: ``calm`` 30% a year (0.53 bp per sqrt(second)), venues correlated 0.95,
  as ``random_calm``; ``normal`` 50% a year (0.89 bp/sqrt(s), the issue's BTC figure and
  the planner's default), correlated 0.9; ``volatile`` as ``random_volatile``: 120% a
  year on a geometric path with a market-wide 10 bp jump about every 10 s, correlated
  0.8, busier flow and the probabilistic queue. Jumps belong to the volatile regime, as
  in the shipped scenarios;
* depth: ``deep`` 0.5 BTC on the touch growing 1.1x a level; ``thin`` 0.1 BTC growing
  1.2x (a 0.5 BTC taker walks about four levels);
* fees: the base-tier maker/taker rates of the four venues the issue names, the long leg
  on the first venue of the pair and the short leg on the second.

The planner is told the volatility it faces: ``sigma_bps`` is the path's diffusion and
its jumps together (``sqrt(sigma^2 + rate * jump^2)``), what a caller measuring realised
volatility over recent minutes would pass as ``plan_volatility_bp``.
"""

from __future__ import annotations

import math
from decimal import Decimal

import attrs

from fsm.sim import scenario as scenarios
from fsm.sim.scenario import Scenario
from venues.sim.random_market import Process, annual_to_bps

__all__ = ["DEPTHS", "FEES", "PAIR", "VOLATILITIES", "Depth", "Regime", "Volatility",
           "regimes", "scenario"]


@attrs.frozen
class Volatility:
    annual: float  # 0.5 is 50% a year
    correlation: float
    jump_rate_per_s: float
    jump_sigma_bps: float
    process: Process
    trade_rate_per_s: Decimal
    trade_size_mean: Decimal
    queue_power: float | None  # None: the risk-averse queue

    @property
    def sigma_bps(self) -> float:
        """Diffusion and jumps together, in bp per sqrt(second)."""
        diffusion = annual_to_bps(self.annual)
        return math.sqrt(diffusion ** 2 + self.jump_rate_per_s * self.jump_sigma_bps ** 2)


@attrs.frozen
class Depth:
    level_qty: Decimal  # on the touch
    level_qty_growth: Decimal  # each level deeper holds this times the last


VOLATILITIES = {
    "calm": Volatility(0.3, 0.95, 0.0, 0.0, Process.WALK, Decimal(2), Decimal("0.4"), None),
    "normal": Volatility(0.5, 0.9, 0.0, 0.0, Process.WALK, Decimal(3), Decimal("0.35"), None),
    "volatile": Volatility(1.2, 0.8, 0.1, 10.0, Process.GBM, Decimal(4), Decimal("0.3"), 2.0),
}
DEPTHS = {
    "deep": Depth(Decimal("0.5"), Decimal("1.1")),
    "thin": Depth(Decimal("0.1"), Decimal("1.2")),
}
# Base-tier (maker, taker) fees in bp, as the issue lists them.
FEES = {
    "binanceusdm": (Decimal(2), Decimal(5)),
    "bybit": (Decimal(2), Decimal("5.5")),
    "okx": (Decimal(2), Decimal(5)),
    "hyperliquid": (Decimal("1.5"), Decimal("4.5")),
}
PAIR = ("binanceusdm", "hyperliquid")  # the pair every regime is measured on


@attrs.frozen
class Regime:
    volatility: str
    depth: str
    fees: tuple[str, str] = PAIR  # (long venue, short venue)

    @property
    def name(self) -> str:
        return f"{self.volatility}/{self.depth}"

    @property
    def pair(self) -> str:
        return "+".join(self.fees)

    @property
    def sigma_bps(self) -> Decimal:
        return Decimal(f"{VOLATILITIES[self.volatility].sigma_bps:.2f}")


def regimes() -> list[Regime]:
    """Every volatility x depth on the binanceusdm + hyperliquid pair."""
    return [Regime(v, d) for v in VOLATILITIES for d in DEPTHS]


def fee_sweep() -> list[Regime]:
    """The normal regime, deep books, on every pair of the four venues."""
    names = list(FEES)
    return [Regime("normal", "deep", (a, b)) for i, a in enumerate(names)
            for b in names[i + 1:]]


def scenario(regime: Regime) -> Scenario:
    """``random_calm`` evolved into ``regime`` (its config is left to the strategy)."""
    base = scenarios.load_builtin("random_calm")
    vol, depth = VOLATILITIES[regime.volatility], DEPTHS[regime.depth]
    venues = []
    for spec, venue_name in zip(base.venues, regime.fees, strict=True):
        model = spec.random_market
        if model is None:
            raise ValueError(f"scenario {base.name}: venue {spec.name} has no random market")
        path = attrs.evolve(
            model.path, sigma_bps=annual_to_bps(vol.annual), correlation=vol.correlation,
            jump_rate_per_s=vol.jump_rate_per_s, jump_sigma_bps=vol.jump_sigma_bps,
            process=vol.process)
        flow = attrs.evolve(
            model.flow, level_qty=depth.level_qty, level_qty_growth=depth.level_qty_growth,
            trade_rate_per_s=float(vol.trade_rate_per_s), trade_size_mean=vol.trade_size_mean,
            queue_power=vol.queue_power)
        maker, taker = FEES[venue_name]
        rules = attrs.evolve(spec.market.rules, maker_fee=maker / 10_000,
                             taker_fee=taker / 10_000)
        venues.append(attrs.evolve(
            spec, random_market=attrs.evolve(model, path=path, flow=flow),
            market=attrs.evolve(spec.market, rules=rules)))
    return attrs.evolve(base, name=f"{regime.name} {regime.pair}", venues=tuple(venues))
