"""The central-system role: a validating OCPP 1.6-J server on ``websockets``.

::

    import asyncio
    from datetime import UTC, datetime

    from ocpp16 import BootNotificationRequest, BootNotificationResponse, RegistrationStatus
    from ocpp16.server import CentralSystem, ChargePointSession

    cs = CentralSystem()  # answers every valid CALL plausibly (ocpp16.answers)

    @cs.on(BootNotificationRequest)  # mypy checks the handler's request and response types
    def boot(request: BootNotificationRequest, cp: ChargePointSession) -> BootNotificationResponse:
        return BootNotificationResponse(
            status=RegistrationStatus.ACCEPTED, current_time=datetime.now(UTC), interval=300
        )

    async def main() -> None:
        async with cs.serve("127.0.0.1", 9000) as server:  # ws://127.0.0.1:9000/ocpp/<identity>
            await server.serve_forever()

    asyncio.run(main())

Charge points connect to ``ws[s]://host:port/<path>/<identity>`` offering the ``ocpp1.6``
subprotocol. Every CALL is validated with the generated classes; invalid ones are answered with
the CALLERROR code OCPP-J prescribes (see :mod:`ocpp16._dispatch`), valid ones by the handler
registered for the action (``on`` / ``respond``) or with a plausible one (:mod:`ocpp16.answers`;
random valid ones with ``random=True``). After a
BootNotification, the ``after_boot`` requests are sent to the charge point in order.
Handlers may be plain functions or coroutines; raising :class:`~ocpp16.errors.CallError` answers
with that CALLERROR. ``session.call(request)`` sends a CALL to a charge point at any time.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import inspect
import logging
import math
import os
import random as _random
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final, Generic, Literal, TypeVar, overload
from urllib.parse import quote, unquote, urlsplit

from websockets.asyncio.server import Server as WsServer
from websockets.asyncio.server import ServerConnection, basic_auth, serve
from websockets.exceptions import NegotiationError
from websockets.http11 import Request as HttpRequest
from websockets.http11 import Response as HttpResponse
from websockets.typing import Subprotocol

from ocpp16 import _dispatch
from ocpp16._events import ConnectionEvent, Exchange, FrameEvent
from ocpp16._gcpace import GcPacer
from ocpp16._model import Model, Request, Response
from ocpp16._session import ChargePointSession
from ocpp16._text import printable, shorten
from ocpp16._throttle import Throttle
from ocpp16.answers import Answers
from ocpp16.errors import (
    CallError,
    ConnectError,
    DNSError,
    InputError,
    InvalidResponse,
    ValidationError,
)
from ocpp16.frames import SUBPROTOCOL
from ocpp16.limits import (
    MAX_FRAME_BYTES,
    MAX_RECEIVED_FRAMES,
    MAX_UNSENT_BYTES,
    RESOURCE_REPORT_INTERVAL,
)
from ocpp16.registry import resolve_action

__all__ = [
    "SUBPROTOCOL",
    "CentralSystem",
    "ChargePointSession",
    "ConnectionEvent",
    "Exchange",
    "FrameEvent",
    "Server",
    "raise_open_files_limit",
    "server_ssl_context",
]


_log: Final = logging.getLogger("ocpp16.server")


class _HideCredentials(logging.Filter):
    """websockets logs each request header at DEBUG level: never the Authorization value."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 2 and str(args[0]).lower() == "authorization":
            record.args = (args[0], "[hidden]")
        return True


_log.addFilter(_HideCredentials())

H = TypeVar("H", bound=Callable[..., Any])
R = TypeVar("R", bound=Response)
Q_co = TypeVar("Q_co", bound=Request[Any], covariant=True)
#: A password every charge point uses, passwords by identity, or a check (identity, password).
BasicAuth = str | Mapping[str, str] | Callable[[str, str], bool | Awaitable[bool]]
#: What to do when a charge point connects while one with its identity is connected.
Duplicate = Literal["replace", "reject"]
#: Characters an identity may not hold: C0 and C1 controls and DEL (they reach logs and terminals).
_CONTROL: Final = frozenset(map(chr, [*range(0x20), *range(0x7F, 0xA0)]))


class _Register(Generic[Q_co]):
    """What ``cs.on(SomeRequest)`` returns: the decorator, typed so that mypy checks the handler
    takes that request class and returns its response class (or an awaitable of it)."""

    def __init__(self, central_system: CentralSystem, action: str) -> None:
        self._cs = central_system
        self._action = action

    def __call__(
        self: _Register[Request[R]], handler: Callable[[Q_co, ChargePointSession], R | Awaitable[R]]
    ) -> Callable[[Q_co, ChargePointSession], R | Awaitable[R]]:
        self._cs._handlers[self._action] = handler
        return handler


class CentralSystem:
    """What the server does with charge points; :meth:`serve` puts it on a port.

    - ``path``: the URL path before the identity (``/ocpp``; ``/`` for none).
    - ``identities``: accept only these charge point identities (others get HTTP 404).
    - ``basic_auth``: require HTTP Basic auth on the upgrade (security profiles 1 and 2), the user
      name being the identity; a wrong or missing password gets HTTP 401.
    - ``ssl``: serve ``wss://`` (profiles 2 and 3); see :func:`server_ssl_context`.
    - ``duplicate``: what happens when a charge point connects under the identity of a connected
      one: ``replace`` closes the older connection (1000, "replaced by a new connection"),
      ``reject`` refuses the newer one with HTTP 409.
    - ``random``: answer CALLs without a handler with random valid responses (for robustness
      tests of charge points) instead of the plausible ones of :mod:`ocpp16.answers`.
    - ``full``, ``seed``: how random responses and after-boot requests are made.
    - ``max_frame``: the largest message accepted, in bytes (larger ones close with 1009).
    - ``after_boot``: CS→CP requests to send after each BootNotification: instances, or request
      classes for a random one each time.
    - ``timeout``: seconds to wait for a charge point's answer to our CALLs.
    - ``on_frame``, ``on_exchange``, ``on_connection``: callbacks for reporting (see
      :mod:`ocpp16._events`); they run in the event loop and must not block. One that raises
      is logged (once per callback) and the connection goes on.
    - ``pace_gc``: while serving, keep the garbage collector's pauses short with thousands of
      connections (see :mod:`ocpp16._gcpace`: without it, 10,000 connections stall the server
      for about a second at each full collection). It freezes the collector's view of the whole
      process, so it is for a process that serves and little else (``ocpp16 serve`` sets it).
    """

    def __init__(
        self,
        *,
        path: str = "/ocpp",
        identities: Collection[str] | None = None,
        basic_auth: BasicAuth | None = None,
        ssl: ssl.SSLContext | None = None,
        duplicate: Duplicate = "replace",
        random: bool = False,
        full: bool = False,
        seed: int | None = None,
        after_boot: Sequence[Model | type[Model]] = (),
        timeout: float = 30.0,
        max_frame: int = MAX_FRAME_BYTES,
        on_frame: Callable[[FrameEvent], None] | None = None,
        on_exchange: Callable[[Exchange], None] | None = None,
        on_connection: Callable[[ConnectionEvent], None] | None = None,
        pace_gc: bool = False,
    ) -> None:
        self.path = "/" + path.strip("/")
        self.gc_pacer = GcPacer() if pace_gc else None
        self.identities = None if identities is None else frozenset(identities)
        self.ssl = ssl
        if duplicate not in ("replace", "reject"):
            raise InputError(f"duplicate is 'replace' or 'reject', not {duplicate!r}")
        if max_frame < 1024:
            raise InputError(f"the largest frame must be at least 1024 bytes, not {max_frame}")
        self.duplicate: Duplicate = duplicate
        self.random = random
        self.full = full
        self.rng = _random.Random(seed)
        self.answers = Answers()
        self.timeout = timeout
        self.max_frame = max_frame
        self.on_frame = on_frame
        self.on_exchange = on_exchange
        self.on_connection = on_connection
        self.after_boot = list(after_boot)
        for item in self.after_boot:
            if not isinstance(item, Request) and not (
                isinstance(item, type) and issubclass(item, Request)
            ):
                raise InputError(f"after_boot takes requests, not {item!r}")
            _require_sender(item.ACTION, "cs")
        self._check_password = _password_check(basic_auth)
        self._throttle = Throttle()
        self._failed_callbacks: set[str] = set()
        self._handlers: dict[str, Callable[[Any, ChargePointSession], Any]] = {}
        #: The connected charge points by identity (the latest connection of each).
        self.sessions: dict[str, ChargePointSession] = {}

    @property
    def has_basic_auth(self) -> bool:
        return self._check_password is not None

    # Configuration -----------------------------------------------------------------------------

    @overload
    def on(self, action: type[Q_co]) -> _Register[Q_co]: ...
    @overload
    def on(self, action: str) -> Callable[[H], H]: ...
    def on(self, action: type[Request[Any]] | str) -> Any:
        """Decorator: ``handler(request, session)`` answers the action (plain or async function).

        Keyed by the request class (``@cs.on(BootNotificationRequest)``), mypy checks that the
        handler takes that class and returns its response class. The older string form
        (``@cs.on("BootNotification")``) is not type-checked and may also return the wire dict.
        A response that breaks its schema is answered with an InternalError CALLERROR; raising
        CallError answers with that CALLERROR.
        """
        name = _require_sender(action if isinstance(action, str) else action.ACTION, "cp")
        return _Register(self, name)

    def respond(self, response: Response) -> None:
        """Always answer ``response.ACTION`` with this response."""
        _require_sender(response.ACTION, "cp")
        self._handlers[response.ACTION] = lambda _request, _session: response

    def serve(self, host: str = "127.0.0.1", port: int = 9000) -> Server:
        """The server, to be started with ``async with`` (or ``await server.start()``).

        Port 0 picks a free port: read it back from ``server.port``.
        """
        return Server(self, host, port)

    # What sessions call back -------------------------------------------------------------------

    async def _respond(self, call: _dispatch.Valid, session: ChargePointSession) -> Model:
        action = call.action
        handler = self._handlers.get(action.name)
        if handler is None:
            if self.random:
                return action.response.random(full=self.full, rng=self.rng)
            return self.answers.answer(call.request)
        result = handler(call.request, session)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, dict):
            return action.response.from_dict(result)
        if type(result) is not action.response:
            raise ValidationError(
                "$", f"type {action.response.__name__}", "TypeConstraintViolation",
                f"the handler returned {type(result).__name__}",
            )  # fmt: skip
        return result

    def _booted(self, session: ChargePointSession) -> None:
        if self.after_boot:
            session.start_task(self._after_boot(session), "after-boot")

    async def _after_boot(self, session: ChargePointSession) -> None:
        for item in self.after_boot:
            request: Model
            if not isinstance(item, type):
                request = item
            elif self.random or not issubclass(item, Request):
                request = item.random(full=self.full, rng=self.rng)
            else:
                request = self.answers.request(item)
            assert isinstance(request, Request)  # checked in __init__
            try:
                await session.call(request)
            except (CallError, InvalidResponse):
                continue  # reported as an exchange; the next request still goes out
            except Exception as exc:  # timeout or closed: reported, nothing more to send
                _log.debug("%s: after-boot requests stopped: %s", session.identity, exc)
                return

    def _report(self, event: ConnectionEvent) -> None:
        if self.on_connection is not None:
            self._notify("on_connection", self.on_connection, event)

    def _notify(self, name: str, callback: Callable[[Any], None], event: Any) -> None:
        """Call a reporting callback; one that fails is logged once and never stops the traffic."""
        try:
            callback(event)
        except Exception:
            if name not in self._failed_callbacks:
                self._failed_callbacks.add(name)
                _log.exception("the %s callback failed (further failures are not logged)", name)

    # The WebSocket side ------------------------------------------------------------------------

    def _identity(self, target: str) -> str | None:
        """The identity in a request path; None if there is none, InputError if it is unusable."""
        path = urlsplit(target).path
        prefix = "/" if self.path == "/" else self.path + "/"
        if not path.startswith(prefix):
            return None
        segment = path[len(prefix) :]
        if not segment or "/" in segment:
            return None
        shown = printable(shorten(segment, 60))
        try:
            # Strict: %FF decoded to U+FFFD would let different URLs share one identity.
            identity = unquote(segment, errors="strict")
        except UnicodeDecodeError:
            raise InputError(f"the identity {shown!r} is not percent-encoded UTF-8") from None
        if any(char in _CONTROL for char in identity):
            raise InputError(f"the identity {shown!r} holds control characters")
        return identity

    async def _process_request(
        self, connection: ServerConnection, request: HttpRequest
    ) -> HttpResponse | None:
        try:
            identity = self._identity(request.path)
        except InputError as exc:
            return connection.respond(HTTPStatus.BAD_REQUEST, f"Bad Request: {exc}\n")
        if identity is None:
            where = f"{self.path.rstrip('/')}/<charge point identity>"
            return connection.respond(HTTPStatus.NOT_FOUND, f"Not Found: connect to {where}\n")
        if self.identities is not None and identity not in self.identities:
            return connection.respond(
                HTTPStatus.NOT_FOUND, f"Not Found: unknown charge point {identity!r}\n"
            )
        if self._check_password is not None:
            refused = await self._authenticate(connection, request, identity)
            if refused is not None:
                return refused
        if self.duplicate == "reject" and identity in self.sessions:
            return connection.respond(
                HTTPStatus.CONFLICT, f"Conflict: charge point {identity!r} is already connected\n"
            )
        return None

    async def _authenticate(
        self, connection: ServerConnection, request: HttpRequest, identity: str
    ) -> HttpResponse | None:
        """HTTP Basic auth, with repeated failures per address and per identity throttled."""
        keys = [("address", _remote(connection).rpartition(":")[0]), ("identity", identity)]
        wait = self._throttle.wait(keys, time.monotonic())
        if wait > 0:
            busy = connection.respond(
                HTTPStatus.TOO_MANY_REQUESTS,
                f"Too Many Requests: too many failed logins; retry in {math.ceil(wait)} s\n",
            )
            busy.headers["Retry-After"] = str(math.ceil(wait))
            return busy
        refused = await basic_auth("ocpp16", check_credentials=self._check_password)(
            connection, request
        )
        if refused is None and connection.username != identity:
            refused = connection.respond(
                HTTPStatus.UNAUTHORIZED, "Invalid credentials: the user name is not the identity\n"
            )
            refused.headers["WWW-Authenticate"] = 'Basic realm="ocpp16", charset="UTF-8"'
        if refused is None:
            self._throttle.succeeded(keys)
        elif "Authorization" in request.headers:  # a first try without credentials is no guess
            self._throttle.failed(keys, time.monotonic())
        return refused

    def _process_response(
        self, connection: ServerConnection, request: HttpRequest, response: HttpResponse
    ) -> None:
        if response.status_code != HTTPStatus.SWITCHING_PROTOCOLS:
            reason = response.body.decode("utf-8", "replace").strip().splitlines()
            text = reason[0] if reason else ""
            detail = f"HTTP {response.status_code}: {text}".rstrip(": ")
            try:
                identity = self._identity(request.path)
            except InputError:
                identity = None
            self._report(ConnectionEvent("refused", identity, detail, _remote(connection)))

    @staticmethod
    def _select_subprotocol(
        connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol:
        if SUBPROTOCOL in offered:
            return Subprotocol(SUBPROTOCOL)
        what = f"offered {', '.join(offered)}" if offered else "offered none"
        raise NegotiationError(f"this server speaks only the {SUBPROTOCOL} subprotocol; {what}")

    async def _handle(self, connection: ServerConnection) -> None:
        identity = self._identity(connection.request.path) if connection.request else None
        assert identity is not None  # process_request refused the others
        session = ChargePointSession(identity, connection, self)
        if self.gc_pacer is not None:
            self.gc_pacer.opened()
        older = self.sessions.get(identity)
        self.sessions[identity] = session
        remote = _remote(connection)
        detail = ""
        if older is not None:
            # The newer connection wins (a rebooted charge point reconnects before the old TCP
            # connection times out); the older is closed, never left open out of reach.
            detail = f"replacing the connection from {_remote(older.connection)}"
            session.start_task(older.close(1000, "replaced by a new connection"), "replace")
        self._report(ConnectionEvent("connected", identity, detail, remote))
        try:
            await session.run()
        finally:
            if self.sessions.get(identity) is session:
                del self.sessions[identity]
            if self.gc_pacer is not None:
                self.gc_pacer.closed()
            code, reason = connection.close_code, connection.close_reason
            detail = f"code {code}" + (f": {reason}" if reason else "") if code else "lost"
            self._report(ConnectionEvent("disconnected", identity, detail, remote))


_SLICE: Final = 16 * 1024


class _Connection(ServerConnection):
    """A server connection that stops reading from a peer while the peer does not read us.

    ``websockets`` answers every ping with a pong written at once; a peer that sends pings (or
    CALLs) and never reads would pile them up in our write buffer without end. Reading pauses
    while the write buffer is over its limit, as well as while the received frames wait (as
    ``websockets`` does on its own), so what one peer makes us hold stays bounded.
    """

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._frames_waiting = self._writes_waiting = self._reading_paused = False
        self.recv_messages.pause = lambda: self._hold(frames=True)
        self.recv_messages.resume = lambda: self._hold(frames=False)

    def data_received(self, data: bytes) -> None:
        # A read holds up to 256 KiB: some 64,000 pings, whose pongs websockets would build all
        # at once. Fed in slices, each slice's objects are freed before the next is parsed.
        if len(data) <= _SLICE:
            super().data_received(data)
            return
        view = memoryview(data)
        for start in range(0, len(data), _SLICE):
            super().data_received(bytes(view[start : start + _SLICE]))

    def send_data(self) -> None:
        # As websockets does, but the frames queued by one read (a burst of pongs) go out in one
        # write, and nothing is written once the transport is closing: asyncio logs a warning
        # for every write to a lost connection, a flood when a peer sends pings and goes away.
        chunks = self.protocol.data_to_send()
        if self.transport.is_closing():
            return
        pending: list[bytes] = []
        for data in chunks:
            if data:
                pending.append(data)
                continue
            if pending:
                self.transport.write(b"".join(pending))
                pending = []
            if self.transport.can_write_eof():  # half-close, as websockets does (no TLS)
                # websockets: write_eof() "doesn't document which exceptions it raises".
                with contextlib.suppress(Exception):
                    self.transport.write_eof()
            else:
                self.transport.close()
        if pending:
            self.transport.write(b"".join(pending))

    def pause_writing(self) -> None:
        super().pause_writing()
        self._hold(writes=True)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._hold(writes=False)

    def _hold(self, *, frames: bool | None = None, writes: bool | None = None) -> None:
        if frames is not None:
            self._frames_waiting = frames
        if writes is not None:
            self._writes_waiting = writes
        pause = self._frames_waiting or self._writes_waiting
        if pause != self._reading_paused and not self.transport.is_closing():
            self._reading_paused = pause
            if pause:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()


class Server:
    """A running central system (``async with cs.serve(host, port) as server``)."""

    def __init__(self, central_system: CentralSystem, host: str, port: int) -> None:
        if not 0 <= port <= 65535:
            raise InputError(f"a port is a number from 0 to 65535, not {port}")
        self.central_system = central_system
        self.host = host
        self._port = port
        self._ws: WsServer | None = None
        self._pacing: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
        await self.wait_closed()

    async def start(self) -> None:
        """Listen; ConnectError (DNSError for a bad host name) when that is impossible.

        Raises the soft open-files limit to the hard one first (each connection holds a file
        descriptor), and reports running out of them at most once a second.
        """
        cs = self.central_system
        try:
            raise_open_files_limit()
            _ResourceReport.install(asyncio.get_running_loop())
            self._ws = await serve(
                cs._handle,
                self.host,
                self._port,
                create_connection=_Connection,
                max_size=cs.max_frame,
                max_queue=MAX_RECEIVED_FRAMES,
                write_limit=MAX_UNSENT_BYTES,
                subprotocols=[Subprotocol(SUBPROTOCOL)],
                select_subprotocol=cs._select_subprotocol,
                process_request=cs._process_request,
                process_response=cs._process_response,
                ssl=cs.ssl,
                server_header="ocpp16",
                logger=_log,
            )
            if cs.gc_pacer is not None:
                self._pacing = asyncio.create_task(self._pace(cs.gc_pacer), name="ocpp16 gc")
        except socket.gaierror as exc:
            raise DNSError(f"cannot listen on {self.host}: {exc.strerror}") from exc
        except OSError as exc:
            why = os.strerror(exc.errno).lower() if exc.errno else str(exc)
            raise ConnectError(f"cannot listen on {self.host}:{self._port}: {why}") from exc

    @property
    def port(self) -> int:
        """The port listened on (the one picked when asked for port 0)."""
        if self._ws is None:
            return self._port
        port: int = self._ws.sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        """The base URL charge points append their identity to (no trailing slash)."""
        scheme = "wss" if self.central_system.ssl else "ws"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}{self.central_system.path.rstrip('/')}"

    def url_for(self, identity: str) -> str:
        """The URL a charge point named ``identity`` connects to."""
        return f"{self.url}/{quote(identity, safe='')}"

    @property
    def sessions(self) -> dict[str, ChargePointSession]:
        return self.central_system.sessions

    def close(self) -> None:
        """Stop listening and close every connection (code 1001, going away)."""
        if self._ws is not None:
            self._ws.close()
        if self._pacing is not None:
            self._pacing.cancel()

    async def _pace(self, pacer: GcPacer) -> None:
        try:
            while True:
                await asyncio.sleep(1.0)
                pacer.tick(len(self.central_system.sessions))
        finally:
            pacer.stop()

    async def wait_closed(self) -> None:
        if self._ws is not None:
            await self._ws.wait_closed()

    async def serve_forever(self) -> None:
        """Serve until cancelled (or closed)."""
        if self._ws is None:
            await self.start()
        assert self._ws is not None
        await self._ws.serve_forever()


def raise_open_files_limit() -> int | None:
    """Raise the soft limit on open files to the hard one (each connection holds one); the new
    soft limit, or None where there is no such limit (Windows) or it cannot be raised."""
    try:
        import resource
    except ImportError:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            return soft
    return hard


class _ResourceReport:
    """The event loop's exception handler, reporting "out of file descriptors" at most once per
    RESOURCE_REPORT_INTERVAL (asyncio would log an accept traceback per attempt), and passing
    everything else on to the handler that was there before."""

    _OUT_OF: Final = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}

    def __init__(self, previous: Any) -> None:
        self.previous = previous
        self.last = -math.inf
        self.missed = 0

    @classmethod
    def install(cls, loop: asyncio.AbstractEventLoop) -> None:
        current = loop.get_exception_handler()
        if not isinstance(getattr(current, "__self__", None), cls):
            loop.set_exception_handler(cls(current).handle)

    def handle(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if not isinstance(exc, OSError) or exc.errno not in self._OUT_OF:
            if self.previous is not None:
                self.previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        now = time.monotonic()
        if now - self.last < RESOURCE_REPORT_INTERVAL:
            self.missed += 1
            return
        again = f" ({self.missed} more times since the last report)" if self.missed else ""
        _log.error(
            "cannot accept connections: %s; they wait until some close%s",
            os.strerror(exc.errno or 0).lower(), again,
        )  # fmt: skip
        self.last, self.missed = now, 0


def server_ssl_context(cert: str, key: str, client_ca: str | None = None) -> ssl.SSLContext:
    """A TLS server context from PEM files; with ``client_ca``, client certificates are required
    and must be signed by it (security profile 3). InputError when a file is missing or wrong."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
        if client_ca is not None:
            context.load_verify_locations(client_ca)
            context.verify_mode = ssl.CERT_REQUIRED
    except (OSError, ssl.SSLError) as exc:
        raise InputError(f"cannot load the TLS certificate or key: {exc}") from exc
    return context


def _require_sender(action: str, side: str) -> str:
    found = resolve_action(action)
    sends = found.sender.charge_point_sends if side == "cp" else found.sender.central_system_sends
    if not sends:
        other = "central system" if side == "cp" else "charge point"
        role = "charge point" if side == "cp" else "central system"
        raise InputError(f"{found.name} is sent by the {other}, never by the {role}")
    return found.name


def _password_check(auth: BasicAuth | None) -> Callable[[str, str], Awaitable[bool]] | None:
    if auth is None:
        return None
    if callable(auth):
        check = auth

        async def custom(identity: str, given: str) -> bool:
            result = check(identity, given)
            return bool(await result) if inspect.isawaitable(result) else bool(result)

        return custom
    passwords: Mapping[str, str] | None = None if isinstance(auth, str) else auth
    shared = auth if isinstance(auth, str) else None

    async def compare(identity: str, given: str) -> bool:
        wanted = shared if passwords is None else passwords.get(identity)
        return wanted is not None and hmac.compare_digest(
            wanted.encode("utf-8", "surrogateescape"), given.encode("utf-8", "surrogateescape")
        )

    return compare


def _remote(connection: ServerConnection) -> str:
    address = connection.remote_address
    return f"{address[0]}:{address[1]}" if isinstance(address, tuple) else ""
