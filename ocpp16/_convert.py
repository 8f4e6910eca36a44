"""Wire JSON <-> generated classes: the runtime side of the generated parsers.

Each generated class has a ``_parse`` (wire object -> instance, straight-line code rendered from
the constraint description) and a ``to_dict``. ``_parse`` never stops at a violation: it lists
every one in document order (fields in schema order, unknown properties last) and returns
``BAD``. :func:`from_dict` raises the first of them, :func:`violations` returns them all: one pass,
so the two can never disagree. In front of it runs ``_fast``, rendered from the same
description: it builds the instance of a valid object or gives up at the first doubt, saying
nothing; only ``_parse`` ever names a violation. The helpers below are what the generated code
calls off its fast path; the names and OCPP-J codes of violations come from ``_validators``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any, Final, TypeVar

from ocpp16 import _validators as _v
from ocpp16._text import printable, shorten
from ocpp16.errors import ValidationError

if TYPE_CHECKING:
    from ocpp16._model import Model

__all__ = [
    "BAD",
    "MISSING",
    "format_date_time",
    "from_dict",
    "parse",
    "parse_date_time",
    "to_dict",
    "violations",
]

M = TypeVar("M", bound="Model")
Errors = list[ValidationError]


class Capped(list[ValidationError]):
    """Violations collected up to about ``cap``: past it, arrays and objects stop being checked
    at their next element (``cut`` then says so), so that a payload with 10,000 bad elements
    costs a receiver no more than ``cap`` of them. The paths of those collected are complete."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap = cap
        self.cut = False


def _full(errs: Errors) -> bool:
    if type(errs) is Capped and len(errs) >= errs.cap:
        errs.cut = True
        return True
    return False


class _Marker:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


#: What a parser returns for a value that breaks its schema (its violations are listed).
BAD: Final[Any] = _Marker("BAD")
#: The value of a property the wire object does not have.
MISSING: Final[Any] = _Marker("MISSING")

# RFC 3339 date-time: full date, "T", time with optional fraction, and a mandatory offset.
# datetime.fromisoformat alone also takes forms that RFC 3339 forbids (no offset, week dates,
# "2026-11-24" without a time).
_RFC3339: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})\Z"
)
_fromisoformat: Final = datetime.fromisoformat


def parse_date_time(text: str) -> datetime:
    """An aware datetime from RFC 3339 text; ValueError when the text is not RFC 3339."""
    size = len(text)
    if (
        ((size == 24 and text[19] == ".") or size == 20)
        and text[-1] == "Z"
        and text[10] == "T"
        and text[4] == "-" == text[7]
        and text[13] == ":" == text[16]
    ):
        # The usual shape (ours among them): the separators are in place and fromisoformat
        # checks every digit, so the regular expression is not needed.
        return _fromisoformat(text)
    if not _RFC3339.match(text):
        raise ValueError("not an RFC 3339 date-time")
    fraction = text.find(".")
    if fraction != -1:
        # Python takes at most 6 fraction digits; RFC 3339 allows any number.
        end = fraction + 1
        while end < len(text) and text[end].isdigit():
            end += 1
        text = text[: fraction + 1] + text[fraction + 1 : end][:6].ljust(6, "0") + text[end:]
    return _fromisoformat(text.upper())


_ZERO: Final = timedelta(0)


def format_date_time(value: datetime) -> str:
    """RFC 3339 text: UTC as ``Z``, milliseconds when there are any, microseconds when needed."""
    # Slicing isoformat() is several times faster than isoformat(timespec=...) or strftime.
    text = value.isoformat()  # 2031-01-14T09:18:04.573000+00:00, or no fraction when whole
    micro = value.microsecond
    end = 19 if micro == 0 else 23 if micro % 1000 == 0 else 26
    if value.tzinfo is UTC or value.utcoffset() == _ZERO:
        return text[:end] + "Z"
    return text[:end] + text[-6:]


# --- entry points -------------------------------------------------------------------------------


def parse(data: Any, cls: type[M], cap: int | None = None) -> tuple[M | None, Errors]:
    """The instance of ``cls`` for the wire payload ``data`` and every violation found on the way
    (the instance is None when there is any); with ``cap``, about that many (see Capped)."""
    errs: Errors = [] if cap is None else Capped(cap)
    if type(data) is not dict:
        _add(errs, "$", _v.not_an_object_payload(data))
        return None, errs
    obj = cls._fast(data)
    if obj is BAD:
        # Something is off: the checking pass says what (or, for 5.0 as an integer, converts).
        obj = cls._parse(data, errs)
    return (None, errs) if errs else (obj, errs)


def from_dict(data: Any, cls: type[M]) -> M:
    """The instance of ``cls`` for ``data``; raises the first violation as ValidationError."""
    if type(data) is dict:
        obj: M = cls._fast(data)
        if obj is not BAD:
            return obj
    found, errs = parse(data, cls)
    if found is None:
        raise errs[0]
    return found


def violations(data: Any, cls: type[Model]) -> Errors:
    """Each schema violation of the wire payload ``data`` as ``cls``, in document order; empty
    when it is valid. The first is what ``from_dict`` raises."""
    return parse(data, cls)[1]


def to_dict(obj: Model) -> dict[str, Any]:
    return obj.to_dict()


# --- what the generated parsers call off their fast path -----------------------------------------


def _add(errs: Errors, path: str, problem: _v.Problem) -> Any:
    suffix, constraint, code, detail = problem
    errs.append(ValidationError(path + suffix, constraint, code, detail))
    return BAD


def missing(errs: Errors, path: str) -> None:
    _add(errs, path, _v.MISSING_FIELD)


def wrong(value: Any, expected: str, errs: Errors, path: str) -> Any:
    return _add(errs, path, _v.wrong_type(expected, value))


def string(value: Any, max_length: int | None, errs: Errors, path: str) -> Any:
    if type(value) is not str:
        return _add(errs, path, _v.wrong_type("string", value))
    if max_length is not None and len(value) > max_length:
        return _add(errs, path, _v.too_long(max_length, value))
    return value


def integer(value: Any, errs: Errors, path: str) -> Any:
    number = _v.as_integer(value)
    return number if number is not None else _add(errs, path, _v.wrong_type("integer", value))


def number(value: Any, errs: Errors, path: str) -> Any:
    kind = type(value)
    if kind is not float:
        if kind is not int:
            return _add(errs, path, _v.wrong_type("number", value))
        try:
            value = float(value)
        except OverflowError:
            return _add(errs, path, _v.not_tenths(value))
    return value if _v.is_tenths(value) else _add(errs, path, _v.not_tenths(value))


def date_time(value: Any, errs: Errors, path: str) -> Any:
    if type(value) is not str:
        return _add(errs, path, _v.wrong_type("string", value))
    try:
        return parse_date_time(value)
    except ValueError:
        return _add(errs, path, _v.bad_date_time(value))


def member(value: Any, enum: type[Enum], errs: Errors, path: str) -> Any:
    if type(value) is not str:
        return _add(errs, path, _v.wrong_type("string", value))
    return _add(errs, path, _v.not_a_member(enum, value))


def nest(errs: Errors, start: int, segment: str) -> None:
    """Put the violations from ``start`` on, found inside a nested value, below ``segment``."""
    for index in range(start, len(errs)):
        errs[index] = errs[index].at("$" + segment)


def objects(
    value: Any,
    parse_item: Callable[[dict[str, Any], Errors], Any],
    min_items: int,
    errs: Errors,
    path: str,
    *,
    site: tuple[tuple[str, str, int], ...] | None,
) -> Any:
    """An array of objects: each parsed, plus the array bounds ``site`` adds to their type."""
    if type(value) is not list:
        return _add(errs, path, _v.wrong_type("array", value))
    start = len(errs)
    if len(value) < min_items:
        _add(errs, path, _v.too_few(min_items, len(value)))
    items = []
    for index, item in enumerate(value):
        if type(item) is not dict:
            items.append(_add(errs, f"{path}[{index}]", _v.wrong_type("object", item)))
            if _full(errs):
                break
            continue
        mark = len(errs)
        parsed = parse_item(item, errs)
        if parsed is BAD:
            nest(errs, mark, f"{path[1:]}[{index}]")
            if _full(errs):
                break
        elif site is not None:
            for attribute, wire, bound in site:
                count = len(getattr(parsed, attribute))
                if count < bound:
                    _add(errs, f"{path}[{index}].{wire}", _v.too_few(bound, count))
        items.append(parsed)
    return items if len(errs) == start else BAD


def strings(value: Any, max_length: int | None, min_items: int, errs: Errors, path: str) -> Any:
    """An array of strings."""
    if type(value) is not list:
        return _add(errs, path, _v.wrong_type("array", value))
    start = len(errs)
    if len(value) < min_items:
        _add(errs, path, _v.too_few(min_items, len(value)))
    for index, item in enumerate(value):
        if type(item) is not str or (max_length is not None and len(item) > max_length):
            string(item, max_length, errs, f"{path}[{index}]")
            if _full(errs):
                break
    return list(value) if len(errs) == start else BAD


def extra(data: dict[str, Any], known: tuple[str, ...], errs: Errors) -> None:
    """A violation for each property of ``data`` the schema does not have."""
    for key in data:
        if key not in known:
            _add(errs, f"$.{shorten(printable(key))}", _v.unknown_property())
            if _full(errs):
                return
