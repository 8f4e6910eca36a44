"""Locust: OCPP calls per second that one Locust process makes with 1,000 charge point users.

Run: ``python -m bench.locust [--users 1000] [--seconds 20] [--speed 1000]``.

The central system is ``ocpp16 serve --json`` (its frames go to /dev/null), in its own process.
Locust runs headless, one process (a worker's whole share of a distributed run), ``--users``
users spawned at ``--spawn-rate`` per second, in turn:

1. **ocpp16**: examples/locustfile.py, each user one ``ChargePointUser``: the Station model
   (boot, statuses, heartbeats, random sessions with Authorize, StartTransaction, MeterValues,
   StopTransaction), every request and answer built and validated by the typed classes, over
   ``ocpp16.client``. ``--speed`` runs the stations' clocks so fast (heartbeats every 0.3 s at
   1000) that they always have a call due: the process is saturated, and the figure is its most.
2. **peer**: the simplest Locust OCPP user there is: websocket-client (the library most
   Locust WebSocket examples use), one BootNotification, then Heartbeat CALLs as fast as the
   answers come, matched by unique id and nothing validated.
3. **real time**: the same ocpp16 users at ``--ocpp-speed 1``, as a load test of a real central
   system runs them: the Locust process's CPU for the fleet (mostly idle charge points).

Calls per second come from Locust's own CSV history (``--csv``, aggregated requests, connects
excluded by starting once every user is up): the total over the measured window, once every user
has connected and a warm-up has passed, divided by its length. CPU is the Locust process's and
the server's user+system time over the same window, in % of one core; memory is the Locust
process's largest resident size in it. Loopback only; the run is
bounded by ``-t``. Each figure is ours, the peer's and the ratio (ours / peer).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any, Final

ROOT: Final = Path(__file__).resolve().parent.parent
LOCUSTFILE: Final = ROOT / "examples" / "locustfile.py"
BIN: Final = Path(sys.executable).parent
#: Seconds after the last user connected before measuring (connect storms, first bookings).
WARM_UP_S: Final = 3.0

#: The peer: a bare Locust user, websocket-client, Heartbeat after Heartbeat.
PEER_LOCUSTFILE: Final = """
import itertools
import json
import time

import websocket
from locust import User, constant, task

_numbers = itertools.count(1)


class BareHeartbeat(User):
    wait_time = constant(0)

    def on_start(self):
        self.number = next(_numbers)
        self.ids = itertools.count(1)
        began = time.perf_counter()
        self.ws = websocket.create_connection(
            f"{self.host}/BARE{self.number:05d}", subprotocols=["ocpp1.6"], timeout=30
        )
        self.fire("connect", began, 0, None)
        self.call("BootNotification", {"chargePointVendor": "bench", "chargePointModel": "bare"})

    def fire(self, name, began, length, error):
        self.environment.events.request.fire(
            request_type="OCPP", name=name, response_time=(time.perf_counter() - began) * 1000,
            response_length=length, exception=error, context={},
        )

    def call(self, action, payload):
        unique_id = str(next(self.ids))
        began = time.perf_counter()
        self.ws.send(json.dumps([2, unique_id, action, payload]))
        answer = self.ws.recv()
        frame = json.loads(answer)
        error = None if frame[:2] == [3, unique_id] else Exception(f"unexpected {answer[:80]}")
        self.fire(action, began, len(answer), error)

    @task
    def heartbeat(self):
        self.call("Heartbeat", {})

    def on_stop(self):
        self.ws.close()
"""


def _rss(pid: int) -> int:
    """Resident memory of process ``pid`` in bytes."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))


def _cpu(pid: int) -> float:
    """User+system CPU seconds of process ``pid``."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _listening(stream: IO[str]) -> str:
    """The URL from ``ocpp16 serve``'s first line on stderr (without the identity)."""
    line = stream.readline()
    if "listening on " not in line:
        raise RuntimeError(f"ocpp16 serve did not start: {line.strip()}")
    return line.split("listening on ")[1].split("/<identity>")[0]


def _history(path: Path) -> list[tuple[float, int, int]]:
    """(timestamp, users, total requests) of the Aggregated rows of Locust's CSV history."""
    rows = []
    with open(path, newline="") as file:
        for row in csv.DictReader(file):
            if row["Name"] == "Aggregated":
                rows.append(
                    (
                        float(row["Timestamp"]),
                        int(row["User Count"]),
                        int(row["Total Request Count"]),
                    )
                )
    return rows


def _measure(
    name: str, locustfile: Path, args: argparse.Namespace, folder: Path, options: list[str]
) -> dict[str, Any]:
    server = subprocess.Popen(
        [str(BIN / "ocpp16"), "serve", "--port", "0", "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        url = _listening(server.stderr)
        ramp = args.users / args.spawn_rate
        total = ramp + WARM_UP_S + args.seconds + 2
        prefix = folder / name
        command = [
            str(BIN / "locust"), "-f", str(locustfile), "--headless", "--only-summary",
            "-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{total:.0f}s",
            "--host", url, "--csv", str(prefix), "--csv-full-history", "--loglevel", "WARNING",
        ]  # fmt: skip
        command += options
        locust = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        samples: list[tuple[float, float, float, int]] = []  # time, CPU of both, Locust's RSS
        while locust.poll() is None and len(samples) < 10 * (total + 30):
            with contextlib.suppress(OSError, StopIteration):  # it may end meanwhile
                samples.append((time.time(), _cpu(locust.pid), _cpu(server.pid), _rss(locust.pid)))
            time.sleep(0.5)
        _, err = locust.communicate(timeout=60)
    finally:
        server.terminate()
        server.communicate(timeout=10)
    history = _history(folder / f"{name}_stats_history.csv")
    full = [row for row in history if row[1] >= args.users]
    if not full:
        raise RuntimeError(f"{name}: never reached {args.users} users\n{err.decode()[-2000:]}")
    begin = full[0][0] + WARM_UP_S
    window = [row for row in full if begin <= row[0] <= begin + args.seconds]
    if len(window) < 2:
        raise RuntimeError(f"{name}: too short a run to measure")
    (t0, _, n0), (t1, _, n1) = window[0], window[-1]
    cpu = [s for s in samples if t0 <= s[0] <= t1]
    with open(folder / f"{name}_stats.csv", newline="") as file:
        stats = list(csv.DictReader(file))
    aggregated = next(row for row in stats if row["Name"] == "Aggregated")
    return {
        "calls_per_s": (n1 - n0) / (t1 - t0),
        "locust_cpu": 100 * (cpu[-1][1] - cpu[0][1]) / (cpu[-1][0] - cpu[0][0]),
        "server_cpu": 100 * (cpu[-1][2] - cpu[0][2]) / (cpu[-1][0] - cpu[0][0]),
        "rss_mib": max(sample[3] for sample in cpu) / 2**20,
        "requests": int(aggregated["Request Count"]),
        "failures": int(aggregated["Failure Count"]),
        "median_ms": float(aggregated["Median Response Time"]),
        "p99_ms": float(aggregated["99%"]),
        "actions": sorted(row["Name"] for row in stats if row["Type"] == "OCPP"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.locust", description=__doc__)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--spawn-rate", type=float, default=200.0, help="users per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured, after warm-up")
    parser.add_argument("--speed", type=float, default=1000.0, help="ocpp16's station clocks")
    parser.add_argument(
        "--no-real-time", dest="real_time", action="store_false", help="skip the speed-1 run"
    )
    args = parser.parse_args(argv)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        peer = folder / "bare_locustfile.py"
        peer.write_text(PEER_LOCUSTFILE)
        fast = ["--ocpp-speed", str(args.speed), "--ocpp-seed", "1"]
        results["ocpp16"] = _measure("ocpp16", LOCUSTFILE, args, folder, fast)
        results["peer"] = _measure("peer", peer, args, folder, [])
        if args.real_time:
            slow = ["--ocpp-speed", "1", "--ocpp-seed", "1"]
            results["real"] = _measure("real", LOCUSTFILE, args, folder, slow)
    ours, theirs = results["ocpp16"], results["peer"]
    print(
        f"locust: {args.users} users in one Locust process, against ocpp16 serve, saturated"
        f" ({args.seconds:g} s measured after {WARM_UP_S:g} s warm-up); loopback,"
        f" {os.cpu_count()} cores shared by both processes"
    )
    print(f"{'':36}{'ocpp16 ChargePointUser':>24}{'bare websocket-client':>24}{'ratio':>9}")
    # (label, key, format, compared): a ratio only where more is better.
    rows = [
        ("calls per second (one process)", "calls_per_s", "{:,.0f}", True),
        ("  Locust process CPU, % of a core", "locust_cpu", "{:.0f}", False),
        ("  server CPU, % of a core", "server_cpu", "{:.0f}", False),
        ("  Locust process memory, MiB", "rss_mib", "{:.0f}", False),
        ("  calls per CPU-second of Locust", None, "{:,.0f}", True),
        ("  median response time, ms", "median_ms", "{:.0f}", False),
        ("  p99 response time, ms", "p99_ms", "{:.0f}", False),
        ("requests in the whole run", "requests", "{:,.0f}", False),
        ("  failures", "failures", "{:,.0f}", False),
    ]
    for label, key, fmt, compared in rows:
        if key is None:
            mine = 100 * ours["calls_per_s"] / max(ours["locust_cpu"], 1e-9)
            peer_figure = 100 * theirs["calls_per_s"] / max(theirs["locust_cpu"], 1e-9)
        else:
            mine, peer_figure = ours[key], theirs[key]
        ratio = f"{mine / peer_figure:>8.2f}x" if compared and peer_figure else f"{'':>9}"
        print(f"{label:36}{fmt.format(mine):>24}{fmt.format(peer_figure):>24}{ratio}")
    print(f"ocpp16's users sent: {', '.join(ours['actions'])}")
    print("peer's users sent: " + ", ".join(theirs["actions"]))
    real = results.get("real")
    if real is not None:
        print(
            f"real time (--ocpp-speed 1): {args.users} charge points living as the station says"
            f" make {real['calls_per_s']:,.1f} calls/s for {real['locust_cpu']:.1f}% of a core"
            f" ({10 * real['locust_cpu'] / args.users:.2f} ms of CPU per charge point per"
            f" second) and {real['rss_mib']:.0f} MiB in all"
            f" ({real['rss_mib'] * 1024 / args.users:.0f} KiB per charge point, Locust included),"
            f" {real['failures']} failures"
        )
    print(
        "ratio: ocpp16 / peer. The peer validates nothing and runs no charge point: it is the"
        " ceiling of a Locust process making OCPP calls, not a rival charge point."
    )


if __name__ == "__main__":
    main()
