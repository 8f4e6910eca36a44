"""ocpp16.client: typed calls against the `ocpp` package and scripted peers over loopback."""

from __future__ import annotations

import asyncio
import json
import math
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from random import Random
from typing import Any, assert_type

import pytest
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as OcppChargePoint
from ocpp.v16 import call as ocpp_call
from ocpp.v16 import call_result as ocpp_result
from ocpp.v16 import enums as ocpp_enums
from ocpp16_cli.main import app
from typer.testing import CliRunner
from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

import ocpp16
from ocpp16 import (
    ACTIONS,
    BootNotificationRequest,
    CallError,
    CallTimeout,
    ConnectionClosed,
    FrameError,
    HandshakeError,
    HeartbeatRequest,
    HeartbeatResponse,
    InputError,
    InvalidResponse,
    Model,
    ResetRequest,
    ResetResponse,
    ResetStatus,
    SchemaViolations,
    UnknownAction,
)
from ocpp16.client import ClientEvent, Handler, answer_not_implemented, answer_random
from ocpp16.limits import MAX_QUEUED_CALLS, MAX_TIMEOUT
from tests.loopback import OcppCentralSystem, ServerThread, Tls, answer, scripted

CS_ACTIONS = sorted(name for name, a in ACTIONS.items() if a.sender.central_system_sends)


@pytest.fixture(scope="module")
def ocpp_cs() -> Iterator[tuple[ServerThread, OcppCentralSystem]]:
    central_system = OcppCentralSystem()
    with ServerThread(central_system.handler) as server:
        yield server, central_system


# Against the `ocpp` package ------------------------------------------------------------------


@pytest.mark.parametrize("full", [False, True], ids=["required", "full"])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_action_reaches_the_ocpp_package_valid(
    ocpp_cs: tuple[ServerThread, OcppCentralSystem], action: str, full: bool
) -> None:
    server, central_system = ocpp_cs
    request = ACTIONS[action].request.random(full=full, rng=Random(action))
    with ocpp16.connect(server.url()) as cp:
        record = cp.exchange(request)
    assert record.ok, record.error
    assert isinstance(record.response, ACTIONS[action].response)
    unique_id = record.request[1]
    assert record.request == [2, unique_id, action, request.to_dict()]
    assert central_system.frames[-1] == record.request  # as it arrived, byte for byte in JSON
    # Its handler ran, so the `ocpp` package validated the CALL against the official schema.
    assert (action, unique_id) in central_system.handled
    assert record.answer[:2] == [3, unique_id]
    assert record.elapsed > 0


def test_call_returns_the_typed_response(ocpp_cs: tuple[ServerThread, OcppCentralSystem]) -> None:
    server, _ = ocpp_cs
    with ocpp16.connect(server.url("/ocpp"), "CP 7") as cp:
        assert cp.identity == "CP 7"
        assert cp.url.endswith("/ocpp/CP%207")
        response = cp.call(HeartbeatRequest())
        assert_type(response, HeartbeatResponse)  # mypy infers the response from the request
        assert isinstance(response.current_time, datetime)
        boot = cp.call(BootNotificationRequest(charge_point_vendor="Acme", charge_point_model="X1"))
        assert boot.interval >= 0


def test_unique_ids_are_fresh_uuid4_strings(
    ocpp_cs: tuple[ServerThread, OcppCentralSystem],
) -> None:
    server, _ = ocpp_cs
    with ocpp16.connect(server.url()) as cp:
        ids = [cp.exchange(HeartbeatRequest()).request[1] for _ in range(5)]
    assert len(set(ids)) == 5
    for unique_id in ids:
        assert len(unique_id) == 36
        assert uuid.UUID(unique_id).version == 4


# Answers that are not a valid CALLRESULT -----------------------------------------------------


def test_callerror_raises_with_code_description_and_details() -> None:
    def refuse(frame: Any) -> list[str]:
        return [json.dumps([4, frame[1], "NotSupported", "not here", {"hint": "elsewhere"}])]

    with ServerThread(scripted(refuse)) as server, ocpp16.connect(server.url()) as cp:
        with pytest.raises(CallError) as caught:
            cp.call(HeartbeatRequest())
        record = cp.exchange(HeartbeatRequest())
    error = caught.value
    assert (error.code, error.description, error.details) == (
        "NotSupported",
        "not here",
        {"hint": "elsewhere"},
    )
    assert error.action == "Heartbeat"
    assert str(error) == "Heartbeat: CALLERROR NotSupported: not here"
    assert record.verdict == "callerror"
    assert record.answer == [
        4,
        record.request[1],
        "NotSupported",
        "not here",
        {"hint": "elsewhere"},
    ]


def test_invalid_response_lists_every_violation_and_keeps_the_raw_payload() -> None:
    bad = {"currentTime": "yesterday", "colour": "blue"}

    def wrong(frame: Any) -> list[str]:
        return [answer(frame, bad)]

    with ServerThread(scripted(wrong)) as server, ocpp16.connect(server.url()) as cp:
        with pytest.raises(InvalidResponse) as caught:
            cp.call(HeartbeatRequest())
        record = cp.exchange(HeartbeatRequest())
    error = caught.value
    assert error.payload == bad
    assert isinstance(error.error, SchemaViolations)
    found = {(v.path, v.constraint) for v in error.error.violations}
    assert found == {("$.currentTime", "format date-time"), ("$.colour", "additionalProperties")}
    assert "Heartbeat response is invalid: $.currentTime: violates format date-time" in str(error)
    assert record.verdict == "invalid"
    assert record.answer == [3, record.request[1], bad]


def test_timeout_then_the_late_answer_is_ignored() -> None:
    calls: list[Any] = []

    def slow(frame: Any) -> list[str]:
        calls.append(frame)
        if len(calls) == 1:
            return []  # no answer in time
        return [answer(calls[0]), answer(frame)]  # the late one first

    events: list[ClientEvent] = []
    with (
        ServerThread(scripted(slow)) as server,
        ocpp16.connect(server.url(), on_event=events.append) as cp,
    ):
        start = time.perf_counter()
        with pytest.raises(CallTimeout, match=r"no answer to Heartbeat within 0\.1 s"):
            cp.call(HeartbeatRequest(), timeout=0.1)
        assert 0.1 <= time.perf_counter() - start < 2
        record = cp.exchange(HeartbeatRequest())
    assert record.ok
    assert [e.kind for e in record.events] == ["ignored"]
    assert record.events[0].frame[1] == calls[0][1]
    assert "answers no CALL of ours" in record.events[0].detail
    assert events == list(record.events)


def test_default_timeout_is_the_connections() -> None:
    with (
        ServerThread(scripted(lambda _: [])) as server,
        ocpp16.connect(server.url(), timeout=0.05) as cp,
    ):
        record = cp.exchange(HeartbeatRequest())
    assert record.verdict == "timeout"
    assert record.answer is None
    assert isinstance(record.error, CallTimeout)


def test_server_closing_during_the_call() -> None:
    async def hang_up(connection: ServerConnection) -> None:
        await connection.recv()
        await connection.close(1001, "bye")

    with ServerThread(hang_up) as server, ocpp16.connect(server.url()) as cp:
        with pytest.raises(ConnectionClosed, match=r"code 1001: bye"):
            cp.call(HeartbeatRequest())
        record = cp.exchange(HeartbeatRequest())
    assert record.verdict == "closed"


def test_malformed_and_unmatched_frames_are_reported_and_skipped() -> None:
    noise: list[str | bytes] = [
        "not json",
        "[]",
        '{"a": 1}',
        '[2, "x"]',
        b"\x00binary",
        '[9, "x", 1]',
        '[3, "someone-else", {}]',
    ]

    def noisy(frame: Any) -> list[str | bytes]:
        return [*noise, answer(frame)] if frame[0] == 2 else []  # not our CALLERRORs

    seen: list[ClientEvent] = []
    with (
        ServerThread(scripted(noisy)) as server,
        ocpp16.connect(server.url(), on_event=seen.append) as cp,
    ):
        record = cp.exchange(HeartbeatRequest())
    assert record.ok
    kinds = [e.kind for e in record.events]
    assert kinds == ["server-call"] * 4 + ["malformed", "ignored", "ignored"]
    assert record.events[0].frame == "not json"
    assert "not valid JSON" in record.events[0].detail
    # Text that cannot say what it is gets a CALLERROR with the id "-1" (as the server does).
    for event in record.events[:3]:
        assert event.reply is not None
        assert event.reply[:3] == [4, "-1", "FormationViolation"]
    # A broken CALL gets the CALLERROR OCPP-J prescribes, with the id it carries.
    assert record.events[3].reply is not None
    assert record.events[3].reply[:3] == [4, "x", "ProtocolError"]
    assert record.events[4].detail == "a binary frame: OCPP-J is text only"
    assert "unknown message type id 9" in record.events[5].detail
    assert seen == list(record.events)


def test_a_malformed_answer_to_our_call_fails_it() -> None:
    def broken(frame: Any) -> list[str]:
        return [json.dumps([3, frame[1]])]

    with ServerThread(scripted(broken)) as server, ocpp16.connect(server.url()) as cp:
        with pytest.raises(FrameError, match="the answer is not OCPP-J"):
            cp.call(HeartbeatRequest())
        record = cp.exchange(HeartbeatRequest())
    assert record.verdict == "malformed"
    assert record.answer == [3, record.request[1]]


# CALLs from the server while we wait ---------------------------------------------------------


class CallingServer:
    """Answers our CALL only after sending its own CALL ``theirs`` and reading our reply."""

    def __init__(self, theirs: list[Any]) -> None:
        self.theirs = theirs
        self.replies: list[Any] = []

    async def handler(self, connection: ServerConnection) -> None:
        ours = json.loads(await connection.recv())
        await connection.send(json.dumps(self.theirs))
        self.replies.append(json.loads(await connection.recv()))
        await connection.send(answer(ours))
        async for _ in connection:
            pass

    def run(self, on_call: Handler = answer_random) -> tuple[Any, list[ClientEvent]]:
        with (
            ServerThread(self.handler) as server,
            ocpp16.connect(server.url(), on_call=on_call) as cp,
        ):
            record = cp.exchange(HeartbeatRequest())
        assert record.ok, record.error
        assert len(self.replies) == 1
        return self.replies[0], list(record.events)


@pytest.mark.parametrize("action", CS_ACTIONS)
def test_server_calls_get_a_valid_random_answer(action: str) -> None:
    request = ACTIONS[action].request.random(full=True, rng=Random(action)).to_dict()
    reply, events = CallingServer([2, "srv-1", action, request]).run()
    assert reply[:2] == [3, "srv-1"]
    ACTIONS[action].response.from_dict(reply[2])  # valid
    assert events == [ClientEvent("server-call", [2, "srv-1", action, request], reply, "")]


def accept_reset(request: Any) -> Model:
    assert isinstance(request, ResetRequest)
    return ResetResponse(status=ResetStatus.REJECTED)


def fail(request: Any) -> Model:
    raise ValueError("broken handler")


def wrong_type(request: Any) -> Model:
    return HeartbeatResponse(current_time=datetime.now().astimezone())


def odd_code(request: Any) -> Model:
    raise CallError("NoSuchCode", "made up")


@pytest.mark.parametrize(
    ("handler", "expected", "detail"),
    [
        (accept_reset, [3, "srv-1", {"status": "Rejected"}], ""),
        (answer_not_implemented, [4, "srv-1", "NotImplemented"], ""),
        (odd_code, [4, "srv-1", "GenericError", "made up"], ""),
        (fail, [4, "srv-1", "InternalError"], "the handler failed: ValueError: broken handler"),
        (wrong_type, [4, "srv-1", "InternalError"], "returned HeartbeatResponse, not Reset"),
    ],
)
def test_server_call_handlers(handler: Handler, expected: list[Any], detail: str) -> None:
    reply, events = CallingServer([2, "srv-1", "Reset", {"type": "Soft"}]).run(handler)
    assert reply[: len(expected)] == expected
    assert len(events) == 1
    assert events[0].kind == "server-call"
    assert detail in events[0].detail


@pytest.mark.parametrize(
    ("call", "code"),
    [
        ([2, "srv-1", "Reset", {"type": "Now"}], "PropertyConstraintViolation"),
        ([2, "srv-1", "Reset", {}], "OccurenceConstraintViolation"),
        ([2, "srv-1", "Frobnicate", {}], "NotImplemented"),
        ([2, "srv-1", "BootNotification", {}], "NotSupported"),
    ],
)
def test_invalid_server_calls_get_a_callerror(call: list[Any], code: str) -> None:
    reply, events = CallingServer(call).run()
    assert reply[:3] == [4, "srv-1", code]
    assert events[0].kind == "server-call"
    assert events[0].detail.startswith(code)


# Raw CALLs for negative tests ----------------------------------------------------------------


def test_call_raw_sends_the_payload_as_it_is() -> None:
    log: list[str | bytes] = []
    with (
        ServerThread(scripted(lambda f: [json.dumps([3, f[1], {}])], log)) as server,
        ocpp16.connect(server.url()) as cp,
    ):
        unknown = cp.call_raw("Frobnicate", [1, "two"], unique_id="my-id")
        invalid = cp.call_raw("BootNotification", {"chargePointVendor": 5})
    assert json.loads(log[0]) == [2, "my-id", "Frobnicate", [1, "two"]]
    assert json.loads(log[1])[3] == {"chargePointVendor": 5}
    assert unknown.ok  # no schema to hold its answer to
    assert unknown.response is None
    assert invalid.verdict == "invalid"  # {} is no BootNotification response


def test_call_raw_validates_on_request_and_then_sends_nothing() -> None:
    log: list[str | bytes] = []
    with ServerThread(scripted(lambda _: [], log)) as server, ocpp16.connect(server.url()) as cp:
        with pytest.raises(SchemaViolations) as caught:
            cp.call_raw("BootNotification", {"chargePointVendor": "x" * 21}, validate=True)
        with pytest.raises(UnknownAction, match="did you mean Heartbeat"):
            cp.call_raw("heartbeat", {}, validate=True)
        with pytest.raises(UnknownAction, match="'Frobnicate'"):
            cp.call_raw("Frobnicate", {}, validate=True)
    assert [str(v) for v in caught.value.violations] == [
        "$.chargePointVendor: violates maxLength 20 (got 21 characters)",
        "$.chargePointModel: violates required (missing)",
    ]
    assert log == []


def test_one_call_in_flight_at_a_time() -> None:
    arrivals: list[float] = []
    answers: list[float] = []

    async def handler(connection: ServerConnection) -> None:
        queue: asyncio.Queue[Any] = asyncio.Queue()

        async def respond() -> None:
            while True:
                frame = await queue.get()
                await asyncio.sleep(0.02)
                answers.append(time.perf_counter())
                await connection.send(answer(frame))

        responder = asyncio.create_task(respond())
        try:
            async for message in connection:
                arrivals.append(time.perf_counter())
                queue.put_nowait(json.loads(message))
        finally:
            responder.cancel()

    with ServerThread(handler) as server, ocpp16.connect(server.url()) as cp:
        threads = [threading.Thread(target=cp.call, args=(HeartbeatRequest(),)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert len(arrivals) == len(answers) == 4
    for answered, arrived_next in zip(answers, arrivals[1:], strict=False):
        assert arrived_next >= answered  # the next CALL went out after the previous answer


# Connecting ----------------------------------------------------------------------------------


def test_connect_with_basic_auth_and_tls_profile_3(tmp_path: Path) -> None:
    tls = Tls(tmp_path)
    seen: list[str | None] = []

    def record(_: ServerConnection, request: Request) -> None:
        seen.append(request.headers.get("Authorization"))

    context = tls.server_context(require_client_cert=True)
    with ServerThread(
        scripted(lambda f: [answer(f)]), ssl=context, process_request=record
    ) as server:
        url = server.url(scheme="https")
        with ocpp16.connect(url, ca=tls.ca, cert=tls.client_cert, key=tls.client_key) as cp:
            cp.call(HeartbeatRequest())
        with ocpp16.connect(
            url, password="pw", ca=tls.ca, cert=tls.client_cert, key=tls.client_key
        ) as cp:
            cp.call(HeartbeatRequest())
    assert seen[0] is None
    assert seen[1] is not None and seen[1].startswith("Basic ")


def test_rejected_password_never_shows() -> None:
    secret = "hunter2-but-longer"

    def refuse(connection: ServerConnection, _: Request) -> Response:
        return connection.respond(HTTPStatus.UNAUTHORIZED, "wrong\n")

    with (
        ServerThread(scripted(lambda f: []), process_request=refuse) as server,
        pytest.raises(HandshakeError) as caught,
    ):
        ocpp16.connect(server.url(), password=secret)
    assert caught.value.status == 401
    shown = [str(caught.value), repr(caught.value)]
    assert all(secret not in text for text in shown)


def test_importing_the_sdk_loads_neither_the_cli_nor_the_websocket_library() -> None:
    code = (
        "import sys, ocpp16\n"
        "loaded = {'typer', 'websockets', 'ocpp16_cli'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
        "ocpp16.connect\n"
        "assert 'websockets.client' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_exchange_takes_requests_only(ocpp_cs: tuple[ServerThread, OcppCentralSystem]) -> None:
    server, _ = ocpp_cs
    with ocpp16.connect(server.url()) as cp, pytest.raises(TypeError, match="not a request"):
        cp.exchange(HeartbeatResponse(current_time=datetime.now().astimezone()))


def test_the_readme_example_runs(
    ocpp_cs: tuple[ServerThread, OcppCentralSystem], capsys: pytest.CaptureFixture[str]
) -> None:
    server, _ = ocpp_cs
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Sending") : readme.index("## Serving")]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None
    code = found.group(1).replace("ws://localhost:9000/ocpp", server.url("/ocpp"))
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split()[0] in {"Accepted", "Pending", "Rejected"}
    assert printed[-1].startswith("callerror [4, ")  # the `ocpp` package refused the raw CALL


# Always listening ----------------------------------------------------------------------------


def test_a_call_from_an_idle_central_system_is_answered_at_once() -> None:
    replies: list[Any] = []
    answered = threading.Event()

    async def call_first(connection: ServerConnection) -> None:
        await connection.send(json.dumps([2, "srv-1", "Reset", {"type": "Soft"}]))
        replies.append(json.loads(await connection.recv()))
        answered.set()
        async for _ in connection:
            pass

    seen: list[ClientEvent] = []
    with (
        ServerThread(call_first) as server,
        ocpp16.connect(server.url(), on_call=accept_reset, on_event=seen.append) as cp,
    ):
        assert answered.wait(10)  # no call of ours was made
        record = cp.exchange(HeartbeatRequest(), timeout=0.05)  # the event is held for it
    assert replies == [[3, "srv-1", {"status": "Rejected"}]]
    assert [e.kind for e in seen] == ["server-call"]
    assert list(record.events) == seen


class Triggered:
    """An on_call handler for TriggerMessage: it sends the StatusNotification asked for through
    the charge point itself, then answers Accepted (the call-back of the TriggerMessage flow)."""

    def __init__(self) -> None:
        self.holder: list[ocpp16.ChargePoint] = []
        self.connected = threading.Event()

    def ready(self, cp: ocpp16.ChargePoint) -> None:
        self.holder.append(cp)
        self.connected.set()

    def on_call(self, request: Any) -> Model:
        assert isinstance(request, ocpp16.TriggerMessageRequest)
        self.connected.wait(10)  # connect() has returned the charge point
        self.holder[0].call(
            ocpp16.StatusNotificationRequest(
                connector_id=request.connector_id or 0,
                error_code=ocpp16.ChargePointErrorCode.NO_ERROR,
                status=ocpp16.ChargePointStatus.AVAILABLE,
            )
        )
        return ocpp16.TriggerMessageResponse(status=ocpp16.TriggerMessageStatus.ACCEPTED)


def test_a_handler_may_call_back_the_trigger_message_flow() -> None:
    order: list[Any] = []
    done = threading.Event()

    async def trigger(connection: ServerConnection) -> None:
        request = {"requestedMessage": "StatusNotification", "connectorId": 1}
        await connection.send(json.dumps([2, "t-1", "TriggerMessage", request]))
        async for message in connection:
            frame = json.loads(message)
            order.append(frame[:3] if frame[0] == 2 else frame)
            if frame[0] == 2:  # our StatusNotification, while its TriggerMessage waits
                await connection.send(answer(frame))
            else:
                done.set()

    triggered = Triggered()
    with (
        ServerThread(trigger) as server,
        ocpp16.connect(server.url(), on_call=triggered.on_call) as cp,
    ):
        triggered.ready(cp)
        assert done.wait(10)
    assert order[0][2] == "StatusNotification"
    assert order[1] == [3, "t-1", {"status": "Accepted"}]


def test_extra_calls_from_the_central_system_get_a_callerror_at_once() -> None:
    sent = 10
    replies: list[Any] = []
    gate = threading.Event()
    done = threading.Event()

    async def flood(connection: ServerConnection) -> None:
        for n in range(sent):
            await connection.send(json.dumps([2, f"srv-{n}", "Reset", {"type": "Soft"}]))
        async for message in connection:
            replies.append(json.loads(message))
            if replies[-1][1] == f"srv-{sent - 1}":
                gate.set()  # refused while the handler was held: every CALL was read
            if len(replies) == sent:
                done.set()

    def slow(request: Any) -> Model:
        gate.wait(10)
        return accept_reset(request)

    with ServerThread(flood) as server, ocpp16.connect(server.url(), on_call=slow):
        assert done.wait(20)
    results = [r for r in replies if r[0] == 3]
    refused = [r for r in replies if r[0] == 4]
    # One being answered and MAX_QUEUED_CALLS waiting; the rest refused at once.
    assert len(results) == 1 + MAX_QUEUED_CALLS
    assert len(refused) == sent - 1 - MAX_QUEUED_CALLS
    assert all(r[2] == "ProtocolError" and "one outstanding CALL" in r[3] for r in refused)


def test_our_calls_wait_their_turn_with_a_deadline() -> None:
    arrived = threading.Event()

    async def never_answer(connection: ServerConnection) -> None:
        async for _ in connection:
            arrived.set()

    with ServerThread(never_answer) as server, ocpp16.connect(server.url()) as cp:
        first = threading.Thread(target=cp.exchange, args=(HeartbeatRequest(), 30))
        first.start()
        assert arrived.wait(10)
        record = cp.exchange(HeartbeatRequest(), timeout=0.1)
        cp.close()
        first.join(10)
    assert record.verdict == "timeout"
    assert "not sent: our previous CALL was still waiting" in str(record.error)


def test_close_ends_a_call_waiting_in_another_thread() -> None:
    arrived = threading.Event()
    records: list[ocpp16.CallRecord] = []

    async def never_answer(connection: ServerConnection) -> None:
        async for _ in connection:
            arrived.set()

    with ServerThread(never_answer) as server:
        cp = ocpp16.connect(server.url())
        waiting = threading.Thread(
            target=lambda: records.append(cp.exchange(HeartbeatRequest(), timeout=60))
        )
        waiting.start()
        assert arrived.wait(10)
        cp.close()
        waiting.join(10)
        assert not waiting.is_alive()
    assert records[0].verdict == "closed"  # not a timeout: its 60 s were left alone
    assert "closed by this charge point" in str(records[0].error)
    assert cp.exchange(HeartbeatRequest()).verdict == "closed"


def test_calling_from_on_event_fails_at_once() -> None:
    failures: list[BaseException] = []
    holder: list[ocpp16.ChargePoint] = []

    def on_event(event: ClientEvent) -> None:
        try:
            holder[0].call(HeartbeatRequest())
        except RuntimeError as exc:
            failures.append(exc)

    def noisy(frame: Any) -> list[str]:
        return ['[9, "x"]', answer(frame)]

    with (
        ServerThread(scripted(noisy)) as server,
        ocpp16.connect(server.url(), on_event=on_event) as cp,
    ):
        holder.append(cp)
        assert cp.exchange(HeartbeatRequest()).ok
    assert "on_event runs on the reader thread" in str(failures[0])


# Hostile answers -----------------------------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000


def deep(frame: Any) -> list[str]:
    return [f'[3, "{frame[1]}", {{"currentTime": {DEEP}}}]']


def surrogate(frame: Any) -> list[str]:
    return [f'[3, "{frame[1]}", {{"currentTime": "\\udfff"}}]']


def huge(frame: Any) -> list[str]:
    return [answer(frame, {"currentTime": "x" * 5000})]


@pytest.mark.parametrize(
    ("script", "options", "message"),
    [
        (deep, [], "the answer is not OCPP-J: JSON nested deeper than 64 levels"),
        (surrogate, [], "the answer is not OCPP-J: a string holds a lone surrogate"),
        (huge, ["--max-frame", "1000"], "over the 1,000-byte limit"),
    ],
    ids=["deep", "surrogate", "huge"],
)
def test_hostile_answers_are_one_line_and_exit_code_7(
    script: Any, options: list[str], message: str
) -> None:
    with ServerThread(scripted(script), max_size=None) as server:
        args = ["send", "Heartbeat", "--url", server.url(), "--timeout", "5", *options]
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 7, result.output
    errors = result.stderr.splitlines()
    assert len(errors) == 1
    assert errors[0].startswith("ocpp16: error: ")
    assert message in errors[0]
    assert "Traceback" not in result.output
    result.output.encode("utf-8")  # printable everywhere: no lone surrogate left


def test_a_call_holding_a_lone_surrogate_gets_a_formation_violation() -> None:
    reply, events = CallingServer([2, "srv-1", "Reset", {"type": "\udfff"}]).run()
    assert reply[:3] == [4, "srv-1", "FormationViolation"]
    assert events[0].frame == [2, "srv-1", "Reset", {"type": "\\udfff"}]  # escaped, printable


def test_long_peer_text_is_cut_in_messages() -> None:
    def refuse(frame: Any) -> list[str]:
        return [json.dumps([4, frame[1], "GenericError", "\x1b[31m" + "x" * 100_000, {}])]

    with ServerThread(scripted(refuse)) as server, ocpp16.connect(server.url()) as cp:
        record = cp.exchange(HeartbeatRequest())
    assert isinstance(record.error, CallError)
    assert len(record.error.description) == 100_005  # kept whole for code that wants it
    shown = str(record.error)
    assert len(shown) < 400
    assert "\x1b" not in shown
    assert "\\x1b[31m" in shown


class _TriggeringCentralSystem(OcppChargePoint):  # type: ignore[misc]  # ocpp is untyped
    """The `ocpp` package as a central system that sends TriggerMessage after each boot."""

    def __init__(self, identity: str, connection: Any, seen: list[Any], done: Any) -> None:
        super().__init__(identity, connection, response_timeout=10)
        self.seen = seen
        self.done = done

    @on(ocpp_enums.Action.boot_notification)  # type: ignore[untyped-decorator]
    def boot(self, **_: Any) -> Any:
        now = datetime.now().astimezone().isoformat()
        return ocpp_result.BootNotification(current_time=now, interval=300, status="Accepted")

    @after(ocpp_enums.Action.boot_notification)  # type: ignore[untyped-decorator]
    async def trigger(self, **_: Any) -> None:
        request = ocpp_call.TriggerMessage(requested_message="StatusNotification", connector_id=1)
        result = await self.call(request)
        self.seen.append(("TriggerMessage answered", result.status))
        self.done.set()

    @on(ocpp_enums.Action.status_notification)  # type: ignore[untyped-decorator]
    def status(self, connector_id: int, status: str, **_: Any) -> Any:
        self.seen.append(("StatusNotification", connector_id, status))
        return ocpp_result.StatusNotification()


def test_trigger_message_from_the_ocpp_package_is_answered_after_its_call_back() -> None:
    seen: list[Any] = []
    done = threading.Event()

    async def handler(connection: ServerConnection) -> None:
        await _TriggeringCentralSystem("CP1", connection, seen, done).start()

    triggered = Triggered()
    with (
        ServerThread(handler) as server,
        ocpp16.connect(server.url(), on_call=triggered.on_call) as cp,
    ):
        triggered.ready(cp)
        cp.call(BootNotificationRequest(charge_point_vendor="Acme", charge_point_model="X1"))
        assert done.wait(10)  # the charge point was idle when TriggerMessage came
    assert seen == [("StatusNotification", 1, "Available"), ("TriggerMessage answered", "Accepted")]


# Timeouts -------------------------------------------------------------------------------------


def recording(frames: list[Any]) -> Callable[[Any], list[str]]:
    """A script answering each CALL validly, keeping the frames received."""

    def script(frame: Any) -> list[str]:
        frames.append(frame)
        return [answer(frame)]

    return script


BAD_TIMEOUTS = [math.inf, -math.inf, math.nan, -1.0, 0, 0.0001, 1e12, 86_400.5]


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS, ids=repr)
def test_connect_refuses_a_timeout_out_of_range_before_connecting(timeout: float) -> None:
    frames: list[Any] = []
    with (
        ServerThread(scripted(recording(frames))) as server,
        pytest.raises(InputError) as caught,
    ):
        ocpp16.connect(server.url(), timeout=timeout)
    message = str(caught.value)
    assert message == f"the timeout must be from 0.001 to 86,400 seconds, not {timeout!r}"
    assert isinstance(caught.value, ValueError)
    assert frames == []


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS, ids=repr)
def test_a_call_refuses_a_timeout_out_of_range_and_sends_nothing(timeout: float) -> None:
    frames: list[Any] = []
    with (
        ServerThread(scripted(recording(frames))) as server,
        ocpp16.connect(server.url(), timeout=5) as cp,
    ):
        with pytest.raises(InputError, match=r"the timeout must be from 0\.001 to 86,400"):
            cp.call(HeartbeatRequest(), timeout=timeout)
        with pytest.raises(InputError, match="the timeout must be"):
            cp.connection.send("[]", timeout)
        cp.call(HeartbeatRequest(), timeout=MAX_TIMEOUT)  # the bound itself is fine
    assert len(frames) == 1


def test_a_timeout_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(InputError, match="the timeout must be a number of seconds, not str"):
        ocpp16.connect("ws://127.0.0.1:9/CP1", timeout="5")  # type: ignore[arg-type]
