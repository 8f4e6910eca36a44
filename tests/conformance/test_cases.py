"""The generated cases: repeatable, one defect each, valid where they should be, complete."""

from __future__ import annotations

import dataclasses
import json
import random
import subprocess
import sys
import textwrap
from collections import defaultdict
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

import ocpp16.conformance
from ocpp16 import ACTIONS, violations
from ocpp16.conformance.cases import (
    Case,
    Expect,
    Mutation,
    apply_mutation,
    build_cases,
    defects,
    errata_mutations,
)
from ocpp16.constraints import CONSTRAINTS, ObjectConstraints, Property, constraints_of
from ocpp16.readings import ERRATA_UNITS, ONE_OR_MORE, errata_values, generic_path, one_or_more
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
        (Mutation("$.a", "over maxItems", (), "repeat", 3), {"a": [1, 2]}, {"a": [1, 2, 1]}),
        (Mutation("$.a", "over maxItems", (), "repeat", 3), {"a": []}, None),
    ],
    ids=[
        "delete",
        "delete absent",
        "index absent",
        "set nested",
        "truncate",
        "already empty",
        "add",
        "repeat",
        "repeat nothing",
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


# The derivation reads the generated constraint description, never the raw schemas.

CONFORMANCE = Path(ocpp16.conformance.__file__).parent


#: What reading a raw JSON schema looks like in source.
RAW_SCHEMA_WORDS = (
    "ocpp16.schemas",
    "load_schema",
    "schema_text",
    "schema_file",
    '["properties"]',
    '.get("properties"',
    '["items"]',
    '"maxLength"',
    '"minItems"',
    '"enum"',
)


def test_the_conformance_package_does_not_read_the_raw_schemas() -> None:
    """No import of ocpp16.schemas, no schema keywords walked; and at run time, building every
    case opens no JSON file and loads no schema module."""
    for source in CONFORMANCE.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        for raw in RAW_SCHEMA_WORDS:
            assert raw not in text, (source.name, raw)
    script = textwrap.dedent(
        """
        import sys
        opened = []
        sys.addaudithook(lambda event, args: opened.append(str(args[0]))
                         if event == "open" and str(args[0]).endswith(".json") else None)
        sys.modules["ocpp16.schemas"] = None  # importing it now fails
        from ocpp16.conformance.cases import build_cases
        cases = build_cases(seed=5, cs_actions=True)
        assert len(cases) > 200, len(cases)
        assert opened == [], opened
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout == "ok\n", done.stderr


def _described(
    obj: ObjectConstraints, path: str = "$", bounds: tuple[tuple[str, int], ...] = ()
) -> Iterator[tuple[str, Property, int | None]]:
    """(concrete path, property, the minItems its place adds) for every property below ``obj``,
    read from the description as its documentation tells: the oracle of the derivation."""
    for prop in obj.properties:
        here = f"{path}.{prop.wire}"
        yield here, prop, dict(bounds).get(prop.wire)
        nested = prop.nested or (prop.items.nested if prop.items else None)
        if nested:
            below = f"{here}[0]" if prop.type == "array" else here
            yield from _described(CONSTRAINTS[nested], below, prop.nested_min_items)


#: Each defect kind: which described properties carry the constraint it breaks, and the name
#: violations() gives that constraint.
DEFECT_KINDS: dict[str, tuple[Callable[[str, str, Property, int | None], bool], str]] = {
    "missing": (lambda a, path, p, bound: p.required, "required"),
    "wrong type": (lambda a, path, p, bound: True, "type "),
    "over maxLength": (lambda a, path, p, bound: p.max_length is not None, "maxLength "),
    "unknown enum value": (lambda a, path, p, bound: p.enum is not None, "enum"),
    "bad date-time": (lambda a, path, p, bound: p.format == "date-time", "format date-time"),
    "not multipleOf": (lambda a, path, p, bound: p.multiple_of is not None, "multipleOf "),
    # A bound of its own, one that its place adds to a shared type, or a 1..* of the spec's
    # tables (ocpp16.readings) that no schema carries.
    "below minItems": (
        lambda a, path, p, bound: bool(p.min_items or bound or one_or_more(a, path)),
        "minItems ",
    ),
}
#: Fields of Property that are no constraint of their own, or one the kinds above cover.
NOT_CONSTRAINTS = {"name", "wire", "path", "enum_class", "nested", "items", "nested_min_items"}
CONSTRAINT_FIELDS = {
    "required": "missing",
    "type": "wrong type",
    "max_length": "over maxLength",
    "enum": "unknown enum value",
    "format": "bad date-time",
    "multiple_of": "not multipleOf",
    "min_items": "below minItems",
    "max_items": "over maxItems",
}


def _full_payload_with(action: str, path: str) -> Any:
    """A random full request of ``action`` that has ``path`` (arrays may come empty)."""
    for seed in range(50):
        payload = ACTIONS[action].request.random(full=True, rng=random.Random(seed)).to_dict()
        if apply_mutation(Mutation(path, "probe", (), "set", None), payload) is not None:
            return payload
    raise AssertionError(f"no random {action} request has {path}")


def test_every_field_of_the_description_is_a_known_constraint() -> None:
    """A constraint that codegen starts to describe needs its defect case here first."""
    fields = {f.name for f in dataclasses.fields(Property)}
    assert fields == NOT_CONSTRAINTS | set(CONSTRAINT_FIELDS)
    formats = {
        prop.format for obj in CONSTRAINTS.values() for _, prop, _ in _described(obj) if prop.format
    }
    # uri is an annotation: ocpp16 does not check it, so no case pretends it does.
    assert formats == {"date-time", "uri"}
    location = {"location": "not a uri", "retrieveDate": "2026-01-01T00:00:00Z"}
    assert violations(location, ACTIONS["UpdateFirmware"].request) == []


@pytest.mark.parametrize("kind", list(DEFECT_KINDS))
def test_every_constraint_in_the_description_yields_its_defect_case(kind: str) -> None:
    """At every depth of every request (CS→CP ones too): a case for each place the description
    gives the constraint, none elsewhere; planted in a full payload, it is exactly one violation
    of that constraint at that path (or, for a 1..* of the spec's tables alone, none)."""
    carries, constraint = DEFECT_KINDS[kind]
    seen = 0
    for action in ACTIONS:
        expected = {
            path
            for path, prop, bound in _described(constraints_of(f"{action}Request"))
            if carries(action, path, prop, bound)
        }
        mutations = {m.path: m for m in defects(action) if m.kind == kind}
        assert set(mutations) == expected, action
        for path, mutation in mutations.items():
            planted = apply_mutation(mutation, _full_payload_with(action, path))
            found = [(v.path, v.constraint) for v in violations(planted, ACTIONS[action].request)]
            if mutation.reading == ONE_OR_MORE.key and not found:
                continue  # the schema is looser than the spec's table here
            assert len(found) == 1 and found[0][0] == path, (action, path, found)
            assert found[0][1].startswith(constraint), (action, path, found)
        seen += len(expected)
    assert seen > 0  # the description has this kind somewhere


@pytest.mark.parametrize("action", list(ACTIONS))
def test_an_unknown_property_is_planted_in_each_kind_of_object(action: str) -> None:
    """Every OCPP 1.6 object is closed (additionalProperties false): one case per kind of nested
    object the description shows (at the first place it is met), then one at the top; each
    breaks exactly that object's additionalProperties."""
    kinds: dict[str, str] = {}
    for path, prop, _ in _described(constraints_of(f"{action}Request")):
        nested = prop.nested or (prop.items.nested if prop.items else None)
        if nested:
            kinds.setdefault(nested, f"{path}[0]" if prop.type == "array" else path)
    expected = [f"{where}.unexpectedProperty" for where in kinds.values()]
    expected.append("$.unexpectedProperty")
    found = [m for m in defects(action) if m.kind == "unknown property"]
    assert [m.path for m in found] == expected
    for mutation in found:
        payloads = (
            ACTIONS[action].request.random(full=True, rng=random.Random(seed)).to_dict()
            for seed in range(50)
        )
        planted = next(p for p in map(partial(apply_mutation, mutation), payloads) if p)
        violated = [(v.path, v.constraint) for v in violations(planted, ACTIONS[action].request)]
        assert violated == [(mutation.path, "additionalProperties")], (action, violated)


@pytest.mark.parametrize(
    ("action", "kinds"),
    [
        ("MeterValues", ["$.meterValue[0]", "$.meterValue[0].sampledValue[0]"]),
        ("StopTransaction", ["$.transactionData[0]", "$.transactionData[0].sampledValue[0]"]),
        (
            "SetChargingProfile",
            [
                "$.csChargingProfiles",
                "$.csChargingProfiles.chargingSchedule",
                "$.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0]",
            ],
        ),
        ("Heartbeat", []),
    ],
)
def test_nested_unknown_properties_where_the_spec_has_objects(
    action: str, kinds: list[str]
) -> None:
    paths = [m.path for m in defects(action) if m.kind == "unknown property"]
    assert paths == [f"{k}.unexpectedProperty" for k in [*kinds, "$"]]


def test_max_items_yield_their_defect_cases() -> None:
    """No OCPP 1.6 schema has maxItems, so a described one stands in."""
    keys = Property(
        "key",
        "key",
        "$.key",
        "array",
        True,
        max_items=2,
        items=Property("", "", "$.key[]", "string", True, max_length=50),
    )
    bounded = ObjectConstraints("BoundedRequest", "request", "Bounded", (keys,))
    over = [m for m in defects("Bounded", bounded) if m.kind == "over maxItems"]
    assert [(m.path, m.op, m.value) for m in over] == [("$.key", "repeat", 3)]
    assert apply_mutation(over[0], {"key": ["a"]}) == {"key": ["a", "a", "a"]}


def test_the_readings_table_covers_every_errata_value_of_the_description() -> None:
    """The description's enumerations include the errata's units; the readings table names
    every such place, so that they get cases of their own and stay out of other payloads."""
    for action in CP_ACTIONS:
        described = {
            path
            for path, prop, _ in _described(constraints_of(f"{action}Request"))
            if prop.enum and set(ERRATA_UNITS.values) & set(prop.enum)
        }
        for path in described:
            assert errata_values(action, path) == ERRATA_UNITS.values, (action, path)
        errata = {m.path for m in errata_mutations(action)}
        assert errata == described, action
    places = {
        f"{a} {generic_path(p)}"
        for a in CP_ACTIONS
        for p, _, _ in _described(constraints_of(f"{a}Request"))
    }
    for reading in (ERRATA_UNITS, ONE_OR_MORE):
        assert set(reading.applies_to) <= places, reading.key
