"""ocpp16.constraints: the generated description says what the official schemas say."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

import ocpp16
from ocpp16 import Model
from ocpp16.constraints import CONSTRAINTS, ObjectConstraints, Property, constraints_of
from tests.oracle import MESSAGES, message_id, official_schema

Message = tuple[str, bool, type[Model]]


def _agrees(
    prop: Property,
    schema: dict[str, Any],
    required: bool,
    where: str,
    site: tuple[tuple[str, int], ...] = (),
) -> None:
    """``prop`` describes ``schema`` (a property's node of the official schema, errata read)."""
    assert prop.required is required, where
    assert prop.type == schema["type"], where
    assert prop.max_length == schema.get("maxLength"), where
    assert prop.format == schema.get("format"), where
    assert prop.multiple_of == schema.get("multipleOf"), where
    assert prop.max_items == schema.get("maxItems"), where
    if "enum" in schema:
        assert prop.enum is not None
        assert set(prop.enum) == set(schema["enum"]), where  # the errata reading of both
        assert prop.enum_class is not None
        enum = getattr(ocpp16, prop.enum_class)
        assert {m.value for m in enum} == set(prop.enum)
    else:
        assert prop.enum is None, where
    if schema["type"] == "object":
        assert prop.nested is not None
        _object_agrees(CONSTRAINTS[prop.nested], schema, where, site or prop.nested_min_items)
    if schema["type"] == "array":
        assert prop.items is not None
        assert prop.items.path == prop.path + "[]"
        _agrees(prop.items, schema["items"], True, where + "[]", prop.nested_min_items)


def _object_agrees(
    described: ObjectConstraints,
    schema: dict[str, Any],
    where: str,
    site: tuple[tuple[str, int], ...] = (),
) -> None:
    properties = schema["properties"]
    assert {p.wire for p in described.properties} == set(properties), where
    assert schema.get("additionalProperties") is False, where  # every object is closed
    bounds = dict(site)
    for prop in described.properties:
        assert prop.path == f"$.{prop.wire}"
        node = properties[prop.wire]
        here = f"{where}.{prop.wire}"
        _agrees(prop, node, prop.wire in schema.get("required", ()), here)
        if prop.type == "array":
            # A shared type takes the loosest bound; the place adds its own back.
            assert max(prop.min_items or 0, bounds.get(prop.wire, 0)) == node.get("minItems", 0)


@pytest.mark.parametrize("message", MESSAGES, ids=message_id)
def test_the_description_matches_the_official_schema(message: Message) -> None:
    action, response, cls = message
    described = constraints_of(cls)
    assert described is constraints_of(cls.__name__)
    assert described.kind == ("response" if response else "request")
    assert described.action == action
    _object_agrees(described, official_schema(action, response), cls.__name__)


def test_every_generated_class_is_described() -> None:
    assert len(CONSTRAINTS) == 56 + 8
    for name, described in CONSTRAINTS.items():
        assert described.name == name
        fields = attrs.fields(getattr(ocpp16, name))
        # Fields put the required ones first; the description keeps the schema's order.
        assert {(f.name, f.metadata["wire"]) for f in fields} == {
            (p.name, p.wire) for p in described.properties
        }


def test_reading_the_description() -> None:
    meter = constraints_of("MeterValuesRequest")
    values = meter.property("meterValue")
    assert (values.type, values.required, values.min_items) == ("array", True, 1)
    assert values.items is not None and values.items.nested == "MeterValue"
    assert values.nested_min_items == (("sampledValue", 1),)
    unit = CONSTRAINTS["SampledValue"].property("unit")
    assert unit.enum is not None and {"Hertz", "Celsius", "Celcius"} <= set(unit.enum)
    with pytest.raises(KeyError, match="no property 'nothing'"):
        meter.property("nothing")
