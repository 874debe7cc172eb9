"""The choices of ``EntryConfig`` that are enumerations, each with why it exists.

They live apart from the config's fields and validators (``fsm.core.config`` re-exports
them) so that each module keeps one job and stays short.
"""

from __future__ import annotations

import enum

from venues.account import MarginMode, PositionMode


class HedgeOrder(enum.Enum):
    MARKET = "market"
    AGGRESSIVE_LIMIT = "aggressive_limit"


class HedgeMode(enum.Enum):
    """How the first imbalance is hedged while the lagging leg's quote still rests.

    ``cancel_then_hedge`` cancels that quote, waits for the venue to confirm it, then
    sends a hedge order: two round trips, and it works everywhere. ``amend_to_cross``
    amends the resting quote itself through the touch, sized to the imbalance: one
    round trip, used only where the venue supports an atomic amend (the market rules
    say so); elsewhere the entry falls back to cancel-then-hedge.
    """

    CANCEL_THEN_HEDGE = "cancel_then_hedge"
    AMEND_TO_CROSS = "amend_to_cross"


class PlanChoice(enum.Enum):
    """How the legs start: chosen by the planner (``auto``) or forced, ``<long>_<short>``.

    ``maker_maker`` (both legs quote, today's behaviour) is the default until the cost
    benchmark justifies ``auto`` (``fsm.core.planner``).
    """

    AUTO = "auto"
    MAKER_MAKER = "maker_maker"
    MAKER_TAKER = "maker_taker"
    TAKER_MAKER = "taker_maker"
    TAKER_TAKER = "taker_taker"


class PlanHedge(enum.Enum):
    """How the leg left behind is hedged once the other filled: at market at once, or its
    resting quote kept as a tight limit for at most the planner's tau* first
    (``adaptive``); ``auto`` lets the planner choose by expected saving."""

    MARKET = "market"
    ADAPTIVE = "adaptive"
    AUTO = "auto"


class RequiredMarginMode(enum.Enum):
    """The margin mode the pre-flight requires of every leg's account (``any``: not checked).

    ``isolated`` by default: there the leverage setting *is* the position's leverage (its
    margin is notional / leverage), so ``max_leverage`` bounds how far the price may move
    before the leg is liquidated. Under cross margin the setting bounds only the initial
    margin, and the liquidation price depends on everything else in the wallet, which the
    pre-flight cannot bound. A desk that sizes its cross wallet itself may ask for ``cross``
    or ``any``.
    """

    ISOLATED = MarginMode.ISOLATED.value
    CROSS = MarginMode.CROSS.value
    ANY = "any"


class RequiredPositionMode(enum.Enum):
    """The position mode the pre-flight requires: one-way only, by design.

    A hedge-mode account needs a position side on every order (binance ``positionSide``,
    bybit ``positionIdx``, okx ``posSide``) and reduce-only expressed through it; orders
    without one are refused (binance -4061, bybit 10001, okx 51000). Supporting it would
    add a per-exchange mapping to every order the engine sends, for no benefit to a
    two-venue hedge (each venue holds one side). So hedge-mode accounts are refused
    before anything is sent, with the fix named (README "check").
    """

    ONE_WAY = PositionMode.ONE_WAY.value
