"""What an entry knows of the account it shares with the engine's other entries, and the
rows that ask for it.

Why: a reduce-only order is only accepted if it shrinks the venue's position, and that
position is moved by every entry of the engine on the same account and symbol, not by
this entry alone. Before each flatten round and each trim the entry asks the engine's
account view (``fsm.core.account``) with a ``ReadAccount`` command and decides from the
``AccountRead`` answer (a journaled event, so a replay decides the same); after a
reduce-only refusal it asks for the venue position to be read afresh first. Without an
answer (never asked: an engine-less model) it falls back to "position at my start plus
my own fills".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fsm.core import events as ev
from fsm.core.account import reduces_only
from fsm.core.commands import ReadAccount
from fsm.core.config import EntryConfig
from fsm.core.entry_facts import EntryFacts
from fsm.core.spec import OrderState
from fsm.core.values import EntryRequest
from venues.market import Leg, Purpose, Side

_LEGS = (Leg.LONG, Leg.SHORT)
# How a venue ends a reduce-only order that the position does not allow: refused, or
# clipped and cancelled (an unsent one says nothing about the position).
_REDUCING = frozenset({Purpose.ROLLBACK, Purpose.TRIM})
_REFUSED_OR_CLIPPED = frozenset({OrderState.REJECTED, OrderState.CANCELED})


class EntryAccount(EntryFacts):
    """The account view of an entry, its guard and effects (named by the entry table)."""

    def __init__(self, entry_id: str, request: EntryRequest, config: EntryConfig) -> None:
        super().__init__(entry_id, request, config)
        self.account: dict[Leg, ev.AccountLeg] = {}
        self._own_at_read: dict[Leg, Decimal] = {}  # own signed fills when it was read
        self._reread_for: set[str] = set()  # refused reduce-only orders already re-read for

    def _own_signed(self, leg: Leg) -> Decimal:
        """This entry's fills on ``leg`` as the venue counts them (longs positive)."""
        return self.position(leg) if leg is Leg.LONG else -self.position(leg)

    def _reduce_only_now(self, leg: Leg, side: Side, qty: Decimal) -> bool:
        """Whether ``side`` ``qty`` on ``leg`` may go reduce-only: decided against the
        account as last read (moved by this entry's own fills since), where other
        entries' pending orders on the same side may trade first."""
        view = self.account.get(leg)
        if view is None:
            return self._reduces_only(leg, side, qty)
        position = view.position + self._own_signed(leg) - self._own_at_read[leg]
        return reduces_only(position, view.pending(side), side, qty)

    def absorb_account(self, event: ev.AccountRead) -> None:
        for leg, view in event.legs.items():
            self.account[leg] = view
            self._own_at_read[leg] = self._own_signed(leg)

    def _short_reduce_only(self) -> list[str]:
        return [r.client_id for r in self.ledger
                if r.purpose in _REDUCING and r.command.reduce_only
                and r.state in _REFUSED_OR_CLIPPED and r.filled < r.qty and not r.unsendable
                and r.client_id not in self._reread_for]

    # -- named by the entry table
    def reduce_only_refused(self, *_: Any) -> bool:
        """A reduce-only flatten or trim was refused or clipped short: the venue's position is not
        what the account said (another entry, or someone outside this engine, moved it)."""
        return bool(self._short_reduce_only())

    def read_account(self, *_: Any) -> None:
        self._out.append(ReadAccount(_LEGS))

    def read_positions(self, *_: Any) -> None:
        refused = self._short_reduce_only()
        self._reread_for.update(refused)
        fresh = {self.ledger.orders[cid].command.leg for cid in refused}
        self._out.append(ReadAccount(_LEGS, tuple(leg for leg in _LEGS if leg in fresh)))
