"""The charge point's WebSocket connection: URL, subprotocol, auth, TLS, limits and deadlines.

:func:`endpoint` turns what users type into the URL to open: ``http://`` and ``https://`` become
``ws://`` and ``wss://``, and the charge point identity is the last segment of the path, or is
appended to it percent-encoded. :meth:`Connection.open` offers the ``ocpp1.6`` subprotocol and
checks that the server agreed, sends HTTP Basic auth (security profiles 1 and 2: the identity and
a password) and a client certificate (profile 3). Every failure of ``websockets``, ``ssl`` or
``socket`` is raised as an :mod:`ocpp16.errors` exception ``from`` the original; passwords (and
credentials in URLs) never appear in messages.

The WebSocket protocol is the public sans-I/O ``websockets.client.ClientProtocol``; the socket
I/O is :mod:`ocpp16._wire`'s, so every step has a deadline: ``timeout`` bounds DNS, TCP, TLS and
the HTTP upgrade together, a send that the peer does not take gives up at its deadline, and a
read waits only as long as asked. Hostile servers are held to bounds: redirects are refused, not
followed (a client that follows one resends its Basic auth to wherever it points), at most 128
response headers of 8 KiB each, and incoming messages up to ``max_frame`` bytes (bigger ones
close the connection with 1009 before they are buffered); a text message that is not UTF-8
fails the connection with 1007 (RFC 6455, section 8.1).

The connection carries text (binary messages are handed up as bytes, for the client to report
as not OCPP-J); :mod:`ocpp16.client` speaks OCPP-J over it.
"""

from __future__ import annotations

import base64
import contextlib
import re
import socket
import ssl
import threading
from collections import deque
from time import perf_counter
from typing import Final
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import attrs
from websockets.client import ClientProtocol
from websockets.exceptions import (
    InvalidHandshake,
    InvalidHeader,
    InvalidMessage,
    InvalidStatus,
    InvalidURI,
    NegotiationError,
    PayloadTooBig,
    SecurityError,
)
from websockets.frames import CloseCode, Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from ocpp16 import _wire
from ocpp16._text import printable, redact_url, shorten
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
from ocpp16.limits import MAX_FRAME_BYTES, MAX_TIMEOUT, MIN_TIMEOUT

__all__ = [
    "SUBPROTOCOL",
    "Connection",
    "Endpoint",
    "checked_timeout",
    "endpoint",
    "safe_url",
    "tls_context",
]


_SCHEMES: Final = {"ws": "ws", "wss": "wss", "http": "ws", "https": "wss"}
_HINTS: Final = {
    400: " (the server may not speak ocpp1.6 at this path)",
    401: " (check the identity and password)",
    403: " (the server does not accept this charge point or certificate)",
    404: " (check the URL path and the identity)",
}


def safe_url(url: str) -> str:
    """``url`` as it may be shown: credentials redacted (its own and those of any URL in its
    query), escaped, and cut when very long."""
    return _peer_text(redact_url(url))


def checked_timeout(value: float, what: str = "timeout") -> float:
    """``value`` when it is a number of seconds from MIN_TIMEOUT to MAX_TIMEOUT (a day);
    InputError (a ValueError) otherwise. ``inf``, NaN, 0, negatives and huge values used to reach
    the clock deep in a wait and fail there with an OverflowError traceback."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"the {what} must be a number of seconds, not {type(value).__name__}")
    if not MIN_TIMEOUT <= value <= MAX_TIMEOUT:  # False for NaN too
        raise InputError(
            f"the {what} must be from {MIN_TIMEOUT:g} to {MAX_TIMEOUT:,.0f} seconds, not {value!r}"
        )
    return float(value)


#: The userinfo of any URL inside a text (``scheme://user:password@``): the part to redact.
#: Up to the authority's last ``@`` (a password may hold ``@`` or, from a hostile peer, spaces).
_USERINFO: Final = re.compile(r"(?i)([a-z][a-z0-9+.-]*:)?//[^/?#]*@")


def _peer_text(text: str) -> str:
    """Text from the server's HTTP answer or its close frame (a header value, a reason, an error
    quoting a header) as it may be shown: the credentials of every URL in it redacted first,
    then escaped, then cut, so that neither escaping nor cutting can hide a URL from the
    redaction (a Location holding an ESC used to reach the message with its password)."""
    return printable(shorten(_USERINFO.sub(lambda m: f"{m.group(1) or ''}//***@", text)))


@attrs.frozen
class Endpoint:
    """Where to connect: ``url`` (ws:// or wss://, the identity in its path) and ``identity``."""

    url: str
    identity: str

    def __repr__(self) -> str:
        return f"Endpoint(url='{safe_url(self.url)}', identity='{printable(self.identity)}')"

    @property
    def secure(self) -> bool:
        return self.url.startswith("wss:")


def endpoint(url: str, identity: str | None = None) -> Endpoint:
    """The WebSocket URL and charge point identity for ``url`` as a user typed it.

    ``identity`` None takes the last segment of the URL's path (percent-decoded). Otherwise it is
    appended to the path, percent-encoded, unless the path already ends with it. InputError when
    ``url`` is not a ws, wss, http or https URL with a host, or no identity can be found.
    """
    shown = safe_url(url)
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError as exc:
        raise InputError(f"invalid URL '{shown}': {exc}") from None
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise InputError(
            f"invalid URL '{shown}': use a ws://, wss://, http:// or https:// URL"
            " (http and https mean ws and wss)"
        )
    if not parts.hostname:
        raise InputError(f"invalid URL '{shown}': no host")
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
                f"no charge point identity in '{shown}': end the path with it"
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


def basic_auth_header(username: str, password: str | bytes) -> str:
    """The ``Authorization`` header value of HTTP Basic auth (shared with the asyncio driver)."""
    secret = password.encode("utf-8") if isinstance(password, str) else password
    token = base64.b64encode(username.encode("utf-8") + b":" + secret).decode("ascii")
    return f"Basic {token}"


class Connection:
    """An open WebSocket connection that agreed to ``ocpp1.6``; text frames in and out.

    One thread may read (:meth:`recv`) while others send (:meth:`send`, one frame at a time) and
    :meth:`close` may come from any thread: a read waiting meanwhile ends with ConnectionClosed.
    """

    def __init__(
        self,
        wire: _wire.Wire,
        protocol: ClientProtocol,
        where: Endpoint,
        max_frame: int,
        pending: list[Frame] | None = None,
    ) -> None:
        self._wire = wire
        self._protocol = protocol
        self.endpoint = where
        self.max_frame = max_frame
        self._frames: deque[Frame] = deque(pending or ())
        self._fragments: list[bytes] = []
        self._binary = False
        self._protocol_lock = threading.Lock()  # the sans-I/O protocol is not thread-safe
        self._write_lock = threading.Lock()  # whole frames, one writer at a time
        self._read_lock = threading.Lock()
        self._ended = threading.Event()  # the reader saw the end of the connection
        self._closed: ConnectionClosed | None = None

    def __repr__(self) -> str:
        return f"<Connection {safe_url(self.endpoint.url)}>"

    @classmethod
    def open(
        cls,
        where: Endpoint,
        *,
        password: str | bytes | None = None,
        tls: ssl.SSLContext | None = None,
        timeout: float = 30.0,
        max_frame: int = MAX_FRAME_BYTES,
    ) -> Connection:
        """Connect, offer ``ocpp1.6`` and check the server agreed; ConnectError when not.

        ``timeout`` bounds the whole opening (DNS, TCP, TLS, the HTTP upgrade). ``max_frame`` is
        the largest message accepted from the server, in bytes.
        """
        checked_timeout(timeout)
        if tls is not None and not where.secure:
            raise InputError(
                f"TLS options need a wss:// or https:// URL, not {safe_url(where.url)}"
            )
        if max_frame < 1:
            raise InputError(f"the frame size limit must be at least 1 byte, not {max_frame}")
        authorization = None
        if password is not None:
            if ":" in where.identity:
                raise InputError(
                    f"the identity '{printable(where.identity)}' holds ':', which HTTP Basic"
                    " auth cannot carry"
                )
            authorization = basic_auth_header(where.identity, password)
        try:
            uri = parse_uri(where.url)
        except InvalidURI as exc:
            raise InputError(f"invalid URL '{safe_url(where.url)}': {exc}") from None
        shown = safe_url(where.url)
        deadline = perf_counter() + timeout
        try:
            sock = _wire.open_tcp(_wire.resolve(uri.host, uri.port, deadline), deadline)
        except Exception as exc:
            raise connect_error(exc, shown, timeout, "") from exc
        wire = _wire.Wire(sock)
        stage = "tls"
        try:
            if where.secure:
                wire.start_tls(tls or ssl.create_default_context(), uri.host, deadline)
            stage = "upgrade"
            protocol = ClientProtocol(
                uri, subprotocols=[Subprotocol(SUBPROTOCOL)], max_size=max_frame
            )
            request = protocol.connect()
            if authorization is not None:
                request.headers["Authorization"] = authorization
            protocol.send_request(request)
            wire.write(b"".join(protocol.data_to_send()), deadline)
            response, pending = _upgrade(wire, protocol, deadline, shown)
        except Exception as exc:
            wire.close()
            if isinstance(exc, ConnectError):
                raise
            if isinstance(exc, TimeoutError) and stage == "upgrade":
                stage = "upgrade-timeout"
            raise connect_error(exc, shown, timeout, stage) from exc
        connection = cls(wire, protocol, where, max_frame, pending)
        if protocol.subprotocol != SUBPROTOCOL:
            connection.close(wait=0.5)
            raise SubprotocolError(
                f"the server at {shown} did not agree to the {SUBPROTOCOL} subprotocol"
                f" ({_answered(response)})"
            )
        return connection

    # Sending -----------------------------------------------------------------------------------

    def send(self, text: str, timeout: float = 30.0) -> None:
        """Send one text frame; CallTimeout when the peer takes nothing for ``timeout`` seconds
        (the connection is then closed: part of the frame may have gone), ConnectionClosed when
        the connection is gone."""
        deadline = perf_counter() + checked_timeout(timeout)
        if not self._write_lock.acquire(timeout=timeout):
            raise CallTimeout(f"could not send within {timeout:g} s (another send was stuck)")
        try:
            with self._protocol_lock:
                if self._closed is not None or self._protocol.state is not State.OPEN:
                    raise ConnectionClosed("cannot send: the connection is closed")
                self._protocol.send_text(text.encode("utf-8", "surrogatepass"))
                data = self._protocol.data_to_send()
            self._write(data, deadline, timeout)
        finally:
            self._write_lock.release()

    def _write(self, data: list[bytes], deadline: float, timeout: float) -> None:
        """Write what the protocol produced (an empty chunk means: half-close)."""
        try:
            self._wire.write(b"".join(data), deadline)
        except TimeoutError as exc:
            self._end(ConnectionClosed(f"a send did not complete within {timeout:g} s"))
            raise CallTimeout(
                f"could not send within {timeout:g} s (the peer takes nothing);"
                " the connection is closed"
            ) from exc
        except OSError as exc:
            self._end(ConnectionClosed(_lost(exc)))
            raise ConnectionClosed(f"cannot send: {_lost(exc)}") from exc
        if data and not data[-1]:
            self._wire.shutdown(socket.SHUT_WR)

    def _flush(self, timeout: float) -> None:
        """Send what the protocol queued by itself (pongs, close frames)."""
        if not self._write_lock.acquire(timeout=timeout):
            return  # a send is stuck; it fails at its own deadline and closes the connection
        try:
            with self._protocol_lock:
                data = self._protocol.data_to_send()
            if data:
                # A failure is recorded by _write: the next recv reports it.
                with contextlib.suppress(CallTimeout, ConnectionClosed):
                    self._write(data, perf_counter() + timeout, timeout)
        finally:
            self._write_lock.release()

    # Receiving ---------------------------------------------------------------------------------

    def recv(self, timeout: float) -> str | bytes:
        """The next data frame: its text, or bytes for a binary frame.

        Answers pings on the way. CallTimeout when nothing arrives within ``timeout`` seconds
        (``math.inf``: wait until the connection ends), ConnectionClosed when the peer closes,
        the connection breaks, :meth:`close` is called, a message exceeds ``max_frame`` (closed
        with 1009) or a text message is not UTF-8 (closed with 1007).
        """
        deadline = perf_counter() + timeout
        with self._read_lock:
            while True:
                while self._frames:
                    message = self._message(self._frames.popleft())
                    if message is not None:
                        return message
                if self._closed is not None:
                    self._ended.set()
                    self._wire.sock.close()  # the reader's to close: nobody waits on it now
                    raise ConnectionClosed(str(self._closed))
                try:
                    data = self._wire.read(deadline)
                except TimeoutError as exc:
                    raise CallTimeout(f"nothing received within {timeout:g} s") from exc
                except OSError as exc:
                    self._end(ConnectionClosed(_lost(exc)))
                    continue
                self._feed(data)

    def _feed(self, data: bytes) -> None:
        with self._protocol_lock:
            protocol = self._protocol
            if data:
                protocol.receive_data(data)
            else:
                protocol.receive_eof()
            frames = [event for event in protocol.events_received() if isinstance(event, Frame)]
            failure = protocol.parser_exc
        self._frames.extend(frames)
        # Pings are answered, a close frame echoed, a failure closed with its code.
        if failure is not None or not data or any(f.opcode in _ANSWERED for f in frames):
            self._flush(2.0)
        if failure is not None:
            self._end(ConnectionClosed(self._failure(failure)))
        elif not data:
            self._end(ConnectionClosed("the connection was lost"))

    def _failure(self, exc: Exception) -> str:
        if isinstance(exc, PayloadTooBig):
            return (
                f"the server sent a message over the {self.max_frame:,}-byte limit"
                " (max_frame, --max-frame); closed the connection with 1009"
            )
        if isinstance(exc, EOFError):
            return "the connection was lost"
        return (
            "the server broke the WebSocket protocol"
            f" ({_peer_text(str(exc))}); closed the connection"
        )

    def _message(self, frame: Frame) -> str | bytes | None:
        """The message ``frame`` completes, None for a control frame or a fragment."""
        opcode = frame.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            if frame.fin:
                return self._decoded(frame.data, opcode is Opcode.BINARY)
            self._fragments = [bytes(frame.data)]
            self._binary = opcode is Opcode.BINARY
            return None
        if opcode is Opcode.CONT:
            # The protocol holds the sum of the fragments to max_frame.
            self._fragments.append(bytes(frame.data))
            if not frame.fin:
                return None
            data, self._fragments = b"".join(self._fragments), []
            return self._decoded(data, self._binary)
        if opcode is Opcode.CLOSE:
            received = self._protocol.close_rcvd
            reason = ""
            if received is not None:
                why = _peer_text(received.reason)
                reason = f" (code {received.code}: {why})" if why else f" (code {received.code})"
            self._end(ConnectionClosed(f"the server closed the connection{reason}"))
        return None  # ping (answered by the protocol) or pong

    def _decoded(self, data: bytes | bytearray | memoryview, binary: bool) -> str | bytes | None:
        """A binary message as bytes (the client reports it: OCPP-J is text only); a text message
        as text, or None when it is not UTF-8, which fails the connection with 1007 as RFC 6455
        section 8.1 requires (the message is invalid data, not a frame to skip)."""
        if binary:
            return bytes(data)
        try:
            return str(data, "utf-8")
        except UnicodeDecodeError as exc:
            with self._protocol_lock:
                if self._protocol.state is State.OPEN:
                    self._protocol.fail(CloseCode.INVALID_DATA, "invalid UTF-8 in a text frame")
            self._flush(2.0)
            self._frames.clear()  # nothing after invalid data is read
            self._end(
                ConnectionClosed(
                    "the server sent a text frame that is not UTF-8 (byte"
                    f" {exc.object[exc.start]:#04x} at offset {exc.start}); closed the"
                    " connection with 1007"
                )
            )
            return None

    # Closing -----------------------------------------------------------------------------------

    def _end(self, error: ConnectionClosed) -> None:
        """The connection is over: keep the first reason, and wake a reader."""
        if self._closed is None:
            self._closed = error
        self._wire.shutdown()

    def close(self, wait: float = 2.0) -> None:
        """Close the connection: send a close frame and wait (at most ``wait`` seconds) for the
        server's, then drop it. Idempotent, and safe while another thread reads or sends."""
        with self._protocol_lock:
            if self._closed is None and self._protocol.state is State.OPEN:
                self._protocol.send_close(1000)
                closing = True
            else:
                closing = False
        if closing:
            self._flush(min(wait, 1.0))
            if self._read_lock.acquire(blocking=False):
                try:
                    self._drain(perf_counter() + wait)
                finally:
                    self._read_lock.release()
            else:
                self._ended.wait(wait)
        self._end(ConnectionClosed("the connection is closed"))
        self._wire.sock.close()

    def _drain(self, deadline: float) -> None:
        """Read until the server's close frame (or the end), dropping messages."""
        while self._closed is None:
            try:
                data = self._wire.read(deadline)
            except (TimeoutError, OSError):
                return
            self._feed(data)
            while self._frames:
                self._message(self._frames.popleft())

    @property
    def closed(self) -> bool:
        return self._closed is not None or self._protocol.state is not State.OPEN


_ANSWERED: Final = (Opcode.PING, Opcode.CLOSE)


def _upgrade(
    wire: _wire.Wire, protocol: ClientProtocol, deadline: float, shown: str
) -> tuple[Response, list[Frame]]:
    """Read the server's answer to the upgrade request (and any frames right behind it)."""
    frames: list[Frame] = []
    while True:
        data = wire.read(deadline)
        if data:
            protocol.receive_data(data)
        else:
            protocol.receive_eof()
        response = None
        for event in protocol.events_received():
            if isinstance(event, Response):
                response = event
            elif isinstance(event, Frame):
                frames.append(event)
        if protocol.handshake_exc is not None:
            raise handshake_error(protocol.handshake_exc, response, shown)
        if response is not None:
            return response, frames
        if not data:
            raise ConnectionResetError("the server closed the connection")


def _answered(response: Response | None) -> str:
    values = response.headers.get_all("Sec-WebSocket-Protocol") if response is not None else []
    if not values:
        return "it sent no Sec-WebSocket-Protocol"
    return f"it answered {_peer_text(', '.join(values))!r}"


def handshake_error(exc: Exception, response: Response | None, shown: str) -> ConnectError:
    """The ocpp16 error for a refused upgrade (HTTP status, subprotocol) to ``shown``."""
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        reason = _peer_text(exc.response.reason_phrase)
        if 300 <= status < 400:
            location = exc.response.headers.get_all("Location")
            where = _peer_text(location[0]) if location else "nowhere (no Location header)"
            return HandshakeError(
                status,
                f"the server at {shown} redirects to {where} (HTTP {status} {reason});"
                " redirects are not followed, so credentials never go elsewhere:"
                " connect to that URL yourself if you trust it",
            )
        hint = _HINTS.get(status, "")
        return HandshakeError(
            status,
            f"the server at {shown} refused the WebSocket upgrade: HTTP {status} {reason}".rstrip()
            + hint,
        )
    if isinstance(exc, NegotiationError) or (
        isinstance(exc, InvalidHeader) and exc.name == "Sec-WebSocket-Protocol"
    ):
        return SubprotocolError(
            f"the server at {shown} did not agree to the {SUBPROTOCOL} subprotocol"
            f" ({_answered(response)})"
        )
    if isinstance(exc, InvalidMessage) and isinstance(exc.__cause__, SecurityError):
        return ConnectError(
            f"the server at {shown} sent an oversized answer to the WebSocket upgrade:"
            f" {_peer_text(str(exc.__cause__))}"
        )
    if isinstance(exc, InvalidMessage) and isinstance(exc.__cause__, EOFError):
        hint = " (does it want a client certificate? --cert, --key)" if "wss:" in shown else ""
        return ConnectError(f"cannot connect to {shown}: the server closed the connection{hint}")
    if isinstance(exc, InvalidHandshake):
        cause = exc.__cause__ or exc
        return ConnectError(f"WebSocket handshake with {shown} failed: {_peer_text(str(cause))}")
    return ConnectError(f"WebSocket handshake with {shown} failed: {type(exc).__name__}")


def _reason(exc: OSError) -> str:
    if isinstance(exc, ssl.SSLError):
        return exc.reason or str(exc)
    return exc.strerror or str(exc)


def _lost(exc: BaseException) -> str:
    if isinstance(exc, ConnectionResetError):
        return "the server reset the connection"
    if isinstance(exc, ssl.SSLError):
        return f"the connection broke (TLS: {exc.reason or exc})"
    if isinstance(exc, OSError) and exc.strerror:
        return f"the connection broke ({exc.strerror})"
    return "the connection was lost"


def connect_error(exc: Exception, url: str, timeout: float, stage: str) -> Exception:
    """The ocpp16 error for a failure while connecting to ``url`` (already made safe to show)."""
    if isinstance(exc, socket.gaierror):
        detail = exc.strerror or str(exc)
        return DNSError(f"cannot resolve the host of {url}: {detail}")
    if isinstance(exc, TimeoutError):
        if stage == "upgrade-timeout":
            return ConnectError(
                f"cannot connect to {url}: the WebSocket upgrade did not complete within"
                f" {timeout:g} s"
            )
        return ConnectError(f"cannot connect to {url}: no answer within {timeout:g} s")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TLSError(
            f"TLS handshake with {url} failed: {exc.verify_message or exc.reason}"
            " (give the server's CA with --ca, or --insecure to skip verification)"
        )
    if isinstance(exc, ssl.SSLError):
        if stage == "tls":
            return TLSError(f"TLS handshake with {url} failed: {exc.reason or exc}")
        return ConnectError(
            f"cannot connect to {url}: the server closed the connection ({exc.reason or exc};"
            " does it want a client certificate? --cert, --key)"
        )
    if isinstance(exc, ConnectionRefusedError):
        return RefusedError(f"cannot connect to {url}: connection refused")
    if isinstance(exc, ConnectionResetError | ConnectionAbortedError | BrokenPipeError):
        hint = " (does it want a client certificate? --cert, --key)" if "wss:" in url else ""
        return RefusedError(f"cannot connect to {url}: the server closed the connection{hint}")
    if isinstance(exc, OSError):
        return ConnectError(f"cannot connect to {url}: {exc.strerror or exc}")
    return ConnectError(f"cannot connect to {url}: {type(exc).__name__}: {exc}")
