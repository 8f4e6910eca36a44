"""``ocpp16 sim`` end to end: the installed command against ``ocpp16 serve``, both subprocesses.

Runs are bounded by ``--duration`` (wall seconds) and kept short; ``--speed`` makes them cover
minutes of simulated time. Nothing here measures time.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

OCPP16 = Path(sys.executable).with_name("ocpp16")


def ocpp16(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(OCPP16), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@contextmanager
def serving(*args: str) -> Iterator[str]:
    """``ocpp16 serve --port 0 ARGS`` as a subprocess; yields its base URL, stops it after."""
    process = subprocess.Popen(
        [str(OCPP16), "serve", "--port", "0", "--json", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        url = None
        for _ in range(20):  # a few status lines at most before "listening on"
            line = process.stderr.readline()
            found = re.search(r"listening on (\S+)/<identity>", line)
            if found or not line:
                url = found.group(1) if found else None
                break
        assert url is not None, "ocpp16 serve did not start"
        # The rest of its log is read and dropped: a full pipe would stall the server.
        threading.Thread(target=process.stderr.read, daemon=True).start()
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stderr is not None:
            process.stderr.close()


def test_sim_runs_against_serve_with_json_lines_and_exit_0(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[[events]]\nat = 30\nconnector = 1\ndo = "plug_in"\nid_tag = "TAG1"\n'
        "energy_wh = 2000\nmax_power_w = 11000\n\n"
        '[[events]]\nat = 1500\nconnector = 1\ndo = "unplug"\n'
    )
    with serving("--after-boot", "TriggerMessage") as url:
        done = ocpp16(
            "sim", f"{url}/CP7", "--duration", "6", "--speed", "600", "--json",
            "--plan", str(plan), "--config", "MeterValueSampleInterval=60", "--seed", "1",
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    frames = [r for r in records if "direction" in r]
    events = [r for r in records if "event" in r]
    assert frames and all(r["verdict"] == "valid" and r["identity"] == "CP7" for r in frames)
    calls = [r["frame"][2] for r in frames if r["direction"] == "out" and r["frame"][0] == 2]
    assert calls[0] == "BootNotification"
    for action in ("StartTransaction", "MeterValues", "StopTransaction"):
        assert action in calls
    # The TriggerMessage of --after-boot was answered.
    assert any(r["direction"] == "in" and r["frame"][2:3] == ["TriggerMessage"] for r in frames)
    kinds = {r["event"] for r in events}
    assert {"boot", "status", "transaction-started", "transaction-stopped"} <= kinds
    assert "every exchange valid" in done.stderr


def test_plain_lines_when_not_a_terminal() -> None:
    with serving() as url:
        done = ocpp16("sim", url, "--id", "CP8", "--duration", "1", "--speed", "100")
    assert done.returncode == 0, done.stderr
    assert "-> [2," in done.stdout and "boot: Accepted" in done.stdout
    assert "\x1b" not in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config", "HeartbeatInterval"], "--config HeartbeatInterval: expected KEY=VALUE"),
        (["--config", "NoSuchKey=1"], "--config NoSuchKey: not a configuration key"),
        (["--config", "HeartbeatInterval=soon"], "--config HeartbeatInterval=soon:"),
        (["--sessions", "many"], "--sessions: expected auto"),
        (["--speed", "0"], "--speed: expected above 0"),
        (["--plan", "{plan}"], "plan.json: $.events[0].do:"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"events": [{"at": 1, "connector": 1, "do": "dance"}]}))
    args = [str(plan) if a == "{plan}" else a for a in args]
    done = ocpp16("sim", "ws://127.0.0.1:9/ocpp/CP1", *args)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
    assert "Traceback" not in done.stderr and not done.stdout


def test_connection_refused_is_one_line_and_exit_3() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    done = ocpp16("sim", f"ws://127.0.0.1:{port}/ocpp/CP1", "--duration", "5", "--timeout", "3")
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "connection refused" in lines[0]


def test_sessions_auto_with_a_seed_charges_and_stays_valid() -> None:
    records: list[dict[str, Any]] = []
    with serving() as url:
        done = ocpp16(
            "sim", f"{url}/CP9", "--sessions", "auto", "--seed", "3", "--connectors", "1",
            "--duration", "3", "--speed", "3000", "--json",
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    started = [r for r in records if r.get("event") == "transaction-started"]
    assert started and all(r["connector"] == 1 for r in started)


def test_ctrl_c_stops_cleanly_with_the_summary_and_exit_130() -> None:
    with serving() as url:
        process = subprocess.Popen(
            [str(OCPP16), "sim", f"{url}/CP5", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            for _ in range(50):  # until the boot is answered
                line = process.stdout.readline()
                if not line or '"event": "boot"' in line:
                    break
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(5)
    assert process.returncode == 130, err
    assert "CP5 interrupted" in err and "Traceback" not in err
    assert all(json.loads(line) for line in out.splitlines())
