"""The parts a live view and a driver rely on: snapshots, events, backoff, clock-aligned data,
the power model, the configuration's validation."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from ocpp16 import (
    ChangeConfigurationRequest,
    ChargingProfile,
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingRateUnitType,
    ChargingSchedule,
    ChargingSchedulePeriod,
    GetCompositeScheduleRequest,
    HeartbeatRequest,
    HeartbeatResponse,
    RemoteStartTransactionRequest,
    ReserveNowRequest,
    SetChargingProfileRequest,
    UpdateFirmwareRequest,
)
from ocpp16.errors import InputError
from ocpp16.station import Call, Station, reconnect_delay
from ocpp16.station.config import Configuration
from ocpp16.station.meter import EV, power_drawn
from tests.station.harness import T0, FakeCentralSystem, booted


def test_a_snapshot_shows_each_connector() -> None:
    run = booted()
    run.station.plug_in(1, run.now, id_tag="TAG1", energy_wh=30_000, max_power_w=7_400, soc=0.2)
    run.until(3600)
    zero, one, two = run.station.snapshot()
    assert (zero.connector_id, zero.status, two.status) == (0, "Available", "Available")
    assert one.status == "Charging" and one.transaction_id == 1001 and one.id_tag == "TAG1"
    assert one.power_w == 7_400 and one.session_wh == one.energy_wh == 7_400
    assert one.soc_percent == round((0.2 + 7_400 / 60_000) * 100)


def test_text_from_the_central_system_reaches_events_escaped() -> None:
    run = booted()
    run.station.plug_in(1, run.now)
    run.station.handle_call(
        RemoteStartTransactionRequest(id_tag="\x1b[2Jevil", connector_id=1), run.now
    )
    details = " ".join(e.detail for e in run.station.drain_events())
    assert "\x1b" not in details and "\\x1b[2Jevil" in details


def test_reconnect_delays_grow_with_jitter_up_to_a_ceiling() -> None:
    rng = random.Random(1)
    delays = [reconnect_delay(n, rng) for n in range(12)]
    assert all(0.5 * min(300, 2**n) <= d <= min(300, 2**n) for n, d in enumerate(delays))
    assert delays[-1] <= 300 and delays[0] <= 1


def test_an_ev_that_comes_back_resumes_its_transaction() -> None:
    run = booted(config={"StopTransactionOnEVSideDisconnect": "false"})
    run.station.plug_in(1, run.now, id_tag="TAG1", energy_wh=50_000)
    run.until(60)
    run.station.unplug(1, run.now)
    run.until(60)
    assert run.station.status(1) == "SuspendedEV" and run.cs.of("StopTransaction") == []
    run.station.plug_in(1, run.now, id_tag="TAG1", energy_wh=50_000)
    run.until(60)
    assert run.station.status(1) == "Charging" and len(run.cs.of("StartTransaction")) == 1


def test_clock_aligned_values_and_stop_txn_aligned_data() -> None:
    run = booted(
        config={
            "ClockAlignedDataInterval": "900",
            "MeterValueSampleInterval": "0",
            "StopTxnAlignedData": "Energy.Active.Import.Register",
            "StopTxnSampledData": "",
        }
    )
    run.station.plug_in(1, run.now, id_tag="TAG1", energy_wh=50_000)
    run.until(3600)
    run.station.stop_local(1, run.now)
    run.until(5)
    aligned = [p for p in run.cs.of("MeterValues") if p["connectorId"] == 1]
    stamps = [p["meterValue"][0]["timestamp"] for p in aligned]
    # On the station's clock (the central system's: 09:00 when the run started) at :00, :15 ...
    assert stamps == ["2025-03-01T09:15:00Z", "2025-03-01T09:30:00Z", "2025-03-01T09:45:00Z",
                      "2025-03-01T10:00:00Z"]  # fmt: skip
    assert {p["meterValue"][0]["sampledValue"][0]["context"] for p in aligned} == {"Sample.Clock"}
    assert all("transactionId" in p for p in aligned)
    idle = [p for p in run.cs.of("MeterValues") if p["connectorId"] == 2]
    assert len(idle) == 4 and all("transactionId" not in p for p in idle)
    data = run.cs.of("StopTransaction")[0]["transactionData"]
    assert [d["sampledValue"][0]["context"] for d in data] == ["Sample.Clock"] * 4


def test_a_new_sample_interval_takes_effect_at_once() -> None:
    run = booted(config={"MeterValueSampleInterval": "600"})
    run.station.plug_in(1, run.now, id_tag="TAG1", energy_wh=50_000)
    run.until(100)
    run.station.handle_call(
        ChangeConfigurationRequest(key="MeterValueSampleInterval", value="30"), run.now
    )
    changed = run.now
    run.until(95)
    times = [(s.at - changed).total_seconds() for s in run.cs.sent if s.action == "MeterValues"]
    assert times == [30, 60, 90]


@pytest.mark.parametrize(
    ("ev", "limit", "power"),
    [
        (EV(11_000, 20_000), 22_000, 11_000),  # the EV's maximum
        (EV(11_000, 20_000), 7_400, 7_400),  # the limit in force
        (EV(11_000, 20_000, delivered_wh=20_000), 22_000, 0),  # satisfied
        (EV(11_000, 20_000, soc_start=0.9), 22_000, 11_000 * (1 - 0.5 * 0.85)),  # tapering
        (EV(11_000, 100_000, soc_start=1.0), 22_000, 0),  # full
        (None, 22_000, 0),
    ],
)
def test_power_model(ev: EV | None, limit: float, power: float) -> None:
    assert power_drawn(ev, limit) == pytest.approx(power)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Nope": "1"}, "--config Nope: not a configuration key of this station"),
        (
            {"HeartbeatInterval": "0"},
            "--config HeartbeatInterval=0: expected an integer from 1 to 86400",
        ),
        ({"LocalPreAuthorize": "yes"}, "--config LocalPreAuthorize=yes: expected true or false"),
        (
            {"MeterValuesSampledData": "Volts"},
            "--config MeterValuesSampledData=Volts: 'Volts' is not one of",
        ),
    ],
)
def test_bad_configuration_is_one_clear_line(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match="^" + message.replace("(", r"\(")):
        Configuration(overrides)
    with pytest.raises(InputError):
        Station("CP1", now=T0, config=overrides)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"connectors": 0}, "connectors: expected 1 to 100, got 0"),
        ({"vendor": "V" * 21}, "vendor: at most 20 characters, got 21"),
        ({"now": T0.replace(tzinfo=None)}, "now: needs a timezone"),
    ],
)
def test_bad_station_options_are_one_clear_line(options: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"now": T0} | options
    with pytest.raises(InputError, match="^" + message):
        Station("CP1", **arguments)  # type: ignore[arg-type]


FAR = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_hostile_dates_and_numbers_from_the_central_system_crash_nothing() -> None:
    cs = FakeCentralSystem(boot_interval=10**15)
    run = booted(cs=cs)
    station = run.station
    assert station.config.integer("HeartbeatInterval") == 86400  # clamped
    station.handle_answer(Call(HeartbeatRequest()), HeartbeatResponse(current_time=FAR), run.now)
    assert station.clock(run.now).year == 2025  # not taken
    reserve = ReserveNowRequest(connector_id=1, expiry_date=FAR, id_tag="X", reservation_id=1)
    assert station.handle_call(reserve, run.now).to_dict() == {"status": "Rejected"}
    profile = ChargingProfile(
        charging_profile_id=1,
        stack_level=0,
        charging_profile_purpose=ChargingProfilePurposeType.TX_DEFAULT_PROFILE,
        charging_profile_kind=ChargingProfileKindType.ABSOLUTE,
        charging_schedule=ChargingSchedule(
            charging_rate_unit=ChargingRateUnitType.W,
            start_schedule=FAR,
            charging_schedule_period=[ChargingSchedulePeriod(start_period=10**12, limit=1.0)],
        ),
    )
    request = SetChargingProfileRequest(connector_id=1, cs_charging_profiles=profile)
    assert station.handle_call(request, run.now).to_dict() == {"status": "Rejected"}
    firmware = UpdateFirmwareRequest(location="https://x", retrieve_date=FAR)
    station.handle_call(firmware, run.now)
    composite = GetCompositeScheduleRequest(connector_id=1, duration=10**12)
    answer = station.handle_call(composite, run.now).to_dict()
    assert answer["chargingSchedule"]["duration"] == 31 * 86400
    station.plug_in(1, run.now, id_tag="TAG1")
    run.until(3600)  # the firmware update starts at once, and waits for the transaction to end
    assert [p["status"] for p in run.cs.of("FirmwareStatusNotification")] == [
        "Downloading",
        "Downloaded",
    ]
    assert station.next_wakeup() == run.now + timedelta(seconds=60)  # the next sample, no spin
    station.unplug(1, run.now)
    run.until(60)
    assert [p["status"] for p in run.cs.of("FirmwareStatusNotification")][2:] == [
        "Installing",
        "Installed",
    ]
