"""The simulated charge point over loopback: the `ocpp` package's central system and ours.

Every run is bounded (a duration, asyncio timeouts) and kept short by ``speed``: the simulated
clock runs that many times faster, so a heartbeat interval of 20 s takes a fraction of a second.
Nothing here measures wall time; intervals are checked on the simulated clock, as the charge
point's own frames are stamped.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from ocpp.v16 import ChargePoint as OcppChargePoint
from ocpp.v16 import call, call_result
from ocpp.v16.enums import RegistrationStatus
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from ocpp16 import (
    CancelReservationRequest,
    ChangeAvailabilityRequest,
    ChangeConfigurationRequest,
    ClearCacheRequest,
    ClearChargingProfileRequest,
    DataTransferRequest,
    GetCompositeScheduleRequest,
    GetConfigurationRequest,
    GetDiagnosticsRequest,
    GetLocalListVersionRequest,
    RemoteStartTransactionRequest,
    RemoteStopTransactionRequest,
    ReserveNowRequest,
    ResetRequest,
    SendLocalListRequest,
    SetChargingProfileRequest,
    TriggerMessageRequest,
    UnlockConnectorRequest,
    UpdateFirmwareRequest,
)
from ocpp16._generated.actions import ACTIONS
from ocpp16._generated.enums import ChargePointStatus
from ocpp16._model import Model
from ocpp16.errors import HandshakeError, RefusedError
from ocpp16.server import CentralSystem, Exchange, FrameEvent
from ocpp16.sim import SimResult, SimulatedChargePoint, run_fleet
from ocpp16.station import PlanEvent, StationEvent
from ocpp16.station.connectors import is_legal
from ocpp16.transport import tls_context
from tests.loopback import Tls
from tests.oracle import official_validator

T = TypeVar("T")

#: The simulated clock runs this many times faster in these tests.
SPEED = 100.0
TAG = "TAG001"


def run(scenario: Coroutine[Any, Any, T], seconds: float = 30.0) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(seconds):
            return await scenario

    return asyncio.run(bounded())


async def until(check: Callable[[], bool], seconds: float = 15.0) -> None:
    """Wait (bounded) until ``check()`` holds."""
    async with asyncio.timeout(seconds):
        while not check():
            await asyncio.sleep(0.01)


async def until_problem(cp: SimulatedChargePoint) -> SimResult:
    """Run ``cp`` until it has seen an invalid frame (bounded), then stop it."""
    task = asyncio.create_task(cp.run(duration=20))
    await until(lambda: task.done() or not cp.result.ok)
    cp.stop()
    return await task


def plug(at: float = 10.0, connector: int = 1, id_tag: str | None = TAG) -> PlanEvent:
    return PlanEvent(
        at=at,
        do="plug_in",
        connector=connector,
        id_tag=id_tag,
        energy_wh=60_000.0,
        max_power_w=11_000.0,
        soc=None,
    )


def check_official(frames: list[FrameEvent]) -> None:
    """Every CALL the charge point sent, and every answer, fits the official schemas."""
    sent: dict[str, str] = {}
    for event in frames:
        frame = event.frame
        assert event.verdict == "valid", event
        if frame[0] == 2:
            sent[frame[1]] = frame[2]
            if event.direction == "out":
                official_validator(frame[2], False).validate(frame[3])
        elif frame[0] == 3 and event.direction == "out":
            continue  # our answers: checked by the central system that received them
        else:
            assert frame[0] == 3, f"a CALLERROR: {frame}"


# Against the `ocpp` package's central system -----------------------------------------------------


class OcppCentralSystem(OcppChargePoint):  # type: ignore[misc]  # ocpp is untyped
    """The `ocpp` package's v16 ChargePoint as a central system (it validates every frame)."""

    def __init__(self, identity: str, connection: Any) -> None:
        super().__init__(identity, connection, response_timeout=5)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.booted = asyncio.Event()
        self.transaction_id = 4242
        for name, handler in self.handlers().items():
            self.route_map[name] = {"_on_action": handler}

    async def route_message(self, raw_msg: str) -> None:
        frame = json.loads(raw_msg)
        if frame[0] == 2:
            self.calls.append((frame[2], frame[3]))
        await super().route_message(raw_msg)

    def of(self, action: str) -> list[dict[str, Any]]:
        return [payload for name, payload in self.calls if name == action]

    def on_boot(self, **_: Any) -> Any:
        self.booted.set()
        now = datetime.now(UTC).isoformat()
        return call_result.BootNotification(now, 300, RegistrationStatus.accepted)

    def handlers(self) -> dict[str, Callable[..., Any]]:
        accepted = {"status": "Accepted"}

        def now() -> str:
            return datetime.now(UTC).isoformat()

        return {
            "BootNotification": self.on_boot,
            "Heartbeat": lambda **_: call_result.Heartbeat(now()),
            "StatusNotification": lambda **_: call_result.StatusNotification(),
            "Authorize": lambda **_: call_result.Authorize(accepted),
            "StartTransaction": lambda **_: call_result.StartTransaction(
                self.transaction_id, accepted
            ),
            "MeterValues": lambda **_: call_result.MeterValues(),
            "StopTransaction": lambda **_: call_result.StopTransaction(),
        }


def test_a_session_run_by_the_ocpp_central_system_is_coherent() -> None:
    """RemoteStart, HeartbeatInterval changed, RemoteStop: one transactionId, a growing register,
    meterStop the last register, statuses in a legal order, heartbeats at the new interval."""
    frames: list[FrameEvent] = []
    peers: list[OcppCentralSystem] = []
    answers: list[Any] = []

    async def script(cs: OcppCentralSystem, cp: SimulatedChargePoint) -> None:
        await cs.booted.wait()
        await until(
            lambda: any(p.get("status") == "Preparing" for p in cs.of("StatusNotification"))
        )
        answers.append(await cs.call(call.RemoteStartTransaction(id_tag=TAG, connector_id=1)))
        await until(lambda: len(cs.of("MeterValues")) >= 2)
        answers.append(await cs.call(call.ChangeConfiguration("HeartbeatInterval", "20")))
        changed = len(cs.of("Heartbeat"))
        await until(lambda: len(cs.of("Heartbeat")) >= changed + 3)
        answers.append(await cs.call(call.RemoteStopTransaction(cs.transaction_id)))
        await until(lambda: len(cs.of("StopTransaction")) == 1)
        await asyncio.sleep(0.1)
        cp.stop()

    async def scenario() -> SimResult:
        ready: asyncio.Queue[OcppCentralSystem] = asyncio.Queue()

        async def handler(connection: ServerConnection) -> None:
            cs = OcppCentralSystem("CP1", connection)
            peers.append(cs)
            ready.put_nowait(cs)
            with contextlib.suppress(ConnectionClosed):
                await cs.start()

        async with serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:  # type: ignore[list-item]
            port = server.sockets[0].getsockname()[1]
            config = {"MeterValueSampleInterval": "10", "LocalPreAuthorize": "false"}
            cp = SimulatedChargePoint(
                f"ws://127.0.0.1:{port}/ocpp/CP1",
                connectors=2,
                speed=SPEED,
                plan=[plug(id_tag=None)],
                config=config,
                on_frame=frames.append,
                timeout=5,
            )
            task = asyncio.create_task(cp.run(duration=25))
            await script(await ready.get(), cp)
            return await task

    result = run(scenario())
    assert result.ok, result.problems
    check_official(frames)
    assert [a.status for a in answers] == ["Accepted", "Accepted", "Accepted"]
    cs = peers[0]
    (start,) = cs.of("StartTransaction")
    (stop,) = cs.of("StopTransaction")
    assert start["idTag"] == TAG and start["connectorId"] == 1
    # One transactionId throughout: every transaction MeterValues and the StopTransaction.
    readings = [p for p in cs.of("MeterValues") if "transactionId" in p]
    assert readings and {p["transactionId"] for p in readings} == {cs.transaction_id}
    assert stop["transactionId"] == cs.transaction_id and stop["reason"] == "Remote"
    registers = [
        float(value["value"])
        for p in readings
        for meter in p["meterValue"]
        for value in meter["sampledValue"]
        if value.get("measurand", "Energy.Active.Import.Register")
        == "Energy.Active.Import.Register"
    ]
    assert registers == sorted(registers) and registers[-1] > start["meterStart"]
    # meterStop is the final register: the Transaction.End reading, at least the last sample.
    (end,) = [
        value
        for meter in stop["transactionData"]
        for value in meter["sampledValue"]
        if value.get("context") == "Transaction.End"
        and value.get("measurand", "Energy.Active.Import.Register")
        == "Energy.Active.Import.Register"
    ]
    assert stop["meterStop"] == round(float(end["value"])) >= registers[-1]
    # Statuses of connector 1, in a legal order of the state machine.
    statuses = [
        ChargePointStatus(p["status"]) for p in cs.of("StatusNotification") if p["connectorId"] == 1
    ]
    assert statuses[:3] == [
        ChargePointStatus.AVAILABLE,
        ChargePointStatus.PREPARING,
        ChargePointStatus.CHARGING,
    ]
    assert ChargePointStatus.FINISHING in statuses
    for old, new in itertools.pairwise(statuses):
        assert is_legal(1, old, new), (old, new)
    # Heartbeats follow the new interval of 20 s (on the simulated clock): never early, never
    # the old 300 s.
    beats = [e.time for e in frames if e.direction == "out" and e.frame[2:3] == ["Heartbeat"]]
    assert len(beats) >= 3
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(beats)]
    assert all(19.0 <= gap < 150.0 for gap in gaps), gaps


# Against our central system: each CS->CP action, its answer and its side effect ------------------


class Harness:
    """Our central system and a simulated charge point in one event loop."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self.frames: list[FrameEvent] = []
        self.events: list[StationEvent] = []
        self.cs = CentralSystem(on_exchange=self.exchanges.append, timeout=5)

    def of(self, action: str, after: int = 0) -> list[dict[str, Any]]:
        """Payloads of the charge point's CALLs of ``action`` (from exchange ``after`` on)."""
        return [
            e.request[3]
            for e in self.exchanges[after:]
            if e.initiator == "cp" and e.action == action
        ]

    def statuses(self, connector: int, after: int = 0) -> list[str]:
        found = self.of("StatusNotification", after)
        return [p["status"] for p in found if p["connectorId"] == connector]


async def with_sim(
    body: Callable[[Harness, SimulatedChargePoint], Awaitable[None]],
    *,
    plan: list[PlanEvent] | None = None,
    after_boot: list[Any] | None = None,
    seconds: float = 20.0,
) -> tuple[Harness, SimResult]:
    harness = Harness()
    harness.cs.after_boot = list(after_boot or [])
    async with harness.cs.serve("127.0.0.1", 0) as server:
        cp = SimulatedChargePoint(
            server.url,
            "CP1",
            connectors=2,
            speed=SPEED,
            plan=plan or [],
            config={"MeterValueSampleInterval": "30"},
            on_frame=harness.frames.append,
            on_event=harness.events.append,
            timeout=5,
        )
        task = asyncio.create_task(cp.run(duration=seconds))
        try:
            await until(lambda: len(harness.statuses(2)) >= 1)  # booted, statuses reported
            await body(harness, cp)
        finally:
            cp.stop()
        return harness, await task


def _expiry() -> datetime:
    return datetime.now(UTC) + timedelta(days=1)


def _profile(purpose: str, limit: float, profile_id: int = 1) -> dict[str, Any]:
    return {
        "chargingProfileId": profile_id,
        "stackLevel": 0,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        },
    }


def _tx_id(h: Harness) -> int:
    (start,) = [e for e in h.exchanges if e.action == "StartTransaction"]
    assert start.response is not None
    tx: int = start.response[2]["transactionId"]
    return tx


def _stopped(reason: str) -> Callable[[Harness, int], bool]:
    return lambda h, n: any(p["reason"] == reason for p in h.of("StopTransaction", n))


#: Per action: whether a transaction runs first, the requests (a request, or a function of the
#: harness making one), the answers expected (a subset of each payload), the side effect.
Case = tuple[
    bool,
    list[Model | Callable[[Harness], Model]],
    list[dict[str, Any]],
    Callable[[Harness, int], bool],
]
CASES: dict[str, Case] = {
    "CancelReservation": (
        False,
        [
            ReserveNowRequest.from_dict(
                {"connectorId": 1, "expiryDate": _expiry().isoformat(), "idTag": TAG,
                 "reservationId": 7}
            ),
            CancelReservationRequest(reservation_id=7),
            CancelReservationRequest(reservation_id=7),
        ],
        [{"status": "Accepted"}, {"status": "Accepted"}, {"status": "Rejected"}],
        lambda h, n: h.statuses(1, n) == ["Reserved", "Available"],
    ),
    "ChangeAvailability": (
        False,
        [ChangeAvailabilityRequest.from_dict({"connectorId": 2, "type": "Inoperative"})],
        [{"status": "Accepted"}],
        lambda h, n: h.statuses(2, n) == ["Unavailable"],
    ),
    "ChangeConfiguration": (
        False,
        [
            ChangeConfigurationRequest(key="HeartbeatInterval", value="20"),
            ChangeConfigurationRequest(key="NumberOfConnectors", value="9"),
            ChangeConfigurationRequest(key="NoSuchKey", value="1"),
        ],
        [{"status": "Accepted"}, {"status": "Rejected"}, {"status": "NotSupported"}],
        lambda h, n: len(h.of("Heartbeat", n)) >= 2,
    ),
    "ClearCache": (False, [ClearCacheRequest()], [{"status": "Accepted"}], lambda h, n: True),
    "ClearChargingProfile": (
        False,
        [
            SetChargingProfileRequest.from_dict(
                {"connectorId": 1, "csChargingProfiles": _profile("TxDefaultProfile", 10)}
            ),
            ClearChargingProfileRequest(id=1),
            ClearChargingProfileRequest(id=1),
        ],
        [{"status": "Accepted"}, {"status": "Accepted"}, {"status": "Unknown"}],
        lambda h, n: True,
    ),
    "DataTransfer": (
        False,
        [DataTransferRequest(vendor_id="com.example")],
        [{"status": "UnknownVendorId"}],
        lambda h, n: True,
    ),
    "GetCompositeSchedule": (
        False,
        [
            SetChargingProfileRequest.from_dict(
                {"connectorId": 0, "csChargingProfiles": _profile("ChargePointMaxProfile", 16)}
            ),
            GetCompositeScheduleRequest.from_dict(
                {"connectorId": 1, "duration": 600, "chargingRateUnit": "A"}
            ),
        ],
        [
            {"status": "Accepted"},
            {"status": "Accepted", "connectorId": 1},
        ],
        lambda h, n: True,
    ),
    "GetConfiguration": (
        False,
        [GetConfigurationRequest(key=["HeartbeatInterval", "NoSuchKey"])],
        [
            {
                "configurationKey": [
                    {"key": "HeartbeatInterval", "readonly": False, "value": "300"}
                ],
                "unknownKey": ["NoSuchKey"],
            }
        ],
        lambda h, n: True,
    ),
    "GetDiagnostics": (
        False,
        [GetDiagnosticsRequest(location="ftp://diagnostics.example.com/up/")],
        [{}],
        lambda h, n: [p["status"] for p in h.of("DiagnosticsStatusNotification", n)]
        == ["Uploading", "Uploaded"],
    ),
    "GetLocalListVersion": (
        False,
        [
            GetLocalListVersionRequest(),
            SendLocalListRequest.from_dict(
                {
                    "listVersion": 5,
                    "updateType": "Full",
                    "localAuthorizationList": [
                        {"idTag": TAG, "idTagInfo": {"status": "Accepted"}}
                    ],
                }
            ),
            GetLocalListVersionRequest(),
        ],
        [{"listVersion": 0}, {"status": "Accepted"}, {"listVersion": 5}],
        lambda h, n: True,
    ),
    "RemoteStartTransaction": (
        False,
        [RemoteStartTransactionRequest(id_tag=TAG, connector_id=1)],
        [{"status": "Accepted"}],
        lambda h, n: h.statuses(1, n)[:1] == ["Preparing"],
    ),
    "RemoteStopTransaction": (
        True,
        [lambda h: RemoteStopTransactionRequest(transaction_id=_tx_id(h))],
        [{"status": "Accepted"}],
        _stopped("Remote"),
    ),
    "ReserveNow": (
        False,
        [
            ReserveNowRequest.from_dict(
                {"connectorId": 2, "expiryDate": _expiry().isoformat(), "idTag": TAG,
                 "reservationId": 3}
            )
        ],
        [{"status": "Accepted"}],
        lambda h, n: h.statuses(2, n) == ["Reserved"],
    ),
    "Reset": (
        True,
        [ResetRequest.from_dict({"type": "Soft"})],
        [{"status": "Accepted"}],
        lambda h, n: _stopped("SoftReset")(h, n) and len(h.of("BootNotification", n)) == 1,
    ),
    "SendLocalList": (
        False,
        [
            SendLocalListRequest.from_dict(
                {"listVersion": 2, "updateType": "Differential",
                 "localAuthorizationList": [{"idTag": TAG}]}
            )
        ],
        [{"status": "Accepted"}],
        lambda h, n: True,
    ),
    "SetChargingProfile": (
        True,
        [
            SetChargingProfileRequest.from_dict(
                {"connectorId": 1, "csChargingProfiles": _profile("TxDefaultProfile", 6)}
            ),
            TriggerMessageRequest.from_dict(
                {"requestedMessage": "MeterValues", "connectorId": 1}
            ),
        ],
        [{"status": "Accepted"}, {"status": "Accepted"}],
        lambda h, n: _power_at_most(h, n, 6 * 230 * 3 * 1.1),
    ),
    "TriggerMessage": (
        False,
        [TriggerMessageRequest.from_dict({"requestedMessage": "StatusNotification",
                                          "connectorId": 2})],
        [{"status": "Accepted"}],
        lambda h, n: h.statuses(2, n) == ["Available"],
    ),
    "UnlockConnector": (
        True,
        [UnlockConnectorRequest(connector_id=1)],
        [{"status": "Unlocked"}],
        _stopped("UnlockCommand"),
    ),
    "UpdateFirmware": (
        False,
        [
            UpdateFirmwareRequest.from_dict(
                {"location": "https://firmware.example.com/f.bin",
                 "retrieveDate": datetime.now(UTC).isoformat()}
            )
        ],
        [{}],
        lambda h, n: [p["status"] for p in h.of("FirmwareStatusNotification", n)]
        == ["Downloading", "Downloaded", "Installing", "Installed"]
        and len(h.of("BootNotification", n)) == 1,
    ),
}  # fmt: skip


def _power_at_most(h: Harness, after: int, watts: float) -> bool:
    """A triggered MeterValues after ``after`` reports a power within ``watts``."""
    for payload in h.of("MeterValues", after):
        for meter in payload["meterValue"]:
            for value in meter["sampledValue"]:
                if value.get("context") == "Trigger" and value.get("measurand") == (
                    "Power.Active.Import"
                ):
                    return 0 < float(value["value"]) <= watts
    return False


def test_every_action_the_central_system_sends_is_covered() -> None:
    sent = {a.name for a in ACTIONS.values() if a.sender.central_system_sends}
    assert set(CASES) == sent and len(sent) == 19


@pytest.mark.parametrize("action", sorted(CASES))
def test_each_central_system_request_gets_the_spec_answer_and_its_effect(action: str) -> None:
    charging, requests, expected, effect = CASES[action]
    answers: list[dict[str, Any]] = []
    mark = [0]

    async def body(h: Harness, cp: SimulatedChargePoint) -> None:
        if charging:
            await until(lambda: any(e.action == "StartTransaction" for e in h.exchanges))
            await until(lambda: "Charging" in h.statuses(1))
        session = h.cs.sessions["CP1"]
        mark[0] = len(h.exchanges)
        for item in requests:
            request = item if isinstance(item, Model) else item(h)
            answers.append((await session.call(request)).to_dict())  # type: ignore[arg-type]
        await until(lambda: effect(h, mark[0]))

    plan = [plug()] if charging else []
    h, result = run(with_sim(body, plan=plan))
    assert result.ok, result.problems
    check_official(h.frames)
    assert len(answers) == len(expected)
    for got, wanted in zip(answers, expected, strict=True):
        assert got.items() >= wanted.items(), (got, wanted)
    assert all(e.ok for e in h.exchanges), [e.problem for e in h.exchanges if not e.ok]


def test_after_boot_requests_of_every_kind_get_valid_answers() -> None:
    """``ocpp16 serve --after-boot`` with all 19 plausible requests: each answered validly.
    Reset goes last: the reboot starts the list again on the next connection."""
    kinds = sorted(CASES, key=lambda name: name == "Reset")
    classes = [ACTIONS[name].request for name in kinds]

    def sent(h: Harness) -> list[Exchange]:
        return [e for e in h.exchanges if e.initiator == "cs"]

    async def body(h: Harness, cp: SimulatedChargePoint) -> None:
        await until(lambda: len(sent(h)) >= len(kinds))

    h, result = run(with_sim(body, after_boot=classes))
    assert result.ok, result.problems
    first = sent(h)[: len(kinds)]
    assert [e.action for e in first] == kinds
    assert all(e.ok for e in first), [e.problem for e in first if not e.ok]


def test_queued_transaction_messages_arrive_once_in_order_after_the_central_system_returns() -> (
    None
):
    """The central system goes away in the middle of a transaction and comes back: what the
    charge point queued meanwhile arrives exactly once, in order, with the transactionId."""

    async def scenario() -> tuple[list[Exchange], SimResult]:
        exchanges: list[Exchange] = []
        cs = CentralSystem(on_exchange=exchanges.append, timeout=5)
        server = cs.serve("127.0.0.1", 0)
        await server.start()
        port = server.port
        cp = SimulatedChargePoint(
            server.url,
            "CP1",
            connectors=1,
            speed=3 * SPEED,  # the stop at 1200 s comes 4 s after the start
            plan=[plug(), PlanEvent(at=1200.0, do="unplug", connector=1)],
            config={"MeterValueSampleInterval": "60"},
            timeout=5,
            must_connect=True,
        )
        task = asyncio.create_task(cp.run(duration=40))

        def tx_calls() -> list[Exchange]:
            return [e for e in exchanges if e.action in ("MeterValues", "StopTransaction")]

        await until(lambda: len(tx_calls()) >= 2)
        server.close()
        await server.wait_closed()
        # Offline: samples (and the stop at 1200 s) queue up in the charge point.
        await until(lambda: cp.station.queued >= 4)
        server = cs.serve("127.0.0.1", port)
        await server.start()
        await until(lambda: any(e.action == "StopTransaction" for e in exchanges), 30)
        await until(lambda: cp.station.queued == 0)
        cp.stop()
        result = await task
        server.close()
        await server.wait_closed()
        return exchanges, result

    exchanges, result = run(scenario(), 60)
    assert result.ok and result.connections >= 2
    tx = [
        e for e in exchanges if e.action in ("StartTransaction", "MeterValues", "StopTransaction")
    ]
    assert all(e.ok for e in tx)
    ids = [e.request[1] for e in tx]
    assert len(ids) == len(set(ids))  # nothing twice
    stamps = [
        e.request[3]["meterValue"][0]["timestamp"]
        if e.action == "MeterValues"
        else e.request[3]["timestamp"]
        for e in tx
    ]
    assert stamps == sorted(stamps)  # in order
    assert tx[0].action == "StartTransaction" and tx[-1].action == "StopTransaction"
    assert tx[0].response is not None
    tx_id = tx[0].response[2]["transactionId"]
    assert {e.request[3].get("transactionId") for e in tx[1:]} == {tx_id}
    registers = [
        float(v["value"])
        for e in tx
        if e.action == "MeterValues"
        for m in e.request[3]["meterValue"]
        for v in m["sampledValue"]
        if v.get("measurand", "Energy.Active.Import.Register") == "Energy.Active.Import.Register"
    ]
    assert registers == sorted(registers)
    assert tx[-1].request[3]["meterStop"] >= registers[-1] > tx[0].request[3]["meterStart"]


def test_a_refused_first_connection_raises_connect_error() -> None:
    async def scenario() -> None:
        cs = CentralSystem()
        server = cs.serve("127.0.0.1", 0)
        await server.start()
        url = server.url
        server.close()
        await server.wait_closed()
        await SimulatedChargePoint(url, "CP1", timeout=2).run(duration=5)

    with pytest.raises(RefusedError, match="connection refused"):
        run(scenario())


def test_an_invalid_call_from_the_central_system_gets_the_fitting_callerror() -> None:
    """A RemoteStartTransaction without its idTag: OccurenceConstraintViolation, with the
    path; the run then reports the invalid frame."""
    replies: list[Any] = []

    async def scenario() -> SimResult:
        async def handler(connection: ServerConnection) -> None:
            async for message in connection:
                frame = json.loads(message)
                if frame[0] == 2 and frame[2] == "BootNotification":
                    now = datetime.now(UTC).isoformat()
                    answer = {"status": "Accepted", "currentTime": now, "interval": 300}
                    await connection.send(json.dumps([3, frame[1], answer]))
                    await connection.send(json.dumps([2, "x1", "RemoteStartTransaction", {}]))
                elif frame[0] == 2:
                    await connection.send(json.dumps([3, frame[1], {}]))
                else:
                    replies.append(frame)
                    return

        async with serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:  # type: ignore[list-item]
            port = server.sockets[0].getsockname()[1]
            cp = SimulatedChargePoint(f"ws://127.0.0.1:{port}/CP1", speed=SPEED, timeout=2)
            return await until_problem(cp)

    result = run(scenario())
    (reply,) = replies
    assert reply[:3] == [4, "x1", "OccurenceConstraintViolation"]
    assert "$.idTag" in reply[3]
    assert not result.ok and "$.idTag" in result.problems[0]


def test_an_invalid_answer_is_reported_with_path_and_constraint() -> None:
    async def scenario() -> SimResult:
        async def handler(connection: ServerConnection) -> None:
            async for message in connection:
                frame = json.loads(message)
                answer = {"status": "Accepted", "currentTime": "yesterday", "interval": 300}
                await connection.send(json.dumps([3, frame[1], answer]))

        async with serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:  # type: ignore[list-item]
            port = server.sockets[0].getsockname()[1]
            cp = SimulatedChargePoint(f"ws://127.0.0.1:{port}/CP1", speed=SPEED, timeout=2)
            return await until_problem(cp)

    result = run(scenario())
    assert not result.ok
    assert "$.currentTime" in result.problems[0] and "date-time" in result.problems[0]


@pytest.mark.parametrize("password", ["s3cret", "wrong"])
def test_tls_with_a_client_certificate_and_basic_auth(tmp_path: Path, password: str) -> None:
    """Security profile 3 and a password: the right one boots; a wrong one is a ConnectError
    (HTTP 401) that never shows the password."""
    tls = Tls(tmp_path)

    async def scenario() -> SimResult:
        cs = CentralSystem(ssl=tls.server_context(require_client_cert=True), basic_auth="s3cret")
        async with cs.serve("127.0.0.1", 0) as server:
            context = tls_context(str(tls.ca), str(tls.client_cert), str(tls.client_key))
            url = server.url
            cp = SimulatedChargePoint(
                url, "CP1", password=password, tls=context, speed=SPEED, timeout=5
            )
            task = asyncio.create_task(cp.run(duration=20))
            await until(lambda: task.done() or cp.result.frames_in >= 3)  # boot, 2 statuses
            cp.stop()
            return await task

    if password == "wrong":
        with pytest.raises(HandshakeError, match="HTTP 401") as caught:
            run(scenario())
        assert "wrong" not in str(caught.value)
        return
    result = run(scenario())
    assert result.ok and result.connections == 1 and result.frames_in >= 3


def test_a_fleet_runs_in_one_event_loop() -> None:
    """run_fleet: several charge points, one loop, no thread each; every one boots and charges."""

    async def scenario() -> tuple[list[SimResult | BaseException], int]:
        exchanges: list[Exchange] = []
        cs = CentralSystem(on_exchange=exchanges.append, timeout=5)
        async with cs.serve("127.0.0.1", 0) as server:
            points = [
                SimulatedChargePoint(
                    server.url, f"CP{n}", speed=SPEED, plan=[plug()], seed=n, timeout=5
                )
                for n in range(5)
            ]
            threads = threading.active_count()
            fleet = asyncio.ensure_future(run_fleet(points, duration=20))
            await until(
                lambda: len({e.identity for e in exchanges if e.action == "MeterValues"}) == 5
            )
            grown = threading.active_count() - threads
            for point in points:
                point.stop()
            return await fleet, grown

    results, grown = run(scenario())
    assert grown == 0
    assert all(isinstance(r, SimResult) and r.ok and r.connections == 1 for r in results)


def test_the_simulated_clock_can_be_read_from_another_thread() -> None:
    """A live view refreshes from its own thread: now() must not need the running loop."""

    async def scenario() -> tuple[datetime, datetime]:
        cp = SimulatedChargePoint(
            "ws://127.0.0.1:1/ocpp", "CLOCK", speed=60, must_connect=False, timeout=1
        )
        task = asyncio.create_task(cp.run(duration=5))
        await asyncio.sleep(0.2)
        seen = await asyncio.to_thread(cp.now)
        cp.stop()
        await task
        return cp.start, seen

    start, seen = asyncio.run(scenario())
    assert seen > start
