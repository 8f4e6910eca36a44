"""Every CS->CP request: the answer the spec gives and the side effect a user can see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ocpp16 import (
    ACTIONS,
    AuthorizationData,
    AuthorizationStatus,
    AvailabilityType,
    CallError,
    CancelReservationRequest,
    ChangeAvailabilityRequest,
    ChangeConfigurationRequest,
    ChargingProfile,
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingRateUnitType,
    ChargingSchedule,
    ChargingSchedulePeriod,
    ClearCacheRequest,
    ClearChargingProfileRequest,
    DataTransferRequest,
    GetCompositeScheduleRequest,
    GetConfigurationRequest,
    GetDiagnosticsRequest,
    GetLocalListVersionRequest,
    HeartbeatRequest,
    IdTagInfo,
    MessageTrigger,
    RemoteStartTransactionRequest,
    RemoteStopTransactionRequest,
    ReserveNowRequest,
    ResetRequest,
    ResetType,
    SendLocalListRequest,
    SetChargingProfileRequest,
    TriggerMessageRequest,
    UnlockConnectorRequest,
    UpdateFirmwareRequest,
    UpdateType,
)
from ocpp16._model import Request
from ocpp16.station import Reconnect
from tests.oracle import official_validator
from tests.station.harness import FakeCentralSystem, Run, booted


def call(run: Run, request: Request[Any]) -> dict[str, Any]:
    """Send ``request`` to the station, check its answer is valid, let follow-ups go out."""
    answer = run.station.handle_call(request, run.now)
    payload = answer.to_dict()
    assert type(answer).from_dict(payload) == answer
    official_validator(request.ACTION, True).validate(payload)
    assert isinstance(answer, ACTIONS[request.ACTION].response)
    run.until(1)
    return payload


def charging(run: Run, connector: int = 1, tag: str = "TAG1") -> int:
    """Start a session on ``connector``; its transactionId."""
    run.station.plug_in(connector, run.now, id_tag=tag, energy_wh=50_000, max_power_w=22_000)
    run.until(5)
    tx = run.station.transaction(connector)
    assert tx is not None and tx.transaction_id is not None
    return tx.transaction_id


def tx_profile(
    limit: float, unit: ChargingRateUnitType = ChargingRateUnitType.W
) -> ChargingProfile:
    return ChargingProfile(
        charging_profile_id=7,
        stack_level=0,
        charging_profile_purpose=ChargingProfilePurposeType.TX_PROFILE,
        charging_profile_kind=ChargingProfileKindType.RELATIVE,
        charging_schedule=ChargingSchedule(
            charging_rate_unit=unit,
            charging_schedule_period=[ChargingSchedulePeriod(start_period=0, limit=limit)],
        ),
    )


# Remote start and stop ------------------------------------------------------------------------


def test_remote_start_starts_on_the_waiting_ev() -> None:
    run = booted()
    run.station.plug_in(2, run.now)
    run.until(1)
    assert call(run, RemoteStartTransactionRequest(id_tag="REMOTE")) == {"status": "Accepted"}
    start = run.cs.of("StartTransaction")
    assert [(s["connectorId"], s["idTag"]) for s in start] == [(2, "REMOTE")]
    assert run.cs.of("Authorize") == []  # AuthorizeRemoteTxRequests is false by default
    assert run.station.status(2) == "Charging"


def test_remote_start_authorizes_first_when_asked_to() -> None:
    run = booted(config={"AuthorizeRemoteTxRequests": "true"})
    run.station.plug_in(1, run.now)
    call(run, RemoteStartTransactionRequest(id_tag="REMOTE", connector_id=1))
    actions = run.cs.actions()
    assert actions.index("Authorize") < actions.index("StartTransaction")


def test_remote_start_waits_for_the_ev_then_times_out() -> None:
    run = booted(config={"ConnectionTimeOut": "30"})
    call(run, RemoteStartTransactionRequest(id_tag="REMOTE", connector_id=1))
    assert run.station.status(1) == "Preparing"
    run.until(40)
    assert run.station.status(1) == "Available"
    assert run.cs.of("StartTransaction") == []


def test_remote_start_with_a_tx_profile_limits_the_power() -> None:
    run = booted()
    run.station.plug_in(1, run.now, energy_wh=50_000, max_power_w=22_000)
    request = RemoteStartTransactionRequest(
        id_tag="REMOTE", connector_id=1, charging_profile=tx_profile(16, ChargingRateUnitType.A)
    )
    assert call(run, request) == {"status": "Accepted"}
    assert run.station.power_w(1) == 16 * 230 * 3


@pytest.mark.parametrize(
    "request_",
    [
        RemoteStartTransactionRequest(id_tag="X", connector_id=1),  # a transaction runs there
        RemoteStartTransactionRequest(id_tag="X", connector_id=3),  # no such connector
        RemoteStartTransactionRequest(
            id_tag="X",
            connector_id=2,
            charging_profile=ChargingProfile(
                charging_profile_id=1,
                stack_level=0,
                charging_profile_purpose=ChargingProfilePurposeType.TX_DEFAULT_PROFILE,
                charging_profile_kind=ChargingProfileKindType.RELATIVE,
                charging_schedule=ChargingSchedule(
                    charging_rate_unit=ChargingRateUnitType.W,
                    charging_schedule_period=[ChargingSchedulePeriod(start_period=0, limit=5.0)],
                ),
            ),
        ),
    ],
    ids=["busy", "unknown-connector", "not-a-tx-profile"],
)
def test_remote_start_rejected(request_: RemoteStartTransactionRequest) -> None:
    run = booted()
    charging(run, 1)
    before = len(run.cs.of("StartTransaction"))
    assert call(run, request_) == {"status": "Rejected"}
    assert len(run.cs.of("StartTransaction")) == before


def test_remote_stop_stops_with_reason_remote() -> None:
    run = booted()
    tx_id = charging(run)
    assert call(run, RemoteStopTransactionRequest(transaction_id=tx_id + 1)) == {
        "status": "Rejected"
    }
    assert call(run, RemoteStopTransactionRequest(transaction_id=tx_id)) == {"status": "Accepted"}
    stop = run.cs.of("StopTransaction")
    assert [(s["transactionId"], s["reason"]) for s in stop] == [(tx_id, "Remote")]
    assert run.station.status(1) == "Finishing"  # the cable is still in


# Reset, availability, unlock ------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "reason"), [("Soft", "SoftReset"), ("Hard", "HardReset")])
def test_reset_stops_transactions_then_reboots_and_boots_again(kind: str, reason: str) -> None:
    run = booted()
    charging(run)
    run.cs.sent.clear()
    assert call(run, ResetRequest(type=ResetType(kind))) == {"status": "Accepted"}
    run.until(30)
    actions = run.cs.actions()
    assert actions.index("StopTransaction") < actions.index("BootNotification")
    assert run.cs.of("StopTransaction")[0]["reason"] == reason
    assert [r.reason for r in run.reconnects] == ["reset"]
    assert run.station.registration == "Accepted"


def test_change_availability_of_connector_zero_covers_every_connector() -> None:
    run = booted()
    run.cs.sent.clear()
    request = ChangeAvailabilityRequest(connector_id=0, type=AvailabilityType.INOPERATIVE)
    assert call(run, request) == {"status": "Accepted"}
    reported = {(p["connectorId"], p["status"]) for p in run.cs.of("StatusNotification")}
    assert reported == {(0, "Unavailable"), (1, "Unavailable"), (2, "Unavailable")}
    back = ChangeAvailabilityRequest(connector_id=0, type=AvailabilityType.OPERATIVE)
    assert call(run, back) == {"status": "Accepted"}
    assert run.station.status(1) == "Available"


def test_change_availability_is_scheduled_while_a_transaction_runs() -> None:
    run = booted()
    charging(run)
    request = ChangeAvailabilityRequest(connector_id=1, type=AvailabilityType.INOPERATIVE)
    assert call(run, request) == {"status": "Scheduled"}
    assert run.station.status(1) == "Charging"
    run.station.unplug(1, run.now)
    run.until(1)
    assert run.station.status(1) == "Unavailable"
    bad = ChangeAvailabilityRequest(connector_id=9, type=AvailabilityType.INOPERATIVE)
    assert call(run, bad) == {"status": "Rejected"}


def test_unlock_connector_stops_the_transaction() -> None:
    run = booted()
    charging(run)
    assert call(run, UnlockConnectorRequest(connector_id=1)) == {"status": "Unlocked"}
    assert run.cs.of("StopTransaction")[0]["reason"] == "UnlockCommand"
    assert call(run, UnlockConnectorRequest(connector_id=0)) == {"status": "NotSupported"}


# Reservations ---------------------------------------------------------------------------------


def reserve(
    run: Run, connector: int, tag: str = "RES", parent: str | None = None, rid: int = 5
) -> dict[str, Any]:
    expiry = run.station.clock(run.now) + timedelta(minutes=10)
    return call(
        run,
        ReserveNowRequest(
            connector_id=connector, expiry_date=expiry, id_tag=tag, reservation_id=rid,
            parent_id_tag=parent,
        ),
    )  # fmt: skip


def test_a_reserved_connector_admits_only_its_id_tag() -> None:
    run = booted()
    assert reserve(run, 1) == {"status": "Accepted"}
    assert run.station.status(1) == "Reserved"
    run.station.plug_in(1, run.now, id_tag="OTHER")
    run.until(5)
    assert run.cs.of("StartTransaction") == []
    run.station.present_id_tag(1, "RES", run.now)
    run.until(5)
    start = run.cs.of("StartTransaction")
    assert [(s["idTag"], s.get("reservationId")) for s in start] == [("RES", 5)]
    assert statuses_of(run, 1)[-3:] == ["Reserved", "Preparing", "Charging"]


def statuses_of(run: Run, connector: int) -> list[str]:
    return [p["status"] for p in run.cs.of("StatusNotification") if p["connectorId"] == connector]


def test_a_reservation_admits_an_id_tag_with_its_parent() -> None:
    cs = FakeCentralSystem()
    run = booted(cs=cs)
    reserve(run, 1, parent="FLEET")
    entry = AuthorizationData(
        id_tag="DRIVER",
        id_tag_info=IdTagInfo(status=AuthorizationStatus.ACCEPTED, parent_id_tag="FLEET"),
    )
    call(
        run,
        SendLocalListRequest(
            list_version=1, update_type=UpdateType.FULL, local_authorization_list=[entry]
        ),
    )
    run.station.config.change("LocalPreAuthorize", "true")
    run.station.plug_in(1, run.now, id_tag="DRIVER")
    run.until(5)
    assert run.cs.of("StartTransaction")[0]["reservationId"] == 5


def test_a_reservation_expires_and_can_be_cancelled() -> None:
    run = booted()
    reserve(run, 1, rid=1)
    reserve(run, 2, rid=2)
    assert call(run, CancelReservationRequest(reservation_id=2)) == {"status": "Accepted"}
    assert call(run, CancelReservationRequest(reservation_id=2)) == {"status": "Rejected"}
    assert run.station.status(2) == "Available"
    run.until(11 * 60)
    assert run.station.status(1) == "Available"
    assert statuses_of(run, 1)[-2:] == ["Reserved", "Available"]


@pytest.mark.parametrize(
    ("setup", "connector", "status"),
    [
        ("charging", 1, "Occupied"),
        ("fault", 1, "Faulted"),
        ("inoperative", 1, "Unavailable"),
        ("none", 4, "Rejected"),
        ("no-zero", 0, "Rejected"),
        ("none", 0, "Accepted"),
    ],
)
def test_reserve_now_refusals(setup: str, connector: int, status: str) -> None:
    config = {"ReserveConnectorZeroSupported": "false"} if setup == "no-zero" else {}
    run = booted(config=config)
    if setup == "charging":
        charging(run)
    elif setup == "fault":
        run.station.fault(1, run.now)
    elif setup == "inoperative":
        call(run, ChangeAvailabilityRequest(connector_id=1, type=AvailabilityType.INOPERATIVE))
    assert reserve(run, connector) == {"status": status}


# Smart charging -------------------------------------------------------------------------------


def test_set_and_clear_charging_profile_change_the_power_drawn() -> None:
    run = booted()
    charging(run)
    assert run.station.power_w(1) == 22_000
    request = SetChargingProfileRequest(connector_id=1, cs_charging_profiles=tx_profile(7_400))
    assert call(run, request) == {"status": "Accepted"}
    assert run.station.power_w(1) == 7_400
    composite = call(run, GetCompositeScheduleRequest(connector_id=1, duration=600))
    assert composite["status"] == "Accepted"
    assert composite["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 7400.0}
    ]
    assert call(run, ClearChargingProfileRequest(id=7)) == {"status": "Accepted"}
    assert run.station.power_w(1) == 22_000
    assert call(run, ClearChargingProfileRequest(id=7)) == {"status": "Unknown"}
    assert call(run, GetCompositeScheduleRequest(connector_id=5, duration=60)) == {
        "status": "Rejected"
    }


def test_a_zero_limit_suspends_the_evse() -> None:
    run = booted()
    charging(run)
    call(run, SetChargingProfileRequest(connector_id=1, cs_charging_profiles=tx_profile(0)))
    assert run.station.status(1) == "SuspendedEVSE"
    assert statuses_of(run, 1)[-1] == "SuspendedEVSE"


# TriggerMessage -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "connector", "expected"),
    [
        (MessageTrigger.STATUS_NOTIFICATION, 1, ("StatusNotification", {"connectorId": 1})),
        (MessageTrigger.HEARTBEAT, None, ("Heartbeat", {})),
        (MessageTrigger.BOOT_NOTIFICATION, None, ("BootNotification", {"chargePointModel": "sim"})),
        (MessageTrigger.METER_VALUES, 2, ("MeterValues", {"connectorId": 2})),
        (
            MessageTrigger.DIAGNOSTICS_STATUS_NOTIFICATION,
            None,
            ("DiagnosticsStatusNotification", {"status": "Idle"}),
        ),
        (
            MessageTrigger.FIRMWARE_STATUS_NOTIFICATION,
            None,
            ("FirmwareStatusNotification", {"status": "Idle"}),
        ),
    ],
)
def test_trigger_message_answers_then_sends(
    message: MessageTrigger, connector: int | None, expected: tuple[str, dict[str, Any]]
) -> None:
    run = booted()
    run.cs.sent.clear()
    request = TriggerMessageRequest(requested_message=message, connector_id=connector)
    assert call(run, request) == {"status": "Accepted"}
    sent = [(s.action, s.payload) for s in run.cs.sent]
    assert len(sent) == 1
    assert sent[0][0] == expected[0]
    assert expected[1].items() <= sent[0][1].items()
    if message == MessageTrigger.METER_VALUES:
        assert sent[0][1]["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"


def test_trigger_message_for_an_unknown_connector_is_rejected() -> None:
    run = booted()
    request = TriggerMessageRequest(requested_message=MessageTrigger.HEARTBEAT, connector_id=7)
    assert call(run, request) == {"status": "Rejected"}


# Local list, cache, data transfer -------------------------------------------------------------


def test_send_local_list_full_differential_and_version() -> None:
    run = booted()
    accepted = IdTagInfo(status=AuthorizationStatus.ACCEPTED)

    def send(version: int, kind: str, tags: list[tuple[str, bool]]) -> dict[str, Any]:
        entries = [
            AuthorizationData(id_tag=t, id_tag_info=accepted if keep else None) for t, keep in tags
        ]
        return call(
            run,
            SendLocalListRequest(
                list_version=version,
                update_type=UpdateType(kind),
                local_authorization_list=entries,
            ),
        )

    assert call(run, GetLocalListVersionRequest()) == {"listVersion": 0}
    assert send(3, "Full", [("A", True), ("B", True)]) == {"status": "Accepted"}
    assert send(3, "Differential", [("C", True)]) == {"status": "VersionMismatch"}
    assert send(4, "Differential", [("C", True), ("A", False)]) == {"status": "Accepted"}
    assert sorted(run.station.auth.local_list) == ["B", "C"]
    assert call(run, GetLocalListVersionRequest()) == {"listVersion": 4}
    assert send(5, "Full", [("D", False)]) == {"status": "Failed"}  # a full entry needs its info
    too_many = [(f"T{i}", True) for i in range(101)]
    assert send(6, "Full", too_many) == {"status": "Failed"}  # SendLocalListMaxLength 100
    assert sorted(run.station.auth.local_list) == ["B", "C"]


def test_clear_cache_forgets_the_answers_of_the_central_system() -> None:
    run = booted(config={"LocalPreAuthorize": "true"})
    charging(run, 1, "CACHED")
    assert "CACHED" in run.station.auth.cache
    assert call(run, ClearCacheRequest()) == {"status": "Accepted"}
    assert not run.station.auth.cache


@pytest.mark.parametrize(
    ("vendor", "answer"),
    [
        ("com.example", {"status": "Accepted", "data": "pong"}),
        ("org.other", {"status": "UnknownVendorId"}),
    ],
)
def test_data_transfer_knows_only_the_configured_vendors(
    vendor: str, answer: dict[str, str]
) -> None:
    run = booted(data_transfer={"com.example": "pong"})
    assert call(run, DataTransferRequest(vendor_id=vendor, message_id="ping")) == answer


# Diagnostics and firmware ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "final"), [("ftp://logs.example.com/up", "Uploaded"), ("mailto:x", "UploadFailed")]
)
def test_get_diagnostics_reports_its_upload(location: str, final: str) -> None:
    run = booted()
    run.cs.sent.clear()
    answer = call(run, GetDiagnosticsRequest(location=location))
    assert answer["fileName"].startswith("diagnostics-")
    run.until(10)
    assert [p["status"] for p in run.cs.of("DiagnosticsStatusNotification")] == ["Uploading", final]


def test_update_firmware_downloads_installs_and_reboots() -> None:
    run = booted()
    run.cs.sent.clear()
    retrieve = run.station.clock(run.now) + timedelta(seconds=60)
    assert (
        call(
            run,
            UpdateFirmwareRequest(location="https://fw.example.com/1.bin", retrieve_date=retrieve),
        )
        == {}
    )
    run.until(40)
    assert run.cs.of("FirmwareStatusNotification") == []  # not before retrieveDate
    run.until(60)
    sequence = [p["status"] for p in run.cs.of("FirmwareStatusNotification")]
    assert sequence == ["Downloading", "Downloaded", "Installing", "Installed"]
    boots = run.cs.of("BootNotification")
    assert boots[-1]["firmwareVersion"] == "1.0.1"
    assert [r.reason for r in run.reconnects] == ["firmware"]


# Configuration --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "status"),
    [
        ("MeterValueSampleInterval", "30", "Accepted"),
        ("MeterValueSampleInterval", "soon", "Rejected"),
        ("MeterValuesSampledData", "Energy.Active.Import.Register,Voltage", "Accepted"),
        ("MeterValuesSampledData", "Energy.Active.Import.Register,Rpm", "Rejected"),
        ("NumberOfConnectors", "4", "Rejected"),  # read-only
        ("ConnectorPhaseRotation", "1.RST", "RebootRequired"),
        ("NoSuchKey", "1", "NotSupported"),
        ("LocalPreAuthorize", "TRUE", "Accepted"),
    ],
)
def test_change_configuration(key: str, value: str, status: str) -> None:
    run = booted()
    before = run.station.config.raw(key) if key != "NoSuchKey" else None
    assert call(run, ChangeConfigurationRequest(key=key, value=value)) == {"status": status}
    if status == "Accepted":
        assert run.station.config.raw(key) == value.lower() if value.isupper() else value
    elif key != "NoSuchKey":
        assert run.station.config.raw(key) == before


def test_get_configuration_answers_known_and_unknown_keys() -> None:
    run = booted(connectors=3)
    answer = call(run, GetConfigurationRequest(key=["NumberOfConnectors", "Nope"]))
    assert answer == {
        "configurationKey": [{"key": "NumberOfConnectors", "readonly": True, "value": "3"}],
        "unknownKey": ["Nope"],
    }
    everything = call(run, GetConfigurationRequest())
    keys = {k["key"] for k in everything["configurationKey"]}
    assert {"HeartbeatInterval", "LocalAuthListMaxLength", "ChargeProfileMaxStackLevel"} <= keys
    with pytest.raises(CallError) as caught:
        run.station.handle_call(GetConfigurationRequest(key=[f"K{i}" for i in range(51)]), run.now)
    assert caught.value.code == "OccurenceConstraintViolation"


def test_a_charge_point_request_sent_to_the_charge_point_is_not_supported() -> None:
    run = booted()
    with pytest.raises(CallError) as caught:
        run.station.handle_call(HeartbeatRequest(), run.now)
    assert caught.value.code == "NotSupported"


def test_reconnect_intents_are_plain_data() -> None:
    assert Reconnect("plan", 5.0).offline_s == 5.0
