"""Charging profiles: stacking, purposes, recurrence, validity and the composite schedule,
against examples worked out by hand from OCPP 1.6 section 3.13 (expected periods written out)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from ocpp16 import (
    ChargingProfile,
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingProfileStatus,
    ChargingRateUnitType,
    ChargingSchedule,
    ChargingSchedulePeriod,
    ClearChargingProfileStatus,
    RecurrencyKindType,
)
from ocpp16.station.smart import SmartCharging, TxContext
from tests.station.harness import T0

P = ChargingProfilePurposeType
K = ChargingProfileKindType
A = ChargingRateUnitType.A
W = ChargingRateUnitType.W
HOUR = 3600
TX = TxContext(key=1, transaction_id=77, started=T0)


def profile(
    pid: int,
    purpose: P,
    periods: list[tuple[int, float]],
    *,
    stack: int = 0,
    kind: K = K.ABSOLUTE,
    unit: ChargingRateUnitType = A,
    start: datetime | None = T0,
    duration: int | None = None,
    recurrency: RecurrencyKindType | None = None,
    valid_to: datetime | None = None,
) -> ChargingProfile:
    return ChargingProfile(
        charging_profile_id=pid,
        stack_level=stack,
        charging_profile_purpose=purpose,
        charging_profile_kind=kind,
        recurrency_kind=recurrency,
        valid_to=valid_to,
        charging_schedule=ChargingSchedule(
            charging_rate_unit=unit,
            start_schedule=start if kind != K.RELATIVE else None,
            duration=duration,
            charging_schedule_period=[
                ChargingSchedulePeriod(start_period=s, limit=limit) for s, limit in periods
            ],
        ),
    )


def smart() -> SmartCharging:
    # A rating well above every limit below, so that only the profiles shape the schedule.
    return SmartCharging(voltage=230.0, connector_max_w=50_000.0, connectors=2)


def periods(
    sc: SmartCharging,
    start: datetime,
    duration: int,
    unit: ChargingRateUnitType,
    tx: TxContext | None,
) -> list[tuple[int, float]]:
    schedule = sc.composite(1, start, duration, unit, tx)
    return [(p.start_period, p.limit) for p in schedule.charging_schedule_period]


def test_the_highest_stack_level_in_force_wins_and_the_lower_one_returns() -> None:
    sc = smart()
    assert sc.set(1, profile(1, P.TX_DEFAULT_PROFILE, [(0, 32)]), T0, None) == "Accepted"
    higher = profile(
        2, P.TX_DEFAULT_PROFILE, [(0, 16), (HOUR, 10)], stack=1, start=T0 + timedelta(hours=1),
        duration=2 * HOUR,
    )  # fmt: skip
    assert sc.set(1, higher, T0, None) == "Accepted"
    # 0-1 h: only stack 0 (32 A); 1-2 h: stack 1 (16 A); 2-3 h: stack 1 (10 A); then its
    # duration is over and stack 0 is in force again.
    assert periods(sc, T0, 4 * HOUR, A, None) == [(0, 32.0), (HOUR, 16.0), (2 * HOUR, 10.0),
                                                  (3 * HOUR, 32.0)]  # fmt: skip


def test_charge_point_max_caps_the_tx_profile_which_overrides_tx_default() -> None:
    sc = smart()
    sc.set(0, profile(1, P.CHARGE_POINT_MAX_PROFILE, [(0, 20)]), T0, None)
    sc.set(0, profile(2, P.TX_DEFAULT_PROFILE, [(0, 6)]), T0, None)
    tx_profile = profile(3, P.TX_PROFILE, [(0, 32), (1800, 10)], kind=K.RELATIVE)
    assert sc.set(1, tx_profile, T0, TX) == "Accepted"
    # The TxProfile (not the TxDefaultProfile's 6 A) applies, capped at 20 A by the
    # ChargePointMaxProfile, then 10 A from 30 minutes after the transaction started.
    assert periods(sc, T0, HOUR, A, TX) == [(0, 20.0), (1800, 10.0)]
    # Without the transaction the TxDefaultProfile is what a new one would get.
    assert periods(sc, T0, HOUR, A, None) == [(0, 6.0)]
    # The transaction ends: its TxProfile goes with it.
    sc.transaction_ended(TX.key)
    assert periods(sc, T0, HOUR, A, TX) == [(0, 6.0)]


def test_a_daily_recurring_profile_repeats_from_its_start() -> None:
    sc = smart()
    midnight = T0.replace(hour=0)
    daily = profile(
        1, P.TX_DEFAULT_PROFILE, [(0, 32), (8 * HOUR, 16), (18 * HOUR, 32)],
        kind=K.RECURRING, recurrency=RecurrencyKindType.DAILY, start=midnight - timedelta(days=3),
    )  # fmt: skip
    assert sc.set(1, daily, T0, None) == "Accepted"
    six = midnight + timedelta(hours=6)
    # 06:00-08:00 32 A, 08:00-18:00 16 A, 18:00-06:00 the next day 32 A.
    assert periods(sc, six, 24 * HOUR, A, None) == [(0, 32.0), (2 * HOUR, 16.0), (12 * HOUR, 32.0)]


def test_valid_to_ends_a_profile_and_watts_are_reported_in_watts() -> None:
    sc = smart()
    cap = profile(
        1, P.CHARGE_POINT_MAX_PROFILE, [(0, 11_000)], unit=W, valid_to=T0 + timedelta(hours=1)
    )
    assert sc.set(0, cap, T0, None) == "Accepted"
    assert periods(sc, T0, 2 * HOUR, W, None) == [(0, 11_000.0), (HOUR, 50_000.0)]
    assert sc.limit_w(1, T0, None) == 11_000.0
    # In amperes: 11 000 W over 3 phases at 230 V.
    assert periods(sc, T0, HOUR, A, None) == [(0, round(11_000 / 690, 1))]


@pytest.mark.parametrize(
    ("connector", "new", "tx", "status"),
    [
        (1, profile(9, P.CHARGE_POINT_MAX_PROFILE, [(0, 10)]), None, "Rejected"),
        (1, profile(9, P.TX_PROFILE, [(0, 10)]), None, "Rejected"),  # no transaction
        (0, profile(9, P.TX_PROFILE, [(0, 10)]), TX, "Rejected"),
        (1, profile(9, P.TX_DEFAULT_PROFILE, [(0, 10)], stack=11), None, "Rejected"),
        (1, profile(9, P.TX_DEFAULT_PROFILE, [(i, 10) for i in range(25)]), None, "Rejected"),
        (3, profile(9, P.TX_DEFAULT_PROFILE, [(0, 10)]), None, "Rejected"),
        (1, profile(9, P.TX_PROFILE, [(0, 10)]), TX, "Accepted"),
    ],
)
def test_set_charging_profile_refuses_what_the_spec_refuses(
    connector: int, new: ChargingProfile, tx: TxContext | None, status: str
) -> None:
    assert smart().set(connector, new, T0, tx) == ChargingProfileStatus(status)


def test_same_id_or_same_stack_and_purpose_replaces() -> None:
    sc = smart()
    sc.set(1, profile(1, P.TX_DEFAULT_PROFILE, [(0, 10)]), T0, None)
    sc.set(1, profile(1, P.TX_DEFAULT_PROFILE, [(0, 12)], stack=3), T0, None)  # same id
    sc.set(1, profile(2, P.TX_DEFAULT_PROFILE, [(0, 14)], stack=3), T0, None)  # same stack
    assert [(p.profile.charging_profile_id, p.profile.stack_level) for p in sc.profiles] == [(2, 3)]


@pytest.mark.parametrize(
    ("filters", "left", "status"),
    [
        ({"profile_id": 1}, [2, 3], "Accepted"),
        ({"profile_id": 1, "connector_id": 2}, [2, 3], "Accepted"),  # the id alone decides
        ({"connector_id": 0}, [1, 2], "Accepted"),
        ({"purpose": P.TX_DEFAULT_PROFILE, "stack_level": 1}, [1, 3], "Accepted"),
        ({"purpose": P.TX_PROFILE}, [1, 2, 3], "Unknown"),
        ({"profile_id": 42}, [1, 2, 3], "Unknown"),
        ({}, [], "Accepted"),
    ],
)
def test_clear_charging_profile_filters(
    filters: dict[str, Any], left: list[int], status: str
) -> None:
    sc = smart()
    sc.set(1, profile(1, P.TX_DEFAULT_PROFILE, [(0, 10)]), T0, None)
    sc.set(1, profile(2, P.TX_DEFAULT_PROFILE, [(0, 10)], stack=1), T0, None)
    sc.set(0, profile(3, P.CHARGE_POINT_MAX_PROFILE, [(0, 10)]), T0, None)
    args: dict[str, Any] = {"profile_id": None, "connector_id": None, "purpose": None}
    args |= {"stack_level": None} | filters
    result = sc.clear(
        args["profile_id"], args["connector_id"], args["purpose"], args["stack_level"]
    )
    assert result == ClearChargingProfileStatus(status)
    assert sorted(p.profile.charging_profile_id for p in sc.profiles) == left
