"""The asyncio driver of :class:`ocpp16._protocol.Session`: one OCPP-J connection, either role.

:class:`AioConnection` binds a session to a ``websockets`` asyncio connection (client or
server side); the simulator's charge point (:mod:`ocpp16.sim`) and the central system's
:class:`~ocpp16.server.ChargePointSession` both run on it. :meth:`AioConnection.run` reads frames
at all times and hands valid CALLs of the peer to a worker task that answers them in order with
``handler`` (so a handler may itself ``await connection.call(...)`` without deadlock);
:meth:`AioConnection.exchange` sends a CALL of ours, one at a time (the others wait their turn,
bounded by their timeout), and returns what came of it without raising. Every frame in and out
is reported to ``on_frame`` with its verdict, every request with its answer to ``on_exchange``.

What a peer can make us hold stays bounded: the session refuses CALLs beyond the one being
answered and MAX_QUEUED_CALLS waiting with a CALLERROR, the worker's queue holds no more than
that, and the ``websockets`` connection caps frame size and the frames it buffers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final, Literal, TypeVar, cast

import attrs
from websockets.asyncio.connection import Connection as WsConnection
from websockets.exceptions import ConnectionClosed as WsConnectionClosed

from ocpp16 import _dispatch
from ocpp16._action import Sender
from ocpp16._generated.actions import ACTIONS
from ocpp16._model import Model, Request, Response
from ocpp16._protocol import Answered, Note, PeerCall, Reply, Session
from ocpp16._text import printable
from ocpp16.client import invalid_response
from ocpp16.errors import (
    CallError,
    CallTimeout,
    ConnectionClosed,
    FrameError,
    OcppError,
    ValidationError,
)
from ocpp16.frames import Call, CallErrorFrame, CallResult, encode, new_id

__all__ = ["AioConnection", "ExchangeHook", "FrameHook", "Handler", "Outcome"]

R = TypeVar("R", bound=Response)

_log: Final = logging.getLogger("ocpp16.aio")
#: Seconds a closed connection's worker may still take to finish the CALL it is answering.
_GRACE: Final = 1.0

#: Answers a valid CALL of the peer with the typed response; raises CallError for a CALLERROR.
Handler = Callable[[_dispatch.Valid], Awaitable[Model]]
#: Told of every frame: direction, the frame as JSON (or text), verdict, detail, and the frame's
#: JSON text as it went over the connection when the frame is that text parsed (else None).
FrameHook = Callable[
    [Literal["in", "out"], Any, Literal["valid", "invalid", "ignored"], str, str | None], None
]
#: Told of every request and its answer once it is settled: who sent the request (``peer`` or
#: ``us``), the action (``(invalid frame)`` when none can be read), the request, the answer (None
#: when none came) and the problem (empty when both were valid).
ExchangeHook = Callable[[Literal["peer", "us"], str, Any, Any, str], None]


@attrs.frozen
class Outcome:
    """What came of one CALL of ours: the frames, and the typed response or the error
    (CallError, InvalidResponse with every violation, FrameError, CallTimeout, ConnectionClosed)."""

    action: str
    request: list[Any]
    answer: Any
    response: Model | None = None
    error: OcppError | None = None


class AioConnection:
    """One OCPP-J connection over ``websockets`` asyncio; ``peer`` is the role of the other end.

    A central system holds thousands at once, so it holds no more than it needs: slots, and no
    asyncio.Queue (three deques) for the few CALLs waiting to be answered.
    """

    __slots__ = (
        "_calls", "_closed", "_more", "_turn", "_waiter", "activity", "handler", "name",
        "on_exchange", "on_frame", "session", "timeout", "ws",
    )  # fmt: skip

    def __init__(
        self,
        ws: WsConnection,
        peer: Sender,
        handler: Handler,
        *,
        timeout: float = 30.0,
        on_frame: FrameHook | None = None,
        on_exchange: ExchangeHook | None = None,
        name: str = "",
        activity: asyncio.Event | None = None,
    ) -> None:
        self.ws = ws
        self.session = Session(peer)
        self.handler = handler
        self.timeout = timeout
        self.on_frame = on_frame
        self.on_exchange = on_exchange
        self.name = name
        #: Set whenever something happened (a frame, a reply sent, the end), when given: a driver
        #: that acts on its own (the simulator) waits on it.
        self.activity = activity
        self._turn = asyncio.Lock()
        self._waiter: asyncio.Future[tuple[Any, CallResult | CallErrorFrame | FrameError]] | None
        self._waiter = None
        # The peer's CALLs for the worker; the session hands out no more than max_pending.
        self._calls: list[_dispatch.Valid] = []
        self._more: asyncio.Future[None] | None = None  # the idle worker waits on it
        self._closed: ConnectionClosed | None = None

    @property
    def closed(self) -> bool:
        return self._closed is not None

    # The connection's life ---------------------------------------------------------------------

    async def run(self) -> None:
        """Read and answer until the connection ends; then a CALL of ours waiting fails."""
        worker = asyncio.create_task(self._work(), name=f"ocpp16 answer {self.name}")
        try:
            async for message in self.ws:
                await self._receive(message)
        except WsConnectionClosed:
            pass
        finally:
            code = self.ws.close_code
            self._closed = ConnectionClosed(f"connection closed (code {code})")
            self.session.cancel()
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_exception(self._closed)
            if not self._calls:
                worker.cancel()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait([worker], timeout=_GRACE)
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
            self._happened()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.ws.close(code, reason)

    # Our CALLs ---------------------------------------------------------------------------------

    async def call(self, request: Request[R], timeout: float | None = None) -> R:
        """Send ``request``; its typed response, or raise what went wrong."""
        outcome = await self.exchange(request, timeout)
        if outcome.error is not None:
            raise outcome.error
        return cast(R, outcome.response)

    async def exchange(self, request: Request[Any], timeout: float | None = None) -> Outcome:
        """Send ``request`` when no other CALL of ours is in flight; what came of it."""
        outcome = await self._exchange(request, timeout)
        problem = "" if outcome.error is None else str(outcome.error)
        self._exchanged("us", outcome.action, outcome.request, outcome.answer, problem)
        return outcome

    async def _exchange(self, request: Request[Any], timeout: float | None) -> Outcome:
        action = ACTIONS[request.ACTION]
        frame = Call(new_id(), action.name, request.to_dict())
        sent = frame.to_list()
        wait = self.timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            async with asyncio.timeout(wait):
                await self._turn.acquire()
        except TimeoutError:
            busy = CallTimeout(
                f"{action.name} not sent: our previous CALL was still waiting for its answer"
                f" after {wait:g} s (one CALL in flight at a time)"
            )
            return Outcome(action.name, sent, None, error=busy)
        try:
            if self._closed is not None:
                return Outcome(action.name, sent, None, error=self._closed)
            left = max(wait - (loop.time() - start), 0.0)
            text = self.session.call(encode(frame), frame.unique_id, loop.time() + left)
            waiter = self._waiter = loop.create_future()
            try:
                await self._send(text, sent)
                async with asyncio.timeout(left):
                    answer, outcome = await waiter
            except TimeoutError:
                late = self.session.expire(loop.time() + left, action.name, wait)
                error = late.error if late is not None else CallTimeout(f"no answer in {wait:g} s")
                self.session.cancel()
                return Outcome(action.name, sent, None, error=error)
            except ConnectionClosed as exc:
                self.session.cancel()
                return Outcome(action.name, sent, None, error=exc)
            finally:
                self._waiter = None
        finally:
            self._turn.release()
        result = _settle(action.name, action, sent, answer, outcome)
        if result.error is None or isinstance(result.error, CallError):
            self._frame("in", answer, "valid", "")
        else:
            self._frame("in", answer, "invalid", str(result.error))
        return result

    # Receiving ---------------------------------------------------------------------------------

    async def _receive(self, message: str | bytes) -> None:
        try:
            happened = self.session.receive(message)
        except Exception:  # a defect of ours: report it, keep the connection
            _log.exception("%s: cannot read a frame", printable(self.name))
            return
        answered: Note | None = None  # a CALL the session answered itself, reported once sent
        for event in happened:
            if isinstance(event, Answered):
                if self._waiter is not None and not self._waiter.done():
                    self._waiter.set_result((event.answer, event.outcome))
            elif isinstance(event, PeerCall):
                text = message if isinstance(message, str) else None
                self._frame("in", event.call.frame.to_list(), "valid", "", text)
                self._calls.append(event.call)
                if self._more is not None and not self._more.done():
                    self._more.set_result(None)
            elif isinstance(event, Note):
                verdict: Literal["invalid", "ignored"]
                verdict = "ignored" if event.kind == "ignored" else "invalid"
                exact = event.exact and isinstance(event.frame, list | dict)
                text = message if exact and isinstance(message, str) else None
                self._frame("in", event.frame, verdict, event.detail, text)
                answered = event if event.kind == "peer-call" else answered
            elif isinstance(event, Reply):
                with contextlib.suppress(ConnectionClosed):
                    await self._send(event.text, None)
                if answered is not None:
                    frame = answered.frame
                    name = frame[2] if isinstance(frame, list) and len(frame) > 2 else None
                    action = name if isinstance(name, str) else "(invalid frame)"
                    self._exchanged("peer", action, frame, answered.reply, answered.detail)
                    answered = None
        self._happened()

    # The peer's CALLs --------------------------------------------------------------------------

    async def _work(self) -> None:
        while not (self._closed is not None and not self._calls):
            if not self._calls:
                self._more = asyncio.get_running_loop().create_future()
                await self._more
                continue
            call = self._calls.pop(0)
            try:
                await self._answer(call)
            except ConnectionClosed:
                return

    async def _answer(self, call: _dispatch.Valid) -> None:
        unique_id = call.frame.unique_id
        reply: CallResult | CallErrorFrame
        try:
            reply = _dispatch.result_frame(call, await self.handler(call))
        except CallError as exc:
            reply = _dispatch.call_error_frame(unique_id, exc)
        except ValidationError as exc:
            description = f"our {call.action.name} response: {exc}"
            reply = _dispatch.error_frame(unique_id, "InternalError", description)
        except Exception as exc:
            _log.exception("%s: the handler of %s failed", printable(self.name), call.action.name)
            description = f"the handler failed: {type(exc).__name__}"
            reply = _dispatch.error_frame(unique_id, "InternalError", description)
        await self._send(self.session.reply(unique_id, reply), reply.to_list())
        problem = ""
        if isinstance(reply, CallErrorFrame):
            problem = f"{reply.code}: {reply.description}" if reply.description else reply.code
        self._exchanged("peer", call.action.name, call.frame.to_list(), reply.to_list(), problem)
        self._happened()

    # Sending -----------------------------------------------------------------------------------

    async def _send(self, text: str, shown: list[Any] | None) -> None:
        try:
            try:
                await self.ws.send(text)
            except UnicodeEncodeError:
                # A lone surrogate echoed from the peer has no UTF-8 form: JSON's \u escape does.
                await self.ws.send(json.dumps(json.loads(text), separators=(",", ":")))
        except WsConnectionClosed as exc:
            raise ConnectionClosed(f"{printable(self.name)}: connection closed ({exc})") from exc
        self._frame("out", shown if shown is not None else _parsed(text), "valid", "", text)

    def _frame(
        self,
        direction: Literal["in", "out"],
        frame: Any,
        verdict: Literal["valid", "invalid", "ignored"],
        detail: str,
        text: str | None = None,
    ) -> None:
        if self.on_frame is not None:
            try:
                self.on_frame(direction, frame, verdict, detail, text)
            except Exception:
                _log.exception("on_frame failed; the connection goes on")

    def _happened(self) -> None:
        if self.activity is not None:
            self.activity.set()

    def _exchanged(
        self, initiator: Literal["peer", "us"], action: str, request: Any, answer: Any, problem: str
    ) -> None:
        if self.on_exchange is not None:
            try:
                self.on_exchange(initiator, action, request, answer, problem)
            except Exception:
                _log.exception("on_exchange failed; the connection goes on")


def _settle(
    name: str,
    action: Any,
    sent: list[Any],
    answer: Any,
    outcome: CallResult | CallErrorFrame | FrameError,
) -> Outcome:
    """The typed response in an answer, or what is wrong with it (every violation listed)."""
    if isinstance(outcome, CallResult):
        try:
            response = action.response.from_dict(outcome.payload)
        except ValidationError as exc:
            return Outcome(
                name, sent, answer, error=invalid_response(name, action, outcome.payload, exc)
            )
        return Outcome(name, sent, answer, response=response)
    if isinstance(outcome, CallErrorFrame):
        details = outcome.details if isinstance(outcome.details, dict) else {}
        error = CallError(outcome.code, outcome.description, details, action=name)
        return Outcome(name, sent, answer, error=error)
    return Outcome(name, sent, answer, error=outcome)


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
