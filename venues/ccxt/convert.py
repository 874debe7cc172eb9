"""Between ccxt's shapes and units and ours: markets, books, positions, orders, prices.

Each exchange answers in ccxt's unified shape with its own gaps (contract sizes, fee
fields, bybit's order lookup) and wants amounts in contracts and prices on its tick;
the conversions are kept apart from sending and rate-limiting requests so that the
adapter reads as the protocol it implements.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from venues.ccxt import parse as ccxt_parse
from venues.ccxt.dialects import Dialect
from venues.market import Book, BookError, BookLevel, MarketRules, Side
from venues.protocol import OrderNotFound, OrderRejected, UnusableBook

__all__ = [
    "BOOK_LIMITS",
    "book",
    "fetch_order",
    "fetch_trades",
    "maker_price",
    "maker_round",
    "net_position",
    "rules",
    "tick_at",
    "to_contracts",
]

BOOK_LIMITS = (5, 10, 20, 50, 100, 500, 1000)


async def rules(market: dict[str, Any], size: Decimal,
                fees: Callable[[], Awaitable[tuple[Decimal, Decimal]]],
                supports_amend: bool, where: str) -> MarketRules:
    """A market's rules in base units (ccxt gives amounts in contracts of ``size``).

    ``fees`` (maker, taker) is asked only once the market itself reads correctly.
    """
    precision = ccxt_parse.field(market, "precision", where)
    lot = ccxt_parse.number(ccxt_parse.field(precision, "amount", where), "amount step")
    tick = ccxt_parse.number(ccxt_parse.field(precision, "price", where), "price tick")
    limits = market.get("limits") or {}
    min_amount = ccxt_parse.optional_number((limits.get("amount") or {}).get("min"),
                                            f"{where} min amount")
    min_cost = ccxt_parse.optional_number((limits.get("cost") or {}).get("min"),
                                          f"{where} min cost")
    maker, taker = await fees()
    return MarketRules(
        lot=lot * size, tick=tick,
        min_qty=(min_amount if min_amount is not None else lot) * size,
        min_notional=min_cost or Decimal(0), maker_fee=maker, taker_fee=taker,
        supports_amend=supports_amend,
    )


def book(raw: dict[str, Any], depth: int, size: Decimal, where: str) -> Book:
    def levels(side: str) -> tuple[BookLevel, ...]:
        rows = ccxt_parse.field(raw, side, where)
        return tuple(
            BookLevel(ccxt_parse.number(row[0], f"{side} price"),
                      ccxt_parse.number(row[1], f"{side} amount") * size)
            for row in rows[:depth]
        )

    try:
        return Book(bids=levels("bids"), asks=levels("asks"))
    except BookError as exc:  # a well-formed answer from a market no one could price from
        raise UnusableBook(f"{where}: {exc}") from None


def net_position(positions: list[dict[str, Any]], symbol: str, size: Decimal,
                 name: str) -> Decimal:
    """The signed base-unit position in ``symbol`` (longs positive) over ccxt's rows."""
    net = Decimal(0)
    for pos in positions:
        if pos.get("symbol") != symbol or not pos.get("contracts"):
            continue
        contracts = ccxt_parse.number(pos["contracts"], f"{name} position contracts")
        side = pos.get("side")
        if side not in ("long", "short"):
            raise ccxt_parse.BadVenuePayload(
                f"{name} position {symbol}: side {side!r}, expected long or short")
        net += contracts * size * (1 if side == "long" else -1)
    return net


async def fetch_order(exchange: Any, dialect: Dialect, market: dict[str, Any],
                      client_id: str, name: str) -> dict[str, Any]:
    if dialect.exchange_id == "bybit":
        # ccxt's bybit fetch_order refuses without an "acknowledged" flag and only
        # looks at the last 500 orders; realtime then history by orderLinkId is exact.
        request = {"category": "linear", "symbol": market["id"],
                   **dialect.lookup(client_id)}
        for method in ("privateGetV5OrderRealtime", "privateGetV5OrderHistory"):
            answer = await getattr(exchange, method)(request)
            rows = ((answer or {}).get("result") or {}).get("list") or []
            if rows:
                parsed: dict[str, Any] = exchange.parse_order(rows[0], market)
                return parsed
        raise OrderNotFound(f"{name}: order {client_id} not found")
    result: dict[str, Any] = await exchange.fetch_order(
        None, market["symbol"], dialect.lookup(client_id))
    return result


async def fetch_trades(exchange: Any, dialect: Dialect, symbol: str,
                       order_id: str) -> list[dict[str, Any]]:
    param = dialect.trades_order_param
    params = {param: order_id} if param else {}
    trades = await exchange.fetch_my_trades(symbol, None, None, params)
    return [t for t in trades if str(t.get("order")) == order_id]


def to_contracts(order_qty: Decimal, size: Decimal, rules: MarketRules, name: str,
                 cid: str) -> Decimal:
    """An order's base quantity in contracts, refused unsent when off the lot or too small."""
    if order_qty <= 0 or order_qty % rules.lot != 0:
        raise OrderRejected(f"{name}: order {cid} not sent: quantity {order_qty} is "
                            f"not a positive multiple of the lot {rules.lot}")
    if order_qty < rules.min_qty:
        raise OrderRejected(f"{name}: order {cid} not sent: quantity {order_qty} is "
                            f"below the minimum {rules.min_qty}")
    return order_qty / size


def tick_at(price: Decimal, tick: Decimal, dialect: Dialect, lot: Decimal) -> Decimal:
    """The tick a price of this size must sit on: ``tick`` unless the exchange limits
    significant figures (hyperliquid: 5 of them, at most 6 - size decimals places, any
    integer allowed), where it is recomputed from this very price."""
    figures = dialect.price_significant_figures
    if figures is None or price <= 0:
        return tick
    size_decimals = max(0, -lot.normalize().as_tuple().exponent)  # type: ignore[operator]
    places = min(dialect.price_max_decimals - size_decimals,
                 max(0, figures - 1 - price.adjusted()))
    return Decimal(1).scaleb(-max(0, places))


def maker_price(price: Decimal, rules: MarketRules, dialect: Dialect, side: Side) -> Decimal:
    """``price`` on the tick that holds at it, rounded toward our own side."""
    return maker_round(price, tick_at(price, rules.tick, dialect, rules.lot), side)


def maker_round(price: Decimal, tick: Decimal, side: Side) -> Decimal:
    """Round to the tick toward our own side (buy down, sell up), never to nearest:
    ccxt's ``price_to_precision`` rounds to nearest, which can cross the spread."""
    rounding = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
    return (price / tick).to_integral_value(rounding=rounding) * tick
