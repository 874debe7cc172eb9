"""JSON text for the value types the journal keeps: events, commands, requests, configs.

One ``cattrs`` converter serves every attrs class, so a field added to an event or a
command is journaled without touching this file. Decimals travel as strings (exact,
never through float); enums as their values; events and commands carry their class
name, because a journal record must say what it is before it can be read back.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, TypeVar, get_args

from cattrs.preconf.json import make_converter

from fsm.core import events as ev
from fsm.core.commands import Command

T = TypeVar("T")

_converter = make_converter()
_converter.register_unstructure_hook(Decimal, str)
_converter.register_structure_hook(Decimal, lambda value, _: Decimal(value))

EVENT_TYPES: dict[str, type[Any]] = {cls.__name__: cls for cls in get_args(ev.Event)}
COMMAND_TYPES: dict[str, type[Any]] = {cls.__name__: cls for cls in get_args(Command)}


class CodecError(ValueError):
    """A journal record that cannot be read back as the value it claims to be."""


def dumps(value: object) -> str:
    """One value as compact JSON text."""
    return json.dumps(_converter.unstructure(value), separators=(",", ":"), sort_keys=True)


def loads(text: str, cls: type[T]) -> T:
    """Read back what ``dumps`` wrote for a value of type ``cls``."""
    try:
        return _converter.structure(json.loads(text), cls)
    except Exception as exc:
        raise CodecError(f"cannot read a {cls.__name__} from {text[:200]!r}: {exc}") from None


def load_tagged(kind: str, type_name: str, text: str) -> Any:
    """An event or a command from its class name and JSON text."""
    types = EVENT_TYPES if kind == "event" else COMMAND_TYPES
    cls = types.get(type_name)
    if cls is None:
        raise CodecError(f"unknown {kind} type {type_name!r}; expected one of {sorted(types)}")
    return loads(text, cls)
