"""The account set-up an exchange double answers with (leverage, margin and position
modes, the key's trade permission), settable by a test and by the exchange's own
set-up endpoints, so ``atomic-entry check`` and ``enter``'s pre-flight can be driven
against a hedge-mode or over-leveraged account.

Defaults are a safely set-up account (one-way, isolated, 3x, trading allowed), so every
other test's entries pass the pre-flight untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class AccountState:
    hedge: bool = False  # hedge (dual-side) position mode
    margin: str = "isolated"  # "isolated" | "cross"
    leverage: Decimal = Decimal(3)
    can_trade: bool = True
    # when set, the set-up endpoints refuse with this text (hyperliquid: a margin change
    # with a position open), as the exchange's own error
    refused: str | None = None
    # what the set-up endpoints were asked, in order ("leverage 3", "margin isolated", ...)
    changes: list[str] = field(default_factory=list)
