"""A blocking driver of one Station over the sync client: threads, or greenlets under gevent.

The Station (ocpp16/station) is the charge point's brain; this module only binds it to a
connection and a clock, as its docstring asks of a driver. One thread (a Locust user's greenlet)
calls :meth:`SyncStation.step` again and again; each step connects when needed, polls the
station, sends the calls due one at a time with :class:`~ocpp16.client.ChargePoint`, hands every
answer back, and waits until the station's next wake-up, a CALL from the central system (answered
by the station on the client's handler thread), or ``max_wait``, whichever comes first.

Time: the station runs on a driver clock that starts at the wall clock and runs ``speed`` times
faster; every interval of the station (heartbeat, samples, plan events, a reset's reboot) shrinks
by ``speed``. Waiting after a failed connection does not: reconnect_delay's backoff protects the
central system and stays in real seconds.

What happened goes to ``on_report`` as :class:`Report`: each CALL of ours with its answer, each
CALL of the central system we answered, each connection attempt and each connection lost.
Nothing here imports gevent: under its monkey-patching, the locks, events, sockets and threads
used below are cooperative.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from ocpp16._generated.actions import ACTIONS
from ocpp16._model import Model, Response
from ocpp16._text import printable, shorten
from ocpp16.client import ChargePoint, ClientEvent, connect
from ocpp16.errors import (
    CallError,
    CallTimeout,
    ConnectError,
    ConnectionClosed,
    FrameError,
    InputError,
    OcppError,
)
from ocpp16.station import (
    Call,
    Reconnect,
    Station,
    StationEvent,
    auto_sessions,
    reconnect_delay,
    schedule_plan,
)
from ocpp16.transport import endpoint, safe_url

__all__ = ["MAX_WAIT_S", "EndlessSessions", "Report", "SyncStation", "TlsFiles"]

#: The longest one step waits (s): how soon a stop request or a silently closed connection is
#: noticed when the station has nothing to do.
MAX_WAIT_S: Final = 1.0
#: Random sessions are drawn this much station time at a time (s).
CHUNK_S: Final = 86_400.0
#: Largest answer measured for its length (bytes of JSON); longer ones count as this.
_MAX_MEASURED: Final = 1 << 20

_log: Final = logging.getLogger("ocpp16.sync")

ReportKind = Literal["call", "cs-call", "connect", "lost"]


@dataclass(frozen=True, slots=True)
class Report:
    """One thing worth counting.

    ``kind``: ``call`` (a CALL of ours and its answer; ``name`` is the action), ``cs-call`` (a
    CALL of the central system that we answered), ``connect`` (a connection attempt) or ``lost``
    (the connection ended without our asking). ``elapsed`` is in seconds, ``length`` the answer's
    size in bytes (0 when none came), ``error`` what went wrong (a CallError, InvalidResponse,
    FrameError, CallTimeout, ConnectionClosed or ConnectError), None when nothing did.
    """

    kind: ReportKind
    name: str
    elapsed: float
    length: int = 0
    error: OcppError | None = None


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """TLS for wss:// (the options of ``ocpp16 send``): a CA bundle, a client certificate and
    key (security profile 3), or no verification at all."""

    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    insecure: bool = False


class SyncStation:
    """Runs ``station`` as charge point ``station.identity`` of the central system at ``url``.

    ``url`` is the central system's URL without the identity (``ws://host:9000/ocpp``); the
    identity is appended percent-encoded. Call :meth:`step` from one thread until done, then
    :meth:`close`. ``start`` is the driver clock's origin (usually now, in UTC); ``clock``
    (monotonic seconds) is for tests.
    """

    def __init__(
        self,
        station: Station,
        url: str,
        *,
        start: datetime,
        speed: float = 1.0,
        password: str | None = None,
        tls: TlsFiles | None = None,
        timeout: float = 30.0,
        rng: random.Random | None = None,
        sessions: EndlessSessions | None = None,
        on_report: Callable[[Report], None] | None = None,
        on_station_event: Callable[[StationEvent], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed: expected a number above 0, got {speed}")
        self.station = station
        self.where = endpoint(url, station.identity)
        self.speed = speed
        self.password = password
        self.tls = tls
        self.timeout = timeout
        self.rng = rng or random.Random()
        self.sessions = sessions
        self.on_report = on_report
        self.on_station_event = on_station_event
        self._clock = clock
        self._origin = clock()
        self._start = start
        self._cp: ChargePoint | None = None
        # The station is touched by the stepping thread and the client's handler thread.
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._failures = 0  # connection attempts failed in a row
        self._retry_at = self._origin  # monotonic time of the next connection attempt
        self._closed = False
        # Connection errors name the URL; a shape shared by the fleet keeps them comparable.
        self._url_shown = safe_url(self.where.url)
        self._url_generic = safe_url(url.rstrip("/")) + "/{identity}"

    # The clock ---------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The driver clock: the wall time at the start, running ``speed`` times faster."""
        return self._start + timedelta(seconds=(self._clock() - self._origin) * self.speed)

    @property
    def connected(self) -> bool:
        return self._cp is not None

    # One step ----------------------------------------------------------------------------------

    def step(self, max_wait: float = MAX_WAIT_S) -> None:
        """Connect when due, send what the station says is due, then wait (at most
        ``max_wait`` seconds) until something may be due again."""
        if self._closed:
            return
        self._wake.clear()
        cp = self._cp
        if cp is not None and cp.connection.closed:
            why = cp.closed_reason()
            self._lost(cp, str(why or "the connection was closed"))
            cp = None
        if cp is None and self._clock() >= self._retry_at:
            cp = self._connect()
        # Polled offline too: sessions go on, transaction messages queue, a reboot ends.
        with self._lock:
            now = self.now()
            if self.sessions is not None:
                self.sessions.top_up(self.station, now)
            outs = self.station.poll(now)
        for out in outs:
            if isinstance(out, Reconnect):  # always last
                away = out.offline_s / self.speed
                if cp is not None:
                    self._offline(cp)
                    cp = None
                self._retry_at = max(self._retry_at, self._clock() + away)
                break
            if cp is None:
                break  # offline: Calls are not sent (the station queues what it must)
            if not self._send(cp, out):
                cp = None
                break
        self._flush_events()
        with self._lock:
            wake = self.station.next_wakeup()
        wait = max_wait
        if wake is not None:
            wait = min(wait, (wake - self.now()).total_seconds() / self.speed)
        if cp is None:
            wait = min(wait, self._retry_at - self._clock())
        if wait > 0:
            self._wake.wait(wait)

    def close(self) -> None:
        """Close the connection (if open); later steps do nothing. Idempotent."""
        self._closed = True
        cp, self._cp = self._cp, None
        self._wake.set()
        if cp is not None:
            cp.close()
            with self._lock:
                self.station.disconnected(self.now())
        self._flush_events()

    # Connecting --------------------------------------------------------------------------------

    def _connect(self) -> ChargePoint | None:
        began = self._clock()
        tls = self.tls
        try:
            cp = connect(
                self.where.url,
                self.station.identity,
                password=self.password,
                ca=tls.ca if tls else None,
                cert=tls.cert if tls else None,
                key=tls.key if tls else None,
                insecure=tls.insecure if tls else False,
                timeout=self.timeout,
                on_call=self._on_call,
                on_event=self._on_event,
            )
        except (ConnectError, InputError) as exc:  # InputError: a TLS file gone meanwhile
            self._failures += 1
            delay = reconnect_delay(self._failures - 1, self.rng)
            self._retry_at = self._clock() + delay
            exc.args = (str(exc).replace(self._url_shown, self._url_generic),)
            self._report(Report("connect", "connect", self._clock() - began, error=exc))
            return None
        self._failures = 0
        self._cp = cp
        self._report(Report("connect", "connect", self._clock() - began))
        with self._lock:
            self.station.connected(self.now())
        return cp

    def _offline(self, cp: ChargePoint) -> None:
        """The station asked to go away for a while (reboot, planned network loss)."""
        self._cp = None
        cp.close()
        with self._lock:
            self.station.disconnected(self.now())

    def _lost(self, cp: ChargePoint, why: str, error: OcppError | None = None) -> None:
        """The connection ended without our asking: report it, reconnect with backoff."""
        self._cp = None
        cp.close()
        with self._lock:
            self.station.disconnected(self.now())
        self._failures += 1
        self._retry_at = self._clock() + reconnect_delay(self._failures - 1, self.rng)
        if not isinstance(error, ConnectionClosed):
            error = ConnectionClosed(why)
        self._report(Report("lost", "connection lost", 0.0, error=error))
        self._flush_events()

    # Our calls ---------------------------------------------------------------------------------

    def _send(self, cp: ChargePoint, call: Call) -> bool:
        """Send ``call`` and hand its answer to the station; False when the connection is gone."""
        record = cp.exchange(call.request, self.timeout)
        error = record.error
        answer: Response | OcppError | None
        if error is None:
            assert isinstance(record.response, Response)
            answer = record.response
        elif isinstance(error, CallTimeout | ConnectionClosed):
            answer = None  # no answer at all
        else:
            answer = error  # a CALLERROR, an invalid or malformed answer
        length = _length(record.answer)
        self._report(Report("call", call.action, record.elapsed, length, error))
        with self._lock:
            self.station.handle_answer(call, answer, self.now())
        if isinstance(error, ConnectionClosed) and not self._closed:
            self._lost(cp, str(error), error)
            return False
        return True

    # The central system's calls (on the client's handler thread) -------------------------------

    def _on_call(self, request: Any) -> Model:
        began = self._clock()
        error: CallError | None = None
        try:
            with self._lock:
                return self.station.handle_call(request, self.now())
        except CallError as exc:
            error = exc
            raise
        except Exception as exc:  # a bug of the station: answered, reported, the run goes on
            _log.exception(
                "the station %s failed on %s", printable(self.station.identity), request.ACTION
            )
            error = CallError("InternalError", f"the charge point failed ({type(exc).__name__})")
            raise error from exc
        finally:
            # The step waiting wakes up and polls: the follow-ups (the StatusNotification a
            # TriggerMessage asks for, a StopTransaction after a RemoteStop) are due now. The
            # client sends this answer first: under gevent the step runs only once this
            # handler has returned and written it.
            self._wake.set()
            self._report(Report("cs-call", request.ACTION, self._clock() - began, error=error))

    def _on_event(self, event: ClientEvent) -> None:
        # Handled CALLs are reported by _on_call (which lets only CallError out); a detail here
        # is a CALL the central system got wrong, answered with a CALLERROR by the session.
        if event.kind == "server-call" and event.detail:
            frame = event.frame if isinstance(event.frame, list) else []
            # A name per action, never the peer's text: Locust keeps a row per name.
            name = frame[2] if len(frame) > 2 and frame[2] in ACTIONS else "unknown action"
            error = FrameError(printable(shorten(event.detail)))
            self._report(Report("cs-call", name, 0.0, error=error))
        elif event.kind == "malformed":
            error = FrameError(printable(shorten(event.detail)))
            self._report(Report("cs-call", "malformed frame", 0.0, error=error))

    # Reporting ---------------------------------------------------------------------------------

    def _report(self, report: Report) -> None:
        if self.on_report is not None:
            self.on_report(report)

    def _flush_events(self) -> None:
        with self._lock:
            events = self.station.drain_events()
        if self.on_station_event is not None:
            for event in events:
                self.on_station_event(event)


def _length(answer: Any) -> int:
    """The size of an answer as sent (compact JSON), in bytes; 0 when none came."""
    if answer is None:
        return 0
    text = json.dumps(answer, separators=(",", ":"), ensure_ascii=False)
    return min(len(text.encode("utf-8", "surrogatepass")), _MAX_MEASURED)


class EndlessSessions:
    """Random sessions (plan.auto_sessions) for as long as the station runs, drawn a day of
    station time at a time: the day under way and the next one are scheduled, so a long run
    never runs out of sessions and holds at most two days of events."""

    def __init__(
        self,
        rng: random.Random,
        connectors: int,
        id_tags: list[str],
        start: datetime,
        *,
        mean_gap_s: float = 1800.0,
    ) -> None:
        self.rng = rng
        self.connectors = connectors
        self.id_tags = id_tags
        self.mean_gap_s = mean_gap_s
        self._last_start: datetime | None = None  # the start of the last day drawn
        self._next = start  # where the next day goes

    def top_up(self, station: Station, now: datetime) -> None:
        """Draw days until the last one drawn starts after ``now`` (call before each poll)."""
        while self._last_start is None or now >= self._last_start:
            start = max(self._next, now)
            events = auto_sessions(
                self.rng, self.connectors, CHUNK_S, self.id_tags, mean_gap_s=self.mean_gap_s
            )
            schedule_plan(station, events, start)
            # A session may run past the day: the next day starts after its last unplug.
            last = max((event.at for event in events), default=0.0)
            self._last_start = start
            self._next = start + timedelta(seconds=max(CHUNK_S, last))
