"""Keeps ccxt's changes to the Decimal context inside ccxt's own calls.

ccxt's number formatting (``decimal_to_precision``, run by every ``create_order``,
``edit_order`` and ``amount_to_precision``) sets ``ROUND_HALF_UP`` and traps
``Underflow`` on ``decimal.getcontext()``: the *live* context of whichever task called
it, which asyncio tasks share unless one sets its own. Left alone, the first order an
adapter places changes how the engine's core rounds from then on (economics figures,
depth arithmetic). Every public coroutine of the adapter, and every task it starts, runs
in a copy of the caller's context instead.
"""

from __future__ import annotations

import decimal
import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
C = TypeVar("C", bound=type)

__all__ = ["isolated", "isolated_methods", "own_context"]


async def own_context(work: Awaitable[T]) -> T:
    """Await ``work`` in a copy of the current Decimal context (for task bodies)."""
    with decimal.localcontext():
        return await work


def isolated(method: Callable[P, Awaitable[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    @functools.wraps(method)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        with decimal.localcontext():
            return await method(*args, **kwargs)

    return run


def isolated_methods(cls: C) -> C:
    """Class decorator: every public coroutine method runs in its own Decimal context."""
    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and inspect.iscoroutinefunction(member):
            setattr(cls, name, isolated(member))
    return cls
