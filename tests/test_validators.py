"""Constructing a message validates every schema constraint and names the field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import ocpp16
from ocpp16 import ValidationError

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def boot(**changes: Any) -> ocpp16.BootNotificationRequest:
    fields: dict[str, Any] = {"charge_point_vendor": "Acme", "charge_point_model": "X1"}
    return ocpp16.BootNotificationRequest(**{**fields, **changes})


def test_valid_construction_and_defaults() -> None:
    request = boot()
    assert request.firmware_version is None
    assert request.to_dict() == {"chargePointVendor": "Acme", "chargePointModel": "X1"}


def test_classes_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        ocpp16.BootNotificationRequest("Acme", "X1")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("make", "path", "constraint"),
    [
        (lambda: boot(charge_point_vendor="x" * 21), "$.chargePointVendor", "maxLength 20"),
        (lambda: boot(charge_point_vendor=None), "$.chargePointVendor", "type string"),
        (lambda: boot(imsi=12), "$.imsi", "type string"),
        (
            lambda: ocpp16.HeartbeatResponse(current_time=datetime(2026, 1, 1)),
            "$.currentTime",
            "format date-time",
        ),
        (
            lambda: ocpp16.HeartbeatResponse(current_time="2026-01-01T00:00:00Z"),  # type: ignore[arg-type]
            "$.currentTime",
            "type date-time",
        ),
        (
            lambda: ocpp16.BootNotificationResponse(
                status="Accepted",  # type: ignore[arg-type]
                current_time=NOW,
                interval=10,
            ),
            "$.status",
            "type RegistrationStatus",
        ),
        (
            lambda: ocpp16.BootNotificationResponse(
                status="Yes",  # type: ignore[arg-type]
                current_time=NOW,
                interval=10,
            ),
            "$.status",
            "enum",
        ),
        (
            lambda: ocpp16.MeterValuesRequest(connector_id=1, meter_value=[]),
            "$.meterValue",
            "minItems 1",
        ),
        (
            lambda: ocpp16.MeterValuesRequest(
                connector_id=1,
                meter_value=[{"timestamp": NOW}],  # type: ignore[list-item]
            ),
            "$.meterValue[0]",
            "type MeterValue",
        ),
        (
            lambda: ocpp16.ChargingSchedulePeriod(start_period=0, limit=0.25),
            "$.limit",
            "multipleOf 0.1",
        ),
        (
            lambda: ocpp16.ChargingSchedulePeriod(start_period=True, limit=1.0),
            "$.startPeriod",
            "type integer",
        ),
    ],
    ids=[
        "too long",
        "required None",
        "wrong type",
        "naive datetime",
        "string for datetime",
        "plain string for enum",
        "bad enum",
        "minItems",
        "dict for object",
        "multipleOf",
        "bool for int",
    ],
)
def test_construction_errors_name_the_field(make: Any, path: str, constraint: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make()
    assert (caught.value.path, caught.value.constraint) == (path, constraint)


def test_plain_string_for_enum_says_what_to_use() -> None:
    with pytest.raises(ValidationError, match=r"use RegistrationStatus.ACCEPTED"):
        ocpp16.BootNotificationResponse(status="Accepted", current_time=NOW, interval=1)  # type: ignore[arg-type]


def test_assignment_is_validated_too() -> None:
    request = boot()
    with pytest.raises(ValidationError, match="maxLength 20"):
        request.charge_point_model = "m" * 21
