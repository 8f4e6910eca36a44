"""Sessions, boot, heartbeat and offline queueing, driven by hand on a simulated clock."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from ocpp16 import (
    AuthorizationData,
    AuthorizationStatus,
    ChangeConfigurationRequest,
    IdTagInfo,
    MessageTrigger,
    RegistrationStatus,
    SendLocalListRequest,
    TriggerMessageRequest,
    UpdateType,
)
from ocpp16.station.config import SUPPORTED_MEASURANDS
from ocpp16.station.connectors import is_legal
from tests.station.harness import FakeCentralSystem, Run, booted

SAMPLED = "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC"


def registers(run: Run, action: str = "MeterValues") -> list[int]:
    """Every Energy.Active.Import.Register value sent in ``action``s, in order of sending."""
    values = []
    for sent in run.cs.sent:
        if sent.action != action:
            continue
        readings = sent.payload.get("meterValue") or sent.payload.get("transactionData") or []
        for reading in readings:
            for value in reading["sampledValue"]:
                if value.get("measurand") == "Energy.Active.Import.Register":
                    values.append(int(value["value"]))
    return values


def statuses(run: Run, connector: int) -> list[str]:
    return [p["status"] for p in run.cs.of("StatusNotification") if p["connectorId"] == connector]


def assert_legal(sequence: list[str], connector: int = 1) -> None:
    from ocpp16 import ChargePointStatus

    for old, new in itertools.pairwise(sequence):
        assert is_legal(connector, ChargePointStatus(old), ChargePointStatus(new)), (old, new)


def test_a_full_session_is_coherent() -> None:
    run = booted(
        config={
            "MeterValueSampleInterval": "60",
            "MeterValuesSampledData": SAMPLED,
            "StopTxnSampledData": "Energy.Active.Import.Register",
        }
    )
    station = run.station
    station.plug_in(1, run.now, id_tag="TAG1", energy_wh=8_000, max_power_w=11_000, soc=0.7)
    run.until(3 * 3600)
    assert station.status(1) == "SuspendedEV"  # full: tapered near the end, then nothing
    station.unplug(1, run.now)
    run.until(60)

    start = run.cs.of("StartTransaction")
    stop = run.cs.of("StopTransaction")
    assert len(start) == len(stop) == 1
    assert run.cs.of("Authorize") == [{"idTag": "TAG1"}]
    ids = {p["transactionId"] for p in run.cs.of("MeterValues")} | {stop[0]["transactionId"]}
    assert ids == {1001}  # the id the central system gave, throughout
    values = registers(run)
    assert values == sorted(values)  # the register only grows
    data = registers(run, "StopTransaction")
    assert data == sorted(data) and data[0] == start[0]["meterStart"]
    assert stop[0]["meterStop"] == data[-1] == max(values) >= start[0]["meterStart"]
    assert stop[0]["meterStop"] - start[0]["meterStart"] == 8_000
    assert stop[0]["reason"] == "EVDisconnected"
    contexts = [r["sampledValue"][0]["context"] for r in stop[0]["transactionData"]]
    assert contexts[0] == "Transaction.Begin" and contexts[-1] == "Transaction.End"
    assert set(contexts[1:-1]) == {"Sample.Periodic"}
    sequence = statuses(run, 1)
    assert sequence == ["Available", "Preparing", "Charging", "SuspendedEV", "Available"]
    assert_legal(sequence)
    # Power tapers above 80 % SoC; SoC, current per phase and voltage per phase are reported.
    powers = [
        float(v["value"])
        for p in run.cs.of("MeterValues")
        for v in p["meterValue"][0]["sampledValue"]
        if v["measurand"] == "Power.Active.Import"
    ]
    assert powers[0] == 11_000.0 and 0 < min(p for p in powers if p) < 11_000.0
    first = run.cs.of("MeterValues")[0]["meterValue"][0]["sampledValue"]
    phases = {v.get("phase") for v in first if v["measurand"] in ("Current.Import", "Voltage")}
    assert phases == {"L1", "L2", "L3", "L1-N", "L2-N", "L3-N"}
    assert any(v["measurand"] == "SoC" and v["unit"] == "Percent" for v in first)


def test_the_heartbeat_follows_a_new_heartbeat_interval_at_once() -> None:
    run = booted(cs=FakeCentralSystem(boot_interval=300))
    run.until(700)
    beats = [s.at for s in run.cs.sent if s.action == "Heartbeat"]
    assert [(b - beats[0]).total_seconds() for b in beats] == [0, 300]
    changed = run.now
    answer = run.station.handle_call(
        ChangeConfigurationRequest(key="HeartbeatInterval", value="20"), run.now
    )
    assert answer.to_dict() == {"status": "Accepted"}
    run.until(65)
    later = [s.at for s in run.cs.sent if s.action == "Heartbeat" and s.at > changed]
    assert [(b - changed).total_seconds() for b in later] == [20, 40, 60]


@pytest.mark.parametrize("status", [RegistrationStatus.PENDING, RegistrationStatus.REJECTED])
def test_nothing_but_boot_notification_before_accepted(status: RegistrationStatus) -> None:
    cs = FakeCentralSystem(boot=status, boot_interval=100)
    run = booted(cs=cs)
    run.station.plug_in(1, run.now, id_tag="TAG1")
    run.until(250)
    assert run.cs.actions() == ["BootNotification"] * 3  # at 0, 100 and 200 s
    cs.boot = RegistrationStatus.ACCEPTED
    run.until(100)
    actions = run.cs.actions()
    assert actions[3] == "BootNotification"
    assert "StatusNotification" in actions[4:]


def test_transaction_messages_are_queued_offline_and_delivered_once_in_order() -> None:
    run = booted(config={"MeterValueSampleInterval": "60", "HeartbeatInterval": "100"})
    run.cs.boot_interval = 0  # keep the configured heartbeat
    station = run.station
    station.plug_in(1, run.now, id_tag="TAG1", energy_wh=50_000)
    run.until(130)
    run.cut()
    run.cs.sent.clear()
    run.until(600)  # ten samples taken offline, nothing sent
    station.unplug(1, run.now)
    run.until(60)
    assert run.cs.sent == []
    assert station.queued == 11  # a sample a minute for ten minutes, and the StopTransaction
    run.restore()
    run.until(30)
    actions = run.cs.actions()
    tx_actions = [a for a in actions if a in ("MeterValues", "StopTransaction")]
    assert tx_actions == ["MeterValues"] * 10 + ["StopTransaction"]
    stamps = [p["meterValue"][0]["timestamp"] for p in run.cs.of("MeterValues")]
    assert stamps == sorted(set(stamps))  # each once, oldest first
    assert actions.count("Heartbeat") == 1  # the one due now; those missed offline are not queued
    assert station.queued == 0


def test_a_refused_transaction_message_is_retried_then_dropped() -> None:
    run = booted(
        config={"TransactionMessageAttempts": "3", "TransactionMessageRetryInterval": "10"}
    )
    station = run.station
    station.plug_in(1, run.now, id_tag="TAG1")
    run.until(30)
    run.cs.refuse["StopTransaction"] = 2
    station.stop_local(1, run.now)
    stopped = run.now
    run.until(60)
    tries = [(s.at - stopped).total_seconds() for s in run.cs.sent if s.action == "StopTransaction"]
    assert tries == [0, 10, 30]  # 10 s x attempt between tries; the third is answered
    assert station.queued == 0

    station.present_id_tag(1, "TAG1", run.now)  # cable still in: a new session
    run.until(30)
    run.cs.refuse["StopTransaction"] = 3
    station.stop_local(1, run.now)
    run.until(120)
    assert len(run.cs.of("StopTransaction")) == 3 + 3
    assert station.queued == 0
    assert any(e.kind == "dropped" for e in station.drain_events())


def local_list(*entries: tuple[str, AuthorizationStatus]) -> SendLocalListRequest:
    return SendLocalListRequest(
        list_version=1,
        update_type=UpdateType.FULL,
        local_authorization_list=[
            AuthorizationData(id_tag=tag, id_tag_info=IdTagInfo(status=status))
            for tag, status in entries
        ],
    )


@pytest.mark.parametrize(
    ("config", "tag", "starts"),
    [
        ({}, "LISTED", True),
        ({}, "BLOCKED", False),
        ({}, "STRANGER", False),
        ({"AllowOfflineTxForUnknownId": "true"}, "STRANGER", True),
        ({"LocalAuthorizeOffline": "false"}, "LISTED", False),
    ],
)
def test_offline_authorization(config: dict[str, str], tag: str, starts: bool) -> None:
    run = booted(config=config)
    run.station.handle_call(
        local_list(
            ("LISTED", AuthorizationStatus.ACCEPTED), ("BLOCKED", AuthorizationStatus.BLOCKED)
        ),
        run.now,
    )
    run.cut()
    run.station.plug_in(1, run.now, id_tag=tag)
    run.until(60)
    assert (run.station.transaction(1) is not None) == starts
    assert (run.station.energy_wh(1) > 0) == starts
    run.restore()
    run.until(10)
    assert len(run.cs.of("StartTransaction")) == int(starts)


def test_local_pre_authorize_skips_authorize_for_a_listed_id_tag() -> None:
    run = booted(config={"LocalPreAuthorize": "true"})
    run.station.handle_call(local_list(("LISTED", AuthorizationStatus.ACCEPTED)), run.now)
    run.station.plug_in(1, run.now, id_tag="LISTED")
    run.station.plug_in(2, run.now, id_tag="OTHER")
    run.until(5)
    assert run.cs.of("Authorize") == [{"idTag": "OTHER"}]
    assert len(run.cs.of("StartTransaction")) == 2


@pytest.mark.parametrize(
    ("stop_on_invalid", "status", "reason"),
    [("true", "Finishing", "DeAuthorized"), ("false", "SuspendedEVSE", None)],
)
def test_an_invalid_id_tag_at_start_means_no_energy(
    stop_on_invalid: str, status: str, reason: str | None
) -> None:
    cs = FakeCentralSystem()
    run = booted(config={"StopTransactionOnInvalidId": stop_on_invalid}, cs=cs)
    run.station.handle_call(local_list(("TAG1", AuthorizationStatus.ACCEPTED)), run.now)
    run.station.config.change("LocalPreAuthorize", "true")
    cs.id_tag_status["TAG1"] = AuthorizationStatus.INVALID  # the list is out of date
    run.station.plug_in(1, run.now, id_tag="TAG1")
    run.until(600)
    assert run.station.status(1) == status
    stops: list[dict[str, Any]] = run.cs.of("StopTransaction")
    assert [s.get("reason") for s in stops] == ([reason] if reason else [])
    assert run.station.power_w(1) == 0
    assert run.station.energy_wh(1) < 11_000 / 3600 * 2  # at most the moment before the answer


def test_unknown_id_tag_is_refused_online_and_nothing_starts() -> None:
    cs = FakeCentralSystem(id_tag_status={"BAD": AuthorizationStatus.BLOCKED})
    run = booted(cs=cs)
    run.station.plug_in(1, run.now, id_tag="BAD")
    run.until(30)
    assert run.cs.of("StartTransaction") == []
    assert run.station.status(1) == "Preparing"
    refusals = [e for e in run.station.drain_events() if e.kind == "refused"]
    assert "Blocked" in refusals[0].detail


def test_statuses_changed_offline_are_reported_after_reconnecting() -> None:
    run = booted()
    run.cut()
    run.station.fault(2, run.now)
    run.until(timedelta(seconds=10).total_seconds())
    run.cs.sent.clear()
    run.restore()
    run.until(1)
    assert [
        (p["connectorId"], p["status"], p["errorCode"]) for p in run.cs.of("StatusNotification")
    ] == [(2, "Faulted", "OtherError")]


def test_while_pending_only_what_a_trigger_message_asks_for_is_sent() -> None:
    cs = FakeCentralSystem(boot=RegistrationStatus.PENDING, boot_interval=600)
    run = booted(cs=cs)
    trigger = TriggerMessageRequest(
        requested_message=MessageTrigger.STATUS_NOTIFICATION, connector_id=1
    )
    assert run.station.handle_call(trigger, run.now).to_dict() == {"status": "Accepted"}
    run.until(60)
    assert run.cs.actions() == ["BootNotification", "StatusNotification"]


@pytest.mark.parametrize(("listed", "starts"), [(True, True), (False, False)])
def test_an_authorize_without_an_answer_is_decided_as_offline(listed: bool, starts: bool) -> None:
    run = booted()
    if listed:
        run.station.handle_call(local_list(("TAG1", AuthorizationStatus.ACCEPTED)), run.now)
    run.cs.refuse["Authorize"] = 1
    run.station.plug_in(1, run.now, id_tag="TAG1")
    run.until(10)
    assert len(run.cs.of("Authorize")) == 1
    assert (run.station.transaction(1) is not None) == starts


def test_every_supported_measurand_passes_the_official_schemas() -> None:
    every = ",".join(m.value for m in SUPPORTED_MEASURANDS)
    run = booted(
        config={
            "MeterValueSampleInterval": "60",
            "MeterValuesSampledData": every,
            "StopTxnSampledData": every,
            "ClockAlignedDataInterval": "300",
            "MeterValuesAlignedData": every,
        }
    )
    run.station.plug_in(1, run.now, id_tag="TAG1", soc=0.5)
    run.until(900)
    run.station.unplug(1, run.now)
    run.until(5)  # every request went through the official validator in the harness
    measurands = {
        v["measurand"]
        for p in run.cs.of("MeterValues")
        for r in p["meterValue"]
        for v in r["sampledValue"]
    }
    assert measurands == set(every.split(","))
    assert run.cs.of("StopTransaction")[0]["transactionData"]
