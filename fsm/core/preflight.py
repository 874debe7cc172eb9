"""The account pre-flight's judgement: one venue account's facts against the entry's needs.

Pure: ``AccountFacts`` (read by the venue, ``venues.account``) and the ``EntryConfig`` in,
a list of ``Finding`` out, each saying what was found, what is required and, when it is
not right, the fix in words an operator can follow (the exchange's own menu path, or the
flag that makes ``check``/``enter`` set it). ``atomic-entry check`` prints them as a
table; ``enter`` judges the same facts first and sends nothing when any finding fails.

Unknown is never a pass: a fact the venue could not tell is a warning (printed, with the
reason), so a desk sees what was not checked. It does not refuse the entry: ccxt lacks
some reads on some exchanges, and refusing those would refuse the exchange.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from decimal import Decimal

import attrs

from fsm.core.config import EntryConfig, RequiredMarginMode
from venues.account import AccountFacts, MarginMode, PositionMode


class Severity(enum.Enum):
    OK = "ok"
    WARN = "warn"  # unknown, or worth knowing; not refused
    FAIL = "FAIL"  # unsafe: nothing is sent until it is fixed


@attrs.frozen
class Finding:
    venue: str
    symbol: str
    item: str
    severity: Severity
    found: str
    required: str
    fix: str = ""


# Where each setting lives in the exchange's own UI, for the fix text.
_WHERE: dict[str, dict[str, str]] = {
    "binanceusdm": {
        "position": "Futures > Preferences > Position Mode > One-way Mode",
        "margin": "the Cross/Isolated button above the order form",
        "leverage": "the leverage button above the order form"},
    "bybit": {
        "position": "Derivatives > Settings > Position Mode > One-Way Mode",
        "margin": "Assets > Unified Trading > Margin Mode",
        "leverage": "the leverage button above the order form"},
    "okx": {
        "position": "Settings > Trading settings > Position mode > One-way mode",
        "margin": "the Cross/Isolated selector above the order form",
        "leverage": "the leverage selector above the order form"},
    "hyperliquid": {
        "position": "(hyperliquid has one-way positions only)",
        "margin": "the Cross/Isolated button above the order form",
        "leverage": "the leverage button above the order form"},
}




def _where(exchange: str, what: str) -> str:
    return _WHERE.get(exchange, {}).get(what, "the exchange's settings")


def _shown(value: object) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _unknown_reason(facts: AccountFacts, item: str) -> str:
    """The venue's note about ``item`` when it gave one (``notes`` start with the item)."""
    return next((note for note in facts.notes if note.startswith(item)),
                f"{item}: {facts.exchange} did not say")


def assess(facts: AccountFacts, config: EntryConfig, *, qty: Decimal | None = None,
           price: Decimal | None = None) -> tuple[Finding, ...]:
    """Every finding for one leg's account; ``qty`` and ``price`` (the touch) size-check."""
    out: list[Finding] = []

    def add(item: str, severity: Severity, found: object, required: str, fix: str = "") -> None:
        out.append(Finding(facts.venue, facts.symbol, item, severity, _shown(found),
                           required, fix))

    def unknown(item: str, required: str) -> None:
        add(item, Severity.WARN, None, required,
            f"not checked ({_unknown_reason(facts, item)}); verify it by hand")

    ex = facts.exchange
    required = config.position_mode.value
    if facts.position_mode is None:
        unknown("position mode", required)
    elif facts.position_mode is PositionMode.HEDGE:
        add("position mode", Severity.FAIL, facts.position_mode, required,
            f"set one-way position mode on {ex} ({_where(ex, 'position')}) or rerun with "
            "--set-position-mode one_way (no open position or order on the account); "
            "hedge-mode accounts are refused: every order would need a position side")
    else:
        add("position mode", Severity.OK, facts.position_mode, required)

    wanted = config.margin_mode
    if wanted is RequiredMarginMode.ANY:
        add("margin mode", Severity.OK, facts.margin_mode, "any")
    elif facts.margin_mode is None:
        unknown("margin mode", wanted.value)
    elif facts.margin_mode.value != wanted.value:
        add("margin mode", Severity.FAIL, facts.margin_mode, wanted.value,
            f"set {wanted.value} margin for {facts.symbol} on {ex} "
            f"({_where(ex, 'margin')}) or rerun with --set-margin-mode {wanted.value}")
    else:
        add("margin mode", Severity.OK, facts.margin_mode, wanted.value)

    cap = config.max_leverage
    if facts.leverage is None:
        unknown("leverage", f"<= {_shown(cap)}")
    elif facts.leverage > cap:
        whole = int(cap)
        add("leverage", Severity.FAIL, facts.leverage, f"<= {_shown(cap)}",
            f"lower leverage for {facts.symbol} to {whole} or less on {ex} "
            f"({_where(ex, 'leverage')}) or rerun with --set-leverage {whole}")
    else:
        add("leverage", Severity.OK, facts.leverage, f"<= {_shown(cap)}")

    if facts.maker_fee is None or facts.taker_fee is None:
        unknown("fees", "read")
    else:
        add("fees", Severity.OK, f"maker {_shown(facts.maker_fee)} taker "
            f"{_shown(facts.taker_fee)}", "read")

    out.extend(_sizes(facts, qty, price))
    out.extend(_permission(facts))
    return tuple(out)


def _sizes(facts: AccountFacts, qty: Decimal | None, price: Decimal | None) -> list[Finding]:
    def finding(item: str, severity: Severity, found: str, required: str,
                fix: str = "") -> Finding:
        return Finding(facts.venue, facts.symbol, item, severity, found, required, fix)

    minimum = f"qty {_shown(facts.min_qty)}, notional {_shown(facts.min_notional)}"
    maximum = _shown(facts.max_qty)
    if qty is None:
        return [finding("min order", Severity.OK if facts.min_qty is not None else Severity.WARN,
                        minimum, "known"),
                finding("max order", Severity.OK if facts.max_qty is not None else Severity.WARN,
                        maximum, "known")]
    out = []
    notional = qty * price if price is not None else None
    too_small = (facts.min_qty is not None and qty < facts.min_qty) or (
        notional is not None and facts.min_notional is not None
        and notional < facts.min_notional)
    out.append(finding(
        "min order", Severity.FAIL if too_small else Severity.OK, minimum,
        f"<= qty {_shown(qty)}" + (f", notional {notional:.2f}" if notional else ""),
        "raise --qty above the venue's minimum" if too_small else ""))
    if facts.max_qty is None:
        out.append(finding("max order", Severity.WARN, maximum, f">= {_shown(qty)}",
                           "not checked: the venue gave no maximum"))
    elif qty > facts.max_qty:
        out.append(finding("max order", Severity.FAIL, maximum, f">= {_shown(qty)}",
                           "lower --qty to the venue's maximum order size"))
    else:
        out.append(finding("max order", Severity.OK, maximum, f">= {_shown(qty)}"))
    return out


def _permission(facts: AccountFacts) -> list[Finding]:
    out = []
    for item, value, fix in (
        ("symbol trading", facts.symbol_active,
         f"{facts.symbol} is not trading on {facts.exchange}: choose another symbol"),
        ("may trade", facts.can_trade,
         f"enable futures trading for this API key on {facts.exchange} "
         "(API management: trade permission, not read-only)"),
    ):
        if value is None:
            out.append(Finding(facts.venue, facts.symbol, item, Severity.WARN, "unknown", "yes",
                               f"not checked ({_unknown_reason(facts, item)})"))
        else:
            out.append(Finding(facts.venue, facts.symbol, item,
                               Severity.OK if value else Severity.FAIL,
                               "yes" if value else "no", "yes", "" if value else fix))
    return out


def refused(findings: Iterable[Finding]) -> bool:
    """Whether anything failed: then nothing may be sent."""
    return any(f.severity is Severity.FAIL for f in findings)


def table(findings: Iterable[Finding]) -> str:
    """The findings as an aligned text table, then each fix on its own line."""
    rows = [("venue", "symbol", "check", "status", "found", "required")]
    fixes: list[str] = []
    for f in findings:
        rows.append((f.venue, f.symbol, f.item, f.severity.value, f.found, f.required))
        if f.fix and f.severity is Severity.FAIL:
            fixes.append(f"fix {f.venue} {f.item}: {f.fix}")
        elif f.fix:
            fixes.append(f"note {f.venue} {f.item}: {f.fix}")
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    return "\n".join(lines + (["", *fixes] if fixes else []))


__all__ = ["AccountFacts", "Finding", "MarginMode", "Severity", "assess", "refused", "table"]
