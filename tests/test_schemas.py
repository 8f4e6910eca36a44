"""Our OCPP 1.6-J JSON schemas (schemas/) against the copy the `ocpp` package ships.

The files in schemas/ are written by us from the OCPP 1.6 specification. The `ocpp` package's copy
of the official schema set is the reference: every keyword must agree (type, properties, required,
enum with its order, maxLength, minItems, multipleOf, format, additionalProperties, items, nesting),
the top-level title included. Only "$schema" and the annotations "description" and nested "title"
are not compared. Deliberate deviations are listed in DEVIATIONS, and nowhere else.
"""

from __future__ import annotations

import copy
import json
import re
from enum import Enum
from importlib.resources import files
from pathlib import Path
from typing import Any, Final, TypeAlias

import jsonschema
import pytest

JSONValue: TypeAlias = dict[str, "JSONValue"] | list["JSONValue"] | str | int | float | bool | None

ACTIONS: tuple[str, ...] = (
    "Authorize",
    "BootNotification",
    "CancelReservation",
    "ChangeAvailability",
    "ChangeConfiguration",
    "ClearCache",
    "ClearChargingProfile",
    "DataTransfer",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "GetCompositeSchedule",
    "GetConfiguration",
    "GetDiagnostics",
    "GetLocalListVersion",
    "Heartbeat",
    "MeterValues",
    "RemoteStartTransaction",
    "RemoteStopTransaction",
    "ReserveNow",
    "Reset",
    "SendLocalList",
    "SetChargingProfile",
    "StartTransaction",
    "StatusNotification",
    "StopTransaction",
    "TriggerMessage",
    "UnlockConnector",
    "UpdateFirmware",
)
SCHEMA_FILES: tuple[str, ...] = tuple(
    name for action in ACTIONS for name in (f"{action}.json", f"{action}Response.json")
)

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"
OCPP_SCHEMAS = files("ocpp") / "v16" / "schemas"
DRAFT_04 = "http://json-schema.org/draft-04/schema#"

# Deliberate deviations from the ocpp copy: (file name, JSON path) -> reason. The node at the path
# (an object member, written like "$.properties.unit.enum") is removed from both documents before
# they are compared. An entry where ours and ocpp agree is stale and fails
# test_every_deviation_is_used. There are none: keep it empty unless a deviation is decided.
DEVIATIONS: dict[tuple[str, str], str] = {}

# Keys whose value maps names to schemas: their own keys are names, never keywords.
_NAME_MAPS = frozenset({"properties", "patternProperties", "definitions"})
# Keywords not compared ("title" is compared at the top level only).
_NOT_COMPARED = frozenset({"$schema", "title", "description"})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATH_SEGMENT = re.compile(r'\.([A-Za-z_][A-Za-z0-9_]*)|\[("(?:[^"\\]|\\.)*")\]')
_MAX_SHOWN = 200


class _Missing(Enum):
    MISSING = "missing"


MISSING: Final = _Missing.MISSING


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if _IDENTIFIER.fullmatch(key) else f"{path}[{json.dumps(key)}]"


def _show(value: JSONValue) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _same_scalar(ours: JSONValue, theirs: JSONValue) -> bool:
    # Strict: in Python True == 1 and 1 == 1.0, in a schema they are different values.
    return type(ours) is type(theirs) and ours == theirs


def first_difference(
    ours: JSONValue, theirs: JSONValue, path: str = "$", *, names: bool = False
) -> str | None:
    """Describe the first difference between two schema documents, or None if equivalent.

    `names` is true when `ours`/`theirs` map property names to schemas.
    """
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in [*ours, *(key for key in theirs if key not in ours)]:
            if not names and key in _NOT_COMPARED and not (key == "title" and path == "$"):
                continue
            child = _child(path, key)
            if key not in theirs:
                return f"{child} only in ours: {_show(ours[key])}"
            if key not in ours:
                return f"{child} missing in ours, ocpp has: {_show(theirs[key])}"
            diff = first_difference(
                ours[key], theirs[key], child, names=not names and key in _NAME_MAPS
            )
            if diff is not None:
                return diff
        return None
    if isinstance(ours, list) and isinstance(theirs, list):
        nested = any(isinstance(item, dict | list) for item in [*ours, *theirs])
        if nested and len(ours) == len(theirs):
            for index, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
                diff = first_difference(mine, other, f"{path}[{index}]")
                if diff is not None:
                    return diff
            return None
        if len(ours) == len(theirs) and all(
            _same_scalar(mine, other) for mine, other in zip(ours, theirs, strict=True)
        ):
            return None
    elif _same_scalar(ours, theirs):
        return None
    return f"{path} differs: ours {_show(ours)} vs ocpp {_show(theirs)}"


def _parse_path(path: str) -> list[str]:
    """The member names of a deviation path such as '$.properties.unit.enum'."""
    if not path.startswith("$") or path == "$":
        raise ValueError(f"deviation path {path!r} must name a member below '$'")
    keys: list[str] = []
    position = 1
    while position < len(path):
        match = _PATH_SEGMENT.match(path, position)
        if match is None:
            raise ValueError(f"deviation path {path!r}: cannot read from {path[position:]!r}")
        name, quoted = match.groups()
        keys.append(name if name is not None else json.loads(quoted))
        position = match.end()
    return keys


def _pop(document: JSONValue, keys: list[str]) -> JSONValue | _Missing:
    node = document
    for key in keys[:-1]:
        if not isinstance(node, dict) or key not in node:
            return MISSING
        node = node[key]
    if not isinstance(node, dict):
        return MISSING
    return node.pop(keys[-1], MISSING)


def apply_deviations(
    name: str,
    ours: JSONValue,
    theirs: JSONValue,
    table: dict[tuple[str, str], str],
) -> list[str]:
    """Remove the deviating nodes of `name` from both documents; describe the stale entries."""
    stale: list[str] = []
    for (file, path), reason in table.items():
        if file != name:
            continue
        keys = _parse_path(path)
        mine, other = _pop(ours, keys), _pop(theirs, keys)
        if mine is MISSING and other is MISSING:
            stale.append(f"{file}: {path} ({reason}) exists in neither ours nor ocpp")
        elif (
            mine is not MISSING
            and other is not MISSING
            and first_difference(mine, other, path) is None
        ):
            stale.append(f"{file}: {path} ({reason}) is the same in ours and ocpp")
    return stale


def _reject_duplicate_keys(pairs: list[tuple[str, JSONValue]]) -> dict[str, JSONValue]:
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"duplicate keys {duplicates}")
    return dict(pairs)


def _parse(text: str, origin: str) -> JSONValue:
    try:
        document: JSONValue = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except ValueError as error:
        pytest.fail(f"{origin}: not a clean JSON document: {error}")
    return document


def load_ours(name: str) -> JSONValue:
    return _parse((SCHEMAS_DIR / name).read_text(encoding="utf-8"), f"schemas/{name}")


def load_ocpp(name: str) -> JSONValue:
    return _parse((OCPP_SCHEMAS / name).read_text(encoding="utf-8"), f"ocpp v16/schemas/{name}")


def test_schema_directory_holds_exactly_the_56_files() -> None:
    assert len(ACTIONS) == len(set(ACTIONS)) == 28
    assert len(SCHEMA_FILES) == 56
    present = sorted(entry.name for entry in SCHEMAS_DIR.iterdir())
    assert present == sorted(SCHEMA_FILES)


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_matches_ocpp_copy(name: str) -> None:
    ours, theirs = load_ours(name), load_ocpp(name)
    apply_deviations(name, ours, theirs, DEVIATIONS)
    diff = first_difference(ours, theirs)
    if diff is not None:
        pytest.fail(f"{name}: {diff}", pytrace=False)


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_is_valid_draft_04(name: str) -> None:
    schema = load_ours(name)
    assert isinstance(schema, dict)
    assert schema.get("$schema") == DRAFT_04
    jsonschema.Draft4Validator.check_schema(schema)


def test_every_deviation_is_used() -> None:
    problems: list[str] = []
    for (name, path), reason in DEVIATIONS.items():
        if name not in SCHEMA_FILES:
            problems.append(f"{name}: {path} ({reason}): not one of our schema files")
            continue
        entry = {(name, path): reason}
        problems += apply_deviations(name, load_ours(name), load_ocpp(name), entry)
    assert not problems, "stale DEVIATIONS entries:\n" + "\n".join(problems)


def test_first_difference_reports_a_readable_path() -> None:
    base: JSONValue = {
        "title": "XRequest",
        "properties": {
            "unit": {"type": "string", "enum": ["Wh", "kWh"]},
            "title": {"type": "string", "title": "nested annotation"},
        },
        "additionalProperties": False,
    }
    same: Any = copy.deepcopy(base)
    same["properties"]["title"]["title"] = "other annotation"
    assert first_difference(base, same) is None

    enum: Any = copy.deepcopy(base)
    enum["properties"]["unit"]["enum"] = ["kWh", "Wh"]
    assert first_difference(base, enum) == (
        '$.properties.unit.enum differs: ours ["Wh", "kWh"] vs ocpp ["kWh", "Wh"]'
    )

    title: Any = copy.deepcopy(base)
    title["title"] = "XResponse"
    assert first_difference(base, title) == '$.title differs: ours "XRequest" vs ocpp "XResponse"'

    # A property called "title" is a name, not an annotation.
    del same["properties"]["title"]
    assert first_difference(base, same) == (
        '$.properties.title only in ours: {"type": "string", "title": "nested annotation"}'
    )

    loose: Any = copy.deepcopy(base)
    loose["additionalProperties"] = 0
    assert first_difference(base, loose) == "$.additionalProperties differs: ours false vs ocpp 0"
    assert first_difference(loose, base) == "$.additionalProperties differs: ours 0 vs ocpp false"
    assert first_difference({}, {"$schema": "x", "required": ["a"]}) == (
        '$.required missing in ours, ocpp has: ["a"]'
    )


def test_deviations_are_removed_and_stale_ones_reported() -> None:
    ours: JSONValue = {"properties": {"unit": {"enum": ["Wh"]}, "id": {"type": "integer"}}}
    theirs: JSONValue = {
        "properties": {"unit": {"enum": ["Wh", "Hertz"]}, "id": {"type": "integer"}}
    }
    table = {
        ("X.json", "$.properties.unit.enum"): "used: the enums differ",
        ("X.json", "$.properties.id.type"): "stale: both say integer",
        ("X.json", '$["properties"].gone'): "stale: in neither",
        ("Y.json", "$.properties.unit.enum"): "another file",
    }
    stale = apply_deviations("X.json", ours, theirs, table)
    assert stale == [
        "X.json: $.properties.id.type (stale: both say integer) is the same in ours and ocpp",
        'X.json: $["properties"].gone (stale: in neither) exists in neither ours nor ocpp',
    ]
    assert first_difference(ours, theirs) is None
    assert ours == {"properties": {"unit": {}, "id": {}}}
    with pytest.raises(ValueError, match="cannot read"):
        _parse_path("$.properties.unit.enum[0]")
