"""``ocpp16 load`` through Typer's CliRunner, against ``ocpp16``'s CentralSystem and the `ocpp`
package's central system, on loopback; ``--speed`` keeps each run to a few seconds.

The server counts what it received itself (its ``on_exchange`` and ``on_connection``
callbacks), so the load report is checked against an independent tally.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ocpp16_cli.exit_codes import ExitCode
from ocpp16_cli.main import app
from typer.testing import CliRunner, Result

from ocpp16 import CentralSystem
from ocpp16._events import ConnectionEvent, Exchange
from tests.loopback import CentralSystemThread, OcppCentralSystem, ServerThread


class Tally:
    """What the central system saw, counted in its own event loop thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.exchanges: list[Exchange] = []
        self.connections: Counter[str] = Counter()

    def exchange(self, exchange: Exchange) -> None:
        with self.lock:
            self.exchanges.append(exchange)

    def connection(self, event: ConnectionEvent) -> None:
        if event.kind == "connected" and event.identity is not None:
            with self.lock:
                self.connections[event.identity] += 1

    def calls(self) -> Counter[str]:
        return Counter(e.action for e in self.exchanges if e.initiator == "cp")

    def of(self, action: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.initiator == "cp" and e.action == action]


@pytest.fixture
def served() -> Iterator[tuple[CentralSystemThread, Tally]]:
    tally = Tally()
    central = CentralSystem(on_exchange=tally.exchange, on_connection=tally.connection)
    with CentralSystemThread(central) as server:
        yield server, tally


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def base_url(server: CentralSystemThread) -> str:
    return f"ws://127.0.0.1:{server.port}/ocpp"


def run_load(url: str, tmp_path: Path, *extra: str) -> tuple[Result, dict[str, Any]]:
    report = tmp_path / "report.json"
    result = invoke("load", url, "--json", str(report), *extra)
    assert report.exists(), result.output
    return result, json.loads(report.read_text())


LIVING = ("--sessions", "auto", "--speed", "120", "--heartbeat", "60", "--meter-interval", "30")


def test_200_charge_points_against_serve(
    served: tuple[CentralSystemThread, Tally], tmp_path: Path
) -> None:
    server, tally = served
    page = tmp_path / "report.html"
    result, report = run_load(
        base_url(server),
        tmp_path,
        *("--cps", "200", "--ramp", "500", "--duration", "4", "--seed", "7"),
        *LIVING,
        *("--html", str(page)),
    )
    assert result.exit_code == ExitCode.OK, result.output
    points = report["charge_points"]
    assert points["started"] == points["ever_connected"] == points["booted"] == 200
    booted = {e.identity for e in tally.of("BootNotification")}
    assert booted == {f"CP{n:05d}" for n in range(1, 201)}
    # Every call answered validly, and counted the same on both sides.
    assert report["ok"] and report["calls"]["calls"] == report["calls"]["ok"] > 0
    assert {name: a["calls"] for name, a in report["actions"].items()} == dict(tally.calls())
    for action in ("Heartbeat", "StatusNotification", "MeterValues", "StartTransaction"):
        assert report["actions"][action]["ok"] > 0, action
    assert all(e.ok for e in tally.exchanges)
    assert report["timeline"] and max(row["connected"] for row in report["timeline"]) == 200
    assert "every call answered validly" in result.output
    # The page: three charts drawn as inline SVG, and the report itself as data.
    text = page.read_text()
    assert text.count("<svg") == 3
    for title in ("Calls per second", "Latency percentiles", "Connected charge points"):
        assert title in text
    embedded = re.search(r'id="ocpp16-load-report">\n(.*)\n</script>', text, re.S)
    assert embedded is not None
    assert json.loads(embedded.group(1).replace("<\\/", "</")) == report
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)  # nothing loaded from outside


def test_json_to_stdout_for_a_pipe(served: tuple[CentralSystemThread, Tally]) -> None:
    """``--json -`` as for check and fuzz: the report alone on stdout, the rest on stderr."""
    server, _ = served
    result = invoke("load", base_url(server), "--cps", "3", "--duration", "1", "--json", "-")
    assert result.exit_code == ExitCode.OK, result.output
    assert json.loads(result.stdout)["charge_points"]["booted"] == 3
    assert "ocpp16 load: complete; every call answered validly" in result.stderr
    assert not Path("-").exists()


def test_the_summary_says_how_many_problems_it_does_not_print() -> None:
    from ocpp16 import CallError, HeartbeatRequest

    central = CentralSystem()

    @central.on(HeartbeatRequest)
    def refuse(request: HeartbeatRequest, session: Any) -> Any:
        raise CallError("NotSupported", "no heartbeats here")

    with CentralSystemThread(central) as server:
        result = invoke(
            "load", base_url(server), *("--cps", "3", "--duration", "2", "--heartbeat", "1"),
            *("--speed", "20"),
        )  # fmt: skip
    assert result.exit_code == ExitCode.FAILURE, result.output
    lines = result.output.splitlines()
    shown = [line for line in lines if line.startswith("  Heartbeat: CALLERROR NotSupported")]
    assert len(shown) == 10, result.output
    assert re.search(r"^  \.\.\. and \d+ more listed in the --json and --html reports$",
                     result.output, re.M)  # fmt: skip
    assert lines[-1].startswith("ocpp16 load: complete; NOT OK: ")


def test_against_the_ocpp_package(tmp_path: Path) -> None:
    central = OcppCentralSystem()
    with ServerThread(central.handler) as server:
        result, report = run_load(
            f"ws://127.0.0.1:{server.port}/ocpp",
            tmp_path,
            *("--cps", "20", "--ramp", "100", "--duration", "3", "--seed", "3"),
            *LIVING,
        )
    assert result.exit_code == ExitCode.OK, result.output
    # Its answers are random: a boot may be Pending or Rejected, and is then sent again.
    assert report["ok"] and report["charge_points"]["ever_connected"] == 20
    handled = Counter(action for action, _ in central.handled)
    # The ocpp package validated every CALL before its handler ran: all of them arrived valid.
    assert {name: a["calls"] for name, a in report["actions"].items()} == dict(handled)
    assert handled["BootNotification"] >= 20 and len(central.handled) > 20


def _payload(frame: Any) -> Any:
    assert isinstance(frame, list), frame
    return frame[-1]


def _delivered_once(tally: Tally) -> None:
    """No transaction message reached the central system twice."""
    # Exchanges carry the frames: [2, id, action, payload] and [3, id, payload].
    starts = [
        (e.identity, e.request[3]["connectorId"], e.request[3]["timestamp"])
        for e in tally.of("StartTransaction")
    ]
    assert starts and len(starts) == len(set(starts))
    issued = {_payload(e.response)["transactionId"] for e in tally.of("StartTransaction")}
    stops = [e.request[3]["transactionId"] for e in tally.of("StopTransaction")]
    assert len(stops) == len(set(stops)) and set(stops) <= issued
    samples = [
        (e.request[3]["transactionId"], e.request[3]["meterValue"][0]["timestamp"])
        for e in tally.of("MeterValues")
        if "transactionId" in e.request[3]
    ]
    assert samples and len(samples) == len(set(samples))
    assert {tx for tx, _ in samples} <= issued


@pytest.mark.parametrize(
    ("pattern", "cause"),
    [
        (("--storm", "--storm-at", "2"), None),
        (("--blackout", "1.5", "--blackout-at", "2"), "network down (simulated)"),
    ],
    ids=["storm", "blackout"],
)
def test_patterns_reconnect_everyone_and_deliver_once(
    served: tuple[CentralSystemThread, Tally],
    tmp_path: Path,
    pattern: tuple[str, ...],
    cause: str | None,
) -> None:
    server, tally = served
    result, report = run_load(
        base_url(server),
        tmp_path,
        *("--cps", "100", "--ramp", "500", "--duration", "6", "--seed", "11"),
        *("--sessions", "auto", "--speed", "300", "--heartbeat", "60", "--meter-interval", "60"),
        *pattern,
    )
    assert result.exit_code == ExitCode.OK, result.output
    # Every charge point was cut once and connected again (the server saw each twice).
    assert report["patterns"]["cut"] == 100
    assert report["connections"]["ended"]["cut"] == 100
    assert report["connections"]["reconnects"] == 100
    assert tally.connections == Counter({f"CP{n:05d}": 2 for n in range(1, 101)})
    if cause is not None:  # connecting failed while the network was down, then succeeded
        assert report["connections"]["failures"][cause] > 0
    assert {name: a["calls"] for name, a in report["actions"].items()} == dict(tally.calls())
    _delivered_once(tally)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_ctrl_c_stops_and_writes_the_report_marked_incomplete(
    served: tuple[CentralSystemThread, Tally], tmp_path: Path
) -> None:
    server, tally = served
    report_file = tmp_path / "report.json"
    command = [sys.executable, "-m", "ocpp16_cli", "load", base_url(server), "--cps", "20"]
    process = subprocess.Popen(
        [*command, "--duration", "120", "--json", str(report_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len(tally.of("BootNotification")) < 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, output
    report = json.loads(report_file.read_text())
    assert not report["complete"] and not report["ok"]
    assert report["charge_points"]["booted"] == 20
    assert report["actions"]["BootNotification"]["calls"] == 20
    assert "interrupted: incomplete" in output and "Traceback" not in output
    # The verdict says why the run is not OK, not only that it is not.
    assert report["verdict"] == "NOT OK: interrupted before the end"
    assert "ocpp16 load: interrupted: incomplete; NOT OK: interrupted before the end" in output


def test_no_charge_point_connects_is_exit_3(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    url = f"ws://127.0.0.1:{_free_port()}/ocpp"
    result = invoke("load", url, "--cps", "50", "--duration", "30", "--json", str(report))
    assert result.exit_code == ExitCode.CONNECT
    assert "no charge point could connect" in result.output and "refused" in result.output
    assert "Traceback" not in result.output and not report.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--sessions", "many"), "--sessions: expected auto"),
        (("--blackout", "9", "--duration", "5"), "--blackout: expected seconds"),
        (("--storm-at", "7", "--duration", "5"), "--storm-at: expected 0 to under --duration"),
        (("--blackout-at", "1"), "--blackout-at needs --blackout"),
        (("--heartbeat", "0"), "--heartbeat: expected 1 to 86400"),
        (("--cps", "10000000"), "--cps"),
        (("--id-prefix", "CP\x1b[31m"), "--id-prefix"),
        (("--json", "/no/such/dir/r.json"), "no such directory"),
        (("--json", "/"), "--json /: is a directory"),  # before the run, not after it
        (("--html", "/"), "--html /: is a directory"),
        (("--json", "-", "--html", "-"), "--json and --html both name stdout"),
        (("--ramp", "inf"), "--ramp: expected charge points per second"),
        (("--speed", "0"), "--speed"),
    ],
    ids=lambda value: value[0] if isinstance(value, tuple) else None,
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    url = f"ws://127.0.0.1:{_free_port()}/ocpp"  # nothing listens: nothing may be tried
    argv = ["load", url, *args]
    if "--cps" not in args:
        argv += ["--cps", "5"]
    result = invoke(*argv)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert message in result.output and "Traceback" not in result.output


def test_the_help_names_the_extra_and_no_exit_code_load_does_not_have() -> None:
    result = CliRunner().invoke(app, ["load", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "extra ocpp16[report]" in result.output
    assert "exit code 7" not in result.output


def test_html_without_the_extra_is_exit_2_before_the_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)
    page = tmp_path / "r.html"
    url = f"ws://127.0.0.1:{_free_port()}/ocpp"
    result = invoke("load", url, "--cps", "5", "--html", str(page))
    assert result.exit_code == ExitCode.USAGE
    assert "pip install 'ocpp16[report]'" in result.output
    assert "no charge point" not in result.output and not page.exists()


def test_the_live_view_renders_in_the_event_loop() -> None:
    import io

    from ocpp16_cli.commands.load import _View
    from rich.console import Console

    from ocpp16.load import Fleet, LoadConfig
    from ocpp16.load.histogram import Histogram
    from ocpp16.load.stats import Row

    view = _View()
    view.console = Console(file=io.StringIO(), force_terminal=True, width=100)
    view.is_live = True
    view.fleet = Fleet(LoadConfig(f"ws://127.0.0.1:{_free_port()}/ocpp", 5, duration=30))
    latency = Histogram()
    latency.record(0.004)
    with view.live():
        view.tick(Row(1.0, 1.0, 12, 0, latency, 3))
    shown = view.console.file.getvalue()  # type: ignore[attr-defined]
    for text in ("connected", "3 of 5", "calls per second", "12", "4.0 /", "30 s"):
        assert text in shown, text
