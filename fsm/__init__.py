"""atomic-entry: hedged two-venue entries driven by an explicit state machine.

The decision core (the tables in ``fsm.core.tables``, gathered by ``fsm.core.spec``;
``fsm.core.entry``, ``fsm.core.orders``, ``fsm.core.ledger``) does no I/O; the shell
(``fsm.shell.engine``, ``fsm.shell.gateway``) runs it against venue adapters from
``venues``. Logging is off by default, as loguru advises for libraries:
``fsm.enable_logging()`` turns on both packages' logs with a sink whose lines name their
entry (``json=True`` for JSON lines); a ``logger.enable("fsm")`` made before this import
is kept, not undone.

The names below are loaded on first use (PEP 562), not with the package: every
``import fsm.<anything>`` runs this file first, and the command line (``fsm.cli``) must
not pay for the engine, the core and the journal to print its help.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from fsm import logs
from fsm.logs import enable_logging

if TYPE_CHECKING:
    from fsm.core.config import ConfigError, EntryConfig, HedgeMode, HedgeOrder
    from fsm.core.entry import EntryModel, Transition
    from fsm.core.pretrade import RequestError
    from fsm.core.result import EntryResult
    from fsm.core.values import EntryRequest, LegSpec
    from fsm.shell.engine import EntryAborted, EntryEngine, Step
    from venues.market import Leg, Purpose, Side

logs.quiet_unless_enabled()

# Each public name and the module that defines it, imported when the name is first read.
_LAZY = {
    "ConfigError": "fsm.core.config",
    "EntryConfig": "fsm.core.config",
    "HedgeMode": "fsm.core.config",
    "HedgeOrder": "fsm.core.config",
    "EntryModel": "fsm.core.entry",
    "Transition": "fsm.core.entry",
    "RequestError": "fsm.core.pretrade",
    "EntryResult": "fsm.core.result",
    "EntryRequest": "fsm.core.values",
    "LegSpec": "fsm.core.values",
    "EntryAborted": "fsm.shell.engine",
    "EntryEngine": "fsm.shell.engine",
    "Step": "fsm.shell.engine",
    "Leg": "venues.market",
    "Purpose": "venues.market",
    "Side": "venues.market",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fsm' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # read once: later reads skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "ConfigError",
    "EntryAborted",
    "EntryConfig",
    "EntryEngine",
    "EntryModel",
    "EntryRequest",
    "EntryResult",
    "HedgeMode",
    "HedgeOrder",
    "Leg",
    "LegSpec",
    "Purpose",
    "RequestError",
    "Side",
    "Step",
    "Transition",
    "enable_logging",
]
