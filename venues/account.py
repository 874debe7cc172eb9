"""What a venue account is set up to do for one symbol, and the optional protocol that reads
and changes it (issue 15, item 2: the account pre-flight).

Leverage, margin mode and position mode live on the exchange account, set from its web
UI, and no order says them: a leg on an account left at 50x can be liquidated on a
modest move while the other leg stays, and a hedge-mode account refuses every order we
send. So they are read before anything is traded (``fsm.core.preflight`` judges them).

Every fact is optional: ``None`` means the venue could not tell (ccxt has no read for it
on that exchange, or the read failed), and the judge treats unknown as a warning, never
as a pass. ``notes`` says why a fact is unknown, in words an operator can act on.
A venue without these methods (a test double of the engine) is simply all unknown.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Protocol, runtime_checkable

import attrs


class PositionMode(enum.Enum):
    """One net position per symbol (``one_way``), or a long and a short side (``hedge``)."""

    ONE_WAY = "one_way"
    HEDGE = "hedge"


class MarginMode(enum.Enum):
    ISOLATED = "isolated"
    CROSS = "cross"
    PORTFOLIO = "portfolio"  # bybit's and okx's portfolio margin: a kind of cross


@attrs.frozen(kw_only=True)
class AccountFacts:
    """One venue account's set-up for one symbol, as read; None where unknown."""

    venue: str
    exchange: str  # the exchange id (binanceusdm, bybit, ...): fixes are worded per exchange
    symbol: str
    position_mode: PositionMode | None = None
    margin_mode: MarginMode | None = None
    leverage: Decimal | None = None
    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None
    min_qty: Decimal | None = None  # base units
    min_notional: Decimal | None = None  # quote units
    max_qty: Decimal | None = None  # base units, a limit order's maximum
    symbol_active: bool | None = None  # the exchange lists the symbol as trading
    can_trade: bool | None = None  # the key/account may place futures orders
    notes: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class AccountChange:
    """What ``--set-leverage`` / ``--set-margin-mode`` / ``--set-position-mode`` ask for."""

    leverage: int | None = None
    margin_mode: MarginMode | None = None
    position_mode: PositionMode | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.leverage, self.margin_mode, self.position_mode))


@runtime_checkable
class AccountReader(Protocol):
    """The optional part of a venue: read and change the account's set-up for a symbol."""

    async def account(self, symbol: str) -> AccountFacts: ...

    async def configure_account(self, symbol: str, change: AccountChange) -> None:
        """Apply ``change`` on the exchange (raises ``VenueError`` when it refuses)."""
        ...

    def carry_margin_mode(self, mode: MarginMode) -> None:
        """Where the exchange takes the margin mode with each order (okx), make our orders
        carry ``mode`` from now on; where it is an account setting, do nothing (the
        pre-flight reads and judges the setting instead)."""
        ...
