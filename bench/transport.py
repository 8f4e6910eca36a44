"""Charge point transport speed: sequential calls per second on one connection, and start-up.

Every client calls the same local server: a minimal ``websockets`` server in a subprocess that
answers each CALL at once with a fixed valid CALLRESULT (no compression, so every client sends
and receives the same plain frames). One connection each, one call after the other:

(a) ocpp16: ``cp.call(BootNotificationRequest(...))``: the typed request is built and validated,
    sent, and its answer parsed and validated into a BootNotificationResponse;
(b) the `ocpp` package's ``ChargePoint.call(call.BootNotification(...))`` on an asyncio
    ``websockets`` connection, with its default jsonschema validation of request and response;
(c) the ceiling: bare websocket-client sending the same CALL text and reading the answer
    (UTF-8 validation skipped, as ocpp16's transport does), no JSON, no validation; shown too,
    (d) the same loop with websocket-client's defaults (it checks UTF-8 in pure Python).

Each is measured for ``--seconds`` in ``--rounds`` interleaved rounds; the median round counts.
Targets: (a) >= 2.5 x (b) and (a) >= 80 % of (c).

Then start-up: the median wall time of ``ocpp16 send Heartbeat --url ...`` as a new process
against ``python -c pass`` (and ``python -c "import ocpp16"`` for the SDK's own import, a
one-command Typer app with one option for what Typer alone costs, and ``ocpp16 --help``); target:
at most 150 ms more than ``python -c pass``. Byte code is cached first (as after any install),
even where PYTHONDONTWRITEBYTECODE is set.

Run: ``python -m bench.transport [--seconds 2] [--rounds 3] [--starts 10] [--startup-only]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

TARGET_VS_OCPP: Final = 2.5
TARGET_VS_CEILING: Final = 0.80
TARGET_STARTUP_MS: Final = 150.0
WARMUP_CALLS: Final = 300

BOOT: Final = {"chargePointVendor": "Acme", "chargePointModel": "X1"}
ANSWERS: Final = {
    "BootNotification": {
        "status": "Accepted",
        "currentTime": "2025-01-01T00:00:00Z",
        "interval": 300,
    },
    "Heartbeat": {"currentTime": "2025-01-01T00:00:00Z"},
}


# The server: a subprocess ------------------------------------------------------------------------


async def _serve() -> None:
    from websockets.asyncio.server import ServerConnection, serve
    from websockets.exceptions import ConnectionClosed
    from websockets.typing import Subprotocol

    async def answer(connection: ServerConnection) -> None:
        try:
            async for message in connection:
                frame = json.loads(message)
                await connection.send(json.dumps([3, frame[1], ANSWERS[frame[2]]]))
        except ConnectionClosed:
            pass

    subprotocols = [Subprotocol("ocpp1.6")]
    async with serve(answer, "127.0.0.1", 0, subprotocols=subprotocols, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(port, flush=True)
        await asyncio.Event().wait()


class _Server:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.transport", "--serve"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.url = f"ws://127.0.0.1:{int(self.process.stdout.readline())}/ocpp/CP1"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


# The clients ---------------------------------------------------------------------------------


def _rate(call: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``call`` over ``seconds`` (checking the clock every 100 calls)."""
    for _ in range(WARMUP_CALLS):
        call()
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(100):
            call()
        done += 100
        now = time.perf_counter()
        if now >= deadline:
            return done / (now - start)


def _ocpp16(url: str, seconds: float) -> float:
    import ocpp16
    from ocpp16 import BootNotificationRequest, BootNotificationResponse

    with ocpp16.connect(url) as cp:

        def call() -> None:
            request = BootNotificationRequest(charge_point_vendor="Acme", charge_point_model="X1")
            response = cp.call(request)
            assert type(response) is BootNotificationResponse

        return _rate(call, seconds)


def _bare_loop(ws: Any, seconds: float) -> float:
    """Calls per second of a bare send/recv loop of the same CALL frame on ``ws``."""
    text = json.dumps([2, "d7f6fa5e-8a1b-4c3e-9f55-0d7b8a3c2e11", "BootNotification", BOOT])

    def call() -> None:
        ws.send(text)
        ws.recv()

    try:
        return _rate(call, seconds)
    finally:
        ws.close()


def _ceiling(url: str, seconds: float) -> float:
    import websocket

    # The options our transport uses: no UTF-8 check of received text (json.loads checks it).
    ws = websocket.create_connection(
        url,
        header=["Sec-WebSocket-Protocol: ocpp1.6"],
        skip_utf8_validation=True,
        enable_multithread=False,
    )
    return _bare_loop(ws, seconds)


def _defaults(url: str, seconds: float) -> float:
    import websocket

    return _bare_loop(websocket.create_connection(url, subprotocols=["ocpp1.6"]), seconds)


def _ocpp(url: str, seconds: float) -> float:
    return asyncio.run(_ocpp_async(url, seconds))


async def _ocpp_async(url: str, seconds: float) -> float:
    from ocpp.v16 import ChargePoint, call
    from websockets.asyncio.client import connect
    from websockets.typing import Subprotocol

    async with connect(url, subprotocols=[Subprotocol("ocpp1.6")], compression=None) as ws:
        cp = ChargePoint("CP1", ws)
        reader = asyncio.create_task(cp.start())

        async def one() -> None:
            request = call.BootNotification(charge_point_vendor="Acme", charge_point_model="X1")
            response = await cp.call(request)
            assert response.status == "Accepted"

        for _ in range(WARMUP_CALLS):
            await one()
        done = 0
        start = time.perf_counter()
        deadline = start + seconds
        while True:
            for _ in range(100):
                await one()
            done += 100
            now = time.perf_counter()
            if now >= deadline:
                break
        reader.cancel()
        return done / (now - start)


CLIENTS: Final = {
    "a": ("ocpp16 ChargePoint.call (typed, validated)", _ocpp16),
    "b": ("ocpp 2.1.0 ChargePoint.call (jsonschema)", _ocpp),
    "c": ("bare websocket-client send/recv (ceiling)", _ceiling),
    "d": ("bare websocket-client, default options", _defaults),
}


# Start-up ------------------------------------------------------------------------------------


# What Typer alone costs: a one-command app with one option, doing nothing.
TYPER_FLOOR: Final = """
import typer

app = typer.Typer()


@app.command()
def main(url: str = "") -> None:
    pass


app()
"""


def _startup(url: str, runs: int) -> dict[str, tuple[float, float]]:
    """Median wall time and CPU time (user + system) in ms of each command as a new process.

    The commands take turns, so a burst of other work on the machine hits them all alike; CPU
    time is the steadier figure where other work shares the cores.
    """
    ocpp16 = str(Path(sys.executable).with_name("ocpp16"))
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import ocpp16"': [sys.executable, "-c", "import ocpp16"],
        "one-command Typer app (Typer's floor)": [sys.executable, "-c", TYPER_FLOOR, "--url", url],
        "ocpp16 --help": [ocpp16, "--help"],
        "ocpp16 send Heartbeat --url ...": [ocpp16, "send", "Heartbeat", "--url", url],
    }
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for command in commands.values():  # caches byte code
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    wall: dict[str, list[float]] = {label: [] for label in commands}
    cpu: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(runs):
        for label, command in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
            wall[label].append((time.perf_counter() - start) * 1000)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            cpu[label].append(used * 1000)
    return {
        label: (statistics.median(wall[label]), statistics.median(cpu[label])) for label in commands
    }


def _print_startup(startup: dict[str, tuple[float, float]], runs: int) -> None:
    import typer

    print(f"\nStart-up of {runs} new processes each, median (typer {typer.__version__}):")
    print(f"  {'':40} {'wall':>9} {'CPU':>9}")
    for label, (wall, cpu) in startup.items():
        print(f"  {label:40} {wall:6.1f} ms {cpu:6.1f} ms")
    for kind, i in (("wall", 0), ("CPU", 1)):
        bare = startup["python -c pass"][i]
        extra = startup["ocpp16 send Heartbeat --url ..."][i] - bare
        sdk = startup['python -c "import ocpp16"'][i] - bare
        floor = startup["one-command Typer app (Typer's floor)"][i] - bare
        print(
            f"  {kind}: ocpp16 send over python -c pass: {extra:.1f} ms (import ocpp16:"
            f" {sdk:.1f} ms; Typer's floor: {floor:.1f} ms; the rest: {extra - floor:.1f} ms)"
        )
    extra = startup["ocpp16 send Heartbeat --url ..."][0] - startup["python -c pass"][0]
    print(f"  target <= {TARGET_STARTUP_MS:g} ms (wall): {_verdict(extra <= TARGET_STARTUP_MS)}")


# Report --------------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "meets the target" if ok else "MISSES the target"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.transport", description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per client")
    parser.add_argument("--starts", type=int, default=10, help="process starts to time")
    parser.add_argument("--startup-only", action="store_true", help="measure start-up only")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve())
        return

    server = _Server()
    try:
        rounds: dict[str, list[float]] = {key: [] for key in CLIENTS}
        for _ in range(0 if args.startup_only else args.rounds):
            for key, (_, measure) in CLIENTS.items():
                rounds[key].append(measure(server.url, args.seconds))
        startup = _startup(server.url, args.starts)
    finally:
        server.stop()

    if not args.startup_only:
        _print_rates(rounds, args.rounds, args.seconds)
    _print_startup(startup, args.starts)


def _print_rates(rounds: dict[str, list[float]], count: int, seconds: float) -> None:
    rates = {key: statistics.median(values) for key, values in rounds.items()}
    print(f"Sequential calls per second, one connection, {count} x {seconds:g} s:")
    for key, (label, _) in CLIENTS.items():
        spread = ", ".join(f"{value:,.0f}" for value in rounds[key])
        print(f"  ({key}) {label:46} {rates[key]:>9,.0f}/s  (rounds: {spread})")
    versus_ocpp = rates["a"] / rates["b"]
    versus_ceiling = rates["a"] / rates["c"]
    versus_defaults = rates["a"] / rates["d"]
    print(
        f"  (a)/(b) = {versus_ocpp:.2f} x   target >= {TARGET_VS_OCPP} x: "
        f"{_verdict(versus_ocpp >= TARGET_VS_OCPP)}"
    )
    print(
        f"  (a)/(c) = {versus_ceiling:.0%}     target >= {TARGET_VS_CEILING:.0%}: "
        f"{_verdict(versus_ceiling >= TARGET_VS_CEILING)}"
    )
    print(f"  (a)/(d) = {versus_defaults:.0%}")


if __name__ == "__main__":
    main()
