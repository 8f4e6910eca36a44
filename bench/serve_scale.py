"""Central system at scale: many charge points connected at once, a steady call rate, latency.

Run: ``python -m bench.serve_scale [--connections 2000] [--rate 1000] [--seconds 20]``.

Three processes: this one orchestrates; the server under test runs in one subprocess (ocpp16's
:class:`~ocpp16.server.CentralSystem`, then the peer: the `ocpp` package's v16 ``ChargePoint``
routed per connection, as its documentation builds a central system, with its default jsonschema
validation); the load runs in another, an asyncio ``websockets`` client opening every connection
(``ocpp1.6``, no compression, as charge points usually connect) and then:

1. **target rate**: ``--rate`` calls per second in aggregate (Heartbeat, StatusNotification and
   MeterValues in turn; each charge point one call at a time, evenly spread), for ``--seconds``;
   latency runs from the send to the answer, and every answer is checked: a CALLRESULT with the
   call's id whose payload passes the response class (``from_dict``);
2. **saturation**: every connection calls again as soon as it is answered, for
   ``--saturation-seconds``: the most calls per second the server answers.

Memory per connection is the server's resident memory with every charge point connected minus
before, divided by the count; server CPU is its user+system time over the target-rate phase.
Loopback only; the counts and durations bound the run. Target: 2,000 charge points, 1,000 calls/s
all answered and valid, p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import IO, Any, Final

TARGET_CONNECTIONS: Final = 2000
TARGET_RATE: Final = 1000
TARGET_P99_MS: Final = 100.0
ACTIONS: Final = ("Heartbeat", "StatusNotification", "MeterValues")
CONNECT_CONCURRENCY: Final = 100
IMPLEMENTATIONS: Final = {"ocpp16": "ocpp16 CentralSystem", "ocpp": "ocpp 2.1.0 ChargePoint"}


def _raise_open_files(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


# The servers under test ------------------------------------------------------------------------


async def _serve_ocpp16() -> None:
    from ocpp16 import CentralSystem

    async with CentralSystem().serve("127.0.0.1", 0) as server:
        print(f"PORT {server.port}", flush=True)
        await asyncio.Future()  # until killed


async def _serve_ocpp() -> None:
    from datetime import UTC, datetime

    from ocpp.routing import on
    from ocpp.v16 import ChargePoint, call_result
    from websockets.asyncio.server import ServerConnection, serve
    from websockets.exceptions import ConnectionClosed

    class CentralSystemSide(ChargePoint):  # type: ignore[misc]  # ocpp is untyped
        @on("Heartbeat")  # type: ignore[untyped-decorator]
        def on_heartbeat(self, **_: Any) -> Any:
            now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            return call_result.Heartbeat(current_time=now)

        @on("StatusNotification")  # type: ignore[untyped-decorator]
        def on_status_notification(self, **_: Any) -> Any:
            return call_result.StatusNotification()

        @on("MeterValues")  # type: ignore[untyped-decorator]
        def on_meter_values(self, **_: Any) -> Any:
            return call_result.MeterValues()

    async def handle(connection: ServerConnection) -> None:
        assert connection.request is not None
        identity = connection.request.path.rsplit("/", 1)[-1]
        with contextlib.suppress(ConnectionClosed):
            await CentralSystemSide(identity, connection).start()

    async with serve(handle, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:  # type: ignore[list-item]
        print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
        await asyncio.Future()


# The load --------------------------------------------------------------------------------------


class _Load:
    """N charge points on one event loop, with the results of every call."""

    def __init__(self, url: str, connections: int) -> None:
        from ocpp16 import ACTIONS as REGISTRY

        self.url = url
        self.count = connections
        rng = random.Random(2026)
        self.payloads = [
            (
                name,
                [json.dumps(REGISTRY[name].request.random(rng=rng).to_dict()) for _ in range(50)],
            )
            for name in ACTIONS
        ]
        self.responses = {name: REGISTRY[name].response for name in ACTIONS}
        self.connections: list[Any] = []
        self.latencies: list[float] = []
        self.lags: list[float] = []
        self.invalid = 0
        self.failed = 0
        self.sent = 0

    async def connect(self) -> tuple[float, int]:
        from websockets.asyncio.client import connect
        from websockets.typing import Subprotocol

        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        errors = 0

        async def one(index: int) -> Any:
            nonlocal errors
            async with gate:
                try:
                    return await connect(
                        f"{self.url}/CP{index:05d}",
                        subprotocols=[Subprotocol("ocpp1.6")],
                        compression=None,
                        open_timeout=30,
                        ping_interval=None,
                        max_queue=4,
                    )
                except Exception:
                    errors += 1
                    return None

        start = time.perf_counter()
        opened = await asyncio.gather(*(one(i) for i in range(self.count)))
        self.connections = [c for c in opened if c is not None]
        return time.perf_counter() - start, errors

    async def _call(self, ws: Any, index: int, sequence: int) -> bool:
        name, texts = self.payloads[(index + sequence) % len(self.payloads)]
        unique_id = f"{index}-{sequence}"
        text = texts[sequence % len(texts)]
        frame = f'[2,"{unique_id}","{name}",{text}]'
        start = time.perf_counter()
        self.sent += 1
        try:
            await ws.send(frame)
            answer = await asyncio.wait_for(ws.recv(), 30)
        except Exception:
            self.failed += 1
            return False
        self.latencies.append(time.perf_counter() - start)
        try:
            items = json.loads(answer)
            ok = items[0] == 3 and items[1] == unique_id
            if ok:
                self.responses[name].from_dict(items[2])
        except Exception:
            ok = False
        self.invalid += not ok
        return True

    async def steady(self, rate: float, seconds: float) -> float:
        """Each charge point calls every N/rate seconds, the starts spread evenly."""
        period = len(self.connections) / rate
        begin = time.perf_counter() + 0.5
        end = begin + seconds

        async def charge_point(index: int, ws: Any) -> None:
            due = begin + index / rate
            sequence = 0
            while due < end:
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                self.lags.append(time.perf_counter() - due)
                if not await self._call(ws, index, sequence):
                    return
                sequence += 1
                due += period

        await asyncio.gather(*(charge_point(i, ws) for i, ws in enumerate(self.connections)))
        return time.perf_counter() - begin

    async def saturate(self, seconds: float) -> tuple[int, float]:
        """Every charge point calls again as soon as it is answered."""
        answered = 0
        end = time.perf_counter() + seconds

        async def charge_point(index: int, ws: Any) -> None:
            nonlocal answered
            sequence = 1_000_000
            while time.perf_counter() < end:
                if not await self._call(ws, index, sequence):
                    return
                answered += 1
                sequence += 1

        start = time.perf_counter()
        await asyncio.gather(*(charge_point(i, ws) for i, ws in enumerate(self.connections)))
        return answered, time.perf_counter() - start

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.connections), return_exceptions=True)


async def _run_load(url: str, connections: int, rate: float, seconds: float, burst: float) -> None:
    load = _Load(url, connections)
    took, errors = await load.connect()
    print(f"CONNECTED {len(load.connections)} {took:.3f} {errors}", flush=True)
    # The load's own garbage-collector pauses would count as server latency: keep them short.
    gc.collect()
    gc.freeze()
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # "GO"
    elapsed = await load.steady(rate, seconds)
    steady = {
        "sent": load.sent,
        "answered": len(load.latencies),
        "failed": load.failed,
        "invalid": load.invalid,
        "elapsed": elapsed,
        "latencies_ms": _percentiles([x * 1000 for x in load.latencies]),
        "lag_ms": _percentiles([x * 1000 for x in load.lags]),
    }
    print("STEADY " + json.dumps(steady), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # "GO"
    load.latencies.clear()
    answered, took = await load.saturate(burst)
    saturation = {
        "answered": answered,
        "elapsed": took,
        "latencies_ms": _percentiles([x * 1000 for x in load.latencies]),
    }
    print("SATURATION " + json.dumps(saturation), flush=True)
    await load.close()


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p90": float("nan"), "p99": float("nan"), "max": float("nan")}
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": ordered[-1]}


# The orchestrator ------------------------------------------------------------------------------


def _proc(pid: int) -> tuple[int, float]:
    """Resident memory (bytes) and user+system CPU seconds of process ``pid``."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        rss = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return rss, (int(fields[11]) + int(fields[12])) / ticks


def _line(stream: IO[str], prefix: str) -> str:
    while True:
        line = stream.readline()
        if not line:
            raise RuntimeError(f"the process ended before printing {prefix}")
        if line.startswith(prefix):
            return line[len(prefix) :].strip()


def _measure(implementation: str, args: argparse.Namespace) -> dict[str, Any]:
    me = [sys.executable, "-m", "bench.serve_scale"]
    server = subprocess.Popen(
        [*me, "--role", "server", "--impl", implementation, "--connections", str(args.connections)],
        stdout=subprocess.PIPE,
        text=True,
    )
    load = None
    try:
        assert server.stdout is not None
        port = int(_line(server.stdout, "PORT "))
        time.sleep(0.3)
        idle_rss, _ = _proc(server.pid)
        load = subprocess.Popen(
            [*me, "--role", "load", "--url", f"ws://127.0.0.1:{port}/ocpp",
             "--connections", str(args.connections), "--rate", str(args.rate),
             "--seconds", str(args.seconds), "--saturation-seconds", str(args.saturation_seconds)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert load.stdin is not None and load.stdout is not None
        connected, connect_seconds, connect_errors = _line(load.stdout, "CONNECTED ").split()
        time.sleep(1.0)
        busy_rss, cpu_before = _proc(server.pid)
        load.stdin.write("GO\n")
        load.stdin.flush()
        steady = json.loads(_line(load.stdout, "STEADY "))
        _, cpu_after = _proc(server.pid)
        load.stdin.write("GO\n")
        load.stdin.flush()
        saturation = json.loads(_line(load.stdout, "SATURATION "))
        load.wait(60)
    finally:
        for process in (load, server):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    count = int(connected)
    return {
        "connected": count,
        "connect_seconds": float(connect_seconds),
        "connect_errors": int(connect_errors),
        "memory_per_connection_kib": (busy_rss - idle_rss) / max(count, 1) / 1024,
        "idle_rss_mib": idle_rss / 2**20,
        "cpu_percent": 100 * (cpu_after - cpu_before) / steady["elapsed"],
        "steady": steady,
        "saturation": saturation,
    }


def _report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    names = list(results)
    rows: list[tuple[str, Callable[[dict[str, Any]], float], str, bool]] = [
        # (label, value, format, higher is better)
        ("charge points connected", lambda r: r["connected"], "{:.0f}", True),
        ("seconds to connect them all", lambda r: r["connect_seconds"], "{:.2f}", False),
        ("memory per connection, KiB", lambda r: r["memory_per_connection_kib"], "{:.1f}", False),
        ("calls sent at the target rate", lambda r: r["steady"]["sent"], "{:.0f}", True),
        ("  answered per second", lambda r: r["steady"]["answered"] / r["steady"]["elapsed"],
         "{:.0f}", True),
        ("  unanswered", lambda r: r["steady"]["failed"], "{:.0f}", False),
        ("  invalid answers", lambda r: r["steady"]["invalid"], "{:.0f}", False),
        ("  latency p50, ms", lambda r: r["steady"]["latencies_ms"]["p50"], "{:.2f}", False),
        ("  latency p90, ms", lambda r: r["steady"]["latencies_ms"]["p90"], "{:.2f}", False),
        ("  latency p99, ms", lambda r: r["steady"]["latencies_ms"]["p99"], "{:.2f}", False),
        ("  latency max, ms", lambda r: r["steady"]["latencies_ms"]["max"], "{:.2f}", False),
        ("  server CPU, % of a core", lambda r: r["cpu_percent"], "{:.0f}", False),
        ("  load generator lag p99, ms", lambda r: r["steady"]["lag_ms"]["p99"], "{:.2f}", False),
        ("  load generator lag max, ms", lambda r: r["steady"]["lag_ms"]["max"], "{:.2f}", False),
        ("saturation: answered per second",
         lambda r: r["saturation"]["answered"] / r["saturation"]["elapsed"], "{:.0f}", True),
        ("  latency p99, ms", lambda r: r["saturation"]["latencies_ms"]["p99"], "{:.1f}", False),
    ]  # fmt: skip
    print(
        f"serve_scale: {args.connections} charge points, {args.rate} calls/s for {args.seconds} s"
        f" ({', '.join(ACTIONS)}), then {args.saturation_seconds} s saturation;"
        f" loopback, {os.cpu_count()} cores, load in its own process"
    )
    header = f"{'':34}" + "".join(f"{IMPLEMENTATIONS[n]:>26}" for n in names)
    print(header + (f"{'ratio':>10}" if len(names) == 2 else ""))
    for label, value, fmt, higher in rows:
        figures = [value(results[n]) for n in names]
        line = f"{label:34}" + "".join(f"{fmt.format(f):>26}" for f in figures)
        if len(figures) == 2:
            mine, peer = figures
            if mine == peer:
                line += f"{'same':>10}"
            elif mine and peer:
                line += f"{(mine / peer if higher else peer / mine):>9.2f}x"
            else:
                line += f"{'-':>10}"
        print(line)
    if len(names) == 2:
        print("ratio: how many times better ocpp16 is (>1 better, <1 worse), per row")
    ours = results["ocpp16"]
    steady = ours["steady"]
    rate = steady["answered"] / steady["elapsed"]
    ok = (
        ours["connected"] >= TARGET_CONNECTIONS
        and rate >= 0.98 * TARGET_RATE
        and steady["failed"] == steady["invalid"] == 0
        and steady["answered"] == steady["sent"]
        and steady["latencies_ms"]["p99"] < TARGET_P99_MS
    )
    print(
        f"target ({TARGET_CONNECTIONS} charge points, {TARGET_RATE} calls/s all answered and"
        f" valid, p99 < {TARGET_P99_MS:.0f} ms): {'met' if ok else 'NOT met'} by ocpp16"
        + ("" if args.connections >= TARGET_CONNECTIONS and args.rate >= TARGET_RATE
           else " (a smaller run than the target)")
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serve_scale", description=__doc__)
    parser.add_argument("--connections", type=int, default=TARGET_CONNECTIONS)
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="calls per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="of the target rate")
    parser.add_argument("--saturation-seconds", type=float, default=5.0)
    parser.add_argument("--no-peer", action="store_true", help="skip the `ocpp` package")
    parser.add_argument("--role", choices=["orchestrate", "server", "load"], default="orchestrate",
                        help=argparse.SUPPRESS)  # fmt: skip
    parser.add_argument("--impl", choices=list(IMPLEMENTATIONS), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    _raise_open_files(args.connections * 2 + 256)
    if args.role == "server":
        asyncio.run(_serve_ocpp16() if args.impl == "ocpp16" else _serve_ocpp())
    elif args.role == "load":
        asyncio.run(
            _run_load(args.url, args.connections, args.rate, args.seconds, args.saturation_seconds)
        )
    else:
        implementations = ["ocpp16"] if args.no_peer else ["ocpp16", "ocpp"]
        _report({name: _measure(name, args) for name in implementations}, args)


if __name__ == "__main__":
    main()
