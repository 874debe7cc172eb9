"""The runtime executes exactly the spec's first-enabled rule, as ``transitions`` does.

``fsm.core.runtime`` flattens the hierarchical table into a plain ``transitions``
machine, the oracle, and executes the rows an event fires by table dispatch. For every
(leaf, trigger) and every true/false assignment of the guards its rows name, an entry
model with stubbed guards is fired three ways: through ``transitions`` alone
(``trigger``: the real ``Machine`` picks and executes the row), as an event fires it
(``_step``: the look-ahead, then table dispatch) and through ``transitions``' one-row
event for the row the look-ahead chose (the bench's ``row`` form). Each must take the
row ``spec.first_enabled`` names, enter the leaf it leads to, run its effects and call
no guard twice, and the fast runtime must leave the model exactly as ``transitions``
left it; where the spec has no row, ``transitions`` refuses.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest
from transitions import MachineError

from fsm.core import spec
from fsm.core.config import EntryConfig
from fsm.core.entry import EntryModel
from fsm.core.runtime import CompiledRow, entry_runtime
from fsm.core.values import EntryRequest, LegSpec

TABLE = spec.ENTRY_TRANSITIONS
EFFECTS = sorted({effect for row in TABLE for effect in row.effects})


class _Stubbed(EntryModel):
    """Guards answer from ``truth`` and count their calls; effects and rows are recorded."""

    def __init__(self, leaf: str, truth: dict[str, bool], one_row: bool = False) -> None:
        request = EntryRequest(LegSpec("a", "X", "1"), LegSpec("b", "X", "1"), entry_id="t")
        super().__init__("t", request, EntryConfig(), entry_runtime(one_row_events=one_row))
        self.one_row = one_row
        self.state = str(leaf)  # transitions names states by their plain strings
        self.calls: Counter[str] = Counter()
        self.effects: list[str] = []
        self.taken: list[int] = []
        for name, value in truth.items():
            setattr(self, name, self._guard(name, value))
        for effect in EFFECTS:
            setattr(self, effect, lambda *_, e=effect: self.effects.append(e))

    def _guard(self, name: str, value: bool) -> Any:
        def guard(*_: Any) -> bool:
            self.calls[name] += 1
            return value
        return guard

    def took(self, row: int, trigger: str, moves: bool) -> None:
        self.taken.append(row)
        super().took(row, trigger, moves)

    def _execute(self, trigger: str, row: CompiledRow) -> None:
        if self.one_row:
            self._runtime.fire_row(self, row)
        else:
            super()._execute(trigger, row)

    def seen(self) -> tuple[Any, ...]:
        """Everything a row can change, as the path records it."""
        return (self.state, self.taken, self.effects,
                [(t.trigger, t.source, t.dest, t.row) for t in self.path])


def _index(row: spec.EntryRow) -> int:
    return next(i for i, r in enumerate(TABLE) if r is row)


def _cases() -> list[Any]:
    cases = []
    for leaf in spec.leaf_names(spec.ENTRY_STATES):
        for trigger in spec.triggers(TABLE):
            rows = spec.rows_for(TABLE, leaf, trigger)
            names = sorted({n for row in rows for n in (*row.guards, *row.unless)})
            for values in itertools.product((True, False), repeat=len(names)):
                truth = dict(zip(names, values, strict=True))
                label = ",".join(f"{'' if v else '!'}{n}" for n, v in truth.items())
                cases.append(pytest.param(leaf, trigger, truth, id=f"{leaf}-{trigger}-{label}"))
    return cases


def _expect(model: _Stubbed, leaf: str, row: spec.EntryRow) -> None:
    assert model.taken == [_index(row)], f"took rows {model.taken}, the spec takes {row.label}"
    dest = leaf if row.dest is None else spec.initial_leaf(spec.ENTRY_STATES, row.dest)
    assert model.state == dest
    assert model.effects == list(row.effects)
    assert [t.row for t in model.path] == ([_index(row)] if row.dest is not None else [])
    assert max(model.calls.values(), default=0) <= 1, f"a guard ran twice: {model.calls}"


@pytest.mark.parametrize(("leaf", "trigger", "truth"), _cases())
def test_runtime_takes_the_first_enabled_row(
    leaf: str, trigger: str, truth: dict[str, bool]
) -> None:
    rows = spec.rows_for(TABLE, leaf, trigger)
    expected = spec.first_enabled(rows, truth.__getitem__)

    alone = _Stubbed(leaf, truth)
    if not rows:
        with pytest.raises(MachineError):
            alone.trigger(trigger)
        assert (alone.state, alone.taken) == (leaf, [])
        return
    assert alone.trigger(trigger) is (expected is not None)
    if expected is None:
        assert (alone.state, alone.taken, alone.effects) == (leaf, [], [])
    else:
        _expect(alone, leaf, expected)

    acts = expected is not None and (expected.dest is not None or bool(expected.effects))
    for one_row in (False, True):
        stepped = _Stubbed(leaf, truth, one_row)
        assert stepped._step(trigger) is acts
        assert max(stepped.calls.values(), default=0) <= 1, f"a guard ran twice: {stepped.calls}"
        if acts:
            assert expected is not None
            _expect(stepped, leaf, expected)
            assert stepped.seen() == alone.seen(), "the runtime and transitions differ"
        else:  # nothing to do: nothing is executed
            assert (stepped.state, stepped.taken, stepped.effects) == (leaf, [], [])


def test_every_guard_is_asked_through_the_memo() -> None:
    """A second ask within one trigger is answered from memory; a new trigger asks again."""
    model = _Stubbed("active.first_leg_filled.reconciling", {"orders_settled": True})
    assert model.holds("orders_settled") and model.holds("orders_settled")
    assert model.calls["orders_settled"] == 1
    model._acts("evaluate")
    assert model.calls["orders_settled"] == 2
    model._lookahead("evaluate")
    assert model.calls["orders_settled"] == 3
