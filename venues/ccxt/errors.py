"""ccxt's exceptions, mapped onto the Venue error taxonomy; and secrets scrubbed from texts.

The mapping is one ordered table: the first row whose ccxt class matches wins, so a
subclass row (``OrderNotFound``) must come before its parent (``InvalidOrder``). The
question each row answers is *did anything change on the venue?*

- Definite: the venue answered and refused (bad order, no funds, post-only would take,
  unknown symbol). Nothing changed: ``OrderRejected``.
- Refused before processing: a 429/418 answer or maintenance. The request was turned
  away at the door, so nothing changed either: ``VenueUnavailable``.
- Ambiguous: a timeout, a reset connection, a 5xx or an error code ccxt does not know
  (binance -1007 and bybit 10016 say "execution status unknown" in words ccxt maps to a
  bare ``ExchangeError``). The order may exist: ``OutcomeUnknown``; the engine resolves
  it by querying the client order id. Treating these as rejections is how a naive
  adapter leaves a live order behind that it believes dead.
- A duplicate client order id on a create means an order with *our* id already exists,
  most likely from an earlier attempt whose answer was lost: ``OutcomeUnknown`` again,
  never ``OrderRejected`` (that would mark a live order dead).
- ``AuthenticationError`` and friends: going on is unsafe: ``VenueFatalError``.

Where ccxt's class for an exchange's code says something else than the code means
(okx 51169 "no position to reduce" has no class, so it would read "unknown"; bybit
110008 "order finished" on a cancel is ``InvalidOrder``, so it would read "refused,
still live"), the exchange's ``Dialect.error_rules`` decide first.

Nothing here retries; a create is never re-sent by this module.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Literal

import aiohttp
import ccxt.async_support as ccxt
from loguru import logger

from venues import protocol as base
from venues.ccxt.dialects import ErrorRule

if TYPE_CHECKING:
    from loguru import Record

Operation = Literal["place", "cancel", "query", "amend", "read"]

# (ccxt class, Venue error class, why); first match wins: keep subclasses above parents.
ERROR_TABLE: tuple[tuple[type[BaseException], type[base.VenueError], str], ...] = (
    (ccxt.OrderNotFound, base.OrderNotFound, "the venue does not know the order"),
    (ccxt.DuplicateOrderId, base.OutcomeUnknown, "an order with this client id exists"),
    (ccxt.OrderImmediatelyFillable, base.OrderRejected, "post-only order would take"),
    (ccxt.OrderNotFillable, base.OrderRejected, "order cannot be filled as asked"),
    (ccxt.InvalidOrder, base.OrderRejected, "order refused"),
    (ccxt.InsufficientFunds, base.OrderRejected, "insufficient funds"),
    (ccxt.BadSymbol, base.OrderRejected, "unknown symbol"),
    (ccxt.BadRequest, base.OrderRejected, "request refused"),
    (ccxt.ArgumentsRequired, base.OrderRejected, "request incomplete"),
    (ccxt.OperationRejected, base.OrderRejected, "operation refused"),
    (ccxt.NotSupported, base.NotSupported, "not offered by this exchange"),
    (ccxt.AccountSuspended, base.VenueFatalError, "account suspended"),
    (ccxt.AuthenticationError, base.VenueFatalError, "authentication or permission"),
    (ccxt.RateLimitExceeded, base.VenueUnavailable, "rate limited: refused, not processed"),
    (ccxt.DDoSProtection, base.VenueUnavailable, "throttled: refused, not processed"),
    (ccxt.OnMaintenance, base.VenueUnavailable, "exchange in maintenance"),
    (ccxt.InvalidNonce, base.VenueUnavailable, "clock or nonce refused"),
    (ccxt.RequestTimeout, base.OutcomeUnknown, "no answer in time"),
    (ccxt.ExchangeNotAvailable, base.OutcomeUnknown, "connection failed or 5xx"),
    (ccxt.NetworkError, base.OutcomeUnknown, "network failure"),
    (ccxt.CancelPending, base.OutcomeUnknown, "cancel still pending"),
    (ccxt.BadResponse, base.OutcomeUnknown, "unreadable answer"),
    (ccxt.OperationFailed, base.OutcomeUnknown, "failed, outcome not stated"),
    (ccxt.ExchangeError, base.OutcomeUnknown, "error ccxt does not classify"),
)

_URL = re.compile(r"(?P<base>(?:https?|wss?)://[^\s?#\"']+)(?:\?[^\s#\"']*)?")
# A quote as it appears raw, JSON-escaped (at any depth) or URL-encoded; the same for
# the separator, so ``\"secret\": \"..`` and ``secret%3D..`` are fields too.
_QUOTE = r"(?:\\*[\"']|%22|%27)"
_SEPARATOR = r"(?:[:=]|%3A|%3D)"
_SECRET_KEYS = re.compile(
    r"(?i)(?P<key>signature|sign|api[-_]?key|api[-_]?secret|secret[-_]?key|secret|password|"
    r"passphrase|private[-_]?key|access[-_]?token|x-mbx-apikey|x-bapi-api-key|x-bapi-sign|"
    r"ok-access-key|ok-access-sign|ok-access-passphrase|listenkey)"
    rf"(?P<sep>{_QUOTE}?\s*{_SEPARATOR}\s*{_QUOTE}?)[^\s&\"',}}\\]+"
)
_JSON_SHORT = {"\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t", "/": "/"}
_BACKSLASH = r"(?:\\|%(?:25)?5C)"
MIN_SECRET = 4  # shorter values are not credentials, and blanking them would maul text


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove what could carry a credential: the keys, query strings, signature-like fields.

    The secrets we hold go first, in every spelling an error text can carry them: raw,
    URL-encoded (any hex case, ``+`` for a space, twice encoded), JSON-escaped (at any
    depth, ``\\uXXXX`` included) and in any letter case. Only then are query strings
    dropped (ccxt error texts embed the request URL, and signed GETs carry
    ``signature=``) and fields named like a credential blanked up to their end: the
    other way round, a secret holding a ``,`` ``&`` ``}`` a quote or a space had the
    pattern stop inside it and its tail printed.
    """
    literal = _literal(tuple(sorted({s for s in secrets if s and len(s) >= MIN_SECRET})))
    if literal is not None:
        text = literal.sub("<redacted>", text)
    text = _URL.sub(lambda m: m.group("base") + ("?<redacted>" if "?" in m.group(0) else ""),
                    text)
    return _SECRET_KEYS.sub(lambda m: f"{m.group('key')}{m.group('sep')}<redacted>", text)


@functools.lru_cache(maxsize=16)
def _literal(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for every spelling of every secret; longest first, so none is cut."""
    if not secrets:
        return None
    spelled = ("".join(_spellings(c) for c in secret)
               for secret in sorted(secrets, key=len, reverse=True))
    return re.compile("|".join(spelled), re.IGNORECASE)


def _spellings(char: str) -> str:
    """A pattern for one character of a secret as any encoding we know may carry it.

    Letter case is ignored by the pattern, but not inside an encoding (``%C3%A9`` is
    ``é``, ``%C3%89`` is ``É``), so each case of the character is encoded too; a case
    may be longer than the character (``"İ".lower()`` is ``i`` and a combining dot).
    """
    cases = sorted({char, char.lower(), char.upper()})
    return "(?:" + "|".join("".join(_code_point(c) for c in case) for case in cases) + ")"


def _code_point(char: str) -> str:
    """One code point raw, URL-encoded (once or twice) or JSON-escaped; JSON's backslash
    may itself be doubled or URL-encoded (JSON sent in a query string)."""
    plain = [re.escape(char), "".join(f"%(?:25)?{b:02X}"
                                      for b in char.encode("utf-8", "replace"))]
    units = char.encode("utf-16-be", "surrogatepass")
    escaped = ["".join(f"{_BACKSLASH}+u{units[i]:02X}{units[i + 1]:02X}"
                       for i in range(0, len(units), 2))]
    if char in _JSON_SHORT:
        escaped.append(f"{_BACKSLASH}+{re.escape(_JSON_SHORT[char])}")
    if char == " ":
        plain.append(r"\+|%(?:25)?2B")
    return f"(?:{_BACKSLASH}*(?:{'|'.join(plain)})|{'|'.join(escaped)})"


def scrub_logs(secrets: Sequence[str]) -> Callable[[], None]:
    """Send every log line through ``scrub`` with ``secrets`` until the returned undo runs.

    The venues scrub what they raise; this catches whatever a library or a payload puts
    in a log message. ``secrets`` is read at each line, so keys added later count.
    """
    def patch(record: Record) -> None:
        record["message"] = scrub(record["message"], secrets)

    def undo() -> None:
        logger.configure(patcher=lambda record: None)

    logger.configure(patcher=patch)
    return undo


def _never_sent(exc: BaseException) -> bool:
    """ccxt folds "could not connect" and "connection reset mid-request" into one class;
    only the first is provably unsent, and aiohttp says which through the cause."""
    return isinstance(exc.__cause__, aiohttp.ClientConnectorError)


def classify(
    exc: BaseException,
    operation: Operation,
    *,
    venue: str,
    what: str,
    secrets: Iterable[str] = (),
    rules: Iterable[ErrorRule] = (),
) -> base.VenueError:
    """The Venue error ``exc`` stands for, with a scrubbed message naming venue and call.

    ``rules`` are the exchange's own corrections (``Dialect.error_rules``), for example
    its codes for "client order id already used", which ccxt maps to a plain
    ``InvalidOrder`` but which on a create mean the order may well exist.
    """
    text = str(exc)
    message = scrub(f"{venue}: {what}: {type(exc).__name__}: {text}", secrets)
    if isinstance(exc, base.VenueError):
        return type(exc)(scrub(str(exc), secrets))
    if isinstance(exc, ccxt.BaseError):  # our rules read exchange answers, nothing else
        for rule in rules:
            if rule.matches(text, operation):
                return rule.outcome(f"{message} ({rule.why})")
    if isinstance(exc, ccxt.ExchangeNotAvailable) and _never_sent(exc):
        return base.VenueUnavailable(f"{message} (connection not established: not sent)")
    for ccxt_class, venue_class, why in ERROR_TABLE:
        if isinstance(exc, ccxt_class):
            return venue_class(f"{message} ({why})")
    # asyncio timeouts, cancelled connections, anything unforeseen: it may have been sent.
    return base.OutcomeUnknown(f"{message} (unexpected error: outcome unknown)")
