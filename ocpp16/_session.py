"""One charge point's connection to the central system: answer its CALLs, send it ours.

The receive loop never waits for a handler: valid CALLs queue up for a worker task that answers
them in order, so a handler may itself ``await session.call(...)`` and still get its answer.
OCPP-J allows one outstanding CALL per direction: at most ``MAX_QUEUED_CALLS`` wait behind the
one being answered, and any more get a CALLERROR at once, so a peer cannot make us hold more.
At most one CALL of ours is in flight at a time (OCPP-J), guarded by a lock.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Final, TypeVar

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed as WsConnectionClosed

from ocpp16 import _dispatch
from ocpp16._action import Action, Sender
from ocpp16._events import Exchange, FrameEvent, Verdict
from ocpp16._generated.actions import ACTIONS
from ocpp16._model import Model, Request, Response
from ocpp16.errors import (
    CallError,
    CallTimeout,
    ConnectionClosed,
    InvalidResponse,
    ValidationError,
)
from ocpp16.frames import Call, CallErrorFrame, CallResult, Frame, encode, new_id
from ocpp16.limits import MAX_QUEUED_CALLS

if TYPE_CHECKING:
    from ocpp16.server import CentralSystem

__all__ = ["ChargePointSession"]

R = TypeVar("R", bound=Response)

_log: Final = logging.getLogger("ocpp16.server")
#: Seconds a closed connection's handler may still take to finish the call it is answering.
_GRACE: Final = 1.0

#: The answer to one of our CALLs: the frame as received, and the typed response or the error.
_Outcome = tuple[list[Any], Model | CallError | InvalidResponse]


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
        self._call_lock = asyncio.Lock()
        self._pending: dict[str, tuple[asyncio.Future[_Outcome], Action]] = {}
        self._calls: asyncio.Queue[_dispatch.Valid] = asyncio.Queue(MAX_QUEUED_CALLS)
        self._closing = False
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
        action = ACTIONS[request.ACTION]
        wait = self._cs.timeout if timeout is None else timeout
        async with self._call_lock:
            frame = Call(new_id(), action.name, request.to_dict())
            future: asyncio.Future[_Outcome] = asyncio.get_running_loop().create_future()
            self._pending[frame.unique_id] = (future, action)
            try:
                await self._send(frame)
                answer, outcome = await asyncio.wait_for(future, wait)
            except TimeoutError:
                problem = f"no answer within {wait:g} s"
                self._exchange(action.name, "cs", frame.to_list(), None, problem)
                raise CallTimeout(f"{self.identity}: {action.name}: {problem}") from None
            except ConnectionClosed as exc:
                self._exchange(action.name, "cs", frame.to_list(), None, str(exc))
                raise
            finally:
                self._pending.pop(frame.unique_id, None)
        if isinstance(outcome, Model):
            self._exchange(action.name, "cs", frame.to_list(), answer, "")
            return outcome  # type: ignore[return-value]  # parse_answer made action.response
        self._exchange(action.name, "cs", frame.to_list(), answer, str(outcome))
        raise outcome

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.connection.close(code, reason)

    # The connection's life -------------------------------------------------------------------

    async def run(self) -> None:
        """Serve the connection until it closes."""
        worker = asyncio.create_task(self._work(), name=f"ocpp16 answer {self.identity}")
        try:
            async for message in self.connection:
                await self._received(message)
        except WsConnectionClosed:
            pass
        finally:
            reason = f"connection closed (code {self.connection.close_code})"
            for future, _ in list(self._pending.values()):
                if not future.done():
                    future.set_exception(ConnectionClosed(reason))
            for task in list(self._tasks):
                task.cancel()
            # Calls already answered finish being reported; a stuck handler is given up on.
            self._closing = True
            if self._calls.empty():
                worker.cancel()  # idle: nothing left to answer
            await asyncio.wait([worker], timeout=_GRACE)
            worker.cancel()
            await asyncio.gather(worker, *self._tasks, return_exceptions=True)

    def start_task(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``coroutine`` for as long as the connection lives (cancelled when it closes)."""
        task = asyncio.create_task(coroutine, name=f"ocpp16 {name} {self.identity}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _received(self, message: str | bytes) -> None:
        try:
            incoming = _dispatch.receive(message, Sender.CP)
        except Exception:  # a defect of ours: answer it, keep the connection
            _log.exception("%s: cannot classify %r", self.identity, message[:200])
            reply = _dispatch.error_frame(_dispatch.UNKNOWN_ID, "InternalError", "unreadable")
            incoming = _dispatch.Invalid(message, reply)
        if isinstance(incoming, _dispatch.Valid):
            if not self._calls.full():
                self._frame("in", incoming.frame.to_list(), "valid")
                self._calls.put_nowait(incoming)
                return
            unique_id, action = incoming.frame.unique_id, incoming.action.name
            why = (
                f"{action} arrived while {MAX_QUEUED_CALLS + 1} earlier CALLs were still being "
                "answered; OCPP-J allows one outstanding CALL: wait for each answer"
            )
            reply = _dispatch.error_frame(unique_id, "ProtocolError", why)
            incoming = _dispatch.Invalid(incoming.frame.to_list(), reply, action)
        if isinstance(incoming, _dispatch.Invalid):
            self._frame("in", incoming.raw, "invalid", incoming.problem)
            await self._send(incoming.reply)
            name = incoming.action or "(invalid frame)"
            self._exchange(name, "cp", incoming.raw, incoming.reply.to_list(), incoming.problem)
        elif isinstance(incoming, _dispatch.Answer):
            self._answered(incoming.frame)
        else:
            self._frame("in", incoming.frame.to_list(), "ignored", incoming.reason)

    def _answered(self, frame: CallResult | CallErrorFrame) -> None:
        waiting = self._pending.get(frame.unique_id)
        if waiting is None or waiting[0].done():
            detail = f"no CALL with id {frame.unique_id!r} is waiting for an answer"
            self._frame("in", frame.to_list(), "ignored", detail)
            return
        future, action = waiting
        outcome: Model | CallError | InvalidResponse
        try:
            outcome = _dispatch.parse_answer(frame, action)
        except InvalidResponse as exc:
            self._frame("in", frame.to_list(), "invalid", str(exc.error))
            outcome = exc
        except CallError as exc:
            self._frame("in", frame.to_list(), "valid")
            outcome = exc
        else:
            self._frame("in", frame.to_list(), "valid")
        future.set_result((frame.to_list(), outcome))

    async def _work(self) -> None:
        while not (self._closing and self._calls.empty()):
            call = await self._calls.get()
            try:
                await self._answer(call)
            except ConnectionClosed:
                return
            finally:
                self._calls.task_done()

    async def _answer(self, call: _dispatch.Valid) -> None:
        reply: Frame
        problem = ""
        try:
            response = await self._cs._respond(call, self)
            reply = _dispatch.result_frame(call.frame.unique_id, response)
        except CallError as exc:
            reply = _dispatch.call_error_frame(call.frame.unique_id, exc)
            problem = f"{reply.code}: {exc.description}" if exc.description else reply.code
        except ValidationError as exc:
            description = f"the central system's {call.action.name} response: {exc}"
            reply = _dispatch.error_frame(call.frame.unique_id, "InternalError", description)
            problem = f"InternalError: {description}"
        except Exception as exc:
            _log.exception("%s: the handler of %s failed", self.identity, call.action.name)
            description = f"the central system failed: {type(exc).__name__}"
            reply = _dispatch.error_frame(call.frame.unique_id, "InternalError", description)
            problem = f"InternalError: {description}"
        await self._send(reply)
        self._exchange(call.action.name, "cp", call.frame.to_list(), reply.to_list(), problem)
        if call.action.name == "BootNotification" and isinstance(reply, CallResult):
            self._cs._booted(self)

    async def _send(self, frame: Frame) -> None:
        try:
            try:
                await self.connection.send(encode(frame))
            except UnicodeEncodeError:
                # A lone surrogate (a peer may send "\\udfff" and see it echoed in a CALLERROR)
                # has no UTF-8 form: JSON's \\u escape carries it.
                await self.connection.send(json.dumps(frame.to_list(), separators=(",", ":")))
        except WsConnectionClosed as exc:
            raise ConnectionClosed(f"{self.identity}: connection closed ({exc})") from exc
        self._frame("out", frame.to_list(), "valid")

    # Reporting -------------------------------------------------------------------------------

    def _frame(self, direction: Any, frame: Any, verdict: Verdict, detail: str = "") -> None:
        if self._cs.on_frame is not None:
            event = FrameEvent(self.identity, direction, frame, verdict, detail)
            self._cs._notify("on_frame", self._cs.on_frame, event)

    def _exchange(
        self, action: str, initiator: Any, request: Any, response: Any, problem: str
    ) -> None:
        if self._cs.on_exchange is not None:
            event = Exchange(self.identity, action, initiator, request, response, problem)
            self._cs._notify("on_exchange", self._cs.on_exchange, event)
