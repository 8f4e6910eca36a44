"""The generated messages: random instances are schema-valid, complete, varied and round-trip."""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import attrs
import pytest

import ocpp16
from ocpp16 import Model
from tests.oracle import MESSAGES, message_id, official_schema, official_validator

SEEDS = range(500)
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z\Z")
Message = tuple[str, bool, type[Model]]


def key_problems(schema: dict[str, Any], payload: Any, full: bool, path: str = "$") -> list[str]:
    """Where ``payload`` has other keys than it should: required only, or every property."""
    problems: list[str] = []
    if schema.get("type") == "object":
        expected = set(schema.get("properties", {})) if full else set(schema.get("required", []))
        if set(payload) != expected:
            problems.append(f"{path}: keys {sorted(payload)} != {sorted(expected)}")
        for key, value in payload.items():
            sub = schema["properties"].get(key, {})
            problems += key_problems(sub, value, full, f"{path}.{key}")
    elif schema.get("type") == "array":
        for index, item in enumerate(payload):
            problems += key_problems(schema["items"], item, full, f"{path}[{index}]")
    return problems


def validate_deep(obj: Any) -> None:
    """Run every attrs validator of ``obj`` and of the objects inside it."""
    if isinstance(obj, Model):
        attrs.validate(obj)  # type: ignore[arg-type]
        for field in attrs.fields(type(obj)):  # type: ignore[arg-type]
            validate_deep(getattr(obj, field.name))
    elif isinstance(obj, list):
        for item in obj:
            validate_deep(item)


@pytest.mark.parametrize("full", [False, True], ids=["required", "full"])
@pytest.mark.parametrize("message", MESSAGES, ids=message_id)
def test_random_payloads_are_valid_complete_and_round_trip(message: Message, full: bool) -> None:
    action, response, cls = message
    validator = official_validator(action, response)
    schema = official_schema(action, response)
    for seed in SEEDS:
        obj = cls.random(full=full, rng=random.Random(seed))
        payload = obj.to_dict()
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]
        assert not errors, f"seed {seed}: {errors}"
        assert not key_problems(schema, payload, full), f"seed {seed}"
        validate_deep(obj)
        wire = json.loads(json.dumps(payload))
        assert cls.from_dict(wire) == obj, f"seed {seed}"


@pytest.mark.parametrize("message", MESSAGES, ids=message_id)
def test_same_seed_same_instance(message: Message) -> None:
    cls = message[2]
    for full in (False, True):
        first = cls.random(full=full, rng=random.Random(42))
        assert cls.random(full=full, rng=random.Random(42)) == first


def _space(schema: dict[str, Any], full: bool, cap: int = 10**6) -> int:
    """How many distinct payloads a schema allows, capped: strings, numbers and date-times
    count as unbounded."""
    kind = schema.get("type")
    if "enum" in schema:
        return len(schema["enum"])
    if kind == "object":
        names = schema.get("properties", {}) if full else schema.get("required", [])
        total = 1
        for name in names:
            total = min(cap, total * _space(schema["properties"][name], full, cap))
        return total
    if kind == "array":
        return cap if _space(schema["items"], full, cap) > 1 or full else 4
    if kind == "boolean":
        return 2
    return cap


@pytest.mark.parametrize("full", [False, True], ids=["required", "full"])
@pytest.mark.parametrize("message", MESSAGES, ids=message_id)
def test_random_payloads_explore_the_space(message: Message, full: bool) -> None:
    action, response, cls = message
    rng = random.Random(7)
    seen = {
        json.dumps(cls.random(full=full, rng=rng).to_dict(), sort_keys=True) for _ in range(200)
    }
    space = _space(official_schema(action, response), full)
    if space > 200:
        assert len(seen) >= 190, f"{len(seen)} distinct payloads of 200"
    elif space <= 10:
        assert len(seen) == space, f"{len(seen)} distinct of {space} possible"
    else:
        assert len(seen) >= space // 2


def _leaves(payload: Any, path: str, into: dict[str, list[Any]]) -> None:
    if isinstance(payload, dict):
        for key, value in payload.items():
            _leaves(value, f"{path}.{key}", into)
    elif isinstance(payload, list):
        into[path + "#size"].append(len(payload))
        for item in payload:
            _leaves(item, path + "[]", into)
    else:
        into[path].append(payload)


@pytest.mark.parametrize("full", [False, True], ids=["required", "full"])
def test_every_leaf_varies(full: bool) -> None:
    """Integers, decimals, timestamps, string lengths, array sizes and enums all vary."""
    now = datetime.now(UTC).isoformat()
    leaves: dict[str, list[Any]] = defaultdict(list)
    rng = random.Random(11)
    for _, _, cls in MESSAGES:
        for _ in range(200):
            _leaves(cls.random(full=full, rng=rng).to_dict(), cls.__name__, leaves)
    assert leaves, "no leaves at all"
    for path, values in leaves.items():
        if path.endswith("#size"):
            assert len(set(values)) >= 3, f"{path}: array sizes {sorted(set(values))}"
            continue
        if all(isinstance(v, bool) for v in values):
            assert set(values) == {True, False}, path
            continue
        if all(isinstance(v, str) and TIMESTAMP.match(v) for v in values):
            assert min(values) < now < max(values), f"{path}: not both past and future"
            continue
        distinct = set(values)
        if path.endswith((".connectorId", ".numberPhases")) and not full:
            assert len(distinct) >= 3, path
        else:
            assert len(distinct) >= 2, f"{path}: always {distinct}"
        if all(isinstance(v, str) for v in values):
            lengths = {len(v) for v in values}
            assert len(lengths) >= 2 or len(distinct) <= 3, f"{path}: one length"
        if all(isinstance(v, int) for v in values):
            assert min(values) >= 0, f"{path}: negative integer"


def test_enum_values_all_occur() -> None:
    """Over a run, every enum value shows up, the errata's units included (in StopTransaction's
    transactionData as in MeterValues: the errata changes the enumeration)."""
    rng = random.Random(3)
    seen: dict[str, set[str]] = defaultdict(set)
    for _, _, cls in MESSAGES:
        for _ in range(300):
            obj = cls.random(full=True, rng=rng)
            stack: list[Any] = [obj]
            while stack:
                item = stack.pop()
                if isinstance(item, list):
                    stack += item
                elif isinstance(item, Model):
                    fields = attrs.fields(type(item))  # type: ignore[arg-type]
                    stack += [getattr(item, f.name) for f in fields]
                elif isinstance(item, Enum):
                    seen[type(item).__name__].add(item.value)
    for enum_name in ocpp16._generated.__all__:
        enum = getattr(ocpp16, enum_name)
        if isinstance(enum, type) and issubclass(enum, Enum):
            expected = {m.value for m in enum}
            assert seen[enum_name] == expected, enum_name


def test_full_fills_arrays_and_required_only_reaches_min_items() -> None:
    sizes = {
        cls.random(full=False, rng=random.Random(s)).to_dict()["meterValue"].__len__()
        for s in range(100)
        for cls in [ocpp16.MeterValuesRequest]
    }
    assert min(sizes) == 1  # minItems 1
    assert max(sizes) == 4
    empty = [
        s
        for s in range(100)
        if not ocpp16.SetChargingProfileRequest.random(
            full=True, rng=random.Random(s)
        ).cs_charging_profiles.charging_schedule.charging_schedule_period
    ]
    assert not empty, "full=True left an array empty"
