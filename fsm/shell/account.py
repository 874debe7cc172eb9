"""The engine's side of the account view: venue positions read, and ``ReadAccount`` answered.

Why a module of its own: positions are read at an entry's start and end (the result
reports both) and, after a reduce-only refusal, in the middle of a rollback; all three
feed or report the engine's ``fsm.core.account.Account``. The answer to ``ReadAccount``
comes back as an ``AccountRead`` event like every other outcome, so the entry decides
from what it was told, and a replay from the journal decides the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from decimal import Decimal
from typing import Any

from fsm.core import events as ev
from fsm.core.account import Account, Key
from fsm.core.commands import ReadAccount
from fsm.core.values import EntryRequest
from fsm.shell.actor import Actor
from fsm.shell.gateway import describe
from venues.market import Leg

LEGS = (Leg.LONG, Leg.SHORT)


def key(request: EntryRequest, leg: Leg) -> Key:
    spec = request.leg(leg)
    return (spec.venue, spec.symbol)


def keyed(request: EntryRequest, positions: Mapping[Leg, Decimal]) -> dict[Key, Decimal]:
    """Positions per leg as the account keys them, (venue, symbol)."""
    return {key(request, leg): position for leg, position in positions.items()}


def answer(account: Account, actor: Actor, command: ReadAccount
           ) -> Coroutine[Any, Any, None] | None:
    """Answer ``command`` at once when nothing must be read from a venue; else return the
    request that reads the venue positions first, for the actor to run as a task."""
    if not command.fresh:
        actor.post(_view(account, actor, command, (), ""))
        return None
    return _read_then_answer(account, actor, command)


async def _read_then_answer(account: Account, actor: Actor, command: ReadAccount) -> None:
    """Read each venue position asked for, refresh the account with it, then answer. A read
    that fails leaves the account's own view, and the answer says why."""
    request = actor.model.request
    legs = command.fresh
    answers = await asyncio.gather(
        *(actor.venue(leg).position(request.leg(leg).symbol) for leg in legs),
        return_exceptions=True)
    fresh: list[Leg] = []
    failed: list[str] = []
    for leg, read in zip(legs, answers, strict=True):
        if isinstance(read, Decimal):
            account.refresh(key(request, leg), read)
            fresh.append(leg)
        elif isinstance(read, Exception):
            failed.append(f"{request.leg(leg).venue}: {describe(read)}")
        else:  # a BaseException (cancelled): the entry is being retired
            raise read
    if failed:
        actor.log.warning("position read failed ({}); deciding from the account as it is",
                          "; ".join(failed))
    actor.post(_view(account, actor, command, tuple(fresh), "; ".join(failed)))


def _view(account: Account, actor: Actor, command: ReadAccount,
          fresh: tuple[Leg, ...], failed: str) -> ev.AccountRead:
    model = actor.model
    legs = {leg: account.view(key(model.request, leg), model.entry_id) for leg in command.legs}
    return ev.AccountRead(asyncio.get_running_loop().time(), legs, fresh, failed)
