"""The rules of every schema constraint, written once, and the construction checks built on them.

A *problem* is what a violation says: where below the value (``""``, or ``"[3]"`` for an array
item), the violated constraint, the OCPP-J error code a receiver answers with, and a detail.
The functions below that build problems are the only place where a constraint's name and code
are spelled; the generated parsers (through ``ocpp16._convert``) and the construction checks
here both use them. Which constraint applies to which field is decided by the generated code,
rendered from one description (``ocpp16.constraints``).

A *check* looks at one value of a constructed object and returns None when it is valid, or a
problem; ``field(check)`` turns it into the attrs validator that names the field's wire name as
a JSON path (``$.chargePointVendor``). Checks return rather than raise so that the valid path
costs one call.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any, Final

import attrs

from ocpp16._text import printable, shorten
from ocpp16.errors import ErrorCode, ValidationError

__all__ = [
    "BOOLEAN",
    "DATE_TIME",
    "FORMATION",
    "INTEGER",
    "MISSING_FIELD",
    "OCCURRENCE",
    "PROPERTY",
    "TENTHS",
    "TYPE",
    "Check",
    "Problem",
    "array",
    "as_integer",
    "bad_date_time",
    "field",
    "instance",
    "is_tenths",
    "json_type",
    "member",
    "min_items_at",
    "not_a_member",
    "not_an_object_payload",
    "not_tenths",
    "optional",
    "string",
    "too_few",
    "too_long",
    "unknown_property",
    "wrong_type",
]

Problem = tuple[str, str, ErrorCode, str]
Check = Callable[[Any], Problem | None]
Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]

# The OCPP-J 1.6 error code of each kind of violation.
TYPE: Final[ErrorCode] = "TypeConstraintViolation"
PROPERTY: Final[ErrorCode] = "PropertyConstraintViolation"
OCCURRENCE: Final[ErrorCode] = "OccurenceConstraintViolation"
FORMATION: Final[ErrorCode] = "FormationViolation"

MISSING_FIELD: Final[Problem] = ("", "required", OCCURRENCE, "missing")


def json_type(value: Any) -> str:
    """The JSON type name of a Python value, for messages such as ``got integer``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _shown(value: Any) -> str:
    # A peer's value inside a message: escaped and cut, so a 1 MB string stays a short line.
    return shorten(printable(repr(value)))


def wrong_type(expected: str, value: Any) -> Problem:
    return ("", f"type {expected}", TYPE, f"got {json_type(value)}")


def too_long(max_length: int, value: str) -> Problem:
    return ("", f"maxLength {max_length}", PROPERTY, f"got {len(value)} characters")


def too_few(min_items: int, count: int) -> Problem:
    return ("", f"minItems {min_items}", OCCURRENCE, f"got {count} items")


def not_a_member(enum: type[Enum], value: Any) -> Problem:
    allowed = ", ".join(str(m.value) for m in enum)
    return ("", "enum", PROPERTY, f"got {_shown(value)}, allowed: {allowed}")


def not_tenths(value: Any) -> Problem:
    return ("", "multipleOf 0.1", PROPERTY, f"got {_shown(value)}")


def bad_date_time(value: Any) -> Problem:
    return ("", "format date-time", PROPERTY, f"got {_shown(value)}")


def unknown_property() -> Problem:
    return ("", "additionalProperties", FORMATION, "not a property of this message")


def not_an_object_payload(value: Any) -> Problem:
    # The payload itself is not an object: the frame is not the PDU's structure.
    return ("", "type object", FORMATION, f"got {json_type(value)}")


def as_integer(value: Any) -> int | None:
    """``value`` as a JSON integer, or None. JSON has one number type: ``5.0`` is the integer 5
    (draft-04 validators agree); ``True`` is not."""
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    return None


def is_tenths(value: float) -> bool:
    """``multipleOf 0.1`` with decimal semantics: 0.3 is one, although 0.3 / 0.1 is not whole."""
    scaled = value * 10
    if scaled - scaled != 0:  # inf or nan
        return False
    return abs(scaled - round(scaled)) <= 1e-9 * max(1.0, abs(scaled))


def field(check: Check) -> Validator:
    """The attrs validator for a field holding values that ``check`` accepts."""

    def validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        problem = check(value)
        if problem is not None:
            suffix, constraint, code, detail = problem
            path = "$." + attribute.metadata["wire"] + suffix
            raise ValidationError(path, constraint, code, detail)

    return validate


def optional(check: Check) -> Check:
    """``None`` (the field is absent) or a value that ``check`` accepts."""

    def check_optional(value: Any) -> Problem | None:
        return None if value is None else check(value)

    return check_optional


def string(max_length: int | None) -> Check:
    def check_string(value: Any) -> Problem | None:
        if type(value) is not str:
            return wrong_type("string", value)
        if max_length is not None and len(value) > max_length:
            return too_long(max_length, value)
        return None

    return check_string


def _integer(value: Any) -> Problem | None:
    return None if type(value) is int else wrong_type("integer", value)


def _tenths(value: Any) -> Problem | None:
    if type(value) is not float and type(value) is not int:
        return wrong_type("number", value)
    return None if is_tenths(value) else not_tenths(value)


def _boolean(value: Any) -> Problem | None:
    return None if type(value) is bool else wrong_type("boolean", value)


def _date_time(value: Any) -> Problem | None:
    if not isinstance(value, datetime):
        return wrong_type("date-time", value)
    if value.utcoffset() is None:
        return ("", "format date-time", PROPERTY, "needs a timezone (an aware datetime)")
    return None


INTEGER: Final[Check] = _integer
TENTHS: Final[Check] = _tenths
BOOLEAN: Final[Check] = _boolean
DATE_TIME: Final[Check] = _date_time


def member(enum: type[Enum]) -> Check:
    names = {m.value: m.name for m in enum}

    def check_member(value: Any) -> Problem | None:
        if type(value) is enum:
            return None
        if isinstance(value, str):
            if value in names:
                hint = f"use {enum.__name__}.{names[value]} rather than the string {value!r}"
                return ("", f"type {enum.__name__}", TYPE, hint)
            return not_a_member(enum, value)
        return wrong_type(enum.__name__, value)

    return check_member


def instance(cls: type) -> Check:
    def check_instance(value: Any) -> Problem | None:
        return None if type(value) is cls else wrong_type(cls.__name__, value)

    return check_instance


def array(item: Check, min_items: int) -> Check:
    def check_array(value: Any) -> Problem | None:
        if type(value) is not list:
            return wrong_type("array", value)
        if len(value) < min_items:
            return too_few(min_items, len(value))
        for index, element in enumerate(value):
            problem = item(element)
            if problem is not None:
                return (f"[{index}]{problem[0]}", *problem[1:])
        return None

    return check_array


def min_items_at(check: Check, attribute: str, wire: str, min_items: int) -> Check:
    """``check``, and at least ``min_items`` items in the object's array ``attribute``: a bound that
    one message puts on a data type shared with messages that do not."""

    def check_bound(value: Any) -> Problem | None:
        problem = check(value)
        if problem is None:
            count = len(getattr(value, attribute))
            if count < min_items:
                return (f".{wire}", *too_few(min_items, count)[1:])
        return problem

    return check_bound
