"""Simulated charge points on asyncio: a :class:`~ocpp16.station.Station` and its connection.

::

    import asyncio
    from ocpp16.sim import SimulatedChargePoint

    cp = SimulatedChargePoint("ws://localhost:9000/ocpp", "CP001", connectors=2, speed=60)
    result = asyncio.run(cp.run(duration=30))  # 30 s of wall time, 30 simulated minutes
    print(result.ok, cp.station.snapshot())

:class:`SimulatedChargePoint` drives one Station exactly as its docstring says: it connects
(``ocpp1.6`` checked, Basic auth, TLS, a frame cap, redirects refused), polls, sends the due Calls
one at a time over an :class:`ocpp16._aio.AioConnection` (which reads at all times and answers
the central system's CALLs with ``Station.handle_call``), hands each answer back, and sleeps
until ``next_wakeup`` or until something arrives. A Reconnect (a reset, a firmware update, a plan's
network loss) closes the connection and connects again after its offline time; a lost
connection is retried with exponential backoff and jitter (``reconnect_delay``). Every wait is
bounded: connecting and each CALL by ``timeout``, the whole run by ``duration``.

``speed`` runs the simulated clock faster: simulated time is ``start + elapsed * speed``, so the
station's timers (heartbeat, meter samples, offline times, backoff) pass ``speed`` times faster in
wall time; CALL timeouts stay in wall seconds. A run is one task and holds no thread, so
:func:`run_fleet` (and the load command) runs thousands in one event loop.

Every frame both ways is validated: the central system's CALLs by the generated classes (an
invalid one is answered with the fitting CALLERROR), its answers against the response schema
(every violation with its path and constraint). :class:`SimResult` counts frames and keeps the
problems; ``ok`` is True when every exchange was valid.
"""

from __future__ import annotations

import asyncio
import random
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

import attrs
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidHandshake
from websockets.typing import Subprotocol

from ocpp16 import _dispatch
from ocpp16._action import Sender
from ocpp16._aio import AioConnection, Outcome
from ocpp16._events import FrameEvent
from ocpp16._generated.boot_notification import BootNotificationResponse
from ocpp16._generated.heartbeat import HeartbeatResponse
from ocpp16._model import Model
from ocpp16._text import printable, shorten
from ocpp16.errors import (
    CallTimeout,
    ConnectError,
    ConnectionClosed,
    InputError,
    OcppError,
    SubprotocolError,
)
from ocpp16.frames import SUBPROTOCOL
from ocpp16.limits import MAX_FRAME_BYTES, MAX_RECEIVED_FRAMES, MAX_UNSENT_BYTES
from ocpp16.station import Call, PlanEvent, Reconnect, Station, StationEvent, reconnect_delay
from ocpp16.station.plan import schedule_plan
from ocpp16.transport import basic_auth_header, connect_error, endpoint, handshake_error, safe_url

__all__ = ["MAX_PROBLEMS", "SimResult", "SimulatedChargePoint", "run_fleet"]

#: Problems (invalid frames) a result keeps; the rest are only counted.
MAX_PROBLEMS: Final = 100
#: Most a driver sleeps at once (wall seconds): a safety net; stop() and frames wake it at once.
_MAX_NAP: Final = 30.0
#: Fastest simulated clock allowed.
MAX_SPEED: Final = 10_000.0


@dataclass
class SimResult:
    """What happened in a run: frames, connections, and the invalid frames seen (``problems``)."""

    identity: str
    frames_in: int = 0
    frames_out: int = 0
    connections: int = 0
    problem_count: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every exchange was valid (frames both ways fit their schemas)."""
        return self.problem_count == 0

    def problem(self, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(printable(shorten(text)))


class _Connect(ws_connect):
    """``websockets``' connect, refusing redirects: Basic auth must never go elsewhere."""

    def process_redirect(self, exc: Exception) -> Exception | str:
        return exc


class SimulatedChargePoint:
    """One simulated charge point: a Station and its connection, runnable as a task.

    ``url`` and ``identity`` as :func:`ocpp16.connect` takes them; ``connectors``, ``vendor``,
    ``model``, ``config`` (KEY: VALUE overrides) describe the station; ``plan`` is a list of
    PlanEvents (:func:`ocpp16.station.load_plan`, :func:`~ocpp16.station.auto_sessions`);
    ``seed`` makes the run repeatable; ``speed`` scales the simulated clock; ``timeout`` bounds
    connecting and each CALL (wall seconds); ``on_frame`` gets every frame (a FrameEvent stamped
    with simulated time), ``on_event`` every StationEvent. ``must_connect``: the first
    connection failing raises ConnectError instead of being retried.

    For fleets (``ocpp16.load``): ``on_exchange(call, elapsed, outcome)`` gets every CALL of
    ours with the wall seconds it took and what came of it; ``on_connect(elapsed, error)`` every
    connection attempt (error None when it opened); while ``reachable()`` is False, connecting
    fails at once as with no network (a simulated outage; see also :meth:`cut`). ``max_nap``:
    the longest wait between two polls of the station (wall seconds) when nothing is due; a
    fleet of thousands raises it, since the station's next wake-up, frames, :meth:`nudge` and
    :meth:`stop` end a wait anyway. ``compression``: offer permessage-deflate, or not (None, the
    default: its zlib state is some 50 KiB per connection, more than the rest of a simulated
    charge point).
    ``ping_interval``: seconds between our WebSocket pings (None: none; the central system's
    are answered either way).
    """

    def __init__(
        self,
        url: str,
        identity: str | None = None,
        *,
        connectors: int = 1,
        vendor: str = "ocpp16",
        model: str = "sim",
        config: dict[str, str] | None = None,
        password: str | None = None,
        tls: ssl.SSLContext | None = None,
        plan: Iterable[PlanEvent] = (),
        seed: int | None = None,
        speed: float = 1.0,
        timeout: float = 30.0,
        max_frame: int = MAX_FRAME_BYTES,
        start: datetime | None = None,
        on_frame: Callable[[FrameEvent], None] | None = None,
        on_event: Callable[[StationEvent], None] | None = None,
        must_connect: bool = True,
        on_exchange: Callable[[Call, float, Outcome], None] | None = None,
        on_connect: Callable[[float, ConnectError | None], None] | None = None,
        reachable: Callable[[], bool] | None = None,
        max_nap: float = _MAX_NAP,
        compression: Literal["deflate"] | None = None,
        ping_interval: float | None = 20.0,
    ) -> None:
        self.endpoint = endpoint(url, identity)
        if tls is not None and not self.endpoint.secure:
            raise InputError(
                f"TLS options need a wss:// or https:// URL, not {safe_url(self.endpoint.url)}"
            )
        if not 0 < speed <= MAX_SPEED:
            raise InputError(f"--speed: expected above 0 and at most {MAX_SPEED:g}, got {speed:g}")
        if timeout <= 0:
            raise InputError(f"the timeout must be above 0 s, not {timeout:g}")
        if max_frame < 1:
            raise InputError(f"the frame size limit must be at least 1 byte, not {max_frame}")
        self._authorization = None
        if password is not None:
            if ":" in self.endpoint.identity:
                raise InputError(
                    f"the identity '{printable(self.endpoint.identity)}' holds ':', which HTTP"
                    " Basic auth cannot carry"
                )
            self._authorization = basic_auth_header(self.endpoint.identity, password)
        self.tls = tls
        self.speed = speed
        self.timeout = timeout
        self.max_frame = max_frame
        self.start = start or datetime.now(UTC)
        self.station = Station(
            self.endpoint.identity,
            now=self.start,
            connectors=connectors,
            vendor=vendor,
            model=model,
            config=config,
            rng=random.Random(seed),  # the backoff's jitter draws from it too
        )
        schedule_plan(self.station, list(plan), self.start)
        self.on_frame = on_frame
        self.on_event = on_event
        self.must_connect = must_connect
        self.on_exchange = on_exchange
        self.on_connect = on_connect
        self.reachable = reachable
        self.max_nap = max_nap
        self.compression = compression
        self.ping_interval = ping_interval
        self.result = SimResult(self.endpoint.identity)
        self.connection: AioConnection | None = None
        # The loop's clock and its reading at the start: now() reads them from any thread (a
        # live view refreshes from its own).
        self._loop: asyncio.AbstractEventLoop | None = None
        self._t0 = 0.0
        self._wake = asyncio.Event()
        self._stopping = False
        self._cutting = False

    def __repr__(self) -> str:
        return f"<SimulatedChargePoint '{printable(self.identity)}' at {safe_url(self.url)}>"

    @property
    def identity(self) -> str:
        return self.endpoint.identity

    @property
    def url(self) -> str:
        return self.endpoint.url

    # The clock ---------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The simulated time: the start plus the wall time elapsed times ``speed``."""
        if self._loop is None:
            return self.start
        elapsed = self._loop.time() - self._t0
        return self.start + timedelta(seconds=elapsed * self.speed)

    def nudge(self) -> None:
        """Something changed outside (a user's ``station.plug_in``): poll now."""
        self._wake.set()

    def stop(self) -> None:
        """End the run: the connection closes (1000) and :meth:`run` returns."""
        self._stopping = True
        self._wake.set()

    def cut(self) -> None:
        """Lose the connection as a network failure does: no closing handshake, then reconnect
        as after any loss (backoff with jitter). The cut falls between our CALLs: one in flight
        gets its answer first, so no answer is lost and no transaction message is sent twice."""
        if self.connection is not None and not self.connection.closed:
            self._cutting = True
            self._wake.set()

    # The run -----------------------------------------------------------------------------------

    async def run(self, duration: float | None = None) -> SimResult:
        """Run until ``duration`` wall seconds have passed (None: until :meth:`stop` or the
        task is cancelled); the result. Raises ConnectError when ``must_connect`` and the first
        connection cannot be opened."""
        loop = self._loop = asyncio.get_running_loop()
        self._t0 = loop.time()
        end = None if duration is None else self._t0 + max(duration, 0.0)
        failures = 0
        while not self._done(end):
            began = loop.time()
            try:
                ws = await self._open(end)
            except ConnectError as exc:
                if self.on_connect is not None:
                    self.on_connect(loop.time() - began, exc)
                if self.must_connect and self.result.connections == 0:
                    raise
                failures += 1
                self._station_event("connect-failed", str(exc))
                await self._nap(reconnect_delay(failures, self.station.rng), end)
                continue
            except TimeoutError:  # the run ended while connecting
                break
            failures = 0
            self.result.connections += 1
            if self.on_connect is not None:
                self.on_connect(loop.time() - began, None)
            intent = await self._serve(ws, end)
            if intent is not None:
                await self._nap(intent.offline_s, end)
            elif not self._done(end):
                failures = 1  # lost: the first backoff step
                await self._nap(reconnect_delay(0, self.station.rng), end)
        self._drain()
        return self.result

    def _done(self, end: float | None) -> bool:
        return self._stopping or (end is not None and asyncio.get_running_loop().time() >= end)

    async def _nap(self, simulated_s: float, end: float | None) -> None:
        """Stay offline ``simulated_s`` simulated seconds (or until the run ends); the station
        lives on meanwhile (charging goes on, transaction messages queue up)."""
        loop = asyncio.get_running_loop()
        until = loop.time() + max(simulated_s, 0.0) / self.speed
        while not self._stopping:
            for out in self.station.poll(self.now()):  # offline: no Calls, only intents
                if isinstance(out, Reconnect):  # a planned network loss, while already lost
                    until = max(until, loop.time() + out.offline_s / self.speed)
            self._drain()
            left = until - loop.time()
            if end is not None:
                left = min(left, end - loop.time())
            if left <= 0:
                return
            await self._sleep(end, limit=left)

    async def _open(self, end: float | None) -> ClientConnection:
        shown = safe_url(self.url)
        if self.reachable is not None and not self.reachable():
            raise ConnectError(f"cannot reach {shown}: the network is down (simulated)")
        headers = {"Authorization": self._authorization} if self._authorization else None
        wait = self.timeout
        if end is not None:
            wait = min(wait, max(end - asyncio.get_running_loop().time(), 0.001))
        try:
            ws = await _Connect(
                self.url,
                subprotocols=[Subprotocol(SUBPROTOCOL)],
                additional_headers=headers,
                ssl=self.tls if self.endpoint.secure else None,
                open_timeout=wait,
                max_size=self.max_frame,
                max_queue=MAX_RECEIVED_FRAMES,
                write_limit=MAX_UNSENT_BYTES,
                close_timeout=min(self.timeout, 5.0),
                user_agent_header="ocpp16-sim",
                compression=self.compression,
                ping_interval=self.ping_interval,
            )
        except InvalidHandshake as exc:
            raise handshake_error(exc, None, shown) from exc
        except TimeoutError as exc:
            if end is not None and asyncio.get_running_loop().time() >= end:
                raise
            raise connect_error(exc, shown, wait, "") from exc
        except (OSError, ValueError) as exc:
            stage = "tls" if isinstance(exc, ssl.SSLError) else ""
            raise connect_error(exc, shown, wait, stage) from exc
        if ws.subprotocol != SUBPROTOCOL:
            await ws.close()
            raise SubprotocolError(
                f"the server at {shown} did not agree to the {SUBPROTOCOL} subprotocol"
            )
        return ws

    async def _serve(self, ws: ClientConnection, end: float | None) -> Reconnect | None:
        """Drive the station over one connection until it ends; the Reconnect that ended it."""
        connection = AioConnection(
            ws,
            Sender.CS,
            self._handle,
            timeout=self.timeout,
            on_frame=self._frame,
            name=self.identity,
            activity=self._wake,
        )
        self.connection = connection
        reader = asyncio.create_task(connection.run(), name=f"ocpp16 sim {self.identity}")
        station = self.station
        intent: Reconnect | None = None
        station.connected(self.now())
        self._cutting = False
        try:
            while intent is None and not self._lost(connection) and not self._done(end):
                for out in station.poll(self.now()):
                    if isinstance(out, Reconnect):
                        intent = out
                        break
                    if self._lost(connection):
                        break
                    await self._exchange(connection, out)
                self._drain()
                if intent is None and not self._cutting:
                    await self._sleep(end)
        finally:
            if self._cutting:
                ws.transport.abort()  # no closing handshake: the peer sees the loss (1006)
                self._cutting = False
            await connection.close(1000, "rebooting" if intent is not None else "")
            await asyncio.gather(reader, return_exceptions=True)
            self.connection = None
            station.disconnected(self.now())
            self._drain()
        return intent

    def _lost(self, connection: AioConnection) -> bool:
        return connection.closed or self._cutting

    async def _exchange(self, connection: AioConnection, call: Call) -> None:
        began = asyncio.get_running_loop().time()
        outcome: Outcome = await connection.exchange(call.request)
        if self.on_exchange is not None:
            self.on_exchange(call, asyncio.get_running_loop().time() - began, outcome)
        answer: Model | OcppError | None = outcome.response
        if isinstance(answer, BootNotificationResponse | HeartbeatResponse) and self.speed != 1:
            answer = attrs.evolve(answer, current_time=self._simulated(answer.current_time))
        if outcome.error is not None:
            timed = isinstance(outcome.error, CallTimeout | ConnectionClosed)
            answer = None if timed else outcome.error
        self.station.handle_answer(call, answer, self.now())  # type: ignore[arg-type]

    def _simulated(self, current_time: datetime) -> datetime:
        """The central system's time on the simulated clock: its offset from our wall clock,
        added to the simulated time (else a fast clock would be set back at every Heartbeat)."""
        try:
            return self.now() + (current_time - datetime.now(UTC))
        except (OverflowError, TypeError):
            return current_time  # the station judges implausible times itself

    async def _sleep(self, end: float | None, limit: float | None = None) -> None:
        """Until the station's next wake-up, a frame, a nudge, the end of the run, or ``limit``
        wall seconds."""
        loop = asyncio.get_running_loop()
        wakeup = self.station.next_wakeup()
        left = self.max_nap if limit is None else min(limit, self.max_nap)
        if wakeup is not None:
            left = min(left, (wakeup - self.now()).total_seconds() / self.speed)
        if end is not None:
            left = min(left, end - loop.time())
        if left <= 0 or self._stopping:  # a stop() that came while we were busy
            return
        self._wake.clear()  # set by a frame, a reply sent, the connection's end, a nudge
        try:
            async with asyncio.timeout(left):
                await self._wake.wait()
        except TimeoutError:
            pass

    async def _handle(self, call: _dispatch.Valid) -> Model:
        # The follow-ups are polled once the answer is out (the connection then sets _wake).
        return self.station.handle_call(call.request, self.now())  # type: ignore[arg-type]

    # Reporting ---------------------------------------------------------------------------------

    def _frame(
        self,
        direction: Literal["in", "out"],
        frame: Any,
        verdict: Literal["valid", "invalid", "ignored"],
        detail: str,
        text: str | None = None,
    ) -> None:
        if direction == "in":
            self.result.frames_in += 1
        else:
            self.result.frames_out += 1
        if verdict == "invalid":
            self.result.problem(f"{direction}: {detail}")
        if self.on_frame is not None:
            event = FrameEvent(
                self.identity, direction, frame, verdict, detail, self.now(), text=text
            )
            self.on_frame(event)

    def _station_event(self, kind: str, detail: str) -> None:
        if self.on_event is not None:
            self.on_event(StationEvent(self.now(), kind, None, printable(shorten(detail))))

    def _drain(self) -> None:
        events = self.station.drain_events()
        if self.on_event is not None:
            for event in events:
                self.on_event(event)


async def run_fleet(
    points: Iterable[SimulatedChargePoint], duration: float | None = None
) -> list[SimResult | BaseException]:
    """Run many simulated charge points in this event loop; each one's result or error."""
    tasks = [asyncio.ensure_future(point.run(duration)) for point in points]
    return list(await asyncio.gather(*tasks, return_exceptions=True))
