"""Entries outlive their callers: a cancelled caller, an early kill, a listener that raises.

Each test drives the default scenario (the long quote fills at 175 ms, the short quote is
cancelled and hedged by 275 ms) on virtual time, and checks the venues themselves: what
rests there and what each holds once the engine says it is done.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

from fsm.core import events as ev
from fsm.core.commands import RaiseAlert
from fsm.core.entry import EntryModel, Transition
from fsm.core.result import EntryResult
from fsm.shell.engine import EntryEngine
from fsm.shell.journal import Journal
from fsm.sim import scenario as scenarios
from fsm.sim.crash import CrashingJournal, CrashPoint, Where
from fsm.sim.runner import origin, run_until_crash
from tests.test_recovery import check_recovered, crash_and_recover
from venues.market import OrderStatus
from venues.sim.venue import SimulatedVenue
from venues.sim.virtual_time import run_virtual

SCENARIO = scenarios.load_builtin(scenarios.DEFAULT_SCENARIO)
ENTRY = SCENARIO.request.entry_id or ""
ALERTS = list[tuple[str, RaiseAlert]]


def _engine(journal: Journal | None = None) -> tuple[EntryEngine, dict[str, SimulatedVenue],
                                                     ALERTS]:
    venues = SCENARIO.build_venues()
    for venue in venues.values():
        venue.start()
    engine = EntryEngine(venues, SCENARIO.config, journal=journal)
    alerts: ALERTS = []
    engine.on_alert(lambda entry, alert: alerts.append((entry, alert)))
    return engine, venues, alerts


def _resting(venues: dict[str, SimulatedVenue]) -> list[str]:
    return [cid for venue in venues.values() for cid in venue.client_ids()
            if venue.order(cid).status is OrderStatus.OPEN]


def _held(venues: dict[str, SimulatedVenue]) -> dict[str, Decimal]:
    symbol = SCENARIO.request.long.symbol
    return {name: venue.position_now(symbol) for name, venue in venues.items()}


# ------------------------------------------------------------------ a cancelled caller

def test_a_caller_that_gives_up_kills_the_entry_and_the_engine_finishes_the_kill(
        tmp_path: Path) -> None:
    """The issue's case: ``wait_for(enter, 0.2)`` fires after the long fill (175 ms),
    while the short quote's cancel is on its way. The entry is killed, not dropped: the
    short quote is withdrawn, the long fill flattened, an alert says why, and the
    journal keeps the cause."""
    journal = Journal(tmp_path / "j.sqlite", origin=origin(SCENARIO))

    async def run() -> tuple[dict[str, SimulatedVenue], ALERTS, bool, float]:
        engine, venues, alerts = _engine(journal)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(engine.enter(SCENARIO.request), 0.2)
        still_running = engine.running(ENTRY)   # kill() can still reach it
        await engine.close()                     # waits for the killed entry to end
        return venues, alerts, still_running, asyncio.get_running_loop().time()

    venues, alerts, still_running, closed_at = run_virtual(run())
    assert still_running
    assert _resting(venues) == []
    assert _held(venues) == {"alpha": Decimal(0), "beta": Decimal(0)}
    assert [entry for entry, _ in alerts] == [ENTRY]
    assert "caller cancelled" in alerts[0][1].message
    assert closed_at < 1.0                       # the kill ran at once, not at quote timeout
    entry = journal.entry(ENTRY)
    kills = [s.event for s in entry.steps if isinstance(s.event, ev.Kill)]
    assert [k.reason for k in kills] == ["caller cancelled"]
    assert entry.finished


def test_a_cancelled_caller_gets_cancelled_error_at_once_and_a_second_cancel_changes_nothing(
        tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite", origin=origin(SCENARIO))

    async def run() -> tuple[dict[str, SimulatedVenue], ALERTS, list[float], list[Transition]]:
        engine, venues, alerts = _engine(journal)
        taken: list[Transition] = []
        engine.on_transition(taken.append)
        loop = asyncio.get_running_loop()
        caller = loop.create_task(engine.enter(SCENARIO.request))
        await asyncio.sleep(0.19)
        caller.cancel()
        caller.cancel()                          # twice: one kill, one alert
        with pytest.raises(asyncio.CancelledError):
            await caller
        cancelled_at = loop.time()
        assert caller.cancelled()
        caller.cancel()                          # after the fact: nothing to do
        engine.kill(ENTRY, "operator")           # already rolling back: the table ignores it
        await engine.drain()
        drained_at = loop.time()
        await engine.close()
        return venues, alerts, [cancelled_at, drained_at], taken

    venues, alerts, (cancelled_at, drained_at), taken = run_virtual(run())
    assert cancelled_at == pytest.approx(0.19)   # the caller did not wait for the kill
    assert drained_at > cancelled_at
    assert len(alerts) == 1 and "caller cancelled" in alerts[0][1].message
    assert [t.trigger for t in taken].count("kill") == 1
    assert taken[-1].dest == "rolled_back"
    assert journal.entry(ENTRY).final_state == "rolled_back"
    assert _resting(venues) == [] and _held(venues) == {"alpha": 0, "beta": 0}


def test_a_cancelled_caller_before_anything_is_sent_sends_nothing() -> None:
    async def run() -> tuple[dict[str, SimulatedVenue], ALERTS, bool]:
        engine, venues, alerts = _engine()
        caller = asyncio.get_running_loop().create_task(engine.enter(SCENARIO.request))
        await asyncio.sleep(0)                   # enter() reads the markets
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        await engine.close()
        return venues, alerts, engine.running(ENTRY)

    venues, alerts, running = run_virtual(run())
    assert [e for v in venues.values() for e in v.journal if e.kind == "placed"] == []
    assert alerts == [] and not running


def test_close_waits_for_a_killed_entry_and_a_cancelled_close_leaves_it_running() -> None:
    async def run() -> tuple[dict[str, SimulatedVenue], bool]:
        engine, venues, _ = _engine()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(engine.enter(SCENARIO.request), 0.2)
        with pytest.raises(TimeoutError):        # the owner gives up waiting ...
            await asyncio.wait_for(engine.close(), 0.001)
        alive = engine.running(ENTRY)            # ... the kill goes on regardless
        await engine.close()
        return venues, alive

    venues, alive = run_virtual(run())
    assert alive
    assert _resting(venues) == [] and _held(venues) == {"alpha": 0, "beta": 0}


def test_an_abandoned_entry_that_fails_is_logged_with_its_traceback(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Nobody awaits an abandoned entry's result: its failure must still be heard."""
    def broken(self: EntryModel, *_: object) -> bool:
        raise ZeroDivisionError("bug in the rollback")

    monkeypatch.setattr(EntryModel, "exposure_flattenable", broken)
    logged: list[str] = []

    async def run() -> None:
        engine, _, _ = _engine()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(engine.enter(SCENARIO.request), 0.2)
        await engine.close()

    logger.enable("fsm")
    sink = logger.add(logged.append, level="CRITICAL", format="{message}\n{exception}")
    try:
        run_virtual(run())
    finally:
        logger.remove(sink)
        logger.disable("fsm")
    (failed,) = [m for m in logged if "whose caller was cancelled failed" in m]
    assert "EntryAborted" in failed and "bug in the rollback" in failed


def test_cancelling_recover_kills_the_entries_it_was_finishing(tmp_path: Path) -> None:
    """Recovered entries run like any other: the same contract for ``recover()``."""
    journal = CrashingJournal(tmp_path / "j.sqlite", CrashPoint(3), origin=origin(SCENARIO))

    async def run() -> tuple[dict[str, SimulatedVenue], ALERTS]:
        venues = SCENARIO.build_venues()
        for venue in venues.values():
            venue.start()
        crashed = await run_until_crash(SCENARIO, venues, journal)
        assert crashed.crashed and _resting(venues)      # died with its short quote live
        engine = EntryEngine(venues, SCENARIO.config, journal=journal, recovery_grace_s=0.5)
        alerts: ALERTS = []
        engine.on_alert(lambda entry, alert: alerts.append((entry, alert)))
        # Recovery starts at 0.225 s, waits out the grace, reads the books and resumes the
        # entry at about 0.78 s; left alone it would hedge at 0.825 s.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(engine.recover(), 0.58)
        await engine.close()
        return venues, alerts

    venues, alerts = run_virtual(run())
    assert [a.message for _, a in alerts if "caller cancelled" in a.message]
    assert _resting(venues) == [] and _held(venues) == {"alpha": 0, "beta": 0}
    entry = journal.entry(ENTRY)
    assert [s.event.reason for s in entry.steps if isinstance(s.event, ev.Kill)] == [
        "caller cancelled"]
    assert entry.final_state == "rolled_back"


# ------------------------------------------------------------------ kill from the start

def test_a_kill_while_the_markets_are_read_sends_nothing_and_ends_withdrawn(
        tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite", origin=origin(SCENARIO))

    async def run() -> tuple[EntryResult, dict[str, SimulatedVenue]]:
        engine, venues, _ = _engine(journal)
        caller = asyncio.get_running_loop().create_task(engine.enter(SCENARIO.request))
        await asyncio.sleep(0)                   # enter() has begun: its markets are read
        assert engine.running(ENTRY)
        engine.kill(ENTRY, "operator")
        result = await caller
        await engine.close()
        return result, venues

    result, venues = run_virtual(run())
    assert result.final_state == "withdrawn"
    assert result.stop_reason == "kill: operator"
    assert result.orders == ()
    assert [(p.source, p.trigger, p.dest) for p in result.path] == [
        ("new", "kill", "withdrawn")]
    assert [e for v in venues.values() for e in v.journal if e.kind == "placed"] == []
    entry = journal.entry(ENTRY)
    assert entry.final_state == "withdrawn"
    assert [(type(s.event).__name__, s.commands) for s in entry.steps] == [("Kill", ())]


def test_a_process_dying_just_after_an_early_kill_leaves_nothing_to_recover(
        tmp_path: Path) -> None:
    """Found by the random crash worlds: killed while its markets were read, then dead
    right after journaling that kill. The journal had the entry open with a kill and no
    start, so recovery reported start positions it never read. An entry killed before
    anything is sent is closed in the journal before it runs: nothing to recover."""
    recovery = crash_and_recover(SCENARIO, CrashPoint(0, Where.UNSENT), tmp_path, 0.0,
                                 kill_at_s=0.0)
    check_recovered(SCENARIO, recovery)
    assert recovery.crashed.crashed and recovery.outcomes == ()
    assert recovery.final_states == ("not_started",)


def test_a_kill_of_an_entry_nobody_started_is_refused() -> None:
    async def run() -> None:
        engine, _, _ = _engine()
        with pytest.raises(KeyError, match="no running entry 'nobody'"):
            engine.kill("nobody")

    run_virtual(run())


# ------------------------------------------------------------------ listeners

def _raise_cancelled(*_: Any) -> None:
    """A listener reading a cancelled future's result: its CancelledError is its own."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    future.cancel()
    future.result()


def _raise_value(*_: Any) -> None:
    raise ValueError("listener bug")


@pytest.mark.parametrize("failure", [_raise_value, _raise_cancelled])
def test_a_listener_that_raises_is_logged_with_its_traceback_and_the_entry_goes_on(
        failure: Any) -> None:
    logged: list[str] = []

    async def run() -> EntryResult:
        engine, _, _ = _engine()
        engine.on_transition(failure)
        engine.on_step(failure)
        engine.on_alert(failure)
        seen: list[Transition] = []
        engine.on_transition(seen.append)        # a later listener still hears everything
        try:
            result = await engine.enter(SCENARIO.request)
        finally:
            await engine.close()
        assert len(seen) == len(result.path)
        return result

    logger.enable("fsm")
    sink = logger.add(logged.append, level="ERROR", format="{message}\n{exception}")
    try:
        result = run_virtual(run())
    finally:
        logger.remove(sink)
        logger.disable("fsm")
    assert result.final_state == "complete"
    failures = [m for m in logged if "listener" in m and "failed" in m]
    assert failures and all("Traceback" in m for m in failures)
