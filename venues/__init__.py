"""Venues: the vocabulary (``venues.market``), the protocol every adapter implements
(``venues.protocol``), the simulated venue (``venues.sim``) and real exchanges through
ccxt (``venues.ccxt``, loaded only when an exchange is talked to).

Nothing here imports ``fsm``: the decision core builds on this package, not the other
way round. Its logs are off until asked for (``venues.quiet``).
"""

from venues.quiet import quiet_unless_enabled

quiet_unless_enabled("venues")
