"""``ocpp16 fuzz`` and ``ocpp16 replay`` against deliberately broken central systems.

Each broken central system (tests/fuzz/broken_cs.py) runs in a subprocess on a free loopback
port; the fuzz runs are bounded by ``--cases`` (and ``--duration`` as a backstop) with fixed
seeds. Each bug is found, its reproducer replays to the same result, and the crash is minimized
to a single CALL. ocpp16's own central system, fuzzed the same way, gives nothing.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ocpp16_cli.main import app
from typer.testing import CliRunner

from ocpp16.fuzz.cases import cp_actions, make_case

runner = CliRunner()
SCRIPT = Path(__file__).with_name("broken_cs.py")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _command(mode: str, port: int) -> list[str]:
    return [sys.executable, str(SCRIPT), mode, str(port)]


class Running:
    """A broken central system in a subprocess, stopped at the end of the ``with`` block."""

    def __init__(self, mode: str, port: int = 0) -> None:
        self.process = subprocess.Popen(
            _command(mode, port), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.startswith("PORT "), f"the {mode} central system did not start"
        self.port = int(line.split()[1])

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp/fz"

    def exited(self, within: float = 5.0) -> bool:
        try:
            self.process.wait(within)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture
def running(request: pytest.FixtureRequest) -> Iterator[Running]:
    server = Running(request.param)
    try:
        yield server
    finally:
        server.stop()


def _fuzz(url: str, tmp_path: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    report = tmp_path / "report.json"
    result = runner.invoke(
        app,
        ["fuzz", url, "--out", str(tmp_path / "found"), "--json", str(report),
         "--junit", str(tmp_path / "junit.xml"), "--duration",
         "30", "--connections", "2", "--timeout", "0.5", *args],
    )  # fmt: skip
    data = json.loads(report.read_text(encoding="ascii")) if report.exists() else {}
    return result.exit_code, data, result.output


def _replay(file: str, url: str, *args: str) -> tuple[int, str]:
    base = url.rsplit("/", 1)[0]
    result = runner.invoke(app, ["replay", file, base, "--timeout", "0.5", *args])
    return result.exit_code, result.output


def _findings(data: dict[str, Any], oracle: str) -> list[dict[str, Any]]:
    return [f for f in data["findings"] if f["oracle"] == oracle]


def test_a_crash_is_found_restarted_minimized_to_one_call_and_replayed(tmp_path: Path) -> None:
    port = _free_port()
    url = f"ws://127.0.0.1:{port}/ocpp/fz"
    command = " ".join(_command("crash", port))
    code, data, output = _fuzz(
        url, tmp_path, "--actions", "StartTransaction", "--cases", "60", "--seed", "1",
        "--restart-cmd", command,
    )  # fmt: skip
    assert code == 1, output
    crashes = _findings(data, "crash")
    assert len(crashes) == 1, output
    crash = crashes[0]
    assert (crash["action"], crash["kind"], crash["path"]) == (
        "StartTransaction",
        "date-time",
        "$.timestamp",
    )
    assert crash["minimized"] is True
    sent = [f for c in crash["connections"] for f in c["frames"] if f["direction"] == "out"]
    assert len(sent) == 1, "the crash is minimized to a single CALL"
    frame = json.loads(sent[0]["text"])
    assert frame[:3] == [2, frame[1], "StartTransaction"]
    assert frame[3]["timestamp"].startswith("222222017")
    assert data["restarts"] >= 1
    # The target was stopped at the end: its port is free again.
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
    # Replayed against a fresh target, it crashes it again.
    target = Running("crash", port)
    try:
        code, output = _replay(crash["file"], url)
        assert code == 1, output
        assert output.startswith("REPRODUCED crash StartTransaction date-time $.timestamp")
        assert target.exited()
    finally:
        target.stop()


@pytest.mark.parametrize(
    ("mode", "actions", "seed", "marker"),
    [
        ("crash", ("StartTransaction", "StopTransaction"), 3, "222222017"),
        ("freeze", ("DataTransfer", "Heartbeat"), 1, "%n"),
    ],
)
def test_a_target_that_goes_down_under_many_connections_blames_the_case_that_did_it(
    tmp_path: Path, mode: str, actions: tuple[str, ...], seed: int, marker: str
) -> None:
    """Eight connections fail together when the target dies or freezes, and whichever noticed
    first is not the culprit: without replaying the suspects, one bug came out as 20 findings
    named after innocent cases (a structure mutation, an empty id, a binary frame)."""
    port = _free_port()
    url = f"ws://127.0.0.1:{port}/ocpp/fz"
    command = " ".join(_command(mode, port))
    code, data, output = _fuzz(
        url, tmp_path, "--actions", ",".join(actions), "--cases", "1200", "--seed", str(seed),
        "--connections", "8", "--no-minimize", "--restart-cmd", command,
    )  # fmt: skip
    assert code == 1, output
    assert not data["stopped"], data["stopped"]
    found = _findings(data, "crash" if mode == "crash" else "hang")
    assert found and data["restarts"] >= 2, output
    for finding in found:
        # The case a finding names (seed, case N) is one that sends the culprit itself.
        case = make_case(seed, finding["case"], cp_actions(actions))
        assert any(marker in str(step.data) for step in case.steps), finding["title"]
        assert "replayed alone on a fresh connection" in finding["observed"]


@pytest.mark.parametrize(
    ("running", "args", "oracle", "expected"),
    [
        pytest.param(
            "stall",
            ["--actions", "StopTransaction", "--cases", "40", "--seed", "1", "--no-minimize"],
            "stall",
            ("StopTransaction",),
            id="stall after a StopTransaction for an unknown transaction",
        ),
        pytest.param(
            "drop",
            ["--actions", "Authorize", "--cases", "200", "--seed", "3"],
            "dropped",
            ("Authorize", "string", "$.idTag"),
            id="drop on a NUL in an idTag",
        ),
        pytest.param(
            "takeover",
            ["--cases", "10"],
            "security",
            ("", "second connection"),
            id="a second connection takes the session over",
        ),
        pytest.param(
            "wrong-password",
            ["--cases", "10", "--password", "sekrit-password"],
            "security",
            ("", "wrong password"),
            id="a wrong password accepted",
        ),
    ],
    indirect=["running"],
)
def test_a_bug_is_found_and_its_reproducer_replays(
    running: Running,
    tmp_path: Path,
    args: list[str],
    oracle: str,
    expected: tuple[str, ...],
) -> None:
    code, data, output = _fuzz(running.url, tmp_path, *args)
    assert code == 1, output
    found = [
        f
        for f in _findings(data, oracle)
        if (f["action"], f["kind"], f["path"])[: len(expected)] == expected
    ]
    assert found, output
    finding = found[0]
    assert Path(finding["file"]).is_file()
    saved = json.loads(Path(finding["file"]).read_text(encoding="ascii"))
    assert saved["format"] == "ocpp16-fuzz-reproducer"
    assert saved["target"] == running.url.rsplit("/", 1)[0]
    assert "sekrit" not in Path(finding["file"]).read_text(encoding="ascii")
    password = ["--password", "sekrit-password"] if "--password" in args else []
    code, output = _replay(finding["file"], running.url, *password)
    assert code == 1, output
    assert output.startswith(f"REPRODUCED {oracle}")
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    failed = {c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None}
    assert oracle in failed


def test_a_dropped_connection_is_minimized_to_the_call_that_drops_it(tmp_path: Path) -> None:
    server = Running("drop")
    try:
        code, data, output = _fuzz(
            server.url, tmp_path, "--actions", "Authorize", "--cases", "200", "--seed", "3"
        )
    finally:
        server.stop()
    assert code == 1, output
    (drop,) = [f for f in _findings(data, "dropped") if f["path"] == "$.idTag"]
    # The target aborted the connection: no close frame, no code (it read "code None").
    assert drop["observed"] == (
        "the connection was closed without a closing handshake (1006) after this case"
    )
    sent = [f for c in drop["connections"] for f in c["frames"] if f["direction"] == "out"]
    assert [json.loads(f["text"])[2:] for f in sent] == [["Authorize", {"idTag": "\x00"}]]


def test_ocpp16s_own_central_system_gives_nothing(tmp_path: Path) -> None:
    server = Running("good")
    try:
        code, data, output = _fuzz(server.url, tmp_path, "--cases", "600", "--seed", "5")
    finally:
        server.stop()
    assert code == 0, output
    assert data["findings"] == []
    assert data["cases"] == 600
    assert "NOTHING FOUND: 0 finding(s) in 600 cases" in output


def test_the_identity_probe_runs_before_the_password_probes_get_it_throttled(
    tmp_path: Path,
) -> None:
    """ocpp16's CentralSystem throttles failed logins: run after ten wrong passwords, the
    second-connection probe met HTTP 429 and never ran ("could not run")."""
    from ocpp16 import CentralSystem
    from tests.loopback import CentralSystemThread

    central = CentralSystem(basic_auth="sekrit-password", duplicate="reject")
    with CentralSystemThread(central) as server:
        code, data, output = _fuzz(
            server.url("FZ"), tmp_path, "--password", "sekrit-password", "--cases", "20"
        )
    assert code == 0, output
    probes = {probe["probe"]: probe["observed"] for probe in data["probes"]}
    assert probes["second connection"].startswith("the second connection was refused"), probes
    assert "HTTP 409" in probes["second connection"]
    assert probes["auth not throttled"].startswith("throttled: HTTP 429"), probes


def test_replay_of_a_fixed_bug_says_so_and_exits_0(tmp_path: Path) -> None:
    broken = Running("drop")
    try:
        code, data, _ = _fuzz(
            broken.url, tmp_path, "--actions", "Authorize", "--cases", "200", "--seed", "3",
            "--no-minimize",
        )  # fmt: skip
    finally:
        broken.stop()
    assert code == 1
    file = _findings(data, "dropped")[0]["file"]
    fixed = Running("good")
    try:
        code, output = _replay(file, fixed.url)
    finally:
        fixed.stop()
    assert code == 0, output
    assert output.startswith("NOT REPRODUCED dropped")


#: A reproducer file that names its format and version and holds nothing else.
INCOMPLETE = Path(__file__).with_name("incomplete_reproducer.json")
#: A whole reproducer file: a StartTransaction whose timestamp is in the year 222222017.
REPRODUCER = Path(__file__).with_name("far_year_reproducer.json")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["fuzz", "ws://127.0.0.1:1/ocpp/fz", "--cases", "1", "--timeout", "2"], 3, "refused"),
        (["fuzz", "ws://no.such.invalid/o/fz", "--timeout", "2"], 3, "cannot resolve the host"),
        (["fuzz", "ws://h/ocpp/fz", "--json", "/no/such/dir/r.json"], 2, "no such directory"),
        (["fuzz", "ws://h/ocpp/fz", "--out", "/proc/no-such"], 2, "--out /proc/no-such: cannot"),
        (["fuzz", "ws://h/ocpp/fz", "--actions", "Reset"], 2, "sent by the central system"),
        (["fuzz", "ws://h/ocpp/fz", "--actions", ","], 2, "no action named"),
        (["fuzz", "ftp://h/ocpp/fz"], 2, "invalid URL"),
        (["fuzz", "ws://h/ocpp/fz", "--restart-cmd", "'unclosed"], 2, "--restart-cmd"),
        (["replay", "/no/such/file.json", "ws://h/ocpp"], 2, "cannot read"),
        (["replay", str(INCOMPLETE), "ws://h/ocpp"], 2, 'malformed reproducer: no "connections"'),
        (["fuzz", "ws://h/ocpp/fz", "--timeout", "inf"], 2, "must be at most 86400"),
        (["replay", str(INCOMPLETE), "ws://h/ocpp", "--timeout", "inf"], 2, "at most 86400"),
        (["replay", str(REPRODUCER), "ftp://h/ocpp"], 2, "invalid URL 'ftp://h/ocpp': use a ws"),
    ],
)
def test_bad_input_and_an_unreachable_target_are_one_line(
    args: list[str], code: int, message: str
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ocpp16: error:"), result.output
    assert message in lines[0]


def test_a_restart_command_that_exits_is_exit_3_and_leaves_nothing_running() -> None:
    port = _free_port()
    command = f"{sys.executable} -c 'raise SystemExit(4)'"
    result = runner.invoke(
        app, ["fuzz", f"ws://127.0.0.1:{port}/ocpp/fz", "--cases", "1", "--restart-cmd", command]
    )
    assert result.exit_code == 3, result.output
    assert "the target exited with code 4" in result.output


def test_a_hang_ends_the_run_without_a_restart_command_and_replays(tmp_path: Path) -> None:
    frozen = Running("freeze")
    try:
        code, data, output = _fuzz(
            frozen.url, tmp_path, "--actions", "DataTransfer", "--cases", "300", "--seed", "10"
        )
    finally:
        frozen.stop()
    assert code == 1, output
    (hang,) = _findings(data, "hang")
    # A format string is a valid messageId: the payload is valid, its title says what it held.
    assert (hang["action"], hang["kind"], hang["path"]) == ("DataTransfer", "valid payload", "")
    assert "$.messageId: format string" in hang["title"]
    assert data["stopped"].startswith("the target hung"), data["stopped"]
    assert "STOPPED the target hung" in output
    again = Running("freeze")
    try:
        code, output = _replay(hang["file"], again.url)
    finally:
        again.stop()
    assert code == 1, output
    assert output.startswith("REPRODUCED hang DataTransfer valid payload")
