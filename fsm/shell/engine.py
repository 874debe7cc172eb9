"""The imperative shell: one asyncio actor per entry around the sans-I/O ``EntryModel``.

Each entry is an actor (``fsm.shell.actor``) that owns an inbox. Events (venue answers,
venue pushes, timers, kill requests) are processed one at a time to completion, so the
model never sees two things at once. Commands run concurrently as tasks against the
venue adapters (``fsm.shell.gateway``), and every outcome comes back through the inbox
as an event stamped with the loop clock: a virtual clock in simulation, the real one
live. Nothing here decides anything.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs
from loguru import logger

from fsm.core import events as ev
from fsm.core.account import Account
from fsm.core.commands import (
    AmendOrder,
    CancelOrder,
    CancelTimer,
    Command,
    QueryOrder,
    RaiseAlert,
    ReadAccount,
    StartTimer,
)
from fsm.core.config import EntryConfig
from fsm.core.entry import EntryModel, Transition
from fsm.core.ids import check_entry_id
from fsm.core.pretrade import RequestError, check_request
from fsm.core.result import EntryResult, build_result
from fsm.core.values import EntryRequest
from fsm.shell import account, gateway, resume
from fsm.shell.actor import Actor
from fsm.shell.journal import Journal, JournalError
from fsm.shell.resume import RecoveryOutcome
from venues import protocol as base
from venues.market import (
    Book,
    Leg,
    MarketRules,
    PlaceOrder,
)

TransitionListener = Callable[[Transition], None]
AlertListener = Callable[[str, RaiseAlert], None]


@attrs.frozen
class Step:
    """One event processed by one entry: what came in, where it left the entry, what went out."""

    entry_id: str
    event: ev.Event
    state: str
    commands: tuple[Command, ...]


StepListener = Callable[[Step], None]
__all__ = ["EntryAborted", "EntryEngine", "RecoveryOutcome", "Step"]
_FINISHED_MEMORY = 10_000


_LEGS = (Leg.LONG, Leg.SHORT)


def _by_leg(
    snapshot: list[tuple[MarketRules, Book, Decimal]],
) -> tuple[dict[Leg, MarketRules], dict[Leg, Book], dict[Leg, Decimal]]:
    """Rules, books and positions per leg, from the snapshots read in ``_LEGS`` order."""
    return ({leg: snapshot[i][0] for i, leg in enumerate(_LEGS)},
            {leg: snapshot[i][1] for i, leg in enumerate(_LEGS)},
            {leg: snapshot[i][2] for i, leg in enumerate(_LEGS)})


class EntryAborted(RuntimeError):
    """The engine lost the ability to decide (a bug, or a journal it cannot write); the
    message lists what may be live, and ``atomic-entry recover`` can take it from there."""


class EntryEngine:
    """Runs hedged entries against venue adapters.

    ``await engine.enter(request)`` returns an ``EntryResult`` once the entry is
    terminal. Many entries may run at once on one loop; venue pushes are routed to the
    entry that owns the client order id.
    """

    #: The decision core each entry runs; ``fsm.bench`` swaps in a subclass that times it.
    model_class: type[EntryModel] = EntryModel

    def __init__(
        self,
        venues: Mapping[str, base.Venue],
        config: EntryConfig | None = None,
        journal: Journal | None = None,
        recovery_grace_s: float = 1.0,
    ) -> None:
        self.venues = dict(venues)
        self.config = config if config is not None else EntryConfig()
        self.journal = journal
        #: How long a request sent by a process that died may still be travelling: recovery
        #: asks about an order no sooner than this after the last journaled step.
        self.recovery_grace_s = recovery_grace_s
        self._actors: dict[str, Actor] = {}
        #: What the venues hold per (venue, symbol) and what every live entry did there:
        #: entries on one account decide reduce-only against it (``fsm.core.account``).
        self.account = Account()
        self._routes: dict[tuple[str, str], Actor] = {}
        # (venue, symbol) -> the entries' legs that read its book; a dict as an ordered set,
        # so retiring one entry among thousands on one symbol costs O(1), not O(n).
        self._book_routes: dict[tuple[str, str], dict[tuple[Actor, Leg], None]] = {}
        self._finished: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._unsubscribe: dict[str, Callable[[], None]] = {}
        self._transition_listeners: list[TransitionListener] = []
        self._alert_listeners: list[AlertListener] = []
        self._step_listeners: list[StepListener] = []

    # ------------------------------------------------------------------ public
    def on_transition(self, listener: TransitionListener) -> Callable[[], None]:
        """Call ``listener`` after every transition of every entry; returns an unsubscribe."""
        self._transition_listeners.append(listener)
        return lambda: self._transition_listeners.remove(listener)

    def on_alert(self, listener: AlertListener) -> Callable[[], None]:
        """Call ``listener(entry_id, alert)`` for every alert; returns an unsubscribe."""
        self._alert_listeners.append(listener)
        return lambda: self._alert_listeners.remove(listener)

    def on_step(self, listener: StepListener) -> Callable[[], None]:
        """Call ``listener`` after every event an entry processes; returns an unsubscribe."""
        self._step_listeners.append(listener)
        return lambda: self._step_listeners.remove(listener)

    def running(self, entry_id: str) -> bool:
        """Whether ``entry_id`` is an entry this engine is running now."""
        return entry_id in self._actors

    def kill(self, entry_id: str, reason: str = "requested") -> None:
        """Ask a running entry to stop and flatten what it opened."""
        actor = self._actors.get(entry_id)
        if actor is None:
            raise KeyError(f"no running entry {entry_id!r}")
        actor.post(ev.Kill(asyncio.get_running_loop().time(), reason))

    async def close(self) -> None:
        for unsubscribe in self._unsubscribe.values():
            unsubscribe()
        self._unsubscribe.clear()

    async def enter(
        self, request: EntryRequest, config: EntryConfig | None = None
    ) -> EntryResult:
        """Open the hedged position ``request`` asks for; return when it is terminal."""
        config = config if config is not None else self.config
        entry_id = check_entry_id(request.entry_id or uuid.uuid4().hex[:12])
        if entry_id in self._actors:
            raise RequestError(f"entry {entry_id!r} is already running")
        venues = self._leg_venues(request)
        loop = asyncio.get_running_loop()
        rules, books, start_positions = _by_leg(await asyncio.gather(
            *self._market_snapshots(request, venues)))
        check_request(request, config, rules, books)

        if self.journal is not None:
            self.journal.open_entry(entry_id, request, config)
        model = self.model_class(entry_id, request, config)
        actor = self._admit(model, venues, start_positions)
        actor.log.info("entry starts: long {} short {}", request.long, request.short)
        actor.post(ev.Start(loop.time(), books, rules, start_positions))
        return await self._drive(actor, start_positions)

    async def recover(self, only: Iterable[str] | None = None) -> list[RecoveryOutcome]:
        """Finish every unfinished entry of the journal: after a crash, call this first.

        Each entry is rebuilt by replaying its journaled events (``fsm.shell.recovery``), then
        told it was recovered with the books of now: every request that was on its way
        has lost its answer and every order is queried by client order id. Timers that
        were running fire at once (a restart outlasts any quote window worth keeping),
        and the entry runs to a terminal state as usual, hedging or rolling back. No
        order is sent twice: client ids are derived from the intent, and an order is
        only sent again under its own id when a query proved it never arrived. ``only``
        limits recovery to the named entries.
        """
        return await resume.recover(self, only)

    def _admit(self, model: EntryModel, venues: dict[Leg, base.Venue],
               positions: Mapping[Leg, Decimal] | None = None) -> Actor:
        """Register a running entry: its actor, the books its legs read, its account."""
        actor = Actor(model, venues)
        self.account.join(model.entry_id, model.ledger, account.keyed(
            model.request, model.start_positions if positions is None else positions))
        self._actors[model.entry_id] = actor
        for leg in (Leg.LONG, Leg.SHORT):
            spec = model.request.leg(leg)
            self._book_routes.setdefault((spec.venue, spec.symbol), {})[(actor, leg)] = None
        return actor

    async def _drive(
        self, actor: Actor, start_positions: Mapping[Leg, Decimal]
    ) -> EntryResult:
        """Run an admitted entry to its end; report it with the venues' positions."""
        model, venues, request = actor.model, actor.venues, actor.model.request
        loop = asyncio.get_running_loop()
        try:
            await self._run(actor)
        finally:
            self._retire(actor)
        end_positions = await asyncio.gather(*account.position_reads(request, venues))
        positions = account.start_and_end(request, start_positions, end_positions)
        result = build_result(model, positions, model.path[-1].at if model.path else loop.time())
        actor.log.info("entry ends {} net exposure {}", result.final_state, result.net_exposure)
        return result

    # Comprehensions live in helpers, not in ``enter``/``_drive``: the locals they read would
    # be cells the suspended coroutine keeps all the entry's life (gc traverses them).
    def _leg_venues(self, request: EntryRequest) -> dict[Leg, base.Venue]:
        return {leg: self._venue(request.leg(leg).venue) for leg in _LEGS}

    def _market_snapshots(
        self, request: EntryRequest, venues: dict[Leg, base.Venue]
    ) -> list[Coroutine[Any, Any, tuple[MarketRules, Book, Decimal]]]:
        return [self._market_snapshot(leg, request, venues[leg]) for leg in _LEGS]

    async def _market_snapshot(
        self, leg: Leg, request: EntryRequest, venue: base.Venue
    ) -> tuple[MarketRules, Book, Decimal]:
        """Rules, book and position of one leg's market; a symbol the venue lacks is bad input."""
        spec = request.leg(leg)
        try:
            return await asyncio.gather(
                venue.market_rules(spec.symbol), venue.book(spec.symbol),
                venue.position(spec.symbol),
            )
        except (base.OrderRejected, base.OrderNotFound) as exc:
            raise RequestError(
                f"{leg.value} leg on {spec.venue}: cannot read market {spec.symbol!r} ({exc}); "
                f"expected a symbol {spec.venue} lists"
            ) from None

    # ------------------------------------------------------------------ actor
    async def _run(self, actor: Actor) -> None:
        model = actor.model
        published = len(model.path)  # a recovered entry's path was published before
        while not model.terminal:
            event = await actor.inbox.get()
            try:
                commands = model.handle(event)
            except Exception as exc:
                raise self._abort(actor, event, "the entry model failed", exc) from exc
            if self.journal is not None:
                try:
                    self.journal.record(model.entry_id, actor.step, event, commands)
                except JournalError as exc:  # nothing of this step is sent
                    raise self._abort(actor, event, "the journal failed", exc) from exc
            actor.step += 1
            for ignored in model.ignored:
                actor.log.warning("ignored {}", ignored)
            model.ignored.clear()
            for transition in model.path[published:]:
                actor.log.debug("{} --{}--> {}", transition.source, transition.trigger,
                                transition.dest)
                for listener in list(self._transition_listeners):
                    self._safely(listener, transition)
            published = len(model.path)
            if self._step_listeners:
                step = Step(model.entry_id, event, model.state, tuple(commands))
                for step_listener in list(self._step_listeners):
                    self._safely(step_listener, step)
            for command in commands:
                self._execute(actor, command)
            if model.terminal:
                self._close_journaled(actor, None)
            if actor.tasks and not actor.inbox.empty():
                # Let the requests just spawned leave before deciding on the next event:
                # a cancel must not wait behind the bookkeeping of a report queued after
                # the fill that caused it.
                await asyncio.sleep(0)

    def _close_journaled(self, actor: Actor, note: str | None) -> None:
        """Mark a finished entry closed, once its last commands (the final alert) are out."""
        if self.journal is None:
            return
        try:
            self.journal.close_entry(actor.model.entry_id, actor.model.state, note)
        except JournalError as exc:  # it ended; recover would close it and alert again
            actor.log.critical("entry ended {} but its journal could not say so: {}",
                               actor.model.state, exc)

    def _abort(
        self, actor: Actor, event: ev.Event, what: str, exc: Exception
    ) -> EntryAborted:
        """The entry cannot go on deciding: say loudly which orders may be live."""
        model = actor.model
        live = [r.client_id for r in model.ledger if r.live]
        message = (f"entry {model.entry_id}: {what} on {type(event).__name__}: {exc}; "
                   f"orders possibly live: {', '.join(live) or 'none'}")
        actor.log.critical(message)
        alert = RaiseAlert(message, model.residuals())
        for listener in list(self._alert_listeners):
            self._safely(listener, model.entry_id, alert)
        return EntryAborted(message)

    def _retire(self, actor: Actor) -> None:
        model = actor.model
        actor.stop()
        for record in model.ledger:
            key = (record.command.venue, record.client_id)
            self._routes.pop(key, None)
            self._finished[key] = model.entry_id
        while len(self._finished) > _FINISHED_MEMORY:
            self._finished.popitem(last=False)
        for leg in (Leg.LONG, Leg.SHORT):
            spec = model.request.leg(leg)
            self._book_routes.get((spec.venue, spec.symbol), {}).pop((actor, leg), None)
        self._actors.pop(model.entry_id, None)
        self.account.leave(model.entry_id)
        model.detach()

    def _safely(self, listener: Callable[..., None], *args: Any) -> None:
        try:
            listener(*args)
        except Exception:
            logger.exception("listener {} failed", listener)

    # --------------------------------------------------------------- commands
    def _execute(self, actor: Actor, command: Command) -> None:
        match command:
            case PlaceOrder():
                self._routes[(command.venue, command.client_id)] = actor
                actor.spawn(gateway.place(actor.venues[command.leg], command, actor.post))
            case CancelOrder():
                actor.spawn(gateway.cancel(self.venues[command.venue], command, actor.post))
            case AmendOrder():
                actor.spawn(gateway.amend(self.venues[command.venue], command, actor.post))
            case QueryOrder():
                actor.spawn(gateway.query(self.venues[command.venue], command, actor.post))
            case StartTimer():
                actor.start_timer(command.name, command.delay_s)
            case CancelTimer():
                actor.cancel_timer(command.name)
            case ReadAccount():
                if (read := account.answer(self.account, actor, command)) is not None:
                    actor.spawn(read)
            case RaiseAlert():
                actor.log.error("ALERT {}", command.message)
                for listener in list(self._alert_listeners):
                    self._safely(listener, actor.model.entry_id, command)

    def _venue(self, name: str) -> base.Venue:
        venue = self.venues.get(name)
        if venue is None:
            known = ", ".join(sorted(self.venues)) or "none"
            raise RequestError(f"unknown venue {name!r}; configured venues: {known}")
        if name not in self._unsubscribe:
            self._unsubscribe[name] = venue.subscribe(functools.partial(self._on_update, name))
        return venue

    # ------------------------------------------------------------ venue pushes
    def _on_update(self, venue: str, update: base.VenueUpdate) -> None:
        now = asyncio.get_running_loop().time()
        if not isinstance(update, base.FillUpdate | base.OrderUpdate | base.BookChanged):
            # An adapter bug; dropping it loses nothing a query by client id cannot recover.
            logger.error("{}: dropped a push that is no venue update: {!r}", venue, update)
            return
        if isinstance(update, base.BookChanged):
            for actor, leg in list(self._book_routes.get((venue, update.symbol), ())):
                actor.post(ev.BookUpdate(now, leg, update.book))
            return
        owner = self._routes.get((venue, update.client_id))
        if owner is None:
            self._unrouted(venue, update)
            return
        match update:
            case base.FillUpdate():
                owner.post(ev.FillReport(now, update.client_id, update.trade_id, update.qty,
                                         update.price, update.fee, update.liquidity,
                                         update.fee_currency))
            case base.OrderUpdate():
                owner.post(ev.StatusReport(now, update.client_id, update.status,
                                           update.filled))

    def _unrouted(self, venue: str, update: base.FillUpdate | base.OrderUpdate) -> None:
        entry_id = self._finished.get((venue, update.client_id))
        if entry_id is None:
            logger.debug("{}: update for an order of no entry: {}", venue, update)
        elif isinstance(update, base.FillUpdate):
            logger.warning("{}: fill {} reported after entry {} ended", venue,
                           update.trade_id, entry_id)
