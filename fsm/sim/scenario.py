"""Scenario files: simulated venues, their scripted behaviour, a config and a request.

A scenario is TOML (format in the README). Loading is strict: an unknown key, a float
where a decimal string belongs or a value out of range stops the load with a message
naming the file, the key and what was expected, before anything runs. Built-in
scenarios ship in ``fsm/sim/scenarios/``; each reproduces one race of the real world.
"""

from __future__ import annotations

import functools
import itertools
import tomllib
from collections.abc import Callable
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from fsm.core import ids, spec
from fsm.core.config import ConfigError, EntryConfig
from fsm.core.values import (
    EntryRequest,
    LegSpec,
)
from fsm.sim import DEFAULT_SCENARIO as DEFAULT_SCENARIO  # re-exported: the built-in default
from fsm.sim.scenario_market import market_of, path_of
from fsm.sim.toml_table import ScenarioError as ScenarioError  # raised by load, re-exported
from fsm.sim.toml_table import Table
from venues import checks
from venues.market import (
    Book,
    MarketRules,
    Purpose,
)
from venues.sim.random_market import PricePath, RandomMarket
from venues.sim.venue import (
    Outage,
    Reaction,
    ReactionAction,
    ScriptedBook,
    ScriptedFill,
    SimMarket,
    SimulatedVenue,
)


@attrs.frozen
class VenueSpec:
    name: str
    market: SimMarket
    latency_s: float
    request_timeout_s: float
    duplicate_fills: bool
    stream_delay_s: float
    script: tuple[ScriptedFill | ScriptedBook, ...]
    reactions: tuple[Reaction, ...]
    outages: tuple[Outage, ...] = ()
    post_only_quotes: bool = False
    random_market: RandomMarket | None = None

    def build(self) -> SimulatedVenue:
        return SimulatedVenue(
            self.name, [self.market], latency_s=self.latency_s,
            request_timeout_s=self.request_timeout_s, script=self.script,
            reactions=self.reactions, duplicate_fills=self.duplicate_fills,
            stream_delay_s=self.stream_delay_s, outages=self.outages,
            post_only_quotes=self.post_only_quotes, market_model=self.random_market,
        )


@attrs.frozen
class Scenario:
    name: str
    description: str
    source: str
    venues: tuple[VenueSpec, ...]
    config: EntryConfig
    request: EntryRequest
    expect_final_state: str | None
    text: str = attrs.field(default="", repr=False, eq=False)  # the TOML it was read from
    # ``[expect] refused = true``: the pre-trade checks refuse the request, nothing is sent,
    # and that is the outcome the scenario shows (``simulate`` prints it, exit 2).
    expect_refused: bool = False

    def build_venues(self) -> dict[str, SimulatedVenue]:
        """Fresh venues: a scenario can be run many times, each run from its start."""
        return {spec.name: spec.build() for spec in self.venues}


def _book(table: Table) -> Book:
    bids, asks = table.levels("bids"), table.levels("asks")
    where = f"{table.source}: {table.key}"
    if any(a.price <= b.price for a, b in itertools.pairwise(bids)):
        prices = ", ".join(str(level.price) for level in bids)
        raise ScenarioError(
            f"{where}.bids: expected prices strictly descending (best first); got {prices}")
    if any(b.price <= a.price for a, b in itertools.pairwise(asks)):
        prices = ", ".join(str(level.price) for level in asks)
        raise ScenarioError(
            f"{where}.asks: expected prices strictly ascending (best first); got {prices}")
    if bids[0].price >= asks[0].price:
        raise ScenarioError(
            f"{where}: expected the best bid below the best ask; got bid {bids[0].price}, "
            f"ask {asks[0].price}")
    return Book(bids, asks)


def _venue(name: str, table: Table, path: PricePath | None) -> VenueSpec:
    market = table.table("market")
    model = None
    if "random_market" in table.data:
        model = market_of(table.table("random_market"), path)
        for key in ("bids", "asks"):
            if key in market.data:
                market.fail(market.path(key), f"no {key}: venues.{name}.random_market generates "
                            "the book", market.data[key])
    rules = MarketRules(
        lot=market.decimal("lot", positive=True, bound=checks.quantity),
        tick=market.decimal("tick", positive=True, bound=checks.price),
        min_qty=market.decimal("min_qty", Decimal(0), minimum=Decimal(0),
                               bound=checks.quantity_or_zero),
        min_notional=market.decimal("min_notional", Decimal(0), minimum=Decimal(0),
                                    bound=checks.notional),
        maker_fee=market.decimal("maker_fee", Decimal(0), bound=checks.fee_rate),
        taker_fee=market.decimal("taker_fee", Decimal(0), bound=checks.fee_rate),
        supports_amend=market.boolean("supports_amend", False),
    )
    sim_market = SimMarket(
        symbol=market.string("symbol", non_empty=True), rules=rules,
        book=_book(market) if model is None else model.start_book(rules),
        position=market.decimal("position", Decimal(0), bound=checks.position),
    )
    market.done()
    script: list[ScriptedFill | ScriptedBook] = []
    for fill in table.tables("fills"):
        script.append(ScriptedFill(
            at_s=fill.millis("at_ms", 0.0),
            purpose=fill.choice("purpose", Purpose, Purpose.QUOTE),
            qty=fill.decimal("qty", None, positive=True, bound=checks.quantity),
            price=fill.decimal("price", None, positive=True, bound=checks.price),
        ))
        fill.done()
    # A book path is a list of timed books; a seeded random market (``random_market``)
    # moves the book instead, through the same door (``venues.sim.flow``).
    if model is not None and table.data.get("books"):
        table.fail(table.path("books"), "no scripted books: the random market moves this "
                   "venue's book", table.data["books"])
    for move in table.tables("books"):
        script.append(ScriptedBook(at_s=move.millis("at_ms", 0.0), book=_book(move),
                                   pushed=move.boolean("pushed", True)))
        move.done()
    reactions = []
    for reaction in table.tables("reactions"):
        on = reaction.string("on")
        if on not in ("place", "cancel", "query", "amend"):
            reaction.fail(reaction.path("on"), "one of 'place', 'cancel', 'query', 'amend'", on)
        reactions.append(Reaction(
            on=on,
            action=reaction.choice("action", ReactionAction),
            purpose=reaction.choice("purpose", Purpose, None),
            qty=reaction.decimal("qty", None, positive=True, bound=checks.quantity),
            live=reaction.boolean("live", False),
            times=reaction.integer("times", 1, minimum=1),
        ))
        reaction.done()
    outages = []
    for window in table.tables("outages"):
        start = window.millis("from_ms", 0.0)
        until = None
        if "until_ms" in window.data:
            until = window.millis("until_ms", 0.0)
            if until <= start:
                window.fail(window.path("until_ms"),
                            f"a time after from_ms ({start * 1000:g} ms); leave it out for "
                            "an outage that never ends", window.data["until_ms"])
        else:
            window.read.add("until_ms")
        outages.append(Outage(from_s=start, until_s=until))
        window.done()
    spec = VenueSpec(
        name=name, market=sim_market,
        latency_s=table.millis("latency_ms", 0.0),
        request_timeout_s=table.millis("request_timeout_ms", 1000.0),
        duplicate_fills=table.boolean("duplicate_fills", False),
        stream_delay_s=table.millis("stream_delay_ms", 0.0),
        post_only_quotes=table.boolean("post_only_quotes", False),
        script=tuple(script), reactions=tuple(reactions), outages=tuple(outages),
        random_market=model,
    )
    table.read.add("random_market")
    table.done()
    return spec


def _leg(table: Table) -> LegSpec:
    leg = LegSpec(
        venue=table.string("venue", non_empty=True), symbol=table.string("symbol", non_empty=True),
        qty=table.decimal("qty", positive=True, bound=checks.quantity),
        limit_price_offset_pct=table.decimal("limit_price_offset_pct", None),
        hedge_budget_bps=table.decimal("hedge_budget_bps", None, bound=checks.budget_bps),
        trim_budget_bps=table.decimal("trim_budget_bps", None, bound=checks.budget_bps),
        rollback_budget_bps=table.decimal("rollback_budget_bps", None, bound=checks.budget_bps),
    )
    table.done()
    return leg


def _guard(source: str, key: str, build: Callable[[], Any]) -> Any:
    try:
        return build()
    except ScenarioError:
        raise
    except (ConfigError, ValueError, TypeError) as exc:
        raise ScenarioError(f"{source}: {key}: {exc}") from None


def _check_fee_overrides(top: Table, config: EntryConfig, venues: list[VenueSpec]) -> None:
    """An override for a venue or symbol the scenario does not have would do nothing,
    silently: a typo'd name is refused like any other unknown key."""
    symbols = {v.name: v.market.symbol for v in venues}
    for override in config.fees:
        if override.venue not in symbols:
            top.fail(f"config.fees.{override.venue}", f"one of {', '.join(sorted(symbols))}",
                     override.venue)
        for symbol, _ in override.symbols:
            if symbol != symbols[override.venue]:
                top.fail(f"config.fees.{override.venue}.symbols",
                         f"{symbols[override.venue]!r} (the venue's market)", symbol)


def _check_fill_probabilities(top: Table, config: EntryConfig, venues: list[VenueSpec]) -> None:
    """A fill probability for a venue the scenario does not have would do nothing."""
    names = sorted(v.name for v in venues)
    for venue, _ in config.plan_fill_probability_by_venue:
        if venue not in names:
            top.fail(f"config.plan_fill_probability_by_venue.{venue}", f"one of {', '.join(names)}",
                     venue)


def _toml(text: str, source: str, what: str = "scenario") -> Any:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:  # tomllib parses nested arrays and inline tables recursively
        raise ScenarioError(f"{source}: not a {what}: arrays or tables nested too deeply; "
                            f"expected the shallow tables of a {what} file") from None


def config_of(top: Table) -> EntryConfig:
    """The ``[config]`` table (absent: the defaults); ``enter --config`` reads it here too,
    so a scenario's config and a desk's config file are one schema with one reader."""
    config_table = top.table("config", {})
    config: EntryConfig = _guard(top.source, "config",
                                 lambda: EntryConfig.from_mapping(config_table.data))
    return config


def parse(text: str, source: str, default_name: str = "scenario") -> Scenario:
    top = Table(_toml(text, source), "", source)
    path = _guard(source, "random_market", functools.partial(path_of, top))
    venues_table = top.table("venues")
    venues = []
    for name in list(venues_table.data):
        if not name.strip():
            top.fail("venues", "venue tables with non-empty names", name)
        venues.append(_guard(source, f"venues.{name}",
                             functools.partial(_venue, name, venues_table.table(name), path)))
    if len(venues) < 2:
        top.fail("venues", "at least two venue tables", list(venues_table.data))
    if path is not None and all(v.random_market is None for v in venues):
        top.fail("random_market", "a [venues.NAME.random_market] table for at least one venue "
                 "(the path alone moves nothing)", "no venue random_market")
    config = config_of(top)
    request_table = top.table("request")
    request = EntryRequest(
        long=_leg(request_table.table("long")),
        short=_leg(request_table.table("short")),
        entry_id=request_table.string("entry_id", "sim1"),
    )
    if not ids.valid_entry_id(request.entry_id):
        top.fail("request.entry_id", ids.ENTRY_ID_EXPECTED, request.entry_id)
    request_table.done()
    if request.long.venue == request.short.venue:
        top.fail("request.short.venue", "a venue other than the long leg's: a hedged entry "
                 "needs two venues", request.short.venue)
    known = {v.name for v in venues}
    for leg_name, leg in (("long", request.long), ("short", request.short)):
        if leg.venue not in known:
            top.fail(f"request.{leg_name}.venue", f"one of {', '.join(sorted(known))}", leg.venue)
        market_symbol = next(v.market.symbol for v in venues if v.name == leg.venue)
        if leg.symbol != market_symbol:
            top.fail(f"request.{leg_name}.symbol", f"{market_symbol!r} (the venue's market)",
                     leg.symbol)
    _check_fee_overrides(top, config, venues)
    _check_fill_probabilities(top, config, venues)
    expect = top.table("expect", {})
    expect_state = expect.string("final_state", None)
    finals = sorted(spec.terminal_names(spec.ENTRY_STATES))
    if expect_state is not None and expect_state not in finals:
        expect.fail("expect.final_state", f"one of {', '.join(finals)}", expect_state)
    expect_refused = expect.boolean("refused", False)
    if expect_refused and expect_state is not None:
        expect.fail("expect.refused", "no final_state beside it: a refused request never "
                    "starts an entry", True)
    expect.done()
    scenario = Scenario(
        name=top.string("name", default_name), description=top.string("description", ""),
        source=source, venues=tuple(venues), config=config, request=request,
        expect_final_state=expect_state, text=text, expect_refused=expect_refused,
    )
    top.done()
    return scenario


def load(path: str | Path) -> Scenario:
    """Load a scenario file, or a built-in scenario by name."""
    if not str(path):
        raise ScenarioError("the scenario name is empty; expected a scenario TOML file or the "
                            "name of a built-in scenario (atomic-entry simulate --list)")
    file = Path(path)
    if not file.exists() and str(path) in builtin_names():
        return load_builtin(str(path))
    text = _read(file, "a scenario TOML file", "a scenario TOML file or the name of a "
                 "built-in scenario (atomic-entry simulate --list)")
    return parse(text, str(path), file.stem)


def load_config(path: str | Path) -> EntryConfig:
    """An entry config file (``enter --config``): a ``[config]`` table exactly as in a
    scenario, and nothing else, so a scenario's block can be copied over as it is."""
    file = Path(path)
    top = Table(_toml(_read(file, "a TOML config file", "a TOML config file"), str(path),
                      "config"), "", str(path))
    config = config_of(top)
    top.done()
    return config


def _read(file: Path, what: str, missing: str) -> str:
    if file.exists() and not file.is_file():  # a FIFO would block the read for ever
        raise ScenarioError(f"{file}: not a regular file; expected {what}")
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ScenarioError(f"{file}: cannot read: {exc.strerror}; expected {missing}") from None
    except OSError as exc:
        raise ScenarioError(f"{file}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"{file}: not UTF-8 text (byte {exc.start}); expected a UTF-8 TOML file"
        ) from None


def _builtin_dir() -> Any:
    return resources.files("fsm.sim").joinpath("scenarios")


def builtin_names() -> list[str]:
    return sorted(p.name[:-5] for p in _builtin_dir().iterdir() if p.name.endswith(".toml"))


@functools.cache
def entry_names() -> tuple[str, ...]:
    """The built-in scenarios that run an entry: all but those whose outcome is the
    pre-trade refusal (``[expect] refused = true``)."""
    return tuple(name for name in builtin_names() if not load_builtin(name).expect_refused)


def builtin_text(name: str) -> str:
    """A built-in scenario's TOML, to read or to vary (benchmarks and tests do both)."""
    resource = _builtin_dir().joinpath(f"{name}.toml")
    if not resource.is_file():
        raise ScenarioError(f"no built-in scenario {name!r}; see --list")
    text: str = resource.read_text(encoding="utf-8")
    return text


def load_builtin(name: str) -> Scenario:
    return parse(builtin_text(name), f"{name}.toml (built-in)", name)


