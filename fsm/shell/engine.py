"""The imperative shell: one asyncio actor per entry around the sans-I/O ``EntryModel``.

Each entry is an actor (``fsm.shell.actor``). Events (venue answers, venue pushes,
timers, kill requests) are processed one at a time to completion as they are posted, so
the model never sees two things at once. Commands run concurrently as tasks against the
venue adapters (``fsm.shell.gateway``), and every outcome comes back through ``post``
as an event stamped with the loop clock: a virtual clock in simulation, the real one
live. Nothing here decides anything.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Callable, Coroutine, Iterable, Mapping
from decimal import Decimal
from typing import Any

from loguru import logger

from fsm.core import commands as cmd
from fsm.core import events as ev
from fsm.core.account import Account
from fsm.core.breaker import BreakerConfig
from fsm.core.config import EntryConfig
from fsm.core.entry import EntryModel
from fsm.core.ids import check_entry_id
from fsm.core.pretrade import RequestError, check_shape, fit_to_budget
from fsm.core.result import EntryResult, build_result
from fsm.core.values import EntryRequest
from fsm.shell import account, gateway, markets, resume
from fsm.shell.actor import Actor
from fsm.shell.breakers import EngineBreakers
from fsm.shell.callers import EntryTasks
from fsm.shell.journal import Journal, JournalError
from fsm.shell.listeners import (
    AlertListener,
    Listeners,
    Step,
    StepListener,
    TransitionListener,
    safely,
)
from fsm.shell.metrics import METERED, NO_METRICS, MetricsSink, feed
from fsm.shell.resume import RecoveryOutcome
from fsm.shell.routing import Routes
from venues import protocol as base
from venues.market import Leg, PlaceOrder

__all__ = ["EntryAborted", "EntryEngine", "RecoveryOutcome", "Step"]


def _live(model: EntryModel) -> str:
    return ", ".join(r.client_id for r in model.ledger if r.live) or "none"


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
        breaker: BreakerConfig | None = None,
        metrics: MetricsSink | None = None,
    ) -> None:
        self.venues = dict(venues)
        #: Where the engine reports what it learns (``fsm.shell.metrics``); by default
        #: nowhere, and then no event is even looked at for it.
        self.metrics: MetricsSink = metrics if metrics is not None else NO_METRICS
        self._metered = METERED if metrics is not None else frozenset()
        self.config = config if config is not None else EntryConfig()
        self.journal = journal
        #: How long a request sent by a process that died may still be travelling: recovery
        #: asks about an order no sooner than this after the last journaled step.
        self.recovery_grace_s = recovery_grace_s
        self._actors: dict[str, Actor] = {}
        #: What the venues hold per (venue, symbol) and what every live entry did there:
        #: entries on one account decide reduce-only against it (``fsm.core.account``).
        self.account = Account()
        self._routes = Routes()
        self._unsubscribe: dict[str, Callable[[], None]] = {}
        self._listeners = Listeners()
        self._step_one = self._step  # one bound method for every actor, not one each
        self._entries = EntryTasks(self._abandoned)
        #: The circuit breakers of every venue and the global one (``fsm.shell.breakers``):
        #: ``enter`` asks them first; every entry that ends reports to them.
        self.breakers = EngineBreakers(breaker, journal)
        if metrics is not None:  # the breaker gauge: every state, restored ones included
            self.breakers.publish_to(metrics.set_breaker_state)

    # ------------------------------------------------------------------ public
    def on_transition(self, listener: TransitionListener) -> Callable[[], None]:
        """Call ``listener`` after every transition of every entry; returns an unsubscribe."""
        return self._listeners.on_transition(listener)

    def on_alert(self, listener: AlertListener) -> Callable[[], None]:
        """Call ``listener(entry_id, alert)`` for every alert; returns an unsubscribe."""
        return self._listeners.on_alert(listener)

    def on_step(self, listener: StepListener) -> Callable[[], None]:
        """Call ``listener`` after every event an entry processes; returns an unsubscribe."""
        return self._listeners.on_step(listener)

    def running(self, entry_id: str) -> bool:
        """Whether ``entry_id`` is an entry this engine runs now (or is setting up)."""
        return entry_id in self._actors or entry_id in self._entries.setting_up

    def kill(self, entry_id: str, reason: str = "requested") -> None:
        """Ask a running entry to stop and flatten what it opened. From the moment its
        ``enter()`` runs: a kill while its markets are read ends it before anything is sent."""
        actor = self._actors.get(entry_id)
        if actor is not None:
            actor.post(ev.Kill(asyncio.get_running_loop().time(), reason))
        elif entry_id in self._entries.setting_up:
            self._entries.setting_up[entry_id] = self._entries.setting_up[entry_id] or reason
        else:
            raise KeyError(f"no running entry {entry_id!r}")

    def reset_breaker(self, scope: str = "all") -> list[str]:
        """Reset a venue's circuit breaker, the ``global`` one, or ``all``, to active;
        returns each reset breaker's name (journaled, so a restart keeps it)."""
        now = asyncio.get_running_loop().time()
        return [t.scope for t in self.breakers.reset(scope, now)]

    def stop_dead(self) -> None:
        """Stop every entry as the process dying would (a simulated crash): nothing more is
        heard, sent, journaled or flattened. Retired here, not by the entry's task: a task
        cancelled before its first step never runs its body."""
        for actor in list(self._actors.values()):
            self._stopped_dead(actor)
        self._entries.cancel()

    async def drain(self) -> None:
        """Wait until every entry has ended, those whose caller was cancelled included."""
        await self._entries.drain()

    async def close(self) -> None:
        """Wait for every entry to end (``drain``), then stop listening to the venues."""
        await self.drain()
        for unsubscribe in self._unsubscribe.values():
            unsubscribe()
        self._unsubscribe.clear()

    async def enter(
        self, request: EntryRequest, config: EntryConfig | None = None
    ) -> EntryResult:
        """Open the hedged position ``request`` asks for; return when it is terminal.

        Cancelling the caller kills the entry; the engine finishes the kill (README,
        "Callers, kills and listeners")."""
        config = config if config is not None else self.config
        entry_id = check_entry_id(request.entry_id or uuid.uuid4().hex[:12])
        check_shape(request)  # names, sizes, two venues: before any market data is read
        if self.running(entry_id):
            raise RequestError(f"entry {entry_id!r} is already running")
        request = self.breakers.admit(request, asyncio.get_running_loop().time())
        self._entries.setting_up[entry_id] = None
        try:
            venues = self._leg_venues(request)
            rules, books, start_positions = await markets.read(request, venues)
            request = self.breakers.sized(fit_to_budget(request, config, rules, books), config,
                                          rules, books)
        finally:
            killed = self._entries.setting_up.pop(entry_id)
        if self.journal is not None:
            self.journal.open_entry(entry_id, request, config)
            if killed is not None:  # it will send nothing: nothing for ``recover`` to finish
                self.journal.close_entry(entry_id, "not_started", "killed before anything was sent")
        actor = self._admit(self.model_class(entry_id, request, config), venues, start_positions)
        actor.log.info("entry starts: long {} short {}", request.long, request.short)
        now = asyncio.get_running_loop().time()
        if killed is not None:  # first: a kill in ``new`` ends it before anything is sent
            actor.post(ev.Kill(now, killed))
        actor.post(ev.Start(now, books, rules, start_positions))
        result = self._drive(actor)
        # The model and the actor have copies; gc need not see these for the entry's life.
        del rules, books, start_positions, venues, actor
        return await result

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
        start = model.start_positions if positions is None else positions
        actor = Actor(model, venues, start, self._step_one)
        self.account.join(model.entry_id, model.ledger, account.keyed(model.request, start))
        self._actors[model.entry_id] = actor
        self._routes.admit(actor)
        self._safely(actor, self.metrics.entry_started)
        return actor

    def _drive(self, actor: Actor) -> Coroutine[Any, Any, EntryResult]:
        """Follow an admitted entry (ended at once if recovered terminal) in a task of the
        engine's own; the caller only awaits it (one suspended frame fewer per entry)."""
        self._end_if_terminal(actor)
        return self._entries.follow(self._entries.spawn(self._finish(actor)), actor)

    def _abandoned(self, actor: Actor) -> None:
        """The caller was cancelled: kill the entry (the table decides what that means)."""
        if actor.model.terminal:
            return  # it ended; only its closing report was being read
        message = (f"entry {actor.model.entry_id}: caller cancelled; the entry is killed: "
                   "every live order is withdrawn and what it opened is flattened")
        self._alert(actor, cmd.RaiseAlert(message, actor.model.residuals()))
        actor.post(ev.Kill(asyncio.get_running_loop().time(), "caller cancelled"))

    async def _finish(self, actor: Actor) -> EntryResult:
        """Wait for an admitted entry to end (``_step`` processes its events as they are
        posted); report it. Its frame lives as long as the entry and holds the actor only
        (no closure, whose cells would be objects more for the gc)."""
        try:
            await actor.ended
        except asyncio.CancelledError:  # the engine's own task: the process is going down
            if not actor.halted:
                self._stopped_dead(actor)
            raise
        return await self._report(actor)

    def _stopped_dead(self, actor: Actor) -> None:
        actor.log.critical("entry stopped dead in {}; orders possibly live: {}",
                           actor.model.state, _live(actor.model))
        self._retire(actor)

    async def _report(self, actor: Actor) -> EntryResult:
        """The ended entry's result, with each venue's position at its start and now."""
        model, loop = actor.model, asyncio.get_running_loop()
        venues = {leg: actor.venue(leg) for leg in markets.LEGS}
        positions = await markets.positions(model.request, venues, actor.start_positions,
                                            lambda venue, exc: self._end_unread(actor, venue, exc))
        result = build_result(model, positions, model.path[-1].at if model.path else loop.time())
        self._safely(actor, self.metrics.entry_ended, result)
        self.breakers.report(result, loop.time())
        actor.log.info("entry ends {} net exposure {}", result.final_state, result.net_exposure)
        return result

    def _end_unread(self, actor: Actor, venue: str, exc: Exception) -> None:
        actor.log.warning("{}: position after the entry could not be read ({}); the result "
                          "reports its start only", venue, gateway.describe(exc))

    # Comprehensions live in helpers, not in ``enter``/``_finish``: the locals they read would
    # be cells the suspended coroutine keeps all the entry's life (gc traverses them).
    def _leg_venues(self, request: EntryRequest) -> dict[Leg, base.Venue]:
        return {leg: self._venue(request.leg(leg).venue) for leg in markets.LEGS}

    # ------------------------------------------------------------------ actor
    def _step(self, actor: Actor, event: ev.Event) -> None:
        """What an actor does with each event posted: process it; an entry that ended or
        failed on it is retired at once (an exception goes on to end the actor)."""
        try:
            self._process(actor, event)
        except BaseException:
            self._retire(actor)
            raise
        self._end_if_terminal(actor)

    def _end_if_terminal(self, actor: Actor) -> None:
        """A terminal entry leaves the engine at once (no event reaches it after), and its
        task is told to report. Once only: a retired actor is halted."""
        if actor.model.terminal and not actor.halted:
            self._retire(actor)
            actor.finish()

    def _process(self, actor: Actor, event: ev.Event) -> None:
        """One event to completion."""
        model = actor.model
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
        if isinstance(event, ev.Start) and model.plan is not None:
            actor.log.info("{}", model.plan.summary())
        if event.__class__ in self._metered:
            self._safely(actor, feed, self.metrics, model, event)
        for ignored in model.ignored:
            actor.log.warning("ignored {}", ignored)
        model.ignored = ()
        self._listeners.transitioned(actor.log, model.path[actor.published:])
        actor.published = len(model.path)
        self._listeners.stepped(actor.log, model.entry_id, event, model.state, commands)
        for command in commands:
            self._execute(actor, command)
        if model.terminal:
            self._close_journaled(actor, None)

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
        message = (f"entry {model.entry_id}: {what} on {type(event).__name__}: {exc}; "
                   f"orders possibly live: {_live(model)}")
        actor.log.critical(message)
        self._alert(actor, cmd.RaiseAlert(message, model.residuals()), log=False)
        return EntryAborted(message)

    def _alert(self, actor: Actor, alert: cmd.RaiseAlert, log: bool = True) -> None:
        if log:
            actor.log.error("ALERT {}", alert.message)
        self._safely(actor, self.metrics.alert)
        self._listeners.alerted(actor.log, actor.model.entry_id, alert)

    def _retire(self, actor: Actor) -> None:
        model = actor.model
        actor.stop()
        self._routes.retire(actor)
        self._actors.pop(model.entry_id, None)
        self.account.leave(model.entry_id)
        model.detach()
        self._safely(actor, self.metrics.entry_retired)

    def _safely(self, actor: Actor, listener: Callable[..., None], *args: Any) -> None:
        safely(actor.log, listener, *args)

    # --------------------------------------------------------------- commands
    def _execute(self, actor: Actor, command: cmd.Command) -> None:
        match command:
            case PlaceOrder():
                self._routes.own(command.venue, command.client_id, actor)
                actor.spawn(gateway.place(actor.venue(command.leg), command, actor.post))
            case cmd.CancelOrder():
                actor.spawn(gateway.cancel(self.venues[command.venue], command, actor.post))
            case cmd.AmendOrder():
                actor.spawn(gateway.amend(self.venues[command.venue], command, actor.post))
            case cmd.QueryOrder():
                actor.spawn(gateway.query(self.venues[command.venue], command, actor.post))
            case cmd.StartTimer():
                actor.start_timer(command.name, command.delay_s)
            case cmd.CancelTimer():
                actor.cancel_timer(command.name)
            case cmd.ReadBook():
                actor.spawn(gateway.read_book(actor.venue(command.leg), command, actor.post))
            case cmd.ReadAccount():
                if (read := account.answer(self.account, actor, command)) is not None:
                    actor.spawn(read)
            case cmd.RaiseAlert():
                self._alert(actor, command)

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
        self._routes.deliver(venue, update)
        if self._metered and isinstance(update, base.BookChanged):
            try:
                self.metrics.book_arrived(venue, update.symbol, asyncio.get_running_loop().time())
            except Exception:
                logger.exception("metrics sink failed on a book of {}", venue)
