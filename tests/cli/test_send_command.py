"""The installed ``ocpp16`` command as a user runs it: a new process, its streams, its exit code."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from ocpp16_cli.exit_codes import ExitCode
from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from tests.loopback import OcppCentralSystem, ServerThread, answer, scripted

OCPP16 = Path(sys.executable).with_name("ocpp16")
SECRET = "n0t-for-your-eyes-1234"


def ocpp16(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(OCPP16), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **env},
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], code: int, message: str) -> None:
    assert done.returncode == code, done.stdout + done.stderr
    assert done.stderr.startswith("ocpp16: error: ")
    assert done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


@pytest.fixture(scope="module")
def ocpp_cs() -> Iterator[ServerThread]:
    with ServerThread(OcppCentralSystem().handler) as server:
        yield server


def test_send_every_charge_point_action(ocpp_cs: ServerThread) -> None:
    actions = ["BootNotification", "Authorize", "Heartbeat", "StatusNotification", "MeterValues"]
    done = ocpp16("send", *actions, "--full", "--url", ocpp_cs.url(scheme="http"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    for action in actions:
        assert f"\n{action}Request\nRequest:\n" in f"\n{done.stdout}"
    assert done.stdout.count("Response:") == len(actions)


def test_json_lines(ocpp_cs: ServerThread) -> None:
    done = ocpp16("send", "Heartbeat", "DataTransfer", "--json", "--url", ocpp_cs.url())
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, Any]] = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["action"], r["valid"]) for r in rows] == [
        ("Heartbeat", True),
        ("DataTransfer", True),
    ]


def test_refused_without_traceback() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = ocpp16("send", "Heartbeat", "--url", f"ws://127.0.0.1:{port}/CP1")
    assert_one_line_error(done, ExitCode.CONNECT, "connection refused")
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Heartbeet"], "did you mean Heartbeat?"),
        (["BootNotification", "--param", "{oops}"], "not JSON: Expecting property name"),
        (["BootNotification", "--param", "{}"], "$.chargePointVendor: violates required"),
    ],
)
def test_bad_input_without_traceback(args: list[str], message: str) -> None:
    done = ocpp16("send", *args, "--url", "ws://127.0.0.1:9/CP1")
    assert_one_line_error(done, ExitCode.USAGE, message)


def test_param_from_stdin(ocpp_cs: ServerThread) -> None:
    payload = json.dumps({"idTag": "ABC123"})
    done = ocpp16("send", "Authorize", "--param", "-", "--url", ocpp_cs.url(), stdin=payload)
    assert done.returncode == 0, done.stderr
    assert '"idTag": "ABC123"' in done.stdout


def test_timeout_exit_code() -> None:
    with ServerThread(scripted(lambda f: [])) as server:
        done = ocpp16("send", "Heartbeat", "--url", server.url(), "--timeout", "0.2")
    assert_one_line_error(done, ExitCode.TIMEOUT, "no answer to Heartbeat within 0.2 s")


def test_rejected_password_from_the_environment_is_never_printed() -> None:
    def refuse(connection: ServerConnection, _: Request) -> Response:
        return connection.respond(HTTPStatus.UNAUTHORIZED, "no\n")

    with ServerThread(scripted(lambda f: [answer(f)]), process_request=refuse) as server:
        done = ocpp16("send", "Heartbeat", "--url", server.url(), OCPP16_PASSWORD=SECRET)
    assert_one_line_error(done, ExitCode.CONNECT, "HTTP 401")
    assert SECRET not in done.stdout + done.stderr


def test_python_dash_m_and_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ocpp16_cli", "send", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "OCPP16_PASSWORD": SECRET},
    )
    assert done.returncode == 0, done.stderr
    for option in ("--url", "--param", "--full", "--seed", "--id", "--timeout", "--json"):
        assert option in done.stdout
    assert SECRET not in done.stdout


# Each CALL shows as it goes out, its answer when it comes -------------------------------------


class HeldAnswers:
    """A central system that answers each CALL only when the test releases it."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.answered: list[str] = []

    async def handler(self, connection: ServerConnection) -> None:
        async for message in connection:
            frame = json.loads(message)
            await asyncio.to_thread(self.release.wait, 30)
            self.release.clear()
            self.answered.append(frame[1])
            await connection.send(answer(frame))


def read_request(process: subprocess.Popen[str]) -> list[str]:
    """Lines up to the end of the next request block: heading, ``Request:``, the CALL as JSON."""
    assert process.stdout is not None
    lines = [process.stdout.readline().rstrip("\n") for _ in range(2)]
    while not lines[-1].startswith("]"):
        line = process.stdout.readline()
        assert line, "the output ended inside a request: " + "\n".join(lines)
        lines.append(line.rstrip("\n"))
    return lines


def start_send(url: str, *actions: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(OCPP16), "send", *actions, "--url", url, "--timeout", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_each_call_shows_before_its_answer_arrives() -> None:
    held = HeldAnswers()
    with ServerThread(held.handler) as server:
        process = start_send(server.url(), "BootNotification", "Heartbeat")
        try:
            for action in ("BootNotification", "Heartbeat"):
                block = read_request(process)
                assert block[:2] == [f"{action}Request", "Request:"]
                call = json.loads("\n".join(block[2:]))
                assert call[0] == 2
                assert call[2] == action
                assert call[1] not in held.answered  # shown while its answer is still held back
                held.release.set()
                assert process.stdout is not None
                assert process.stdout.readline() == "Response:\n"
                response = [process.stdout.readline()]
                while not response[-1].startswith("]"):
                    response.append(process.stdout.readline())
                assert json.loads("".join(response))[:2] == [3, call[1]]
            out, err = process.communicate(timeout=30)
        finally:
            held.release.set()
            process.kill()
            process.wait(30)
    assert process.returncode == 0, err
    assert out == ""
    assert err == ""


def test_ctrl_c_while_waiting_leaves_the_call_on_screen() -> None:
    held = HeldAnswers()
    with ServerThread(held.handler) as server:
        process = start_send(server.url(), "Authorize")
        try:
            block = read_request(process)
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
        finally:
            held.release.set()
            process.kill()
            process.wait(30)
    assert block[0] == "AuthorizeRequest"
    assert json.loads("\n".join(block[2:]))[2] == "Authorize"
    assert process.returncode == 130
    assert "Response:" not in out
    assert err == "ocpp16: interrupted\n"
