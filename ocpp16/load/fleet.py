"""The fleet: N simulated charge points in one event loop, ramped, measured, disturbed on purpose.

Every charge point is an :class:`ocpp16.sim.SimulatedChargePoint` (a Station and its
connection), built when its turn in the ramp comes: ``ramp`` a second, identities ``CP00001``,
``CP00002``, ... from ``id_prefix``. All of them stop together when ``duration`` wall seconds
have passed since the start (or at :meth:`Fleet.stop`). The fleet's hooks feed
:class:`~ocpp16.load.stats.Statistics`; a ticker closes one timeline row a second.

Patterns a central system must survive:

- ``storm_at``: every connection is cut at once (no closing handshake, as when a site's power
  or network fails) and every charge point reconnects at once;
- ``blackout`` seconds from ``blackout_at``: the network is gone; connections are cut, every
  attempt to connect fails (``network down (simulated)``), transaction messages queue in the
  stations, then everyone reconnects with backoff and delivers them.

A cut falls between a charge point's CALLs (see :meth:`SimulatedChargePoint.cut`), so the
transaction messages delivered can be counted exactly once each.
"""

from __future__ import annotations

import asyncio
import math
import random
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Final

from ocpp16._aio import Outcome
from ocpp16._gcpace import GcPacer
from ocpp16._text import printable, shorten
from ocpp16.errors import ConnectError, InputError
from ocpp16.limits import MAX_FRAME_BYTES
from ocpp16.load.stats import Row, Statistics
from ocpp16.sim import MAX_SPEED, SimResult, SimulatedChargePoint
from ocpp16.station import Call, PlanEvent, StationEvent, auto_sessions
from ocpp16.transport import endpoint

__all__ = ["MAX_CHARGE_POINTS", "Fleet", "LoadConfig"]

#: Most charge points in one fleet (each holds an open file; see the open-files limit).
MAX_CHARGE_POINTS: Final = 100_000
#: Open files the process keeps for itself besides the charge points' connections.
_SPARE_FILES: Final = 64
#: idTags --sessions auto draws from.
AUTO_TAGS: Final = tuple(f"TAG{n:04d}" for n in range(1, 101))
#: First charge points whose first attempts all failing (none connected) end the run early.
_PROBE: Final = 10
#: Seconds between ramp steps (each starts the charge points due by then).
_RAMP_STEP: Final = 0.05
#: Longest wall-time wait of a charge point with nothing due: thousands waking every second
#: would cost more than their calls (frames, timers and stop() wake them anyway).
_NAP: Final = 30.0


def _ping_interval(settings: dict[str, str]) -> float | None:
    """WebSocket pings of our own per the stations' WebSocketPingInterval (0, the default: none,
    as the key means; the central system's pings are answered either way)."""
    try:
        seconds = int(settings.get("WebSocketPingInterval", "0"))
    except ValueError:
        return None
    return float(seconds) if seconds > 0 else None


@dataclass(frozen=True)
class LoadConfig:
    """What to run; :meth:`check` says what is wrong before anything connects."""

    url: str
    cps: int
    ramp: float = 100.0
    duration: float = 60.0
    id_prefix: str = "CP"
    connectors: int = 2
    sessions: bool = False
    plan: tuple[PlanEvent, ...] = ()
    id_tags: tuple[str, ...] = AUTO_TAGS
    heartbeat: int | None = None
    meter_interval: int | None = None
    speed: float = 1.0
    password: str | None = None
    tls: ssl.SSLContext | None = None
    timeout: float = 30.0
    max_frame: int = MAX_FRAME_BYTES
    storm_at: float | None = None
    blackout: float | None = None
    blackout_at: float | None = None
    seed: int | None = None
    vendor: str = "ocpp16"
    model: str = "load"
    config: dict[str, str] = field(default_factory=dict)

    def check(self, open_files: int | None = None) -> None:
        """Raise InputError naming the first thing wrong; ``open_files``: the process's limit."""
        if not 1 <= self.cps <= MAX_CHARGE_POINTS:
            raise InputError(f"--cps: expected 1 to {MAX_CHARGE_POINTS:,}, got {self.cps}")
        if open_files is not None and self.cps + _SPARE_FILES > open_files:
            raise InputError(
                f"--cps {self.cps}: this process may open {open_files:,} files (the hard"
                f" RLIMIT_NOFILE), one per charge point plus {_SPARE_FILES}; raise it"
                " (ulimit -Hn) or run several processes"
            )
        if not 0 < self.ramp < math.inf:  # inf would overflow the count of those due
            raise InputError(f"--ramp: expected charge points per second above 0, got {self.ramp}")
        if not self.duration > 0:
            raise InputError(f"--duration: expected seconds above 0, got {self.duration}")
        if not 0 < self.speed <= MAX_SPEED:
            raise InputError(
                f"--speed: expected above 0 and at most {MAX_SPEED:g}, got {self.speed}"
            )
        if not 1 <= len(self.id_prefix) <= 40 or not self.id_prefix.isprintable():
            raise InputError("--id-prefix: expected 1 to 40 printable characters")
        if self.heartbeat is not None and not 1 <= self.heartbeat <= 86_400:
            raise InputError(f"--heartbeat: expected 1 to 86400 seconds, got {self.heartbeat}")
        if self.meter_interval is not None and not 0 <= self.meter_interval <= 86_400:
            raise InputError(
                f"--meter-interval: expected 0 to 86400 seconds, got {self.meter_interval}"
            )
        if self.sessions and self.plan:
            raise InputError("--sessions auto and --plan: give one of them")
        for name, at in (("--storm-at", self.storm_at), ("--blackout-at", self.blackout_at)):
            if at is not None and not 0 <= at < self.duration:
                raise InputError(
                    f"{name}: expected 0 to under --duration ({self.duration:g}), got {at:g}"
                )
        if self.blackout is not None and not 0 < self.blackout < self.duration:
            raise InputError(
                f"--blackout: expected seconds above 0 and under --duration ({self.duration:g}),"
                f" got {self.blackout:g}"
            )
        endpoint(self.url, self.identity(1))  # the URL, as every charge point will use it

    def identity(self, number: int) -> str:
        """The identity of charge point ``number`` (from 1): CP00001, ..."""
        return f"{self.id_prefix}{number:0{max(5, len(str(self.cps)))}d}"

    @property
    def blackout_start(self) -> float | None:
        if self.blackout is None:
            return None
        return self.duration / 2 if self.blackout_at is None else self.blackout_at


class Fleet:
    """Runs a :class:`LoadConfig`; ``stats`` fills as it goes, ``points`` are the started ones.

    ``on_tick(row)`` is called once a second with the timeline row just closed (live views).
    ``pace_gc``: pace the garbage collector (:class:`ocpp16._gcpace.GcPacer`, a process-wide
    setting the ``ocpp16 load`` command uses), so that its full collections do not stall the
    event loop for a second at a time scanning ten thousand stations and their connections.
    """

    def __init__(
        self,
        config: LoadConfig,
        on_tick: Callable[[Row], None] | None = None,
        *,
        pace_gc: bool = False,
    ) -> None:
        config.check()
        self.gc_pacer = GcPacer() if pace_gc else None
        self.config = config
        self.on_tick = on_tick
        self.stats = Statistics()
        self.points: list[SimulatedChargePoint] = []
        self.results: list[SimResult] = []
        self.crashes: list[str] = []
        self.booted: set[str] = set()
        self.cuts = 0
        self.started_at = datetime.now(UTC)
        self.elapsed = 0.0
        self.interrupted = False
        self._tasks: list[asyncio.Task[SimResult]] = []
        self._network_down = False
        self._cut: set[str] = set()
        self._planned: set[str] = set()
        self._first_failures: list[ConnectError] = []
        self._no_connection: ConnectError | None = None
        self._stopping = False
        self._t0 = 0.0
        self._end = 0.0

    # Control -----------------------------------------------------------------------------------

    def stop(self, interrupted: bool = True) -> None:
        """End the run now (Ctrl-C): every charge point closes its connection."""
        self.interrupted = self.interrupted or interrupted
        self._stopping = True
        for point in self.points:
            point.stop()

    def connected(self) -> int:
        """Charge points with an open connection now."""
        return sum(
            1
            for point in self.points
            if point.connection is not None and not point.connection.closed
        )

    def time_left(self) -> float:
        if not self._t0:
            return self.config.duration
        return max(self._end - asyncio.get_running_loop().time(), 0.0)

    # The run -----------------------------------------------------------------------------------

    async def run(self) -> None:
        """Ramp, run, stop; raises ConnectError when no charge point could connect at all."""
        loop = asyncio.get_running_loop()
        self._t0 = loop.time()
        self._end = self._t0 + self.config.duration
        self.started_at = datetime.now(UTC)
        helpers = [asyncio.create_task(self._tick(), name="ocpp16 load ticker")]
        if self.config.storm_at is not None or self.config.blackout is not None:
            helpers.append(asyncio.create_task(self._patterns(), name="ocpp16 load patterns"))
        try:
            await self._ramp()
            if self._tasks:
                await asyncio.wait(self._tasks)
        finally:
            self.stop(interrupted=False)
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            if self._tasks:
                await asyncio.wait(self._tasks)
            self.elapsed = loop.time() - self._t0
            self.stats.timeline.finish(self.elapsed)
            self._collect()
            if self.gc_pacer is not None:
                self.gc_pacer.stop()  # the run is over: its garbage may go
        if self.stats.connections.opened == 0:
            if self._no_connection is not None:
                raise self._no_connection
            if self._first_failures:
                raise self._first_failures[0]

    async def _ramp(self) -> None:
        loop = asyncio.get_running_loop()
        config = self.config
        number = 0
        while number < config.cps and not self._stopping:
            now = loop.time()
            if now >= self._end:
                break
            due = min(config.cps, int((now - self._t0) * config.ramp) + 1)
            while number < due:
                number += 1
                self._launch(number, self._end - now)
            if number < config.cps:
                wait = min(_RAMP_STEP, self._t0 + number / config.ramp - loop.time())
                await asyncio.sleep(max(wait, 0.0))

    def _launch(self, number: int, duration: float) -> None:
        config = self.config
        seed = None if config.seed is None else f"{config.seed}:{number}"
        rng = random.Random(seed)
        plan: list[PlanEvent] = list(config.plan)
        if config.sessions:
            plan = auto_sessions(
                rng, config.connectors, duration * config.speed, list(config.id_tags)
            )
        settings = dict(config.config)
        if config.heartbeat is not None:
            settings["HeartbeatInterval"] = str(config.heartbeat)
        if config.meter_interval is not None:
            settings["MeterValueSampleInterval"] = str(config.meter_interval)
        point = SimulatedChargePoint(
            config.url,
            config.identity(number),
            connectors=config.connectors,
            vendor=config.vendor,
            model=config.model,
            config=settings,
            password=config.password,
            tls=config.tls,
            plan=plan,
            seed=rng.randrange(2**32),
            speed=config.speed,
            timeout=config.timeout,
            max_frame=config.max_frame,
            must_connect=False,
            on_exchange=self._exchange,
            reachable=self._reachable,
            max_nap=_NAP,
            compression=None,  # as charge points usually connect; deflate costs memory
            ping_interval=_ping_interval(settings),
        )
        point.on_connect = partial(self._connect, point)
        point.on_event = partial(self._event, point)
        self.points.append(point)
        task = asyncio.create_task(point.run(duration), name=f"ocpp16 load {point.identity}")
        self._tasks.append(task)

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        second = 1
        while True:
            await asyncio.sleep(max(self._t0 + second - loop.time(), 0.0))
            elapsed = loop.time() - self._t0
            connected = self.connected()
            row = self.stats.timeline.close(round(elapsed, 3), connected)
            if self.gc_pacer is not None:
                self.gc_pacer.tick(connected)
            second = int(elapsed) + 1  # a lagging loop skips seconds rather than bunching rows
            if self.on_tick is not None:
                self.on_tick(row)

    async def _patterns(self) -> None:
        loop = asyncio.get_running_loop()
        config = self.config
        steps: list[tuple[float, str]] = []
        if config.storm_at is not None:
            steps.append((config.storm_at, "storm"))
        start = config.blackout_start
        if start is not None and config.blackout is not None:
            steps += [(start, "blackout"), (start + config.blackout, "restore")]
        for at, what in sorted(steps):
            await asyncio.sleep(max(self._t0 + at - loop.time(), 0.0))
            if what == "restore":
                self._network_down = False
                continue
            if what == "blackout":
                self._network_down = True
            self._cut_all()

    def _cut_all(self) -> None:
        for point in self.points:
            if point.connection is not None and not point.connection.closed:
                self._cut.add(point.identity)
                self.cuts += 1
                point.cut()

    # Hooks of every charge point ---------------------------------------------------------------

    def _reachable(self) -> bool:
        return not self._network_down

    def _exchange(self, call: Call, elapsed: float, outcome: Outcome) -> None:
        self.stats.exchange(call.action, elapsed, outcome)

    def _connect(
        self, point: SimulatedChargePoint, elapsed: float, error: ConnectError | None
    ) -> None:
        self.stats.connect(elapsed, error)
        if error is None and self.gc_pacer is not None:
            self.gc_pacer.opened()
        if error is None or point.result.connections > 0 or self._network_down:
            return
        if len(self._first_failures) < _PROBE:
            self._first_failures.append(error)
            probe = min(self.config.cps, _PROBE)
            if len(self._first_failures) >= probe and self.stats.connections.opened == 0:
                self._no_connection = ConnectError(
                    f"no charge point could connect: {self.config.identity(1)}:"
                    f" {printable(shorten(str(self._first_failures[0])))}"
                )
                self.stop(interrupted=False)

    def _event(self, point: SimulatedChargePoint, event: StationEvent) -> None:
        kind = event.kind
        if kind == "boot" and event.data.get("status") == "Accepted":
            self.booted.add(point.identity)
            if self.config.heartbeat is not None:
                # --heartbeat is kept even when the boot answer gives another interval.
                station = point.station
                station.config.set_internal("HeartbeatInterval", str(self.config.heartbeat))
                station.heartbeat_changed(event.at)
        elif kind in ("reboot", "network-loss"):
            self._planned.add(point.identity)
        elif kind == "offline":
            if self.gc_pacer is not None:
                self.gc_pacer.closed()
            identity = point.identity
            if identity in self._cut:
                self._cut.discard(identity)
                how = "cut"
            elif identity in self._planned:
                self._planned.discard(identity)
                how = "planned"
            elif self._stopping or asyncio.get_running_loop().time() >= self._end - 0.01:
                how = "end"
            else:
                how = "lost"
            self.stats.ended(how)

    def _collect(self) -> None:
        self.results = []
        for point, task in zip(self.points, self._tasks, strict=True):
            if task.cancelled():
                self.crashes.append(f"{point.identity}: cancelled")
                continue
            error = task.exception()
            if error is not None:
                self.crashes.append(printable(shorten(f"{point.identity}: {error!r}")))
            else:
                self.results.append(task.result())
