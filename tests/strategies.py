"""Hypothesis strategies for random but valid simulated worlds, and a runner for them.

A world is a ``fsm.sim.scenario.Scenario`` (the same object a TOML scenario file loads
into) plus an optional kill time: random latencies, scripted maker fills (partial,
either leg, any time), duplicate and late fill reports, book moves, scripted venue
reactions (cancel answered fill-then-confirm, not-found, rejected, lost; create
rejected, partial, lost with or without reaching the venue; queries refused or
lost; any request refused as "venue unavailable"), outages of a venue's order
gateway (for a while or for good), thin books that make hedges fail, pre-existing
positions and config variations. Building on the scenario types rather than a parallel world means a
counterexample can be written down as a scenario file and shipped as a regression.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

import attrs
from hypothesis import strategies as st

from fsm.core import invariants
from fsm.core.config import EntryConfig, HedgeMode, HedgeOrder, PlanChoice, PlanHedge
from fsm.core.values import (
    EntryRequest,
    LegSpec,
)
from fsm.shell.engine import EntryEngine, Step
from fsm.sim.runner import SimulationRun, venue_filled
from fsm.sim.scenario import Scenario, VenueSpec
from venues.market import (
    Book,
    BookLevel,
    MarketRules,
    Purpose,
)
from venues.sim.venue import (
    Outage,
    Reaction,
    ReactionAction,
    ScriptedBook,
    ScriptedFill,
    SimMarket,
    SimulatedVenue,
)
from venues.sim.virtual_time import run_virtual

D = Decimal
SYMBOL = "BTC/USDT:USDT"
MID = D("60000")
TICK = D("0.5")
ENTRY_ID = "p1"
VIRTUAL_LIMIT_S = 3600.0  # an entry still running after an hour of virtual time is a bug


@attrs.frozen
class World:
    scenario: Scenario
    kill_at_s: float | None = None


@attrs.frozen
class WorldRun:
    run: SimulationRun
    venues: dict[str, SimulatedVenue]


# --------------------------------------------------------------------------- pieces

def book_at(mid_offset: int, depth: Decimal, half_spread_ticks: int = 1) -> Book:
    """A three-level book around ``MID + mid_offset`` ticks, ``depth`` per level."""
    centre = MID + mid_offset * TICK
    bid = centre - half_spread_ticks * TICK
    ask = centre + half_spread_ticks * TICK
    return Book(
        tuple(BookLevel(bid - i * 2 * TICK, depth * (i + 1)) for i in range(3)),
        tuple(BookLevel(ask + i * 2 * TICK, depth * (i + 1)) for i in range(3)),
    )


def lots(lot: Decimal, lo: int, hi: int) -> st.SearchStrategy[Decimal]:
    return st.integers(lo, hi).map(lambda n: lot * n)


millis = st.integers(0, 100).map(lambda ms: ms / 1000)
times = st.integers(0, 60).map(lambda n: n * 0.05)  # 0 .. 3 s in 50 ms steps
purposes = st.sampled_from([None, Purpose.QUOTE, Purpose.HEDGE, Purpose.ROLLBACK, Purpose.TRIM])


@st.composite
def reactions(draw: st.DrawFn, lot: Decimal, target: Decimal) -> Reaction:
    on = draw(st.sampled_from(["place", "cancel", "query", "amend"]))
    purpose = draw(purposes)
    repeat = draw(st.integers(1, 3))
    if on == "place":
        action = draw(st.sampled_from([ReactionAction.REJECT, ReactionAction.TIMEOUT,
                                       ReactionAction.PARTIAL, ReactionAction.UNAVAILABLE]))
    elif on == "cancel":
        action = draw(st.sampled_from([ReactionAction.FILL_THEN_CANCEL,
                                       ReactionAction.FILL_THEN_NOT_FOUND,
                                       ReactionAction.REJECT, ReactionAction.TIMEOUT,
                                       ReactionAction.UNAVAILABLE]))
    else:
        action = draw(st.sampled_from([ReactionAction.REJECT, ReactionAction.TIMEOUT,
                                       ReactionAction.UNAVAILABLE]))
    if action is ReactionAction.UNAVAILABLE or on == "query":
        repeat = draw(st.sampled_from([repeat, repeat, 8, 40]))  # a run of failures
    qty = None
    if action in (ReactionAction.FILL_THEN_CANCEL, ReactionAction.PARTIAL):
        qty = draw(lots(lot, 1, int(target / lot)))
    live = action is ReactionAction.TIMEOUT and draw(st.booleans())
    return Reaction(on, action, purpose, qty=qty, live=live, times=repeat)  # type: ignore[arg-type]


@st.composite
def scripted_fills(draw: st.DrawFn, lot: Decimal, target: Decimal) -> ScriptedFill:
    partial = draw(st.booleans())
    qty = draw(lots(lot, 1, int(target / lot))) if partial else None
    purpose = draw(st.sampled_from([Purpose.QUOTE] * 4 + [Purpose.HEDGE, Purpose.ROLLBACK]))
    return ScriptedFill(at_s=draw(times), purpose=purpose, qty=qty)


@st.composite
def outages(draw: st.DrawFn) -> Outage:
    """The order gateway down from some moment, for a while or (one time in three) for good."""
    start = draw(times)
    if draw(st.integers(0, 2)) == 0:
        return Outage(start)
    return Outage(start, start + draw(st.sampled_from([0.05, 0.2, 0.5, 1.5, 4.0])))


@st.composite
def venue_specs(draw: st.DrawFn, name: str, lot: Decimal, target: Decimal) -> VenueSpec:
    depth = draw(st.sampled_from([target * 4, target * 4, target, target / 4]))
    depth = max(lot, (depth / lot).to_integral_value() * lot)
    position = draw(st.sampled_from([D(0), D(0), D("2"), D("-2"), target / 2, -target / 2]))
    script: list[ScriptedFill | ScriptedBook] = list(
        draw(st.lists(scripted_fills(lot, target), max_size=4)))
    for _ in range(draw(st.integers(0, 2))):
        script.append(ScriptedBook(at_s=draw(times),
                                   book=book_at(draw(st.integers(-40, 40)), depth),
                                   pushed=draw(st.booleans())))
    rules = MarketRules(lot=lot, tick=TICK, min_qty=lot, min_notional=D(5),
                        maker_fee=D("0.0002"), taker_fee=D("0.0005"),
                        supports_amend=draw(st.booleans()))
    return VenueSpec(
        name=name,
        market=SimMarket(SYMBOL, rules, book_at(0, depth), position),
        latency_s=draw(millis),
        request_timeout_s=draw(st.sampled_from([0.1, 0.25, 0.5, 1.0])),
        duplicate_fills=draw(st.booleans()),
        stream_delay_s=draw(st.sampled_from([0.0, 0.0, 0.05, 0.2, 0.6])),
        script=tuple(script),
        reactions=tuple(draw(st.lists(reactions(lot, target), max_size=4))),
        outages=tuple(draw(st.lists(outages(), max_size=1))) if draw(st.integers(0, 2)) == 0
        else (),
    )


configs = st.builds(
    EntryConfig,
    limit_order_offset_pct=st.sampled_from([D("-0.0002"), D(0), D("0.0001"), D("0.001")]),
    quote_timeout_s=st.sampled_from([0.3, 1.0, 2.0, 5.0]),
    hedge_trigger_fill_ratio=st.sampled_from([D(0), D(0), D("0.5"), D(1)]),
    hedge_order=st.sampled_from(list(HedgeOrder)),
    hedge_mode=st.sampled_from(list(HedgeMode)),
    hedge_limit_offset_pct=st.sampled_from([D(0), D("0.0005"), D("0.002")]),
    hedge_max_slippage_pct=st.sampled_from([D("0.0001"), D("0.005")]),
    hedge_retry_budget=st.integers(0, 3),
    cancel_retry_budget=st.integers(0, 3),
    rollback_retry_budget=st.integers(0, 3),
    query_retry_budget=st.integers(1, 5),
    send_retry_budget=st.sampled_from([0, 1, 3, 5]),
    retry_backoff_s=st.sampled_from([0.01, 0.05, 0.2]),
    retry_backoff_max_s=st.sampled_from([0.2, 1.0]),
    max_book_age_s=st.sampled_from([0.1, 0.5, 2.0]),
    # the planner (issue 16): today's default most often, every forced plan, and auto
    plan=st.sampled_from([PlanChoice.MAKER_MAKER, PlanChoice.MAKER_MAKER, *PlanChoice]),
    plan_hedge=st.sampled_from([PlanHedge.MARKET, *PlanHedge]),
    plan_volatility_bp=st.sampled_from([D("0.3"), D("0.89"), D(3)]),
)


@st.composite
def worlds(draw: st.DrawFn, *, kills: bool = True) -> World:
    """A random two-venue world; the request always passes the pre-trade checks."""
    lot_a = draw(st.sampled_from([D("0.001"), D("0.01")]))
    lot_b = draw(st.sampled_from([D("0.001"), D("0.01")]))
    big = max(lot_a, lot_b)
    target = draw(st.sampled_from([D(5), D(10), D(50), D(100)])) * big
    alpha = draw(venue_specs("alpha", lot_a, target))
    beta = draw(venue_specs("beta", lot_b, target))
    long_venue, short_venue = draw(st.sampled_from([("alpha", "beta"), ("beta", "alpha")]))
    offsets = st.sampled_from([None, None, D("-0.0001"), D("0.0005")])
    request = EntryRequest(
        LegSpec(long_venue, SYMBOL, target, draw(offsets)),
        LegSpec(short_venue, SYMBOL, target, draw(offsets)),
        entry_id=ENTRY_ID,
    )
    config = draw(configs)
    scenario = Scenario(
        name="generated", description="a random world", source="hypothesis",
        venues=(alpha, beta), config=config, request=request,
        expect_final_state=None,
    )
    kill_at = draw(st.one_of(st.none(), times)) if kills and draw(st.integers(0, 4)) == 0 else None
    return World(scenario, kill_at)


# --------------------------------------------------------------------------- running

StepCheck = Callable[[Step, EntryEngine, dict[str, SimulatedVenue]], None]


def run_world(world: World, on_step: StepCheck | None = None) -> WorldRun:
    """Run ``world`` like ``fsm.sim.runner.simulate`` does, plus a kill and a step hook.

    ``on_step`` is called synchronously after every event the entry processed, before
    its commands are executed, with the engine and the venues: the moment to check
    what the entry decided against what the venues hold.
    """
    return run_virtual(_run(world, on_step))


async def _run(world: World, on_step: StepCheck | None) -> WorldRun:
    scenario = world.scenario
    venues = scenario.build_venues()
    for venue in venues.values():
        venue.start()
    engine = EntryEngine(venues, scenario.config)
    steps: list[Step] = []
    failures: list[BaseException] = []

    def listen(step: Step) -> None:
        steps.append(step)
        if on_step is not None:
            try:
                on_step(step, engine, venues)
            except BaseException as exc:  # the engine swallows listener errors; we must not
                failures.append(exc)

    engine.on_step(listen)
    if world.kill_at_s is not None:
        def kill() -> None:
            if ENTRY_ID in engine._actors:
                engine.kill(ENTRY_ID, "property test")
        asyncio.get_running_loop().call_later(world.kill_at_s, kill)
    try:
        result = await asyncio.wait_for(engine.enter(scenario.request), VIRTUAL_LIMIT_S)
    finally:
        await engine.close()
        for venue in venues.values():
            venue.close()
    if failures:
        raise failures[0]
    truth = venue_filled(venues, result)
    sent = (command for step in steps for command in step.commands)
    run = SimulationRun(scenario, result, tuple(steps), truth, tuple(invariants.check(
        result, truth, commands=sent, max_book_age_s=scenario.config.max_book_age_s)))
    return WorldRun(run, venues)


# --------------------------------------------------------------------------- writing down

def _q(value: Decimal) -> str:
    return f'"{value}"'


def _levels(levels: tuple[BookLevel, ...]) -> str:
    return "[" + ", ".join(f"[{_q(lv.price)}, {_q(lv.qty)}]" for lv in levels) + "]"


def _ms(seconds: float) -> str:
    return repr(round(seconds * 1000, 3)).removesuffix(".0")


def to_toml(world: World, name: str = "counterexample", description: str = "") -> str:
    """The world as a scenario file, so a counterexample can ship as a regression.

    A kill has no scenario key: it is written as a comment for the reader.
    """
    sc = world.scenario
    out = [f'name = "{name}"', f"description = {description!r}".replace("'", '"')]
    if world.kill_at_s is not None:
        out.append(f"# killed at {_ms(world.kill_at_s)} ms (not expressible in a scenario)")
    for v in sc.venues:
        m, r = v.market, v.market.rules
        out += ["", f"[venues.{v.name}]", f"latency_ms = {_ms(v.latency_s)}",
                f"request_timeout_ms = {_ms(v.request_timeout_s)}",
                f"duplicate_fills = {str(v.duplicate_fills).lower()}",
                f"stream_delay_ms = {_ms(v.stream_delay_s)}", "",
                f"[venues.{v.name}.market]", f'symbol = "{m.symbol}"',
                f"lot = {_q(r.lot)}", f"tick = {_q(r.tick)}", f"min_qty = {_q(r.min_qty)}",
                f"min_notional = {_q(r.min_notional)}", f"maker_fee = {_q(r.maker_fee)}",
                f"taker_fee = {_q(r.taker_fee)}",
                f"supports_amend = {str(r.supports_amend).lower()}",
                f"position = {_q(m.position)}",
                f"bids = {_levels(m.book.bids)}", f"asks = {_levels(m.book.asks)}"]
        for step in v.script:
            if isinstance(step, ScriptedFill):
                out += ["", f"[[venues.{v.name}.fills]]", f"at_ms = {_ms(step.at_s)}",
                        f'purpose = "{step.purpose.value}"']
                if step.qty is not None:
                    out.append(f"qty = {_q(step.qty)}")
                if step.price is not None:
                    out.append(f"price = {_q(step.price)}")
            else:
                out += ["", f"[[venues.{v.name}.books]]", f"at_ms = {_ms(step.at_s)}",
                        f"bids = {_levels(step.book.bids)}", f"asks = {_levels(step.book.asks)}"]
                if not step.pushed:
                    out.append("pushed = false")
        for reaction in v.reactions:
            out += ["", f"[[venues.{v.name}.reactions]]", f'on = "{reaction.on}"',
                    f'action = "{reaction.action.value}"']
            if reaction.purpose is not None:
                out.append(f'purpose = "{reaction.purpose.value}"')
            if reaction.qty is not None:
                out.append(f"qty = {_q(reaction.qty)}")
            if reaction.action is ReactionAction.TIMEOUT:
                out.append(f"live = {str(reaction.live).lower()}")
            out.append(f"times = {reaction.times}")
        for outage in v.outages:
            out += ["", f"[[venues.{v.name}.outages]]", f"from_ms = {_ms(outage.from_s)}"]
            if outage.until_s is not None:
                out.append(f"until_ms = {_ms(outage.until_s)}")
    out += ["", "[config]"]
    for field in attrs.fields(EntryConfig):
        value = getattr(sc.config, field.name)
        if value == field.default:
            continue
        if isinstance(value, Decimal):
            out.append(f"{field.name} = {_q(value)}")
        elif isinstance(value, HedgeOrder | HedgeMode | PlanChoice | PlanHedge):
            out.append(f'{field.name} = "{value.value}"')
        else:
            out.append(f"{field.name} = {value!r}")
    out += ["", "[request]", f'entry_id = "{sc.request.entry_id}"']
    for leg_name in ("long", "short"):
        leg = getattr(sc.request, leg_name)
        offset = ("" if leg.limit_price_offset_pct is None
                  else f", limit_price_offset_pct = {_q(leg.limit_price_offset_pct)}")
        out.append(f'{leg_name} = {{ venue = "{leg.venue}", symbol = "{leg.symbol}", '
                   f"qty = {_q(leg.qty)}{offset} }}")
    return "\n".join(out) + "\n"


def trace(outcome: WorldRun) -> str:
    """A readable account of a run, for a failing example's report."""
    lines = []
    for step in outcome.run.steps:
        detail = {k: v for k, v in attrs.asdict(step.event, recurse=False).items()
                  if k not in ("at", "books", "rules")}
        lines.append(f"{step.event.at * 1000:9.3f} {type(step.event).__name__} {detail} "
                     f"-> {step.state}")
        lines += [f"            {command}" for command in step.commands]
    for venue in outcome.venues.values():
        lines += [f"  {venue.name} {e.at * 1000:9.3f} {e.kind} {e.client_id} {e.detail}"
                  for e in venue.journal]
    return "\n".join(lines)
