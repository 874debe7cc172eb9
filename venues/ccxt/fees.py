"""An exchange's maker and taker rates for one symbol, read the way each exchange means them.

ccxt's unified ``fetch_trading_fee`` is nearly right, and the gaps cost money:

- okx answers both the coin-margined rates (``maker``/``taker``) and the USDT- or
  USDC-margined ones (``makerU``/``takerU``, ``makerUSDC``/``takerUSDC``), negative
  meaning paid. ccxt flips the sign but takes the coin-margined pair first, which is the
  wrong schedule for a linear perpetual; so okx's rates are read from ``info`` by the
  market's settle currency, sign flipped.
- hyperliquid's rates are the user's (``userAddRate`` maker, ``userCrossRate`` taker),
  asked by wallet address: an account without an API key still has them.

Where the account's rates cannot be read, the exchange's base tier below stands in
(then ccxt's market defaults, for an exchange not in the table). The adapter reads the
rates once per symbol, with the market rules, and caches them with those.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from venues.ccxt.parse import BadVenuePayload, number

D = Decimal
# Base (lowest-volume, no discount) tiers, as fractions: (maker, taker).
STATIC_FALLBACK: dict[str, tuple[Decimal, Decimal]] = {
    "binanceusdm": (D("0.0002"), D("0.0005")),
    "bybit": (D("0.0002"), D("0.00055")),
    "okx": (D("0.0002"), D("0.0005")),
    "hyperliquid": (D("0.00015"), D("0.00045")),
}

_OKX_FIELDS = {"USDT": ("makerU", "takerU"), "USDC": ("makerUSDC", "takerUSDC")}


def account_rates(exchange_id: str, fee: Any, market: dict[str, Any]) -> tuple[Decimal, Decimal]:
    """(maker, taker) from a ``fetch_trading_fee`` answer; a charge is positive."""
    where = f"{exchange_id} trading fee"
    if not isinstance(fee, dict):
        raise BadVenuePayload(f"{where}: expected an object, got {type(fee).__name__}")
    if exchange_id == "okx" and market.get("linear"):
        info = fee.get("info")
        names = _OKX_FIELDS.get(str(market.get("settle")))
        if not isinstance(info, dict) or names is None:
            raise BadVenuePayload(f"{where}: no rates for settle {market.get('settle')!r}")
        maker, taker = (info.get(name) for name in names)
        if maker in (None, "") or taker in (None, ""):
            raise BadVenuePayload(f"{where}: {names[0]}/{names[1]} missing in {info!r}")
        return (-number(maker, f"{where}.{names[0]}"), -number(taker, f"{where}.{names[1]}"))
    return (number(fee.get("maker"), f"{where}.maker"), number(fee.get("taker"), f"{where}.taker"))


def default_rates(exchange_id: str, market: dict[str, Any]) -> tuple[Decimal, Decimal]:
    """The exchange's base tier, else ccxt's market defaults, else nothing charged."""
    known = STATIC_FALLBACK.get(exchange_id)
    if known is not None:
        return known
    return (number(market.get("maker", 0), "maker fee"), number(market.get("taker", 0),
                                                                "taker fee"))


def can_read_account(exchange: Any) -> bool:
    """Whether ``fetch_trading_fee`` can answer: it needs credentials, and hyperliquid's
    (by wallet address) come without an API key."""
    return bool(exchange.has.get("fetchTradingFee")) and bool(
        getattr(exchange, "apiKey", None) or getattr(exchange, "walletAddress", None))


async def read_rates(exchange: Any, exchange_id: str, symbol: str, market: dict[str, Any],
                     warn: Callable[[str], None]) -> tuple[Decimal, Decimal]:
    """The account's own fee tier where the exchange tells it, else the base tier; a
    failed read goes to ``warn`` (the caller scrubs it) and costs only
    the tier's precision, never the entry."""
    if can_read_account(exchange):
        try:
            return account_rates(exchange_id, await exchange.fetch_trading_fee(symbol), market)
        except Exception as exc:
            warn(f"account fees unavailable, using the base tier: {exc}")
    return default_rates(exchange_id, market)
