"""What an entry cost: prices achieved against the market it arrived in, and fees.

A funding-rate entry earns the basis it locks in and pays fees and slippage to lock
it; this section of the result puts those figures side by side, so the choices the
engine makes (rest as maker or take, hedge at once or wait) can be judged in money.

Definitions (every price in quote currency per base unit, bps = 1/10,000 of the
reference notional):

- *arrival*: each leg's book when the entry started (mid, spread, touch).
- *basis achieved*: short leg VWAP minus long leg VWAP, over the entry's own fills
  (quotes and hedges on the leg's side; rollbacks and trims excluded).
- *basis at arrival*: short venue's best bid minus long venue's best ask at arrival:
  the basis both legs would have locked by taking at once. Resting as maker beats it;
  slippage falls short of it. ``arrival_mid_basis`` (short mid minus long mid) is there too.
- *bps of notional*: against ``reference`` (the mean of the arrival mids) times a
  quantity: per unit for the basis; for fees, the larger leg's entry fills (the
  position the fees bought, also when it was rolled back).
- *hedge slippage*: the hedge fills' VWAP (an amended-to-cross quote's taker fills
  included) against the hedged venue's far touch at
  arrival (the ask for a buy), positive when worse: the market's move plus depth.
- *rollback P&L*: on a leg that was rolled back, (exit VWAP - entry VWAP) x matched
  quantity x the leg's sign, minus every fee on the leg.
- *fees*: what the venues reported on each fill (``fees``, in the market's settle
  currency; a fee charged in another currency, a fee-token discount, goes to
  ``other_fees`` and into no total) and what the fee schedule says the fills should
  have cost (``expected_fees``, with the rates and their source).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal

import attrs

from fsm.core import fees as fee_schedule
from fsm.core.entry_facts import EntryFacts
from fsm.core.spec import AMEND_INITIAL
from fsm.core.values import Fill, average_price
from venues import depth
from venues.market import Leg, Purpose
from venues.protocol import Liquidity, settle_currency

ZERO = Decimal(0)
BPS = Decimal(10_000)
PLACES = Decimal("0.000001")
UNITS = {
    "prices, basis, fees, P&L": "quote currency (per base unit for prices and basis)",
    "quantities": "base units",
    "*_bps": "basis points of the reference notional (see fsm.core.economics)",
    "*_rate": "fraction of notional, negative a rebate",
}


def _q(value: Decimal | None) -> Decimal | None:
    """Six places, enough for a bp of a cent, without Decimal division's 28 digits.

    The rounding is named, not taken from the context a venue library may have changed."""
    if value is None:
        return None
    return value.quantize(PLACES, rounding=ROUND_HALF_EVEN).normalize() + 0


@attrs.frozen
class Arrival:
    venue: str
    best_bid: Decimal
    best_ask: Decimal
    mid: Decimal
    spread: Decimal
    spread_bps: Decimal


@attrs.frozen
class LegCost:
    venue: str
    vwap: Decimal | None  # of the entry's own fills on this leg
    filled: Decimal
    maker_qty: Decimal
    taker_qty: Decimal
    unknown_liquidity_qty: Decimal
    # as reported by the venue, every fill of the leg (rollbacks included), in the
    # market's settle currency; fees charged in another (a fee-token discount) are in
    # ``other_fees`` by currency and in no total
    fees: Decimal
    fee_currencies: tuple[str, ...]
    other_fees: dict[str, Decimal]
    expected_fees: Decimal  # as the fee schedule prices the same fills
    maker_rate: Decimal
    taker_rate: Decimal
    rates_source: str  # "config" (an override) or "venue"
    rollback_pnl: Decimal | None  # None: nothing on this leg was rolled back

    @property
    def liquidity(self) -> str:
        """maker, taker, mixed or - (no fills): the word for the summary line."""
        kinds = [name for name, qty in (("maker", self.maker_qty), ("taker", self.taker_qty),
                                        ("unknown", self.unknown_liquidity_qty)) if qty > 0]
        return "-" if not kinds else kinds[0] if len(kinds) == 1 else "mixed"


@attrs.frozen
class Economics:
    """Units: prices and P&L in quote currency, ``*_bps`` in basis points."""

    arrival: dict[str, Arrival]
    legs: dict[str, LegCost]
    reference: Decimal
    hedged_qty: Decimal
    basis: Decimal | None
    basis_bps: Decimal | None
    basis_quote: Decimal | None  # basis x hedged quantity
    arrival_basis: Decimal | None
    arrival_basis_bps: Decimal | None
    arrival_mid_basis: Decimal | None
    fees_total: Decimal
    fees_bps: Decimal | None
    hedge_vwap: Decimal | None
    hedge_slippage_bps: Decimal | None
    rollback_pnl: Decimal | None
    # The exposure the venues executed where known (simulated runs), else what the
    # engine knew from fill reports; ``unhedged_source`` says which ("venues", "engine").
    unhedged_ms: float = 0.0
    unhedged_notional_seconds: Decimal = ZERO
    unhedged_source: str = "engine"
    units: dict[str, str] = attrs.field(factory=lambda: dict(UNITS))


def build(model: EntryFacts) -> Economics:
    arrival = {leg.value: _arrival(model, leg) for leg in Leg if leg in model.arrival_books}
    entry_fills = {leg: _fills(model, leg, entry=True) for leg in Leg}
    legs = {leg.value: _leg(model, leg, entry_fills[leg]) for leg in Leg}
    long, short = legs[Leg.LONG.value], legs[Leg.SHORT.value]
    hedged = min(long.filled, short.filled)
    reference = model.reference_price
    traded = max(long.filled, short.filled)
    notional = reference * traded if traded > 0 and reference > 0 else None
    basis = (short.vwap - long.vwap) if short.vwap is not None and long.vwap is not None \
        else None
    arrival_basis = mid_basis = None
    if Leg.LONG.value in arrival and Leg.SHORT.value in arrival:
        arrival_basis = arrival[Leg.SHORT.value].best_bid - arrival[Leg.LONG.value].best_ask
        mid_basis = arrival[Leg.SHORT.value].mid - arrival[Leg.LONG.value].mid
    total_fees = long.fees + short.fees
    hedge_vwap, slippage = _hedge(model)
    rollbacks = [c.rollback_pnl for c in legs.values() if c.rollback_pnl is not None]
    return Economics(
        arrival=arrival, legs=legs, reference=_q(reference) or ZERO, hedged_qty=hedged,
        basis=_q(basis), basis_bps=_bps(basis, reference),
        basis_quote=_q(basis * hedged) if basis is not None else None,
        arrival_basis=_q(arrival_basis), arrival_basis_bps=_bps(arrival_basis, reference),
        arrival_mid_basis=_q(mid_basis), fees_total=_q(total_fees) or ZERO,
        fees_bps=_q(total_fees / notional * BPS) if notional else None,
        hedge_vwap=_q(hedge_vwap), hedge_slippage_bps=slippage,
        rollback_pnl=_q(sum(rollbacks, ZERO)) if rollbacks else None,
    )


def _bps(value: Decimal | None, reference: Decimal) -> Decimal | None:
    return None if value is None or reference <= 0 else _q(value / reference * BPS)


def _arrival(model: EntryFacts, leg: Leg) -> Arrival:
    book = model.arrival_books[leg]
    bid, ask = book.best_bid, book.best_ask
    mid = book.mid
    return Arrival(model.request.leg(leg).venue, bid, ask, _q(mid) or ZERO,
                   ask - bid, _q((ask - bid) / mid * BPS) or ZERO)


def _fills(model: EntryFacts, leg: Leg, *, entry: bool) -> list[Fill]:
    """The leg's fills: ``entry`` on its own side (quotes, hedges), else every one."""
    return [f for r in model.ledger if r.command.leg is leg
            and (not entry or (r.command.side is leg.side
                               and r.purpose in (Purpose.QUOTE, Purpose.HEDGE)))
            for f in r.fills.values()]


def _leg(model: EntryFacts, leg: Leg, entry: list[Fill]) -> LegCost:
    spec = model.request.leg(leg)
    rates = fee_schedule.rates_for(spec.venue, spec.symbol, model.rules.get(leg),
                                   model.config.fees)
    every = _fills(model, leg, entry=False)
    settle = settle_currency(spec.symbol)
    own = [f for f in every if f.fee_currency in (None, settle)]
    other: dict[str, Decimal] = {}
    for f in every:
        if f.fee_currency not in (None, settle):
            other[str(f.fee_currency)] = other.get(str(f.fee_currency), ZERO) + f.fee

    def qty(kind: Liquidity | None) -> Decimal:
        return sum((f.qty for f in entry if f.liquidity is kind), ZERO)

    return LegCost(
        venue=spec.venue, vwap=_q(average_price(entry)),
        filled=sum((f.qty for f in entry), ZERO),
        maker_qty=qty(Liquidity.MAKER), taker_qty=qty(Liquidity.TAKER),
        unknown_liquidity_qty=qty(None),
        fees=_q(sum((f.fee for f in own), ZERO)) or ZERO, other_fees=other,
        fee_currencies=tuple(sorted({f.fee_currency for f in every if f.fee_currency})),
        expected_fees=_q(sum((f.qty * f.price * rates.rate(f.liquidity) for f in every), ZERO))
        or ZERO,
        maker_rate=rates.maker, taker_rate=rates.taker, rates_source=rates.source,
        rollback_pnl=_rollback_pnl(model, leg, entry, own),
    )


def _rollback_pnl(model: EntryFacts, leg: Leg, entry: list[Fill],
                  every: Iterable[Fill]) -> Decimal | None:
    exits = [f for r in model.ledger if r.command.leg is leg and r.purpose is Purpose.ROLLBACK
             for f in r.fills.values()]
    entry_vwap, exit_vwap = average_price(entry), average_price(exits)
    if entry_vwap is None or exit_vwap is None:
        return None
    matched = min(sum((f.qty for f in entry), ZERO), sum((f.qty for f in exits), ZERO))
    gross = (exit_vwap - entry_vwap) * matched * leg.side.sign
    return _q(gross - sum((f.fee for f in every), ZERO))


def _hedge(model: EntryFacts) -> tuple[Decimal | None, Decimal | None]:
    """The hedges' VWAP and its cost against the hedged venue's arrival far touch.

    A quote amended through the touch (amend-to-cross) hedged too: its taker fills count;
    its maker fills, before the amend, were the quote's.
    """
    fills = [(r, f) for r in model.ledger for f in r.fills.values()
             if r.purpose is Purpose.HEDGE
             or (r.amend is not AMEND_INITIAL and f.liquidity is Liquidity.TAKER)]
    if not fills:
        return None, None
    leg, side = fills[0][0].command.leg, fills[0][0].command.side
    vwap = average_price(f for r, f in fills if r.command.leg is leg)
    book = model.arrival_books.get(leg)
    if vwap is None or book is None or not (book.bids and book.asks):
        return vwap, None
    return vwap, _q(depth.cost_bps(side, vwap, book.far_touch(side)))
