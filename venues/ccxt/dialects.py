"""Per-exchange quirks, in one table, so the adapter itself stays exchange-neutral.

Each ``Dialect`` says how one exchange wants what the unified API does not normalise:
the native client-order-id parameter and its format, how to look an order up by that
id, which error codes ccxt classifies wrongly for us (``ErrorRule``: a duplicate client
id, an order already finished, an overloaded server), whether a cancel answer is the final
word, whether a market order needs a price, and the ccxt options that keep ccxt from
doing things behind our back (retries, builder fees, extra signed actions).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

import attrs

from venues import protocol as base
from venues.market import (
    OrderKind,
    PlaceOrder,
    TimeInForce,
)

_ALNUM = re.compile(r"^[A-Za-z0-9]{1,32}$")


def _plain_id(cid: str) -> str:
    return cid


def _okx_id(cid: str) -> str:
    if not _ALNUM.match(cid):
        raise ValueError(f"okx clOrdId {cid!r}: expected 1 to 32 ASCII letters or digits")
    return cid


def hyperliquid_cloid(cid: str) -> str:
    """Hyperliquid wants a 128-bit hex ``cloid``: the first 16 bytes of sha256(our id).

    Deterministic, so the same intent maps to the same cloid on every retry and after a
    restart; collisions between our ids would need a sha256 collision.
    """
    return "0x" + hashlib.sha256(cid.encode("ascii")).digest()[:16].hex()


_ALL_OPERATIONS = ("place", "cancel", "query", "amend", "read")


@attrs.frozen
class ErrorRule:
    """An exchange error ccxt maps to a class that means something else to us.

    ``marker`` is the exchange's code (matched as a whole token of ccxt's message, which
    carries the exchange's JSON body, so ``51169`` never matches inside an order id) or
    a phrase of its message. The rule applies only to ``operations``: "already
    finished" on a cancel says the order is terminal (query it), not "refused, still
    live", which is what ccxt's ``InvalidOrder`` would make of it.
    """

    marker: str
    outcome: type[base.VenueError]
    why: str
    operations: tuple[str, ...] = _ALL_OPERATIONS

    def matches(self, text: str, operation: str) -> bool:
        if operation not in self.operations:
            return False
        if self.marker.lstrip("-").isdigit():
            return re.search(rf"(?<![\w.-]){re.escape(self.marker)}(?![\w.])", text) is not None
        return self.marker in text


def _duplicate(code: str) -> ErrorRule:
    """A create refused because our client id is taken: an earlier attempt whose answer
    was lost most likely placed it, so the order may exist (never "rejected")."""
    return ErrorRule(code, base.OutcomeUnknown, "duplicate client id: the order may exist",
                     ("place",))


def _finished(marker: str) -> ErrorRule:
    """A cancel or amend refused because the order is already filled or canceled: it is
    terminal, which a query tells exactly (the gateway reads not-found as "ask")."""
    return ErrorRule(marker, base.OrderNotFound, "order already filled or canceled: query it",
                     ("cancel", "amend"))


def _overloaded(code: str) -> ErrorRule:
    """Throttled or overloaded: turned away at the door, nothing processed."""
    return ErrorRule(code, base.VenueUnavailable, "overloaded or rate limited: not processed")


def _refused(marker: str) -> ErrorRule:
    return ErrorRule(marker, base.OrderRejected, "order refused")


@attrs.frozen
class Dialect:
    exchange_id: str
    # the native create parameter that carries our client order id
    client_id_param: str
    # the parameter fetch_order / cancel_order accept to address an order by client id
    lookup_param: str
    # parameter of fetch_my_trades that narrows it to one exchange order id (None: filter)
    trades_order_param: str | None
    # exchange errors ccxt classifies wrongly for us; checked before ccxt's class
    error_rules: tuple[ErrorRule, ...] = ()
    # the cancel answer carries the order's final status and filled quantity
    cancel_answer_final: bool = False
    market_needs_price: bool = False
    amend_needs_amount: bool = True
    market_types: tuple[str, ...] = ("swap",)
    options: Mapping[str, Any] = attrs.field(factory=dict)
    # how the exchange offers a paper account: ccxt's sandbox (testnet) or demo trading
    # (binance retired its futures testnet; ccxt refuses sandbox mode for it)
    paper: str = "sandbox"
    # ccxt re-reads market precision with safe_string, which ignores Decimal values
    # (hyperliquid's price_to_precision then fails): keep precision as decimal text
    precision_as_text: bool = False
    # raw fee fields of a trade's ``info`` and the sign that makes a charge positive
    fee_fields: tuple[tuple[str, int], ...] = ()
    # a websocket trade's fields ccxt leaves empty, read from its ``info`` instead:
    # ccxt's okx turns a push into a trade with safe_number, which gives None for the
    # Decimal values its own parse_order produced (price, amount and fee lost)
    ws_trade_fields: tuple[tuple[str, str], ...] = ()
    # the ``info`` flag that says a websocket trade took liquidity, where ccxt leaves
    # ``takerOrMaker`` empty (hyperliquid's parse_ws_trade drops ``crossed``)
    ws_taker_flag: str | None = None
    # prices limited to this many significant figures (hyperliquid: 5, and at most
    # ``price_max_decimals`` minus the size decimals): the tick depends on the price, so
    # the one ccxt computed from the price at load is wrong once it crosses a power of ten
    price_significant_figures: int | None = None
    price_max_decimals: int = 0
    venue_id: Any = _plain_id
    # ccxt can amend an order named by our client id alone (hyperliquid's edit_order
    # parses its id argument as the exchange's numeric oid and refuses None, so a cloid
    # cannot name the order there: amend is declared unsupported, cancel-then-hedge runs)
    amend_by_client_id: bool = True
    # (ccxt's request builder, ccxt's raw endpoint) for an amend sent without ccxt's
    # edit_order: binanceusdm's builder always sets ``orderId`` (the literal "None" when
    # the id is unknown), which binance reads before ``origClientOrderId`` and refuses
    edit_request: tuple[str, str] | None = None
    # the depth a book is watched at, where the exchange allows only some (bybit's linear
    # streams: 1, 50, 200 or 1000 levels; ccxt refuses any other); None: the feed's own
    book_watch_limit: int | None = None

    async def edit(self, exchange: Any, symbol: str, side: str, amount: str, price: str,
                   cid: str) -> None:
        """Amend the limit order ``cid`` to ``price`` and total size ``amount`` (in the
        exchange's units), naming it by our client id only."""
        if self.edit_request is None:
            await exchange.edit_order(None, symbol, "limit", side, amount, price,
                                      self.lookup(cid))
            return
        build, endpoint = self.edit_request
        request = getattr(exchange, build)(None, symbol, "limit", side, amount, price,
                                           self.lookup(cid))
        request.pop("orderId", None)
        await getattr(exchange, endpoint)(request)

    def client_id(self, cid: str) -> str:
        """Our deterministic id in the exchange's own format."""
        result: str = self.venue_id(cid)
        return result

    def order_params(self, order: PlaceOrder, post_only: bool) -> dict[str, Any]:
        """The create parameters for ``order``; unified names where ccxt translates them
        exactly, native ones where it does not (request-building tests pin the wire)."""
        params: dict[str, Any] = {self.client_id_param: self.client_id(order.client_id)}
        if order.reduce_only:
            params["reduceOnly"] = True
        if order.kind is OrderKind.LIMIT:
            if post_only:
                params["postOnly"] = True
            elif order.time_in_force is TimeInForce.IOC:
                params["timeInForce"] = "IOC"
        return params

    def lookup(self, cid: str) -> dict[str, str]:
        return {self.lookup_param: self.client_id(cid)}


# ``maxRetriesOnFailure`` 0: ccxt must never re-send a request on its own; a re-sent
# create is a second order. ``fetchCurrencies`` is off on every instance (``has`` below):
# perps need no currency list and on several exchanges it is a private, slow call.
_COMMON: dict[str, Any] = {"maxRetriesOnFailure": 0, "maxRetriesOnFailureDelay": 0}

DIALECTS: dict[str, Dialect] = {
    "binanceusdm": Dialect(
        exchange_id="binanceusdm",
        client_id_param="newClientOrderId",
        lookup_param="origClientOrderId",
        trades_order_param="orderId",
        # -1008: "Server is currently overloaded with other requests" (ccxt: no class)
        error_rules=(_duplicate("-4116"), _overloaded("-1008")),
        cancel_answer_final=True,
        paper="demo",
        edit_request=("edit_contract_order_request", "fapiPrivatePutOrder"),
        market_types=("linear",),
        fee_fields=(("commission", 1), ("n", 1)),
        options={**_COMMON, "adjustForTimeDifference": False},
    ),
    "bybit": Dialect(
        exchange_id="bybit",
        client_id_param="orderLinkId",
        lookup_param="orderLinkId",
        trades_order_param="orderId",
        # 110010 "order has been cancelled", 110008 "order has been finished or cancelled"
        error_rules=(*map(_duplicate, ("110072", "170141", "12141")),
                     _finished("110010"), _finished("110008")),
        market_types=("linear",),
        fee_fields=(("execFee", 1),),
        book_watch_limit=50,
        options={**_COMMON, "defaultType": "swap", "defaultSubType": "linear"},
    ),
    "okx": Dialect(
        exchange_id="okx",
        client_id_param="clOrdId",
        lookup_param="clOrdId",
        trades_order_param="ordId",
        # 51169 "no position to reduce" (ccxt: no class); 50061 sub-account rate limit
        error_rules=(_duplicate("51016"), _refused("51169"), _overloaded("50061")),
        market_types=("swap",),
        # a push carries both: fillFee is this fill's, fee the order's running total
        fee_fields=(("fillFee", -1), ("fee", -1)),
        ws_trade_fields=(("price", "fillPx"), ("amount", "fillSz"), ("id", "tradeId")),
        options={**_COMMON, "defaultType": "swap"},
        venue_id=_okx_id,
    ),
    "hyperliquid": Dialect(
        exchange_id="hyperliquid",
        client_id_param="clientOrderId",
        lookup_param="clientOrderId",
        trades_order_param=None,
        market_needs_price=True,
        ws_taker_flag="crossed",
        amend_by_client_id=False,
        precision_as_text=True,
        price_significant_figures=5,
        price_max_decimals=6,
        # hyperliquid answers in words; ccxt's broad table lacks these two
        error_rules=(_refused("Order has invalid price"),
                     _finished("Cannot modify canceled or filled order")),
        market_types=("swap",),
        fee_fields=(("fee", 1),),
        # builderFee off: ccxt otherwise attaches a paid builder to every order.
        options={**_COMMON, "builderFee": False, "approvedBuilderFee": False,
                 "refSet": True, "defaultType": "swap"},
        venue_id=hyperliquid_cloid,
    ),
}

SUPPORTED = tuple(sorted(DIALECTS))


def dialect(exchange_id: str) -> Dialect:
    try:
        return DIALECTS[exchange_id]
    except KeyError:
        raise ValueError(
            f"exchange {exchange_id!r} is not supported; expected one of {', '.join(SUPPORTED)}"
        ) from None
