"""atomic-entry: hedged two-venue entries driven by an explicit state machine.

The decision core (the tables in ``fsm.core.tables``, gathered by ``fsm.core.spec``;
``fsm.core.entry``, ``fsm.core.orders``, ``fsm.core.ledger``) does no I/O; the shell
(``fsm.shell.engine``, ``fsm.shell.gateway``) runs it against venue adapters from
``venues``. Logging is off by default, as loguru advises for libraries:
``logger.enable("fsm")`` to see it.
"""

from loguru import logger

from fsm.core.config import ConfigError, EntryConfig, HedgeMode, HedgeOrder
from fsm.core.entry import EntryModel, Transition
from fsm.core.pretrade import RequestError
from fsm.core.result import EntryResult
from fsm.core.values import (
    EntryRequest,
    LegSpec,
)
from fsm.shell.engine import EntryAborted, EntryEngine, Step
from venues.market import (
    Leg,
    Purpose,
    Side,
)

logger.disable("fsm")

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
]
