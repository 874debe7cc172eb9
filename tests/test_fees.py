"""Fee rates (venues.ccxt.fees, fsm.core.fees) and the maker/taker flag on fills.

The okx and hyperliquid payloads are the exchanges' documented answers (okx's
``/api/v5/account/trade-fee``, hyperliquid's ``userFees``), run through ccxt's own
``parse_trading_fee`` so the test sees what the adapter sees.
"""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest

from fsm.core.config import EntryConfig
from fsm.core.fees import FeeRates, rates_for
from venues.ccxt import fees as ccxt_fees
from venues.ccxt import parse
from venues.market import MarketRules
from venues.protocol import Liquidity

D = Decimal
OKX_FEE_RATES = {  # a USDT-margined swap account at Lv1: negative means paid
    "category": "1", "delivery": "", "exercise": "", "instType": "SWAP", "level": "Lv1",
    "maker": "-0.0002", "makerU": "-0.00018", "makerUSDC": "-0.00016",
    "taker": "-0.0005", "takerU": "-0.00045", "takerUSDC": "-0.0004", "ts": "1763979985847",
}
LINEAR_USDT = {"linear": True, "settle": "USDT", "maker": 0.0002, "taker": 0.0005}


def test_okx_linear_rates_come_from_the_usdt_margined_fields_sign_flipped() -> None:
    unified = ccxt.okx().parse_trading_fee(OKX_FEE_RATES)
    # ccxt flips the sign but picks the coin-margined pair: the wrong schedule for us
    assert (str(unified["maker"]), str(unified["taker"])) == ("0.0002", "0.0005")
    assert ccxt_fees.account_rates("okx", unified, LINEAR_USDT) == (D("0.00018"), D("0.00045"))
    usdc = {**LINEAR_USDT, "settle": "USDC"}
    assert ccxt_fees.account_rates("okx", unified, usdc) == (D("0.00016"), D("0.0004"))


def test_okx_without_the_settle_rates_is_refused_not_guessed() -> None:
    unified = ccxt.okx().parse_trading_fee({**OKX_FEE_RATES, "makerU": ""})
    with pytest.raises(parse.BadVenuePayload, match="makerU/takerU missing"):
        ccxt_fees.account_rates("okx", unified, LINEAR_USDT)


def test_hyperliquid_rates_are_the_users_add_and_cross_rates() -> None:
    unified = ccxt.hyperliquid().parse_trading_fee(
        {"userCrossRate": "0.00035", "userAddRate": "0.0001"})
    assert ccxt_fees.account_rates("hyperliquid", unified, {}) == (D("0.0001"), D("0.00035"))


def test_hyperliquid_reads_its_rates_with_a_wallet_and_no_api_key() -> None:
    exchange = ccxt.hyperliquid({"walletAddress": "0x" + "1" * 40})
    assert ccxt_fees.can_read_account(exchange)
    assert not ccxt_fees.can_read_account(ccxt.hyperliquid())


@pytest.mark.parametrize(("exchange_id", "maker", "taker"), [
    ("binanceusdm", "0.0002", "0.0005"), ("bybit", "0.0002", "0.00055"),
    ("okx", "0.0002", "0.0005"), ("hyperliquid", "0.00015", "0.00045"),
])
def test_base_tiers_stand_in_when_the_account_cannot_be_read(
    exchange_id: str, maker: str, taker: str
) -> None:
    assert ccxt_fees.default_rates(exchange_id, {"maker": 0.1, "taker": 0.1}) == (D(maker),
                                                                                D(taker))
    assert ccxt_fees.default_rates("kraken", {"maker": 0.0001, "taker": 0.0003}) == (
        D("0.0001"), D("0.0003"))


def test_a_fill_records_maker_or_taker_and_its_fee_currency() -> None:
    trade = {"id": "t1", "amount": "0.5", "price": "60000", "takerOrMaker": "maker",
             "fee": {"cost": "6", "currency": "USDT"}}
    fill = parse.fill(trade, venue="okx", symbol="BTC/USDT:USDT", client_id="c1",
                      contract_size=D(1))
    assert (fill.liquidity, fill.fee, fill.fee_currency) == (Liquidity.MAKER, D(6), "USDT")
    bare = parse.fill({"id": "t2", "amount": "1", "price": "1"}, venue="okx",
                      symbol="BTC/USDT:USDT", client_id="c1", contract_size=D(1))
    assert (bare.liquidity, bare.fee, bare.fee_currency) == (None, D(0), None)


RULES = MarketRules(lot="0.001", tick="0.5", min_qty="0.001", maker_fee="0.0002",
                    taker_fee="0.0005")


def test_the_override_for_the_symbol_wins_then_the_venue_then_the_venues_own_rates() -> None:
    config = EntryConfig(fees={
        "okx": {"maker": "0.0001", "taker": "0.0004",
                "symbols": {"ETH/USDT:USDT": {"maker": "-0.00005", "taker": "0.0003"}}},
    })
    assert rates_for("okx", "ETH/USDT:USDT", RULES, config.fees) == FeeRates(
        D("-0.00005"), D("0.0003"), "config")
    assert rates_for("okx", "BTC/USDT:USDT", RULES, config.fees) == FeeRates(
        D("0.0001"), D("0.0004"), "config")
    assert rates_for("bybit", "BTC/USDT:USDT", RULES, config.fees) == FeeRates(
        D("0.0002"), D("0.0005"), "venue")
    assert FeeRates(D("0.0001"), D("0.0004")).rate(None) == D("0.0004")  # unknown: taker
