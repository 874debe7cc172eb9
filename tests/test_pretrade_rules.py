"""Each pre-trade rule refuses with the venue, the rule and the numbers in its message."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fsm.core.config import EntryConfig
from fsm.core.pretrade import RequestError, check_request
from fsm.core.values import (
    EntryRequest,
    LegSpec,
)
from venues.market import (
    Book,
    BookLevel,
    Leg,
    MarketRules,
)

D = Decimal
RULES = MarketRules(lot=D("0.001"), tick=D("0.5"), min_qty=D("0.001"), min_notional=D("5"))
BOOK = Book(bids=(BookLevel(D("60000"), D("1")),), asks=(BookLevel(D("60000.5"), D("1")),))


def _check(qty: str = "0.5", short_qty: str | None = None, long_rules: MarketRules = RULES,
           short_rules: MarketRules = RULES, short_book: Book = BOOK,
           offset: Decimal | None = None) -> None:
    request = EntryRequest(
        LegSpec("alpha", "BTC", qty),
        LegSpec("beta", "BTC", short_qty or qty, limit_price_offset_pct=offset),
    )
    check_request(request, EntryConfig(), {Leg.LONG: long_rules, Leg.SHORT: short_rules},
                  {Leg.LONG: BOOK, Leg.SHORT: short_book})


def test_a_sound_request_passes() -> None:
    _check()


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"qty": "0"}, "long leg on alpha BTC: quantity 0: expected a quantity greater than 0"),
        ({"qty": "-1"}, "quantity -1: expected a quantity greater than 0"),
        ({"qty": "0.0004"}, "quantity 0.0004 rounds to 0.000 at lot 0.001, below the minimum"),
        ({"short_rules": MarketRules(lot=D("0.01"), tick=D("0.5"), min_qty=D("0.01")),
          "qty": "0.505"},
         "the legs round to different sizes: long 0.505 on alpha, short 0.50 on beta"),
        ({"qty": "0.00005", "long_rules": MarketRules(lot=D("0.00001"), tick=D("0.5"),
                                                      min_qty=D("0.00001"),
                                                      min_notional=D("5"))},
         "notional 2.999700 (0.00005 at 59994.0) is below the minimum notional 5"),
        ({"offset": D("0.2")}, "limit_price_offset_pct: got 0.2, expected a value in"),
    ],
    # A crossed or one-sided book never reaches these checks: no such Book can be built
    # (tests/test_books.py), and venues refuse to return one (UnusableBook).
    ids=["zero", "negative", "below-min", "uneven-lots", "notional", "offset-range"],
)
def test_each_rule_names_venue_rule_and_numbers(kwargs: dict[str, object], expected: str
                                               ) -> None:
    with pytest.raises(RequestError) as caught:
        _check(**kwargs)  # type: ignore[arg-type]
    assert expected in str(caught.value)
