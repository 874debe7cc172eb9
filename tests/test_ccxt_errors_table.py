"""Every exchange error we know of, as the exchange sends it, through ccxt to our taxonomy.

Each row is a real error body (codes and texts from ccxt's exchange exception maps in
ccxt 4.5.90, ``exceptions`` of ``binance.py``, ``bybit.py``, ``okx.py`` and
``hyperliquid.py``, and the exchanges' API documentation; envelopes shaped like the
static fixtures' responses in ccxt's ``ts/src/test/static/response/*.json``), the
request it answers, the class ccxt raises for it and what it must mean to the engine.
ccxt's own ``handle_errors`` and ``handle_http_status_code`` turn the body into an
exception, exactly as its ``fetch`` does, so a ccxt upgrade that remaps a code shows
here as a changed ccxt class, and a wrong meaning as a changed Venue class.

The meanings that ccxt's classes get wrong (issue 15, Why 4) are the dialects'
``error_rules``: okx 51169 and hyperliquid "invalid price" are refusals, okx 50061
and binance -1008 mean "not processed", bybit 110010/110008 and hyperliquid "Cannot
modify canceled or filled order" say the order is already terminal (query it).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import ccxt
import pytest

from tests.ccxtkit import SYMBOL
from venues import protocol as base
from venues.ccxt.adapter import CcxtVenue
from venues.ccxt.dialects import DIALECTS
from venues.ccxt.errors import ERROR_TABLE, classify

_REJECTED, _NOT_FOUND, _UNKNOWN = base.OrderRejected, base.OrderNotFound, base.OutcomeUnknown
_UNAVAILABLE, _FATAL = base.VenueUnavailable, base.VenueFatalError


def _binance(code: int, msg: str) -> dict[str, Any]:
    return {"code": code, "msg": msg}


def _bybit(code: int, msg: str) -> dict[str, Any]:
    return {"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {},
            "time": 1695190491421}


def _okx_order(code: str, msg: str) -> dict[str, Any]:
    """okx refuses one order of a batch (ccxt creates through batch-orders) in ``data``."""
    return {"code": "1", "msg": "All operations failed", "inTime": "1695190491421339",
            "outTime": "1695190491423240",
            "data": [{"clOrdId": "aet1Lq1", "ordId": "", "sCode": code, "sMsg": msg,
                      "tag": "", "ts": "1695190491421"}]}


def _okx(code: str, msg: str) -> dict[str, Any]:
    return {"code": code, "msg": msg, "data": []}


def _hl_status(error: str) -> dict[str, Any]:
    """hyperliquid refuses an order inside an ``ok`` answer, one status per order."""
    return {"status": "ok", "response": {"type": "order", "data": {
        "statuses": [{"error": error}]}}}


def _hl_err(error: str) -> dict[str, Any]:
    return {"status": "err", "response": error}


# (exchange, http status, body, operation, ccxt class raised, Venue class meant)
ROWS: list[tuple[str, int, dict[str, Any], str, str, type[base.VenueError]]] = [
    # binanceusdm
    ("binanceusdm", 400, _binance(-2019, "Margin is insufficient."), "place",
     "InsufficientFunds", _REJECTED),
    ("binanceusdm", 400, _binance(-5022, "Due to the order could not be executed as maker, "
                                         "the Post Only order will be rejected."), "place",
     "OrderNotFillable", _REJECTED),
    ("binanceusdm", 400, _binance(-2022, "ReduceOnly Order is rejected."), "place",
     "InvalidOrder", _REJECTED),
    ("binanceusdm", 400, _binance(-4116, "ClientOrderId is duplicated."), "place",
     "InvalidOrder", _UNKNOWN),
    ("binanceusdm", 400, _binance(-2011, "Unknown order sent."), "cancel",
     "OrderNotFound", _NOT_FOUND),
    ("binanceusdm", 400, _binance(-2013, "Order does not exist."), "query",
     "OrderNotFound", _NOT_FOUND),
    ("binanceusdm", 503, _binance(-1008, "Server is currently overloaded with other "
                                         "requests. Please try again in a few minutes."),
     "place", "OperationFailed", _UNAVAILABLE),
    ("binanceusdm", 200, _binance(-1008, "Server is currently overloaded with other "
                                         "requests. Please try again in a few minutes."),
     "cancel", "OperationFailed", _UNAVAILABLE),
    ("binanceusdm", 408, _binance(-1007, "Timeout waiting for response from backend server. "
                                         "Send status unknown; execution status unknown."),
     "place", "RequestTimeout", _UNKNOWN),
    ("binanceusdm", 429, _binance(-1003, "Too many requests; current limit is 2400 requests "
                                         "per minute."), "place",
     "DDoSProtection", _UNAVAILABLE),
    ("binanceusdm", 400, _binance(-1021, "Timestamp for this request is outside of the "
                                         "recvWindow."), "place", "InvalidNonce", _UNAVAILABLE),
    ("binanceusdm", 401, _binance(-2015, "Invalid API-key, IP, or permissions for action."),
     "place", "AuthenticationError", _FATAL),
    ("binanceusdm", 400, _binance(-4061, "Order's position side does not match user's "
                                         "setting."), "place", "OperationRejected", _REJECTED),
    # bybit
    ("bybit", 200, _bybit(110007, "ab not enough for new order"), "place",
     "InsufficientFunds", _REJECTED),
    ("bybit", 200, _bybit(110017, "current position is zero, cannot fix reduce-only order "
                                  "qty"), "place", "InvalidOrder", _REJECTED),
    ("bybit", 200, _bybit(110072, "OrderLinkedID is duplicate"), "place",
     "InvalidOrder", _UNKNOWN),
    ("bybit", 200, _bybit(170141, "Duplicate clientOrderId"), "place", "InvalidOrder",
     _UNKNOWN),
    ("bybit", 200, _bybit(12141, "Duplicate clientOrderId"), "place", "BadRequest", _UNKNOWN),
    ("bybit", 200, _bybit(10001, "position idx not match position mode"), "place",
     "BadRequest", _REJECTED),
    ("bybit", 200, _bybit(110001, "order not exists or too late to cancel"), "cancel",
     "OrderNotFound", _NOT_FOUND),
    ("bybit", 200, _bybit(110010, "The order has been cancelled"), "cancel",
     "InvalidOrder", _NOT_FOUND),
    ("bybit", 200, _bybit(110008, "The order has been finished or cancelled"), "cancel",
     "InvalidOrder", _NOT_FOUND),
    ("bybit", 200, _bybit(110008, "The order has been finished or cancelled"), "amend",
     "InvalidOrder", _NOT_FOUND),
    ("bybit", 200, _bybit(10006, "Too many visits!"), "place", "RateLimitExceeded",
     _UNAVAILABLE),
    ("bybit", 200, _bybit(10003, "API key is invalid."), "place", "AuthenticationError",
     _FATAL),
    ("bybit", 200, _bybit(10016, "Internal server error."), "place", "ExchangeError",
     _UNKNOWN),
    # okx
    ("okx", 200, _okx_order("51169", "Order failed because you don't have any positions "
                                     "in this direction for this contract to reduce or "
                                     "close."), "place", "ExchangeError", _REJECTED),
    ("okx", 200, _okx_order("51008", "Order failed. Insufficient USDT margin in account"),
     "place", "InsufficientFunds", _REJECTED),
    ("okx", 200, _okx_order("51016", "Duplicated clOrdId"), "place", "InvalidOrder",
     _UNKNOWN),
    ("okx", 200, _okx_order("51000", "Parameter posSide error"), "place", "BadRequest",
     _REJECTED),
    ("okx", 200, _okx_order("51400", "Order cancellation failed as the order has been "
                                     "filled, canceled or does not exist"), "cancel",
     "OrderNotFound", _NOT_FOUND),
    ("okx", 200, _okx("51603", "Order does not exist"), "query", "OrderNotFound",
     _NOT_FOUND),
    ("okx", 429, _okx("50061", "Sub-account rate limit exceeded"), "place",
     "ExchangeError", _UNAVAILABLE),
    ("okx", 429, _okx("50011", "Rate limit reached. Please refer to API documentation and "
                               "throttle requests accordingly."), "place",
     "RateLimitExceeded", _UNAVAILABLE),
    ("okx", 503, _okx("50001", "Service temporarily unavailable. Please try again later."),
     "place", "OnMaintenance", _UNAVAILABLE),
    ("okx", 401, _okx("50113", "Invalid Sign"), "place", "AuthenticationError", _FATAL),
    # hyperliquid
    ("hyperliquid", 200, _hl_status("Order has invalid price."), "place",
     "ExchangeError", _REJECTED),
    ("hyperliquid", 200, _hl_status("Post only order would have immediately matched, bbo "
                                    "was 60000.0@60001.0. asset=0"), "place",
     "InvalidOrder", _REJECTED),
    ("hyperliquid", 200, _hl_status("Insufficient margin to place order. asset=0"), "place",
     "InsufficientFunds", _REJECTED),
    ("hyperliquid", 200, _hl_status("Order must have minimum value of $10. asset=0"),
     "place", "InvalidOrder", _REJECTED),
    ("hyperliquid", 200, _hl_status("Reduce only order would increase position. asset=0"),
     "place", "InvalidOrder", _REJECTED),
    ("hyperliquid", 200, _hl_status("Order was never placed, already canceled, or filled. "
                                    "asset=0"), "cancel", "OrderNotFound", _NOT_FOUND),
    ("hyperliquid", 200, _hl_status("Cannot modify canceled or filled order"), "amend",
     "ExchangeError", _NOT_FOUND),
    ("hyperliquid", 200, _hl_err("Cannot modify canceled or filled order"), "amend",
     "ExchangeError", _NOT_FOUND),
    ("hyperliquid", 429, _hl_err("Too many cumulative requests sent (1201 > 1200) for "
                                 "cumulative volume traded $0.0"), "place",
     "RateLimitExceeded", _UNAVAILABLE),
]


# binance picks its code table by the URL's API (fapi: USD-M futures)
URLS = {"binanceusdm": "https://fapi.binance.com/fapi/v1/order",
        "bybit": "https://api.bybit.com/v5/order/create",
        "okx": "https://www.okx.com/api/v5/trade/batch-orders",
        "hyperliquid": "https://api.hyperliquid.xyz/exchange"}


def ccxt_raises(exchange_id: str, http: int, body: dict[str, Any]) -> BaseException:
    """What ccxt's ``fetch`` raises for this answer: its exchange's ``handle_errors``
    first, then the generic status-code check, in that order."""
    exchange = getattr(ccxt, exchange_id)()
    text = json.dumps(body, separators=(",", ":"))
    url = URLS[exchange_id]
    try:
        exchange.handle_errors(http, "reason", url, "POST", {}, text, body, {}, "")
        exchange.handle_http_status_code(http, "reason", url, "POST", text)
    except Exception as exc:
        return exc
    raise AssertionError(f"{exchange_id}: ccxt raised nothing for {text}")


def _id(row: tuple[Any, ...]) -> str:
    exchange, _, body, operation = row[:4]
    code = body.get("code") if exchange != "okx" else (
        (body.get("data") or [{}])[0].get("sCode") or body.get("code"))
    code = body.get("retCode", code)
    if exchange == "hyperliquid":
        response = body["response"]
        text = response if isinstance(response, str) else str(
            response["data"]["statuses"][0]["error"])
        code = "-".join(text.split()[:4])
    return f"{exchange}-{operation}-{code}"


@pytest.mark.parametrize("row", ROWS, ids=[_id(r) for r in ROWS])
def test_error_row(row: tuple[str, int, dict[str, Any], str, str, type[base.VenueError]]
                   ) -> None:
    exchange_id, http, body, operation, ccxt_class, meant = row
    exc = ccxt_raises(exchange_id, http, body)
    assert type(exc).__name__ == ccxt_class
    error = classify(exc, operation,  # type: ignore[arg-type]
                     venue="v", what="w", rules=DIALECTS[exchange_id].error_rules)
    assert type(error) is meant, str(error)


def test_every_dialect_rule_has_a_row() -> None:
    """A rule nobody tests may match nothing at all (a typo in a code, a changed text)."""
    for exchange_id, d in DIALECTS.items():
        for rule in d.error_rules:
            hits = [r for r in ROWS if r[0] == exchange_id and r[3] in rule.operations
                    and rule.matches(str(ccxt_raises(r[0], r[1], r[2])), r[3])]
            assert hits, f"{exchange_id}: rule {rule.marker!r} matches no row"


@pytest.mark.parametrize("code", ["51169", "-1008", "110008"])
def test_codes_match_whole_tokens_only(code: str) -> None:
    rule = next(r for d in DIALECTS.values() for r in d.error_rules if r.marker == code)
    op = rule.operations[0]
    assert rule.matches(f'{{"sCode":"{code}"}}', op) and rule.matches(f'"code":{code},', op)
    for text in (f'"ordId":"9{code}"', f'"ordId":"{code}7"', f"price {code}.5",
                 f'"code":{code}0'):
        assert not rule.matches(text, op), text


def test_finished_order_is_refused_as_such_on_a_create() -> None:
    """bybit 110008 on a create is not "order finished": the rule is for cancel/amend."""
    exc = ccxt_raises("bybit", 200, _bybit(110008, "The order has been finished or cancelled"))
    error = classify(exc, "place", venue="v", what="w", rules=DIALECTS["bybit"].error_rules)
    assert type(error) is base.OrderRejected


@pytest.mark.parametrize(("ccxt_class", "meant"),
                         [(c, v) for c, v, _ in ERROR_TABLE],
                         ids=[c.__name__ for c, _, _ in ERROR_TABLE])
def test_generic_table_row(ccxt_class: type[BaseException],
                           meant: type[base.VenueError]) -> None:
    """Each row of the generic table is reached: no parent row shadows a subclass."""
    error = classify(ccxt_class("venue said no"), "place", venue="v", what="w")
    assert type(error) is meant


class _Refusing:
    """ccxt's ``fetch`` answering one error body (its own error handling included)."""

    def __init__(self, exchange: Any, http: int, body: dict[str, Any]) -> None:
        self.exchange, self.http, self.body = exchange, http, body

    async def fetch(self, url: str, method: str = "GET", headers: Any = None,
                    body: Any = None) -> Any:
        text = json.dumps(self.body)
        self.exchange.handle_errors(self.http, "r", url, method, {}, text, self.body, {}, body)
        self.exchange.handle_http_status_code(self.http, "r", url, method, text)
        raise AssertionError("no error raised")


def test_adapter_passes_its_dialect_rules() -> None:
    """Through ``CcxtVenue.cancel``: bybit 110008 is "query it", not "refused"."""
    async def main() -> BaseException:
        venue = CcxtVenue("v", "bybit", credentials={"apiKey": "k" * 8, "secret": "s" * 8},
                          sandbox=False, config={"timeout_on_exit": 0})
        venue.trading.fetch = _Refusing(
            venue.trading, 200, _bybit(110008, "The order has been finished or cancelled")
        ).fetch
        venue.background.markets = {SYMBOL: {"symbol": SYMBOL, "id": "BTCUSDT", "swap": True,
                                             "linear": True, "contractSize": 1}}
        venue._ready = True
        try:
            await venue.cancel(SYMBOL, "aet1Lq1")
        except base.VenueError as exc:
            return exc
        finally:
            await venue.close()
        raise AssertionError("cancel succeeded")

    assert type(asyncio.run(main())) is base.OrderNotFound
