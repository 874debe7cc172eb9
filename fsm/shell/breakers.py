"""The engine's circuit breakers: consulted before an entry starts, told when it ends, journaled.

The decisions are ``fsm.core.breaker``'s; this module gives them the engine's clock,
keeps them in the journal and applies the verdict to a new entry:

* ``halted``: the entry is refused before any market data is read (``BreakerHalted``,
  a ``RequestError``: nothing is sent; ``enter`` exits ``Exit.HALTED``);
* ``conservative``: the request is marked ``conservative`` and sized down
  (``conservative_size`` of what was asked, rounded down to the lot).

Running entries never ask: their cancels, hedges and rollbacks pass whatever the state.

Every transition that changes a state, and every reset, is a journal record. On its
first use the engine replays the journal's records, so a restart does not forget a
halt; the quiet period of a restored state starts again at the restart (the old
process's clock means nothing to the new one), and the counts start empty. Records
another process wrote (``atomic-entry breaker --reset``) are read before each verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import attrs
from loguru import logger

from fsm.core.breaker import Breaker, BreakerConfig, Breakers, BreakerTransition, Verdict
from fsm.core.config import EntryConfig
from fsm.core.pretrade import RequestError, check_request
from fsm.core.pricing import round_down
from fsm.core.result import EntryResult
from fsm.core.tables.breaker import BreakerState, BreakerTrigger
from fsm.core.values import EntryRequest
from fsm.shell.journal import BreakerRecord, Journal, JournalError
from venues.market import Book, Leg, MarketRules

log = logger.bind(component="breaker")


class BreakerHalted(RequestError):
    """A new entry refused because a breaker of its venues (or the global one) is halted."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(f"refused: the {verdict.scope} circuit breaker is halted "
                         f"({verdict.reason}); reset it with `atomic-entry breaker "
                         f"--reset {verdict.scope}` or "
                         "engine.reset_breaker() once the cause is understood")
        self.verdict = verdict


class EngineBreakers:
    """One engine's breakers, their journal, and what they make of a new entry."""

    def __init__(self, config: BreakerConfig | None, journal: Journal | None) -> None:
        self.core = Breakers(config)
        self.journal = journal
        self._seen = 0  # the last journal record taken up
        self._listeners: list[Callable[[BreakerTransition], None]] = []
        self._gauge: Callable[[str, BreakerState], None] | None = None

    def on_change(self, listener: Callable[[BreakerTransition], None]) -> Callable[[], None]:
        """Call ``listener`` after every change of a breaker's state and every reset (a
        metrics gauge, an alert); returns an unsubscribe. A listener that raises is logged."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def publish_to(self, gauge: Callable[[str, BreakerState], None]) -> None:
        """Give every breaker's state to ``gauge`` (a metrics sink's ``set_breaker_state``)
        each time the breakers are consulted or told, states restored from the journal
        included: a restart shows a halt at once, not at the breaker's next change."""
        self._gauge = gauge

    def _publish(self) -> None:
        if self._gauge is None:
            return
        for scope, breaker in self.core.states().items():
            try:
                self._gauge(scope, breaker.state)
            except Exception:
                log.exception("breaker gauge failed for {}", scope)

    @property
    def config(self) -> BreakerConfig:
        return self.core.config

    def admit(self, request: EntryRequest, at: float) -> EntryRequest:
        """The request as the breakers let it run, or ``BreakerHalted``."""
        self._sync(at)
        verdict, taken = self.core.check((request.long.venue, request.short.venue), at)
        self._keep(taken)
        self._publish()
        if verdict.state is BreakerState.HALTED:
            raise BreakerHalted(verdict)
        if verdict.state is BreakerState.CONSERVATIVE:
            log.info("entry runs conservative: the {} breaker is conservative ({})",
                     verdict.scope, verdict.reason)
            return attrs.evolve(request, conservative=True)
        return request

    def sized(self, request: EntryRequest, config: EntryConfig, rules: Mapping[Leg, MarketRules],
              books: Mapping[Leg, Book]) -> EntryRequest:
        """A conservative request at most ``conservative_size`` of the size asked (before
        any pre-trade downsizing), lot-rounded, and checked again."""
        if not request.conservative:
            return request
        asked, lot = request.downsized_from or request.long.qty, max(r.lot for r in rules.values())
        qty = round_down(asked * self.config.conservative_size, lot)
        if qty >= request.long.qty:
            return request
        head = (f"a circuit breaker is conservative: the size is cut to "
                f"{self.config.conservative_size} of {asked}")
        if qty <= 0:
            raise RequestError(f"{head}, nothing at lot {lot}")
        smaller = attrs.evolve(request, long=attrs.evolve(request.long, qty=qty),
                               short=attrs.evolve(request.short, qty=qty), downsized_from=asked)
        try:
            check_request(smaller, config, dict(rules), dict(books))
        except RequestError as exc:
            raise RequestError(f"{head}, {qty}, but: {exc}") from None
        return smaller

    def report(self, result: EntryResult, at: float) -> list[BreakerTransition]:
        """An ended entry's signals; the transitions they caused, journaled and logged."""
        try:
            self._sync(at)
            taken = self.core.report(result, at)
            self._keep(taken)
            self._publish()
        except JournalError as exc:  # the entry has ended: its result must still reach its caller
            log.critical("entry {}: its breaker transitions could not be journaled: {}; a "
                         "restart may forget them", result.entry_id, exc)
            return []
        return taken

    def reset(self, scope: str, at: float) -> list[BreakerTransition]:
        self._sync(at)
        if scope != "all" and scope not in self.core.scopes:
            known = ", ".join(["all", *self.core.scopes])
            raise KeyError(f"no breaker {scope!r}; known: {known}")
        taken = self.core.reset(scope, at)
        self._keep(taken)
        self._publish()
        return taken

    def states(self, at: float) -> Mapping[str, Breaker]:
        self._sync(at)
        return self.core.states()

    # --------------------------------------------------------------- journal
    def _keep(self, taken: Iterable[BreakerTransition]) -> None:
        for t in taken:
            if not (t.changed or t.trigger is BreakerTrigger.RESET):
                continue
            dest = t.dest if t.dest is not None else t.source
            log.warning("breaker {}: {} --{}--> {}: {}", t.scope, t.source, t.trigger, dest,
                        t.reason)
            if self.journal is not None:
                self._seen = self.journal.record_breaker(t.scope, t.at, t.trigger, t.source,
                                                         dest, t.row, t.reason)
            for listener in list(self._listeners):
                try:
                    listener(t)
                except Exception:
                    log.exception("breaker listener {} failed", listener)

    def _sync(self, at: float) -> None:
        """Take up the journal's records not seen yet: all of them at the first use (a
        restart), then those another process wrote (a reset from the command line)."""
        if self.journal is None:
            return
        records = self.journal.breaker_records(self._seen)
        for record in _last_per_scope(records).values():
            self.core.scope(record.scope).restore(BreakerState(record.dest), record.reason, at)
        if records:
            self._seen = records[-1].seq


def _last_per_scope(records: Iterable[BreakerRecord]) -> dict[str, BreakerRecord]:
    last: dict[str, BreakerRecord] = {}
    for record in records:
        last[record.scope] = record
    return last
