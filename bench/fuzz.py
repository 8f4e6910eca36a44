"""Fuzzing speed: mutated CALLs per second against ``ocpp16 serve`` on loopback.

Run: ``python -m bench.fuzz [--seconds 10]``. ``ocpp16 serve --json`` (the real command, its
one JSON line per frame discarded; its default indented, coloured exchanges cost several times
more than the fuzzing itself) runs in its own process; the fuzzer runs in this one, with 1 and
then 8 connections, for ``--seconds`` each (no minimization). Reported: cases per second (each
case is one mutated CALL, a broken frame or a short sequence) and frames sent per second.
Target: at least 2,000 per second with 8 connections.

The same fuzzing (8 connections) against ocpp16's CentralSystem without a console (the SDK, as
``bench.serve_scale`` serves it) shows what the console costs. The peer, from the same run
against the same server: ``ocpp16 check``, the one-defect-at-a-time
conformance check, in cases per second.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Final

from bench.check import OCPP16, _free_port, _server
from ocpp16.conformance.runner import CheckOptions, run_check
from ocpp16.fuzz.engine import FuzzOptions, FuzzReport, run_fuzz

TARGET_PER_SECOND: Final = 2000


@contextlib.contextmanager
def _sdk_server() -> Iterator[int]:
    """ocpp16's CentralSystem without a console (``bench.serve_scale``'s server role)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.serve_scale", "--role", "server", "--impl", "ocpp16",
         "--connections", "64"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        yield int(process.stdout.readline().split()[1])
    finally:
        process.terminate()
        process.wait(10)


def _fuzz(url: str, connections: int, seconds: float) -> FuzzReport:
    options = FuzzOptions(
        url=url, duration=seconds, connections=connections, seed=1, timeout=5.0, minimize=False
    )
    return run_fuzz(options)


def _check(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    report = run_check(CheckOptions(url=url, seed=0, timeout=5.0))
    return time.perf_counter() - started, len(report.outcomes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    port = _free_port()
    url = f"ws://127.0.0.1:{port}/ocpp/BENCH"
    with _server([OCPP16, "serve", "--port", str(port), "--json"], port):
        runs = {k: _fuzz(url, k, args.seconds) for k in (1, 8)}
        check_s, check_cases = _check(url)
    with _sdk_server() as sdk_port:
        sdk = _fuzz(f"ws://127.0.0.1:{sdk_port}/ocpp/BENCH", 8, args.seconds)
    peer = check_cases / check_s
    print(f"ocpp16 fuzz against ocpp16 serve, {args.seconds:g} s per run (seed 1)")
    for connections, report in runs.items():
        frames = report.calls / report.elapsed_s
        found = len(report.findings)
        print(
            f"  {connections} connection{'s' if connections > 1 else ' '}: "
            f"{report.cases_per_second:7,.0f} cases/s, {frames:7,.0f} frames/s"
            f" ({report.cases} cases, {found} findings)"
        )
    print(
        f"  8 connections, against the CentralSystem SDK without a console:"
        f" {sdk.cases_per_second:7,.0f} cases/s, {sdk.calls / sdk.elapsed_s:7,.0f} frames/s"
    )
    print(f"  peer, ocpp16 check : {peer:7,.0f} cases/s ({check_cases} cases in {check_s:.2f} s)")
    best = runs[8].cases_per_second
    print(f"  ratio (8 connections / check): {best / peer:.1f}x")
    verdict = "met" if best >= TARGET_PER_SECOND else "NOT met"
    print(f"  target {TARGET_PER_SECOND:,}/s with 8 connections: {verdict}")


if __name__ == "__main__":
    main()
