"""The circuit breakers in a running engine, on simulated venues and virtual time.

Entries run one after another on one engine, every two seconds: alpha's quote is filled
0.2 s into each slot and the hedge goes to beta, a slow venue (75 ms each way),
completing about 300 ms later. With ``slow_hedge_s`` at 50 ms every hedge is slow, so
the issue's goals read directly: after three, the next entry runs conservative (half the
size, flagged, both legs sent as takers by the planner: beta's IOC still fills about
100 ms after alpha's, slow too); after five, beta halts and the next entry is refused,
nothing sent. The journal keeps a halt across a restart,
``atomic-entry breaker`` shows and resets it.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from fsm.cli.exits import Exit
from fsm.cli.main import main
from fsm.core.breaker import GLOBAL, BreakerConfig
from fsm.core.config import EntryConfig
from fsm.core.pretrade import RequestError
from fsm.core.result import EntryResult
from fsm.core.tables.breaker import BreakerState
from fsm.shell.breakers import BreakerHalted, EngineBreakers
from fsm.shell.engine import EntryEngine
from fsm.shell.journal import Journal
from fsm.sim import breaker_stories
from tests.simkit import BOOK, RULES, request, venue
from venues.market import Leg
from venues.sim.venue import ScriptedFill
from venues.sim.virtual_time import run_virtual

SLOT_S = 2.0
SLOW = BreakerConfig(slow_hedge_s=0.05, quiet_s=30.0)
Outcome = EntryResult | BreakerHalted


async def _sequence(count: int, journal: Journal | None = None, *, gap_after: int | None = None,
                    config: BreakerConfig = SLOW, reset_after: int | None = None,
                    prefix: str = "e") -> tuple[list[Outcome], EntryEngine]:
    """``count`` entries, one per slot (a long pause before slot ``gap_after``)."""
    pause = {gap_after: 60.0} if gap_after is not None else {}
    starts, at = [], 0.0
    for i in range(count):
        at += pause.get(i, 0.0)
        starts.append(at)
        at += SLOT_S
    alpha = venue("alpha", script=[ScriptedFill(at_s=s + 0.2) for s in starts])
    beta = venue("beta", latency_s=0.075)
    for v in (alpha, beta):
        v.start()
    engine = EntryEngine({"alpha": alpha, "beta": beta}, EntryConfig(quote_timeout_s=1.5),
                         journal=journal, breaker=config)
    loop = asyncio.get_running_loop()
    outcomes: list[Outcome] = []
    try:
        for i, start in enumerate(starts):
            await asyncio.sleep(start - loop.time())
            if reset_after is not None and i == reset_after:
                engine.reset_breaker("all")
            try:
                outcomes.append(await engine.enter(request("0.5", f"{prefix}{i}")))
            except BreakerHalted as exc:
                outcomes.append(exc)
    finally:
        await engine.close()
        for v in (alpha, beta):
            v.close()
    return outcomes, engine


def _summary(outcomes: list[Outcome]) -> list[str]:
    out = []
    for o in outcomes:
        if isinstance(o, BreakerHalted):
            out.append(f"refused:{o.verdict.scope}")
        else:
            out.append(f"{o.final_state}:{o.legs['long'].target}"
                       + (":conservative" if o.conservative else ""))
    return out


def test_three_slow_hedges_make_the_next_entry_conservative_five_halt_beta() -> None:
    outcomes, engine = run_virtual(_sequence(7))
    assert _summary(outcomes) == [
        "complete:0.5", "complete:0.5", "complete:0.5",
        "complete:0.25:conservative", "complete:0.25:conservative",
        "refused:beta", "refused:beta"]
    halted = outcomes[5]
    assert isinstance(halted, BreakerHalted)
    assert "entry e4: hedge completed in" in str(halted)
    fourth = outcomes[3]
    assert isinstance(fourth, EntryResult)
    assert fourth.downsized_from == Decimal("0.5")
    # conservative means dual taker (fsm.core.planner); beta's IOC filling last is slow too
    assert fourth.plan is not None and fourth.plan.chosen_by == "conservative"
    assert {o.time_in_force for o in fourth.orders if o.purpose == "quote"} == {"ioc"}
    assert fourth.to_dict()["conservative"] is True
    assert "conservative" not in outcomes[0].to_dict()  # type: ignore[union-attr]
    states = engine.breakers.core.states()
    assert {k: b.state for k, b in states.items()} == {
        "alpha": BreakerState.ACTIVE, "beta": BreakerState.HALTED,
        GLOBAL: BreakerState.ACTIVE}


def test_the_same_sequence_gives_the_same_transitions() -> None:
    """Deterministic in replay: the breakers read no clock but the engine's."""
    def transitions() -> list[tuple[str, float, str, int]]:
        _, engine = run_virtual(_sequence(6))
        return [(b.scope, b.since or 0.0, b.state, len(b.slow))
                for b in engine.breakers.core.states().values()]
    assert transitions() == transitions()


def test_a_quiet_period_steps_a_halt_down_to_conservative() -> None:
    outcomes, _ = run_virtual(_sequence(7, gap_after=6))
    assert _summary(outcomes)[5:] == ["refused:beta", "complete:0.25:conservative"]


def test_reset_from_the_api_lets_the_next_entry_run_as_configured() -> None:
    outcomes, _ = run_virtual(_sequence(7, reset_after=6))
    assert _summary(outcomes)[5:] == ["refused:beta", "complete:0.5"]


def test_an_entry_admitted_before_a_halt_still_hedges_on_the_halted_venue() -> None:
    """Only new entries ask: a running entry's cancel and hedge pass whatever the state."""
    async def run() -> EntryResult:
        alpha = venue("alpha", script=[ScriptedFill(at_s=0.2)])
        beta = venue("beta")
        for v in (alpha, beta):
            v.start()
        engine = EntryEngine({"alpha": alpha, "beta": beta}, EntryConfig(quote_timeout_s=1.5))
        asyncio.get_running_loop().call_later(
            0.1, engine.breakers.core.scope("beta").restore, BreakerState.HALTED, "test", 0.1)
        try:
            return await engine.enter(request("0.5", "e0"))
        finally:
            await engine.close()
            for v in (alpha, beta):
                v.close()
    result = run_virtual(run())
    assert result.final_state == "complete"
    assert [o.venue for o in result.orders if o.purpose == "hedge"] == ["beta"]


def test_a_restart_keeps_the_halt_and_the_command_line_resets_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    run_virtual(_sequence(5, journal))
    journal.close()

    journal = Journal(path)  # a new process: nothing but the journal remembers
    outcomes, _ = run_virtual(_sequence(1, journal, prefix="r"))
    journal.close()
    assert _summary(outcomes) == ["refused:beta"]

    assert main(["breaker", "--journal", str(path)]) == Exit.OK
    shown = capsys.readouterr().out
    assert "beta" in shown and "halted" in shown and "hedge completed in" in shown
    assert main(["breaker", "--journal", str(path), "--reset", "nowhere"]) == Exit.BAD_INPUT
    assert "expected 'all' or one of global, beta" in capsys.readouterr().err
    assert main(["breaker", "--journal", str(path), "--reset", "beta"]) == Exit.OK
    assert "halted" not in capsys.readouterr().out.split("beta", 1)[1].splitlines()[0]

    journal = Journal(path)
    outcomes, _ = run_virtual(_sequence(1, journal, prefix="s"))
    journal.close()
    assert _summary(outcomes) == ["complete:0.5"]


def test_breaker_command_refuses_a_missing_journal(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["breaker", "--journal", str(tmp_path / "none.sqlite")]) == Exit.BAD_INPUT
    assert "no journal at" in capsys.readouterr().err


def test_listeners_hear_each_change_and_a_failing_one_is_only_logged() -> None:
    stuck = breaker_stories._ended("both_venues_down_stuck")

    async def run() -> list[str]:
        heard: list[str] = []
        alpha, beta = venue("alpha"), venue("beta")
        engine = EntryEngine({"alpha": alpha, "beta": beta}, breaker=SLOW)
        engine.breakers.on_change(lambda t: heard.append(f"{t.scope}:{t.dest or t.source}"))
        engine.breakers.on_change(lambda t: 1 / 0)  # type: ignore[arg-type, return-value]
        engine.breakers.report(stuck, asyncio.get_running_loop().time())
        engine.reset_breaker("beta")
        return heard
    assert run_virtual(run()) == ["alpha:halted", "global:halted", "beta:halted", "beta:active"]


def test_a_conservative_cut_below_the_venue_minimum_refuses_naming_the_breaker() -> None:
    breakers = EngineBreakers(SLOW, None)
    rules, books = {leg: RULES for leg in Leg}, {leg: BOOK for leg in Leg}
    small = attrs.evolve(request("0.001"), conservative=True)
    with pytest.raises(RequestError, match=r"a circuit breaker is conservative: the size is "
                       r"cut to 0\.5 of 0\.001, nothing at lot 0\.001"):
        breakers.sized(small, EntryConfig(), rules, books)
    # min_qty above what is left: the pre-trade check's reason, after the breaker's
    larger_min = attrs.evolve(RULES, min_qty=Decimal("0.3"))
    with pytest.raises(RequestError, match=r"cut to 0\.5 of 0\.5, 0\.25, but: .*minimum "
                       r"quantity 0\.3"):
        breakers.sized(attrs.evolve(request("0.5"), conservative=True), EntryConfig(),
                       {leg: larger_min for leg in Leg}, books)
    assert breakers.sized(attrs.evolve(request("0.5")), EntryConfig(), rules, books) \
        == request("0.5")  # not conservative: as asked
