"""Building the two ccxt instances of a ``CcxtVenue`` and loading their markets once.

How ccxt must be configured to be safe here is not obvious from its documentation
(Decimal numbers, no currency fetch, only the market types we trade, demo versus
sandbox, hyperliquid's unasked-for builder-fee approval); it is all in this one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import ccxt.pro as ccxt_pro

from venues.ccxt.dialects import Dialect

__all__ = ["CREDENTIAL_FIELDS", "build", "share_markets", "text"]

CREDENTIAL_FIELDS = ("apiKey", "secret", "password", "walletAddress", "privateKey", "uid")


class _Hyperliquid(ccxt_pro.hyperliquid):  # type: ignore[misc]
    async def initialize_client(self) -> bool:
        """ccxt signs and sends a builder-fee approval and a referrer code before the first
        order; we send only the orders we were asked for."""
        return True


def text(value: Decimal) -> str:
    """Plain decimal notation (never ``1E+1``), trailing zeros kept as computed."""
    return format(value, "f")


def _classes(exchange_id: str) -> tuple[Any, Any]:
    """Both ccxt.pro: ``background`` watches order books (``watch_order_book``) where the
    exchange has them; its REST calls are async_support's own (ccxt.pro subclasses it)."""
    if exchange_id == "hyperliquid":
        return _Hyperliquid, _Hyperliquid
    return getattr(ccxt_pro, exchange_id), getattr(ccxt_pro, exchange_id)



def build(
    name: str,
    exchange_id: str,
    dialect: Dialect,
    credentials: Mapping[str, str],
    *,
    sandbox: bool,
    config: Mapping[str, Any],
    timeout_ms: int,
) -> tuple[Any, Any]:
    """The ``trading`` and ``background`` instances (both ccxt.pro), configured.

    ``background``'s rate limit is doubled so that the two together stay within the
    exchange's own per-account budget.
    """
    unknown = sorted(set(credentials) - set(CREDENTIAL_FIELDS))
    if unknown:
        raise ValueError(f"CcxtVenue {name}: unknown credential field(s) {unknown}; "
                         f"expected some of {', '.join(CREDENTIAL_FIELDS)}")
    trading_class, background_class = _classes(exchange_id)
    base_config: dict[str, Any] = {
        "enableRateLimit": True,
        "timeout": timeout_ms,
        "options": dict(dialect.options),
        **credentials,
        **dict(config),
    }
    trading = trading_class(dict(base_config, options=dict(base_config["options"])))
    background = background_class(dict(base_config, options=dict(base_config["options"])))
    background.rateLimit = background.rateLimit * 2
    for exchange in (trading, background):
        exchange.number = Decimal
        exchange.has = dict(exchange.has, fetchCurrencies=False)
        exchange.options["fetchMarkets"] = {"types": list(dialect.market_types)}
        if sandbox and dialect.paper == "demo":
            exchange.enable_demo_trading(True)
        elif sandbox:
            exchange.set_sandbox_mode(True)
    return trading, background


def share_markets(trading: Any, background: Any, dialect: Dialect) -> None:
    """After ``background.load_markets()``: make its markets usable, and ``trading``'s too."""
    if dialect.precision_as_text:
        for market in background.markets.values():
            precision = market.get("precision") or {}
            for key, value in list(precision.items()):
                if isinstance(value, Decimal):
                    precision[key] = text(value)
    # ccxt copies "market helper" options by indexing them; a market type we did
    # not load (hyperliquid's hip3) leaves its helper unset and raises KeyError.
    for helper in background.options.get("marketHelperProps") or []:
        background.options.setdefault(helper, None)
    trading.set_markets_from_exchange(background)
