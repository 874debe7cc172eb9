"""The simulated venue's pushes: duplicated and lagging reports, subscribers that fail or
leave, close stopping what is due, and one script replaying to the same journal and pushes.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal as D
from typing import Any

from tests.simkit import Recorder, fill, now, order, run, status, venue_with
from venues.market import Book, BookLevel, OrderStatus
from venues.protocol import CancelAck, FillUpdate, OrderUpdate, VenueUpdate
from venues.sim.venue import JournalEntry, Reaction, ReactionAction, ScriptedBook, ScriptedFill

# -- report delivery ------------------------------------------------------------------


def test_duplicate_fills_deliver_each_fill_twice_with_the_same_trade_id() -> None:
    async def scenario() -> None:
        venue, rec = venue_with(latency_s=0.25, duplicate_fills=True)
        await venue.place(order("q1", price="100"))
        await asyncio.sleep(1)
        assert rec.seen == [
            (0.5, fill("q1", 1, "1", "100", "0.05")),
            (0.5, status("q1", OrderStatus.FILLED, "1")),
            (0.75, fill("q1", 1, "1", "100", "0.05")),
        ]
        assert venue.order("q1").fills == (fill("q1", 1, "1", "100", "0.05"),)

    run(scenario())


def test_stream_delay_lets_the_cancel_answer_overtake_every_push() -> None:
    async def scenario() -> None:
        reaction = Reaction("cancel", ReactionAction.FILL_THEN_CANCEL, qty=D("0.5"))
        venue, rec = venue_with(latency_s=0.25, stream_delay_s=1.0, reactions=[reaction])
        await venue.place(order("q1", qty="2"))
        ack = await venue.cancel("BTC", "q1")
        assert (now(), ack) == (1.0, CancelAck("q1", D("0.5")))
        assert rec.seen == []  # the lagging stream has said nothing yet
        await asyncio.sleep(2)
        assert rec.seen == [(2.0, fill("q1", 1, "0.5", "99", "0.0099")),
                            (2.0, status("q1", OrderStatus.CANCELED, "0.5"))]

    run(scenario())


def test_unsubscribe_and_a_failing_handler_do_not_starve_others() -> None:
    async def scenario() -> None:
        errors: list[dict[str, Any]] = []
        asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: errors.append(ctx))
        venue, rec = venue_with()
        gone = Recorder()
        unsubscribe = venue.subscribe(gone)

        def broken(update: VenueUpdate) -> None:
            raise RuntimeError("boom")

        venue.subscribe(broken)
        venue.subscribe(later := Recorder())
        unsubscribe()
        await venue.place(order("q1", price="100"))
        await asyncio.sleep(0)
        assert gone.updates == []
        assert later.updates == rec.updates
        assert len(rec.updates) == 2
        assert [str(e["exception"]) for e in errors] == ["boom", "boom"]

    run(scenario())


# -- life cycle and determinism -------------------------------------------------------


def test_close_cancels_the_script_and_pending_pushes() -> None:
    async def scenario() -> None:
        venue, rec = venue_with(
            latency_s=0.25, stream_delay_s=1.0, script=[ScriptedFill(at_s=1.0)]
        )
        venue.start()
        await venue.place(order("q1", price="100"))  # fills at 0.25, fill push due at 1.5
        venue.close()
        await asyncio.sleep(2)
        assert rec.updates == []  # fill and status pushes were both due at 1.5
        assert [e.kind for e in venue.journal] == ["placed", "fill", "filled"]

    run(scenario())


def _race() -> tuple[list[JournalEntry], list[tuple[float, VenueUpdate]]]:
    async def scenario() -> tuple[list[JournalEntry], list[tuple[float, VenueUpdate]]]:
        venue, rec = venue_with(
            latency_s=0.125,
            stream_delay_s=0.5,
            duplicate_fills=True,
            script=[
                ScriptedFill(at_s=0.5, qty=D("0.3")),
                ScriptedBook(at_s=1.0, book=Book(bids=(BookLevel("97", "1"),),
                                                asks=(BookLevel("98", "9"),))),
            ],
            reactions=[Reaction("cancel", ReactionAction.FILL_THEN_CANCEL, qty=D("0.2"))],
        )
        venue.start()
        await venue.place(order("q1", qty="1"))
        await venue.place(order("q2", qty="1", price="98"))
        await asyncio.sleep(0.125)
        await venue.cancel("BTC", "q1")
        await asyncio.sleep(2)
        return venue.journal, rec.seen

    return run(scenario())


def _label(update: VenueUpdate) -> str:
    if isinstance(update, FillUpdate):
        return f"fill {update.trade_id} {update.client_id} {update.qty}"
    if isinstance(update, OrderUpdate):
        return f"{update.status.value} {update.client_id} {update.filled}"
    return f"book {update.symbol}"


def test_same_script_gives_the_same_journal_and_pushes() -> None:
    first, second = _race(), _race()
    assert first == second
    journal, seen = first
    assert [(e.at, e.kind, e.client_id) for e in journal] == [
        (0.125, "placed", "q1"),
        (0.125, "resting", "q1"),
        (0.375, "placed", "q2"),
        (0.375, "resting", "q2"),
        (0.5, "fill", "q1"),
        (0.75, "reaction", "q1"),
        (0.75, "fill", "q1"),
        (0.75, "canceled", "q1"),
        (1.0, "book", None),
        (1.0, "fill", "q2"),
        (1.0, "filled", "q2"),
    ]
    assert [(at, _label(u)) for at, u in seen] == [
        (1.125, "fill A-t1 q1 0.3"),  # scheduled first, so delivered first at 1.125
        (1.125, "book BTC"),  # market data is not behind the order stream's lag
        (1.25, "fill A-t1 q1 0.3"),
        (1.375, "fill A-t2 q1 0.2"),
        (1.375, "canceled q1 0.5"),
        (1.5, "fill A-t2 q1 0.2"),
        (1.625, "fill A-t3 q2 1"),
        (1.625, "filled q2 1"),
        (1.75, "fill A-t3 q2 1"),
    ]
