"""Wire JSON <-> generated classes, on one cattrs converter.

Each field is bound once to its exact wire name (the ``wire`` metadata the generator writes), so no
case conversion runs at all. Structuring is strict where cattrs is lenient by default (it would
turn ``1`` into ``"1"`` for a str field and a string into a list of characters): every leaf hook
checks the JSON type. cattrs collects failures in exception groups annotated with the attribute
and index they occurred at; :func:`from_dict` folds the first one into a single ValidationError
with its JSON path, constraint and OCPP-J error code.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Final, TypeVar

import attrs
import cattrs
from cattrs.cols import list_structure_factory
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ocpp16._validators import json_type
from ocpp16.errors import ErrorCode, ValidationError

__all__ = ["format_date_time", "from_dict", "json_type_of", "parse_date_time", "to_dict"]

T = TypeVar("T")

TYPE: Final[ErrorCode] = "TypeConstraintViolation"
PROPERTY: Final[ErrorCode] = "PropertyConstraintViolation"
OCCURRENCE: Final[ErrorCode] = "OccurenceConstraintViolation"
FORMATION: Final[ErrorCode] = "FormationViolation"

# RFC 3339 date-time: full date, "T" (or "t"/space is not allowed by JSON Schema), time with
# optional fraction, and a mandatory offset. datetime.fromisoformat alone also takes forms that
# RFC 3339 forbids (no offset, week dates, "2026-11-24" without a time).
_RFC3339: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})\Z"
)


def parse_date_time(text: str) -> datetime:
    """An aware datetime from RFC 3339 text; ValueError when the text is not RFC 3339."""
    if not _RFC3339.match(text):
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    fraction = text.find(".")
    if fraction != -1:
        # Python takes at most 6 fraction digits; RFC 3339 allows any number.
        end = fraction + 1
        while end < len(text) and text[end].isdigit():
            end += 1
        text = text[: fraction + 1] + text[fraction + 1 : end][:6].ljust(6, "0") + text[end:]
    return datetime.fromisoformat(text.upper())


def format_date_time(value: datetime) -> str:
    """RFC 3339 text: UTC as ``Z``, milliseconds when there are any, microseconds when needed."""
    # Slicing isoformat() is several times faster than isoformat(timespec=...) or strftime.
    text = value.isoformat()  # 2031-01-14T09:18:04.573000+00:00, or no fraction when whole
    micro = value.microsecond
    end = 19 if micro == 0 else 23 if micro % 1000 == 0 else 26
    if value.tzinfo is UTC or value.utcoffset() == _ZERO:
        return text[:end] + "Z"
    return text[:end] + text[-6:]


_ZERO: Final = timedelta(0)


class _Defect(Exception):
    """A leaf failure inside cattrs: the constraint and code, path filled in by from_dict."""

    def __init__(self, constraint: str, code: ErrorCode, detail: str) -> None:
        self.constraint = constraint
        self.code: ErrorCode = code
        self.detail = detail
        super().__init__(f"{constraint}: {detail}")


def _wrong_type(expected: str, value: Any) -> _Defect:
    return _Defect(f"type {expected}", TYPE, f"got {json_type(value)}")


def _structure_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise _wrong_type("string", value)
    return value


def _structure_int(value: Any, _: type) -> int:
    if type(value) is not int:
        # JSON has one number type: 5.0 is the integer 5 for JSON Schema draft-04 validators too.
        if type(value) is float and value.is_integer():
            return int(value)
        raise _wrong_type("integer", value)
    return value


def _structure_float(value: Any, _: type) -> float:
    if type(value) is not float:
        if type(value) is not int:
            raise _wrong_type("number", value)
        return float(value)
    return value


def _structure_bool(value: Any, _: type) -> bool:
    if type(value) is not bool:
        raise _wrong_type("boolean", value)
    return value


def _structure_datetime(value: Any, _: type) -> datetime:
    if type(value) is not str:
        raise _wrong_type("string", value)
    try:
        return parse_date_time(value)
    except ValueError:
        raise _Defect("format date-time", PROPERTY, f"got {value!r}") from None


def _enum_hook(enum: type[Enum]) -> Callable[[Any, Any], Enum]:
    # A dict lookup: calling the enum class to look a value up is about 20 times slower.
    members = {member.value: member for member in enum}
    allowed = ", ".join(members)

    def structure_enum(value: Any, _: Any) -> Enum:
        member = members.get(value) if isinstance(value, str) else None
        if member is None:
            if not isinstance(value, str):
                raise _wrong_type("string", value)
            raise _Defect("enum", PROPERTY, f"got {value!r}, allowed: {allowed}")
        return member

    return structure_enum


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(detailed_validation=True, forbid_extra_keys=True)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(float, _structure_float)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_unstructure_hook(datetime, format_date_time)

    def list_hook(target: Any) -> Callable[[Any, Any], list[Any]]:
        inner = list_structure_factory(target, converter)

        def structure_list(value: Any, cls: Any) -> list[Any]:
            if type(value) is not list:
                raise _wrong_type("array", value)
            result: list[Any] = inner(value, cls)
            return result

        return structure_list

    converter.register_structure_hook_factory(_is_list, list_hook)

    def optional_hook(target: Any) -> Callable[[Any, Any], Any]:
        # cattrs takes null for an optional field; the schemas allow null nowhere: an optional
        # field is absent or holds a value of its type.
        (inner_type,) = (arg for arg in typing.get_args(target) if arg is not type(None))
        inner = converter.get_structure_hook(inner_type)
        expected = json_type_of(inner_type)

        def structure_optional(value: Any, _: Any) -> Any:
            if value is None:
                raise _wrong_type(expected, value)
            return inner(value, inner_type)

        return structure_optional

    converter.register_structure_hook_factory(_is_optional, optional_hook)

    def class_structure_hook(cls: type[Any]) -> Callable[[Any, Any], Any]:
        # Registered per enum class: cattrs would dispatch a StrEnum to the str hook.
        for field_type in typing.get_type_hints(cls).values():
            for enum in _enums_in(field_type):
                converter.register_structure_hook(enum, _enum_hook(enum))
        renames = {a.name: override(rename=a.metadata["wire"]) for a in attrs.fields(cls)}
        inner = make_dict_structure_fn(cls, converter, **renames)  # type: ignore[arg-type]

        def structure_object(value: Any, target: Any) -> Any:
            if type(value) is not dict:
                raise _wrong_type("object", value)
            return inner(value, target)

        return structure_object

    def class_unstructure_hook(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
        # StrEnum members would pass through as they are (cattrs dispatches them as str);
        # the wire dict holds their plain values.
        for field_type in typing.get_type_hints(cls).values():
            for enum in _enums_in(field_type):
                converter.register_unstructure_hook(enum, _enum_value)
        renames = {
            a.name: override(rename=a.metadata["wire"], omit_if_default=True)
            for a in attrs.fields(cls)
        }
        return make_dict_unstructure_fn(cls, converter, **renames)  # type: ignore[arg-type]

    converter.register_structure_hook_factory(_is_model, class_structure_hook)
    converter.register_unstructure_hook_factory(_is_model, class_unstructure_hook)
    return converter


def _enum_value(member: Enum) -> Any:
    return member.value


def _enums_in(hint: Any) -> list[type[Enum]]:
    if isinstance(hint, type) and issubclass(hint, Enum):
        return [hint]
    return [e for arg in typing.get_args(hint) for e in _enums_in(arg)]


def _is_model(cls: Any) -> bool:
    return isinstance(cls, type) and attrs.has(cls) and "Model" in {c.__name__ for c in cls.__mro__}


def _is_optional(hint: Any) -> bool:
    args = typing.get_args(hint)
    return len(args) == 2 and type(None) in args


def json_type_of(hint: Any) -> str:
    """The JSON type holding values of the field type ``hint`` (``string`` for ``str | None``)."""
    if _is_optional(hint):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    if _is_list(hint):
        return "array"
    if _is_model(hint):
        return "object"
    names = {bool: "boolean", int: "integer", float: "number"}
    return names.get(hint, "string")  # str, datetime and the StrEnums


def _is_list(cls: Any) -> bool:
    return getattr(cls, "__origin__", None) is list


_converter: Final = _make_converter()
# Hooks by class, looked up once: cattrs' dispatch per call costs as much as a small message.
_unstructure_hooks: dict[type, Callable[[Any], dict[str, Any]]] = {}
_structure_hooks: dict[type, Callable[[Any, Any], Any]] = {}


def to_dict(obj: Any) -> dict[str, Any]:
    cls = type(obj)
    hook = _unstructure_hooks.get(cls)
    if hook is None:
        hook = _unstructure_hooks[cls] = _converter.get_unstructure_hook(cls)
    return hook(obj)


def from_dict(data: Any, cls: type[T]) -> T:
    if type(data) is not dict:
        raise ValidationError("$", "type object", FORMATION, f"got {json_type(data)}")
    hook = _structure_hooks.get(cls)
    if hook is None:
        hook = _structure_hooks[cls] = _converter.get_structure_hook(cls)
    try:
        result: T = hook(data, cls)
        return result
    except (ClassValidationError, IterableValidationError, _Defect, ValidationError) as exc:
        raise _first_defect(exc, "$") from None


def _first_defect(exc: BaseException, path: str) -> ValidationError:
    """Fold the first failure of a cattrs exception tree into one ValidationError."""
    if isinstance(exc, ValidationError):
        return exc.at(path)
    if isinstance(exc, _Defect):
        return ValidationError(path, exc.constraint, exc.code, exc.detail)
    if isinstance(exc, ForbiddenExtraKeysError):
        key = sorted(exc.extra_fields)[0]
        return ValidationError(
            f"{path}.{key}", "additionalProperties", FORMATION, "not a property of this message"
        )
    if isinstance(exc, ClassValidationError | IterableValidationError):
        leaves = exc.exceptions
        # Report extra keys and missing fields before the defects of present values: a field name
        # typed wrong shows up as both, and the extra key is the better clue.
        ordered = sorted(leaves, key=lambda e: not isinstance(e, ForbiddenExtraKeysError))
        first = ordered[0]
        return _first_defect(first, path + _note_path(first, getattr(exc, "cl", None)))
    if isinstance(exc, KeyError):
        return ValidationError(path, "required", OCCURRENCE, "missing")
    return ValidationError(path, "schema", FORMATION, f"{type(exc).__name__}: {exc}")


def _note_path(exc: BaseException, cls: type | None) -> str:
    for note in getattr(exc, "__notes__", ()):
        name = getattr(note, "name", None)
        if name is not None:
            if cls is not None and attrs.has(cls):
                name = getattr(attrs.fields(cls), name).metadata["wire"]
            return f".{name}"
        index = getattr(note, "index", None)
        if index is not None:
            return f"[{index}]"
    return ""
