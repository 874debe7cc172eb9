"""A library stays silent at import, unless someone already asked to hear it.

loguru advises libraries to ``logger.disable`` themselves; done blindly at import, that
undoes a ``logger.enable("venues")`` an application made before importing us. Both
packages (``venues`` here, ``fsm`` through ``fsm.logs``) use this one check, kept in the
lower layer so that ``venues`` needs nothing from ``fsm``.
"""

from __future__ import annotations

from loguru import logger

__all__ = ["enabled_by_someone", "quiet_unless_enabled"]


def enabled_by_someone(name: str) -> bool:
    """Whether ``logger.enable(name)`` (or of a parent) is in force. loguru keeps this
    in its core's activation list and offers no public reader; if that ever moves, the
    answer is "no" and the library stays quiet at import, as loguru advises."""
    rules = getattr(getattr(logger, "_core", None), "activation_list", [])
    prefix = name + "."
    return any(status for rule, status in rules if prefix.startswith(rule))


def quiet_unless_enabled(name: str) -> None:
    if not enabled_by_someone(name):
        logger.disable(name)
