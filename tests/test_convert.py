"""Wire conversion: spec examples round-trip; every kind of bad input names path, rule and code."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

import ocpp16
from ocpp16 import Model, ValidationError
from ocpp16._convert import format_date_time, parse_date_time

# Payloads as the OCPP 1.6 specification and OCPP-J 1.6 show them (section numbers of the 1.6
# edition 2 text); where the spec abbreviates a date-time without seconds, seconds are added.
SPEC_EXAMPLES: list[tuple[type[Model], dict[str, Any]]] = [
    # OCPP-J 4.2.1 / 4.2.2: the CALL and CALLRESULT examples.
    (
        ocpp16.BootNotificationRequest,
        {"chargePointVendor": "VendorX", "chargePointModel": "SingleSocketCharger"},
    ),
    (
        ocpp16.BootNotificationResponse,
        {"status": "Accepted", "currentTime": "2013-02-01T20:53:32.486Z", "interval": 300},
    ),
    # 3.13.4: a daily recurring TxDefaultProfile limiting to 6 kW in the day.
    (
        ocpp16.SetChargingProfileRequest,
        {
            "connectorId": 0,
            "csChargingProfiles": {
                "chargingProfileId": 100,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Recurring",
                "recurrencyKind": "Daily",
                "chargingSchedule": {
                    "duration": 86400,
                    "startSchedule": "2013-01-01T00:00:00Z",
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 11000},
                        {"startPeriod": 28800, "limit": 6000},
                        {"startPeriod": 72000, "limit": 11000},
                    ],
                },
            },
        },
    ),
    (
        ocpp16.MeterValuesRequest,
        {
            "connectorId": 1,
            "transactionId": 42,
            "meterValue": [
                {
                    "timestamp": "2026-11-24T08:15:00+01:00",
                    "sampledValue": [
                        {
                            "value": "1234.5",
                            "context": "Sample.Periodic",
                            "measurand": "Energy.Active.Import.Register",
                            "unit": "kWh",
                        },
                        {
                            "value": "16.2",
                            "measurand": "Current.Import",
                            "phase": "L1",
                            "unit": "A",
                        },
                    ],
                }
            ],
        },
    ),
    (
        ocpp16.GetConfigurationResponse,
        {
            "configurationKey": [
                {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
                {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
            ],
            "unknownKey": ["FooBar"],
        },
    ),
    (
        ocpp16.StartTransactionResponse,
        {
            "idTagInfo": {"status": "Accepted", "expiryDate": "2027-01-01T00:00:00Z"},
            "transactionId": 7,
        },
    ),
    (ocpp16.HeartbeatRequest, {}),
    (ocpp16.DataTransferRequest, {"vendorId": "com.example", "data": '{"a": 1}'}),
]


@pytest.mark.parametrize(
    ("cls", "payload"), SPEC_EXAMPLES, ids=[c.__name__ for c, _ in SPEC_EXAMPLES]
)
def test_spec_examples_round_trip(cls: type[Model], payload: dict[str, Any]) -> None:
    obj = cls.from_dict(payload)
    assert obj.to_dict() == payload
    assert cls.from_dict(json.loads(json.dumps(obj.to_dict()))) == obj


def test_typed_access_after_parsing() -> None:
    boot = ocpp16.BootNotificationResponse.from_dict(SPEC_EXAMPLES[1][1])
    assert boot.status is ocpp16.RegistrationStatus.ACCEPTED
    assert boot.current_time == datetime(2013, 2, 1, 20, 53, 32, 486000, tzinfo=UTC)
    assert boot.interval == 300


BOOT = {"chargePointVendor": "VendorX", "chargePointModel": "Model"}
METER = {
    "connectorId": 1,
    "meterValue": [{"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [{"value": "1"}]}],
}
PROFILE: dict[str, Any] = SPEC_EXAMPLES[2][1]


def _with(base: dict[str, Any], path: list[str | int], value: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with ``value`` at ``path``; ``...`` as value deletes the key."""
    copy: dict[str, Any] = json.loads(json.dumps(base))
    node: Any = copy
    for step in path[:-1]:
        node = node[step]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return copy


INVALID: list[tuple[str, type[Model], Any, str, str, str]] = [
    # (case, class, payload, path, constraint, code)
    (
        "missing required",
        ocpp16.BootNotificationRequest,
        _with(BOOT, ["chargePointModel"], ...),
        "$.chargePointModel",
        "required",
        "OccurenceConstraintViolation",
    ),
    (
        "missing nested required",
        ocpp16.MeterValuesRequest,
        _with(METER, ["meterValue", 0, "sampledValue", 0, "value"], ...),
        "$.meterValue[0].sampledValue[0].value",
        "required",
        "OccurenceConstraintViolation",
    ),
    (
        "unknown property",
        ocpp16.BootNotificationRequest,
        _with(BOOT, ["colour"], "red"),
        "$.colour",
        "additionalProperties",
        "FormationViolation",
    ),
    (
        "unknown nested property",
        ocpp16.MeterValuesRequest,
        _with(METER, ["meterValue", 0, "extra"], 1),
        "$.meterValue[0].extra",
        "additionalProperties",
        "FormationViolation",
    ),
    (
        "integer for string",
        ocpp16.BootNotificationRequest,
        _with(BOOT, ["chargePointVendor"], 5),
        "$.chargePointVendor",
        "type string",
        "TypeConstraintViolation",
    ),
    (
        "string for integer",
        ocpp16.MeterValuesRequest,
        _with(METER, ["connectorId"], "1"),
        "$.connectorId",
        "type integer",
        "TypeConstraintViolation",
    ),
    (
        "boolean for integer",
        ocpp16.MeterValuesRequest,
        _with(METER, ["connectorId"], True),
        "$.connectorId",
        "type integer",
        "TypeConstraintViolation",
    ),
    (
        "fraction for integer",
        ocpp16.MeterValuesRequest,
        _with(METER, ["connectorId"], 1.5),
        "$.connectorId",
        "type integer",
        "TypeConstraintViolation",
    ),
    (
        "string for boolean",
        ocpp16.GetConfigurationResponse,
        {"configurationKey": [{"key": "k", "readonly": "yes"}]},
        "$.configurationKey[0].readonly",
        "type boolean",
        "TypeConstraintViolation",
    ),
    (
        "object for array",
        ocpp16.MeterValuesRequest,
        _with(METER, ["meterValue"], {"timestamp": "2026-01-01T00:00:00Z"}),
        "$.meterValue",
        "type array",
        "TypeConstraintViolation",
    ),
    (
        "string for array",
        ocpp16.GetConfigurationRequest,
        {"key": "HeartbeatInterval"},
        "$.key",
        "type array",
        "TypeConstraintViolation",
    ),
    (
        "number for object",
        ocpp16.MeterValuesRequest,
        _with(METER, ["meterValue", 0], 3),
        "$.meterValue[0]",
        "type object",
        "TypeConstraintViolation",
    ),
    (
        "string one over maxLength",
        ocpp16.BootNotificationRequest,
        _with(BOOT, ["chargePointVendor"], "x" * 21),
        "$.chargePointVendor",
        "maxLength 20",
        "PropertyConstraintViolation",
    ),
    (
        "array item over maxLength",
        ocpp16.GetConfigurationRequest,
        {"key": ["ok", "k" * 51]},
        "$.key[1]",
        "maxLength 50",
        "PropertyConstraintViolation",
    ),
    (
        "bad enum",
        ocpp16.MeterValuesRequest,
        _with(METER, ["meterValue", 0, "sampledValue", 0, "unit"], "Hz"),
        "$.meterValue[0].sampledValue[0].unit",
        "enum",
        "PropertyConstraintViolation",
    ),
    (
        "enum of the wrong case",
        ocpp16.BootNotificationResponse,
        {"status": "accepted", "currentTime": "2026-01-01T00:00:00Z", "interval": 1},
        "$.status",
        "enum",
        "PropertyConstraintViolation",
    ),
    (
        "date-time without offset",
        ocpp16.MeterValuesRequest,
        _with(METER, ["meterValue", 0, "timestamp"], "2026-01-01T00:00:00"),
        "$.meterValue[0].timestamp",
        "format date-time",
        "PropertyConstraintViolation",
    ),
    (
        "date only",
        ocpp16.HeartbeatResponse,
        {"currentTime": "2026-01-01"},
        "$.currentTime",
        "format date-time",
        "PropertyConstraintViolation",
    ),
    (
        "impossible date",
        ocpp16.HeartbeatResponse,
        {"currentTime": "2026-02-30T00:00:00Z"},
        "$.currentTime",
        "format date-time",
        "PropertyConstraintViolation",
    ),
    (
        "number for date-time",
        ocpp16.HeartbeatResponse,
        {"currentTime": 1700000000},
        "$.currentTime",
        "type string",
        "TypeConstraintViolation",
    ),
    (
        "array below minItems",
        ocpp16.MeterValuesRequest,
        _with(METER, ["meterValue"], []),
        "$.meterValue",
        "minItems 1",
        "OccurenceConstraintViolation",
    ),
    (
        "MeterValues' own bound on the shared MeterValue",
        ocpp16.MeterValuesRequest,
        _with(METER, ["meterValue", 0, "sampledValue"], []),
        "$.meterValue[0].sampledValue",
        "minItems 1",
        "OccurenceConstraintViolation",
    ),
    (
        "not a multiple of 0.1",
        ocpp16.SetChargingProfileRequest,
        _with(
            PROFILE,
            ["csChargingProfiles", "chargingSchedule", "chargingSchedulePeriod", 1, "limit"],
            6.05,
        ),
        "$.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[1].limit",
        "multipleOf 0.1",
        "PropertyConstraintViolation",
    ),
    (
        "payload not an object",
        ocpp16.HeartbeatRequest,
        [],
        "$",
        "type object",
        "FormationViolation",
    ),
]


@pytest.mark.parametrize(
    ("cls", "payload", "path", "constraint", "code"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_invalid_input_names_path_constraint_and_code(
    cls: type[Model], payload: Any, path: str, constraint: str, code: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        cls.from_dict(payload)
    error = caught.value
    assert (error.path, error.constraint, error.code) == (path, constraint, code)
    assert str(error).startswith(f"{path}: violates {constraint}")


def test_decimals_exact_at_one_decimal_are_accepted() -> None:
    payload = _with(
        PROFILE,
        ["csChargingProfiles", "chargingSchedule", "chargingSchedulePeriod", 1, "limit"],
        0.3,
    )
    parsed = ocpp16.SetChargingProfileRequest.from_dict(payload)
    assert parsed.cs_charging_profiles.charging_schedule.charging_schedule_period[1].limit == 0.3


def test_stop_transaction_may_carry_a_meter_value_without_samples() -> None:
    # StopTransaction's schema sets no minItems on sampledValue, MeterValues' sets 1.
    payload = {
        "meterStop": 10,
        "timestamp": "2026-01-01T00:00:00Z",
        "transactionId": 1,
        "transactionData": [{"timestamp": "2026-01-01T00:00:00Z", "sampledValue": []}],
    }
    assert ocpp16.StopTransactionRequest.from_dict(payload).to_dict() == payload


def test_integer_valued_number_is_an_integer() -> None:
    # JSON has one number type; draft-04 validators accept 1.0 as an integer.
    assert ocpp16.MeterValuesRequest.from_dict(_with(METER, ["connectorId"], 1.0)).connector_id == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-24T06:09:00Z", datetime(2026, 11, 24, 6, 9, tzinfo=UTC)),
        ("2026-11-24T06:09:00.5z", datetime(2026, 11, 24, 6, 9, 0, 500000, tzinfo=UTC)),
        (
            "2026-11-24T07:09:00.123456789+01:00",
            datetime(2026, 11, 24, 7, 9, 0, 123456, tzinfo=timezone(timedelta(hours=1))),
        ),
    ],
)
def test_rfc3339_parsing(text: str, expected: datetime) -> None:
    assert parse_date_time(text) == expected


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "2026-01-02T03:04:05Z"),
        (datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC), "2026-01-02T03:04:05.120Z"),
        (datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=UTC), "2026-01-02T03:04:05.000007Z"),
        (
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5))),
            "2026-01-02T03:04:05-05:00",
        ),
    ],
)
def test_rfc3339_formatting(value: datetime, text: str) -> None:
    assert format_date_time(value) == text
    assert parse_date_time(text) == value
