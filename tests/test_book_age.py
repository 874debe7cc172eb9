"""Issue 14, item 1: books as events, and no order priced from a stale book.

The entry keeps each leg's latest book with the time it arrived; a hedge is priced only
from a book younger than ``max_book_age_s``. An older one is read again first (a
``ReadBook`` command answered by ``BookRead``), reads that keep failing end in a
rollback rather than a hedge priced blind, and every priced order carries the age of
its book so the freshness invariant can check it.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from fsm.core import events as ev
from fsm.core import invariants
from fsm.core.commands import AmendOrder, Command, ReadBook
from fsm.core.config import ConfigError, EntryConfig
from fsm.core.entry import EntryModel
from fsm.core.entry_guards import EntryGuards
from fsm.shell import gateway
from fsm.sim import scenario as scenarios
from fsm.sim.runner import simulate
from tests import simkit
from tests.conftest import assert_safe, run_builtin
from tests.scenariokit import load_error
from venues import protocol as base
from venues.market import (
    Book,
    BookLevel,
    Leg,
    OrderKind,
    PlaceOrder,
    Purpose,
    Side,
)

D = Decimal
MOVED = Book((BookLevel("65989.5", "2"),), (BookLevel("65990.0", "2"),))


def _to_hedge(config: EntryConfig, fill_at: float = 3.0) -> tuple[EntryModel, list[Command]]:
    """An entry whose short quote filled at ``fill_at`` and whose long quote's cancel was
    just confirmed: the next thing it does is about the long hedge."""
    model = EntryModel("b1", simkit.request(), config)
    quotes = model.handle(ev.Start(0.0, {Leg.LONG: simkit.BOOK, Leg.SHORT: simkit.BOOK},
                                   {Leg.LONG: simkit.RULES, Leg.SHORT: simkit.RULES}))
    long_q, short_q = (c.client_id for c in quotes if isinstance(c, PlaceOrder))
    model.handle(ev.Accepted(0.05, long_q))
    model.handle(ev.Accepted(0.05, short_q))
    model.handle(ev.FillReport(fill_at, short_q, "s1", D("0.5"), D("60006")))
    return model, model.handle(ev.Canceled(fill_at + 0.05, long_q, D(0)))


def _hedges(commands: list[Command]) -> list[PlaceOrder]:
    return [c for c in commands if isinstance(c, PlaceOrder) and c.purpose is Purpose.HEDGE]


def test_a_fresh_book_prices_the_hedge_at_once_with_its_age() -> None:
    _, out = _to_hedge(EntryConfig(), fill_at=1.0)
    [hedge] = _hedges(out)
    assert not [c for c in out if isinstance(c, ReadBook)]
    assert hedge.book_age_s == pytest.approx(1.05)


def test_a_stale_book_is_read_again_before_the_hedge_is_priced() -> None:
    config = EntryConfig(hedge_order="aggressive_limit", hedge_max_slippage_pct="0.1")
    model, out = _to_hedge(config)
    assert out == [ReadBook(Leg.LONG, "alpha", simkit.SYMBOL)]
    assert model.state == "active.first_leg_filled.reading_book"
    [hedge] = _hedges(model.handle(ev.BookRead(3.1, Leg.LONG, MOVED)))
    assert hedge.book_age_s == 0.0
    assert (hedge.kind, hedge.side, hedge.price) == (OrderKind.LIMIT, Side.BUY, D("65993.0"))
    assert model.book_at[Leg.LONG] == 3.1


def test_reads_that_keep_failing_roll_back_instead_of_hedging_blind() -> None:
    model, out = _to_hedge(EntryConfig(hedge_retry_budget=1))
    reads = [out]
    for at in (3.1, 3.2):
        reads.append(model.handle(ev.BookRead(at, Leg.LONG, None, "VenueUnavailable")))
    assert [[type(c).__name__ for c in r if isinstance(c, ReadBook)] for r in reads] == [
        ["ReadBook"], ["ReadBook"], []]
    assert model.state.startswith("rolling_back")
    assert not _hedges([c for r in reads for c in r])
    assert [(t.source, t.dest) for t in model.path][-3:-1] == [
        ("active.first_leg_filled.reading_book", "active.first_leg_filled.reconciling"),
        ("active.first_leg_filled.reconciling", "rolling_back.cancelling")]


def test_a_pushed_book_makes_the_leg_fresh_and_keeps_the_venue_stamp() -> None:
    model, _ = _to_hedge(EntryConfig(), fill_at=0.5)
    model.handle(ev.BookUpdate(0.7, Leg.SHORT, MOVED, venue_at=1_700_000_000.5))
    assert model.books[Leg.SHORT] is MOVED
    assert (model.book_at[Leg.SHORT], model.book_venue_at[Leg.SHORT]) == (0.7, 1_700_000_000.5)


def test_a_stale_book_prices_no_amend_to_cross() -> None:
    """Amend-to-cross prices the amend from the lagging book: a stale one sends the entry
    down cancel, read, hedge instead."""
    rules = simkit.RULES.__class__(lot="0.001", tick="0.5", min_qty="0.001",
                                   supports_amend=True)
    config = EntryConfig(hedge_mode="amend_to_cross")
    for fill_at, amends in ((1.0, 1), (3.0, 0)):
        model = EntryModel("b1", simkit.request(), config)
        quotes = model.handle(ev.Start(0.0, {Leg.LONG: simkit.BOOK, Leg.SHORT: simkit.BOOK},
                                       {Leg.LONG: rules, Leg.SHORT: rules}))
        for quote in quotes:
            if isinstance(quote, PlaceOrder):
                model.handle(ev.Accepted(0.05, quote.client_id))
        out = model.handle(ev.FillReport(fill_at, quotes[1].client_id, "s1", D("0.5"),
                                         D("60006")))
        sent = [c for c in out if isinstance(c, AmendOrder)]
        assert len(sent) == amends
        assert all(c.book_age_s == fill_at for c in sent)


# ------------------------------------------------------------------ the invariant

def _order(age: float | None, purpose: Purpose = Purpose.HEDGE,
           price: Decimal | None = None) -> PlaceOrder:
    return PlaceOrder("aeb1Lh1", "alpha", simkit.SYMBOL, Leg.LONG, purpose, Side.BUY,
                      OrderKind.MARKET if price is None else OrderKind.LIMIT, D("0.5"), price,
                      book_age_s=age)


def test_the_freshness_invariant_names_old_and_missing_book_ages() -> None:
    assert invariants.fresh_books([_order(1.5), _order(9.0, Purpose.ROLLBACK)], 2.0) == []
    assert invariants.fresh_books([_order(2.5)], 2.0) == [
        "fresh books: PlaceOrder aeb1Lh1 was priced from a book 2.500 s old; expected at "
        "most 2.0 s"]
    assert invariants.fresh_books([_order(None, Purpose.QUOTE, D(1))], 2.0) == [
        "fresh books: PlaceOrder aeb1Lh1 was priced from no book age; expected at most 2.0 s"]
    amend = AmendOrder("aeb1Sq1", "beta", simkit.SYMBOL, D(1), D(1), book_age_s=3.0)
    assert len(invariants.fresh_books([amend], 2.0)) == 1


def test_the_invariant_catches_a_hedge_priced_from_a_stale_book(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Break the rule (a stale book counts as fresh) and the run breaks the invariant:
    the hedge goes out at the start book's price, near 60030 against an ask of 65990,
    never fills, and every retry reuses it (the hyperliquid failure of the issue)."""
    monkeypatch.setattr(EntryGuards, "hedge_book_stale", lambda self, *_: False)
    run = run_builtin("stale_book_refetch")
    assert any(v.startswith("fresh books: PlaceOrder aesim1Lh1") for v in run.violations)
    assert run.result.final_state != "complete"


# ------------------------------------------------------------------ the scenarios

def test_stale_book_refetch_reads_before_pricing_and_fills() -> None:
    run = run_builtin("stale_book_refetch")
    assert_safe(run)
    sent = [c for step in run.steps for c in step.commands]
    kinds = [type(c).__name__ for c in sent if isinstance(c, ReadBook | PlaceOrder)]
    assert kinds == ["PlaceOrder", "PlaceOrder", "ReadBook", "PlaceOrder"]
    [hedge] = [o for o in run.result.orders if o.purpose == "hedge"]
    assert (hedge.price, hedge.filled, hedge.average_price) == (
        D("65993.0"), D("0.5"), D("65990.0"))


def test_hedge_after_move_is_priced_from_the_pushed_book() -> None:
    run = run_builtin("hedge_after_move")
    assert_safe(run)
    sent = [c for step in run.steps for c in step.commands]
    assert not [c for c in sent if isinstance(c, ReadBook)]
    assert [step.event for step in run.steps if isinstance(step.event, ev.BookUpdate)]
    [hedge] = [o for o in run.result.orders if o.purpose == "hedge"]
    assert (hedge.price, hedge.filled) == (D("65993.0"), D("0.5"))


def test_a_scenario_book_may_change_without_a_push() -> None:
    text = scenarios.builtin_text("stale_book_refetch")
    assert 'pushed = false' in text
    for flag, pushes in (("false", 0), ("true", 1)):
        run = simulate(scenarios.parse(text.replace("pushed = false", f"pushed = {flag}"),
                                       "pushed (test)", "pushed"))
        assert len([s for s in run.steps if isinstance(s.event, ev.BookUpdate)]) == pushes
        # pushed at 1 s or not, the book is 2 s old at the 3 s hedge: read again anyway
        assert [c for s in run.steps for c in s.commands if isinstance(c, ReadBook)]


def test_a_scenario_book_push_flag_must_be_a_boolean(tmp_path: object) -> None:
    from pathlib import Path
    assert isinstance(tmp_path, Path)
    text = scenarios.builtin_text("stale_book_refetch")
    path = tmp_path / "bad.toml"
    path.write_text(text.replace("pushed = false", 'pushed = "no"'))
    message = load_error(path)
    assert "venues.alpha.books[0].pushed" in message and "true or false" in message


# ------------------------------------------------------------------ config and shell

@pytest.mark.parametrize("value", [0, -1, 601, float("nan")])
def test_max_book_age_is_bounded(value: float) -> None:
    with pytest.raises(ConfigError, match="max_book_age_s"):
        EntryConfig(max_book_age_s=value)


class _Reads:
    def __init__(self, answer: Book | Exception) -> None:
        self.answer = answer

    async def book(self, symbol: str, depth: int = 10) -> Book:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.mark.parametrize(("answer", "failed"), [
    (MOVED, ""),
    (base.VenueUnavailable("down"), "VenueUnavailable: down"),
    (base.UnusableBook("alpha: book BTC/USDT:USDT: the book has no bids"), "has no bids"),
])
def test_the_gateway_answers_a_book_read(answer: Book | Exception, failed: str) -> None:
    posted: list[ev.Event] = []
    request = ReadBook(Leg.LONG, "alpha", simkit.SYMBOL)
    simkit.run(gateway.read_book(_Reads(answer), request, posted.append))  # type: ignore[arg-type]
    [read] = posted
    assert isinstance(read, ev.BookRead) and read.leg is Leg.LONG
    assert (read.book is None) == bool(failed) and failed in read.failed


def test_the_engine_routes_a_pushed_book_with_its_venue_stamp() -> None:
    from fsm.shell.engine import EntryEngine

    async def scenario() -> list[ev.Event]:
        venues = {"alpha": simkit.venue("alpha"), "beta": simkit.venue("beta")}
        engine = EntryEngine(venues)
        posted: list[ev.Event] = []
        actor = type("A", (), {"post": staticmethod(posted.append)})()
        engine._routes._books[("alpha", simkit.SYMBOL)] = {actor: (Leg.LONG,)}  # type: ignore[dict-item]
        engine._on_update("alpha", base.BookChanged("alpha", simkit.SYMBOL, MOVED, 1.5))
        await asyncio.sleep(0)
        return posted

    [update] = simkit.run(scenario())
    assert isinstance(update, ev.BookUpdate)
    assert (update.leg, update.book, update.venue_at) == (Leg.LONG, MOVED, 1.5)


def test_only_the_last_of_two_reads_in_flight_moves_the_entry_on() -> None:
    """With two reads in flight (a second one asked for while the first travels), the
    first answer is remembered and the second decides."""
    model, out = _to_hedge(EntryConfig())
    assert isinstance(out[0], ReadBook)
    model._out = []  # the effect run by hand, outside ``handle`` (which collects commands)
    model.read_book()
    assert model.book_reads_out == 2
    assert model.handle(ev.BookRead(3.1, Leg.LONG, MOVED)) == []
    assert model.state == "active.first_leg_filled.reading_book"
    assert _hedges(model.handle(ev.BookRead(3.11, Leg.LONG, MOVED)))
