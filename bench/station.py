"""Memory and CPU of the sans-IO Station, per simulated charge point, idle and charging.

Run: ``python -m bench.station [--stations 200] [--minutes 60]``. Builds N Stations with two
connectors, boots them against an in-memory central system (every answer valid), then measures
with tracemalloc the memory each holds idle (booted, statuses reported) and charging (both
connectors in a transaction, sampling every 60 s), and the CPU time per simulated minute of an
idle one (heartbeats only) and a charging one, over ``--minutes`` simulated minutes.

The target for the load command (``ocpp16 load``, later) is at most 40 KiB per simulated charge
point, its connection included, and 1 ms of CPU per simulated minute when idle; the peer
figure is an instance of the ``ocpp`` package's v16 ``ChargePoint`` (the protocol object alone,
no model of a charge point, no connection), to show what a bare protocol object costs.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from ocpp16 import (
    AuthorizationStatus,
    AuthorizeResponse,
    BootNotificationResponse,
    HeartbeatResponse,
    IdTagInfo,
    MeterValuesResponse,
    RegistrationStatus,
    StartTransactionResponse,
    StatusNotificationResponse,
    StopTransactionResponse,
)
from ocpp16._model import Response
from ocpp16.station import Call, Station

TARGET_KIB: Final = 40.0
TARGET_CPU_MS_PER_MINUTE: Final = 1.0
T0: Final = datetime(2025, 1, 1, tzinfo=UTC)
_ids = itertools.count(1)
_ACCEPTED: Final = IdTagInfo(status=AuthorizationStatus.ACCEPTED)


def _answer(call: Call, now: datetime) -> Response:
    answers: dict[str, Callable[[], Response]] = {
        "BootNotification": lambda: BootNotificationResponse(
            status=RegistrationStatus.ACCEPTED, current_time=now, interval=300
        ),
        "Heartbeat": lambda: HeartbeatResponse(current_time=now),
        "StatusNotification": StatusNotificationResponse,
        "Authorize": lambda: AuthorizeResponse(id_tag_info=_ACCEPTED),
        "StartTransaction": lambda: StartTransactionResponse(
            id_tag_info=_ACCEPTED, transaction_id=next(_ids)
        ),
        "MeterValues": MeterValuesResponse,
        "StopTransaction": StopTransactionResponse,
    }
    return answers[call.action]()


def _drive(station: Station, now: datetime, end: datetime) -> None:
    """A driver's loop on a simulated clock: poll, answer, sleep until the next wake-up."""
    while True:
        for out in station.poll(now):
            if isinstance(out, Call):
                station.handle_answer(out, _answer(out, now), now)
        wake = station.next_wakeup()
        if wake is None or wake >= end:
            return
        now = max(wake, now + timedelta(milliseconds=1))


def _stations(count: int) -> list[Station]:
    stations = [Station(f"CP{i:05d}", now=T0, connectors=2) for i in range(count)]
    for station in stations:
        station.connected(T0)
        _drive(station, T0, T0 + timedelta(seconds=1))
        station.drain_events()
    return stations


def _plug_all(stations: list[Station], now: datetime) -> None:
    for station in stations:
        for connector in (1, 2):
            station.plug_in(connector, now, id_tag="BENCH", energy_wh=90_000, max_power_w=11_000)
        _drive(station, now, now + timedelta(seconds=1))
        station.drain_events()


def _memory_per_station(count: int, charging: bool) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    stations = _stations(count)
    if charging:
        _plug_all(stations, T0 + timedelta(seconds=2))
        end = T0 + timedelta(minutes=10)
        for station in stations:
            _drive(station, T0 + timedelta(seconds=3), end)
            station.drain_events()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del stations
    return (after - before) / count


def _cpu_ms_per_minute(count: int, minutes: int, charging: bool) -> float:
    stations = _stations(count)
    start = T0 + timedelta(seconds=2)
    if charging:
        _plug_all(stations, start)
    end = start + timedelta(minutes=minutes)
    began = time.process_time()
    for station in stations:
        _drive(station, start + timedelta(seconds=1), end)
        station.drain_events()
    spent = time.process_time() - began
    return spent * 1000 / count / minutes


def _peer_memory(count: int) -> float | None:
    try:
        from ocpp.v16 import ChargePoint
    except ImportError:  # pragma: no cover - the peer is a test dependency
        return None
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    peers: list[Any] = [ChargePoint(f"CP{i:05d}", None) for i in range(count)]
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del peers
    return (after - before) / count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--minutes", type=int, default=60)
    args = parser.parse_args(argv)
    n = max(1, args.stations)
    idle = _memory_per_station(n, charging=False) / 1024
    busy = _memory_per_station(n, charging=True) / 1024
    peer = _peer_memory(n)
    print(f"memory per Station (2 connectors, {n} stations, tracemalloc):")
    print(f"  idle      {idle:6.1f} KiB   target {TARGET_KIB:.0f} KiB incl. connection: "
          f"{idle / TARGET_KIB:.2f} of it")  # fmt: skip
    print(f"  charging  {busy:6.1f} KiB   {busy / TARGET_KIB:.2f} of the target")
    if peer is not None:
        print(
            f"  peer: ocpp.v16.ChargePoint (protocol object only) {peer / 1024:6.1f} KiB; "
            f"ratio ours idle / peer {idle / (peer / 1024):.1f}"
        )
    idle_cpu = _cpu_ms_per_minute(n, args.minutes, charging=False)
    busy_cpu = _cpu_ms_per_minute(n, args.minutes, charging=True)
    print(f"CPU per simulated minute ({args.minutes} min, {n} stations):")
    print(f"  idle      {idle_cpu:7.3f} ms   target {TARGET_CPU_MS_PER_MINUTE:.0f} ms: "
          f"{idle_cpu / TARGET_CPU_MS_PER_MINUTE:.2f} of it")  # fmt: skip
    print(f"  charging  {busy_cpu:7.3f} ms   (2 sessions, a sample a minute each)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
