"""The central-system role: a validating OCPP 1.6-J server on ``websockets``.

::

    import asyncio
    from datetime import UTC, datetime

    from ocpp16 import BootNotificationRequest, BootNotificationResponse, RegistrationStatus
    from ocpp16.server import CentralSystem, ChargePointSession

    cs = CentralSystem()  # answers every valid CALL with a random valid response

    @cs.on("BootNotification")
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
registered for the action (``on`` / ``respond``) or with a random valid response. After a
BootNotification, the ``after_boot`` requests are sent to the charge point in order.
Handlers may be plain functions or coroutines; raising :class:`~ocpp16.errors.CallError` answers
with that CALLERROR. ``session.call(request)`` sends a CALL to a charge point at any time.
"""

from __future__ import annotations

import hmac
import inspect
import logging
import os
import random
import socket
import ssl
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final, TypeVar
from urllib.parse import quote, unquote, urlsplit

from websockets.asyncio.server import Server as WsServer
from websockets.asyncio.server import ServerConnection, basic_auth, serve
from websockets.exceptions import NegotiationError
from websockets.http11 import Request as HttpRequest
from websockets.http11 import Response as HttpResponse
from websockets.typing import Subprotocol

from ocpp16 import _dispatch
from ocpp16._events import ConnectionEvent, Exchange, FrameEvent
from ocpp16._model import Model, Request, Response
from ocpp16._session import ChargePointSession
from ocpp16.errors import (
    CallError,
    ConnectError,
    DNSError,
    InputError,
    InvalidResponse,
    ValidationError,
)
from ocpp16.frames import SUBPROTOCOL
from ocpp16.registry import resolve_action

__all__ = [
    "SUBPROTOCOL",
    "CentralSystem",
    "ChargePointSession",
    "ConnectionEvent",
    "Exchange",
    "FrameEvent",
    "Server",
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
#: A password every charge point uses, passwords by identity, or a check (identity, password).
BasicAuth = str | Mapping[str, str] | Callable[[str, str], bool | Awaitable[bool]]


class CentralSystem:
    """What the server does with charge points; :meth:`serve` puts it on a port.

    - ``path``: the URL path before the identity (``/ocpp``; ``/`` for none).
    - ``identities``: accept only these charge point identities (others get HTTP 404).
    - ``basic_auth``: require HTTP Basic auth on the upgrade (security profiles 1 and 2), the user
      name being the identity; a wrong or missing password gets HTTP 401.
    - ``ssl``: serve ``wss://`` (profiles 2 and 3); see :func:`server_ssl_context`.
    - ``full``, ``seed``: how random responses and after-boot requests are made.
    - ``after_boot``: CS→CP requests to send after each BootNotification: instances, or request
      classes for a random one each time.
    - ``timeout``: seconds to wait for a charge point's answer to our CALLs.
    - ``on_frame``, ``on_exchange``, ``on_connection``: callbacks for reporting (see
      :mod:`ocpp16._events`); they run in the event loop and must not block.
    """

    def __init__(
        self,
        *,
        path: str = "/ocpp",
        identities: Collection[str] | None = None,
        basic_auth: BasicAuth | None = None,
        ssl: ssl.SSLContext | None = None,
        full: bool = False,
        seed: int | None = None,
        after_boot: Sequence[Model | type[Model]] = (),
        timeout: float = 30.0,
        on_frame: Callable[[FrameEvent], None] | None = None,
        on_exchange: Callable[[Exchange], None] | None = None,
        on_connection: Callable[[ConnectionEvent], None] | None = None,
    ) -> None:
        self.path = "/" + path.strip("/")
        self.identities = None if identities is None else frozenset(identities)
        self.ssl = ssl
        self.full = full
        self.rng = random.Random(seed)
        self.timeout = timeout
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
        self._handlers: dict[str, Callable[[Any, ChargePointSession], Any]] = {}
        #: The connected charge points by identity (the latest connection of each).
        self.sessions: dict[str, ChargePointSession] = {}

    @property
    def has_basic_auth(self) -> bool:
        return self._check_password is not None

    # Configuration -----------------------------------------------------------------------------

    def on(self, action: str) -> Callable[[H], H]:
        """Decorator: ``handler(request, session)`` answers ``action`` (plain or async function).

        It returns the response instance or its wire dict (validated; a bad one is answered with
        an InternalError CALLERROR), or raises CallError to answer with that CALLERROR.
        """
        name = _require_sender(action, "cp")

        def register(handler: H) -> H:
            self._handlers[name] = handler
            return handler

        return register

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
            return action.response.random(full=self.full, rng=self.rng)
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
            request = item.random(full=self.full, rng=self.rng) if isinstance(item, type) else item
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
            self.on_connection(event)

    # The WebSocket side ------------------------------------------------------------------------

    def _identity(self, target: str) -> str | None:
        path = urlsplit(target).path
        prefix = "/" if self.path == "/" else self.path + "/"
        if not path.startswith(prefix):
            return None
        segment = path[len(prefix) :]
        if not segment or "/" in segment:
            return None
        return unquote(segment)

    async def _process_request(
        self, connection: ServerConnection, request: HttpRequest
    ) -> HttpResponse | None:
        identity = self._identity(request.path)
        if identity is None:
            where = f"{self.path.rstrip('/')}/<charge point identity>"
            return connection.respond(HTTPStatus.NOT_FOUND, f"Not Found: connect to {where}\n")
        if self.identities is not None and identity not in self.identities:
            return connection.respond(
                HTTPStatus.NOT_FOUND, f"Not Found: unknown charge point {identity!r}\n"
            )
        if self._check_password is None:
            return None
        refused = await basic_auth("ocpp16", check_credentials=self._check_password)(
            connection, request
        )
        if refused is None and connection.username != identity:
            refused = connection.respond(
                HTTPStatus.UNAUTHORIZED, "Invalid credentials: the user name is not the identity\n"
            )
            refused.headers["WWW-Authenticate"] = 'Basic realm="ocpp16", charset="UTF-8"'
        return refused

    def _process_response(
        self, connection: ServerConnection, request: HttpRequest, response: HttpResponse
    ) -> None:
        if response.status_code != HTTPStatus.SWITCHING_PROTOCOLS:
            reason = response.body.decode("utf-8", "replace").strip().splitlines()
            text = reason[0] if reason else ""
            detail = f"HTTP {response.status_code}: {text}".rstrip(": ")
            self._report(
                ConnectionEvent(
                    "refused", self._identity(request.path), detail, _remote(connection)
                )
            )

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
        self.sessions[identity] = session
        remote = _remote(connection)
        self._report(ConnectionEvent("connected", identity, "", remote))
        try:
            await session.run()
        finally:
            if self.sessions.get(identity) is session:
                del self.sessions[identity]
            code, reason = connection.close_code, connection.close_reason
            detail = f"code {code}" + (f": {reason}" if reason else "") if code else "lost"
            self._report(ConnectionEvent("disconnected", identity, detail, remote))


class Server:
    """A running central system (``async with cs.serve(host, port) as server``)."""

    def __init__(self, central_system: CentralSystem, host: str, port: int) -> None:
        if not 0 <= port <= 65535:
            raise InputError(f"a port is a number from 0 to 65535, not {port}")
        self.central_system = central_system
        self.host = host
        self._port = port
        self._ws: WsServer | None = None

    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
        await self.wait_closed()

    async def start(self) -> None:
        """Listen; ConnectError (DNSError for a bad host name) when that is impossible."""
        cs = self.central_system
        try:
            self._ws = await serve(
                cs._handle,
                self.host,
                self._port,
                subprotocols=[Subprotocol(SUBPROTOCOL)],
                select_subprotocol=cs._select_subprotocol,
                process_request=cs._process_request,
                process_response=cs._process_response,
                ssl=cs.ssl,
                server_header="ocpp16",
                logger=_log,
            )
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

    async def wait_closed(self) -> None:
        if self._ws is not None:
            await self._ws.wait_closed()

    async def serve_forever(self) -> None:
        """Serve until cancelled (or closed)."""
        if self._ws is None:
            await self.start()
        assert self._ws is not None
        await self._ws.serve_forever()


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
