"""The circuit breakers' decision core: signals from ended entries in, breaker transitions out.

Pure, like the entry model: no clock (every call carries ``at``, the engine's clock),
no I/O, so the same outcomes at the same instants give the same transitions, in
replay as in the run. The rows are ``fsm.core.tables.breaker``; ``Breaker`` holds
one scope's state and counts and runs them through the first-enabled rule; ``Breakers``
holds every venue's breaker and the global one, turns an ``EntryResult`` into
signals (``fsm.core.breaker_signals``) and answers whether a new entry may run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, NoReturn

import attrs

from fsm.core.breaker_signals import Signal, signals
from fsm.core.result import EntryResult
from fsm.core.tables.breaker import (
    BREAKER_INITIAL,
    BREAKER_TRANSITIONS,
    BreakerRow,
    BreakerState,
    BreakerTrigger,
)
from fsm.core.tables.breaker import GLOBAL as GLOBAL  # the global breaker's scope, named there
from fsm.core.tables.rows import first_enabled, rows_for
from venues import checks

_SEVERITY = {BreakerState.ACTIVE: 0, BreakerState.CONSERVATIVE: 1, BreakerState.HALTED: 2}
_ROW_INDEX = {id(row): index for index, row in enumerate(BREAKER_TRANSITIONS)}


class BreakerConfigError(ValueError):
    """An invalid breaker setting; the message names the field, the value and the range."""


def _fail(instance: Any, attribute: attrs.Attribute[Any], value: Any, expected: str) -> NoReturn:
    raise BreakerConfigError(f"BreakerConfig.{attribute.name}: got {value!r}, expected {expected}")


def _count() -> Any:
    return checks.validator(_fail, checks.whole_in(1, 10_000))


def _seconds() -> Any:
    return checks.validator(_fail, checks.seconds_in(0.001, 30 * 86_400.0))


@attrs.frozen(kw_only=True)
class BreakerConfig:
    """When a breaker trips and when it steps back, per venue; the global breaker's counts
    are ``global_scale`` times a venue's (it hears every venue's signals).

    A hedge completion slower than ``slow_hedge_s`` (from the trigger fill to the last
    hedge fill) is a slow-hedge signal for the hedge's venue; ``conservative_after`` of
    them within ``window_s`` make the next entries there run conservative, ``halt_after``
    halt it. Refused and unanswered requests and books that stayed stale are faults,
    counted the same way against ``fault_conservative_after`` and ``fault_halt_after``.
    An entry that ends stuck or unbalanced halts both its venues at once. After
    ``quiet_s`` without a signal a breaker steps down one level. A conservative entry is
    sized at ``conservative_size`` times the size asked (rounded down to the lot).
    """

    slow_hedge_s: float = attrs.field(default=1.0, validator=_seconds())
    window_s: float = attrs.field(default=300.0, validator=_seconds())
    conservative_after: int = attrs.field(default=3, validator=_count())
    halt_after: int = attrs.field(default=5, validator=_count())
    fault_conservative_after: int = attrs.field(default=3, validator=_count())
    fault_halt_after: int = attrs.field(default=10, validator=_count())
    quiet_s: float = attrs.field(default=600.0, validator=_seconds())
    conservative_size: Decimal = attrs.field(
        default=Decimal("0.5"), converter=checks.decimal_or_keep,
        validator=checks.validator(_fail, checks.decimal_written,
                                   checks.in_range(Decimal(0), Decimal(1), lo_open=True)))
    global_scale: int = attrs.field(default=2, validator=checks.validator(
        _fail, checks.whole_in(1, 1000)))

    def __attrs_post_init__(self) -> None:
        for low, high in (("conservative_after", "halt_after"),
                          ("fault_conservative_after", "fault_halt_after")):
            if getattr(self, high) < getattr(self, low):
                raise BreakerConfigError(
                    f"BreakerConfig.{high}: got {getattr(self, high)!r}, expected at least "
                    f"{low} ({getattr(self, low)!r}): a breaker is conservative before it halts")


@attrs.frozen
class BreakerTransition:
    """One row a breaker took: ``dest`` None for a row that keeps the state."""

    scope: str
    at: float
    trigger: BreakerTrigger
    source: BreakerState
    dest: BreakerState | None
    row: int  # index into BREAKER_TRANSITIONS
    reason: str

    @property
    def changed(self) -> bool:
        return self.dest is not None and self.dest != self.source


@attrs.frozen
class Verdict:
    """What the breakers say about a new entry on some venues: the strictest state, why."""

    state: BreakerState
    scope: str | None = None  # the breaker that decided (None: every one is active)
    reason: str = ""


class Breaker:
    """One scope's breaker: its state, the signals in its window, and its rows."""

    def __init__(self, scope: str, config: BreakerConfig, scale: int = 1) -> None:
        self.scope = scope
        self.config = config
        self.scale = scale
        self.state = BREAKER_INITIAL
        self.reason = ""
        self.since: float | None = None  # when it entered this state (None: never changed)
        self.slow: deque[float] = deque()
        self.faults: deque[float] = deque()
        self.last_signal: float | None = None
        self._at = 0.0

    # -------------------------------------------------------------- the rule
    def fire(self, trigger: BreakerTrigger, at: float, reason: str = "") -> BreakerTransition:
        """Take the first enabled row for ``trigger``; signals are counted before guards ask."""
        self._at = at
        for window in (self.slow, self.faults):
            while window and window[0] < at - self.config.window_s:
                window.popleft()
        if trigger is BreakerTrigger.SLOW_HEDGE:
            self.slow.append(at)
        elif trigger is BreakerTrigger.FAULT:
            self.faults.append(at)
        if trigger in (BreakerTrigger.SLOW_HEDGE, BreakerTrigger.FAULT, BreakerTrigger.UNFINISHED):
            self.last_signal = at
        row: BreakerRow | None = first_enabled(
            rows_for(BREAKER_TRANSITIONS, self.state, trigger),
            lambda guard: bool(getattr(self, guard.value)()))
        if row is None:  # every (state, trigger) has a row; a test holds the table to it
            raise ValueError(f"breaker {self.scope}: no row for {trigger} in {self.state}")
        for effect in row.effects:
            getattr(self, effect.value)()
        source = self.state
        if row.dest is not None and row.dest != source:
            self.state, self.since = row.dest, at
            self.reason = reason or row.meaning
        return BreakerTransition(self.scope, at, trigger, source, row.dest,
                                 _ROW_INDEX[id(row)], reason or row.meaning)

    def restore(self, state: BreakerState, reason: str, at: float) -> None:
        """Take up a state a journal kept; its quiet period starts again at ``at``."""
        self.state, self.reason, self.since = state, reason, at
        self.slow.clear()
        self.faults.clear()
        self.last_signal = None

    # ------------------------------------------------------------- guards
    def slow_halt_reached(self) -> bool:
        return len(self.slow) >= self.config.halt_after * self.scale

    def slow_conservative_reached(self) -> bool:
        return len(self.slow) >= self.config.conservative_after * self.scale

    def fault_halt_reached(self) -> bool:
        return len(self.faults) >= self.config.fault_halt_after * self.scale

    def fault_conservative_reached(self) -> bool:
        return len(self.faults) >= self.config.fault_conservative_after * self.scale

    def quiet_elapsed(self) -> bool:
        marks = [t for t in (self.last_signal, self.since) if t is not None]
        return not marks or self._at - max(marks) >= self.config.quiet_s

    # ------------------------------------------------------------ effects
    def clear_counts(self) -> None:
        self.slow.clear()
        self.faults.clear()


class Breakers:
    """Every venue's breaker and the global one; a venue's is made when first named."""

    def __init__(self, config: BreakerConfig | None = None) -> None:
        self.config = config if config is not None else BreakerConfig()
        self.scopes: dict[str, Breaker] = {}
        self.scope(GLOBAL)

    def scope(self, name: str) -> Breaker:
        breaker = self.scopes.get(name)
        if breaker is None:
            scale = self.config.global_scale if name == GLOBAL else 1
            breaker = self.scopes[name] = Breaker(name, self.config, scale)
        return breaker

    def check(self, venues: Iterable[str], at: float) -> tuple[Verdict, list[BreakerTransition]]:
        """Whether a new entry on ``venues`` may run: each breaker first hears the clock
        (``quiet``), then the strictest of them (venues before the global one) decides."""
        names = [*dict.fromkeys(venues), GLOBAL]
        taken = [self.scope(name).fire(BreakerTrigger.QUIET, at) for name in names]
        worst = max((self.scope(n) for n in names), key=lambda b: _SEVERITY[b.state])
        if worst.state is BreakerState.ACTIVE:
            return Verdict(BreakerState.ACTIVE), taken
        return Verdict(worst.state, worst.scope, worst.reason), taken

    def report(self, result: EntryResult, at: float) -> list[BreakerTransition]:
        """An ended entry's signals, each to its venue's breaker and to the global one."""
        return self.hear(signals(result, self.config.slow_hedge_s), at)

    def hear(self, heard: Iterable[Signal], at: float) -> list[BreakerTransition]:
        out: list[BreakerTransition] = []
        for signal in heard:
            out += [self.scope(name).fire(signal.trigger, at, signal.reason)
                    for name in (signal.venue, GLOBAL)]
        return out

    def reset(self, scope: str, at: float, reason: str = "manual reset") -> list[BreakerTransition]:
        """An operator's reset of one scope, or of every known one (``all``)."""
        names = list(self.scopes) if scope == "all" else [scope]
        return [self.scope(name).fire(BreakerTrigger.RESET, at, reason) for name in names]

    def states(self) -> Mapping[str, Breaker]:
        return dict(sorted(self.scopes.items()))
