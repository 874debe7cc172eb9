"""Each safety invariant's check catches the break it guards against.

Every test breaks one piece of the engine the way real executors have broken it,
runs the scenario that exposes it, and asserts the invariant check (the same one
``test_every_shipped_scenario_is_safe`` requires to be empty) reports the break.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pytest

from fsm.core import events as ev
from fsm.core import ids
from fsm.core.entry import EntryModel
from fsm.core.ledger import Change, OrderLedger
from fsm.core.orders import OrderRecord
from fsm.core.tables.events import EventRule, rule_for
from fsm.sim import scenario as scenarios
from fsm.sim.runner import SimulationRun, simulate
from tests.conftest import run_builtin

D = Decimal


def _violations(run: SimulationRun, prefix: str) -> list[str]:
    return [v for v in run.violations if v.startswith(prefix)]


@pytest.mark.parametrize("name", ["fill_during_cancel", "duplicate_fill_reports",
                                  "hedge_timeout_live", "maker_keeps_quoting"])
def test_control_runs_are_clean(name: str) -> None:
    assert run_builtin(name).violations == ()


def test_1_hedging_before_the_cancel_is_confirmed_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def hedge_without_waiting(self: EntryModel, *_: Any) -> bool:
        hedge = self._latest(self.ledger.orders[next(iter(self.ledger.orders))].purpose.HEDGE)
        return self._needs_hedge() and (hedge is None or hedge.terminal)

    monkeypatch.setattr(EntryModel, "cancels_settled", lambda self, *_: True)
    monkeypatch.setattr(EntryModel, "hedge_venue_quote_live", lambda self, *_: False)
    monkeypatch.setattr(EntryModel, "imbalance_hedgeable", hedge_without_waiting)
    assert _violations(run_builtin("fill_during_cancel"), "cancel-before-hedge")


def test_2_counting_a_duplicate_fill_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    def record_every_report(self: OrderLedger, record: OrderRecord, report: ev.FillReport,
                            change: Change) -> bool:
        self._seen.clear()  # forget every trade id: duplicates count again
        return original(self, record, report, change)

    original = OrderLedger._record_fill
    monkeypatch.setattr(OrderLedger, "_record_fill", record_every_report)
    run = run_builtin("duplicate_fill_reports")
    assert _violations(run, "reconciliation")


def test_3_hedging_the_full_size_after_a_partial_fill_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def full_size(self: EntryModel) -> Decimal:
        lag = self.lagging_leg()
        return D(0) if lag is None else self.request.leg(lag).qty

    monkeypatch.setattr(EntryModel, "hedge_qty", full_size)
    assert _violations(run_builtin("fill_during_cancel"), "overfill")


def test_4_taking_a_timeout_as_a_rejection_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    def timeouts_are_failures(self: OrderLedger, event: ev.OrderEvent, rule: EventRule) -> Change:
        if isinstance(event, ev.OutcomeUnknown):
            event = ev.Rejected(event.at, event.client_id, "assumed failed")
            rule = rule_for(event)
        return original(self, event, rule)

    original = OrderLedger.apply
    # A quiet order stream, so no late fill report rescues the wrong assumption.
    quiet = scenarios.load_builtin("hedge_timeout_live")
    quiet = attrs.evolve(quiet, venues=tuple(
        attrs.evolve(v, stream_delay_s=5.0) for v in quiet.venues))
    assert simulate(quiet).violations == ()
    monkeypatch.setattr(OrderLedger, "apply", timeouts_are_failures)
    broken = simulate(quiet)
    # The harm: the hedge that did fill is sent again, so both legs end up doubled.
    assert _violations(broken, "ambiguity") or _violations(broken, "overfill: short leg")


def test_5_completing_with_a_quote_still_open_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(EntryModel, "maker_still_quoting", lambda self, *_: False)
    monkeypatch.setattr(EntryModel, "orders_settled", lambda self, *_: True)
    run = run_builtin("maker_keeps_quoting")
    assert _violations(run, "terminal: order aesim1Lq1 left")


def _hedge_ids(run: SimulationRun) -> list[str]:
    return [c.client_id for s in run.steps for c in s.commands
            if type(c).__name__ == "PlaceOrder" and c.purpose.value == "hedge"]


def test_6_random_client_ids_are_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = iter(range(10**6))

    def drifting(entry_id: str, leg: Any, purpose: Any, attempt: int) -> str:
        return f"{original(entry_id, leg, purpose, attempt)}x{next(counter)}"

    original = ids.client_order_id
    monkeypatch.setattr("fsm.core.entry_effects.client_order_id", drifting)
    first, second = run_builtin("one_leg_fills_first"), run_builtin("one_leg_fills_first")
    assert [o.client_id for o in first.result.orders] != [
        o.client_id for o in second.result.orders]


def test_6_a_retried_intent_with_a_new_id_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _hedge_ids(run_builtin("hedge_timeout_lost")) == ["aesim1Sh1", "aesim1Sh1"]
    monkeypatch.setattr(OrderRecord, "lost_in_flight", lambda self: False)
    assert _hedge_ids(run_builtin("hedge_timeout_lost")) == ["aesim1Sh1", "aesim1Sh2"]
