"""What journaling costs on the hot path: one ``Journal.record`` call per processed event.

The measured step is the one that matters most: a fill arrives and the cancel of the
sibling quote is decided, so the event and the cancel's intent must be in the journal
before the cancel is sent. Timed with the real clock on a temporary file, per
durability setting; ``records`` per step is two (the event and one command).
"""

from __future__ import annotations

import tempfile
import time
from decimal import Decimal
from pathlib import Path

from fsm.core import events as ev
from fsm.core.commands import CancelOrder
from fsm.core.config import EntryConfig
from fsm.core.values import (
    EntryRequest,
    LegSpec,
)
from fsm.shell.journal import SYNC_MODES, Journal


def record_costs(samples: int) -> dict[str, list[int]]:
    """Nanoseconds per ``record`` call (event + one command), per sync mode."""
    request = EntryRequest(LegSpec("alpha", "BTC/USDT:USDT", Decimal("0.5")),
                           LegSpec("beta", "BTC/USDT:USDT", Decimal("0.5")), entry_id="bench")
    out: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory() as directory:
        for mode in SYNC_MODES:
            journal = Journal(Path(directory) / f"{mode}.sqlite", sync=mode)
            journal.open_entry("bench", request, EntryConfig())
            timings = []
            for step in range(samples):
                event = ev.FillReport(float(step), "aebenchLq1", f"alpha-t{step}",
                                      Decimal("0.001"), Decimal("60000.5"))
                commands = [CancelOrder("aebenchSq1", "beta", "BTC/USDT:USDT")]
                t0 = time.perf_counter_ns()
                journal.record("bench", step, event, commands)
                timings.append(time.perf_counter_ns() - t0)
            journal.close()
            out[mode] = timings
    return out
