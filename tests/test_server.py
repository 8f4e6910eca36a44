"""The central system (ocpp16.server) over loopback, against the `ocpp` package's charge point
and raw WebSocket clients that send what a well-behaved charge point never would."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
import socket
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
import trustme
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from ocpp16 import (
    ACTIONS,
    BootNotificationRequest,
    BootNotificationResponse,
    CallError,
    CallTimeout,
    CentralSystem,
    ChargePointSession,
    ConnectError,
    ConnectionEvent,
    DNSError,
    Exchange,
    FrameEvent,
    GetConfigurationRequest,
    GetConfigurationResponse,
    HeartbeatRequest,
    HeartbeatResponse,
    InputError,
    InvalidResponse,
    ResetRequest,
    ResetType,
    Server,
    server_ssl_context,
)
from ocpp16._throttle import Throttle
from ocpp16.answers import Answers
from ocpp16.limits import (
    AUTH_FAILURES_FREE,
    MAX_NESTING_DEPTH,
    MAX_QUEUED_CALLS,
    MAX_UNSENT_BYTES,
)
from tests.ocpp_peer import CP_ACTIONS, CS_ACTIONS, RandomChargePoint, ocpp_call

T = TypeVar("T")
BOOT = {"chargePointVendor": "Acme", "chargePointModel": "X1"}


def run(scenario: Coroutine[Any, Any, T], seconds: float = 20.0) -> T:
    """Run one loopback scenario, bounded in time."""

    async def bounded() -> T:
        async with asyncio.timeout(seconds):
            return await scenario

    return asyncio.run(bounded())


class Recorder:
    """Collects what the central system reports."""

    def __init__(self) -> None:
        self.frames: list[FrameEvent] = []
        self.exchanges: list[Exchange] = []
        self.connections: list[ConnectionEvent] = []

    def hooks(self) -> dict[str, Any]:
        return {
            "on_frame": self.frames.append,
            "on_exchange": self.exchanges.append,
            "on_connection": self.connections.append,
        }

    async def wait_exchanges(self, count: int, seconds: float = 10.0) -> list[Exchange]:
        async with asyncio.timeout(seconds):
            while len(self.exchanges) < count:
                await asyncio.sleep(0.01)
        return self.exchanges


@asynccontextmanager
async def serving(cs: CentralSystem) -> AsyncIterator[Server]:
    async with cs.serve("127.0.0.1", 0) as server:
        yield server


def raw(server: Server, identity: str = "CP1", **kwargs: Any) -> Any:
    kwargs.setdefault("subprotocols", ["ocpp1.6"])
    return connect(server.url_for(identity), open_timeout=5, **kwargs)


async def exchange(ws: ClientConnection, text: str) -> Any:
    await ws.send(text)
    async with asyncio.timeout(5):
        return json.loads(await ws.recv())


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


# The `ocpp` package's charge point -------------------------------------------------------------


@pytest.mark.parametrize("full", [False, True], ids=["required", "full"])
@pytest.mark.parametrize("action", CP_ACTIONS)
def test_ocpp_charge_point_gets_a_valid_answer_to_every_action(action: str, full: bool) -> None:
    recorder = Recorder()

    async def scenario() -> Any:
        cs = CentralSystem(seed=1, full=full, **recorder.hooks())
        async with serving(cs) as server, raw(server, "CP-ocpp") as ws:
            cp = RandomChargePoint("CP-ocpp", ws)
            listening = asyncio.create_task(cp.start())
            payload = ACTIONS[action].request.random(full=full, rng=random.Random(7))
            try:
                # suppress=False: a CALLERROR raises; the ocpp package validates the answer.
                return await cp.call(ocpp_call(action, payload.to_dict()), suppress=False)
            finally:
                listening.cancel()

    result = run(scenario())
    assert type(result).__name__ == action  # the ocpp package's call_result class
    [seen] = recorder.exchanges
    assert (seen.identity, seen.action, seen.initiator, seen.ok) == ("CP-ocpp", action, "cp", True)
    assert seen.response is not None
    assert seen.response[0] == 3


def test_after_boot_requests_reach_the_ocpp_charge_point_and_its_answers_are_accepted() -> None:
    recorder = Recorder()
    requests = [ACTIONS[name].request for name in CS_ACTIONS]
    fixed = ResetRequest(type=ResetType.SOFT)
    cs = CentralSystem(after_boot=[*requests, fixed], full=True, **recorder.hooks())

    async def scenario() -> RandomChargePoint:
        async with serving(cs) as server, raw(server, "CP-boot") as ws:
            cp = RandomChargePoint("CP-boot", ws, seed=3)
            listening = asyncio.create_task(cp.start())
            await cp.call(ocpp_call("BootNotification", BOOT), suppress=False)
            await recorder.wait_exchanges(1 + len(requests) + 1)
            listening.cancel()
            return cp

    cp = run(scenario())
    assert [name for name, _ in cp.received] == [*CS_ACTIONS, "Reset"]
    assert cp.received[-1][1] == {"type": "Soft"}
    after = [e for e in recorder.exchanges if e.initiator == "cs"]
    assert [e.action for e in after] == [*CS_ACTIONS, "Reset"]
    assert all(e.ok for e in after), [e.problem for e in after if not e.ok]
    # What the server reports as the answer is exactly what the charge point sent.
    assert [e.response[2] for e in after if e.response] == [p for _, p in cp.answered]


# Invalid CALLs get the CALLERROR code that fits ------------------------------------------------

LONG_ID = "x" * 37
INVALID = [
    # (id, frame text, answer id, code, words the description must contain)
    ("missing-field", '[2,"a","BootNotification",{"chargePointVendor":"A"}]', "a",
     "OccurenceConstraintViolation", ["$.chargePointModel", "required"]),
    ("missing-nested", '[2,"b","MeterValues",{"connectorId":1,'
     '"meterValue":[{"timestamp":"2024-01-01T00:00:00Z"}]}]', "b",
     "OccurenceConstraintViolation", ["$.meterValue[0].sampledValue", "required"]),
    ("wrong-type", '[2,"c","BootNotification",{"chargePointVendor":1,"chargePointModel":"X"}]',
     "c", "TypeConstraintViolation", ["$.chargePointVendor", "type string"]),
    ("wrong-type-integer", '[2,"d","Heartbeat",{}]'.replace("Heartbeat", "StatusNotification")
     .replace("{}", '{"connectorId":"1","errorCode":"NoError","status":"Available"}'), "d",
     "TypeConstraintViolation", ["$.connectorId", "type integer"]),
    ("too-long", '[2,"e","Authorize",{"idTag":"' + "T" * 21 + '"}]', "e",
     "PropertyConstraintViolation", ["$.idTag", "maxLength 20"]),
    ("bad-enum", '[2,"f","StatusNotification",{"connectorId":1,"errorCode":"Broken",'
     '"status":"Available"}]', "f", "PropertyConstraintViolation", ["$.errorCode", "enum"]),
    ("bad-date-time", '[2,"g","StartTransaction",{"connectorId":1,"idTag":"T","meterStart":0,'
     '"timestamp":"yesterday"}]', "g", "PropertyConstraintViolation",
     ["$.timestamp", "date-time"]),
    ("unknown-field", '[2,"h","Heartbeat",{"beat":1}]', "h", "FormationViolation",
     ["$.beat", "additionalProperties"]),
    ("not-json", "[2,'i',", "-1", "FormationViolation", ["not valid JSON"]),
    ("not-an-array", '{"action":"Heartbeat"}', "-1", "FormationViolation", ["array"]),
    ("payload-not-object", '[2,"j","Heartbeat",[]]', "j", "FormationViolation", ["object"]),
    ("too-few-elements", '[2,"k","Heartbeat"]', "k", "ProtocolError", ["4 elements"]),
    ("too-many-elements", '[2,"l","Heartbeat",{},{}]', "l", "FormationViolation", ["4 elements"]),
    ("id-over-36", f'[2,"{LONG_ID}","Heartbeat",{{}}]', LONG_ID, "ProtocolError", ["37", "36"]),
    ("unknown-action", '[2,"m","Heartbeet",{}]', "m", "NotImplemented",
     ["Heartbeet", "Heartbeat"]),
    ("cs-action-from-cp", '[2,"n","Reset",{"type":"Hard"}]', "n", "NotSupported", ["Reset"]),
    ("null-optional", '[2,"o","BootNotification",{"chargePointVendor":"A",'
     '"chargePointModel":"X","firmwareVersion":null}]', "o", "TypeConstraintViolation",
     ["$.firmwareVersion", "null"]),
    ("every-defect", '[2,"p","BootNotification",{"chargePointModel":1}]', "p",
     "OccurenceConstraintViolation", ["$.chargePointVendor", "; $.chargePointModel"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "answer_id", "code", "words"), [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)  # fmt: skip
def test_an_invalid_call_gets_the_callerror_that_fits(
    text: str, answer_id: str, code: str, words: list[str]
) -> None:
    recorder = Recorder()

    async def scenario() -> Any:
        async with serving(CentralSystem(**recorder.hooks())) as server, raw(server) as ws:
            answer = await exchange(ws, text)
            # The connection stays usable: a valid CALL still gets its CALLRESULT.
            after = await exchange(ws, '[2,"ok","Heartbeat",{}]')
            return answer, after

    answer, after = run(scenario())
    assert answer[:3] == [4, answer_id, code]
    assert all(word in answer[3] for word in words), answer[3]
    assert after[:2] == [3, "ok"]
    incoming = [f for f in recorder.frames if f.direction == "in"]
    assert incoming[0].verdict == "invalid"
    assert code in incoming[0].detail
    assert recorder.exchanges[0].problem.startswith(code)


def test_a_schema_defect_names_its_path_and_constraint_in_the_error_details() -> None:
    async def scenario() -> Any:
        async with serving(CentralSystem()) as server, raw(server) as ws:
            return await exchange(ws, '[2,"a","BootNotification",{"chargePointVendor":"A"}]')

    answer = run(scenario())
    assert answer[4] == {"path": "$.chargePointModel", "constraint": "required"}


def test_unknown_message_types_and_stray_answers_are_ignored() -> None:
    recorder = Recorder()

    async def scenario() -> Any:
        async with serving(CentralSystem(**recorder.hooks())) as server, raw(server) as ws:
            await ws.send('[5,"a","Heartbeat",{}]')
            await ws.send('[3,"nobody-asked",{}]')
            return await exchange(ws, '[2,"b","Heartbeat",{}]')

    answer = run(scenario())
    assert answer[:2] == [3, "b"]  # nothing answered the first two
    ignored = [f for f in recorder.frames if f.verdict == "ignored"]
    assert [f.frame[0] for f in ignored] == [5, 3]
    assert "unknown message type" in ignored[0].detail
    assert "answers no CALL of ours (id nobody-asked)" in ignored[1].detail


# Handlers, fixed responses and calls to the charge point ---------------------------------------


def test_handlers_answer_their_actions_and_the_rest_is_plausible() -> None:
    cs = CentralSystem()
    seen: list[str] = []

    @cs.on(BootNotificationRequest)
    def boot(request: BootNotificationRequest, cp: ChargePointSession) -> BootNotificationResponse:
        seen.append(f"{cp.identity}:{request.charge_point_model}")
        return BootNotificationResponse.from_dict(
            {"status": "Accepted", "currentTime": "2024-01-01T00:00:00Z", "interval": 300}
        )

    @cs.on("authorize")  # any spelling resolve_action takes
    async def authorize(request: Any, cp: ChargePointSession) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"idTagInfo": {"status": "Blocked"}}

    cs.respond(HeartbeatResponse.from_dict({"currentTime": "2030-01-01T00:00:00Z"}))

    async def scenario() -> list[Any]:
        async with serving(cs) as server, raw(server, "CP 7") as ws:
            return [
                await exchange(ws, json.dumps([2, "1", "BootNotification", BOOT])),
                await exchange(ws, '[2,"2","Authorize",{"idTag":"T"}]'),
                await exchange(ws, '[2,"3","Heartbeat",{}]'),
                await exchange(ws, '[2,"4","StatusNotification",{"connectorId":0,'
                                   '"errorCode":"NoError","status":"Available"}]'),
            ]  # fmt: skip

    boot_answer, authorize_answer, heartbeat_answer, status_answer = run(scenario())
    assert seen == ["CP 7:X1"]
    assert boot_answer[2] == {
        "status": "Accepted", "currentTime": "2024-01-01T00:00:00Z", "interval": 300
    }  # fmt: skip
    assert authorize_answer[2] == {"idTagInfo": {"status": "Blocked"}}
    assert heartbeat_answer[2] == {"currentTime": "2030-01-01T00:00:00Z"}
    assert status_answer[:3] == [3, "4", {}]


@pytest.mark.parametrize(
    ("handler", "code", "words"),
    [
        (lambda r, cp: (_ for _ in ()).throw(CallError("SecurityError", "not you")),
         "SecurityError", ["not you"]),
        (lambda r, cp: {"currentTime": "soon"}, "InternalError", ["$.currentTime", "date-time"]),
        (lambda r, cp: 1 / 0, "InternalError", ["ZeroDivisionError"]),
        (lambda r, cp: BootNotificationResponse.from_dict(
            {"status": "Accepted", "currentTime": "2024-01-01T00:00:00Z", "interval": 1}),
         "InternalError", ["BootNotificationResponse"]),
    ],
    ids=["raises-callerror", "invalid-dict", "crashes", "wrong-class"],
)  # fmt: skip
def test_a_failing_handler_is_answered_with_a_callerror(
    handler: Callable[..., Any], code: str, words: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    cs = CentralSystem()
    cs.on("Heartbeat")(handler)

    async def scenario() -> Any:
        async with serving(cs) as server, raw(server) as ws:
            return await exchange(ws, '[2,"h","Heartbeat",{}]')

    answer = run(scenario())
    assert answer[:3] == [4, "h", code]
    assert all(word in answer[3] for word in words), answer[3]


def test_a_handler_can_call_the_charge_point_before_it_answers() -> None:
    cs = CentralSystem()
    keys: list[Any] = []

    @cs.on("BootNotification")
    async def boot(request: Any, cp: ChargePointSession) -> BootNotificationResponse:
        answer = await cp.call(GetConfigurationRequest(key=["HeartbeatInterval"]))
        keys.append(answer)
        return BootNotificationResponse.random()

    async def scenario() -> Any:
        async with serving(cs) as server, raw(server) as ws:
            await ws.send(json.dumps([2, "boot", "BootNotification", BOOT]))
            ask = json.loads(await ws.recv())
            assert ask[2:] == ["GetConfiguration", {"key": ["HeartbeatInterval"]}]
            await ws.send(json.dumps([3, ask[1], {"unknownKey": ["HeartbeatInterval"]}]))
            return json.loads(await ws.recv())

    answer = run(scenario())
    assert answer[:2] == [3, "boot"]
    assert keys == [GetConfigurationResponse(unknown_key=["HeartbeatInterval"])]


def test_a_call_to_the_charge_point_reports_callerror_invalid_answer_and_timeout() -> None:
    recorder = Recorder()
    cs = CentralSystem(timeout=0.3, **recorder.hooks())
    outcomes: list[BaseException] = []

    async def charge_point(ws: ClientConnection) -> None:
        first = json.loads(await ws.recv())
        await ws.send(json.dumps([4, first[1], "NotSupported", "no resets here", {}]))
        second = json.loads(await ws.recv())
        await ws.send(json.dumps([3, second[1], {"status": "Maybe"}]))
        await ws.recv()  # the third CALL gets no answer

    async def scenario() -> None:
        async with serving(cs) as server, raw(server) as ws:
            cp_task = asyncio.create_task(charge_point(ws))
            async with asyncio.timeout(5):
                while "CP1" not in server.sessions:
                    await asyncio.sleep(0.01)
            session = server.sessions["CP1"]
            for _ in range(3):
                try:
                    await session.call(ResetRequest(type=ResetType.HARD))
                except (CallError, InvalidResponse, CallTimeout) as exc:
                    outcomes.append(exc)
            await cp_task

    run(scenario())
    assert [type(e) for e in outcomes] == [CallError, InvalidResponse, CallTimeout]
    assert isinstance(outcomes[0], CallError)
    assert outcomes[0].code == "NotSupported"
    assert "$.status" in str(outcomes[1])
    problems = [e.problem for e in recorder.exchanges]
    assert "NotSupported" in problems[0]
    assert "$.status" in problems[1]
    assert "no answer to Reset within 0.3 s" in problems[2]
    assert str(outcomes[2]) == "CP1: no answer to Reset within 0.3 s"
    assert recorder.exchanges[2].response is None
    verdicts = [f.verdict for f in recorder.frames if f.direction == "in"]
    assert verdicts == ["valid", "invalid"]


def test_after_boot_requests_must_be_central_system_actions() -> None:
    with pytest.raises(InputError, match="Heartbeat is sent by the charge point"):
        CentralSystem(after_boot=[HeartbeatRequest])
    with pytest.raises(InputError, match="Reset is sent by the central system"):
        CentralSystem().on("Reset")


# Connections: path, subprotocol, Basic auth, TLS -----------------------------------------------


async def refused(server: Server, path: str, **kwargs: Any) -> tuple[int, str]:
    url = f"ws://127.0.0.1:{server.port}{path}"
    kwargs.setdefault("subprotocols", ["ocpp1.6"])
    with pytest.raises(InvalidStatus) as caught:
        async with connect(url, open_timeout=5, **kwargs):
            pass
    response = caught.value.response
    return response.status_code, response.body.decode()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/other/CP1", "connect to /ocpp/<charge point identity>"),
        ("/ocpp/", "connect to /ocpp/<charge point identity>"),
        ("/ocpp", "connect to /ocpp/<charge point identity>"),
        ("/ocpp/CP1/extra", "connect to /ocpp/<charge point identity>"),
        ("/ocpp/CP9", "unknown charge point 'CP9'"),
    ],
)
def test_a_path_without_a_known_identity_gets_404(path: str, body: str) -> None:
    recorder = Recorder()
    cs = CentralSystem(identities={"CP1", "CP 2"}, **recorder.hooks())

    async def scenario() -> tuple[int, str]:
        async with serving(cs) as server:
            async with raw(server, "CP 2"):  # an allowed identity, percent-encoded
                pass
            return await refused(server, path)

    status, text = run(scenario())
    assert status == 404
    assert body in text
    kinds = [(e.kind, e.identity) for e in recorder.connections]
    assert kinds[:2] == [("connected", "CP 2"), ("disconnected", "CP 2")]
    assert kinds[2][0] == "refused"
    assert recorder.connections[2].detail.startswith("HTTP 404")


@pytest.mark.parametrize(
    ("offered", "words"),
    [([], "offered none"), (["ocpp2.0.1"], "offered ocpp2.0.1")],
    ids=["none", "another"],
)
def test_a_client_not_offering_ocpp16_is_refused_with_the_reason(
    offered: list[str], words: str
) -> None:
    async def scenario() -> tuple[int, str]:
        async with serving(CentralSystem()) as server:
            return await refused(server, "/ocpp/CP1", subprotocols=offered or None)

    status, text = run(scenario())
    assert status == 400
    assert "ocpp1.6" in text
    assert words in text


def test_ocpp16_is_agreed_among_several_offered() -> None:
    async def scenario() -> str | None:
        async with (
            serving(CentralSystem()) as server,
            raw(server, subprotocols=["ocpp2.0.1", "ocpp1.6"]) as ws,
        ):
            agreed: str | None = ws.subprotocol
            return agreed

    assert run(scenario()) == "ocpp1.6"


PASSWORD = "0123456789abcdef0123"


@pytest.mark.parametrize(
    "auth",
    [PASSWORD, {"CP1": PASSWORD, "CP2": "another password"}, lambda i, p: p == PASSWORD],
    ids=["one-password", "by-identity", "function"],
)
@pytest.mark.parametrize(
    ("user", "password", "ok"),
    [
        ("CP1", PASSWORD, True),
        ("CP1", "wrong password", False),
        ("CP2", PASSWORD, False),  # the user name must be the identity connecting
        (None, None, False),
    ],
    ids=["right", "wrong-password", "other-user", "no-credentials"],
)
def test_basic_auth_lets_in_the_right_password_only(
    auth: Any, user: str | None, password: str | None, ok: bool
) -> None:
    recorder = Recorder()
    cs = CentralSystem(basic_auth=auth, **recorder.hooks())
    headers = basic(user, password) if user and password else {}

    async def scenario() -> tuple[int, str] | None:
        async with serving(cs) as server:
            if ok:
                async with raw(server, "CP1", additional_headers=headers) as ws:
                    assert (await exchange(ws, '[2,"a","Heartbeat",{}]'))[0] == 3
                return None
            return await refused(server, "/ocpp/CP1", additional_headers=headers)

    outcome = run(scenario())
    if not ok:
        assert outcome is not None
        assert outcome[0] == 401
        [event] = recorder.connections
        assert (event.kind, event.identity) == ("refused", "CP1")
        assert event.detail.startswith("HTTP 401")
    reported = repr(recorder.connections) + repr(recorder.frames) + repr(recorder.exchanges)
    assert PASSWORD not in reported


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A CA, a server certificate for 127.0.0.1, a client certificate, and a stranger's CA."""
    folder = tmp_path_factory.mktemp("pki")
    ca, stranger = trustme.CA(), trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    files: dict[str, Any] = {"ca": ca, "folder": folder}
    for name, blob in [
        ("cert", server.cert_chain_pems[0]),
        ("key", server.private_key_pem),
        ("ca_pem", ca.cert_pem),
    ]:
        blob.write_to_path(str(folder / f"{name}.pem"))
        files[name] = str(folder / f"{name}.pem")
    files["client"] = ca.issue_cert("CP1")
    files["stranger_client"] = stranger.issue_cert("CP1")
    return files


def client_context(pki: dict[str, Any], cert: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    pki["ca"].configure_trust(context)
    if cert is not None:
        pki[cert].configure_cert(context)
    return context


@pytest.mark.parametrize(
    ("client_ca", "cert", "ok"),
    [
        (False, None, True),  # profile 2: TLS, the server proves who it is
        (True, "client", True),  # profile 3: the charge point proves it too
        (True, None, False),
        (True, "stranger_client", False),
    ],
    ids=["tls", "client-cert", "client-cert-missing", "client-cert-unknown-ca"],
)
def test_tls_with_and_without_client_certificates(
    pki: dict[str, Any], client_ca: bool, cert: str | None, ok: bool
) -> None:
    context = server_ssl_context(pki["cert"], pki["key"], pki["ca_pem"] if client_ca else None)
    cs = CentralSystem(ssl=context)

    async def scenario() -> Any:
        async with serving(cs) as server:
            assert server.url.startswith("wss://127.0.0.1:")
            async with raw(server, ssl=client_context(pki, cert)) as ws:
                return await exchange(ws, '[2,"a","Heartbeat",{}]')

    if ok:
        assert run(scenario())[:2] == [3, "a"]
    else:
        with pytest.raises((ssl.SSLError, ConnectionClosed, InvalidHandshake, OSError)):
            run(scenario())


def test_tls_files_that_cannot_be_loaded_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="certificate"):
        server_ssl_context(str(tmp_path / "missing.pem"), str(tmp_path / "missing.key"))


# The server's own life -------------------------------------------------------------------------


def test_a_port_in_use_is_a_connect_error() -> None:
    async def scenario() -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            with pytest.raises(ConnectError, match=f"127.0.0.1:{port}: address already in use"):
                async with CentralSystem().serve("127.0.0.1", port):
                    pass

    run(scenario())


def test_a_host_that_does_not_resolve_is_a_dns_error() -> None:
    async def scenario() -> None:
        with pytest.raises(DNSError, match=r"cannot listen on no-such-host\.invalid"):
            async with CentralSystem().serve("no-such-host.invalid", 0):
                pass

    run(scenario())


def test_closing_the_server_closes_connections_with_going_away() -> None:
    recorder = Recorder()

    async def scenario() -> int | None:
        async with serving(CentralSystem(**recorder.hooks())) as server:
            ws = await raw(server)
            await exchange(ws, '[2,"a","Heartbeat",{}]')
        async with asyncio.timeout(5):
            await ws.wait_closed()
        code: int | None = ws.close_code
        return code

    assert run(scenario()) == 1001
    assert [e.kind for e in recorder.connections] == ["connected", "disconnected"]
    assert recorder.connections[1].detail.startswith("code 1001")


def test_debug_logs_never_show_the_password(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="ocpp16.server")

    async def scenario() -> None:
        async with serving(CentralSystem(basic_auth=PASSWORD)) as server:
            async with raw(server, "CP1", additional_headers=basic("CP1", PASSWORD)) as ws:
                await exchange(ws, '[2,"a","Heartbeat",{}]')
            await refused(server, "/ocpp/CP1", additional_headers=basic("CP1", "not it"))

    run(scenario())
    assert "Authorization: [hidden]" in caplog.text  # websockets logged the headers...
    token = basic("CP1", PASSWORD)["Authorization"].split()[1]
    assert PASSWORD not in caplog.text
    assert token not in caplog.text  # ...but not the credentials, not even base64-encoded


# Plausible answers by default, random ones on request ------------------------------------------


def test_default_answers_are_what_a_working_central_system_says() -> None:
    start = '{"connectorId":1,"idTag":"T","meterStart":0,"timestamp":"2024-01-01T00:00:00Z"}'
    stop = '"meterStop":5,"timestamp":"2024-01-01T01:00:00Z"'

    async def scenario() -> list[Any]:
        async with serving(CentralSystem()) as server, raw(server) as ws:
            return [
                await exchange(ws, json.dumps([2, "b", "BootNotification", BOOT])),
                await exchange(ws, '[2,"h","Heartbeat",{}]'),
                await exchange(ws, '[2,"a","Authorize",{"idTag":"T"}]'),
                await exchange(ws, f'[2,"s1","StartTransaction",{start}]'),
                await exchange(ws, f'[2,"s2","StartTransaction",{start}]'),
                await exchange(ws, f'[2,"e1","StopTransaction",{{"transactionId":1,{stop}}}]'),
                await exchange(
                    ws, f'[2,"e2","StopTransaction",{{"transactionId":2,"idTag":"T",{stop}}}]'
                ),
                await exchange(ws, '[2,"d","DataTransfer",{"vendorId":"Acme"}]'),
            ]

    before = datetime.now(UTC).replace(microsecond=0)
    boot, heartbeat, authorize, start1, start2, stop1, stop2, data = (a[2] for a in run(scenario()))
    after = datetime.now(UTC)
    assert (boot["status"], boot["interval"]) == ("Accepted", 300)
    for stamp in (boot["currentTime"], heartbeat["currentTime"]):
        assert before <= datetime.fromisoformat(stamp) <= after
    assert authorize == {"idTagInfo": {"status": "Accepted"}}
    assert [start1["transactionId"], start2["transactionId"]] == [1, 2]
    assert start1["idTagInfo"] == {"status": "Accepted"}
    assert (stop1, stop2) == ({}, {"idTagInfo": {"status": "Accepted"}})
    assert data == {"status": "UnknownVendorId"}


@pytest.mark.parametrize("action", CS_ACTIONS)
def test_plausible_after_boot_requests_are_valid_for_every_action(action: str) -> None:
    request = Answers().request(ACTIONS[action].request)
    assert type(request) is ACTIONS[action].request
    assert type(request).from_dict(request.to_dict()) == request


def test_random_answers_on_request_are_repeatable_with_a_seed() -> None:
    async def scenario() -> Any:
        cs = CentralSystem(random=True, seed=4, full=True)
        async with serving(cs) as server, raw(server) as ws:
            return await exchange(ws, '[2,"a","Authorize",{"idTag":"T"}]')

    first, again = run(scenario()), run(scenario())
    assert first == again
    assert set(first[2]["idTagInfo"]) == {"status", "expiryDate", "parentIdTag"}


# Typed handlers ---------------------------------------------------------------------------------

TYPED = """
from ocpp16 import (
    BootNotificationRequest, BootNotificationResponse, CentralSystem, ChargePointSession,
    HeartbeatRequest, HeartbeatResponse,
)
cs = CentralSystem()

@cs.on(BootNotificationRequest)
async def boot(request: BootNotificationRequest, cp: ChargePointSession) -> {returns}:
    raise NotImplementedError

@cs.on(HeartbeatRequest)
def beat(request: {takes}, cp: ChargePointSession) -> HeartbeatResponse:
    raise NotImplementedError
"""


@pytest.mark.parametrize(
    ("takes", "returns", "error"),
    [
        ("HeartbeatRequest", "BootNotificationResponse", None),
        # The error is at the decorator and names the handler type that was expected.
        ("BootNotificationRequest", "BootNotificationResponse",
         'handlers.py:12: error: Argument 1 to "__call__" of "_Register" has incompatible type '
         '"Callable[[BootNotificationRequest, ChargePointSession], HeartbeatResponse]"; expected '
         '"Callable[[HeartbeatRequest, ChargePointSession], '),
        ("HeartbeatRequest", "HeartbeatResponse",
         'handlers.py:8: error: Argument 1 to "__call__" of "_Register" has incompatible type '
         '"Callable[[BootNotificationRequest, ChargePointSession], Coroutine[Any, Any, '
         'HeartbeatResponse]]"; expected "Callable[[BootNotificationRequest, ChargePointSession], '
         'BootNotificationResponse | Awaitable[BootNotificationResponse]]"'),
    ],
    ids=["right", "wrong-request", "wrong-response"],
)  # fmt: skip
def test_mypy_checks_the_request_and_response_types_of_handlers(
    takes: str, returns: str, error: str | None, tmp_path: Path
) -> None:
    from mypy import api

    snippet = tmp_path / "handlers.py"
    snippet.write_text(TYPED.format(takes=takes, returns=returns))
    out, err, status = api.run(["--strict", "--no-error-summary", str(snippet)])
    if error is None:
        assert status == 0, out + err
    else:
        assert status == 1
        [line] = out.splitlines()
        assert error in line


# Hostile peers (issue 9): each attack ends in one line, bounded, and others go on --------------


def test_a_lone_surrogate_is_a_formation_violation_and_a_failing_callback_stops_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def explode(event: Any) -> None:
        raise UnicodeEncodeError("utf-8", "\udfff", 0, 1, "surrogates not allowed")

    cs = CentralSystem(on_frame=explode, on_exchange=explode, on_connection=explode)
    vendor = '[2,"a","BootNotification",{"chargePointVendor":"\\udfff","chargePointModel":"X"}]'
    status = '[2,"b","StatusNotification",{"connectorId":1,"errorCode":"\\udfff","status":"x"}]'

    async def scenario() -> list[Any]:
        async with serving(cs) as server:
            async with raw(server, "CP1") as ws:
                answers = [await exchange(ws, vendor), await exchange(ws, status)]
            async with raw(server, "CP2") as ws:  # a later charge point is served too
                answers.append(await exchange(ws, '[2,"c","Heartbeat",{}]'))
            return answers

    boot, status, heartbeat = run(scenario())
    # Text that is not valid Unicode is not an OCPP-J frame (in either role).
    assert boot[:3] == [4, "a", "FormationViolation"]
    assert status[:3] == [4, "b", "FormationViolation"]
    assert "lone surrogate" in boot[3]
    assert heartbeat[:2] == [3, "c"]
    failures = [r.getMessage() for r in caplog.records if "callback failed" in r.getMessage()]
    assert sorted(failures) == [
        f"the {name} callback failed (further failures are not logged)"
        for name in ("on_connection", "on_exchange", "on_frame")
    ]


def held_heartbeats() -> tuple[CentralSystem, asyncio.Event]:
    """A central system whose Heartbeat handler waits until the event is set."""
    cs = CentralSystem()
    release = asyncio.Event()

    @cs.on(HeartbeatRequest)
    async def slow(request: HeartbeatRequest, cp: ChargePointSession) -> HeartbeatResponse:
        await release.wait()
        return HeartbeatResponse.random()

    return cs, release


def test_calls_beyond_one_outstanding_get_a_callerror_at_once() -> None:
    cs, release = held_heartbeats()

    async def scenario() -> list[Any]:
        async with serving(cs) as server, raw(server) as ws:
            for number in range(200):
                await ws.send(f'[2,"{number}","Heartbeat",{{}}]')
            answers = [json.loads(await ws.recv()) for _ in range(200 - 1 - MAX_QUEUED_CALLS)]
            release.set()
            answers += [json.loads(await ws.recv()) for _ in range(1 + MAX_QUEUED_CALLS)]
            return answers

    answers = run(scenario())
    refused, answered = answers[: -1 - MAX_QUEUED_CALLS], answers[-1 - MAX_QUEUED_CALLS :]
    assert {tuple(a[:3]) == (4, a[1], "ProtocolError") for a in refused} == {True}
    assert "one outstanding CALL" in refused[0][3]
    # The first is answered, and as many as were held while it was: each CALL gets one answer.
    assert [a[0] for a in answered] == [3] * (1 + MAX_QUEUED_CALLS)
    assert answered[0][1] == "0"
    assert sorted(int(a[1]) for a in answers) == list(range(200))


def test_a_call_reusing_the_id_of_one_being_answered_gets_a_generic_error() -> None:
    cs, release = held_heartbeats()

    async def scenario() -> list[Any]:
        async with serving(cs) as server, raw(server) as ws:
            await ws.send('[2,"same","Heartbeat",{}]')
            refused = await exchange(ws, '[2,"same","Heartbeat",{}]')
            release.set()
            async with asyncio.timeout(5):
                return [refused, json.loads(await ws.recv())]

    refused, answered = run(scenario())
    assert refused[:3] == [4, "same", "GenericError"]
    assert "already being answered" in refused[3]
    assert answered[:2] == [3, "same"]


def test_a_binary_frame_is_reported_and_not_answered() -> None:
    recorder = Recorder()

    async def scenario() -> Any:
        async with serving(CentralSystem(**recorder.hooks())) as server, raw(server) as ws:
            await ws.send(b'[2,"b","Heartbeat",{}]')
            return await exchange(ws, '[2,"h","Heartbeat",{}]')

    answer = run(scenario())
    assert answer[:2] == [3, "h"]  # the first answer is the text CALL's: the binary got none
    first = recorder.frames[0]  # the Session's rule for binary frames, the same in both roles
    assert (first.direction, first.verdict) == ("in", "invalid")
    assert "binary frame" in first.detail


def test_a_frame_over_max_frame_closes_that_connection_only() -> None:
    async def scenario() -> tuple[int | None, Any]:
        payload = {"vendorId": "V", "data": "d" * 5000}
        async with (
            serving(CentralSystem(max_frame=4096)) as server,
            raw(server, "CP1") as big,
            raw(server, "CP2") as other,
        ):
            await big.send(json.dumps([2, "x", "DataTransfer", payload]))
            async with asyncio.timeout(5):
                await big.wait_closed()
            return big.close_code, await exchange(other, '[2,"h","Heartbeat",{}]')

    code, answer = run(scenario())
    assert code == 1009  # message too big
    assert answer[:2] == [3, "h"]


@pytest.mark.parametrize("depth", [MAX_NESTING_DEPTH + 1, 5_000, 200_000])
def test_deep_json_is_a_formation_violation_without_a_traceback(
    depth: int, caplog: pytest.LogCaptureFixture
) -> None:
    text = '[2,"deep","DataTransfer",{"vendorId":"V","data":' + "[" * depth + "]" * depth + "}]"

    async def scenario() -> list[Any]:
        async with serving(CentralSystem()) as server, raw(server) as ws:
            return [await exchange(ws, text), await exchange(ws, '[2,"h","Heartbeat",{}]')]

    deep, after = run(scenario())
    assert deep[:3] == [4, "deep", "FormationViolation"]  # its id, read safely from the text
    assert f"nested deeper than {MAX_NESTING_DEPTH}" in deep[3]
    assert after[:2] == [3, "h"]
    assert not [r for r in caplog.records if r.exc_info]


def test_a_peer_that_sends_pings_and_never_reads_is_not_buffered_without_bound(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> int:
        async with serving(CentralSystem()) as server:
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            key = base64.b64encode(b"0123456789abcdef").decode()
            upgrade = (
                "GET /ocpp/CP1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
            )
            loop = asyncio.get_running_loop()
            await loop.sock_sendall(sock, upgrade.encode())
            ping = b"\x89\x84\x00\x00\x00\x00ping"  # masked (all-zero key), 4-byte payload
            try:
                for _ in range(20):  # 20 x 10,000 pings: 1.2 MB of pongs if all were answered
                    try:
                        async with asyncio.timeout(0.2):
                            await loop.sock_sendall(sock, ping * 10_000)
                    except TimeoutError:
                        break  # the server stopped reading from us: the bound holds
                async with asyncio.timeout(5):
                    while "CP1" not in server.sessions:
                        await asyncio.sleep(0.01)
                transport = server.sessions["CP1"].connection.transport
                held: int = transport.get_write_buffer_size()
                async with raw(server, "CP2") as other:  # others are still served
                    assert (await exchange(other, '[2,"h","Heartbeat",{}]'))[:2] == [3, "h"]
                return held
            finally:
                sock.close()
                await asyncio.sleep(0.2)  # the server sees the connection go

    assert run(scenario()) <= MAX_UNSENT_BYTES + 64 * 1024
    assert "socket.send() raised exception" not in caplog.text  # no warning per pong


def test_the_same_identity_connecting_again_replaces_the_older_connection() -> None:
    recorder = Recorder()

    async def scenario() -> tuple[int | None, str | None, Any]:
        async with serving(CentralSystem(**recorder.hooks())) as server:
            older = await raw(server, "CP1")
            async with raw(server, "CP1") as newer:
                async with asyncio.timeout(5):
                    await older.wait_closed()
                answer = await exchange(newer, '[2,"h","Heartbeat",{}]')
                assert (
                    server.sessions["CP1"].connection.remote_address[1] == (newer.local_address[1])
                )
            return older.close_code, older.close_reason, answer

    code, reason, answer = run(scenario())
    assert (code, reason) == (1000, "replaced by a new connection")
    assert answer[:2] == [3, "h"]
    details = [(e.kind, e.detail.split(" from")[0]) for e in recorder.connections]
    assert ("connected", "replacing the connection") in details
    assert ("disconnected", "code 1000: replaced by a new connection") in details


def test_duplicate_reject_refuses_the_newer_connection_with_409() -> None:
    async def scenario() -> tuple[tuple[int, str], Any]:
        async with serving(CentralSystem(duplicate="reject")) as server, raw(server) as first:
            refusal = await refused(server, "/ocpp/CP1")
            return refusal, await exchange(first, '[2,"h","Heartbeat",{}]')

    (status, text), answer = run(scenario())
    assert status == 409
    assert "charge point 'CP1' is already connected" in text
    assert answer[:2] == [3, "h"]  # the first one is untouched


@pytest.mark.parametrize(
    ("segment", "why"),
    [
        ("CP%00", "holds control characters"),
        ("CP%1B%5B2J", "holds control characters"),
        ("CP%0A1", "holds control characters"),
        ("CP%C2%9B", "holds control characters"),  # U+009B, the C1 control sequence introducer
        ("CP%FF", "is not percent-encoded UTF-8"),
    ],
)
def test_identities_with_controls_or_bad_encoding_are_refused_with_400(
    segment: str, why: str
) -> None:
    recorder = Recorder()

    async def scenario() -> tuple[int, str]:
        async with serving(CentralSystem(**recorder.hooks())) as server:
            return await refused(server, f"/ocpp/{segment}")

    status, text = run(scenario())
    assert status == 400
    assert f"Bad Request: the identity '{segment}' {why}" in text
    [event] = recorder.connections
    assert (event.kind, event.identity) == ("refused", None)


def test_failed_logins_are_throttled_per_address_and_identity_without_slowing_others() -> None:
    cs = CentralSystem(basic_auth={"CP1": PASSWORD, "CP2": PASSWORD})

    async def scenario() -> list[Any]:
        async with serving(cs) as server:
            seen: list[Any] = []
            wrong = basic("CP1", "not the password")
            for _ in range(AUTH_FAILURES_FREE):
                seen.append(await refused(server, "/ocpp/CP1", additional_headers=wrong))
            with pytest.raises(InvalidStatus) as caught:
                async with raw(server, "CP1", additional_headers=basic("CP1", PASSWORD)):
                    pass
            seen.append(caught.value.response)
            # Another charge point, from another address, with its password: not slowed.
            async with raw(
                server, "CP2", additional_headers=basic("CP2", PASSWORD),
                local_addr=("127.0.0.2", 0),
            ) as ws:  # fmt: skip
                seen.append(await exchange(ws, '[2,"h","Heartbeat",{}]'))
            return seen

    *failures, throttled, other = run(scenario())
    assert [status for status, _ in failures] == [401] * AUTH_FAILURES_FREE
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "1"
    assert "too many failed logins" in throttled.body.decode()
    assert other[:2] == [3, "h"]


def test_the_throttle_doubles_the_wait_up_to_its_bound_and_forgets_the_oldest() -> None:
    throttle = Throttle(free=2, max_delay=8.0, size=3)
    waits = []
    for second in range(7):
        throttle.failed(["a"], now=float(second))
        waits.append(throttle.wait(["a"], now=float(second)))
    assert waits == [0, 1, 2, 4, 8, 8, 8]
    assert throttle.wait(["b", "a"], now=10.0) == 4.0  # the longest wait of the keys
    throttle.succeeded(["a"])
    assert throttle.wait(["a"], now=6.0) == 0
    for key in "bcde":
        throttle.failed([key], now=0.0)
    assert len(throttle) == 3


def test_the_open_files_limit_is_raised_and_running_out_is_reported_once_a_second() -> None:
    script = """
import asyncio, resource, socket
resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
from ocpp16 import CentralSystem
from ocpp16.server import raise_open_files_limit

async def main():
    resource.setrlimit(resource.RLIMIT_NOFILE, (32, 64))
    async with CentralSystem().serve("127.0.0.1", 0) as server:
        print("soft limit", resource.getrlimit(resource.RLIMIT_NOFILE)[0], flush=True)
        clients = []
        for _ in range(80):  # more than the server can accept
            try:
                clients.append(socket.create_connection(("127.0.0.1", server.port)))
            except OSError:
                break
        await asyncio.sleep(1.5)
        for client in clients:
            client.close()
        await asyncio.sleep(0.2)
    print("done", flush=True)

asyncio.run(main())
"""
    result = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["soft limit 64", "done"]
    reports = [line for line in result.stderr.splitlines() if "cannot accept" in line]
    assert 1 <= len(reports) <= 3, result.stderr[:2000]
    assert "too many open files" in reports[0]
    assert "Traceback" not in result.stderr
