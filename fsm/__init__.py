"""atomic-entry: hedged two-venue entries driven by an explicit state machine.

The decision core (the tables in ``fsm.core.tables``, gathered by ``fsm.core.spec``;
``fsm.core.entry``, ``fsm.core.orders``, ``fsm.core.ledger``) does no I/O; the shell
(``fsm.shell.engine``, ``fsm.shell.gateway``) runs it against venue adapters from
``venues``. Logging is off by default, as loguru advises for libraries:
``fsm.enable_logging()`` turns on both packages' logs with a sink whose lines name their
entry (``json=True`` for JSON lines); a ``logger.enable("fsm")`` made before this import
is kept, not undone.
"""

from fsm import logs
from fsm.core.config import ConfigError, EntryConfig, HedgeMode, HedgeOrder
from fsm.core.entry import EntryModel, Transition
from fsm.core.pretrade import RequestError
from fsm.core.result import EntryResult
from fsm.core.values import (
    EntryRequest,
    LegSpec,
)
from fsm.logs import enable_logging
from fsm.shell.engine import EntryAborted, EntryEngine, Step
from venues.market import (
    Leg,
    Purpose,
    Side,
)

logs.quiet_unless_enabled()

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
