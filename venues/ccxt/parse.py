"""ccxt's parsed structures turned into Venue values, refusing what does not add up.

ccxt parses with ``number = Decimal`` but a few fields still arrive as floats (values it
computes, or exchanges that send JSON numbers it passes through). A float that came
from JSON prints back as the text the exchange sent, so it is converted through
``repr``; NaN, infinities and anything that is not a number are refused. A payload with
a missing or impossible field raises ``BadVenuePayload`` naming the field, what was
found and what was expected: an adapter that guesses here guesses with money.

Quantities: ccxt counts ``amount`` and ``filled`` in contracts; the Venue protocol counts
base-asset units. ``contract_size`` converts (1 on binance, bybit and hyperliquid linear
perps; 0.01 BTC per contract on okx's BTC-USDT-SWAP, for example).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from venues.market import OrderStatus
from venues.protocol import (
    FillUpdate,
    Liquidity,
    OrderSnapshot,
    OutcomeUnknown,
)

_STATUS = {
    "open": OrderStatus.OPEN,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "cancelled": OrderStatus.CANCELED,
    "expired": OrderStatus.CANCELED,
    "rejected": OrderStatus.REJECTED,
}


class BadVenuePayload(OutcomeUnknown):
    """The venue answered something we cannot read; what happened stays unknown."""


def number(value: Any, what: str) -> Decimal:
    """A Decimal from what ccxt hands over: Decimal, str, int, or a JSON-born float."""
    if isinstance(value, bool) or value is None:
        raise BadVenuePayload(f"{what}: expected a number, got {value!r}")
    if isinstance(value, float):
        value = repr(value)
    if not isinstance(value, Decimal | str | int):
        raise BadVenuePayload(f"{what}: expected a number, got {type(value).__name__} {value!r}")
    try:
        result = Decimal(value)
    except (InvalidOperation, ValueError):
        raise BadVenuePayload(f"{what}: expected a number, got {value!r}") from None
    if not result.is_finite():
        raise BadVenuePayload(f"{what}: expected a finite number, got {value!r}")
    return result


def optional_number(value: Any, what: str) -> Decimal | None:
    return None if value is None else number(value, what)


def field(payload: Any, key: str, where: str) -> Any:
    if not isinstance(payload, dict):
        raise BadVenuePayload(f"{where}: expected an object, got {type(payload).__name__}")
    value = payload.get(key)
    if value is None:
        raise BadVenuePayload(f"{where}: field {key!r} is missing or null")
    return value


def status(order: dict[str, Any], contract_size: Decimal, where: str) -> tuple[
    OrderStatus, Decimal, Decimal
]:
    """(status, qty, filled) in base units; ``closed`` with ``filled < amount`` is a cancel.

    bybit reports PartiallyFilledCanceled as ``closed``: taking that for "filled" would
    count quantity that never traded.
    """
    raw = field(order, "status", where)
    mapped = _STATUS.get(str(raw))
    if mapped is None:
        raise BadVenuePayload(
            f"{where}: status {raw!r} is not one of {', '.join(sorted(_STATUS))}"
        )
    amount = number(field(order, "amount", where), f"{where}.amount") * contract_size
    filled = number(field(order, "filled", where), f"{where}.filled") * contract_size
    if amount <= 0 or filled < 0 or filled > amount:
        raise BadVenuePayload(
            f"{where}: filled {filled} of amount {amount}: expected 0 <= filled <= amount > 0"
        )
    if mapped is OrderStatus.FILLED and filled < amount:
        mapped = OrderStatus.CANCELED
    return mapped, amount, filled


def fill(
    trade: dict[str, Any], *, venue: str, symbol: str, client_id: str, contract_size: Decimal,
    fee_fields: tuple[tuple[str, int], ...] = (),
) -> FillUpdate:
    where = f"{venue} trade of {client_id}"
    trade_id = str(field(trade, "id", where))
    qty = number(field(trade, "amount", where), f"{where}.amount") * contract_size
    price = number(field(trade, "price", where), f"{where}.price")
    if qty <= 0 or price <= 0:
        raise BadVenuePayload(f"{where} {trade_id}: expected positive amount and price, "
                              f"got {qty} at {price}")
    fee, currency = _fee(trade, where, fee_fields)
    return FillUpdate(venue=venue, symbol=symbol, client_id=client_id, trade_id=trade_id,
                      qty=qty, price=price, fee=fee, liquidity=_LIQUIDITY.get(
                          str(trade.get("takerOrMaker"))), fee_currency=currency)


_LIQUIDITY = {"maker": Liquidity.MAKER, "taker": Liquidity.TAKER}


def _fee(trade: dict[str, Any], where: str, fee_fields: tuple[tuple[str, int], ...]
         ) -> tuple[Decimal, str | None]:
    """The fee paid (positive) for one trade and its currency (None: not stated).

    With ``number = Decimal`` ccxt 4.5 loses ``fee.cost``: its ``safe_string`` ignores
    Decimal values (the check for them is commented out), so the fee it has already
    converted reads back as missing. So we read the exchange's own field from ``info``
    (``fee_fields``: name and the sign that makes a charge positive) and use ccxt's
    value only when it survived.
    """
    fee_info = trade.get("fee")
    currency = fee_info.get("currency") if isinstance(fee_info, dict) else None
    currency = str(currency) if currency not in (None, "") else None
    if isinstance(fee_info, dict) and fee_info.get("cost") is not None:
        return number(fee_info["cost"], f"{where}.fee.cost"), currency
    info = trade.get("info")
    if isinstance(info, dict):
        for name, sign in fee_fields:
            if info.get(name) not in (None, ""):
                return number(info[name], f"{where}.info.{name}") * sign, currency
    return Decimal(0), None


def snapshot(
    order: dict[str, Any], trades: list[dict[str, Any]], *, venue: str, symbol: str,
    client_id: str, contract_size: Decimal, fee_fields: tuple[tuple[str, int], ...] = (),
) -> OrderSnapshot:
    where = f"{venue} order {client_id}"
    state, qty, filled = status(order, contract_size, where)
    fills = tuple(
        fill(t, venue=venue, symbol=symbol, client_id=client_id, contract_size=contract_size,
             fee_fields=fee_fields)
        for t in trades
    )
    return OrderSnapshot(client_id=client_id, status=state, qty=qty, filled=filled, fills=fills)
