"""Bringing back the simulated venues of a run that died, from its scenario and journal.

Simulated venues die with their process, but they are deterministic: the scenario and
the requests the journal says were sent, each sent again at its instant and in journal
order, rebuild them exactly, as a real exchange would have carried on without us. The
order matters as much as the instant: a sibling cancel that overtook its place would
leave the rebuilt venue holding a quote the original had cancelled. So the requests go
out from one coroutine, in journal order, and the venues process same-instant arrivals
in the order they were sent (``SimulatedVenue.run_through``). The rebuilt venues are
read only once every instant up to the restart has run.

A journaled step's commands are taken as sent: the journal is written before sending,
so a process that died in between left the same journal as one that sent them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import attrs

from fsm.core.commands import AmendOrder, CancelOrder, QueryOrder
from fsm.core.events import Accepted, FillReport, StatusReport
from fsm.shell.journal import JournaledEntry
from fsm.shell.recovery import RecoveryError
from fsm.sim.scenario import Scenario
from venues.market import PlaceOrder
from venues.sim.venue import SimulatedVenue

Request = PlaceOrder | CancelOrder | AmendOrder | QueryOrder


@attrs.frozen
class Rebuilt:
    """Venues standing in for the originals, and the re-sent requests still answering."""

    venues: dict[str, SimulatedVenue]
    requests: tuple[asyncio.Task[None], ...]  # kept so that no answer is collected early


def last_instant(entries: list[JournaledEntry]) -> float:
    """When the dead process last journaled a step (zero for an empty journal)."""
    return max((step.at for entry in entries for step in entry.steps), default=0.0)


def journaled_requests(entries: list[JournaledEntry]) -> list[tuple[float, Request]]:
    """Every request the journal says was sent, with its instant, in the order sent.

    Within an entry the journal order is the send order. Entries of one run interleave
    by instant (a stable sort keeps each entry's order and the entries' journal order).
    """
    sent = [(step.at, command) for entry in entries for step in entry.steps
            for command in step.commands if isinstance(command, Request)]
    return sorted(sent, key=lambda pair: pair[0])


async def rebuild(scenario: Scenario, entries: list[JournaledEntry], through: float
                  ) -> Rebuilt:
    """The scenario's venues, with the journaled requests re-sent, run through ``through``.

    Must run on a fresh virtual-time loop (time zero is the original run's start).
    """
    loop = asyncio.get_running_loop()
    venues = scenario.build_venues()
    for venue in venues.values():
        venue.start()
    requests: list[asyncio.Task[None]] = []
    for at, batch in _by_instant(journaled_requests(entries)):
        await _until(at)
        requests.extend(loop.create_task(_resend(venues, command)) for command in batch)
    await asyncio.sleep(0)  # let the last batch leave before the venues are asked to settle
    await run_through(venues, through)
    return Rebuilt(venues, tuple(requests))


async def run_through(venues: dict[str, SimulatedVenue], when: float) -> None:
    """Wait until every venue has done all it had scheduled up to ``when``, inclusive."""
    await asyncio.gather(*(venue.run_through(when) for venue in venues.values()))


def _by_instant(requests: list[tuple[float, Request]]) -> Iterator[tuple[float, list[Request]]]:
    batch: list[Request] = []
    current: float | None = None
    for at, command in requests:
        if current is not None and at != current:
            yield current, batch
            batch = []
        current = at
        batch.append(command)
    if current is not None:
        yield current, batch


async def _until(when: float) -> None:
    """Resume at ``when`` exactly (``sleep`` would add a rounded difference to the clock)."""
    loop = asyncio.get_running_loop()
    if when <= loop.time():
        return
    reached: asyncio.Future[None] = loop.create_future()
    loop.call_at(when, _arrived, reached)
    await reached


def _arrived(reached: asyncio.Future[None]) -> None:
    if not reached.done():
        reached.set_result(None)


async def _resend(venues: dict[str, SimulatedVenue], command: Request) -> None:
    """One request the dead process sent, sent again at the same instant; no one hears back."""
    try:
        match command:
            case PlaceOrder():
                await venues[command.venue].place(command)
            case CancelOrder():
                await venues[command.venue].cancel(command.symbol, command.client_id)
            case AmendOrder():
                await venues[command.venue].amend(command.symbol, command.client_id,
                                                  command.price, command.qty)
            case QueryOrder():
                await venues[command.venue].query(command.symbol, command.client_id)
    except Exception:  # the answer went to the dead process
        pass


def check_rebuilt(venues: dict[str, SimulatedVenue], entries: list[JournaledEntry]) -> None:
    """The rebuilt venues must hold what the journal heard from the originals."""
    orders = {cid: venue for venue in venues.values() for cid in venue.client_ids()}
    for entry in entries:
        for step in entry.steps:
            event = step.event
            fills: tuple[FillReport, ...] = ()
            if isinstance(event, FillReport):
                fills = (event,)
            elif isinstance(event, StatusReport):
                fills = event.fills
            for fill in fills:
                venue = orders.get(fill.client_id)
                trades = {f.trade_id for f in venue.order(fill.client_id).fills} if venue else set()
                if fill.trade_id not in trades:
                    raise RecoveryError(f"the rebuilt simulated venues lack trade {fill.trade_id} "
                                        f"of {fill.client_id}: they cannot stand in for the "
                                        "originals")
            if isinstance(event, Accepted) and event.venue_order_id is not None:
                venue = orders.get(event.client_id)
                held = venue.order(event.client_id).venue_order_id if venue else None
                if held != event.venue_order_id:
                    raise RecoveryError(f"the rebuilt simulated venues hold {held} for "
                                        f"{event.client_id}, the journal heard "
                                        f"{event.venue_order_id}")
