"""The one call that turns the library's logs on: ``enable_logging``.

Why a function of its own: loguru's advice for libraries is to stay silent until asked,
so ``fsm`` and ``venues`` disable themselves at import, and asking took two calls
(``logger.enable`` for each package), either of which an import could undo, with lines
that did not say which of twenty concurrent entries they were about. This module
enables both packages at once and adds a sink whose every line names the entry (and the
venue, where one is bound), as text for people or as flat JSON lines for log shippers.

Importing either package leaves an explicit earlier ``logger.enable`` in force
(``venues.quiet`` holds the check both use).
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import sys
import traceback
from typing import TYPE_CHECKING, Any

from loguru import logger

from venues.quiet import quiet_unless_enabled as quiet_unless_enabled_for

if TYPE_CHECKING:
    from loguru import Record

LIBRARIES = ("fsm", "venues")
# Bound by the shell (``actor.log``) and the venues (``self._log``); shown in this order.
TAGS = ("entry_id", "venue")

_TEXT = ("<green>{time:YYYY-MM-DD HH:mm:ss.SSS}</green> | <level>{level: <8}</level> | "
         "{tags}<cyan>{name}</cyan>:<cyan>{function}</cyan>:<cyan>{line}</cyan> - "
         "<level>{message}</level>\n{exception}")
_JSON_KEY = "fsm_json_line"  # where the JSON format leaves the line it built


def quiet_unless_enabled() -> None:
    """At ``fsm``'s import: silence both packages, except one someone had enabled."""
    for name in LIBRARIES:
        quiet_unless_enabled_for(name)


def text_format(record: Record) -> str:
    """loguru's default line with ``entry_id=... venue=...`` before the source, for the
    tags the line is bound with (values go through the template, never into it)."""
    tags = "".join(f"{tag}={{extra[{tag}]}} | " for tag in TAGS if tag in record["extra"])
    return _TEXT.replace("{tags}", tags)


def json_format(record: Record) -> str:
    """One flat JSON object per line (time, level, message, source, every bound field,
    and the traceback as text), which Loki, Vector or Fluent Bit read without a parser
    of their own; loguru's ``serialize`` nests the fields two levels deep instead."""
    line: dict[str, Any] = {
        "time": record["time"].isoformat(),
        "level": record["level"].name,
        "message": record["message"],
        "logger": record["name"],
        "function": record["function"],
        "line": record["line"],
    }
    line.update((key, value) for key, value in record["extra"].items() if key != _JSON_KEY)
    exception = record["exception"]
    if exception is not None:
        line["exception"] = "".join(traceback.format_exception(
            exception.type, exception.value, exception.traceback))
    record["extra"][_JSON_KEY] = jsonlib.dumps(line, default=str)
    return "{extra[" + _JSON_KEY + "]}\n"


def enable_logging(level: str | int = "INFO", *, json: bool = False,
                   sink: Any = sys.stderr) -> int | None:
    """Enable the logs of ``fsm`` and ``venues`` and, unless ``sink`` is None, add a
    sink for them at ``level``: text lines carrying ``entry_id`` and ``venue``, or
    (``json=True``) one JSON object per line with those as fields. ``sink`` is anything
    loguru's ``logger.add`` takes (a stream, a path, a callable). loguru's own default
    stderr handler is removed so that lines are not printed twice. Returns the id of the
    added sink (for ``logger.remove``), or None when none was added."""
    for name in LIBRARIES:
        logger.enable(name)
    if sink is None:
        return None
    with contextlib.suppress(ValueError):  # loguru's default stderr handler, if still there
        logger.remove(0)
    # No ``diagnose``: it would print local variables, credentials among them.
    return logger.add(sink, level=level, format=json_format if json else text_format,
                      colorize=False if json else None, backtrace=False, diagnose=False)
