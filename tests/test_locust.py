"""``ocpp16.locust.ChargePointUser``: real Locust runs of examples/locustfile.py, in subprocesses.

Locust monkey-patches the process it runs in for gevent, so it never runs inside pytest: each
test starts ``locust`` (headless, a bounded ``-t``) against a central system on 127.0.0.1 (our
CentralSystem in a thread here, or the ``ocpp16 serve`` command) and reads what a user reads:
Locust's CSV statistics, its exit code and its stderr. ``--ocpp-speed`` runs the stations'
clocks fast, so a session, its meter values and heartbeats fit in a few seconds. The sync driver
under it (ocpp16/_sync.py) is also run here directly, on threads, without Locust.
"""

from __future__ import annotations

import csv
import itertools
import socket
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import ocpp16
from ocpp16 import (
    BootNotificationRequest,
    BootNotificationResponse,
    CallError,
    CentralSystem,
    ChargePointSession,
    GetConfigurationRequest,
    HeartbeatRequest,
    HeartbeatResponse,
    MessageTrigger,
    ResetRequest,
    ResetType,
    TriggerMessageRequest,
)
from ocpp16._events import ConnectionEvent, Exchange, FrameEvent
from ocpp16._sync import Report, SyncStation
from ocpp16.errors import ConnectionClosed, HandshakeError
from ocpp16.station import Station, load_plan, schedule_plan
from tests.loopback import CentralSystemThread

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "examples" / "locustfile.py"
LOCUST = Path(sys.executable).with_name("locust")
OCPP16 = Path(sys.executable).with_name("ocpp16")
#: A session that fits in a few simulated minutes: plugged in at 60 s, full after about 160 s
#: more (1 kWh at 22 kW), unplugged at 300 s; at --ocpp-speed 100 that is 3 s of wall time.
#: (An idTag presented before the boot is accepted is decided offline: hence OFFLINE_OK.)
PLAN = """
[[events]]
at = 60
connector = 1
do = "plug_in"
id_tag = "TAG0001"
energy_wh = 1000
max_power_w = 22000

[[events]]
at = 300
connector = 1
do = "unplug"
"""
OFFLINE_OK = "AllowOfflineTxForUnknownId=true"
#: What a booted charge point with one session sends.
SESSION_ACTIONS = (
    "BootNotification",
    "StatusNotification",
    "Heartbeat",
    "Authorize",
    "StartTransaction",
    "MeterValues",
    "StopTransaction",
)
#: Bounds every Locust process.
PROCESS_TIMEOUT_S = 90


class Recorder:
    """What the central system saw: exchanges and connections (appended on its thread)."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self.connections: list[ConnectionEvent] = []
        self.frames: list[FrameEvent] = []

    def central_system(self, **options: Any) -> CentralSystem:
        return CentralSystem(
            on_exchange=self.exchanges.append,
            on_connection=self.connections.append,
            on_frame=self.frames.append,
            **options,
        )

    def after_trigger(self, identity: str) -> list[str]:
        """What reached us from ``identity`` from our TriggerMessage on: its answer ("answer")
        and Heartbeat CALLs ("Heartbeat"), in order of arrival."""
        seen: list[str] = []
        trigger = None
        for event in (e for e in self.frames if e.identity == identity):
            frame = event.frame
            if event.direction == "out" and frame[0] == 2 and frame[2] == "TriggerMessage":
                trigger = frame[1]
            elif trigger is not None and event.direction == "in":
                if frame[0] == 3 and frame[1] == trigger:
                    seen.append("answer")
                elif frame[0] == 2 and frame[2] == "Heartbeat":
                    seen.append("Heartbeat")
        return seen

    def identities(self, action: str) -> set[str]:
        return {e.identity for e in self.exchanges if e.action == action and e.initiator == "cp"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def locust(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(LOCUST), "-f", str(LOCUSTFILE), *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    """Wait (bounded) for a Locust process; its exit code and stderr."""
    try:
        _, err = process.communicate(timeout=PROCESS_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        pytest.fail(f"locust did not stop within {PROCESS_TIMEOUT_S} s:\n{err[-3000:]}")
    return process.returncode, err


def stats(prefix: Path) -> dict[tuple[str, str], tuple[int, int]]:
    """Locust's ``PREFIX_stats.csv``: (type, name) -> (requests, failures)."""
    with open(f"{prefix}_stats.csv", newline="") as file:
        return {
            (row["Type"], row["Name"]): (int(row["Request Count"]), int(row["Failure Count"]))
            for row in csv.DictReader(file)
            if row["Name"] != "Aggregated"
        }


def failures(prefix: Path) -> list[dict[str, str]]:
    with open(f"{prefix}_failures.csv", newline="") as file:
        return list(csv.DictReader(file))


def test_a_master_and_two_workers_run_sessions_without_failures(tmp_path: Path) -> None:
    (tmp_path / "plan.toml").write_text(PLAN)
    recorder = Recorder()
    options = [
        "--ocpp-plan", "plan.toml", "--ocpp-speed", "100", "--ocpp-identity-prefix", "LT",
        "--ocpp-config", OFFLINE_OK,
    ]  # fmt: skip
    # After each boot the central system asks for the configuration, then a Heartbeat.
    trigger = TriggerMessageRequest(requested_message=MessageTrigger.HEARTBEAT)
    after_boot = [GetConfigurationRequest, trigger]
    with CentralSystemThread(recorder.central_system(after_boot=after_boot)) as cs:
        port = free_port()
        master = locust(
            "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
            "--expect-workers", "2", "--headless", "-u", "4", "-r", "4", "-t", "7s",
            "--host", f"ws://127.0.0.1:{cs.port}/ocpp", "--csv", "run", *options,
            cwd=tmp_path,
        )  # fmt: skip
        workers = [
            locust("--worker", "--master-host", "127.0.0.1", "--master-port", str(port), cwd=cwd)
            for cwd in (tmp_path, tmp_path)
        ]
        code, err = finish(master)
        for worker in workers:
            finish(worker)
    assert code == 0, err[-3000:]
    counted = stats(tmp_path / "run")
    for action in SESSION_ACTIONS:
        requests, failed = counted.get(("OCPP", action), (0, 0))
        assert requests > 0 and failed == 0, (action, counted)
    assert counted[("OCPP", "connect")] == (4, 0)
    assert counted[("OCPP-CS", "GetConfiguration")][0] == 4  # the central system's calls
    assert counted[("OCPP-CS", "TriggerMessage")][0] == 4
    assert failures(tmp_path / "run") == []
    # Four charge points, two per worker, with identities unique across the workers; each
    # booted once, and every connection was closed when Locust stopped its user.
    booted = recorder.identities("BootNotification")
    assert len(booted) == 4
    # The triggered Heartbeat came after the answer to TriggerMessage, as OCPP 1.6 wants
    # (the regular one is due 3 s later at this speed).
    for identity in booted:
        assert recorder.after_trigger(identity)[:2] == ["answer", "Heartbeat"], identity
    assert {identity.split("-")[0] for identity in booted} == {"LT0", "LT1"}
    kinds = Counter((event.kind, event.detail) for event in recorder.connections)
    assert kinds == {("connected", ""): 4, ("disconnected", "code 1000"): 4}, kinds
    # Locust's counts are the central system's.
    seen = Counter(e.action for e in recorder.exchanges if e.initiator == "cp" and e.ok)
    assert counted[("OCPP", "BootNotification")][0] == seen["BootNotification"] == 4
    assert counted[("OCPP", "StartTransaction")][0] == seen["StartTransaction"] == 4
    assert not [e for e in recorder.exchanges if not e.ok]


def test_a_single_process_against_ocpp16_serve_with_random_sessions(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [str(OCPP16), "serve", "--port", "0", "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline()  # "ocpp16 serve: listening on ws://127.0.0.1:PORT/..."
        url = line.split("listening on ")[1].split("/<identity>")[0]
        run = locust(
            "--headless", "-u", "3", "-r", "3", "-t", "5s", "--host", url, "--csv", "run",
            "--ocpp-sessions", "auto", "--ocpp-speed", "3000", "--ocpp-seed", "7",
            cwd=tmp_path,
        )  # fmt: skip
        code, err = finish(run)
    finally:
        server.terminate()
        server.communicate(timeout=10)
    assert code == 0, err[-3000:]
    counted = stats(tmp_path / "run")
    for action in ("BootNotification", "Heartbeat", "StartTransaction", "MeterValues"):
        requests, failed = counted.get(("OCPP", action), (0, 0))
        assert requests > 0 and failed == 0, (action, counted)
    assert failures(tmp_path / "run") == []


def test_a_callerror_on_boot_shows_as_locust_failures(tmp_path: Path) -> None:
    central_system = CentralSystem()

    @central_system.on(BootNotificationRequest)
    def refuse(
        request: BootNotificationRequest, cp: ChargePointSession
    ) -> BootNotificationResponse:
        raise CallError("SecurityError", "not today")

    with CentralSystemThread(central_system) as cs:
        run = locust(
            "--headless", "-u", "2", "-r", "2", "-t", "3s", "--host",
            f"ws://127.0.0.1:{cs.port}/ocpp", "--csv", "run", "--ocpp-speed", "60",
            cwd=tmp_path,
        )  # fmt: skip
        code, err = finish(run)
    assert code == 1, err[-3000:]  # Locust's exit code when requests failed
    counted = stats(tmp_path / "run")
    requests, failed = counted[("OCPP", "BootNotification")]
    assert requests >= 2 and failed == requests  # retried after 30 s (0.5 s at speed 60)
    # Nothing but BootNotification until it is accepted.
    assert {name for kind, name in counted if kind == "OCPP"} == {"BootNotification", "connect"}
    (row,) = failures(tmp_path / "run")
    assert row["Name"] == "BootNotification"
    assert "CALLERROR SecurityError: not today" in row["Error"]


def test_distinct_failure_messages_are_bounded(tmp_path: Path) -> None:
    """A central system varying its CALLERROR descriptions cannot grow Locust's error table."""
    central_system = CentralSystem()
    numbers = itertools.count()

    @central_system.on(HeartbeatRequest)
    def refuse(request: HeartbeatRequest, cp: ChargePointSession) -> HeartbeatResponse:
        raise CallError("InternalError", f"failure number {next(numbers)}")

    with CentralSystemThread(central_system) as cs:
        run = locust(
            "--headless", "-u", "5", "-r", "5", "-t", "4s", "--host",
            f"ws://127.0.0.1:{cs.port}/ocpp", "--csv", "run", "--ocpp-speed", "20000",
            "--ocpp-sessions", "none",
            cwd=tmp_path,
        )  # fmt: skip
        code, err = finish(run)
    assert code == 1, err[-3000:]
    requests, failed = stats(tmp_path / "run")[("OCPP", "Heartbeat")]
    assert failed == requests > 250
    rows = failures(tmp_path / "run")
    assert len(rows) == 201  # 200 as they came, then one row for the rest
    (rest,) = [row for row in rows if "distinct messages; not shown" in row["Error"]]
    assert int(rest["Occurrences"]) == failed - 200


def test_an_unreachable_central_system_is_a_connect_failure(tmp_path: Path) -> None:
    run = locust(
        "--headless", "-u", "1", "-r", "1", "-t", "2s", "--csv", "run",
        "--host", f"ws://127.0.0.1:{free_port()}/ocpp",
        cwd=tmp_path,
    )  # fmt: skip
    code, err = finish(run)
    assert code == 1, err[-3000:]
    (row,) = failures(tmp_path / "run")
    assert row["Name"] == "connect"
    assert "RefusedError" in row["Error"] and "/ocpp/{identity}" in row["Error"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no central system URL: give --host ws://HOST:PORT/ocpp"),
        (["--host", "ftp://x/ocpp"], "use a ws://, wss://, http:// or https:// URL"),
        (["--host", "ws://127.0.0.1:9/ocpp", "--ocpp-speed", "0"], "speed: expected 0.001 to"),
        (["--host", "ws://127.0.0.1:9/ocpp", "--ocpp-sessions", "many"], "sessions: expected"),
        (["--host", "ws://127.0.0.1:9/ocpp", "--ocpp-plan", "missing.toml"], "missing.toml"),
        (["--host", "ws://127.0.0.1:9/ocpp", "--ocpp-config", "Nope=1"], "Nope: not a config"),
        (["--host", "ws://127.0.0.1:9/ocpp", "--ocpp-identity-prefix", "a:b"], "identity prefix"),
        (["--host", "ws://127.0.0.1:9/ocpp", "--ocpp-insecure"], "TLS options need a wss://"),
        (["--host", "wss://127.0.0.1:9/ocpp", "--ocpp-ca", "nope.pem"], "cannot load the CA"),
        (["--host", "ws://127.0.0.1:9/ocpp", "--ocpp-speed", "nan"], "speed: expected"),
        (["--host", "ws://x/o", "--ocpp-identity-prefix", "\x1b[31m"], "prefix '\\x1b[31m':"),
        (["--host", "ws://127.0.0.1:9/ocpp", "--ocpp-call-timeout", "nan"], "call timeout"),
    ],
)
def test_bad_settings_are_one_line_and_exit_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    code, err = finish(locust("--headless", "-u", "1", "-t", "2s", *args, cwd=tmp_path))
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_the_sync_driver_runs_a_station_on_threads(tmp_path: Path) -> None:
    """Without Locust or gevent: a session from plug-in to unplug, every call reported."""
    (tmp_path / "plan.toml").write_text(PLAN)
    reports: list[Report] = []
    recorder = Recorder()
    with CentralSystemThread(recorder.central_system()) as cs:
        start = datetime.now(UTC)
        station = Station("SYNC1", now=start, connectors=1, config=dict([OFFLINE_OK.split("=")]))
        schedule_plan(station, load_plan(tmp_path / "plan.toml", 1), start)
        driver = SyncStation(
            station, f"ws://127.0.0.1:{cs.port}/ocpp", start=start, speed=200,
            on_report=reports.append,
        )  # fmt: skip
        try:
            for _ in range(2000):  # bounded; the session takes 1.25 s at speed 200
                driver.step(max_wait=0.05)
                if any(r.name == "StopTransaction" for r in reports):
                    break
        finally:
            driver.close()
    names = [r.name for r in reports if r.kind == "call"]
    assert set(SESSION_ACTIONS) - {"Heartbeat"} <= set(names), names
    assert [r for r in reports if r.error is not None] == []
    assert [r.name for r in reports if r.kind == "connect"] == ["connect"]
    # The transactionId the central system gave is the one the station stopped.
    (started,) = [e for e in recorder.exchanges if e.action == "StartTransaction"]
    (stopped,) = [e for e in recorder.exchanges if e.action == "StopTransaction"]
    assert started.response is not None
    # (Exchange.request and .response are the frames: the payload is the last element.)
    assert stopped.request[-1]["transactionId"] == started.response[-1]["transactionId"]
    assert stopped.request[-1]["meterStop"] > started.request[-1]["meterStart"]
    assert [event.kind for event in recorder.connections] == ["connected", "disconnected"]


def test_import_ocpp16_loads_neither_locust_nor_gevent() -> None:
    code = (
        "import sys, ocpp16, ocpp16._sync, ocpp16.client;"
        " print(sorted(m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def drive(driver: SyncStation, reports: list[Report], until: Any, steps: int = 400) -> None:
    """Step ``driver`` (bounded) until ``until(reports)`` holds."""
    for _ in range(steps):
        driver.step(max_wait=0.02)
        if until(reports):
            return
    pytest.fail(f"not reached in {steps} steps: {[(r.kind, r.name) for r in reports]}")


def test_the_sync_driver_reconnects_after_a_lost_connection_and_after_a_reset() -> None:
    reports: list[Report] = []

    def reset_once(exchange: Exchange) -> None:
        # After the first Reset is answered, later boots get no Reset: one reconnection to count.
        if exchange.action == "Reset":
            central_system.after_boot.clear()

    central_system = CentralSystem(
        after_boot=[ResetRequest(type=ResetType.SOFT)], on_exchange=reset_once
    )
    with CentralSystemThread(central_system) as cs:
        start = datetime.now(UTC)
        station = Station("SYNC2", now=start, connectors=1)
        url = f"ws://127.0.0.1:{cs.port}/ocpp"
        driver = SyncStation(station, url, start=start, speed=100, on_report=reports.append)
        try:
            # The central system resets it after its first boot: it goes away and boots again.
            drive(driver, reports, lambda r: [x.name for x in r].count("BootNotification") == 2)
            assert [r.name for r in reports if r.kind == "cs-call"] == ["Reset"]
            assert not [r for r in reports if r.error is not None]
            # Another connection under its identity replaces it: a lost connection, reported
            # as a failure, then a reconnection after the backoff (0.5 to 1 s).
            ocpp16.connect(url, "SYNC2", timeout=5).close()
            drive(driver, reports, lambda r: [x.kind for x in r].count("connect") == 3)
        finally:
            driver.close()
    (lost,) = [r for r in reports if r.kind == "lost"]
    assert isinstance(lost.error, ConnectionClosed)
    assert "replaced by a new connection" in str(lost.error)


@pytest.mark.parametrize(("given", "booted"), [("s3cret-pw", True), ("wrong-pw", False)])
def test_the_sync_driver_logs_in_with_the_password(given: str, booted: bool) -> None:
    reports: list[Report] = []
    with CentralSystemThread(CentralSystem(basic_auth="s3cret-pw")) as cs:
        start = datetime.now(UTC)
        station = Station("SYNC3", now=start, connectors=1)
        url = f"ws://127.0.0.1:{cs.port}/ocpp"
        driver = SyncStation(station, url, start=start, password=given, on_report=reports.append)
        try:
            drive(driver, reports, lambda r: any(x.kind == "connect" for x in r))
            if booted:
                drive(driver, reports, lambda r: any(x.name == "BootNotification" for x in r))
        finally:
            driver.close()
    (connect,) = [r for r in reports if r.kind == "connect"]
    if booted:
        assert connect.error is None
    else:
        assert isinstance(connect.error, HandshakeError) and connect.error.status == 401
        shown = str(connect.error)
        assert f"{url}/{{identity}}" in shown and given not in shown


def test_the_readme_shows_the_shipped_locustfile() -> None:
    readme = (ROOT / "README.md").read_text()
    shown = readme.split("A complete locustfile (`examples/locustfile.py`):\n\n```python\n")[1]
    shipped = LOCUSTFILE.read_text().split('"""\n\n', 1)[1]  # without its docstring
    assert shown.split("```")[0] == shipped
