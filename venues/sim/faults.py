"""Whether the simulated venue answers a request normally: scripted reactions and outages.

Every order request (place, cancel, query, amend) meets the same gate in the same order:
an outage refuses it unprocessed; otherwise the first matching scripted reaction may
make it unavailable, reject it, or lose its answer (after processing it or not). One
dispatch serves all four requests so that a fault means the same thing whichever
request meets it; what a reaction does *beyond* that (a partial fill, a fill racing a
cancel) is the request's own business and stays with the venue.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, NoReturn

import attrs

from venues.market import Purpose
from venues.protocol import OrderRejected, VenueError, VenueUnavailable
from venues.sim.script import Outage, Reaction, ReactionAction

__all__ = ["AnswerLost", "Faults", "RequestKind"]

RequestKind = Literal["place", "cancel", "query", "amend"]
Note = Callable[[str, "str | None", str], None]

# How a scripted rejection is journaled and worded, per request: (journal kind, detail,
# what the error names).
_REJECTION: dict[RequestKind, tuple[str, str, str]] = {
    "place": ("rejected", "scripted rejection", "order"),
    "cancel": ("cancel_rejected", "scripted rejection; order stays live", "cancel of"),
    "query": ("query_rejected", "scripted rejection", "query of"),
    "amend": ("amend_rejected", "scripted rejection", "amend of"),
}


class AnswerLost(Exception):
    """The venue's answer never comes back; the caller learns it only by timing out."""


@attrs.define
class _ReactionSlot:
    reaction: Reaction
    left: int


class Faults:
    """The scripted departures of one venue, consumed as they fire; see the module docstring.

    ``note`` writes the venue's journal; ``elapsed`` is the time since the venue started.
    """

    def __init__(
        self,
        name: str,
        reactions: Sequence[Reaction],
        outages: Sequence[Outage],
        note: Note,
        elapsed: Callable[[], float],
    ) -> None:
        self._name = name
        self._reactions = [_ReactionSlot(r, r.times) for r in reactions]
        self._outages = tuple(outages)
        self._note = note
        self._elapsed = elapsed

    def gate(
        self,
        on: RequestKind,
        client_id: str,
        purpose: Callable[[], Purpose | None],
        process: Callable[[], object] | None,
        applies: Callable[[ReactionAction], bool] = lambda action: True,
    ) -> Reaction | None:
        """Refuse, reject or lose the request as scripted; else return the reaction (if any)
        for the request to finish.

        ``process`` is what the venue does with the request when an answer is lost after
        processing (a TIMEOUT reaction with ``live``); None: a lost answer never was.
        ``purpose`` finds the purpose of the order concerned, once the venue is known to be
        up (it may refuse the request outright, as an unknown symbol does).
        ``applies`` narrows the reactions that can fire on this request now.
        """
        self._check_up(on, client_id)
        reaction = self._react(on, purpose(), client_id, applies)
        if reaction is None:
            return None
        if reaction.action is ReactionAction.UNAVAILABLE:
            self._unavailable(on, client_id, "scripted")
        if reaction.action is ReactionAction.REJECT:
            kind, detail, what = _REJECTION[on]
            self._note(kind, client_id, detail)
            raise OrderRejected(f"{self._name}: {what} {client_id} rejected (scripted)")
        if reaction.action is ReactionAction.TIMEOUT:
            self._lose(reaction.live and process is not None, on, client_id, process)
        return reaction

    def _check_up(self, what: str, client_id: str) -> None:
        """Refuse the request, unprocessed, during a scripted outage."""
        elapsed = self._elapsed()
        if any(outage.covers(elapsed) for outage in self._outages):
            self._unavailable(what, client_id, "outage")

    def _unavailable(self, what: str, client_id: str, why: str) -> NoReturn:
        self._note("unavailable", client_id, f"{what} refused: venue unavailable ({why})")
        raise VenueUnavailable(f"{self._name}: unavailable, {what} {client_id} not processed")

    def _react(
        self,
        on: str,
        purpose: Purpose | None,
        client_id: str,
        applies: Callable[[ReactionAction], bool],
    ) -> Reaction | None:
        for slot in self._reactions:
            reaction = slot.reaction
            if (
                slot.left > 0
                and reaction.on == on
                and (reaction.purpose is None or reaction.purpose is purpose)
                and applies(reaction.action)
            ):
                slot.left -= 1
                self._note("reaction", client_id, f"{on}: {reaction.action.value}")
                return reaction
        return None

    def _lose(
        self, live: bool, what: str, client_id: str, process: Callable[[], object] | None
    ) -> NoReturn:
        """Process the request (or not) and lose the answer: the TIMEOUT reaction."""
        if live and process is not None:
            try:
                process()
            except VenueError as exc:
                self._note("answer_lost", client_id, f"{what} processed, answer lost ({exc})")
            else:
                self._note("answer_lost", client_id, f"{what} processed, answer lost")
        else:
            self._note("request_dropped", client_id, f"{what} never reached the venue")
        raise AnswerLost(f"{what} {client_id}")
