"""The generated cases: repeatable, one defect each, valid where they should be, complete."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest

from ocpp16 import ACTIONS
from ocpp16._violations import violations
from ocpp16.conformance.cases import Case, Expect, Mutation, apply_mutation, build_cases
from ocpp16.readings import ERRATA_UNITS, ONE_OR_MORE, errata_values, generic_path
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


def _leaves(value: Any, path: str = "$") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, f"{path}[{i}]")]
    return [(path, value)]


@pytest.mark.parametrize("case", [c for c in CASES if c.kind == "positive"], ids=lambda c: c.id)
def test_positive_cases_are_valid_and_hold_errata_values_only_in_cases_of_their_own(
    case: Case,
) -> None:
    assert case.expect is Expect.RESULT
    errata = [
        (path, value)
        for path, value in _leaves(payload(case))
        if value in errata_values(case.action, path)
    ]
    errors = list(official_validator(case.action, False).iter_errors(payload(case)))
    if case.reading == ERRATA_UNITS.key:
        assert case.mutation is not None
        assert errata == [(case.mutation.path, case.mutation.value)]
        # The `ocpp` package's schemas carry some errata values: at most that one is refused.
        assert all(e.instance == case.mutation.value for e in errors), [e.message for e in errors]
    else:
        assert errata == []  # a first-edition central system accepts it
        assert not errors, [e.message for e in errors]


def test_errata_values_get_a_case_wherever_a_unit_is_carried() -> None:
    errata = {c.id.split("/", 2)[2] for c in CASES if c.reading == ERRATA_UNITS.key}
    assert errata == {
        f"errata {value} {path}"
        for value in ("Celsius", "Hertz")
        for path in (
            "$.meterValue[0].sampledValue[0].unit",
            "$.transactionData[0].sampledValue[0].unit",
        )
    }


NEGATIVE = [c for c in CASES if c.kind == "negative" and c.id.split("/")[1] == "negative"]


@pytest.mark.parametrize("case", NEGATIVE, ids=lambda c: c.id)
def test_negative_cases_carry_exactly_one_defect_where_they_say(case: Case) -> None:
    found = violations(payload(case), ACTIONS[case.action].request)
    path = case.id.split(" ", 1)[1].rsplit(" ", 1)[-1]
    assert case.expect is Expect.ERROR
    assert case.mutation is not None and case.mutation.path == path
    oracle_errors = list(official_validator(case.action, False).iter_errors(payload(case)))
    if case.reading == ONE_OR_MORE.key and not found:
        # A 1..* array of the spec's tables that this schema leaves unbounded: the defect is
        # there, and neither schema reading sees it.
        assert payload(case) == apply_mutation(case.mutation, _base(case))
        assert not oracle_errors
        return
    assert [v.path for v in found] == [path]
    assert found[0].code in case.codes or found[0].code == "OccurenceConstraintViolation"
    # jsonschema may report one defect under two keywords (type and enum), at one place.
    assert len({tuple(e.absolute_path) for e in oracle_errors}) == 1


def _base(case: Case) -> Any:
    """The full payload that ``case``'s text planted its mutation in (the unknown property's)."""
    unknown = next(
        c for c in CASES if c.id == f"{case.action}/negative/unknown property $.unexpectedProperty"
    )
    base = payload(unknown)
    del base["unexpectedProperty"]
    return base


def test_every_1_to_many_array_of_the_spec_gets_an_empty_case() -> None:
    spec = {
        f"{c.action} {generic_path(c.mutation.path)}"
        for c in NEGATIVE
        if c.mutation is not None and c.reading == ONE_OR_MORE.key
    }
    assert spec == set(ONE_OR_MORE.applies_to)


@pytest.mark.parametrize(
    ("mutation", "base", "expected"),
    [
        (Mutation("$.idTag", "missing", (), "delete"), {"idTag": "A"}, {}),
        (Mutation("$.idTag", "missing", (), "delete"), {"other": 1}, None),
        (Mutation("$.a[1].b", "wrong type", (), "set", 5), {"a": [{"b": 1}]}, None),
        (Mutation("$.a[0].b", "wrong type", (), "set", 5), {"a": [{"b": 1}]}, {"a": [{"b": 5}]}),
        (Mutation("$.a", "below minItems", (), "truncate", 0), {"a": [1, 2]}, {"a": []}),
        (Mutation("$.a", "below minItems", (), "truncate", 0), {"a": []}, None),
        (Mutation("$.x", "unknown property", (), "add", "x"), {"a": 1}, {"a": 1, "x": "x"}),
    ],
    ids=[
        "delete",
        "delete absent",
        "index absent",
        "set nested",
        "truncate",
        "already empty",
        "add",
    ],
)
def test_a_mutation_applies_where_its_path_exists_and_leaves_the_base_alone(
    mutation: Mutation, base: Any, expected: Any
) -> None:
    before = json.dumps(base)
    assert apply_mutation(mutation, base) == expected
    assert json.dumps(base) == before


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
