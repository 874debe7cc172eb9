"""Drives a simulated venue's random market in virtual time: a book every step, outside
trades between steps.

Kept apart from the generator (``venues.sim.random_market``, which knows no clock) and
from the venue's front (``venues.sim.venue``): this is the only part that knows when.
Each step is one callback on the venue's timeline that books the next, so nothing is
drawn ahead of the run and closing the venue stops the market; after the path's
horizon the market stands still, so a simulation waiting on nothing still ends in
``SimulationDeadlock`` rather than spinning for ever. A step's book goes through the
same door as a scripted book move (pushed to subscribers, filling what it crosses); its
trades are drawn when the step starts and land at their own instants.
"""

from __future__ import annotations

import functools

from venues.market import MarketRules
from venues.sim.exchange import Exchange
from venues.sim.queue import Queues
from venues.sim.random_market import MarketGenerator, RandomMarket
from venues.sim.script import Liquidity, ScriptedBook
from venues.sim.timeline import Timeline

__all__ = ["MarketFlow"]


class MarketFlow:
    """One venue's random market on its timeline; ``start`` at the venue's time zero."""

    def __init__(self, model: RandomMarket, exchange: Exchange, timeline: Timeline,
                 symbol: str, rules: MarketRules) -> None:
        self.generator = MarketGenerator(model, exchange.name, rules)
        self._path = model.path
        self._exchange = exchange
        self._timeline = timeline
        self._symbol = symbol
        self._t0 = 0.0
        exchange.queues = Queues(model.flow.queue_power)

    @property
    def start_book(self) -> Liquidity:
        return self.generator.book

    def start(self, t0: float) -> None:
        self._t0 = t0
        self._trades(0)
        self._timeline.at(t0 + self._path.step_s, functools.partial(self._step, 1))

    def _step(self, k: int) -> None:
        book = self.generator.advance()
        self._exchange.move_book(ScriptedBook(at_s=k * self._path.step_s, book=book,
                                              symbol=self._symbol))
        if k < self._path.steps:
            self._trades(k)
            self._timeline.at(self._t0 + (k + 1) * self._path.step_s,
                              functools.partial(self._step, k + 1))

    def _trades(self, k: int) -> None:
        begin = self._t0 + k * self._path.step_s
        for trade in self.generator.trades():
            self._timeline.at(begin + trade.after_s, functools.partial(
                self._exchange.outside_trade, self._symbol, trade.side, trade.qty))
