"""Loopback peers for the charge point client: ``websockets`` servers in a background thread.

:class:`ServerThread` runs ``websockets.asyncio.server.serve`` on 127.0.0.1, on a free port, in a
thread with its own event loop, and stops it on exit. Handlers are plain coroutines; the helpers
below make the usual ones: a scripted peer (:func:`scripted`) and the `ocpp` package's
ChargePoint as a central system that takes all 28 actions (:class:`OcppCentralSystem`), and
certificates made with trustme (:class:`Tls`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import threading
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, Self

import trustme
from ocpp.charge_point import camel_to_snake_case
from ocpp.v16 import ChargePoint, call_result
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from ocpp16 import ACTIONS

__all__ = [
    "CentralSystemThread",
    "OcppCentralSystem",
    "ServerThread",
    "Tls",
    "answer",
    "scripted",
]

Handler = Callable[[ServerConnection], Awaitable[None]]
#: What a scripted peer sends back for one frame it received (the frame parsed as JSON).
Script = Callable[[Any], Iterable[str | bytes]]


class ServerThread:
    """A ``websockets`` server on 127.0.0.1 in a background thread, for a ``with`` block.

    ``received`` holds every message the server got, in order, as text.
    """

    def __init__(self, handler: Handler, **options: Any) -> None:
        self.handler = handler
        self.options: dict[str, Any] = {"subprotocols": ["ocpp1.6"], **options}
        self.received: list[str | bytes] = []
        self.port = 0
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="loopback server", daemon=True)

    def url(self, path: str = "/ocpp/CP1", scheme: str = "ws") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the loopback server did not start within 10 s")
        if self._failure is not None:
            raise self._failure
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        assert not self._thread.is_alive(), "the loopback server did not stop within 10 s"

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to the test thread by __enter__
            self._failure = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()

        async def handle(connection: ServerConnection) -> None:
            with contextlib.suppress(ConnectionClosed):
                await self.handler(connection)

        async with serve(handle, "127.0.0.1", 0, **self.options) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop.wait()


def scripted(script: Script, log: list[str | bytes] | None = None) -> Handler:
    """A handler that answers each message with what ``script`` makes of it (parsed as JSON)."""

    async def handler(connection: ServerConnection) -> None:
        async for message in connection:
            if log is not None:
                log.append(message)
            for reply in script(json.loads(message)):
                await connection.send(reply)

    return handler


def answer(frame: Any, payload: Any = None) -> str:
    """The CALLRESULT text answering the CALL ``frame``: ``payload``, or a random valid one."""
    if payload is None:
        payload = ACTIONS[frame[2]].response.random().to_dict()
    return json.dumps([3, frame[1], payload])


class OcppCentralSystem:
    """The `ocpp` package's v16 ChargePoint, serving as a central system that takes every action.

    A handler for each of the 28 actions is registered, so the package validates every CALL
    against its copy of the official schemas before the handler runs: an action in ``handled``
    arrived valid (an invalid one gets a CALLERROR and never reaches its handler). Handlers answer
    with a random valid response. ``frames`` holds the raw CALL frames received, parsed.
    """

    def __init__(self) -> None:
        self.frames: list[list[Any]] = []
        self.handled: list[tuple[str, str]] = []  # (action, unique id) in arrival order

    async def handler(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        identity = connection.request.path.rpartition("/")[2]
        await _RecordingCentralSystem(identity, connection, self).start()


class _RecordingCentralSystem(ChargePoint):  # type: ignore[misc]  # ocpp is untyped
    def __init__(self, identity: str, connection: Any, sink: OcppCentralSystem) -> None:
        super().__init__(identity, connection, response_timeout=5)
        self.sink = sink
        for name in ACTIONS:
            self.route_map[name] = {"_on_action": self._handler(name)}

    async def route_message(self, raw_msg: str) -> None:
        self.sink.frames.append(json.loads(raw_msg))
        await super().route_message(raw_msg)

    def _handler(self, name: str) -> Callable[..., Any]:
        def handle(call_unique_id: str, **_: Any) -> Any:
            self.sink.handled.append((name, call_unique_id))
            payload = ACTIONS[name].response.random(full=True).to_dict()
            return getattr(call_result, name)(**camel_to_snake_case(payload))

        return handle


class Tls:
    """A CA made for the test, a server certificate for 127.0.0.1 and a client certificate.

    ``ca``, ``client_cert`` and ``client_key`` are PEM files under ``folder``.
    """

    def __init__(self, folder: Path) -> None:
        self.authority = trustme.CA()
        self.ca = folder / "ca.pem"
        self.client_cert = folder / "client.pem"
        self.client_key = folder / "client.key"
        self.authority.cert_pem.write_to_path(str(self.ca))
        client = self.authority.issue_cert("CP1")
        client.cert_chain_pems[0].write_to_path(str(self.client_cert))
        client.private_key_pem.write_to_path(str(self.client_key))
        self._server = self.authority.issue_cert("127.0.0.1", "localhost")

    def server_context(self, require_client_cert: bool = False) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._server.configure_cert(context)
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            self.authority.configure_trust(context)
        return context


class CentralSystemThread:
    """ocpp16's own CentralSystem serving on 127.0.0.1 (a free port) in a background thread."""

    def __init__(self, central_system: Any) -> None:
        self.central_system = central_system
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="ocpp16 server", daemon=True)

    def url(self, identity: str = "CP1") -> str:
        return f"ws://127.0.0.1:{self.port}{self.central_system.path}/{identity}"

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the ocpp16 server did not start within 10 s")
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        assert not self._thread.is_alive(), "the ocpp16 server did not stop within 10 s"

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with self.central_system.serve("127.0.0.1", 0) as server:
            self.port = server.port
            self._ready.set()
            await self._stop.wait()
