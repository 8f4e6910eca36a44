"""ocpp16.transport: URLs, the ocpp1.6 subprotocol, Basic auth, TLS, and failures as our errors."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

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
from ocpp16.transport import Connection, Endpoint, endpoint, tls_context
from tests.loopback import ServerThread, Tls, scripted

SECRET = "s3cret-Pa55word"


def echo(frame: Any) -> list[str]:
    return [json.dumps(frame)]


@pytest.fixture
def echo_server() -> Iterator[ServerThread]:
    with ServerThread(scripted(echo)) as server:
        yield server


@pytest.fixture
def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# URLs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "identity", "expected"),
    [
        ("ws://cs:9000/ocpp/CP1", None, Endpoint("ws://cs:9000/ocpp/CP1", "CP1")),
        ("wss://cs/ocpp/CP1", None, Endpoint("wss://cs/ocpp/CP1", "CP1")),
        ("http://cs:9000/CP1", None, Endpoint("ws://cs:9000/CP1", "CP1")),
        ("https://cs/ocpp/CP1", None, Endpoint("wss://cs/ocpp/CP1", "CP1")),
        ("HTTP://cs:9000/CP1", None, Endpoint("ws://cs:9000/CP1", "CP1")),
        ("  ws://cs/CP1  ", None, Endpoint("ws://cs/CP1", "CP1")),
        ("ws://cs/ocpp/CP%201", None, Endpoint("ws://cs/ocpp/CP%201", "CP 1")),
        ("ws://cs/ocpp/CP1/", None, Endpoint("ws://cs/ocpp/CP1/", "CP1")),
        ("ws://cs:9000/ocpp", "CP1", Endpoint("ws://cs:9000/ocpp/CP1", "CP1")),
        ("ws://cs:9000/ocpp/", "CP1", Endpoint("ws://cs:9000/ocpp/CP1", "CP1")),
        ("ws://cs:9000", "CP1", Endpoint("ws://cs:9000/CP1", "CP1")),
        ("ws://cs/ocpp", "CP 1/ä#?", Endpoint("ws://cs/ocpp/CP%201%2F%C3%A4%23%3F", "CP 1/ä#?")),
        ("ws://cs/ocpp/CP1", "CP1", Endpoint("ws://cs/ocpp/CP1", "CP1")),
        ("ws://cs/ocpp/CP1", "CP2", Endpoint("ws://cs/ocpp/CP1/CP2", "CP2")),
        ("ws://cs/ocpp?token=x", "CP1", Endpoint("ws://cs/ocpp/CP1?token=x", "CP1")),
        ("ws://[::1]:9000/CP1", None, Endpoint("ws://[::1]:9000/CP1", "CP1")),
    ],
)
def test_endpoint_maps_scheme_and_places_identity(
    url: str, identity: str | None, expected: Endpoint
) -> None:
    assert endpoint(url, identity) == expected


@pytest.mark.parametrize(
    ("url", "identity", "message"),
    [
        ("ftp://cs/CP1", None, "use a ws://, wss://, http:// or https:// URL"),
        ("cs:9000/CP1", None, "use a ws://, wss://, http:// or https:// URL"),
        ("ws:///CP1", None, "no host"),
        ("ws://cs:99999/CP1", None, "invalid URL"),
        ("ws://cs:port/CP1", None, "invalid URL"),
        ("ws://cs:9000/", None, "no charge point identity"),
        ("ws://cs:9000", None, "no charge point identity"),
        ("ws://cs/ocpp", "", "identity is empty"),
        (f"ws://CP1:{SECRET}@cs/CP1", None, "credentials in the URL are not supported"),
        (f"ws://CP1:{SECRET}@cs:99999/CP1", None, r"invalid URL 'ws://\*\*\*@cs:99999/CP1'"),
        (f"ftp://CP1:{SECRET}@cs/CP1", None, r"invalid URL 'ftp://\*\*\*@cs/CP1'"),
        (f"ws://CP1:{SECRET}@:9000/", None, "no host"),
        (f"CP1:{SECRET}@cs/CP1", None, r"invalid URL '\*\*\*@cs/CP1'"),
        (f"ws://CP1:{SECRET}@cs:x/\x1b[31m", None, r"'ws://\*\*\*@cs:x/\\x1b\[31m'"),
    ],
)
def test_endpoint_rejects_what_it_cannot_use(url: str, identity: str | None, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        endpoint(url, identity)
    assert SECRET not in str(caught.value)


# TLS contexts ----------------------------------------------------------------------------------


def test_tls_context_verifies_by_default(tmp_path: Path) -> None:
    tls = Tls(tmp_path)
    context = tls_context(str(tls.ca))
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    insecure = tls_context(insecure=True)
    assert insecure.verify_mode == ssl.CERT_NONE
    assert not insecure.check_hostname


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"ca": "missing.pem"}, "cannot load the CA bundle .*missing.pem"),
        ({"ca": "garbage.pem"}, "cannot load the CA bundle .*garbage.pem"),
        ({"cert": "missing.pem"}, "cannot load the client certificate .*missing.pem"),
        ({"cert": "garbage.pem", "key": "garbage.pem"}, "cannot load the client certificate"),
        ({"key": "garbage.pem"}, r"a client key needs its certificate \(--cert\)"),
    ],
)
def test_tls_context_rejects_files_it_cannot_load(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    (tmp_path / "garbage.pem").write_text("not a certificate\n")
    paths = {name: str(tmp_path / file) for name, file in files.items()}
    with pytest.raises(InputError, match=message):
        tls_context(ca=paths.get("ca"), cert=paths.get("cert"), key=paths.get("key"))


# Opening connections -----------------------------------------------------------------------


def test_open_offers_ocpp16_and_sends_text_both_ways(echo_server: ServerThread) -> None:
    connection = Connection.open(endpoint(echo_server.url()), timeout=5)
    try:
        connection.send('[2,"1","Heartbeat",{}]')
        assert connection.recv(5) == '[2, "1", "Heartbeat", {}]'
    finally:
        connection.close()
    assert connection.closed
    connection.close()  # idempotent


def test_http_url_opens_a_websocket(echo_server: ServerThread) -> None:
    connection = Connection.open(endpoint(echo_server.url(scheme="http")), timeout=5)
    connection.close()


def test_refused(free_port: int) -> None:
    with pytest.raises(RefusedError, match="connection refused") as caught:
        Connection.open(endpoint(f"ws://127.0.0.1:{free_port}/CP1"), timeout=5)
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


def test_dns_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*_: Any, **__: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    with pytest.raises(DNSError, match=r"cannot resolve the host of ws://nowhere\.invalid/CP1"):
        Connection.open(endpoint("ws://nowhere.invalid/CP1"), timeout=5)


def test_silent_server_times_out_the_handshake() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()  # never accepts: the kernel completes TCP, nobody answers HTTP
        port = listener.getsockname()[1]
        with pytest.raises(ConnectError, match=r"upgrade did not complete within 0.2 s"):
            Connection.open(endpoint(f"ws://127.0.0.1:{port}/CP1"), timeout=0.2)


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (HTTPStatus.UNAUTHORIZED, "check the identity and password"),
        (HTTPStatus.NOT_FOUND, "check the URL path and the identity"),
        (HTTPStatus.INTERNAL_SERVER_ERROR, "500 Internal Server Error"),
    ],
)
def test_upgrade_refused_with_http_status(status: HTTPStatus, hint: str) -> None:
    def refuse(connection: ServerConnection, _: Request) -> Response:
        return connection.respond(status, "no\n")

    with (
        ServerThread(scripted(echo), process_request=refuse) as server,
        pytest.raises(HandshakeError, match=hint) as caught,
    ):
        Connection.open(endpoint(server.url()), password=SECRET, timeout=5)
    assert caught.value.status == status
    assert f"HTTP {int(status)}" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_server_without_subprotocol_is_refused() -> None:
    with (
        ServerThread(scripted(echo), subprotocols=None) as server,
        pytest.raises(SubprotocolError, match="it sent no Sec-WebSocket-Protocol"),
    ):
        Connection.open(endpoint(server.url()), timeout=5)


def test_server_choosing_another_subprotocol_is_refused() -> None:
    def other(*_: Any) -> str:
        return "ocpp2.0.1"

    with (
        ServerThread(scripted(echo), select_subprotocol=other) as server,
        pytest.raises(SubprotocolError, match=r"it answered 'ocpp2\.0\.1'"),
    ):
        Connection.open(endpoint(server.url()), timeout=5)


@pytest.mark.parametrize("password", [SECRET, SECRET.encode() + b"\x00\xff"])
def test_basic_auth_sends_identity_and_password(password: str | bytes) -> None:
    seen: list[str | None] = []

    def record(_: ServerConnection, request: Request) -> None:
        seen.append(request.headers.get("Authorization"))

    with ServerThread(scripted(echo), process_request=record) as server:
        where = endpoint(server.url("/ocpp"), "CP 1")
        Connection.open(where, password=password, timeout=5).close()
    secret = password.encode() if isinstance(password, str) else password
    assert seen == ["Basic " + base64.b64encode(b"CP 1:" + secret).decode()]


def test_basic_auth_needs_an_identity_without_colon() -> None:
    with pytest.raises(InputError, match="holds ':', which HTTP Basic auth cannot carry"):
        Connection.open(endpoint("ws://127.0.0.1:9/ocpp", "CP:1"), password=SECRET)


def test_no_password_no_authorization_header() -> None:
    seen: list[str | None] = []

    def record(_: ServerConnection, request: Request) -> None:
        seen.append(request.headers.get("Authorization"))

    with ServerThread(scripted(echo), process_request=record) as server:
        Connection.open(endpoint(server.url()), timeout=5).close()
    assert seen == [None]


# TLS -------------------------------------------------------------------------------------------


def test_tls_with_the_test_ca(tmp_path: Path) -> None:
    tls = Tls(tmp_path)
    with ServerThread(scripted(echo), ssl=tls.server_context()) as server:
        where = endpoint(server.url(scheme="wss"))
        connection = Connection.open(where, tls=tls_context(str(tls.ca)), timeout=5)
        connection.send("[]")
        assert connection.recv(5) == "[]"
        connection.close()


def test_tls_verification_is_on_by_default(tmp_path: Path) -> None:
    tls = Tls(tmp_path)
    with ServerThread(scripted(echo), ssl=tls.server_context()) as server:
        with pytest.raises(
            TLSError,
            match=r"unable to get local issuer certificate \(give the server's CA with --ca",
        ):
            Connection.open(endpoint(server.url(scheme="https")), timeout=5)
        insecure = tls_context(insecure=True)
        Connection.open(endpoint(server.url(scheme="wss")), tls=insecure, timeout=5).close()


def test_tls_client_certificate_profile_3(tmp_path: Path) -> None:
    tls = Tls(tmp_path)
    context = tls.server_context(require_client_cert=True)
    with ServerThread(scripted(echo), ssl=context) as server:
        where = endpoint(server.url(scheme="wss"))
        with_cert = tls_context(str(tls.ca), str(tls.client_cert), str(tls.client_key))
        Connection.open(where, tls=with_cert, timeout=5).close()
        with pytest.raises(ConnectError, match="does it want a client certificate"):
            Connection.open(where, tls=tls_context(str(tls.ca)), timeout=5)


def test_wss_to_a_plain_server_is_a_tls_error(echo_server: ServerThread) -> None:
    with pytest.raises(TLSError, match="TLS handshake"):
        Connection.open(endpoint(echo_server.url(scheme="wss")), timeout=5)


def test_tls_options_need_a_secure_url(echo_server: ServerThread) -> None:
    with pytest.raises(InputError, match="TLS options need a wss:// or https:// URL"):
        Connection.open(endpoint(echo_server.url()), tls=tls_context(insecure=True))


# Receiving -------------------------------------------------------------------------------------


def test_recv_times_out(echo_server: ServerThread) -> None:
    connection = Connection.open(endpoint(echo_server.url()), timeout=5)
    with pytest.raises(CallTimeout, match=r"nothing received within 0.05 s"):
        connection.recv(0.05)
    connection.send("[1]")  # still usable after a timeout
    assert connection.recv(5) == "[1]"
    connection.close()


def test_server_close_is_reported_with_its_code() -> None:
    async def close(connection: ServerConnection) -> None:
        await connection.recv()
        await connection.close(1011, "going away now")

    with ServerThread(close) as server:
        connection = Connection.open(endpoint(server.url()), timeout=5)
        connection.send("[]")
        with pytest.raises(ConnectionClosed, match=r"code 1011: going away now"):
            connection.recv(5)
        with pytest.raises(ConnectionClosed):
            connection.recv(5)
        with pytest.raises(ConnectionClosed, match="cannot send"):
            connection.send("[]")


def test_binary_frames_arrive_as_bytes_and_pings_are_answered() -> None:
    async def ping_then_binary(connection: ServerConnection) -> None:
        await connection.recv()
        pong = await connection.ping()
        await pong  # the client answers while it waits in recv
        await connection.send(b"\x00binary")
        await connection.recv()

    with ServerThread(ping_then_binary) as server:
        connection = Connection.open(endpoint(server.url()), timeout=5)
        connection.send("[]")
        assert connection.recv(5) == b"\x00binary"
        connection.close()


# Raw peers: HTTP and frames exactly as written, whole or in pieces -------------------------


class HttpPeer:
    """A raw TCP server on 127.0.0.1 that reads one HTTP request per connection and hands the
    socket to ``respond``; it stops (and stops dribbling) when the block ends."""

    def __init__(self, respond: Any, tls: ssl.SSLContext | None = None) -> None:
        self.respond = respond
        self.tls = tls
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.requests: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> HttpPeer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(10)
        self.listener.close()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                peer, _ = self.listener.accept()
            except TimeoutError:
                continue
            try:
                if self.tls is not None:
                    peer = self.tls.wrap_socket(peer, server_side=True)
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = peer.recv(4096)
                    if not chunk:
                        break
                    request += chunk
                self.requests.append(request)
                self.respond(peer, request, self.stop)
            except OSError:
                pass
            finally:
                peer.close()


def accept_header(request: bytes) -> bytes:
    key = re.search(rb"Sec-WebSocket-Key: (\S+)", request, re.IGNORECASE)
    assert key is not None
    magic = key.group(1) + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    return b"Sec-WebSocket-Accept: " + base64.b64encode(hashlib.sha1(magic).digest()) + b"\r\n"


def switching(request: bytes) -> bytes:
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Protocol: ocpp1.6\r\n" + accept_header(request) + b"\r\n"
    )


def text_frame(text: str) -> bytes:
    data = text.encode()
    assert len(data) < 126
    return bytes([0x81, len(data)]) + data


@contextmanager
def raw_connection(script: bytes) -> Iterator[Connection]:
    """Our connection to a peer that sends ``script`` after the upgrade; closed after it."""

    def send_script(peer: socket.socket, request: bytes, stop: threading.Event) -> None:
        peer.sendall(switching(request) + script)
        stop.wait(5)

    with HttpPeer(send_script) as peer:
        connection = Connection.open(endpoint(f"ws://127.0.0.1:{peer.port}/CP1"), timeout=5)
        try:
            yield connection
        finally:
            peer.stop.set()
            connection.close()


def test_frames_arriving_together_are_read_one_by_one() -> None:
    with raw_connection(text_frame("[1]") + text_frame("[2]") + bytes([0x82, 1, 0])) as connection:
        assert [connection.recv(5), connection.recv(5), connection.recv(5)] == ["[1]", "[2]", b"\0"]


def test_a_peer_stalling_mid_frame_times_out() -> None:
    # A text frame announcing 300 bytes (16-bit length), of which only 3 arrive.
    with raw_connection(bytes([0x81, 126, 1, 44]) + b"[1,") as connection:
        start = time.perf_counter()
        with pytest.raises(CallTimeout):
            connection.recv(0.2)
        assert 0.2 <= time.perf_counter() - start < 2


def closing_peer(script: bytes, received: list[bytes]) -> HttpPeer:
    """A raw peer that sends ``script`` after the upgrade and records what comes back."""

    def send_script(peer: socket.socket, request: bytes, stop: threading.Event) -> None:
        peer.sendall(switching(request) + script)
        peer.settimeout(5)
        with contextlib.suppress(OSError):
            while chunk := peer.recv(4096):
                received.append(chunk)

    return HttpPeer(send_script)


@pytest.mark.parametrize(
    "script",
    [
        bytes([0x81, 2]) + b"\xff\xfe",
        # The same bytes split over a fragment and its continuation.
        bytes([0x01, 1]) + b"\xff" + bytes([0x80, 1]) + b"\xfe",
        # A valid frame first: it is read, then the invalid one fails the connection.
        text_frame("[1]") + bytes([0x81, 4]) + b'["\xff"',
    ],
    ids=["whole", "fragmented", "after-a-valid-frame"],
)
def test_text_that_is_not_utf8_fails_the_connection_with_1007(script: bytes) -> None:
    received: list[bytes] = []
    with closing_peer(script, received) as peer:
        connection = Connection.open(endpoint(f"ws://127.0.0.1:{peer.port}/CP1"), timeout=5)
        if script.startswith(text_frame("[1]")):
            assert connection.recv(5) == "[1]"
        with pytest.raises(ConnectionClosed, match=r"not UTF-8 .*closed the connection with 1007"):
            connection.recv(5)
        with pytest.raises(ConnectionClosed):
            connection.send("[]")
        connection.close()
    sent = b"".join(received)
    # Our close frame (masked, as a client's must be): opcode 8, then the code 1007.
    assert sent[:1] == b"\x88"
    length = sent[1] & 0x7F
    mask, body = sent[2:6], sent[6 : 6 + length]
    unmasked = bytes(b ^ mask[i % 4] for i, b in enumerate(body))
    assert int.from_bytes(unmasked[:2], "big") == 1007


# Hostile servers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "tail"),
    [
        (301, ""),
        (302, ""),
        (307, ""),
        (308, ""),
        # websockets refuses a header value holding ESC and quotes it: redacted all the same.
        (302, "\x1b[31m"),
        (302, "?next=http://u:" + SECRET + "@x/"),
        (302, "?next=//u:p@" + SECRET + " \x1b@x/"),
    ],
)
def test_redirects_are_refused_and_credentials_stay(status: int, tail: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as capture:
        capture.setblocking(False)
        port = capture.getsockname()[1]
        elsewhere = f"ws://CP1:{SECRET}@127.0.0.1:{port}/ocpp/CP1{tail}"

        def redirect(peer: socket.socket, _: bytes, __: threading.Event) -> None:
            peer.sendall(
                f"HTTP/1.1 {status} Moved\r\nLocation: {elsewhere}\r\n"
                "Content-Length: 0\r\n\r\n".encode()
            )

        with HttpPeer(redirect) as peer, pytest.raises(ConnectError) as caught:
            Connection.open(endpoint(f"ws://127.0.0.1:{peer.port}/CP1"), password=SECRET)
        with pytest.raises(BlockingIOError):
            capture.accept()  # nobody came
    message = str(caught.value)
    assert SECRET not in message
    assert "\x1b" not in message
    if "\x1b" in tail:  # a header websockets refuses: quoted escaped, credentials redacted
        assert f"invalid HTTP header value: ws://***@127.0.0.1:{port}/ocpp/CP1" in message
        return
    assert isinstance(caught.value, HandshakeError)
    assert caught.value.status == status
    assert f"redirects to ws://***@127.0.0.1:{port}/ocpp/CP1" in message
    assert "not followed" in message


def dribble(peer: socket.socket, request: bytes, stop: threading.Event) -> None:
    for byte in switching(request):
        if stop.wait(0.05):
            return
        peer.sendall(bytes([byte]))


def flood_headers(peer: socket.socket, request: bytes, stop: threading.Event) -> None:
    peer.sendall(b"HTTP/1.1 101 Switching Protocols\r\n")
    for _ in range(100):
        if stop.is_set():
            return
        peer.sendall(b"X-Flood: 1\r\n" * 1000)


def long_header(peer: socket.socket, request: bytes, stop: threading.Event) -> None:
    peer.sendall(b"HTTP/1.1 101 Switching Protocols\r\nX-Long: " + b"a" * 100_000)


@pytest.mark.parametrize(
    ("respond", "message"),
    [
        (dribble, r"the WebSocket upgrade did not complete within 0\.3 s"),
        (flood_headers, r"oversized answer to the WebSocket upgrade: .*128 headers"),
        (long_header, r"oversized answer to the WebSocket upgrade: .*no more than 8192 bytes"),
    ],
)
def test_the_upgrade_is_bounded_in_time_and_size(respond: Any, message: str) -> None:
    # The dribble alone would take 8 s (160 bytes, one each 50 ms): the deadline stops it.
    with HttpPeer(respond) as peer, pytest.raises(ConnectError, match=message):
        Connection.open(endpoint(f"ws://127.0.0.1:{peer.port}/CP1"), timeout=0.3)


@pytest.mark.parametrize("fragmented", [False, True], ids=["one frame", "fragments"])
def test_a_message_over_max_frame_closes_with_1009(fragmented: bool) -> None:
    codes: list[int | None] = []

    async def big(connection: ServerConnection) -> None:
        await connection.recv()
        if fragmented:
            await connection.send(["x" * 600, "x" * 600])
        else:
            await connection.send("x" * 1200)
        await connection.wait_closed()
        codes.append(connection.close_code)

    with ServerThread(big, max_size=None) as server:
        connection = Connection.open(endpoint(server.url()), timeout=5, max_frame=1000)
        connection.send("[]")
        with pytest.raises(ConnectionClosed, match=r"over the 1,000-byte limit .*1009"):
            connection.recv(5)
        connection.close()
    assert codes == [1009]


def test_max_frame_must_be_positive(echo_server: ServerThread) -> None:
    with pytest.raises(InputError, match="at least 1 byte"):
        Connection.open(endpoint(echo_server.url()), max_frame=0)


def test_a_tls_send_the_peer_never_reads_ends_at_its_deadline(tmp_path: Path) -> None:
    tls = Tls(tmp_path)

    def never_read(peer: socket.socket, request: bytes, stop: threading.Event) -> None:
        peer.sendall(switching(request))
        stop.wait(10)

    with HttpPeer(never_read, tls=tls.server_context()) as peer:
        where = endpoint(f"wss://127.0.0.1:{peer.port}/CP1")
        connection = Connection.open(where, tls=tls_context(str(tls.ca)), timeout=5)
        megabyte = "x" * 1_000_000
        with pytest.raises(CallTimeout, match=r"could not send within 0\.2 s"):
            for _ in range(100):  # the socket buffers fill within a few
                connection.send(megabyte, timeout=0.2)
        assert connection.closed
        with pytest.raises(ConnectionClosed):
            connection.send("[]")
        connection.close()


def test_close_ends_a_recv_waiting_in_another_thread(echo_server: ServerThread) -> None:
    connection = Connection.open(endpoint(echo_server.url()), timeout=5)
    outcome: list[BaseException] = []

    def wait() -> None:
        try:
            connection.recv(60)
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=wait)
    reader.start()
    time.sleep(0.1)  # the reader is waiting by now (the test passes either way)
    connection.close()
    reader.join(10)
    assert not reader.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], ConnectionClosed)


def test_repr_hides_nothing_secret_and_escapes() -> None:
    where = endpoint("ws://cs/ocpp", "CP\x1b[31m")
    assert repr(where) == "Endpoint(url='ws://cs/ocpp/CP%1B%5B31m', identity='CP\\x1b[31m')"
