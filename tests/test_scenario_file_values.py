"""Scenario-file values refused with the key and the expectation: decimals written as
floats, numbers out of range, unsorted or crossed books, unknown venues, bad config.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fsm.sim import scenario as scenarios
from fsm.sim.scenario import ScenarioError
from tests.scenariokit import (
    ALPHA_ASKS,
    ALPHA_BIDS,
    ALPHA_HEAD,
    ALPHA_MARKET_HEAD,
    CONFIG,
    FILL,
    LONG_LEG,
    SHORT_LEG,
    load_error,
    mutate,
)

# --------------------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            'lot = "0.001"',
            "lot = 0.001",
            "venues.alpha.market.lot: expected a decimal written as a string (for example "
            '"0.001"); got 0.001',
            id="float-lot",
        ),
        pytest.param(
            LONG_LEG,
            LONG_LEG.replace('qty = "0.5"', "qty = 0.5"),
            'request.long.qty: expected a decimal written as a string (for example "0.5"); got 0.5',
            id="float-request-qty",
        ),
        pytest.param(
            'lot = "0.001"',
            'lot = "-0.001"',
            "venues.alpha.market.lot: expected a number greater than 0; got '-0.001'",
            id="negative-lot",
        ),
        pytest.param(
            'lot = "0.001"',
            'lot = "0"',
            "venues.alpha.market.lot: expected a number greater than 0; got '0'",
            id="zero-lot",
        ),
        pytest.param(
            'tick = "0.5"',
            'tick = "abc"',
            "venues.alpha.market.tick: expected a decimal number written as a string; got 'abc'",
            id="non-numeric-tick",
        ),
        pytest.param(
            'tick = "0.5"',
            'tick = "NaN"',
            "venues.alpha.market.tick: expected a decimal number written as a string; got 'NaN'",
            id="nan-tick",
        ),
        pytest.param(
            'min_qty = "0.001"',
            'min_qty = "-0.001"',
            "venues.alpha.market.min_qty: expected a number of at least 0; got '-0.001'",
            id="negative-min-qty",
        ),
        pytest.param(
            ALPHA_HEAD,
            "[venues.alpha]\nlatency_ms = -5\n",
            "venues.alpha.latency_ms: expected a non-negative number of milliseconds of at most "
            "86,400,000 (one day); got -5",
            id="negative-latency",
        ),
        pytest.param(
            ALPHA_HEAD,
            '[venues.alpha]\nlatency_ms = "25"\n',
            "venues.alpha.latency_ms: expected a non-negative number of milliseconds of at most "
            "86,400,000 (one day); got '25'",
            id="string-latency",
        ),
        pytest.param(
            ALPHA_HEAD,
            ALPHA_HEAD + 'duplicate_fills = "yes"\n',
            "venues.alpha.duplicate_fills: expected true or false; got 'yes'",
            id="bool-as-string",
        ),
        pytest.param(
            ALPHA_MARKET_HEAD,
            ALPHA_MARKET_HEAD + "supports_amend = 1\n",
            "venues.alpha.market.supports_amend: expected true or false; got 1",
            id="bool-as-int",
        ),
        pytest.param(
            FILL,
            'purpose = "maker"\n',
            "venues.alpha.fills[0].purpose: expected one of 'quote', 'hedge', 'trim', "
            "'rollback'; got 'maker'",
            id="bad-purpose",
        ),
        pytest.param(
            ALPHA_BIDS,
            'bids = [["59999.0", "2.0"], ["60000.0", "5.0"]]',
            "venues.alpha.market.bids: expected prices strictly descending (best first); "
            "got 59999.0, 60000.0",
            id="bids-ascending",
        ),
        pytest.param(
            ALPHA_BIDS,
            'bids = [["60000.0", "2.0"], ["60000.0", "5.0"]]',
            "venues.alpha.market.bids: expected prices strictly descending (best first); "
            "got 60000.0, 60000.0",
            id="bids-repeated-price",
        ),
        pytest.param(
            ALPHA_ASKS,
            'asks = [["60001.5", "2.0"], ["60000.5", "5.0"]]',
            "venues.alpha.market.asks: expected prices strictly ascending (best first); "
            "got 60001.5, 60000.5",
            id="asks-descending",
        ),
        pytest.param(
            ALPHA_BIDS,
            'bids = [["60001.0", "2.0"], ["59999.0", "5.0"]]',
            "venues.alpha.market: expected the best bid below the best ask; "
            "got bid 60001.0, ask 60000.5",
            id="crossed-book",
        ),
        pytest.param(
            ALPHA_BIDS,
            "bids = []",
            'venues.alpha.market.bids: expected a non-empty list of ["price", "qty"] pairs; got []',
            id="empty-bids",
        ),
        pytest.param(
            ALPHA_BIDS,
            'bids = [["60000.0"]]',
            'venues.alpha.market.bids[0]: expected a ["price", "qty"] pair; got [\'60000.0\']',
            id="bid-not-a-pair",
        ),
        pytest.param(
            ALPHA_BIDS,
            'bids = [["60000.0", "0"]]',
            "venues.alpha.market.bids[0] qty: expected a number greater than 0; got '0'",
            id="bid-zero-qty",
        ),
        pytest.param(
            LONG_LEG,
            LONG_LEG.replace('venue = "alpha"', 'venue = "gamma"'),
            "request.long.venue: expected one of alpha, beta; got 'gamma'",
            id="unknown-venue",
        ),
        pytest.param(
            SHORT_LEG,
            SHORT_LEG.replace("BTC/USDT:USDT", "ETH/USDT:USDT"),
            "request.short.symbol: expected 'BTC/USDT:USDT' (the venue's market); "
            "got 'ETH/USDT:USDT'",
            id="symbol-mismatch",
        ),
        pytest.param(
            CONFIG,
            CONFIG + 'hedge_trigger_fill_ratio = "2"\n',
            "config: EntryConfig.hedge_trigger_fill_ratio: got 2, expected a value in [0, 1]",
            id="config-out-of-range",
        ),
        pytest.param(
            CONFIG,
            CONFIG + 'hedge_order = "limit"\n',
            "config: EntryConfig.hedge_order: got 'limit', expected one of 'market', "
            "'aggressive_limit'",
            id="config-bad-choice",
        ),
        pytest.param(
            CONFIG,
            CONFIG + "hedge_trigger_fill_ratio = 0.5\n",
            "config: EntryConfig.hedge_trigger_fill_ratio: got 0.5, expected a decimal number "
            'written as a string (for example "0.5")',
            id="config-float",
        ),
        pytest.param(
            CONFIG,
            "[config]\nquote_timeout_s = 0\n",
            "config: EntryConfig.quote_timeout_s: got 0, expected seconds in (0.0, 86400.0]",
            id="config-zero-timeout",
        ),
    ],
)
def test_bad_value_names_key_and_expectation(
    write: Callable[..., Path], old: str, new: str, expected: str
) -> None:
    assert load_error(write(mutate(old, new))) == expected


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_non_finite_milliseconds_are_refused(value: str) -> None:
    text = mutate(ALPHA_HEAD, f"[venues.alpha]\nlatency_ms = {value}\n")
    with pytest.raises(ScenarioError, match=r"venues\.alpha\.latency_ms: expected a "):
        scenarios.parse(text, "bad.toml")
