"""Where each of our resting orders stands in its price level's queue, and which outside
trades reach it.

A maker quote fills when the market trades through its queue, not when the price
touches it: an order that joined behind 2 BTC at its level fills only after 2 BTC traded
there. The models follow hftbacktest's queue models. An order joins the back of its
level (the outside quantity resting at its price then is ahead of it). Outside trades
consume a level front first: the quantity ahead, then us, then whoever joined after.
When the book is regenerated and the level holds more, the newcomers stand behind us.
When it holds less (cancellations), the risk-averse model (the default) takes the
difference from ahead of us only where it must (``ahead = min(ahead, level)``); the
probabilistic model (``power``: hftbacktest's ``ProbQueueModel`` with its power function)
takes the share ``back^n / (back^n + front^n)`` of it from behind us and the rest from
ahead, rounded up to the lot so every fill stays a whole number of lots. A trade that
walks through our price fills us fully, up to what it had left. A book that moves
through our price fills us as a scripted book move does (``Exchange.move_book``).

Outside trades consume the outside book in place, as our own taker orders do, until the
next step regenerates it; they never take a side's last level below one lot, because
the generated depth stands for a deeper real book that never empties.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_CEILING, Decimal

from venues.market import BookLevel, Side
from venues.sim.matching import ZERO, MarketState, SimOrder

__all__ = ["Queues"]

Fill = tuple[SimOrder, Decimal, Decimal]  # order, qty, price


def _level_qty(levels: list[BookLevel], price: Decimal) -> Decimal:
    for level in levels:
        if level.price == price:
            return level.qty
    return ZERO


def _own_side(market: MarketState, side: Side) -> list[BookLevel]:
    """The outside levels an order on ``side`` rests among (the bids for a buy)."""
    return market.bids if side is Side.BUY else market.asks


class Queues:
    """Queue ahead of each of our resting orders on one venue; see the module docstring."""

    def __init__(self, power: float | None = None) -> None:
        """``power``: the probabilistic model's exponent; None: the risk-averse model."""
        self.ahead: dict[str, Decimal] = {}
        self._power = power

    def join(self, sim: SimOrder, market: MarketState) -> None:
        """``sim`` rests (or was re-priced): it joins the back of its level."""
        self.ahead[sim.client_id] = _level_qty(_own_side(market, sim.side), sim.limit_price)

    def leave(self, client_id: str) -> None:
        self.ahead.pop(client_id, None)

    def book_changed(self, market: MarketState,
                     before: tuple[list[BookLevel], list[BookLevel]],
                     resting: Iterable[SimOrder]) -> None:
        """A regenerated book (``before``: its bids and asks until now): each resting
        order's level shrank or grew, and its queue ahead with it (module docstring)."""
        for sim in resting:
            cid = sim.client_id
            if sim.live and sim.symbol == market.symbol and cid in self.ahead:
                price = sim.limit_price
                new = _level_qty(_own_side(market, sim.side), price)
                old = _level_qty(before[0] if sim.side is Side.BUY else before[1], price)
                self.ahead[cid] = self._shrunk(self.ahead[cid], old, new, market.rules.lot)

    def _shrunk(self, front: Decimal, old: Decimal, new: Decimal, lot: Decimal) -> Decimal:
        if self._power is None or new >= old or front <= 0:
            return min(front, new)
        change, back = old - new, max(old - front, ZERO)
        weight_front, weight_back = float(front) ** self._power, float(back) ** self._power
        share_back = Decimal(repr(weight_back / (weight_front + weight_back)))
        estimate = front - (1 - share_back) * change + min(back - share_back * change, ZERO)
        estimate = (estimate / lot).to_integral_value(ROUND_CEILING) * lot
        return max(min(estimate, new), ZERO)

    def trade(self, market: MarketState, taker: Side, qty: Decimal,
              resting: Iterable[SimOrder]) -> list[Fill]:
        """An outside market order of ``qty`` on ``taker``'s side walks the book merged with
        our resting orders it can reach, best price first; returns our fills."""
        levels = market.opposite(taker)
        ours = sorted((sim for sim in resting
                       if sim.live and sim.symbol == market.symbol and sim.side is not taker),
                      key=lambda sim: sim.limit_price * taker.sign)  # stable: time priority
        buying = taker is Side.BUY
        lot = market.rules.lot
        fills: list[Fill] = []
        left, i = qty, 0
        while left > 0:
            out = levels[0].price if levels else None
            our = ours[i].limit_price if i < len(ours) else None
            if out is None and our is None:
                break
            if our is None or (out is not None and (out < our if buying else out > our)):
                price = out
            else:
                price = our
            assert price is not None
            group = []
            while i < len(ours) and ours[i].limit_price == price:
                group.append(ours[i])
                i += 1
            outside = levels[0].qty if levels and levels[0].price == price else ZERO
            last = outside > 0 and len(levels) == 1
            usable = max(outside - lot, ZERO) if last else outside
            taken = ZERO
            for sim in group:
                need = min(self.ahead.get(sim.client_id, ZERO), outside) - taken
                if need > 0:
                    step = min(left, need, usable - taken)
                    left -= step
                    taken += step
                    if step < need:  # the trade ended, or the last level's reserve is ahead
                        break
                if left == 0:
                    break
                filled = min(left, sim.remaining)
                fills.append((sim, filled, price))
                left -= filled
            if left > 0:
                step = min(left, usable - taken)
                taken += step
                left -= step
            for sim in group:
                if sim.client_id in self.ahead:
                    self.ahead[sim.client_id] = max(self.ahead[sim.client_id] - taken, ZERO)
            if outside > 0:
                if taken == outside:
                    levels.pop(0)
                elif taken > 0:
                    levels[0] = BookLevel(price=price, qty=outside - taken)
            if last:
                break
        return fills
