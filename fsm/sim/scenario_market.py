"""A scenario file's random market: the price path every random venue shares
(``[random_market]``) and each venue's flow around it (``[venues.NAME.random_market]``).

The path is a top-level table, not a venue's, because the venues of one scenario trade
one asset: one seed, one volatility, one correlation between them and market-wide jumps.
What differs per venue (where its mid starts, hence the basis; its depth and its trade
flow) sits with the venue. Read as strictly as the rest of the format (``toml_table``);
the numbers are written as decimal strings like every other rate in the file and become
floats only inside the path's arithmetic (``venues.sim.random_market``).
"""

from __future__ import annotations

from decimal import Decimal

from fsm.sim.toml_table import ScenarioError, Table
from venues import checks
from venues.sim.random_market import PricePath, Process, RandomMarket, VenueFlow, annual_to_bps

__all__ = ["market_of", "path_of"]

_BPS = checks.in_range(Decimal(0), Decimal(1000))  # per sqrt(second): 1000 is 56,000%/year
_ANNUAL = checks.in_range(Decimal(0), Decimal(100))
_UNIT = checks.in_range(Decimal(0), Decimal(1))
_RATE = checks.in_range(Decimal(0), Decimal(1000))  # events per second: keeps runs bounded
_JUMP_BPS = checks.in_range(Decimal(0), Decimal(10000))
_TICKS = checks.in_range(Decimal(0), Decimal(1_000_000))
_GROWTH = checks.in_range(Decimal(0), Decimal(10), lo_open=True)
_POWER = checks.in_range(Decimal(0), Decimal(10), lo_open=True)
_MAX_LEVELS = 1000
_MAX_STEPS = 1_000_000
_MAX_SPACING = 1_000_000


def path_of(top: Table) -> PricePath | None:
    """The top-level ``[random_market]``, or None when the scenario has none."""
    if "random_market" not in top.data:
        top.read.add("random_market")
        return None
    table = top.table("random_market")
    if "seed" not in table.data:
        table.fail(table.path("seed"), "a whole number: the seed that makes the market")
    seed = table.integer("seed", 0, minimum=0)
    step_s = table.millis("step_ms", 250.0)
    if step_s < 0.001:
        table.fail(table.path("step_ms"), "at least 1 millisecond", table.data["step_ms"])
    sigma = _sigma(table)
    horizon_s = table.millis("horizon_ms", 300_000.0)
    if horizon_s < step_s:
        table.fail(table.path("horizon_ms"), f"at least step_ms ({step_s * 1000:g} ms)",
                   table.data.get("horizon_ms"))
    if horizon_s / step_s > _MAX_STEPS:
        table.fail(table.path("horizon_ms"), f"at most {_MAX_STEPS:,} steps of step_ms "
                   f"({step_s * 1000:g} ms): a bounded run", table.data.get("horizon_ms"))
    path = PricePath(
        seed=seed, step_s=step_s, sigma_bps=sigma,
        process=table.choice("process", Process, Process.WALK),
        correlation=float(table.decimal("correlation", Decimal(1), bound=_UNIT)),
        jump_rate_per_s=float(table.decimal("jump_rate_per_s", Decimal(0), bound=_RATE)),
        jump_sigma_bps=float(table.decimal("jump_sigma_bps", Decimal(0), bound=_JUMP_BPS)),
        horizon_s=horizon_s,
    )
    table.done()
    return path


def _sigma(table: Table) -> float:
    """Exactly one of ``sigma_bps`` (per sqrt(second)) and ``sigma_annual`` (0.5 is 50%)."""
    given = [key for key in ("sigma_bps", "sigma_annual") if key in table.data]
    if len(given) != 1:
        table.fail(table.path("sigma_bps"), "exactly one of sigma_bps (bp per sqrt(second), "
                   'for example "0.9") and sigma_annual (for example "0.5" for 50%)',
                   given or None)
    if given == ["sigma_bps"]:
        return float(table.decimal("sigma_bps", bound=_BPS))
    return annual_to_bps(float(table.decimal("sigma_annual", bound=_ANNUAL)))


def market_of(table: Table, path: PricePath | None) -> RandomMarket:
    """A venue's ``random_market`` table (``table`` is that table), on the shared path."""
    if path is None:
        raise ScenarioError(f"{table.source}: {table.key}: expected no random_market here "
                            "unless the scenario has a top-level [random_market] table (seed, "
                            "sigma_bps...), the path every random venue follows")
    levels = table.integer("levels", 20, minimum=1)
    if levels > _MAX_LEVELS:
        table.fail(table.path("levels"), f"at most {_MAX_LEVELS}", levels)
    spacing = table.integer("level_spacing_ticks", 1, minimum=1)
    if spacing > _MAX_SPACING:
        table.fail(table.path("level_spacing_ticks"), f"at most {_MAX_SPACING}", spacing)
    power = table.decimal("queue_power", None, bound=_POWER)
    flow = VenueFlow(
        mid=table.decimal("mid", positive=True, bound=checks.price),
        levels=levels,
        half_spread_ticks=table.decimal("half_spread_ticks", Decimal("0.5"), bound=_TICKS),
        level_spacing_ticks=spacing,
        level_qty=table.decimal("level_qty", positive=True, bound=checks.quantity),
        level_qty_growth=table.decimal("level_qty_growth", Decimal(1), bound=_GROWTH),
        trade_rate_per_s=float(table.decimal("trade_rate_per_s", Decimal(1), bound=_RATE)),
        trade_size_mean=table.decimal("trade_size_mean", positive=True, bound=checks.quantity),
        buy_share=float(table.decimal("buy_share", Decimal("0.5"), bound=_UNIT)),
        queue_power=None if power is None else float(power),
    )
    table.done()
    return RandomMarket(path, flow)
