"""The fuzzer's side of a connection, on ``websockets`` (asyncio): raw frames in and out.

Unlike :mod:`ocpp16.client`, a :class:`Link` sends whatever text or bytes it is given (broken
frames, reused or missing unique ids, several CALLs at once) and waits for the answer to one
unique id at a time, keeping answers to other ids for later. CALLs from the central system are
answered with a random valid response. Every frame in and out is kept, with its time, in a
bounded log: the reproducer files are written from it. Every buffer here is bounded.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import random
import socket
import ssl
import time
from collections import OrderedDict, deque
from typing import Any, Final
from urllib.parse import quote

import attrs
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from ocpp16._generated.actions import ACTIONS
from ocpp16.errors import ConnectError, HandshakeError, RefusedError, TLSError
from ocpp16.frames import CALL, CALLERROR, CALLRESULT, SUBPROTOCOL
from ocpp16.limits import MAX_FRAME_BYTES
from ocpp16.transport import basic_auth_header, connect_error

__all__ = ["LOG_FRAMES", "UNREADABLE_ID", "Link", "Logged", "Reply", "Where", "open_link"]

#: Frames kept per connection for its reproducer (the last ones).
LOG_FRAMES: Final = 64
#: Answers to other unique ids kept while waiting for one.
_EARLY: Final = 64
#: Characters (bytes) of a received frame kept in the log.
_LOGGED_IN: Final = 4096
#: The unique id of a CALLERROR answering a frame whose own id could not be read.
UNREADABLE_ID: Final = "-1"
#: Appended to the password (or used alone) by the wrong-password probes.
_WRONG_SUFFIX: Final = "-not-the-password"


@attrs.frozen
class Where:
    """Where the target is: ``base`` (ws[s]://host:port/path, no identity), the password for
    Basic auth (never printed), the TLS context for wss."""

    base: str
    password: str | None = attrs.field(default=None, repr=False)
    tls: ssl.SSLContext | None = None

    def url(self, identity: str) -> str:
        return f"{self.base}/{quote(identity, safe='')}"

    @property
    def host_port(self) -> tuple[str, int]:
        from urllib.parse import urlsplit

        parts = urlsplit(self.base)
        default = 443 if parts.scheme == "wss" else 80
        return parts.hostname or "127.0.0.1", parts.port or default


@attrs.frozen
class Logged:
    """One frame on a connection: seconds since it opened, ``out`` (we sent) or ``in``."""

    at: float
    direction: str
    data: str | bytes


@attrs.frozen
class Reply:
    """What came back for one unique id: ``answer`` (the frame as parsed), ``timeout`` or
    ``closed`` (``close_code`` set when the peer sent one)."""

    status: str
    frame: Any = None
    elapsed: float = 0.0
    close_code: int | None = None
    text: str = ""  # the answer as received


class Link:
    """One open connection to the target, as a charge point named ``identity``."""

    def __init__(self, ws: ClientConnection, identity: str, rng: random.Random) -> None:
        self.ws = ws
        self.identity = identity
        self.rng = rng
        self.opened = time.monotonic()
        self.log: deque[Logged] = deque(maxlen=LOG_FRAMES)
        self.cs_calls = 0  # CALLs the central system sent us
        self.transactions: deque[int] = deque(maxlen=16)  # ids of our StartTransactions
        self.unreadable: deque[str] = deque(maxlen=8)  # frames that are not OCPP-J
        self._early: OrderedDict[str, tuple[Any, str, float]] = OrderedDict()
        self.closed_code: int | None = None
        self.closed = False
        self.generation = 0  # the run's count of target restarts when this was opened

    def _note(self, direction: str, data: str | bytes) -> None:
        self.log.append(Logged(time.monotonic() - self.opened, direction, data))

    async def send(self, data: str | bytes) -> bool:
        """Send one frame; False when the connection is closed."""
        if self.closed:
            return False
        self._note("out", data)
        try:
            await self.ws.send(data)
        except ConnectionClosed as exc:
            self._lost(exc)
            return False
        return True

    @property
    def closed_how(self) -> str:
        """How the connection was closed, for a finding: "with code 1011", or "without a
        closing handshake (1006)" when no close frame came (the peer vanished or aborted)."""
        code = self.closed_code
        return "without a closing handshake (1006)" if code is None else f"with code {code}"

    def _lost(self, exc: ConnectionClosed) -> None:
        self.closed = True
        self.closed_code = exc.rcvd.code if exc.rcvd is not None else None

    async def wait(self, unique_id: str, timeout: float, since: float | None = None) -> Reply:
        """The answer to ``unique_id`` (``"*"``: the next answer to anything), read until
        ``timeout`` seconds have passed."""
        started = time.monotonic() if since is None else since
        early = self._early.pop(unique_id, None) if unique_id != "*" else None
        if early is None and unique_id == "*" and self._early:
            early = self._early.popitem(last=False)[1]
        if early is not None:
            return Reply("answer", early[0], early[2] - started, text=early[1])
        if self.closed:
            return Reply("closed", close_code=self.closed_code)
        deadline = started + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Reply("timeout", elapsed=timeout)
            try:
                async with asyncio.timeout(remaining):
                    message = await self.ws.recv()
            except TimeoutError:
                return Reply("timeout", elapsed=timeout)
            except ConnectionClosed as exc:
                self._lost(exc)
                elapsed = time.monotonic() - started
                return Reply("closed", elapsed=elapsed, close_code=self.closed_code)
            now = time.monotonic()
            # What came in is logged for the record only: cut, so a hostile peer's big frames
            # are not kept 64 at a time.
            self._note("in", message[:_LOGGED_IN])
            text = message if isinstance(message, str) else message.decode("utf-8", "replace")
            frame = _parse(text)
            if not isinstance(frame, list) or len(frame) < 3 or frame[0] not in (2, 3, 4):
                self.unreadable.append(text[:4096])
                continue
            if frame[0] == CALL:
                await self._answer_cs(frame)
                continue
            answer_id = frame[1] if isinstance(frame[1], str) else ""
            # A CALLERROR under the id "-1" refuses a frame whose own id could not be read
            # (too deep to parse, say): it answers the one we wait for.
            if unique_id in ("*", answer_id) or (answer_id == UNREADABLE_ID and frame[0] == 4):
                self._remember(frame)
                return Reply("answer", frame, now - started, text=text)
            if len(text) > _LOGGED_IN:  # only its kind is ever looked at later
                frame, text = frame[:2], text[:_LOGGED_IN]
            self._early[answer_id] = (frame, text, now)
            while len(self._early) > _EARLY:
                self._early.popitem(last=False)

    def wait_early(self, unique_id: str) -> Any:
        """An answer to ``unique_id`` that already arrived (None: none did); no waiting."""
        early = self._early.pop(unique_id, None)
        return None if early is None else early[0]

    def _remember(self, frame: list[Any]) -> None:
        if frame[0] == CALLRESULT and isinstance(frame[2], dict):
            tx = frame[2].get("transactionId")
            if type(tx) is int:
                self.transactions.append(tx)

    async def _answer_cs(self, frame: list[Any]) -> None:
        self.cs_calls += 1
        action = ACTIONS.get(frame[2]) if isinstance(frame[2], str) else None
        if len(frame) != 4 or not isinstance(frame[1], str):
            return
        if action is None or not action.sender.central_system_sends:
            reply = [CALLERROR, frame[1], "NotImplemented", "", {}]
        else:
            reply = [CALLRESULT, frame[1], action.response.random(rng=self.rng).to_dict()]
        await self.send(json.dumps(reply))

    async def close(self) -> None:
        self.closed = True
        try:
            async with asyncio.timeout(2):
                await self.ws.close()
        except Exception:  # closing is best effort: whatever went wrong, abort
            self.ws.transport.abort()


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


async def open_link(
    where: Where, identity: str, timeout: float, *, auth: str = "given", seed: int = 0
) -> Link:
    """Connect as ``identity``; ``auth`` "given" (the password, if any), "none" (no
    credentials) or "wrong" (a wrong password). ConnectError (RefusedError, HandshakeError
    with the HTTP status, TLSError) when the connection cannot be opened."""
    headers: dict[str, str] = {}
    if auth == "given" and where.password is not None:
        headers = {"Authorization": basic_auth_header(identity, where.password)}
    elif auth == "wrong":
        wrong = (where.password or "") + _WRONG_SUFFIX
        headers = {"Authorization": basic_auth_header(identity, wrong)}
    url = where.url(identity)
    try:
        ws = await connect(
            url,
            subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
            additional_headers=headers,
            ssl=where.tls if url.startswith("wss:") else None,
            open_timeout=timeout,
            ping_interval=None,
            close_timeout=2,
            max_size=MAX_FRAME_BYTES,
            max_queue=64,
            compression=None,
            proxy=None,
            user_agent_header="ocpp16-fuzz",
        )
    except InvalidStatus as exc:
        status = exc.response.status_code
        raise HandshakeError(status, f"{url}: HTTP {status} on the upgrade") from None
    except InvalidHandshake as exc:
        raise ConnectError(f"{url}: handshake failed: {exc}") from None
    except ssl.SSLError as exc:
        raise TLSError(f"{url}: TLS failed: {exc.reason or exc}") from None
    except TimeoutError:
        raise ConnectError(f"{url}: no connection within {timeout:g} s") from None
    except socket.gaierror as exc:  # its errno is no OS error: os.strerror says "Unknown error"
        raise connect_error(exc, url, timeout, "") from None
    except OSError as exc:
        refused = isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED
        why = "connection refused" if refused else os.strerror(exc.errno) if exc.errno else exc
        raise RefusedError(f"cannot connect to {url}: {why}") from None
    if ws.subprotocol != SUBPROTOCOL:
        await ws.close()
        raise ConnectError(f"{url}: the server did not agree to {SUBPROTOCOL}")
    return Link(ws, identity, random.Random(seed))
