"""atomic-entry: hedged two-venue entries driven by an explicit state machine.

The decision core (``fsm.spec``, ``fsm.entry``, ``fsm.orders``) does no I/O; the
shell (``fsm.engine``) runs it against venue adapters from ``venues``. Logging is off
by default, as loguru advises for libraries: ``logger.enable("fsm")`` to see it.
"""

from loguru import logger

from fsm.config import ConfigError, EntryConfig, HedgeMode, HedgeOrder
from fsm.engine import EntryAborted, EntryEngine, Step
from fsm.entry import EntryModel, Transition
from fsm.pretrade import RequestError
from fsm.result import EntryResult
from fsm.values import EntryRequest, Leg, LegSpec, Purpose, Side

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
