"""The account view of one engine: per (venue, symbol), what the venue holds and what
its entries did there.

Why it exists: an entry alone knows the position read at its start plus its own fills.
Another entry of the same engine on the same account and symbol moves the same venue
position, so a reduce-only decision taken from one entry's view can be wrong: the venue
refuses the order ("would increase position") and the rollback can never finish. The
engine keeps one ``Account``; it sums what every live entry filled and still has in
flight, on top of the position the venue reported. It is pure (the shell feeds it the
positions it reads) and entries never read it directly: they ask for it with a command
(``ReadAccount``) and get its answer as a journaled event (``AccountRead``), so a replayed
entry decides exactly as it did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from fsm.core.events import AccountLeg
from fsm.core.orders import OrderRecord
from venues.market import Side

Key = tuple[str, str]  # (venue, symbol)
ZERO = Decimal(0)


def reduces_only(position: Decimal, pending_same_side: Decimal, side: Side, qty: Decimal) -> bool:
    """Whether ``side`` ``qty`` shrinks ``|position|`` even if every pending order on the same
    side trades first (they shrink it too, leaving less for this order to close)."""
    worst = position + side.sign * pending_same_side
    return worst * side.sign < 0 and abs(worst) >= qty


class Account:
    """What the venues hold, and every live entry's orders on them, per (venue, symbol)."""

    def __init__(self) -> None:
        self._base: dict[Key, Decimal] = {}
        # (venue, symbol) -> the live entries trading it, with their orders (a ledger)
        self._entries: dict[Key, dict[str, Iterable[OrderRecord]]] = {}
        self._keys: dict[str, frozenset[Key]] = {}

    def join(self, entry_id: str, orders: Iterable[OrderRecord],
             positions: Mapping[Key, Decimal]) -> None:
        """An entry starts: its orders count from now. A (venue, symbol) no live entry
        trades yet takes the position just read; one already followed keeps its view
        (the read may lag, or lead, fills the engine has counted)."""
        self._keys[entry_id] = frozenset(positions)
        for key, position in positions.items():
            followers = self._entries.setdefault(key, {})
            if not followers:
                self._base[key] = position
            followers[entry_id] = orders

    def leave(self, entry_id: str) -> None:
        """An entry ended: its fills stay in the account's position, its orders no longer
        count as pending; a (venue, symbol) nobody trades is forgotten (read afresh next)."""
        for key in self._keys.pop(entry_id, ()):
            followers = self._entries[key]
            orders = followers.pop(entry_id)
            self._base[key] = self._base.get(key, ZERO) + _filled(orders, key)
            if not followers:
                del self._entries[key]
                self._base.pop(key, None)

    def refresh(self, key: Key, position: Decimal) -> None:
        """The venue just reported ``position``: it already holds the live entries' fills."""
        self._base[key] = position - self._live_fills(key)

    def position(self, key: Key) -> Decimal:
        return self._base.get(key, ZERO) + self._live_fills(key)

    def view(self, key: Key, entry_id: str) -> AccountLeg:
        """``key`` as ``entry_id`` should see it: the position, and what the *other* live
        entries' orders may still trade there."""
        buying = selling = ZERO
        for other, orders in self._entries.get(key, {}).items():
            if other == entry_id:
                continue
            for record in orders:
                if record.live and (record.command.venue, record.command.symbol) == key:
                    left = max(record.qty - record.filled, ZERO)
                    if record.command.side is Side.BUY:
                        buying += left
                    else:
                        selling += left
        return AccountLeg(self.position(key), buying, selling)

    def _live_fills(self, key: Key) -> Decimal:
        return sum((_filled(orders, key) for orders in self._entries.get(key, {}).values()),
                   ZERO)


def _filled(orders: Iterable[OrderRecord], key: Key) -> Decimal:
    return sum(
        (r.command.side.sign * r.filled for r in orders
         if (r.command.venue, r.command.symbol) == key),
        ZERO,
    )
