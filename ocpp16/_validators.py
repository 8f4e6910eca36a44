"""Schema constraints for the generated classes, raised as ValidationError.

A *check* looks at one value and returns None when it is valid, or a Problem: where below the value
(``""`` or ``"[3]"`` for an array item), the violated constraint, the OCPP-J error code a receiver
answers with, and a detail. ``field(check)`` turns a check into an attrs validator that reports the
field's wire name as a JSON path (``$.chargePointVendor``); ``from_dict`` prefixes the path of the
enclosing objects. Checks return rather than raise so that the valid path costs one call.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any, Final

import attrs

from ocpp16.errors import ErrorCode, ValidationError

__all__ = [
    "BOOLEAN",
    "DATE_TIME",
    "INTEGER",
    "TENTHS",
    "Check",
    "Problem",
    "array",
    "field",
    "instance",
    "json_type",
    "member",
    "min_items_at",
    "optional",
    "string",
]

Problem = tuple[str, str, ErrorCode, str]
Check = Callable[[Any], Problem | None]
Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]

TYPE: Final[ErrorCode] = "TypeConstraintViolation"
PROPERTY: Final[ErrorCode] = "PropertyConstraintViolation"
OCCURRENCE: Final[ErrorCode] = "OccurenceConstraintViolation"


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


def _wrong_type(expected: str, value: Any) -> Problem:
    return ("", f"type {expected}", TYPE, f"got {json_type(value)}")


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
            return _wrong_type("string", value)
        if max_length is not None and len(value) > max_length:
            return ("", f"maxLength {max_length}", PROPERTY, f"got {len(value)} characters")
        return None

    return check_string


def _integer(value: Any) -> Problem | None:
    return None if type(value) is int else _wrong_type("integer", value)


def _tenths(value: Any) -> Problem | None:
    if type(value) is not float and type(value) is not int:
        return _wrong_type("number", value)
    # Decimal semantics: 0.3 is a multiple of 0.1, although 0.3 / 0.1 is not a whole float.
    scaled = value * 10
    if not math.isfinite(scaled) or abs(scaled - round(scaled)) > 1e-9 * max(1.0, abs(scaled)):
        return ("", "multipleOf 0.1", PROPERTY, f"got {value!r}")
    return None


def _boolean(value: Any) -> Problem | None:
    return None if type(value) is bool else _wrong_type("boolean", value)


def _date_time(value: Any) -> Problem | None:
    if not isinstance(value, datetime):
        return _wrong_type("date-time", value)
    if value.utcoffset() is None:
        return ("", "format date-time", PROPERTY, "needs a timezone (an aware datetime)")
    return None


INTEGER: Final[Check] = _integer
TENTHS: Final[Check] = _tenths
BOOLEAN: Final[Check] = _boolean
DATE_TIME: Final[Check] = _date_time


def member(enum: type[Enum]) -> Check:
    values = {m.value: m.name for m in enum}
    allowed = ", ".join(values)

    def check_member(value: Any) -> Problem | None:
        if type(value) is enum:
            return None
        if isinstance(value, str):
            if value in values:
                hint = f"use {enum.__name__}.{values[value]} rather than the string {value!r}"
                return ("", f"type {enum.__name__}", TYPE, hint)
            return ("", "enum", PROPERTY, f"got {str(value)!r}, allowed: {allowed}")
        return _wrong_type(enum.__name__, value)

    return check_member


def instance(cls: type) -> Check:
    def check_instance(value: Any) -> Problem | None:
        return None if type(value) is cls else _wrong_type(cls.__name__, value)

    return check_instance


def array(item: Check, min_items: int) -> Check:
    def check_array(value: Any) -> Problem | None:
        if type(value) is not list:
            return _wrong_type("array", value)
        if len(value) < min_items:
            return ("", f"minItems {min_items}", OCCURRENCE, f"got {len(value)} items")
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
            items = getattr(value, attribute)
            if len(items) < min_items:
                detail = f"got {len(items)} items"
                return (f".{wire}", f"minItems {min_items}", OCCURRENCE, detail)
        return problem

    return check_bound
