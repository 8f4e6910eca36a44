"""Bytes over TCP and TLS, every wait bounded by a deadline. No WebSocket in here.

Deadlines are absolute (``time.perf_counter()`` values, ``math.inf`` for none), so connecting
(DNS, TCP, TLS) and each read or write is bounded as a whole, not per system call: a peer that
dribbles a byte a second cannot stretch them. Past its deadline a call raises TimeoutError.

The socket is non-blocking and one thread may read while another writes (the client's reader
thread reads while a caller sends). TLS therefore runs over memory BIOs: OpenSSL objects must
not be used by two threads at once, so each TLS step runs under a lock while the socket I/O,
which may wait, happens outside it.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import math
import select
import socket
import ssl
import threading
from time import perf_counter
from typing import Any, Final

__all__ = ["Wire", "open_tcp", "resolve"]

#: Bytes read at once: whatever has arrived, up to this.
_READ_AHEAD: Final = 65536
_POLL: Final = hasattr(select, "poll")
_IN_PROGRESS: Final = {errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN, errno.EALREADY}

AddrInfo = tuple[Any, ...]


def _left(deadline: float) -> float:
    left = deadline - perf_counter()
    if left <= 0:
        raise TimeoutError("deadline passed")
    return left


def resolve(host: str, port: int, deadline: float) -> list[AddrInfo]:
    """The addresses of ``host``; socket.gaierror when it does not resolve, TimeoutError when
    the resolver does not answer before ``deadline`` (getaddrinfo has no timeout of its own, so
    it runs in a helper thread that is left behind)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[AddrInfo] = []
    failure: list[BaseException] = []

    def lookup() -> None:
        try:
            found.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as exc:  # handed to the caller
            failure.append(exc)

    helper = threading.Thread(target=lookup, name="ocpp16 DNS", daemon=True)
    helper.start()
    helper.join(_left(deadline))
    if helper.is_alive():
        raise TimeoutError("the resolver did not answer")
    if failure:
        raise failure[0]
    return found


def open_tcp(addresses: list[AddrInfo], deadline: float) -> socket.socket:
    """A connected non-blocking TCP socket to the first address that accepts."""
    error: OSError = ConnectionRefusedError(errno.ECONNREFUSED, "connection refused")
    for family, kind, proto, _, address in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            code = sock.connect_ex(address)
            if code in _IN_PROGRESS:
                _wait(sock, True, deadline)
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                raise OSError(code, errno.errorcode.get(code, str(code)))
        except TimeoutError:
            sock.close()
            raise
        except OSError as exc:
            sock.close()
            error = ConnectionRefusedError(*exc.args) if exc.errno == errno.ECONNREFUSED else exc
            continue
        # Small frames go out at once (each CALL waits for its answer anyway).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise error


def _wait(sock: socket.socket, write: bool, deadline: float) -> None:
    """Until ``sock`` can be read (or written), or closed; TimeoutError at ``deadline``."""
    while True:
        left = _left(deadline)
        try:
            if _POLL:
                poller = select.poll()
                poller.register(sock, select.POLLOUT if write else select.POLLIN)
                ready = bool(poller.poll(None if left == math.inf else math.ceil(left * 1000)))
            else:  # Windows
                timeout = None if left == math.inf else left
                r, w, x = select.select(
                    [] if write else [sock], [sock] if write else [], [sock], timeout
                )
                ready = bool(r or w or x)
        except ValueError:  # closed by another thread: fileno() is -1
            raise OSError(errno.EBADF, "the socket is closed") from None
        if ready:
            return


class Wire:
    """A connected socket, optionally with TLS: read whatever arrived, write everything."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._tls: ssl.SSLObject | None = None
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls_lock = threading.Lock()

    def start_tls(self, context: ssl.SSLContext, host: str, deadline: float) -> None:
        """The TLS handshake (ssl errors as they are, TimeoutError at ``deadline``)."""
        tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=host)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._send_raw(self._outgoing.read(), deadline)
                data = self._recv_raw(deadline)
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()
        self._send_raw(self._outgoing.read(), deadline)
        self._tls = tls

    def read(self, deadline: float) -> bytes:
        """What has arrived (at most 64 KiB), waiting for some until ``deadline``; b"" at the end
        of the stream."""
        tls = self._tls
        if tls is None:
            return self._recv_raw(deadline)
        while True:
            with self._tls_lock:
                try:
                    return tls.read(_READ_AHEAD)
                except ssl.SSLWantReadError:
                    pass
                except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                    return b""
            data = self._recv_raw(deadline)
            with self._tls_lock:
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()

    def write(self, data: bytes, deadline: float) -> None:
        """Send all of ``data`` by ``deadline`` (TimeoutError otherwise: part may have gone).
        One writer at a time: the caller serializes writes."""
        if self._tls is not None:
            with self._tls_lock:
                self._tls.write(data)
                data = self._outgoing.read()
        self._send_raw(data, deadline)

    def _recv_raw(self, deadline: float) -> bytes:
        sock = self.sock
        _wait(sock, False, deadline)
        while True:
            try:
                return sock.recv(_READ_AHEAD)
            except (BlockingIOError, InterruptedError):
                _wait(sock, False, deadline)

    def _send_raw(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        sock = self.sock
        while view:
            try:
                sent = sock.send(view)
            except (BlockingIOError, InterruptedError):
                sent = 0
            view = view[sent:]
            if view:
                _wait(sock, True, deadline)

    def shutdown(self, how: int = socket.SHUT_RDWR) -> None:
        """Stop the stream (a read waiting in another thread returns b"" at once); idempotent."""
        with contextlib.suppress(OSError):  # not connected any more, or closed already
            self.sock.shutdown(how)

    def close(self) -> None:
        self.shutdown()
        self.sock.close()
