"""The generated cases: repeatable, one defect each, valid where they should be, complete."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest

from ocpp16 import ACTIONS
from ocpp16._violations import violations
from ocpp16.conformance.cases import Case, Expect, build_cases
from ocpp16.schemas import load_schema
from tests.oracle import official_validator

CASES = build_cases(seed=3, cs_actions=True)
CP_ACTIONS = [a.name for a in ACTIONS.values() if a.sender.charge_point_sends]


def payload(case: Case) -> Any:
    return json.loads(case.text)[3]


def test_the_same_seed_gives_the_same_cases_and_another_seed_others() -> None:
    assert build_cases(seed=3, cs_actions=True) == CASES
    assert build_cases(seed=4, cs_actions=True) != CASES
    assert len({case.id for case in CASES}) == len(CASES)


def test_every_cp_action_has_positive_and_negative_cases() -> None:
    kinds: dict[str, set[str]] = defaultdict(set)
    for case in CASES:
        kinds[case.action].add(case.kind)
    for action in CP_ACTIONS:
        assert kinds[action] == {"positive", "negative"}, action
    cs_cases = [c for c in CASES if c.action and not ACTIONS[c.action].sender.charge_point_sends]
    assert len(cs_cases) == 18
    assert all(c.codes == ("NotSupported", "NotImplemented") for c in cs_cases)


@pytest.mark.parametrize("case", [c for c in CASES if c.kind == "positive"], ids=lambda c: c.id)
def test_positive_cases_are_valid_for_the_official_schema(case: Case) -> None:
    assert case.expect is Expect.RESULT
    errors = list(official_validator(case.action, False).iter_errors(payload(case)))
    assert not errors, [e.message for e in errors]


NEGATIVE = [c for c in CASES if c.kind == "negative" and c.id.split("/")[1] == "negative"]


@pytest.mark.parametrize("case", NEGATIVE, ids=lambda c: c.id)
def test_negative_cases_carry_exactly_one_defect_where_they_say(case: Case) -> None:
    found = violations(payload(case), ACTIONS[case.action].request)
    path = case.id.split(" ", 1)[1].rsplit(" ", 1)[-1]
    assert [v.path for v in found] == [path]
    assert case.expect is Expect.ERROR
    assert found[0].code in case.codes or found[0].code == "OccurenceConstraintViolation"
    # jsonschema may report one defect under two keywords (type and enum), at one place.
    oracle_errors = list(official_validator(case.action, False).iter_errors(payload(case)))
    assert len({tuple(e.absolute_path) for e in oracle_errors}) == 1


def test_defect_kinds_cover_the_schema() -> None:
    """Each required field missing, each field of the wrong type, each bounded string one over,
    each enum unknown, each date-time bad, each minItems array short."""
    by_action: dict[str, set[str]] = defaultdict(set)
    for case in NEGATIVE:
        by_action[case.action].add(case.id.split("/", 2)[2])
    boot = by_action["BootNotification"]
    for name in ("chargePointVendor", "chargePointModel"):
        assert f"missing $.{name}" in boot
    schema = load_schema("BootNotification")
    for name in schema["properties"]:
        assert f"wrong type $.{name}" in boot
        assert f"over maxLength $.{name}" in boot
    meter = by_action["MeterValues"]
    assert "below minItems $.meterValue" in meter
    assert "below minItems $.meterValue[0].sampledValue" in meter
    assert "bad date-time $.meterValue[0].timestamp" in meter
    assert "unknown enum value $.meterValue[0].sampledValue[0].measurand" in meter
    assert "missing $.meterValue[0].sampledValue[0].value" in meter
    assert "unknown property $.unexpectedProperty" in by_action["Heartbeat"]


def test_positive_cases_reach_boundaries_and_every_enum_value() -> None:
    boundary = next(c for c in CASES if c.id == "BootNotification/positive/boundaries")
    schema = load_schema("BootNotification")["properties"]
    for name, value in payload(boundary).items():
        assert len(value) == schema[name]["maxLength"], name
    status = {
        payload(c)["status"]
        for c in CASES
        if c.action == "StatusNotification" and c.kind == "positive"
    }
    error_codes = {
        payload(c)["errorCode"]
        for c in CASES
        if c.action == "StatusNotification" and c.kind == "positive"
    }
    assert status == set(load_schema("StatusNotification")["properties"]["status"]["enum"])
    assert error_codes == set(load_schema("StatusNotification")["properties"]["errorCode"]["enum"])


def test_frame_cases() -> None:
    frames = {c.id: c for c in CASES if c.kind == "frame"}
    assert frames["frame/unknown message type id"].expect is Expect.SILENCE
    assert frames["frame/CALLRESULT for no CALL"].expect is Expect.SILENCE
    assert frames["frame/unknown action"].codes == ("NotImplemented",)
    long_id = frames["frame/message id over 36 characters"]
    assert long_id.unique_id is not None and len(long_id.unique_id) > 36
    with pytest.raises(ValueError):
        json.loads(frames["frame/malformed JSON"].text)
