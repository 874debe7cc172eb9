"""Enum members the two reaction paths read, bound once to plain module names.

Why: in Python 3.11 ``EnumType`` defines ``__getattr__``, so every read of a class
attribute of an enum, ``Leg.LONG`` or ``Purpose.HEDGE`` alike, takes the slow attribute
hook: about 75 ns, against under 10 for a module global (measured on this machine), and
``Leg.side`` is a property that pays it again (about 200 ns). A fill or a cancel
confirmation reads a few dozen of them in the entry's guards, effects and ledger;
those import them from here instead. Everything else keeps the readable spelling.
"""

from __future__ import annotations

from fsm.core.choices import HedgeMode, HedgeOrder
from fsm.core.tables.events import FillFact
from fsm.core.tables.order import OrderState, OrderTrigger
from venues.market import Leg, OrderKind, OrderStatus, Purpose, Side, TimeInForce

LONG, SHORT = Leg.LONG, Leg.SHORT
BUY, SELL = Side.BUY, Side.SELL
SIDE_OF: dict[Leg, Side] = {leg: leg.side for leg in Leg}  # ``leg.side``
OTHER: dict[Leg, Leg] = {leg: leg.other for leg in Leg}  # ``leg.other``
QUOTE, HEDGE = Purpose.QUOTE, Purpose.HEDGE
LIMIT, MARKET = OrderKind.LIMIT, OrderKind.MARKET
IOC = TimeInForce.IOC
UNRESOLVED = OrderState.UNRESOLVED
BLOCKED = (OrderState.UNSENT, OrderState.REJECTED)  # a hedge that did not get through
FILL, REQUEST_CANCEL = OrderTrigger.FILL, OrderTrigger.REQUEST_CANCEL
NEW_TRADE = FillFact.NEW_TRADE
REJECTED_STATUS = OrderStatus.REJECTED
AMEND_TO_CROSS = HedgeMode.AMEND_TO_CROSS
MARKET_HEDGE = HedgeOrder.MARKET
