"""Every way a wire payload breaks its schema, where ``from_dict`` stops at the first.

The walk follows the generated classes: each attrs field's wire name (``metadata["wire"]``) and
type hint say what the JSON must hold; the field's own validator checks the constraints
(``maxLength``, ``multipleOf``, ``minItems``, ...), so the rules live in one place. Values are
converted as ``from_dict`` converts them (enumeration members, RFC 3339 date-times, ``5.0`` as the
integer 5) before their validator runs, and nested objects are built only when all their fields
pass. Messages use the constraint names and OCPP-J error codes of ``from_dict``.

As in ``from_dict``, ``null`` is never taken for an absent optional field: the schemas allow no
``null`` anywhere.
"""

from __future__ import annotations

import types
import typing
from datetime import datetime
from enum import Enum
from typing import Any, Final

import attrs

from ocpp16._convert import json_type_of, parse_date_time
from ocpp16._model import Model
from ocpp16._validators import json_type
from ocpp16.errors import ErrorCode, SchemaViolations, ValidationError

__all__ = ["check_payload", "violations"]

TYPE: Final[ErrorCode] = "TypeConstraintViolation"
PROPERTY: Final[ErrorCode] = "PropertyConstraintViolation"
OCCURRENCE: Final[ErrorCode] = "OccurenceConstraintViolation"
FORMATION: Final[ErrorCode] = "FormationViolation"


class _Bad:
    """The marker of a value that could not be converted (its problems are already listed)."""


_BAD: Final = _Bad()


def violations(payload: Any, cls: type[Model]) -> list[ValidationError]:
    """Each schema violation of the wire ``payload`` as ``cls``; empty when it is valid."""
    found: list[ValidationError] = []
    if type(payload) is not dict:
        found.append(ValidationError("$", "type object", FORMATION, f"got {json_type(payload)}"))
    else:
        _object(payload, cls, "$", found)
    return found


def check_payload(payload: Any, cls: type[Model]) -> None:
    """Raise SchemaViolations listing every violation when ``payload`` is not a valid ``cls``."""
    found = violations(payload, cls)
    if found:
        raise SchemaViolations(found)


_FIELDS: dict[type, tuple[tuple[attrs.Attribute[Any], Any], ...]] = {}


def _fields(cls: type) -> tuple[tuple[attrs.Attribute[Any], Any], ...]:
    """Each attrs field of ``cls`` with its resolved type hint."""
    found = _FIELDS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = _FIELDS[cls] = tuple((f, hints[f.name]) for f in attrs.fields(cls))
    return found


def _object(data: dict[str, Any], cls: type[Any], path: str, found: list[ValidationError]) -> Any:
    ok = True
    values: dict[str, Any] = {}
    fields = _fields(cls)
    for field, hint in fields:
        wire = field.metadata["wire"]
        where = f"{path}.{wire}"
        if wire not in data:
            if field.default is attrs.NOTHING:
                found.append(ValidationError(where, "required", OCCURRENCE, "missing"))
                ok = False
            continue
        value = _value(data[wire], hint, where, found)
        if value is _BAD:
            ok = False
        elif _check(field, value, path, found):
            values[field.name] = value
        else:
            ok = False
    known = {field.metadata["wire"] for field, _ in fields}
    for key in data:
        if key not in known:
            found.append(
                ValidationError(
                    f"{path}.{key}",
                    "additionalProperties",
                    FORMATION,
                    "not a property of this message",
                )
            )
            ok = False
    return cls(**values) if ok else _BAD


def _check(
    field: attrs.Attribute[Any], value: Any, path: str, found: list[ValidationError]
) -> bool:
    """Run the field's validator on its converted value; False (and listed) when it fails."""
    if field.validator is None:
        return True
    if type(value) is list and value:
        # The validator of an array stops at its first bad item: check items one by one.
        wire = field.metadata["wire"]
        ok = True
        for index, item in enumerate(value):
            if item is _BAD:
                ok = False
                continue
            try:
                field.validator(None, field, [item])
            except ValidationError as exc:
                # The validator saw a one-item array: its path starts "$.<wire>[0]".
                rest = exc.path[len(f"$.{wire}[0]") :]
                at = f"{path}.{wire}[{index}]{rest}"
                found.append(ValidationError(at, exc.constraint, exc.code, exc.detail))
                ok = False
        if not ok:
            return False
    try:
        field.validator(None, field, value)
    except ValidationError as exc:
        found.append(exc.at(path))
        return False
    return True


def _value(value: Any, hint: Any, path: str, found: list[ValidationError]) -> Any:
    """``value`` converted to the Python type ``hint``, or _BAD with its problems listed."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    problem = _type_problem(value, hint)
    if problem is not None:
        found.append(ValidationError(path, problem, TYPE, f"got {json_type(value)}"))
        return _BAD
    if attrs.has(hint):
        return _object(value, hint, path, found)
    if typing.get_origin(hint) is list:
        (item,) = typing.get_args(hint)
        # Items that failed stay in as _BAD: _check still checks the others.
        return [_value(v, item, f"{path}[{i}]", found) for i, v in enumerate(value)]
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(value)
        except ValueError:
            allowed = ", ".join(m.value for m in hint)
            detail = f"got {value!r}, allowed: {allowed}"
            found.append(ValidationError(path, "enum", PROPERTY, detail))
            return _BAD
    if hint is datetime:
        try:
            return parse_date_time(value)
        except ValueError:
            found.append(ValidationError(path, "format date-time", PROPERTY, f"got {value!r}"))
            return _BAD
    if hint is int and type(value) is float and value.is_integer():
        return int(value)  # JSON has one number type: 5.0 is the integer 5, as in from_dict
    return value  # str, int, float, bool: the field's validator checks the type


def _type_problem(value: Any, hint: Any) -> str | None:
    """``type <json type>`` when ``value`` is not even of the JSON type ``hint`` needs."""
    if attrs.has(hint):
        return None if type(value) is dict else "type object"
    if typing.get_origin(hint) is list:
        return None if type(value) is list else "type array"
    if hint is datetime or (isinstance(hint, type) and issubclass(hint, Enum)):
        return None if type(value) is str else "type string"
    if value is None:
        # The field's validator would take None for "absent"; on the wire it is a wrong type.
        return f"type {json_type_of(hint)}"
    return None
