"""``enter``'s entry configuration: a ``--config`` TOML file, and one flag per field.

A desk tunes every knob of an entry (hedge mode, offsets, budgets, retries), so every
``EntryConfig`` field is settable. The flags are generated from the attrs fields, so a
new field gets its flag (``--field-name``) without a change here, and each flag's help
states the field's bound as the field's own validator words it (the ``venues.checks``
phrase), so the help and the refusal cannot disagree. A flag's value is checked while
the command line is parsed: a bad one ends in argparse's ``error: argument --flag``,
exit 2, before anything is read or sent.

The file is read by the scenario reader (``fsm.sim.scenario.load_config``): one schema,
a scenario's ``[config]`` table, and one reader. Flags override the file.
"""

from __future__ import annotations

import argparse
import enum
import typing
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from fsm.core.config import ConfigError, EntryConfig

# Flags that predate the generated ones, kept so that scripts using them still work.
ALIASES: dict[str, tuple[str, ...]] = {"quote_timeout_s": ("--quote-timeout",)}
_DEST = "config_"
# A value of the field's type far outside any bound: its refusal words the bound.
_PROBES: dict[type, Any] = {int: 10 ** 18, float: 1e300, Decimal: Decimal("1e30")}


class ConfigInputError(ValueError):
    """A config file or a combination of flags is wrong; the message names the key."""


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _fields() -> list[tuple[attrs.Attribute[Any], type]]:
    hints = typing.get_type_hints(EntryConfig)
    return [(field, hints[field.name]) for field in attrs.fields(EntryConfig)]


def _expected(message: str) -> str:
    return message.partition("expected ")[2]


def bound(field: attrs.Attribute[Any], kind: type) -> str:
    """What ``field`` accepts, in its validator's own words."""
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return "one of " + ", ".join(str(member.value) for member in kind)
    probe = _PROBES.get(kind)
    if probe is None or field.validator is None:
        return f"a {getattr(kind, '__name__', kind)}"
    try:
        field.validator(None, field, probe)
    except ConfigError as exc:
        return _expected(str(exc))
    return f"a {kind.__name__}"


def _shown(value: Any) -> str:
    return str(value.value) if isinstance(value, enum.Enum) else str(value)


def _parse(field: attrs.Attribute[Any], kind: type) -> Callable[[str], Any]:
    """The argparse type of ``field``'s flag: converted and validated as the field is."""
    expected = bound(field, kind)

    def parse(text: str) -> Any:
        value: Any = text
        if kind in (int, float):
            try:
                value = kind(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"got {text!r}, expected {expected}") from None
        try:
            convert: Any = field.converter  # a plain function on every EntryConfig field
            if convert is not None:
                value = convert(value)
            if field.validator is not None:
                field.validator(None, field, value)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc).partition(": ")[2]) from None
        return value

    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "entry configuration", "every EntryConfig field; a flag overrides --config")
    group.add_argument("--config", metavar="FILE", type=Path,
                       help="a TOML file with a [config] table, the schema of a scenario's "
                       "[config] (README: `enter`)")
    for field, kind in _fields():
        metavar = "|".join(str(m.value) for m in kind) if issubclass(kind, enum.Enum) \
            else kind.__name__.upper()
        group.add_argument(
            flag(field.name), *ALIASES.get(field.name, ()), dest=_DEST + field.name,
            type=_parse(field, kind), default=None, metavar=metavar,
            help=f"{bound(field, kind)} (default {_shown(field.default)})")


def build(args: argparse.Namespace) -> EntryConfig:
    """The file's config (or the defaults) with the flags given laid over it."""
    source: Path | None = args.config
    from fsm.sim import scenario as scenarios  # the scenario reader, when a file is given

    try:
        base = scenarios.load_config(source) if source is not None else EntryConfig()
    except scenarios.ScenarioError as exc:
        raise ConfigInputError(str(exc)) from None
    flags = {field.name: getattr(args, _DEST + field.name) for field, _ in _fields()
             if getattr(args, _DEST + field.name, None) is not None}
    try:
        return attrs.evolve(base, **flags)
    except ConfigError as exc:  # fields that are right alone and wrong together
        name, _, rest = str(exc).partition(": ")
        field = name.removeprefix("EntryConfig.")
        where = flag(field) if field in flags or source is None \
            else f"{source}: config.{field}"
        raise ConfigInputError(f"{where}: {rest}") from None
