"""ocpp16._violations: every violation, checked against jsonschema (the oracle) and from_dict."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from ocpp16 import (
    BootNotificationRequest,
    HeartbeatRequest,
    MeterValuesRequest,
    Model,
    SchemaViolations,
    ValidationError,
)
from ocpp16._violations import check_payload, violations
from tests.oracle import MESSAGES, message_id, official_validator

SEEDS = range(40)
Message = tuple[str, bool, type[Model]]
#: Values a mutation puts somewhere: wrong types, null, too long, not a date-time, not tenths.
STRANGE: list[Any] = [None, 12345, "x" * 600, [], {}, "not-a-date", True, 0.25, "Bogus", -1]


def oracle(action: str, response: bool, payload: Any) -> set[tuple[str, str]]:
    """(JSON path, keyword) of each violation jsonschema finds, in our path notation."""
    found: set[tuple[str, str]] = set()
    for error in official_validator(action, response).iter_errors(payload):
        path = "$" + "".join(
            f"[{step}]" if isinstance(step, int) else f".{step}" for step in error.absolute_path
        )
        if error.validator == "required":
            missing = error.message.split("'")[1]
            found.add((f"{path}.{missing}", "required"))
        elif error.validator == "additionalProperties":
            allowed = set(error.schema.get("properties", {}))
            found |= {(f"{path}.{key}", "additionalProperties") for key in error.instance}
            found -= {(f"{path}.{key}", "additionalProperties") for key in allowed}
        else:
            found.add((path, str(error.validator)))
    typed = {path for path, keyword in found if keyword == "type"}
    # jsonschema goes on to apply enum, additionalProperties, ... to a value of the wrong type;
    # we report the type alone.
    return {(p, k) for p, k in found if k == "type" or not any(_within(p, t) for t in typed)}


def _within(path: str, outer: str) -> bool:
    return path == outer or path.startswith((f"{outer}.", f"{outer}["))


def ours(payload: Any, cls: type[Model]) -> set[tuple[str, str]]:
    return {(v.path, v.constraint.split()[0]) for v in violations(payload, cls)}


def locations(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in a JSON document, depth first."""
    found: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.append((value, key))
            found.extend(locations(item))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.append((value, index))
            found.extend(locations(item))
    return found


def mutate(payload: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """``payload`` broken in one to three places: a value replaced, a key dropped or added."""
    broken = copy.deepcopy(payload)
    for _ in range(rng.randint(1, 3)):
        spots = locations(broken)
        choice = rng.random()
        if not spots or choice < 0.15:
            broken["zzExtra"] = 1
            continue
        container, key = rng.choice(spots)
        if isinstance(container, dict) and choice < 0.35:
            del container[key]
        elif isinstance(container[key], dict) and choice < 0.45:
            container[key]["zzExtra"] = "x"
        else:
            container[key] = copy.deepcopy(rng.choice(STRANGE))
    return broken


@pytest.mark.parametrize("message", MESSAGES, ids=message_id)
def test_valid_payloads_have_no_violations(message: Message) -> None:
    _, _, cls = message
    for seed in range(10):
        for full in (False, True):
            payload = cls.random(full=full, rng=random.Random(seed)).to_dict()
            assert violations(payload, cls) == []
            check_payload(payload, cls)


@pytest.mark.parametrize("message", MESSAGES, ids=message_id)
def test_every_violation_jsonschema_finds_and_no_other(message: Message) -> None:
    action, response, cls = message
    for seed in SEEDS:
        rng = random.Random(seed)
        payload = mutate(cls.random(full=rng.random() < 0.7, rng=rng).to_dict(), rng)
        expected = oracle(action, response, payload)
        assert ours(payload, cls) == expected, payload


@pytest.mark.parametrize("message", MESSAGES, ids=message_id)
def test_from_dict_reports_one_of_them(message: Message) -> None:
    _, _, cls = message
    for seed in SEEDS:
        rng = random.Random(seed)
        payload = mutate(cls.random(full=True, rng=rng).to_dict(), rng)
        found = [(v.path, v.constraint, v.code) for v in violations(payload, cls)]
        if not found:
            cls.from_dict(payload)
            continue
        with pytest.raises(ValidationError) as caught:
            cls.from_dict(payload)
        first = caught.value
        assert (first.path, first.constraint, first.code) in found, payload


def test_violations_come_field_by_field_with_codes() -> None:
    payload = {
        "connectorId": "1",
        "meterValue": [
            {"timestamp": "yesterday", "sampledValue": [{"value": 5, "unit": "Parsec"}]},
            {"sampledValue": [{"value": "1", "phase": None}]},
        ],
        "extra": True,
    }
    assert [(str(v), v.code) for v in violations(payload, MeterValuesRequest)] == [
        ("$.connectorId: violates type integer (got string)", "TypeConstraintViolation"),
        (
            "$.meterValue[0].timestamp: violates format date-time (got 'yesterday')",
            "PropertyConstraintViolation",
        ),
        (
            "$.meterValue[0].sampledValue[0].value: violates type string (got integer)",
            "TypeConstraintViolation",
        ),
        (
            "$.meterValue[0].sampledValue[0].unit: violates enum (got 'Parsec', allowed: Wh, kWh,"
            " varh, kvarh, W, kW, VA, kVA, var, kvar, A, V, K, Celcius, Celsius, Fahrenheit,"
            " Percent, Hertz)",
            "PropertyConstraintViolation",
        ),
        ("$.meterValue[1].timestamp: violates required (missing)", "OccurenceConstraintViolation"),
        (
            "$.meterValue[1].sampledValue[0].phase: violates type string (got null)",
            "TypeConstraintViolation",
        ),
        (
            "$.extra: violates additionalProperties (not a property of this message)",
            "FormationViolation",
        ),
    ]


def test_check_payload_raises_them_all_as_one_validation_error() -> None:
    with pytest.raises(SchemaViolations) as caught:
        check_payload({"chargePointVendor": 7}, BootNotificationRequest)
    error = caught.value
    assert isinstance(error, ValidationError)
    assert (error.path, error.constraint, error.code) == (
        "$.chargePointVendor",
        "type string",
        "TypeConstraintViolation",
    )
    assert str(error) == (
        "$.chargePointVendor: violates type string (got integer);"
        " $.chargePointModel: violates required (missing)"
    )
    assert [v.path for v in error.violations] == ["$.chargePointVendor", "$.chargePointModel"]


@pytest.mark.parametrize("payload", [[], "{}", None, 3])
def test_a_payload_that_is_no_object(payload: Any) -> None:
    (only,) = violations(payload, HeartbeatRequest)
    assert (only.path, only.constraint, only.code) == ("$", "type object", "FormationViolation")


def test_null_for_an_optional_field_is_refused_by_from_dict_too() -> None:
    payload = {"chargePointVendor": "Acme", "chargePointModel": "X1", "iccid": None}
    with pytest.raises(ValidationError, match=r"\$\.iccid: violates type string \(got null\)"):
        BootNotificationRequest.from_dict(payload)
    assert [v.path for v in violations(payload, BootNotificationRequest)] == ["$.iccid"]


def test_meter_values_needs_a_sampled_value() -> None:
    payload = MeterValuesRequest.random(rng=random.Random(1)).to_dict()
    payload["meterValue"][0]["sampledValue"] = []
    found = [(v.path, v.constraint) for v in violations(payload, MeterValuesRequest)]
    assert found == [("$.meterValue[0].sampledValue", "minItems 1")]
