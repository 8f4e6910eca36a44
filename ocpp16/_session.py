"""One charge point's connection to the central system: answer its CALLs, send it ours.

The OCPP-J logic is the one every role shares: :class:`ocpp16._protocol.Session` driven by
:class:`ocpp16._aio.AioConnection`, which the simulator's charge point runs on too. Frames are read
at all times; valid CALLs queue up for a worker task that answers them in order, so a handler may
itself ``await session.call(...)`` and still get its answer. One CALL is answered at a time and at
most ``MAX_QUEUED_CALLS`` wait behind it; any more get a CALLERROR at once. One CALL of ours is in
flight at a time (OCPP-J). This module adds only what a central system makes of it: its handlers,
its events (FrameEvent, Exchange), the after-boot requests and tasks that live as long as the
connection.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from websockets.asyncio.server import ServerConnection

from ocpp16._action import Sender
from ocpp16._aio import AioConnection
from ocpp16._events import Exchange, FrameEvent, Verdict
from ocpp16._model import Request, Response
from ocpp16.errors import CallTimeout
from ocpp16.frames import CALLRESULT

if TYPE_CHECKING:
    from ocpp16.server import CentralSystem

__all__ = ["ChargePointSession"]

R = TypeVar("R", bound=Response)


class ChargePointSession:
    """A connected charge point, as the central system sees it.

    ``identity`` is the last segment of the URL path (percent-decoded); ``connection`` is the
    ``websockets`` server connection (for its headers, remote address, ...).
    """

    def __init__(
        self, identity: str, connection: ServerConnection, central_system: CentralSystem
    ) -> None:
        self.identity = identity
        self.connection = connection
        self._cs = central_system
        self._driver = AioConnection(
            connection,
            Sender.CP,
            functools.partial(central_system._respond, session=self),
            timeout=central_system.timeout,
            on_frame=self._frame,
            on_exchange=self._exchanged,
            name=identity,
        )
        self._tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"<ChargePointSession {self.identity!r}>"

    @property
    def closed(self) -> bool:
        return self.connection.close_code is not None

    async def call(self, request: Request[R], timeout: float | None = None) -> R:
        """Send ``request`` to the charge point and return its validated response.

        Raises CallError (it answered with a CALLERROR), InvalidResponse (its CALLRESULT breaks the
        schema), CallTimeout (no answer within ``timeout``, default the central system's) or
        ConnectionClosed. Every exchange is reported to ``on_exchange``, failed ones included.
        """
        wait = self._cs.timeout if timeout is None else timeout
        outcome = await self._driver.exchange(request, wait)
        if isinstance(outcome.error, CallTimeout):
            raise CallTimeout(f"{self.identity}: {outcome.error}")  # which charge point
        if outcome.error is not None:
            raise outcome.error
        return cast(R, outcome.response)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._driver.close(code, reason)

    # The connection's life -------------------------------------------------------------------

    async def run(self) -> None:
        """Serve the connection until it closes; then the tasks it started are cancelled."""
        try:
            await self._driver.run()
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def start_task(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``coroutine`` for as long as the connection lives (cancelled when it closes)."""
        task = asyncio.create_task(coroutine, name=f"ocpp16 {name} {self.identity}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # Reporting -------------------------------------------------------------------------------

    def _frame(
        self,
        direction: Literal["in", "out"],
        frame: Any,
        verdict: Verdict,
        detail: str,
        text: str | None = None,
    ) -> None:
        if self._cs.on_frame is not None:
            event = FrameEvent(self.identity, direction, frame, verdict, detail, text=text)
            self._cs._notify("on_frame", self._cs.on_frame, event)

    def _exchanged(
        self, initiator: Literal["peer", "us"], action: str, request: Any, answer: Any, problem: str
    ) -> None:
        if self._cs.on_exchange is not None:
            sender: Literal["cp", "cs"] = "cp" if initiator == "peer" else "cs"
            event = Exchange(self.identity, action, sender, request, answer, problem)
            self._cs._notify("on_exchange", self._cs.on_exchange, event)
        accepted = isinstance(answer, list) and answer[:1] == [CALLRESULT]
        if initiator == "peer" and action == "BootNotification" and accepted:
            self._cs._booted(self)
