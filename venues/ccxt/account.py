"""The account pre-flight's reads and writes through ccxt (``venues.account.AccountReader``).

What ccxt 4.5 can read differs per exchange, so each fact is read where ccxt has a call
for it and said to be unknown (with the reason in ``notes``) where it has none; nothing
is guessed. All of it runs on the ``background`` instance: nobody waits on it for a hedge.

- binanceusdm: position mode ``fetch_position_mode`` (``/fapi/v1/positionSide/dual``);
  margin mode and leverage ``fetch_margin_mode`` (``/fapi/v1/symbolConfig``, which carries
  both); trade permission ``/fapi/v2/account`` ``canTrade``.
- bybit: position mode and leverage from ``fetch_positions`` (``/v5/position/list``:
  ``positionIdx`` 0 is one-way, 1 and 2 hedge); margin mode ``fetch_margin_mode``
  (``/v5/account/info``, account-wide on a unified account); permission
  ``/v5/user/query-api`` (not read-only, ``ContractTrade`` includes ``Order``).
- okx: position mode ``fetch_position_mode`` (``/api/v5/account/config``). The margin
  mode is per order on okx (``tdMode``): our orders carry the one the config requires
  (``carry_margin_mode``, called by the pre-flight before it reads; ccxt's default,
  cross, when the config accepts any), and the leverage is read for that mode
  (``fetch_leverage``, ``/api/v5/account/leverage-info``) and set for it.
- hyperliquid: one-way by design (it has no hedge mode). Leverage and margin mode from
  ``activeAssetData`` (``/info``: the leverage in force on the perp, cross or isolated,
  with or without a position); setting the leverage sets the margin mode too.

Fees come from the market rules (the account's tier where readable, ``venues.ccxt.fees``),
minimums and the maximum order size from the market (``limits``), in base units.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from venues.account import AccountChange, AccountFacts, MarginMode, PositionMode
from venues.ccxt import parse as ccxt_parse
from venues.ccxt.decimal_context import isolated_methods

Facts = dict[str, Any]
Reader = Callable[[Any, str], Awaitable[Facts]]


def _margin(value: Any) -> MarginMode | None:
    try:
        return MarginMode(str(value).lower()) if value not in (None, "") else None
    except ValueError:
        return None


def _leverage(value: Any) -> Decimal | None:
    return None if value in (None, "") else ccxt_parse.number(value, "leverage")


async def _binance(exchange: Any, symbol: str) -> Facts:
    mode = await exchange.fetch_position_mode(symbol)
    config = await exchange.fetch_margin_mode(symbol)
    account = await exchange.fapiPrivateV2GetAccount()
    info = config.get("info") or {}
    return {"position_mode": PositionMode.HEDGE if mode.get("hedged") else PositionMode.ONE_WAY,
            "margin_mode": _margin(config.get("marginMode")),
            "leverage": _leverage(info.get("leverage")),
            "can_trade": bool(account.get("canTrade"))}


async def _bybit(exchange: Any, symbol: str) -> Facts:
    positions = await exchange.fetch_positions([symbol])
    hedged = {p.get("hedged") for p in positions} - {None}
    leverages = [lev for p in positions if (lev := _leverage(p.get("leverage"))) is not None]
    margin = await exchange.fetch_margin_mode(symbol)
    key = (await exchange.privateGetV5UserQueryApi()).get("result") or {}
    orders = ((key.get("permissions") or {}).get("ContractTrade") or [])
    return {"position_mode": None if not hedged
            else PositionMode.HEDGE if True in hedged else PositionMode.ONE_WAY,
            "leverage": max(leverages) if leverages else None,
            "margin_mode": _margin(margin.get("marginMode")),
            "can_trade": str(key.get("readOnly")) == "0" and "Order" in orders}


def okx_order_margin(exchange: Any) -> str:
    """okx takes the margin mode per order (``tdMode``): ccxt sends its option
    ``defaultMarginMode`` (set by ``carry_margin_mode``), else cross."""
    return str(exchange.options.get("defaultMarginMode") or exchange.options.get("marginMode")
               or "cross")


# Exchanges whose margin mode is a parameter of each order rather than an account setting.
PER_ORDER_MARGIN = frozenset({"okx"})


# Exchanges that are one-way by design (no hedge mode, and no switch in ccxt): asking
# for one-way there asks for nothing.
ONE_WAY_ONLY = frozenset({"hyperliquid"})

# Exchanges where setting the leverage sets the margin mode too: hyperliquid's one
# ``updateLeverage`` action carries ``isCross``, and ccxt sends cross unless told.
LEVERAGE_SETS_MARGIN = frozenset({"hyperliquid"})


def carry_margin_mode(venue: Any, mode: MarginMode) -> None:
    """Make every order ``venue`` sends from now on carry ``mode``, where the exchange takes
    the margin mode per order (okx ``tdMode``, through ccxt's ``defaultMarginMode`` on both
    instances, so a hedge on ``trading`` carries what the pre-flight read on
    ``background``); and every leverage change, where that sets the margin mode too
    (hyperliquid). Elsewhere the account's setting rules and nothing changes."""
    if mode not in (MarginMode.ISOLATED, MarginMode.CROSS):
        return
    venue.carried_margin_mode = mode
    if venue.dialect.exchange_id in PER_ORDER_MARGIN:
        for instance in (venue.trading, venue.background):
            instance.options["defaultMarginMode"] = mode.value


def _leverage_margin(venue: Any, change: AccountChange) -> dict[str, str]:
    """The margin mode a leverage change must name. okx keeps a leverage per margin mode:
    the one our orders carry. hyperliquid sets both at once: the mode being set, else the
    one carried (what the entry requires), never ccxt's default cross behind our back."""
    exchange_id = venue.dialect.exchange_id
    if exchange_id in PER_ORDER_MARGIN:
        return {"marginMode": okx_order_margin(venue.background)}
    mode = change.margin_mode or venue.carried_margin_mode
    if exchange_id in LEVERAGE_SETS_MARGIN and mode is not None:
        return {"marginMode": mode.value}
    return {}


async def _okx(exchange: Any, symbol: str) -> Facts:
    mode = await exchange.fetch_position_mode(symbol)
    margin = okx_order_margin(exchange)
    leverage = await exchange.fetch_leverage(symbol, {"marginMode": margin})
    levels = [lev for side in ("longLeverage", "shortLeverage")
              if (lev := _leverage(leverage.get(side))) is not None]
    return {"position_mode": PositionMode.HEDGE if mode.get("hedged") else PositionMode.ONE_WAY,
            "margin_mode": _margin(margin), "leverage": max(levels) if levels else None}


async def _hyperliquid(exchange: Any, symbol: str) -> Facts:
    """The leverage in force on the perp, and whether it is cross or isolated, from
    ``activeAssetData`` (``/info``), which answers with or without a
    position (ccxt has no unified read of it)."""
    user, _ = exchange.handle_public_address("fetchLeverage", {})
    market = exchange.market(symbol)
    answer = await exchange.publicPostInfo({"type": "activeAssetData", "user": user,
                                            "coin": market.get("baseName")})
    leverage = (answer or {}).get("leverage") or {}
    return {"margin_mode": _margin(leverage.get("type")),
            "leverage": _leverage(leverage.get("value"))}


async def _leverage_in_force(exchange: Any, symbol: str) -> int | None:
    """hyperliquid changes the margin mode only with a leverage: a margin-mode change
    alone keeps the leverage in force (None when it cannot be read: ccxt then says a
    leverage is needed)."""
    leverage = (await _hyperliquid(exchange, symbol)).get("leverage")
    return None if leverage is None else int(leverage)


READERS: dict[str, tuple[Reader, tuple[str, ...]]] = {
    # each reader, and the facts it cannot tell (said so in the notes)
    "binanceusdm": (_binance, ()),
    "bybit": (_bybit, ()),
    "okx": (_okx, ("may trade",)),
    "hyperliquid": (_hyperliquid, ("may trade",)),
}
_UNREAD = {"leverage": "ccxt has no read of the leverage setting for {ex}",
           "margin mode": "ccxt has no read of the margin mode for {ex}",
           "may trade": "ccxt has no read of the key's trade permission for {ex}"}


async def read(venue: Any, symbol: str) -> AccountFacts:
    """One symbol's account facts; a failed read leaves its facts unknown, with the reason."""
    rules = await venue.market_rules(symbol)
    market = venue._market(symbol)
    ex = venue.dialect.exchange_id
    size = venue._contract_size(market)
    max_amount = ((market.get("limits") or {}).get("amount") or {}).get("max")
    facts: Facts = {
        "maker_fee": rules.maker_fee, "taker_fee": rules.taker_fee, "min_qty": rules.min_qty,
        "min_notional": rules.min_notional, "symbol_active": market.get("active") is not False,
        "max_qty": None if max_amount is None
        else ccxt_parse.number(max_amount, "max amount") * size,
    }
    reader, unread = READERS.get(ex, (None, ("position mode", "leverage", "margin mode",
                                              "may trade")))
    notes = [f"{item}: " + _UNREAD.get(item, "no read for {ex}").format(ex=ex)
             for item in unread]
    by_design = ex in ONE_WAY_ONLY
    if by_design:  # nothing to read, nothing a failed read can make unknown
        facts["position_mode"] = PositionMode.ONE_WAY
    if reader is not None:
        try:
            facts.update(await reader(venue.background, symbol))
        except Exception as exc:  # a read refused: its facts stay unknown, the reason noted
            error = venue._error(exc, "read", "account set-up")
            notes.extend(f"{item}: read failed: {error}" for item in
                         ("position mode", "margin mode", "leverage", "may trade")
                         if not (by_design and item == "position mode"))
    return AccountFacts(venue=venue.name, exchange=ex, symbol=symbol, notes=tuple(notes),
                        **facts)


async def configure(venue: Any, symbol: str, change: AccountChange) -> None:
    """Apply ``change`` through ccxt's unified setters (position mode first: an exchange
    refuses it while orders or positions are open; then margin mode, then leverage)."""
    exchange, exchange_id = venue.background, venue.dialect.exchange_id
    await venue.start()
    per_order = exchange_id in PER_ORDER_MARGIN
    if change.margin_mode is not None and per_order:
        carry_margin_mode(venue, change.margin_mode)  # no account setting to change
    try:
        if change.position_mode is not None and not (
                change.position_mode is PositionMode.ONE_WAY and exchange_id in ONE_WAY_ONLY):
            await exchange.set_position_mode(change.position_mode is PositionMode.HEDGE, symbol)
        if change.margin_mode is not None and not per_order:
            leverage = change.leverage
            if leverage is None and exchange_id in LEVERAGE_SETS_MARGIN:
                leverage = await _leverage_in_force(exchange, symbol)  # kept as it is
            with_leverage = {} if leverage is None else {"leverage": leverage}
            await exchange.set_margin_mode(change.margin_mode.value, symbol, with_leverage)
        # hyperliquid: the margin-mode action above carried the leverage already
        set_with_margin = change.margin_mode is not None and exchange_id in LEVERAGE_SETS_MARGIN
        if change.leverage is not None and not set_with_margin:
            await exchange.set_leverage(change.leverage, symbol, _leverage_margin(venue, change))
    except Exception as exc:
        raise venue._error(exc, "read", f"account set-up of {symbol}") from None


@isolated_methods
class AccountReads:
    """``CcxtVenue``'s ``AccountReader`` methods (kept here so the adapter stays one job)."""

    #: The margin mode the entry requires (``carry_margin_mode``), once the pre-flight or
    #: ``recover`` said it; None: not said, or any mode will do.
    carried_margin_mode: MarginMode | None = None

    async def account(self, symbol: str) -> AccountFacts:
        return await read(self, symbol)

    async def configure_account(self, symbol: str, change: AccountChange) -> None:
        await configure(self, symbol, change)

    def carry_margin_mode(self, mode: MarginMode) -> None:
        carry_margin_mode(self, mode)
