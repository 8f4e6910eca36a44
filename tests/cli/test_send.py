"""``ocpp16 send`` through Typer's CliRunner, against the `ocpp` package and scripted peers."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from random import Random
from typing import Any

import pytest
from ocpp16_cli.exit_codes import ExitCode
from ocpp16_cli.main import app
from typer.testing import CliRunner, Result
from websockets.asyncio.server import ServerConnection, basic_auth
from websockets.http11 import Request, Response

from ocpp16 import ACTIONS, BootNotificationRequest
from tests.loopback import OcppCentralSystem, ServerThread, Tls, answer, scripted

SECRET = "s3cret-Authorization-Key"
BOOT_FIELDS = {"chargePointVendor", "chargePointModel"}
ALL_BOOT_FIELDS = set(BootNotificationRequest.random(full=True).to_dict())


def send(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, ["send", *args], input=stdin, env=env)


def lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def assert_error(result: Result, code: ExitCode, message: str) -> None:
    """One line on stderr saying what went wrong, no traceback, the exit code."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("ocpp16: error: ")
    assert message in result.stderr
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def ocpp_cs() -> Iterator[tuple[ServerThread, OcppCentralSystem]]:
    central_system = OcppCentralSystem()
    with ServerThread(central_system.handler) as server:
        yield server, central_system


class Counting:
    """A peer answering every CALL validly, counting connections."""

    def __init__(self) -> None:
        self.connections = 0
        self.frames: list[Any] = []

    async def handler(self, connection: ServerConnection) -> None:
        self.connections += 1
        async for message in connection:
            frame = json.loads(message)
            self.frames.append(frame)
            await connection.send(answer(frame))


@pytest.fixture
def peer() -> Iterator[tuple[ServerThread, Counting]]:
    counting = Counting()
    with ServerThread(counting.handler) as server:
        yield server, counting


# Every action, as the `ocpp` package sees it ---------------------------------------------------


@pytest.mark.parametrize("full", [False, True], ids=["required", "full"])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_action_reaches_the_ocpp_package_valid(
    ocpp_cs: tuple[ServerThread, OcppCentralSystem], action: str, full: bool
) -> None:
    server, central_system = ocpp_cs
    flags = ["--full"] if full else []
    result = send(action, "--url", server.url(), "--json", "--seed", "7", *flags)
    assert result.exit_code == 0, result.output
    (exchange,) = lines(result)
    assert exchange["valid"] is True
    assert exchange["verdict"] == "ok"
    request = exchange["request"]
    assert central_system.frames[-1] == request
    assert (action, request[1]) in central_system.handled  # validated by `ocpp`, then handled
    cls = ACTIONS[action].request
    assert request[3] == cls.random(full=full, rng=Random(7)).to_dict()


# What users type -------------------------------------------------------------------------------


def test_the_original_senders_spelling_and_output(
    ocpp_cs: tuple[ServerThread, OcppCentralSystem],
) -> None:
    server, _ = ocpp_cs
    url = server.url(scheme="http")
    result = send("--request=BootNotificationRequest", f"--url={url}", "--option=True")
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    assert out[:3] == ["BootNotificationRequest", "Request:", "["]
    response_at = out.index("Response:")
    request = json.loads("\n".join(out[2:response_at]))
    assert request[:3] == [2, request[1], "BootNotification"]
    assert set(request[3]) == ALL_BOOT_FIELDS  # --option=True: every field
    assert "\n".join(out[2:response_at]) == json.dumps(request, indent=2)
    response = json.loads("\n".join(out[response_at + 1 :]))
    assert response[:2] == [3, request[1]]

    required = send("--request=BootNotificationRequest", f"--url={url}", "--option=False")
    assert required.exit_code == 0, required.output
    body = required.stdout.split("Response:")[0].split("Request:")[1]
    assert set(json.loads(body)[3]) == BOOT_FIELDS  # a real boolean: False is not truthy


@pytest.mark.parametrize(
    "spelling", ["Heartbeat", "heartbeat", "HEARTBEAT", "HeartbeatRequest", "heartbeatrequest"]
)
def test_action_spellings(peer: tuple[ServerThread, Counting], spelling: str) -> None:
    server, counting = peer
    result = send(spelling, "--url", server.url())
    assert result.exit_code == 0, result.output
    assert counting.frames[0][2] == "Heartbeat"
    assert result.stdout.startswith("HeartbeatRequest\nRequest:\n")


def test_several_actions_go_in_order_on_one_connection(
    peer: tuple[ServerThread, Counting],
) -> None:
    server, counting = peer
    result = send("BootNotification", "Heartbeat", "--request", "Authorize", "--url", server.url())
    assert result.exit_code == 0, result.output
    assert counting.connections == 1
    assert [f[2] for f in counting.frames] == ["BootNotification", "Heartbeat", "Authorize"]
    assert result.stdout.count("Request:") == result.stdout.count("Response:") == 3


def test_identity_given_separately_is_appended() -> None:
    paths: list[str] = []

    def record(_: ServerConnection, request: Request) -> None:
        paths.append(request.path)

    with ServerThread(scripted(lambda f: [answer(f)]), process_request=record) as server:
        result = send("Heartbeat", "--url", server.url("/ocpp"), "--id", "CP 1/ä")
    assert result.exit_code == 0, result.output
    assert paths == ["/ocpp/CP%201%2F%C3%A4"]


def test_random_payloads_repeat_with_a_seed(peer: tuple[ServerThread, Counting]) -> None:
    server, counting = peer
    for _ in range(2):
        assert send("MeterValues", "--full", "--seed", "42", "--url", server.url()).exit_code == 0
    first, second = counting.frames
    assert first[3] == second[3]
    assert first[1] != second[1]


@pytest.mark.parametrize("how", ["text", "file", "stdin"])
def test_param_from_text_file_or_stdin(
    peer: tuple[ServerThread, Counting], tmp_path: Path, how: str
) -> None:
    server, counting = peer
    payload = {"chargePointVendor": "Acme", "chargePointModel": "X1", "iccid": "ünï"}
    text = json.dumps(payload)
    (tmp_path / "boot.json").write_text(text, encoding="utf-8")
    value = {"text": text, "file": f"@{tmp_path / 'boot.json'}", "stdin": "-"}[how]
    result = send("BootNotification", f"--param={value}", "--url", server.url(), stdin=text)
    assert result.exit_code == 0, result.output
    assert counting.frames[0][3] == payload


def test_params_go_to_actions_in_order(peer: tuple[ServerThread, Counting]) -> None:
    server, counting = peer
    boot = {"chargePointVendor": "Acme", "chargePointModel": "X1"}
    result = send(
        "BootNotification", "Heartbeat", "--param", json.dumps(boot), "--url", server.url()
    )
    assert result.exit_code == 0, result.output
    assert counting.frames[0][3] == boot
    assert counting.frames[1][3] == {}


def test_json_output_per_exchange(peer: tuple[ServerThread, Counting]) -> None:
    server, _ = peer
    result = send("Heartbeat", "Authorize", "--json", "--url", server.url())
    assert result.exit_code == 0, result.output
    heartbeat, authorize = lines(result)
    assert set(heartbeat) == {
        "action",
        "request",
        "response",
        "elapsed_ms",
        "valid",
        "verdict",
        "error",
        "violations",
        "validated",
        "events",
    }
    assert heartbeat["action"] == "Heartbeat"
    assert heartbeat["request"][2] == "Heartbeat"
    assert heartbeat["response"][:2] == [3, heartbeat["request"][1]]
    assert isinstance(heartbeat["elapsed_ms"], float | int) and heartbeat["elapsed_ms"] > 0
    assert (heartbeat["valid"], heartbeat["error"], heartbeat["violations"]) == (True, None, [])
    assert authorize["action"] == "Authorize"


def test_dry_run_sends_nothing_and_needs_no_server(peer: tuple[ServerThread, Counting]) -> None:
    server, counting = peer
    result = send("BootNotification", "Heartbeat", "--dry-run", "--url", server.url())
    assert result.exit_code == 0, result.output
    assert result.stdout.count("Request:") == 2
    assert "Response:" not in result.stdout
    assert counting.connections == 0
    alone = send("Heartbeat", "--dry-run", "--json", "--seed", "1")
    assert alone.exit_code == 0, alone.output
    (line,) = lines(alone)
    assert line["request"][2:] == ["Heartbeat", {}]
    assert line["validated"] is True


# Bad input: one line, exit 2, nothing sent -------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Bootnotif"], "unknown action 'Bootnotif'; did you mean BootNotification?"),
        (["--request=HeartBeet"], "unknown action 'HeartBeet'; did you mean Heartbeat?"),
        ([], "name at least one action to send"),
        (
            ["BootNotification", "--param", '{"chargePointVendor": }'],
            "--param for BootNotification: not JSON: Expecting value: line 1 column 23",
        ),
        (
            ["BootNotification", "--param", '{\n  "a": 1,\n}'],
            "--param for BootNotification: not JSON: Expecting property name enclosed in double"
            " quotes: line 3 column 1",
        ),
        (
            ["BootNotification", "--param", '{"chargePointVendor": "123456789012345678901"}'],
            "--param for BootNotification breaks its schema (2 violations; --no-validate sends it"
            " anyway): $.chargePointVendor: violates maxLength 20 (got 21 characters);"
            " $.chargePointModel: violates required (missing)",
        ),
        (
            [
                "MeterValues",
                "--param",
                '{"connectorId": "1", "meterValue": [{"sampledValue": []}]}',
            ],
            "$.connectorId: violates type integer (got string); $.meterValue[0].timestamp:"
            " violates required (missing)",
        ),
        (["Heartbeat", "--param", "[]"], "$: violates type object (got array)"),
        (["Heartbeat", "--param", "-"], "--param for Heartbeat (stdin): not JSON: Expecting value"),
        (["Heartbeat", "--param", "@/nonexistent/payload.json"], "cannot read"),
        (["Heartbeat", "--param", "{}", "--param", "{}"], "2 --param given for 1 action(s)"),
        (  # Python reads NaN; it would go on the wire as it is, and it is no JSON
            ["Authorize", "--no-validate", "--param", '{"idTag": NaN}'],
            "--param for Authorize: not JSON: NaN is not JSON",
        ),
        (["Heartbeat", "--param", '{"x": -Infinity}'], "not JSON: -Infinity is not JSON"),
        (["Heartbeat", "--option=maybe"], "--option takes True or False, not 'maybe'"),
        (["Heartbeat", "--full", "--option=False"], "--full and --option=False contradict"),
    ],
)
def test_bad_input(peer: tuple[ServerThread, Counting], args: list[str], message: str) -> None:
    server, counting = peer
    result = send(*args, "--url", server.url())
    assert_error(result, ExitCode.USAGE, message)
    assert result.stdout == ""
    assert counting.connections == 0


def test_a_param_file_that_is_not_utf8(peer: tuple[ServerThread, Counting], tmp_path: Path) -> None:
    server, counting = peer
    (tmp_path / "latin1.json").write_bytes('{"idTag": "Müller"}'.encode("latin-1"))
    result = send("Authorize", "--param", f"@{tmp_path / 'latin1.json'}", "--url", server.url())
    assert_error(result, ExitCode.USAGE, "latin1.json is not UTF-8 text (byte 0xfc at offset 12)")
    assert counting.connections == 0


@pytest.mark.parametrize(
    ("url", "extra", "message"),
    [
        (None, [], "--url is required"),
        ("ftp://127.0.0.1/CP1", [], "use a ws://, wss://, http:// or https:// URL"),
        ("ws://127.0.0.1:9/", [], "no charge point identity"),
        ("ws://127.0.0.1:9/CP1", ["--insecure"], "TLS options need a wss:// or https:// URL"),
        ("wss://127.0.0.1:9/CP1", ["--ca", "garbage.pem"], "cannot load the CA bundle"),
        ("wss://127.0.0.1:9/CP1", ["--key", "garbage.pem"], "a client key needs its certificate"),
    ],
)
def test_bad_connection_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str | None, extra: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "garbage.pem").write_text("not PEM\n")
    result = send("Heartbeat", *([] if url is None else ["--url", url]), *extra)
    assert_error(result, ExitCode.USAGE, message)


def test_no_validate_sends_a_broken_payload(
    ocpp_cs: tuple[ServerThread, OcppCentralSystem],
) -> None:
    server, central_system = ocpp_cs
    payload = {"chargePointVendor": "x" * 21}
    result = send(
        "BootNotification", "--param", json.dumps(payload), "--no-validate", "--url", server.url()
    )
    assert central_system.frames[-1][3] == payload
    # The `ocpp` package refuses it (with its own choice of code for a too-long string).
    assert_error(result, ExitCode.CALL_ERROR, "BootNotification: CALLERROR TypeConstraint")
    assert "\nCALLERROR TypeConstraintViolation: " in result.stdout


# Network faults and bad answers: their exit codes --------------------------------------------


def test_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = send("Heartbeat", "--url", f"ws://127.0.0.1:{port}/CP1")
    assert_error(result, ExitCode.CONNECT, "connection refused")
    assert result.stdout == ""


def test_dns_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*_: Any, **__: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    result = send("Heartbeat", "--url", "ws://nowhere.invalid/CP1")
    assert_error(result, ExitCode.CONNECT, "cannot resolve the host of ws://nowhere.invalid/CP1")


@pytest.mark.parametrize("status", [HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND])
def test_upgrade_refused(status: HTTPStatus) -> None:
    def refuse(connection: ServerConnection, _: Request) -> Response:
        return connection.respond(status, "no\n")

    with ServerThread(scripted(lambda f: []), process_request=refuse) as server:
        result = send("Heartbeat", "--url", server.url(), "--password", SECRET)
    assert_error(result, ExitCode.CONNECT, f"HTTP {int(status)}")
    assert SECRET not in result.output


def test_subprotocol_refused() -> None:
    with ServerThread(scripted(lambda f: [answer(f)]), subprotocols=None) as server:
        result = send("Heartbeat", "--url", server.url())
    assert_error(result, ExitCode.CONNECT, "did not agree to the ocpp1.6 subprotocol")


def test_timeout() -> None:
    with ServerThread(scripted(lambda f: [])) as server:
        result = send("Heartbeat", "--url", server.url(), "--timeout", "0.1")
    assert_error(result, ExitCode.TIMEOUT, "no answer to Heartbeat within 0.1 s")
    assert "Response:\n(no answer)\nno answer to Heartbeat within 0.1 s\n" in result.stdout


def test_callerror_then_the_next_action_still_goes() -> None:
    def first_refused(frame: Any) -> list[str]:
        if frame[2] == "BootNotification":
            return [json.dumps([4, frame[1], "InternalError", "boom", {"at": "boot"}])]
        return [answer(frame)]

    with ServerThread(scripted(first_refused)) as server:
        result = send("BootNotification", "Heartbeat", "--url", server.url())
    assert_error(result, ExitCode.CALL_ERROR, "BootNotification: CALLERROR InternalError: boom")
    assert 'CALLERROR InternalError: boom {"at": "boot"}' in result.stdout
    assert result.stdout.count("Response:") == 2


def test_invalid_response_is_shown_raw_with_every_violation() -> None:
    bad = {"currentTime": "2024-13-01", "extra": True}

    def wrong(frame: Any) -> list[str]:
        return [answer(frame, bad)]

    with ServerThread(scripted(wrong)) as server:
        text = send("Heartbeat", "--url", server.url())
        as_json = send("Heartbeat", "--url", server.url(), "--json")
    assert_error(text, ExitCode.INVALID_RESPONSE, "Heartbeat response is invalid: $.currentTime")
    response = json.loads(text.stdout.split("Response:\n")[1].split("\nInvalid response")[0])
    assert response[2] == bad
    assert (
        "Invalid response: the central system's answer breaks the Heartbeat schema:\n"
        "  $.currentTime: violates format date-time (got '2024-13-01')\n"
        "  $.extra: violates additionalProperties (not a property of this message)\n"
    ) in text.stdout
    (line,) = lines(as_json)
    assert line["response"][2] == bad
    assert (line["valid"], line["verdict"]) == (False, "invalid")
    assert [v["path"] for v in line["violations"]] == ["$.currentTime", "$.extra"]
    assert line["violations"][0]["code"] == "PropertyConstraintViolation"


def test_connection_closed_stops_the_run() -> None:
    frames: list[Any] = []

    async def hang_up(connection: ServerConnection) -> None:
        frames.append(json.loads(await connection.recv()))
        await connection.close(1011, "bye")

    with ServerThread(hang_up) as server:
        result = send("Heartbeat", "Heartbeat", "--url", server.url())
    assert_error(result, ExitCode.CONNECTION_LOST, "the server closed the connection")
    assert len(frames) == 1
    assert result.stdout.count("Request:") == 1


def test_malformed_answer() -> None:
    with ServerThread(scripted(lambda f: [json.dumps([3, f[1]])])) as server:
        result = send("Heartbeat", "--url", server.url())
    assert_error(result, ExitCode.CONNECTION_LOST, "the answer is not OCPP-J")


def test_answer_in_a_text_frame_that_is_not_utf8_closes_with_1007() -> None:
    codes: list[int | None] = []

    async def not_utf8(connection: ServerConnection) -> None:
        frame = json.loads(await connection.recv())
        # A text frame whose bytes are not UTF-8 (websockets sends bytes as text unchecked).
        bad = b'[3, "' + frame[1].encode() + b'", {"currentTime": "\xff\xfe"}]'
        await connection.send(bad, text=True)
        await connection.wait_closed()
        codes.append(connection.close_code)

    with ServerThread(not_utf8) as server:
        result = send("Heartbeat", "--url", server.url(), "--timeout", "10")
    assert_error(result, ExitCode.CONNECTION_LOST, "not UTF-8")
    assert "closed the connection with 1007" in result.stderr
    assert codes == [1007], codes


# CALLs from the central system while we wait -------------------------------------------------


async def calls_back(connection: ServerConnection) -> None:
    """Sends a Reset CALL before answering ours, and an unknown message type."""
    ours = json.loads(await connection.recv())
    await connection.send(json.dumps([2, "srv-1", "Reset", {"type": "Soft"}]))
    await connection.recv()
    await connection.send('[7, "srv-2"]')
    await connection.send(answer(ours))
    async for _ in connection:
        pass


@pytest.mark.parametrize(
    ("answer_option", "reply"),
    [([], [3, "srv-1"]), (["--answer", "not-implemented"], [4, "srv-1", "NotImplemented"])],
)
def test_server_calls_are_answered_and_reported(answer_option: list[str], reply: list[Any]) -> None:
    with ServerThread(calls_back) as server:
        text = send("Heartbeat", "--url", server.url(), *answer_option)
        as_json = send("Heartbeat", "--url", server.url(), "--json", *answer_option)
    assert text.exit_code == 0, text.output
    assert 'While waiting, the central system sent [2, "srv-1", "Reset", {"type": "Soft"}];' in (
        text.stdout
    )
    assert 'While waiting, ignored frame [7, "srv-2"]: unknown message type id 7' in text.stdout
    (line,) = lines(as_json)
    server_call, ignored = line["events"]
    assert server_call["kind"] == "server-call"
    assert server_call["reply"][: len(reply)] == reply
    assert ignored["kind"] == "ignored"


# What a hostile central system writes never reaches a terminal raw -----------------------------

#: Sequences a terminal acts on: OSC (sets the window title), C1 CSI, a bidi override, DEL.
HOSTILE = "\x1b]0;pwned\x07 \x9b31m \u202eevil \x7f"
#: Any of them, or any C0 control but newline, in what ocpp16 printed.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]")


def hostile_callerror(frame: Any) -> list[str]:
    return [json.dumps([4, frame[1], f"Generic{HOSTILE}", HOSTILE, {"d": HOSTILE}])]


def hostile_result(frame: Any) -> list[str]:
    return [answer(frame, {"currentTime": HOSTILE})]


def hostile_call(frame: Any) -> list[str]:
    if frame[0] != 2:
        return []  # our answer to its CALL
    return [json.dumps([2, "srv", f"Reset{HOSTILE}", {}]), answer(frame)]


@pytest.mark.parametrize("script", [hostile_callerror, hostile_result, hostile_call])
@pytest.mark.parametrize("as_json", [[], ["--json"]])
def test_peer_text_is_escaped_on_a_pipe(script: Any, as_json: list[str]) -> None:
    with ServerThread(scripted(script)) as server:
        result = send("Heartbeat", "--url", server.url(), *as_json)
    assert result.exit_code in (0, ExitCode.CALL_ERROR, ExitCode.INVALID_RESPONSE), result.output
    assert RAW_CONTROL.search(result.stdout) is None, ascii(result.stdout)
    assert RAW_CONTROL.search(result.stderr) is None, ascii(result.stderr)
    if as_json:
        (line,) = lines(result)  # still JSON, holding what the peer sent as it was
        assert any(HOSTILE in text for text in strings(line)), line


def strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | dict):
        for item in value.values() if isinstance(value, dict) else value:
            yield from strings(item)


# Security profiles ---------------------------------------------------------------------------


def test_password_from_the_environment_is_sent_and_never_printed() -> None:
    seen: list[str | None] = []

    def record(_: ServerConnection, request: Request) -> None:
        seen.append(request.headers.get("Authorization"))

    with ServerThread(scripted(lambda f: [answer(f)]), process_request=record) as server:
        env = {"OCPP16_PASSWORD": SECRET}
        for extra in [[], ["--json"], ["--dry-run"], ["--help"]]:
            result = send("Heartbeat", "--url", server.url(), *extra, env=env)
            assert result.exit_code == 0, result.output
            assert SECRET not in result.output
    assert len(seen) == 2
    assert all(header is not None and header.startswith("Basic ") for header in seen)


def test_tls_profile_3_and_insecure(tmp_path: Path) -> None:
    tls = Tls(tmp_path)
    strict = tls.server_context(require_client_cert=True)
    with ServerThread(scripted(lambda f: [answer(f)]), ssl=strict) as server:
        url = server.url(scheme="wss")
        files = ["--ca", str(tls.ca), "--cert", str(tls.client_cert), "--key", str(tls.client_key)]
        assert send("Heartbeat", "--url", url, *files).exit_code == 0
    with ServerThread(scripted(lambda f: [answer(f)]), ssl=tls.server_context()) as server:
        url = server.url(scheme="https")
        unverified = send("Heartbeat", "--url", url)
        assert_error(unverified, ExitCode.CONNECT, "unable to get local issuer certificate")
        assert send("Heartbeat", "--url", url, "--insecure").exit_code == 0


def test_terminal_output_has_the_plain_layout_in_colour(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On a terminal rich prints the exchange; its text is what a pipe gets, plus colour."""
    from io import StringIO

    from ocpp16_cli.commands.send import _Printer
    from rich.console import Console

    from ocpp16.client import CallRecord
    from ocpp16.errors import CallError

    record = CallRecord(
        "Heartbeat",
        [2, "id-1", "Heartbeat", {}],
        [4, "id-1", "NotSupported", "no", {}],
        0.001,
        error=CallError("NotSupported", "no", {}, action="Heartbeat"),
    )
    plain = _Printer(as_json=False)
    assert plain.console is None  # not a terminal under pytest
    plain.request("Heartbeat", record.request)
    plain.response(record, checked=True)
    piped = capsys.readouterr().out
    terminal = _Printer(as_json=False)
    screen = StringIO()
    terminal.console = Console(file=screen, force_terminal=True, soft_wrap=True, highlight=False)
    terminal.request("Heartbeat", record.request)
    terminal.response(record, checked=True)
    coloured = screen.getvalue()
    assert "\x1b[" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == piped


@pytest.mark.parametrize(
    ("password", "code"), [(SECRET, ExitCode.OK), ("wrong-password", ExitCode.CONNECT)]
)
def test_basic_auth_accepted_and_rejected(password: str, code: ExitCode) -> None:
    checker = basic_auth(realm="ocpp", credentials=("CP1", SECRET))
    with ServerThread(scripted(lambda f: [answer(f)]), process_request=checker) as server:
        result = send("Heartbeat", "--url", server.url(), env={"OCPP16_PASSWORD": password})
    assert result.exit_code == code, result.output
    assert password not in result.output
    if code == ExitCode.CONNECT:
        assert "HTTP 401" in result.stderr
        assert "check the identity and password" in result.stderr
