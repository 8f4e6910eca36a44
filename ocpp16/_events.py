"""What a central system reports while it runs: frames, exchanges and connections.

Each event is a frozen attrs class; a :class:`~ocpp16.server.CentralSystem` passes them to the
callbacks it was given (``on_frame``, ``on_exchange``, ``on_connection``). Frames are kept as the
JSON that went over the wire (a list), or as the raw text when it was not JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import attrs

__all__ = ["ConnectionEvent", "Exchange", "FrameEvent", "Verdict"]

#: ``valid``: the frame is well formed and its payload fits its schema; ``invalid``: it is not
#: (``detail`` says why); ``ignored``: OCPP-J says to drop it (unknown message type id, an answer
#: nobody waits for).
Verdict = Literal["valid", "invalid", "ignored"]


def _now() -> datetime:
    return datetime.now(UTC)


@attrs.frozen
class FrameEvent:
    """One frame received (``in``) or sent (``out``) on a charge point's connection.

    ``text`` is the frame's JSON exactly as it went over the connection, when ``frame`` is that
    text parsed (None otherwise): what a trace keeps, without encoding ``frame`` again.
    """

    identity: str
    direction: Literal["in", "out"]
    frame: Any
    verdict: Verdict
    detail: str = ""
    time: datetime = attrs.field(factory=_now)
    text: str | None = None


@attrs.frozen
class Exchange:
    """A request and its answer.

    ``initiator`` is who sent the request: ``cp`` (the charge point called us) or ``cs`` (we called
    it, e.g. an after-boot request). ``response`` is None when no answer came (timeout, closed).
    ``problem`` is empty when the request and its answer were both valid, and otherwise one line
    saying what was wrong (the CALLERROR we answered with, the CALLERROR or invalid CALLRESULT we
    got, no answer).
    """

    identity: str
    action: str
    initiator: Literal["cp", "cs"]
    request: Any
    response: Any | None
    problem: str = ""
    time: datetime = attrs.field(factory=_now)

    @property
    def ok(self) -> bool:
        return not self.problem


@attrs.frozen
class ConnectionEvent:
    """A charge point connected, disconnected, or was refused at the WebSocket upgrade.

    ``identity`` is None when the request path held none; ``detail`` gives the reason of a
    refusal (``HTTP 401: invalid credentials``) or of a close (``code 1000``).
    """

    kind: Literal["connected", "disconnected", "refused"]
    identity: str | None
    detail: str = ""
    remote: str = ""
    time: datetime = attrs.field(factory=_now)
