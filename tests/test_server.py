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
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
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
    assert "waiting" in ignored[1].detail


# Handlers, fixed responses and calls to the charge point ---------------------------------------


def test_handlers_answer_their_actions_and_the_rest_is_random() -> None:
    cs = CentralSystem()
    seen: list[str] = []

    @cs.on("BootNotification")
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
    assert "no answer within 0.3 s" in problems[2]
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
