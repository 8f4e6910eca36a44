"""Conformance check speed: the full suite for every CP→CS action, cases per second.

Run: ``python -m bench.check [--rounds 3]``. The central system under test runs in its own
process: ``ocpp16 serve`` (the real command, output discarded), then the peer, the `ocpp`
package's v16 ``ChargePoint`` routed as a central system (``bench.serve_scale``'s server role).
The peer answers every CP→CS action with a random valid response, after its own validation.
The check runs in this process. Target: the full suite against ``ocpp16 serve`` in under 10 s.
The peer's time includes the case it never answers (one ``--timeout`` of 1 s).
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from ocpp16.conformance.cases import build_cases
from ocpp16.conformance.runner import CheckOptions, run_check

TARGET_SECONDS: Final = 10.0
OCPP16: Final = str(Path(sys.executable).with_name("ocpp16"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for(port: int, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {seconds:g} s")


@contextlib.contextmanager
def _server(command: list[str], port: int) -> Iterator[None]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(port)
        yield
    finally:
        process.terminate()
        process.wait(10)


def _peer_server() -> None:
    """The `ocpp` package as a central system taking every CP→CS action; prints ``PORT n``."""
    import asyncio
    from typing import Any

    from ocpp.charge_point import camel_to_snake_case
    from ocpp.v16 import ChargePoint, call_result
    from websockets.asyncio.server import ServerConnection, serve

    from ocpp16 import ACTIONS

    class CentralSystemSide(ChargePoint):  # type: ignore[misc]  # ocpp is untyped
        def __init__(self, identity: str, connection: Any) -> None:
            super().__init__(identity, connection)
            for action in ACTIONS.values():
                if action.sender.charge_point_sends:
                    self.route_map[action.name] = {"_on_action": self._answer(action.name)}

        def _answer(self, name: str) -> Any:
            def answer(**_: Any) -> Any:
                payload = ACTIONS[name].response.random().to_dict()
                return getattr(call_result, name)(**camel_to_snake_case(payload))

            return answer

    async def handler(connection: ServerConnection) -> None:
        assert connection.request is not None
        identity = connection.request.path.rpartition("/")[2]
        with contextlib.suppress(Exception):
            await CentralSystemSide(identity, connection).start()

    async def main() -> None:
        async with serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:  # type: ignore[list-item]
            print(f"PORT {next(iter(server.sockets)).getsockname()[1]}", flush=True)
            await asyncio.Future()

    asyncio.run(main())


def _run(url: str, rounds: int, timeout: float) -> tuple[float, int, Counter[str]]:
    """Best time of ``rounds`` full checks, the case count, and the grades of the last one."""
    best, count, grades = float("inf"), 0, Counter[str]()
    for _ in range(rounds):
        start = time.perf_counter()
        report = run_check(CheckOptions(url=url, seed=0, timeout=timeout))
        best = min(best, time.perf_counter() - start)
        count = len(report.outcomes)
        grades = Counter(o.grade.value for o in report.outcomes)
    return best, count, grades


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--role", choices=["check", "server"], default="check")
    args = parser.parse_args()
    if args.role == "server":
        _peer_server()
        return
    cases = len(build_cases(seed=0))

    port = _free_port()
    with _server([OCPP16, "serve", "--port", str(port)], port):
        ours, count, grades = _run(f"ws://127.0.0.1:{port}/ocpp/BENCH", args.rounds, 5.0)
    peer_process = subprocess.Popen(
        [sys.executable, "-m", "bench.check", "--role", "server"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert peer_process.stdout is not None
        peer_port = int(peer_process.stdout.readline().split()[1])
        peer, peer_count, peer_grades = _run(
            f"ws://127.0.0.1:{peer_port}/ocpp/BENCH", args.rounds, 1.0
        )
    finally:
        peer_process.terminate()
        peer_process.wait(10)

    print(f"full suite: {cases} cases for the 10 CP→CS actions and the frame-level defects")
    print(
        f"  ocpp16 serve     : {ours:6.2f} s, {count / ours:7,.0f} cases/s "
        f"(target under {TARGET_SECONDS:g} s) grades {dict(grades)}"
    )
    print(
        f"  peer, ocpp 2.1.0 : {peer:6.2f} s, {peer_count / peer:7,.0f} cases/s "
        f"grades {dict(peer_grades)}"
    )
    print(f"  ratio (cases/s)  : {(count / ours) / (peer_count / peer):.1f}x")


if __name__ == "__main__":
    main()
