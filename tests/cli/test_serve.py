"""``ocpp16 serve``: in-process through Typer's CliRunner, and as the installed command.

In-process runs stop the way a user stops the server, with SIGINT: the command installs its own
handler for it, so pytest never sees the signal.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
import trustme
from ocpp16_cli.exit_codes import ExitCode
from ocpp16_cli.main import app
from typer.testing import CliRunner, Result
from websockets.exceptions import ConnectionClosedOK, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from ocpp16.server import Server
from tests.ocpp_peer import CP_ACTIONS, CS_ACTIONS

T = TypeVar("T")
OCPP16_SUBPROTOCOL = Subprotocol("ocpp1.6")
OCPP16 = Path(sys.executable).with_name("ocpp16")
BOOT = [2, "boot-1", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "X1"}]
PASSWORD = "s3cret-Authorization-Key"


def serve_while(
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    client: Callable[[Server], T],
    charset: str = "utf-8",
) -> tuple[Result, T]:
    """Run ``ocpp16 serve --port 0 ARGS`` in-process while ``client(server)`` runs in a thread,
    then stop it with SIGINT once the client's connections are over. ``charset`` is the encoding
    of the command's stdout and stderr."""
    started: queue.Queue[Server] = queue.Queue()
    original = Server.start

    async def start(self: Server) -> None:
        await original(self)
        started.put(self)

    monkeypatch.setattr(Server, "start", start)
    outcome: dict[str, Any] = {}

    def drive() -> None:
        try:
            server = started.get(timeout=10)
        except queue.Empty:
            return  # the command ended before serving; its result says why
        try:
            outcome["value"] = client(server)
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            deadline = time.monotonic() + 5
            while server.sessions and time.monotonic() < deadline:
                time.sleep(0.01)  # let the server finish reporting closed connections
            os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=drive, daemon=True)
    thread.start()
    result = CliRunner(charset=charset).invoke(app, ["serve", "--port", "0", *args])
    thread.join(10)
    if "error" in outcome:
        raise outcome["error"]
    return result, outcome.get("value")  # type: ignore[return-value]


@contextmanager
def charge_point(
    server: Server, identity: str = "CP1", **kwargs: Any
) -> Iterator[ClientConnection]:
    kwargs.setdefault("subprotocols", ["ocpp1.6"])
    with connect(server.url_for(identity), open_timeout=5, **kwargs) as ws:
        yield ws


def ask(ws: ClientConnection, frame: Any) -> Any:
    ws.send(frame if isinstance(frame, str) else json.dumps(frame))
    return json.loads(ws.recv(timeout=5))


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# What a user sees ------------------------------------------------------------------------------


def test_each_exchange_is_printed_with_the_identity_request_and_response(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def client(server: Server) -> list[Any]:
        with charge_point(server, "CP 001") as ws:
            return [ask(ws, BOOT), ask(ws, '[2,"bad-1","Authorize",{}]')]

    result, (boot, bad) = serve_while(monkeypatch, [], client)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert '[CP 001] BootNotificationRequest\nRequest:\n[\n  2,\n  "boot-1"' in out
    assert f'Response:\n[\n  3,\n  "boot-1",\n  {{\n    "status": "{boot[2]["status"]}"' in out
    assert "[CP 001] AuthorizeRequest" in out
    assert '"OccurenceConstraintViolation"' in out
    assert "OccurenceConstraintViolation: $.idTag: violates required (missing)" in out
    assert bad[:3] == [4, "bad-1", "OccurenceConstraintViolation"]
    assert "[CP 001] connected from 127.0.0.1:" in out
    assert "[CP 001] disconnected" in out
    assert "listening on ws://127.0.0.1:" in result.stderr
    assert "/ocpp/<identity>" in result.stderr
    assert "stopped; 1 charge point, 2 exchanges, 1 with problems" in result.stderr
    assert "\x1b[" not in out  # no colour codes when stdout is not a terminal


def test_json_gives_one_line_per_frame_with_its_verdict(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    trace = tmp_path / "trace.jsonl"

    def client(server: Server) -> None:
        with charge_point(server) as ws:
            ask(ws, BOOT)
            ask(ws, '[2,"x","Heartbeat",{"extra":1}]')
            ws.send('[7,"ignored"]')
            ask(ws, '[2,"y","Heartbeat",{}]')

    result, _ = serve_while(monkeypatch, ["--json", "--trace", str(trace)], client)
    assert result.exit_code == 0, result.output
    records = lines(result.stdout)
    assert [(r["direction"], r["frame"][0], r["verdict"]) for r in records] == [
        ("in", 2, "valid"),
        ("out", 3, "valid"),
        ("in", 2, "invalid"),
        ("out", 4, "valid"),
        ("in", 7, "ignored"),
        ("in", 2, "valid"),
        ("out", 3, "valid"),
    ]
    assert all(set(r) >= {"time", "identity", "direction", "frame", "verdict"} for r in records)
    assert {r["identity"] for r in records} == {"CP1"}
    assert records[0]["time"].endswith("Z")
    assert records[2]["detail"].startswith("FormationViolation: $.extra")
    assert "unknown message type" in records[4]["detail"]
    assert lines(trace.read_text()) == records  # --trace writes the same lines
    assert "[CP1] connected" in result.stderr  # connections go to stderr with --json


def test_trace_appends_in_human_mode_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    trace.write_text('{"earlier": true}\n')

    def client(server: Server) -> None:
        with charge_point(server) as ws:
            ask(ws, BOOT)

    result, _ = serve_while(monkeypatch, ["--trace", str(trace)], client)
    assert result.exit_code == 0, result.output
    assert "BootNotificationRequest" in result.stdout
    records = lines(trace.read_text())
    assert records[0] == {"earlier": True}
    assert [r["frame"][0] for r in records[1:]] == [2, 3]


# Responses and after-boot requests -------------------------------------------------------------


def test_respond_fixes_the_answer_from_json_or_a_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    payload = tmp_path / "boot.json"
    payload.write_text(
        '{"status": "Rejected", "currentTime": "2024-05-01T12:00:00Z", "interval": 60}'
    )
    args = [
        "--respond", f"BootNotification=@{payload}",
        "--respond", 'heartbeat={"currentTime": "2030-01-01T00:00:00+02:00"}',
    ]  # fmt: skip

    def client(server: Server) -> list[Any]:
        with charge_point(server) as ws:
            return [ask(ws, BOOT), ask(ws, '[2,"h","Heartbeat",{}]')]

    result, (boot, heartbeat) = serve_while(monkeypatch, args, client)
    assert result.exit_code == 0, result.output
    assert boot[2] == {"status": "Rejected", "currentTime": "2024-05-01T12:00:00Z", "interval": 60}
    assert heartbeat[2] == {"currentTime": "2030-01-01T00:00:00+02:00"}


def test_random_with_a_seed_is_repeatable_and_full_fills_every_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def client(server: Server) -> Any:
        with charge_point(server) as ws:
            return ask(ws, '[2,"a","Authorize",{"idTag":"T"}]')[2]

    first = serve_while(monkeypatch, ["--random", "--seed", "5", "--full"], client)[1]
    again = serve_while(monkeypatch, ["--random", "--seed", "5", "--full"], client)[1]
    assert first == again
    assert set(first["idTagInfo"]) == {"status", "expiryDate", "parentIdTag"}


def test_after_boot_requests_go_out_in_order_and_answers_are_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = [
        "--after-boot", 'ChangeConfiguration={"key": "HeartbeatInterval", "value": "60"}',
        "--after-boot", "GetLocalListVersion",
        "--after-boot", "ClearCache",
    ]  # fmt: skip

    def client(server: Server) -> list[Any]:
        received = []
        with charge_point(server) as ws:
            ask(ws, BOOT)
            answers = [{"status": "Accepted"}, {"listVersion": "one"}, {"status": "Accepted"}]
            for answer in answers:
                call = json.loads(ws.recv(timeout=5))
                received.append(call)
                ws.send(json.dumps([3, call[1], answer]))
            ask(ws, '[2,"last","Heartbeat",{}]')  # all answers were read before this
        return received

    result, received = serve_while(monkeypatch, args, client)
    assert result.exit_code == 0, result.output
    assert [c[2] for c in received] == ["ChangeConfiguration", "GetLocalListVersion", "ClearCache"]
    assert received[0][3] == {"key": "HeartbeatInterval", "value": "60"}
    out = result.stdout
    assert "[CP1] ChangeConfigurationRequest  sent by the central system" in out
    assert "GetLocalListVersion response is invalid: $.listVersion: violates type integer" in out
    assert "[CP1] ClearCacheRequest  sent by the central system" in out
    assert "5 exchanges, 1 with problems" in result.stderr


# Bad input: one line, exit 2, nothing served ---------------------------------------------------

BAD_INPUT = [
    (["--respond", "BootNotification={bad json"], "--respond BootNotification: not JSON"),
    (["--respond", 'Heartbeat={"currentTime": "noon"}'],
     "--respond Heartbeat breaks its schema (a violation): $.currentTime: violates format"),
    (["--respond", "Heartbeat={}"],
     "--respond Heartbeat breaks its schema (a violation): $.currentTime: violates required"),
    (["--respond", "BootNotification={}"],
     "--respond BootNotification breaks its schema (3 violations): $.status: violates required"
     " (missing); $.currentTime: violates required (missing); $.interval: violates required"),
    (["--respond", "Heartbeat"], "--respond Heartbeat: give the response"),
    (["--respond", 'Heartbeat={"currentTime": NaN}'], "--respond Heartbeat: not JSON: NaN is not"),
    (["--respond", 'Reset={"status": "Accepted"}'], "--respond Reset: --respond takes actions"),
    (["--respond", "Heartbeet={}"], "unknown action 'Heartbeet'; did you mean Heartbeat?"),
    (["--respond", "Heartbeat=@/nonexistent/file.json"], "cannot read /nonexistent/file.json"),
    (["--after-boot", "Heartbeat"], "--after-boot Heartbeat: --after-boot takes actions"),
    (["--after-boot", 'Reset={"type": "Gentle"}'],
     "--after-boot Reset breaks its schema (a violation): $.type: violates enum"),
    (["--cert", __file__], "TLS needs both --cert and --key"),
    (["--trace", "/nonexistent/dir/trace.jsonl"], "--trace: cannot write"),
    (["--port", "70000"], "a port is a number from 0 to 65535, not 70000"),
    (["--duplicate", "keep"], "duplicate is 'replace' or 'reject', not 'keep'"),
    (["--max-print", "10"], "--max-print is at least 256 bytes, not 10"),
    (["--max-frame", "100"], "the largest frame must be at least 1024 bytes, not 100"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), BAD_INPUT, ids=[m for _, m in BAD_INPUT])
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["serve", "--port", "0", *args])
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    assert result.stderr.startswith("ocpp16: error: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert "listening" not in result.stderr


def test_a_port_in_use_is_one_line_and_exit_3() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == ExitCode.CONNECT
    assert result.stderr == (
        f"ocpp16: error: cannot listen on 127.0.0.1:{port}: address already in use\n"
    )


# Who gets in -----------------------------------------------------------------------------------


def basic(user: str, password: str) -> dict[str, str]:
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_password_lets_the_right_charge_point_in_and_never_shows(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    trace = tmp_path / "trace.jsonl"

    def client(server: Server) -> list[int]:
        statuses = []
        for user, password in [("CP1", "wrong"), ("CP2", PASSWORD), ("CP1", None)]:
            headers = basic(user, password) if password else {}
            with (
                pytest.raises(InvalidStatus) as refused,
                charge_point(server, "CP1", additional_headers=headers),
            ):
                pass
            statuses.append(refused.value.response.status_code)
        with charge_point(server, "CP1", additional_headers=basic("CP1", PASSWORD)) as ws:
            statuses.append(ask(ws, BOOT)[0])
        return statuses

    result, statuses = serve_while(
        monkeypatch, ["--password", PASSWORD, "--trace", str(trace)], client
    )
    assert result.exit_code == 0, result.output
    assert statuses == [401, 401, 401, 3]
    assert result.stdout.count("[CP1] refused from 127.0.0.1:") == 3
    assert "HTTP 401: Invalid credentials" in result.stdout
    assert "HTTP 401: Missing credentials" in result.stdout
    assert "Basic auth" in result.stderr
    everything = result.stdout + result.stderr + trace.read_text()
    assert PASSWORD not in everything


def test_password_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCPP16_PASSWORD", PASSWORD)

    def client(server: Server) -> int:
        with pytest.raises(InvalidStatus) as refused, charge_point(server):
            pass
        status: int = refused.value.response.status_code
        return status

    result, status = serve_while(monkeypatch, [], client)
    assert status == 401
    assert PASSWORD not in result.output


def test_allow_refuses_other_identities_and_a_wrong_path_with_404(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def client(server: Server) -> list[int]:
        statuses = []
        for url in [server.url_for("CP2"), server.url.replace("/ocpp", "/other") + "/CP1"]:
            with (
                pytest.raises(InvalidStatus) as refused,
                connect(url, subprotocols=[OCPP16_SUBPROTOCOL], open_timeout=5),
            ):
                pass
            statuses.append(refused.value.response.status_code)
        with charge_point(server, "CP1") as ws:
            statuses.append(ask(ws, BOOT)[0])
        return statuses

    result, statuses = serve_while(monkeypatch, ["--allow", "CP1", "--path", "/ocpp/"], client)
    assert statuses == [404, 404, 3]
    assert "[CP2] refused from 127.0.0.1:" in result.stdout
    assert "unknown charge point 'CP2'" in result.stdout


def test_no_subprotocol_is_refused_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    def client(server: Server) -> str:
        with (
            pytest.raises(InvalidStatus) as refused,
            connect(server.url_for("CP1"), open_timeout=5),
        ):
            pass
        assert refused.value.response.status_code == 400
        body: str = refused.value.response.body.decode()
        return body

    result, body = serve_while(monkeypatch, [], client)
    assert "ocpp1.6" in body
    assert "HTTP 400" in result.stdout
    assert "offered none" in result.stdout


def test_tls_with_a_client_certificate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import ssl

    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1")
    server_cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    server_cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    args = ["--cert", str(tmp_path / "cert.pem"), "--key", str(tmp_path / "key.pem"),
            "--client-ca", str(tmp_path / "ca.pem")]  # fmt: skip

    def client(server: Server) -> list[Any]:
        outcomes: list[Any] = []
        for with_cert in (True, False):
            context = ssl.create_default_context()
            ca.configure_trust(context)
            if with_cert:
                ca.issue_cert("CP1").configure_cert(context)
            try:
                with charge_point(server, ssl=context) as ws:
                    outcomes.append(ask(ws, BOOT)[0])
            except Exception as exc:
                outcomes.append(type(exc).__name__)
        return outcomes

    result, outcomes = serve_while(monkeypatch, args, client)
    assert result.exit_code == 0, result.output
    assert outcomes[0] == 3
    assert outcomes[1] != 3  # refused in the TLS handshake
    assert "listening on wss://127.0.0.1:" in result.stderr
    assert "TLS with client certificates" in result.stderr


# Hostile peers: what serve prints never fails, never carries escapes, stays bounded -------------


@pytest.mark.parametrize("charset", ["utf-8", "ascii"])
def test_peer_text_is_printed_escaped_whatever_the_output_encoding(
    monkeypatch: pytest.MonkeyPatch, charset: str
) -> None:
    vendor = '[2,"a","BootNotification",{"chargePointVendor":"\\udfff\\u001b[2J\\u009b",'
    vendor += '"chargePointModel":"Mod\u00e8le [bold]x[/]"}]'

    def client(server: Server) -> list[Any]:
        with charge_point(server, "CP-\u00e9\u202e") as ws:
            answers = [ask(ws, vendor)]
        with charge_point(server, "CP2") as ws:  # printing went on for the next one
            answers.append(ask(ws, '[2,"h","Heartbeat",{}]'))
        return answers

    result, (boot, heartbeat) = serve_while(monkeypatch, [], client, charset=charset)
    assert result.exit_code == 0, result.output
    # A lone surrogate is not text: a FormationViolation, and the frame is printed all the same.
    assert (boot[:3], heartbeat[:2]) == ([4, "a", "FormationViolation"], [3, "h"])
    out = result.stdout
    assert "\x1b" not in out and "\x9b" not in out and "\u202e" not in out
    # The lone surrogate is printed as the escape it came as, the C1 control escaped.
    assert '"\\\\udfff\\u001b[2J\\x9b"' in out
    assert "[bold]x[/]" in out  # never read as rich markup
    if charset == "ascii":
        assert "[CP-\\xe9\\u202e] BootNotificationRequest" in out
        assert "Mod\\xe8le" in out
    else:
        assert "[CP-\u00e9\\u202e] BootNotificationRequest" in out
        assert "Mod\u00e8le" in out
    assert "[CP2] HeartbeatRequest" in out


@pytest.mark.parametrize("charset", ["utf-8", "ascii"])
def test_json_lines_carry_what_the_encoding_cannot_write_as_json_escapes(
    monkeypatch: pytest.MonkeyPatch, charset: str
) -> None:
    text = '[2,"a","Authorize",{"idTag":"\\udfff\u00e9"}]'

    def client(server: Server) -> Any:
        with charge_point(server, "CP-\u00e9") as ws:
            return ask(ws, text)

    result, answer = serve_while(monkeypatch, ["--json"], client, charset=charset)
    assert result.exit_code == 0, result.output
    assert answer[:3] == [4, "a", "FormationViolation"]  # a lone surrogate is not text
    records = lines(result.stdout)
    assert records[0]["identity"] == "CP-\u00e9"
    assert records[0]["frame"][3] == {"idTag": "\\udfff\u00e9"}  # shown as the escape it was


def test_an_identity_with_escape_sequences_is_refused_and_never_printed_raw(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def client(server: Server) -> list[int]:
        statuses = []
        for identity in ["CP\x1b[31mRED", "CP%FF"]:
            url = server.url + "/" + identity.replace("\x1b", "%1B")
            with (
                pytest.raises(InvalidStatus) as refused,
                connect(url, subprotocols=[OCPP16_SUBPROTOCOL], open_timeout=5),
            ):
                pass
            statuses.append(refused.value.response.status_code)
        return statuses

    result, statuses = serve_while(monkeypatch, ["--password", PASSWORD], client)
    assert statuses == [400, 400]
    assert "\x1b" not in result.output
    assert "HTTP 400: Bad Request: the identity 'CP%1B[31mRED' holds control characters" in (
        result.stdout
    )
    assert "the identity 'CP%FF' is not percent-encoded UTF-8" in result.stdout


def test_large_frames_are_printed_cut_with_their_size(monkeypatch: pytest.MonkeyPatch) -> None:
    call = [2, "big", "DataTransfer", {"vendorId": "V", "data": "d" * 50_000}]

    def client(server: Server) -> Any:
        with charge_point(server) as ws:
            return ask(ws, call)

    result, answer = serve_while(monkeypatch, ["--max-print", "1000"], client)
    assert answer[:2] == [3, "big"]
    size = len(json.dumps(call, indent=2))
    assert f"... (cut: {size:,} bytes in all, 1,000 shown)" in result.stdout
    assert len(result.stdout) < 5_000


def test_duplicate_reject_refuses_a_second_connection_with_409(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def client(server: Server) -> list[Any]:
        with charge_point(server) as first:
            with pytest.raises(InvalidStatus) as refused, charge_point(server):
                pass
            return [refused.value.response.status_code, ask(first, BOOT)[0]]

    result, outcome = serve_while(monkeypatch, ["--duplicate", "reject"], client)
    assert outcome == [409, 3]
    assert "[CP1] refused from 127.0.0.1:" in result.stdout
    assert "HTTP 409: Conflict: charge point 'CP1' is already connected" in result.stdout


def test_a_second_connection_replaces_the_first_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def client(server: Server) -> list[Any]:
        with charge_point(server) as first, charge_point(server) as second:
            with pytest.raises(ConnectionClosedOK):
                first.recv(timeout=5)
            return [first.close_code, first.close_reason, ask(second, BOOT)[0]]

    result, outcome = serve_while(monkeypatch, [], client)
    assert outcome == [1000, "replaced by a new connection", 3]
    assert "[CP1] connected from 127.0.0.1:" in result.stdout
    assert "(replacing the connection from 127.0.0.1:" in result.stdout
    assert "(code 1000: replaced by a new connection)" in result.stdout


# The installed command -------------------------------------------------------------------------


@contextmanager
def installed_serve(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``.venv/bin/ocpp16 serve --port 0 ARGS``: the process and the URL its first line gives."""
    process = subprocess.Popen(
        [str(OCPP16), "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "listening on " in line, line + (process.stderr.read() if process.poll() else "")
        url = line.split("listening on ", 1)[1].split("/<identity>")[0]
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_installed_serve_answers_and_stops_cleanly(stop: signal.Signals) -> None:
    with installed_serve("--password", PASSWORD) as (process, url):
        with connect(f"{url}/CP1", subprotocols=[OCPP16_SUBPROTOCOL],
                     additional_headers=basic("CP1", PASSWORD), open_timeout=5) as ws:  # fmt: skip
            assert ask(ws, BOOT)[:2] == [3, "boot-1"]
        time.sleep(0.2)
        process.send_signal(stop)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "[CP1] BootNotificationRequest" in out
    assert "stopped; 1 charge point, 1 exchange, 0 with problems" in err
    assert "Traceback" not in out + err
    assert PASSWORD not in out + err


def test_installed_serve_reports_a_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        command = [str(OCPP16), "serve", "--port", port]
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=30)
    assert done.returncode == ExitCode.CONNECT
    assert (
        done.stderr == f"ocpp16: error: cannot listen on 127.0.0.1:{port}: address already in use\n"
    )


# ocpp16 send and ocpp16 serve together -----------------------------------------------------------

#: Heartbeats sent after the other actions: the sending client answers the server's CALLs while it
#: waits for its own answers, so it keeps calling until every after-boot request has come through.
PADDING = 50


@pytest.fixture(scope="module")
def send_to_serve() -> dict[str, Any]:
    """One run of the installed commands: ``ocpp16 serve`` sending all CS→CP actions after the
    boot, ``ocpp16 send`` sending all CP→CS actions; the server's frame records by direction."""
    after_boot = [arg for name in CS_ACTIONS for arg in ("--after-boot", name)]
    with installed_serve("--json", "--full", *after_boot) as (process, url):
        others = [name for name in CP_ACTIONS if name != "BootNotification"]
        command = [str(OCPP16), "send", "BootNotification", *others, *["Heartbeat"] * PADDING]
        sent = subprocess.run(
            [*command, "--url", f"{url}/CP-send", "--full", "--json"],
            check=False, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    records = lines(out)
    calls = {r["frame"][1]: r for r in records if r["frame"][0] == 2}
    answers = {r["frame"][1]: r for r in records if r["frame"][0] in (3, 4)}
    return {
        "sent": sent,
        "server_exit": process.returncode,
        "server_err": err,
        "records": records,
        "exchanges": [(call, answers.get(uid)) for uid, call in calls.items()],
        "send_records": lines(sent.stdout),
    }


def test_send_and_serve_agree_on_every_frame(send_to_serve: dict[str, Any]) -> None:
    sent = send_to_serve["sent"]
    assert sent.returncode == 0, sent.stdout[-2000:] + sent.stderr
    assert send_to_serve["server_exit"] == 0
    assert "Traceback" not in send_to_serve["server_err"] + sent.stderr
    assert all(r["verdict"] == "valid" for r in send_to_serve["records"])
    assert len(send_to_serve["send_records"]) == len(CP_ACTIONS) + PADDING
    assert all(r["valid"] for r in send_to_serve["send_records"])


@pytest.mark.parametrize("action", sorted(set(CP_ACTIONS) | set(CS_ACTIONS)))
def test_send_and_serve_exchange_every_action_validly(
    send_to_serve: dict[str, Any], action: str
) -> None:
    directions = {"in": "CP→CS", "out": "CS→CP"}
    expected = {directions["in"]} if action in CP_ACTIONS else set()
    expected |= {directions["out"]} if action in CS_ACTIONS else set()
    seen = set()
    for call, answer in send_to_serve["exchanges"]:
        if call["frame"][2] != action:
            continue
        seen.add(directions[call["direction"]])
        assert answer is not None, f"{action} {call['direction']} got no answer"
        assert answer["frame"][0] == 3, answer  # a CALLRESULT...
        assert answer["verdict"] == "valid"  # ...that the server found valid, or sent as valid
    assert seen == expected
