"""The simulated venue's account set-up: what ``atomic-entry check`` reads of it.

Safe by default (one-way, isolated, 3x, trading allowed), so nothing that embeds a
simulated venue is refused by the pre-flight unless a test sets ``account_setup`` to an
unsafe account (hedge mode, 50x) to see it refused. Fees and minimums are the market's
own rules; the simulator has no maximum order size, so that fact is unknown, as it is
on an exchange that does not publish one.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from venues.account import AccountChange, AccountFacts, MarginMode, PositionMode
from venues.market import MarketRules


@attrs.define
class SimAccount:
    position_mode: PositionMode = PositionMode.ONE_WAY
    margin_mode: MarginMode = MarginMode.ISOLATED
    leverage: Decimal = Decimal(3)
    can_trade: bool = True


class SimAccountReads:
    """``SimulatedVenue``'s ``AccountReader`` methods, answered from ``account_setup``."""

    name: str
    _account_setup: SimAccount | None = None

    @property
    def account_setup(self) -> SimAccount:
        if self._account_setup is None:
            self._account_setup = SimAccount()
        return self._account_setup

    async def market_rules(self, symbol: str) -> MarketRules:
        raise NotImplementedError  # the venue's own

    async def account(self, symbol: str) -> AccountFacts:
        rules = await self.market_rules(symbol)
        setup = self.account_setup
        return AccountFacts(
            venue=self.name, exchange="simulated", symbol=symbol,
            position_mode=setup.position_mode, margin_mode=setup.margin_mode,
            leverage=setup.leverage, maker_fee=rules.maker_fee, taker_fee=rules.taker_fee,
            min_qty=rules.min_qty, min_notional=rules.min_notional, max_qty=None,
            symbol_active=True, can_trade=setup.can_trade,
            notes=("max order: the simulated venue has no maximum order size",))

    async def configure_account(self, symbol: str, change: AccountChange) -> None:
        setup = self.account_setup
        if change.position_mode is not None:
            setup.position_mode = change.position_mode
        if change.margin_mode is not None:
            setup.margin_mode = change.margin_mode
        if change.leverage is not None:
            setup.leverage = Decimal(change.leverage)

    def carry_margin_mode(self, mode: MarginMode) -> None:
        """The simulated account's margin mode is an account setting: nothing to carry."""
