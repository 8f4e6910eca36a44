"""Every violation, checked against jsonschema (the oracle); from_dict raises the first of them."""

from __future__ import annotations

import copy
import inspect
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import ocpp16._convert
import ocpp16._violations
from ocpp16 import (
    BootNotificationRequest,
    DataTransferRequest,
    HeartbeatRequest,
    InvalidResponse,
    MeterValuesRequest,
    Model,
    SchemaViolations,
    Sender,
    StopTransactionRequest,
    ValidationError,
)
from ocpp16._convert import BAD, Capped, parse
from ocpp16._dispatch import Invalid, receive
from ocpp16._violations import check_payload, describe, violations
from ocpp16.limits import MAX_DESCRIPTION_CHARS, MAX_VIOLATIONS_COUNTED, MAX_VIOLATIONS_LISTED
from tests.oracle import ERRATA_UNITS, MESSAGES, message_id, official_validator

PACKAGE = Path(ocpp16._convert.__file__).parent
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
def test_from_dict_raises_the_first_of_them(message: Message) -> None:
    _, _, cls = message
    for seed in SEEDS:
        rng = random.Random(seed)
        payload = mutate(cls.random(full=True, rng=rng).to_dict(), rng)
        found = [(v.path, v.constraint, v.code, v.detail) for v in violations(payload, cls)]
        if not found:
            cls.from_dict(payload)
            continue
        with pytest.raises(ValidationError) as caught:
            cls.from_dict(payload)
        first = caught.value
        assert (first.path, first.constraint, first.code, first.detail) == found[0], payload


@pytest.mark.parametrize("message", MESSAGES, ids=message_id)
def test_the_fast_path_accepts_exactly_what_the_checking_pass_accepts(message: Message) -> None:
    """_fast (valid input) and _parse (the violations) come from one description: _fast never
    accepts what _parse refuses, and builds the same object when both accept."""
    _, _, cls = message
    for seed in SEEDS:
        rng = random.Random(seed)
        base = cls.random(full=rng.random() < 0.7, rng=rng).to_dict()
        for payload in (base, mutate(base, rng)):
            errs: list[ValidationError] = []
            checked = cls._parse(payload, errs)
            fast = cls._fast(payload)
            if errs:
                assert fast is BAD, payload
                assert checked is BAD
            else:
                assert checked is not BAD
                assert fast is BAD or fast == checked, payload


def test_one_implementation() -> None:
    """Constraints are checked in one generated pass: no cattrs converter, no second walker."""
    sources = {p.name: p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py")}
    assert not [name for name, text in sources.items() if "cattrs" in text]
    assert ocpp16._violations.violations is ocpp16._convert.violations
    own = {
        name
        for name, value in vars(ocpp16._violations).items()
        if inspect.isfunction(value) and value.__module__ == "ocpp16._violations"
    }
    assert own == {"check_payload", "describe"}  # no walker of its own
    # The OCPP-J codes of violations are spelled in _validators only, none on the parsing path.
    parsing = ["_convert.py", "_violations.py", "_model.py"]
    parsing += [p.name for p in (PACKAGE / "_generated").glob("*.py")]
    for name in parsing:
        for code in ("TypeConstraint", "OccurenceConstraint", "PropertyConstraint", "Formation"):
            assert f"{code}Violation" not in sources[name], name
    # "5.0 is the integer 5": one rule, used by every parse.
    assert sum(text.count("is_integer()") for text in sources.values()) == 1


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


@pytest.mark.parametrize("value", [["x"] * 250_000, {"a": "x" * 1_000_000}, [[[["deep"]]]]])
def test_a_string_given_an_array_or_object_is_one_violation_at_its_path(value: Any) -> None:
    payload = {"vendorId": "Acme", "data": value}
    (only,) = violations(payload, DataTransferRequest)
    assert (only.path, only.constraint, only.code) == (
        "$.data",
        "type string",
        "TypeConstraintViolation",
    )
    with pytest.raises(ValidationError) as caught:
        DataTransferRequest.from_dict(payload)
    assert caught.value.path == "$.data"


def test_a_1_mb_call_gets_a_short_callerror() -> None:
    payload = {"vendorId": "Acme", "data": ["x"] * 250_000}
    text = json.dumps([2, "42", "DataTransfer", payload])
    assert len(text) > 1_000_000
    incoming = receive(text, Sender.CP)
    assert isinstance(incoming, Invalid)
    assert incoming.reply.code == "TypeConstraintViolation"
    assert incoming.reply.description == "$.data: violates type string (got array)"
    assert incoming.reply.details == {"path": "$.data", "constraint": "type string"}


def test_a_peers_thousands_of_violations_are_counted_only_so_far() -> None:
    payload = {"vendorId": "Acme", **{f"extra{i}": i for i in range(5000)}}
    incoming = receive(json.dumps([2, "7", "DataTransfer", payload]), Sender.CP)
    assert isinstance(incoming, Invalid)
    description = incoming.reply.description
    assert description.count("violates additionalProperties") == MAX_VIOLATIONS_LISTED
    assert description.endswith(f"; and more (the first {MAX_VIOLATIONS_COUNTED} counted)")
    assert len(violations(payload, DataTransferRequest)) == 5000  # the SDK's check counts all


def test_a_peers_array_of_bad_elements_stops_being_checked_with_complete_paths() -> None:
    bad = {"timestamp": "2016-12-31T23:59:60Z", "sampledValue": [{"value": 1}]}
    payload = {"connectorId": 1, "meterValue": [bad] * 10_000}
    found, errs = parse(payload, MeterValuesRequest, cap=MAX_VIOLATIONS_COUNTED)
    assert found is None
    assert isinstance(errs, Capped) and errs.cut
    assert MAX_VIOLATIONS_COUNTED <= len(errs) < MAX_VIOLATIONS_COUNTED + 3
    assert [e.path for e in errs[:3]] == [
        "$.meterValue[0].timestamp",
        "$.meterValue[0].sampledValue[0].value",
        "$.meterValue[1].timestamp",
    ]
    every = violations(payload, MeterValuesRequest)
    assert len(every) == 20_000
    assert list(map(str, errs)) == list(map(str, every[: len(errs)]))
    small = {"connectorId": 1, "meterValue": [bad] * 3}
    capped = parse(small, MeterValuesRequest, cap=MAX_VIOLATIONS_COUNTED)[1]
    assert list(map(str, capped)) == list(map(str, violations(small, MeterValuesRequest)))


def test_descriptions_are_bounded_and_peer_text_is_escaped() -> None:
    key = "\x1b[31m" + "k" * 100_000
    payload = {"vendorId": "Acme", key: 1, "data": 5}
    found = violations(payload, DataTransferRequest)
    text = describe(found)
    assert len(text) <= MAX_DESCRIPTION_CHARS + 40
    assert "\x1b" not in text
    assert [v.path[:8] for v in found] == ["$.data", "$.\\x1b[3"]
    assert all(len(str(v)) < 1000 for v in found)


@pytest.mark.parametrize("unit", ERRATA_UNITS)
@pytest.mark.parametrize(
    "cls", [MeterValuesRequest, StopTransactionRequest], ids=lambda c: c.__name__
)
def test_errata_units_parse_in_every_message_that_carries_a_unit(
    cls: type[Model], unit: str
) -> None:
    sample = {"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [{"value": "50", "unit": unit}]}
    if cls is MeterValuesRequest:
        payload: dict[str, Any] = {"connectorId": 1, "meterValue": [sample]}
    else:
        payload = {
            "meterStop": 1,
            "timestamp": "2026-01-01T00:00:00Z",
            "transactionId": 1,
            "transactionData": [sample],
        }
    assert violations(payload, cls) == []
    assert cls.from_dict(payload).to_dict() == payload


def test_random_stop_transactions_may_carry_hertz() -> None:
    rng = random.Random(5)
    units = {
        sampled.unit
        for _ in range(400)
        for meter in StopTransactionRequest.random(full=True, rng=rng).transaction_data or []
        for sampled in meter.sampled_value
    }
    assert "Hertz" in units


#: Nothing listens there; nothing may be sent anyway.
DEAD = "ws://127.0.0.1:9/ocpp/CP1"
TEN_THOUSAND = {"vendorId": 5, **{f"extra{i}": i for i in range(9_999)}}


def test_ten_thousand_violations_are_one_bounded_line_everywhere() -> None:
    """The text of SchemaViolations reaches InvalidResponse messages and --param errors: a
    hostile payload's 10,000 violations are counted there, as in a CALLERROR description."""
    found = violations(TEN_THOUSAND, DataTransferRequest)
    assert len(found) == 10_000
    text = str(SchemaViolations(found))
    assert text == describe(found)
    assert text.startswith("$.vendorId: violates type string")
    assert text.endswith(f"; and {10_000 - MAX_VIOLATIONS_LISTED:,} more")
    message = str(InvalidResponse("DataTransfer", SchemaViolations(found), TEN_THOUSAND))
    assert message == f"DataTransfer response is invalid: {text}"
    assert "\n" not in message and len(message) < MAX_DESCRIPTION_CHARS


def test_a_param_with_ten_thousand_violations_is_a_short_one_line_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ocpp16", "send", "DataTransfer", "--param", "-", "--url", DEAD],
        input=json.dumps(TEN_THOUSAND),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and len(done.stderr) < MAX_DESCRIPTION_CHARS + 200
    assert done.stderr.startswith("ocpp16: error: --param for DataTransfer breaks its schema")
    assert "10000 violations" in done.stderr
    assert f"; and {10_000 - MAX_VIOLATIONS_LISTED:,} more" in done.stderr
