"""The charge point's WebSocket connection, on websocket-client: URL, subprotocol, auth, TLS.

:func:`endpoint` turns what users type into the URL to open: ``http://`` and ``https://`` become
``ws://`` and ``wss://``, and the charge point identity is the last segment of the path, or is
appended to it percent-encoded. :meth:`Connection.open` offers the ``ocpp1.6`` subprotocol and
checks that the server agreed, sends HTTP Basic auth (security profiles 1 and 2: the identity and
a password) and a client certificate (profile 3). Every failure of websocket-client, ``ssl`` or
``socket`` is raised as an :mod:`ocpp16.errors` exception ``from`` the original; passwords never
appear in messages.

The connection carries text; :mod:`ocpp16.client` speaks OCPP-J over it.
"""

from __future__ import annotations

import base64
import math
import select
import socket
import ssl
import struct
from time import perf_counter
from typing import Final
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import attrs
import websocket

from ocpp16.errors import (
    CallTimeout,
    ConnectError,
    ConnectionClosed,
    DNSError,
    HandshakeError,
    InputError,
    RefusedError,
    SubprotocolError,
    TLSError,
)
from ocpp16.frames import SUBPROTOCOL

__all__ = ["SUBPROTOCOL", "Connection", "Endpoint", "endpoint", "tls_context"]


_SCHEMES: Final = {"ws": "ws", "wss": "wss", "http": "ws", "https": "wss"}
_HINTS: Final = {
    400: " (the server may not speak ocpp1.6 at this path)",
    401: " (check the identity and password)",
    403: " (the server does not accept this charge point or certificate)",
    404: " (check the URL path and the identity)",
}


@attrs.frozen
class Endpoint:
    """Where to connect: ``url`` (ws:// or wss://, the identity in its path) and ``identity``."""

    url: str
    identity: str

    @property
    def secure(self) -> bool:
        return self.url.startswith("wss:")


def endpoint(url: str, identity: str | None = None) -> Endpoint:
    """The WebSocket URL and charge point identity for ``url`` as a user typed it.

    ``identity`` None takes the last segment of the URL's path (percent-decoded). Otherwise it is
    appended to the path, percent-encoded, unless the path already ends with it. InputError when
    ``url`` is not a ws, wss, http or https URL with a host, or no identity can be found.
    """
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError as exc:
        raise InputError(f"invalid URL {url!r}: {exc}") from None
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise InputError(
            f"invalid URL {url!r}: use a ws://, wss://, http:// or https:// URL"
            " (http and https mean ws and wss)"
        )
    if not parts.hostname:
        raise InputError(f"invalid URL {url!r}: no host")
    if parts.username is not None or parts.password is not None:
        # A password in a URL ends up in shell history and logs, and could be printed.
        raise InputError(
            "invalid URL: credentials in the URL are not supported; give the password"
            " separately (--password or OCPP16_PASSWORD)"
        )
    path = parts.path
    last = unquote(path.rstrip("/").rpartition("/")[2])
    if identity is None:
        if not last:
            raise InputError(
                f"no charge point identity in {url!r}: end the path with it"
                " (ws://host:9000/ocpp/CP001) or give it separately (--id)"
            )
        identity = last
    elif not identity:
        raise InputError("the charge point identity is empty")
    elif last != identity:
        path = path.rstrip("/") + "/" + quote(identity, safe="")
    return Endpoint(urlunsplit((scheme, parts.netloc, path, parts.query, "")), identity)


def tls_context(
    ca: str | None = None,
    cert: str | None = None,
    key: str | None = None,
    insecure: bool = False,
) -> ssl.SSLContext:
    """A client TLS context: verify the server against ``ca`` (or the system's CAs), present the
    client certificate ``cert`` with ``key`` (security profile 3); ``insecure`` skips verification.
    InputError when a file cannot be loaded."""
    try:
        context = ssl.create_default_context(cafile=ca)
    except (OSError, ssl.SSLError) as exc:
        raise InputError(f"cannot load the CA bundle {ca}: {_reason(exc)}") from exc
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if key is not None and cert is None:
        raise InputError("a client key needs its certificate (--cert)")
    if cert is not None:
        try:
            context.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as exc:
            what = f"{cert} with key {key}" if key else cert
            raise InputError(f"cannot load the client certificate {what}: {_reason(exc)}") from exc
    return context


def _reason(exc: OSError) -> str:
    if isinstance(exc, ssl.SSLError):
        return exc.reason or str(exc)
    return exc.strerror or str(exc)


def _basic_auth(username: str, password: str | bytes) -> str:
    secret = password.encode("utf-8") if isinstance(password, str) else password
    token = base64.b64encode(username.encode("utf-8") + b":" + secret).decode("ascii")
    return f"Authorization: Basic {token}"


class Connection:
    """An open WebSocket connection that agreed to ``ocpp1.6``; text frames in and out."""

    def __init__(self, ws: _WebSocket, where: Endpoint) -> None:
        self._ws = ws
        self.endpoint = where

    def __repr__(self) -> str:
        return f"<Connection {self.endpoint.url}>"

    @classmethod
    def open(
        cls,
        where: Endpoint,
        *,
        password: str | bytes | None = None,
        tls: ssl.SSLContext | None = None,
        timeout: float = 30.0,
    ) -> Connection:
        """Connect, offer ``ocpp1.6`` and check the server agreed; ConnectError when not."""
        if tls is not None and not where.secure:
            raise InputError(f"TLS options need a wss:// or https:// URL, not {where.url}")
        headers = [f"Sec-WebSocket-Protocol: {SUBPROTOCOL}"]
        if password is not None:
            if ":" in where.identity:
                raise InputError(
                    f"the identity {where.identity!r} holds ':', which HTTP Basic auth cannot carry"
                )
            headers.append(_basic_auth(where.identity, password))
        sslopt = {"context": tls or ssl.create_default_context()} if where.secure else None
        ws = _WebSocket(sslopt=sslopt, skip_utf8_validation=True, enable_multithread=False)
        try:
            ws.connect(  # type: ignore[no-untyped-call]
                where.url, header=headers, timeout=timeout, suppress_origin=True
            )
        except Exception as exc:
            raise _connect_error(exc, where.url, timeout) from exc
        if ws.sock is not None:
            ws.sock.settimeout(None)  # from now on _WebSocket waits with deadlines
        agreed = (ws.getheaders() or {}).get("sec-websocket-protocol")
        if agreed != SUBPROTOCOL:
            ws.deadline = perf_counter() + 1
            ws.close(timeout=1)
            answer = f"it answered {agreed!r}" if agreed else "it sent no Sec-WebSocket-Protocol"
            raise SubprotocolError(
                f"the server at {where.url} did not agree to the {SUBPROTOCOL} subprotocol"
                f" ({answer})"
            )
        return cls(ws, where)

    def send(self, text: str, timeout: float = 30.0) -> None:
        """Send one text frame; CallTimeout when the peer takes nothing for ``timeout`` seconds,
        ConnectionClosed when the connection is gone."""
        self._ws.deadline = perf_counter() + timeout
        try:
            self._ws.send(text)
        except websocket.WebSocketTimeoutException as exc:
            raise CallTimeout(f"could not send within {timeout:g} s") from exc
        except (websocket.WebSocketException, OSError) as exc:
            raise ConnectionClosed(f"cannot send: {_lost(exc)}") from exc

    def recv(self, timeout: float) -> str | bytes:
        """The next data frame: its text, or bytes for a binary frame or text that is not UTF-8.

        Answers pings on the way. CallTimeout when nothing arrives within ``timeout`` seconds,
        ConnectionClosed when the peer closes or the connection breaks.
        """
        ws = self._ws
        if ws.sock is None:
            raise ConnectionClosed("the connection is closed")
        ws.deadline = perf_counter() + timeout
        try:
            opcode, data = ws.recv_data()
        except websocket.WebSocketTimeoutException as exc:
            raise CallTimeout(f"nothing received within {timeout:g} s") from exc
        except (websocket.WebSocketException, OSError) as exc:
            _shutdown(ws)
            raise ConnectionClosed(_lost(exc)) from exc
        if opcode == websocket.ABNF.OPCODE_TEXT:
            try:
                text: str = data.decode("utf-8")
            except UnicodeDecodeError:
                return bytes(data)
            return text
        if opcode == websocket.ABNF.OPCODE_BINARY:
            return bytes(data)
        _shutdown(ws)  # a close frame: websocket-client has already answered it
        raise ConnectionClosed(f"the server closed the connection{_close_reason(data)}")

    def close(self) -> None:
        """Close the connection (the closing handshake waits at most 2 s); idempotent."""
        self._ws.deadline = perf_counter() + 2
        self._ws.close(timeout=2)
        _shutdown(self._ws)

    @property
    def closed(self) -> bool:
        return not self._ws.connected


#: Bytes read at once: whatever has arrived, up to this.
_READ_AHEAD: Final = 65536
_DONTWAIT: Final = getattr(socket, "MSG_DONTWAIT", 0)
_POLL: Final = hasattr(select, "poll")


class _WebSocket(websocket.WebSocket):
    """websocket-client's WebSocket, reading ahead and waiting for a deadline.

    With a socket timeout, Python polls before every recv and send, and websocket-client reads
    each frame in two or three recv calls. Here the socket blocks: one poll, bounded by the time
    left until ``deadline``, guards each read (so a peer stalling mid-frame still times out), a
    read takes everything that has arrived, and a send is first tried without waiting. The same
    frames with about half the system calls of a socket timeout.
    """

    deadline: float = math.inf
    _ahead: bytes = b""

    def _recv(self, bufsize: int) -> bytes:
        ahead = self._ahead
        if ahead:
            self._ahead = ahead[bufsize:]
            return ahead[:bufsize]
        sock = self.sock
        if sock is None:
            raise websocket.WebSocketConnectionClosedException("the connection is closed")
        if not (isinstance(sock, ssl.SSLSocket) and sock.pending()):
            self._wait(sock, write=False)
        data = sock.recv(_READ_AHEAD)
        if not data:
            raise websocket.WebSocketConnectionClosedException("the peer closed the socket")
        if len(data) > bufsize:
            self._ahead = data[bufsize:]
            return data[:bufsize]
        return data

    def _send(self, data: str | bytes) -> int:
        sock = self.sock
        if sock is None:
            raise websocket.WebSocketConnectionClosedException("the connection is closed")
        raw = data.encode("utf-8") if isinstance(data, str) else data
        if _DONTWAIT and not isinstance(sock, ssl.SSLSocket):
            try:
                return sock.send(raw, _DONTWAIT)
            except BlockingIOError:
                pass
        self._wait(sock, write=True)
        return sock.send(raw)

    def _wait(self, sock: socket.socket, write: bool) -> None:
        """Until ``sock`` can be read (or written); a timeout at ``deadline``."""
        left = self.deadline - perf_counter()
        if left > 0 and _ready(sock, write, left):
            return
        raise websocket.WebSocketTimeoutException("timed out")


def _ready(sock: socket.socket, write: bool, timeout: float) -> bool:
    if _POLL:
        poller = select.poll()
        poller.register(sock, select.POLLOUT if write else select.POLLIN)
        return bool(poller.poll(math.ceil(timeout * 1000)))
    # Windows: no poll()
    waiting = [sock]
    readable, writable, _ = select.select(
        [] if write else waiting, waiting if write else [], [], timeout
    )
    return bool(readable or writable)


def _shutdown(ws: websocket.WebSocket) -> None:
    ws.shutdown()  # type: ignore[no-untyped-call]


def _close_reason(data: bytes) -> str:
    if len(data) < 2:
        return ""
    (code,) = struct.unpack("!H", data[:2])
    reason = data[2:].decode("utf-8", "replace")
    return f" (code {code}: {reason})" if reason else f" (code {code})"


def _lost(exc: BaseException) -> str:
    if isinstance(exc, websocket.WebSocketConnectionClosedException):
        return "the connection was lost"
    if isinstance(exc, ConnectionResetError):
        return "the server reset the connection"
    return f"the connection broke ({type(exc).__name__}: {exc})"


def _connect_error(exc: Exception, url: str, timeout: float) -> Exception:
    """The ocpp16 error for a failure of ``websocket.WebSocket.connect``."""
    if isinstance(exc, websocket.WebSocketBadStatusException):
        status = exc.status_code
        reason = exc.status_message if isinstance(exc.status_message, str) else ""
        hint = _HINTS.get(status, "")
        return HandshakeError(
            status,
            f"the server at {url} refused the WebSocket upgrade: HTTP {status} {reason}".rstrip()
            + hint,
        )
    if isinstance(exc, websocket.WebSocketAddressException):
        cause = exc.args[0] if exc.args else exc
        detail = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
        return DNSError(f"cannot resolve the host of {url}: {detail}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TLSError(
            f"TLS handshake with {url} failed: {exc.verify_message or exc.reason}"
            " (give the server's CA with --ca, or --insecure to skip verification)"
        )
    if isinstance(exc, ssl.SSLError):
        return TLSError(f"TLS handshake with {url} failed: {exc.reason or exc}")
    if isinstance(exc, ConnectionRefusedError):
        return RefusedError(f"cannot connect to {url}: connection refused")
    if isinstance(exc, ConnectionResetError | ConnectionAbortedError | BrokenPipeError):
        return RefusedError(f"cannot connect to {url}: the server reset the connection")
    if isinstance(exc, TimeoutError | socket.timeout | websocket.WebSocketTimeoutException):
        return ConnectError(f"cannot connect to {url}: no answer within {timeout:g} s")
    if isinstance(exc, websocket.WebSocketConnectionClosedException):
        hint = (
            " (does it want a client certificate? --cert, --key)" if url.startswith("wss:") else ""
        )
        return ConnectError(f"cannot connect to {url}: the server closed the connection{hint}")
    if isinstance(exc, websocket.WebSocketException):
        return ConnectError(f"WebSocket handshake with {url} failed: {exc}")
    if isinstance(exc, OSError):
        return ConnectError(f"cannot connect to {url}: {exc.strerror or exc}")
    return ConnectError(f"cannot connect to {url}: {type(exc).__name__}: {exc}")
