"""``ocpp16 load`` at scale: 10,000 living charge points against ``ocpp16 serve`` on one machine.

Run: ``python -m bench.load [--cps 10000] [--ramp 150] [--steady 40] [--speed 10]
[--heartbeat 300] [--meter-interval 120] [--skip-peer]``.

Both run here, each in its own process: ``ocpp16 serve --json`` (frames written to /dev/null)
and ``ocpp16 load URL --cps N --sessions auto ...`` (its ``--json`` report read back). The
charge points ramp up at ``--ramp`` a second, then live for ``--steady`` seconds: heartbeats,
status notifications and charging sessions with meter values; ``--speed``, ``--heartbeat`` and
``--meter-interval`` set the pace (the defaults make about 1,000 calls a second from 10,000).
Measured over the steady window (from 10 s after the last charge point connected to 2 s before
the end): calls per second, the worst one-second p99 latency, every call answered validly, the
load process's CPU (share of a core) and resident memory per charge point (its RSS then, minus
the RSS of the same command with one charge point, over N).

Then the peer: the same number of charge points built from the `ocpp` package's
``ocpp.v16.ChargePoint`` (its documented client: ``websockets`` connection, ``start()``,
``call()``), each sending BootNotification, then Heartbeat and MeterValues in turn at the per
charge point rate ocpp16's fleet made, in one asyncio process, as far as it goes. The ratios:
charge points connected, and calls per second per core of the load process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Final

from bench.serve_scale import _proc

TARGET_CPS: Final = 10_000
TARGET_RATE: Final = 1000.0
TARGET_P99_MS: Final = 100.0
#: Seconds after the last charge point connected before the steady window opens, and before
#: the end when it closes.
_SETTLE: Final = 10.0
_TAIL: Final = 2.0
#: Seconds a ramp may lag behind --ramp before the steady window opens anyway.
_SLACK: Final = 20.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _Server:
    """``ocpp16 serve`` in a subprocess on a free port, frames as JSON lines to /dev/null."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ocpp16_cli", "serve", "--port", str(self.port), "--json"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("ocpp16 serve did not start within 20 s")

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class _Sampler(threading.Thread):
    """RSS and CPU seconds of a process, once a second, with the time since it started."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.start_time = time.monotonic()
        self.samples: list[tuple[float, int, float]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            try:
                rss, cpu = _proc(self.pid)
            except (OSError, StopIteration):
                return
            self.samples.append((time.monotonic() - self.start_time, rss, cpu))

    def window(self, start: float, end: float) -> tuple[float, int]:
        """CPU seconds used between ``start`` and ``end`` (seconds since start), and the
        largest RSS seen in that window."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        if len(inside) < 2:
            return 0.0, 0
        return inside[-1][2] - inside[0][2], max(s[1] for s in inside)


def _load_args(url: str, cps: int, duration: float, options: argparse.Namespace) -> list[str]:
    return [
        *(sys.executable, "-m", "ocpp16_cli", "load", url),
        *("--cps", str(cps), "--ramp", str(options.ramp), "--duration", f"{duration:g}"),
        *("--sessions", "auto", "--seed", "1", "--speed", f"{options.speed:g}"),
        *("--heartbeat", str(options.heartbeat), "--meter-interval", str(options.meter_interval)),
    ]


def _baseline_rss(options: argparse.Namespace) -> int:
    """The load command's resident memory with one charge point (imports, loop, report)."""
    server = _Server()
    try:
        process = subprocess.Popen(
            _load_args(server.url, 1, 4.0, options),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        sampler = _Sampler(process.pid)
        sampler.start()
        process.wait(60)
        sampler.done.set()
        return max((s[1] for s in sampler.samples), default=0)
    finally:
        server.stop()


def _ours(options: argparse.Namespace, baseline: int) -> dict[str, Any]:
    cps = options.cps
    duration = cps / options.ramp + _SLACK + _SETTLE + options.steady + _TAIL
    server = _Server()
    report_file = Path(tempfile.mkdtemp()) / "load.json"
    try:
        process = subprocess.Popen(
            [*_load_args(server.url, cps, duration, options), "--json", str(report_file)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        sampler = _Sampler(process.pid)
        server_sampler = _Sampler(server.process.pid)
        sampler.start()
        server_sampler.start()
        _, errors = process.communicate(timeout=duration + 120)
        sampler.done.set()
        server_sampler.done.set()
    finally:
        server.stop()
    if not report_file.exists():
        raise RuntimeError(f"ocpp16 load wrote no report (exit {process.returncode}): {errors}")
    report = json.loads(report_file.read_text())
    timeline = report["timeline"]
    full = next((row["t"] for row in timeline if row["connected"] >= cps), None)
    start = (full if full is not None else cps / options.ramp + _SLACK) + _SETTLE
    end = min(start + options.steady, report["duration_s"] - _TAIL)
    rows = [row for row in timeline if start < row["t"] <= end]
    seconds = max(sum(row["step_s"] for row in rows), 1.0)
    calls = sum(row["calls"] for row in rows)
    cpu, rss = sampler.window(start, end)
    server_cpu, server_rss = server_sampler.window(start, end)
    return {
        "exit": process.returncode,
        "ok": report["ok"],
        "connected": max((row["connected"] for row in timeline), default=0),
        "ramp_s": full,
        "rate": calls / seconds,
        "p99_ms": max((row["p99_ms"] for row in rows), default=0.0),
        # Every call of the run, the ramp included (the report's one histogram).
        "run_p50_ms": report["calls"]["latency_ms"]["p50"],
        "run_p99_ms": report["calls"]["latency_ms"]["p99"],
        "calls": report["calls"]["calls"],
        "answered_ok": report["calls"]["ok"],
        "errors": report["errors"],
        "cpu_core": cpu / seconds,
        "memory_kib": (rss - baseline) / cps / 1024 if rss else 0.0,
        "server_cpu_core": server_cpu / seconds,
        "server_rss_mib": server_rss / 2**20,
        "window_s": seconds,
        "speed": options.speed,
        "loadavg": os.getloadavg()[0],
    }


# The peer: a fleet of the ocpp package's ChargePoint -----------------------------------------


async def _peer_fleet(
    url: str, cps: int, ramp: float, steady: float, rate: float
) -> dict[str, Any]:
    import websockets
    from ocpp.v16 import ChargePoint, call
    from websockets.typing import Subprotocol

    from ocpp16.load.histogram import Histogram

    loop = asyncio.get_running_loop()
    t0 = loop.time()
    ramp_end = t0 + cps / ramp
    state: dict[str, Any] = {"connected": 0, "failed": 0, "calls": 0, "errors": 0, "full": None}
    # The steady window opens once all are connected (or the ramp is _SLACK late).
    window: dict[str, Any] = {"calls": 0, "errors": 0, "start": None, "close": None}
    clock = {"end": float("inf")}
    seconds: dict[int, Histogram] = {}
    readers: list[asyncio.Task[Any]] = []
    sockets: list[Any] = []

    async def timed(cp: Any, payload: Any) -> None:
        began = loop.time()
        try:
            await cp.call(payload)
            ok = True
        except Exception:  # a CALLERROR, a timeout, a closed connection: not answered validly
            ok = False
        now = loop.time()
        state["calls"] += 1
        state["errors"] += not ok
        if window["start"] is not None and window["start"] <= now <= window["close"]:
            window["calls"] += 1
            window["errors"] += not ok
            seconds.setdefault(int(now - t0), Histogram()).record(now - began)

    async def one(number: int) -> None:
        await asyncio.sleep(max(t0 + number / ramp - loop.time(), 0.0))
        identity = f"PEER{number:05d}"
        try:
            ws = await websockets.connect(
                f"{url}/{identity}",
                subprotocols=[Subprotocol("ocpp1.6")],
                open_timeout=30,
            )
        except Exception:
            state["failed"] += 1
            return
        sockets.append(ws)
        state["connected"] += 1
        if state["connected"] == cps:
            state["full"] = loop.time() - t0
        cp = ChargePoint(identity, ws, response_timeout=30)
        readers.append(asyncio.create_task(cp.start()))
        await timed(
            cp, call.BootNotification(charge_point_model="peer", charge_point_vendor="ocpp")
        )
        rng = random.Random(number)
        due = loop.time() + rng.uniform(0, 1 / rate)
        sequence = 0
        while due < clock["end"]:
            await asyncio.sleep(max(due - loop.time(), 0.0))
            sequence += 1
            if sequence % 2:
                payload: Any = call.Heartbeat()
            else:
                stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                sample = {"timestamp": stamp, "sampledValue": [{"value": str(sequence * 10)}]}
                payload = call.MeterValues(connector_id=1, meter_value=[sample])
            await timed(cp, payload)
            due += 1 / rate

    before_rss, _ = _proc(os.getpid())
    tasks = [asyncio.create_task(one(n)) for n in range(1, cps + 1)]
    while state["connected"] + state["failed"] < cps and loop.time() < ramp_end + _SLACK:
        await asyncio.sleep(0.5)
    window["start"] = loop.time() + _SETTLE
    window["close"] = window["start"] + steady
    clock["end"] = window["close"] + _TAIL
    await asyncio.sleep(_SETTLE)

    def cpu_now() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    cpu_start = cpu_now()
    rss, _ = _proc(os.getpid())
    await asyncio.sleep(steady)
    cpu = cpu_now() - cpu_start
    span = steady
    await asyncio.wait(tasks, timeout=_TAIL + 35)
    for ws in sockets:
        ws.transport.abort()
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, *tasks, return_exceptions=True)
    return {
        "connected": state["connected"],
        "failed": state["failed"],
        "ramp_s": state["full"],
        "rate": window["calls"] / span,
        "errors": window["errors"] + state["failed"],
        "p99_ms": max((h.percentile(99) / 1000 for h in seconds.values()), default=0.0),
        "cpu_core": cpu / span,
        "memory_kib": (rss - before_rss) / max(state["connected"], 1) / 1024,
        "window_s": span,
        "loadavg": os.getloadavg()[0],
    }


def _peer(options: argparse.Namespace, cps: int, rate: float) -> dict[str, Any]:
    server = _Server()
    try:
        process = subprocess.run(
            [
                *(sys.executable, "-m", "bench.load", "--peer-worker", server.url),
                *("--cps", str(cps), "--ramp", str(options.ramp), "--steady", str(options.steady)),
                *("--rate", repr(rate)),
            ],
            capture_output=True,
            text=True,
            timeout=cps / options.ramp + _SLACK + options.steady + 240,
            check=False,
        )
    finally:
        server.stop()
    for line in reversed(process.stdout.splitlines()):
        if line.startswith("{"):
            result: dict[str, Any] = json.loads(line)
            return result
    raise RuntimeError(f"the peer fleet reported nothing: {process.stderr[-2000:]}")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _print(ours: dict[str, Any], peer: dict[str, Any] | None, cps: int) -> None:
    def per_core(result: dict[str, Any]) -> float:
        return float(result["rate"] / result["cpu_core"]) if result["cpu_core"] else 0.0

    rows: list[tuple[str, str, str, str]] = []

    def row(name: str, mine: str, theirs: str = "-", ratio: str = "-") -> None:
        rows.append((name, mine, theirs, ratio))

    p = peer or {}
    row(
        "charge points connected",
        f"{ours['connected']:,}",
        f"{p.get('connected', 0):,}",
        f"{ours['connected'] / p['connected']:.2f}x" if p.get("connected") else "-",
    )
    row("ramp to all connected (s)", _seconds(ours["ramp_s"]), _seconds(p.get("ramp_s")))
    row("calls/s answered, steady", f"{ours['rate']:,.0f}", f"{p.get('rate', 0):,.0f}")
    row("worst 1-s p99 (ms), steady", f"{ours['p99_ms']:.1f}", f"{p.get('p99_ms', 0):.1f}")
    row("p50, p99 of every call (ms)", f"{ours['run_p50_ms']:.1f}, {ours['run_p99_ms']:.1f}")
    row("load process CPU (cores)", f"{ours['cpu_core']:.2f}", f"{p.get('cpu_core', 0):.2f}")
    row(
        "calls/s per core",
        f"{per_core(ours):,.0f}",
        f"{per_core(p):,.0f}" if p else "-",
        f"{per_core(ours) / per_core(p):.2f}x" if p and per_core(p) else "-",
    )
    row(
        "memory per charge point (KiB)",
        f"{ours['memory_kib']:.1f}",
        f"{p.get('memory_kib', 0):.1f}",
    )
    cpu_per_cp = ours["cpu_core"] / max(ours["connected"], 1) * 1e6  # µs of CPU per wall second
    row("CPU per charge point (µs/s)", f"{cpu_per_cp:.0f}")
    row("  per simulated minute (ms)", f"{cpu_per_cp * 60 / ours['speed'] / 1000:.2f}")
    per_call = f"{1e6 / per_core(p):.0f}" if p and per_core(p) else "-"
    row(
        "CPU per call, all costs (µs)",
        f"{1e6 / per_core(ours):.0f}" if per_core(ours) else "-",
        per_call,
    )
    row("machine load average (1 min)", f"{ours['loadavg']:.1f}", f"{p.get('loadavg', 0):.1f}")
    row(
        "server CPU (cores), RSS (MiB)",
        f"{ours['server_cpu_core']:.2f}, {ours['server_rss_mib']:.0f}",
    )
    width = max(len(r[0]) for r in rows)
    print(f"{'':<{width}}  {'ocpp16 load':>14}  {'ocpp ChargePoint':>17}  {'ratio':>7}")
    for name, mine, theirs, ratio in rows:
        print(f"{name:<{width}}  {mine:>14}  {theirs:>17}  {ratio:>7}")
    answered = ours["calls"] == ours["answered_ok"]
    met = (
        ours["connected"] >= cps
        and answered
        and ours["rate"] >= TARGET_RATE * 0.9
        and ours["p99_ms"] < TARGET_P99_MS
    )
    print(
        f"\nocpp16: {ours['calls']:,} calls, {ours['answered_ok']:,} answered validly"
        f" (errors {ours['errors'] or 'none'}), load exit code {ours['exit']}; target"
        f" {cps:,} connected, ~{TARGET_RATE:,.0f} calls/s all answered, p99 < {TARGET_P99_MS:g} ms:"
        f" {'met' if met else 'NOT met'} ({os.cpu_count()} cores shared by the load, the server"
        " and the peer's runs; loopback)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--cps", type=int, default=TARGET_CPS)
    parser.add_argument("--ramp", type=float, default=150.0, help="charge points per second")
    parser.add_argument("--steady", type=float, default=40.0, help="seconds measured")
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--heartbeat", type=int, default=300)
    parser.add_argument("--meter-interval", type=int, default=120)
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--peer-worker", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, default=0.1, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if options.peer_worker:
        result = asyncio.run(
            _peer_fleet(
                options.peer_worker, options.cps, options.ramp, options.steady, options.rate
            )
        )
        print(json.dumps(result), flush=True)
        return 0
    print(
        f"bench.load: {options.cps:,} charge points at {options.ramp:g}/s, {options.steady:g} s"
        f" steady, --speed {options.speed:g} --heartbeat {options.heartbeat}"
        f" --meter-interval {options.meter_interval} --sessions auto",
        flush=True,
    )
    baseline = _baseline_rss(options)
    ours = _ours(options, baseline)
    peer = None
    if not options.skip_peer:
        # The rate ocpp16's fleet made per charge point; the target's when it fell short.
        per_cp = ours["rate"] / options.cps
        if ours["connected"] < options.cps or per_cp == 0:
            per_cp = TARGET_RATE / options.cps
        peer = _peer(options, options.cps, per_cp)
    _print(ours, peer, options.cps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
