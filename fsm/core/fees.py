"""The fee schedule an entry prices with: whose maker and taker rates apply, per leg.

Three sources, the first that speaks wins: the operator's override for the venue and
symbol, the override for the venue, then the venue's own rates (what the adapter read
into ``MarketRules``: the account's tier where the exchange tells it, else the
exchange's base tier, see ``venues.ccxt.fees``). An operator overrides because the
venue's answer is known to be wrong for them (a VIP tier not yet applied, a rebate
programme, a fee token discount): the override must win, or it would be ignored exactly
when it matters (Hummingbot users asked for this per pair, #4782 and #4904).

What a fill *was* charged is the venue's report on the fill; the schedule is what a fill
*should* cost, for decisions before it (budgets) and to check the reports after it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NoReturn

import attrs

from venues import checks
from venues.market import MarketRules
from venues.protocol import Liquidity


class FeeOverrideError(ValueError):
    """A fee override that cannot be used; the message names where and what was expected."""


def _fail(instance: Any, attribute: attrs.Attribute[Any], value: Any, expected: str) -> NoReturn:
    raise FeeOverrideError(f"{attribute.name}: got {value}, expected {expected}")


_rate = checks.validator(_fail, checks.fee_rate)


@attrs.frozen
class FeeRates:
    """Maker and taker rates as fractions of notional (``0.0002`` = 2 bp; negative: rebate)."""

    maker: Decimal = attrs.field(converter=checks.decimal_or_keep, validator=_rate)
    taker: Decimal = attrs.field(converter=checks.decimal_or_keep, validator=_rate)
    source: str = "config"

    def rate(self, liquidity: Liquidity | None) -> Decimal:
        """The rate for a fill; a fill whose side is unknown is costed as taker (the
        dearer, on every venue we know)."""
        return self.maker if liquidity is Liquidity.MAKER else self.taker


@attrs.frozen
class FeeOverride:
    """An operator's rates for a venue, and for single symbols on it (pairs, not a dict,
    so a config stays hashable and compares by value)."""

    venue: str
    rates: FeeRates | None = None
    symbols: tuple[tuple[str, FeeRates], ...] = ()


Overrides = tuple[FeeOverride, ...]


def parse_overrides(value: Any) -> Overrides:
    """``{venue: {maker, taker, symbols: {symbol: {maker, taker}}}}`` (a config file's
    shape), refusing unknown keys and out-of-range rates, naming the venue and symbol."""
    if isinstance(value, tuple) and all(isinstance(v, FeeOverride) for v in value):
        return value
    if not isinstance(value, dict):
        raise FeeOverrideError(f"expected a table of venues, got {value!r}")
    return tuple(_override(str(venue), spec) for venue, spec in sorted(value.items()))


def _rates(spec: Any, where: str, allowed: set[str]) -> FeeRates | None:
    if not isinstance(spec, dict):
        raise FeeOverrideError(f"{where}: expected a table, got {spec!r}")
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise FeeOverrideError(f"{where}: unknown key(s) {', '.join(unknown)}; "
                               f"expected some of {', '.join(sorted(allowed))}")
    given = {"maker", "taker"} & set(spec)
    if not given:
        return None
    if given != {"maker", "taker"}:
        raise FeeOverrideError(f"{where}: give both maker and taker, got only {given.pop()}")
    try:
        return FeeRates(maker=spec["maker"], taker=spec["taker"], source="config")
    except FeeOverrideError as exc:
        raise FeeOverrideError(f"{where}: {exc}") from None


def _override(venue: str, spec: Any) -> FeeOverride:
    where = venue
    rates = _rates(spec, where, {"maker", "taker", "symbols"})
    symbols = spec.get("symbols", {})
    if not isinstance(symbols, dict):
        raise FeeOverrideError(f"{where}.symbols: expected a table of symbols, got {symbols!r}")
    per_symbol = {}
    for symbol, rates_spec in symbols.items():
        found = _rates(rates_spec, f"{where}.symbols.{symbol}", {"maker", "taker"})
        if found is None:
            raise FeeOverrideError(f"{where}.symbols.{symbol}: expected maker and taker")
        per_symbol[str(symbol)] = found
    if rates is None and not per_symbol:
        raise FeeOverrideError(f"{where}: expected maker and taker, or symbols")
    return FeeOverride(venue, rates, tuple(sorted(per_symbol.items())))


def rates_for(venue: str, symbol: str, rules: MarketRules | None,
              overrides: Overrides) -> FeeRates:
    """The rates that apply to ``symbol`` on ``venue``: override, then the venue's own."""
    for override in overrides:
        if override.venue != venue:
            continue
        for name, rates in override.symbols:
            if name == symbol:
                return rates
        if override.rates is not None:
            return override.rates
    if rules is None:
        return FeeRates(Decimal(0), Decimal(0), source="unknown")
    return FeeRates(rules.maker_fee, rules.taker_fee, source="venue")
