"""Memory and CPU per simulated charge point WITH its connection, against ``ocpp16 serve``.

Run: ``python -m bench.sim [--stations 200] [--speed 60] [--seconds 10]``. Starts ``ocpp16
serve --port 0`` as a subprocess (so the server's memory and CPU are not counted), then in this
process runs N :class:`ocpp16.sim.SimulatedChargePoint` (two connectors each) in one event loop:

- memory: tracemalloc's traced memory after all N booted and reported their statuses, per
  charge point (the Station, its AioConnection, the ``websockets`` connection and its buffers;
  the kernel's socket buffers are not Python memory and are not counted);
- CPU: process time over ``--seconds`` of wall time while all N are idle (heartbeats, the clock
  ``--speed`` times faster), per charge point and per simulated minute; tracemalloc is off then.

The peer is the ``ocpp`` package's v16 ``ChargePoint`` on a ``websockets`` client connection,
booted against the same server and sending a Heartbeat every 300 simulated seconds at the same
speed: the same idle work, without a model of a charge point.
Targets (issue 10): at most 40 KiB and 1 ms of CPU per simulated minute per idle charge point.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import re
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, Final

from ocpp16.sim import SimulatedChargePoint

TARGET_KIB: Final = 40.0
TARGET_CPU_MS_PER_MINUTE: Final = 1.0
HEARTBEAT_S: Final = 300.0


@contextlib.contextmanager
def serving() -> Iterator[str]:
    """``ocpp16 serve --port 0`` in a subprocess; its base URL."""
    command = Path(sys.executable).with_name("ocpp16")
    process = subprocess.Popen(
        [str(command), "serve", "--port", "0", "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        for _ in range(20):
            found = re.search(r"listening on (\S+)/<identity>", process.stderr.readline())
            if found:
                # The rest of its log is read and dropped: a full pipe would stall the server.
                drain = threading.Thread(target=process.stderr.read, daemon=True)
                drain.start()
                yield found.group(1)
                break
        else:
            raise RuntimeError("ocpp16 serve did not start")
    finally:
        process.terminate()
        process.wait(10)


async def _until(check: Callable[[], bool], seconds: float) -> None:
    async with asyncio.timeout(seconds):
        while not check():
            await asyncio.sleep(0.05)


async def measure(
    start: Callable[[int], Awaitable[Any]],
    ready: Callable[[], bool],
    stop: Callable[[], Awaitable[None]],
    count: int,
    seconds: float,
) -> tuple[float, float]:
    """(KiB per charge point once all are ready, CPU ms per charge point over ``seconds``)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for index in range(count):
        await start(index)
    await _until(ready, 120)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    began = time.process_time()
    await asyncio.sleep(seconds)
    spent = time.process_time() - began
    await stop()
    return (after - before) / count / 1024, spent * 1000 / count


async def ours(url: str, count: int, speed: float, seconds: float) -> tuple[float, float]:
    points: list[SimulatedChargePoint] = []
    tasks: list[asyncio.Task[Any]] = []

    async def start(index: int) -> None:
        point = SimulatedChargePoint(
            url, f"SIM{index:05d}", connectors=2, speed=speed, timeout=60, seed=index
        )
        points.append(point)
        tasks.append(asyncio.create_task(point.run()))
        if index % 50 == 49:
            await asyncio.sleep(0)  # let the first ones connect

    def ready() -> bool:
        return (
            len(points) == count
            and all(
                p.connection is not None
                and p.station.registration is not None
                and p.station.queued == 0
                for p in points
            )
            and all(p.result.frames_in >= 4 for p in points)
        )  # boot and the three statuses

    async def stop() -> None:
        for point in points:
            point.stop()
        await asyncio.wait(tasks, timeout=60)

    return await measure(start, ready, stop, count, seconds)


async def peer(url: str, count: int, speed: float, seconds: float) -> tuple[float, float] | None:
    try:
        from ocpp.v16 import ChargePoint, call
        from websockets.asyncio.client import connect
    except ImportError:  # pragma: no cover - the peer is a test dependency
        return None
    booted: list[Any] = []
    tasks: list[asyncio.Task[Any]] = []

    async def life(index: int) -> None:
        async with connect(f"{url}/PEER{index:05d}", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
            point = ChargePoint(f"PEER{index:05d}", ws)
            reader = asyncio.create_task(point.start())
            await point.call(call.BootNotification("ocpp16", "peer"))
            for connector in (0, 1, 2):
                await point.call(call.StatusNotification(connector, "NoError", "Available"))
            booted.append(point)
            try:
                while True:
                    await asyncio.sleep(HEARTBEAT_S / speed)
                    await point.call(call.Heartbeat())
            finally:
                reader.cancel()

    async def start(index: int) -> None:
        tasks.append(asyncio.create_task(life(index)))
        if index % 50 == 49:
            await asyncio.sleep(0)

    async def stop() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=60)

    return await measure(start, lambda: len(booted) == count, stop, count, seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--speed", type=float, default=60.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    n, speed, seconds = max(1, args.stations), args.speed, args.seconds
    minutes = seconds * speed / 60
    with serving() as url:
        kib, cpu = asyncio.run(ours(url, n, speed, seconds))
        theirs = asyncio.run(peer(url, n, speed, seconds))
    per_minute = cpu / minutes
    print(f"per simulated charge point with its connection ({n}, 2 connectors, idle,"
          f" speed {speed:g}: {minutes:g} simulated minutes in {seconds:g} s):")  # fmt: skip
    print(f"  memory  {kib:7.1f} KiB   target {TARGET_KIB:.0f} KiB: {kib / TARGET_KIB:.2f} of it")
    share = per_minute / TARGET_CPU_MS_PER_MINUTE
    print(f"  CPU     {per_minute:7.3f} ms per simulated minute   target"
          f" {TARGET_CPU_MS_PER_MINUTE:.0f} ms: {share:.2f} of it")  # fmt: skip
    if theirs is not None:
        peer_kib, peer_cpu = theirs
        peer_minute = peer_cpu / minutes
        print(
            f"  peer: ocpp.v16.ChargePoint + websockets client (deflate on, its default),"
            f" heartbeats only: {peer_kib:.1f} KiB, {peer_minute:.3f} ms per simulated minute"
        )
        print(
            f"  ratio ours / peer: memory {kib / peer_kib:.2f}, CPU {per_minute / peer_minute:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
