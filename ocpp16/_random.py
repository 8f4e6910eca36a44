"""Random schema-valid values for the generated ``random()`` factories.

Built for speed and variety at once: one ``rng.random()`` call per decision (``randint`` is several
times slower), strings sliced from a fixed pool at a random offset, and every draw reaching its
boundaries (length 1 and exactly maxLength, minItems, the ends of each range). Nothing depends on
the clock, so one seed always gives one instance.
"""

from __future__ import annotations

import random
import string as _string
from datetime import UTC, datetime
from enum import Enum
from typing import Final, TypeVar

__all__ = [
    "DEFAULT_RNG",
    "boolean",
    "count",
    "date_time",
    "decimal_text",
    "integer",
    "member",
    "new_instance",
    "set_slot",
    "string",
    "tenths",
    "uri_text",
]

E = TypeVar("E", bound=Enum)

#: The generator used when a caller passes no ``rng``.
DEFAULT_RNG: Final = random.Random()

# A fixed pool of text: a random slice of it is a random string. Seeded so that the same rng seed
# gives the same strings on every machine and Python version.
_ALPHABET: Final = _string.ascii_letters + _string.digits
_POOL: Final = (
    random.Random(0x0CC916)
    .randbytes(8192)
    .translate(bytes(ord(_ALPHABET[i % len(_ALPHABET)]) for i in range(256)))
    .decode("ascii")
)
_POOL_SPAN: Final = len(_POOL)

# Timestamps from 2015 (OCPP 1.6 was published) to 2035: past and future alike, millisecond steps.
_EPOCH: Final = datetime(2015, 1, 1, tzinfo=UTC)
_EPOCH_S: Final = int(_EPOCH.timestamp())
_SPAN_MS: Final = int((datetime(2035, 12, 31, tzinfo=UTC) - _EPOCH).total_seconds() * 1000)

# Arrays hold minItems to minItems + _EXTRA_ITEMS items.
_EXTRA_ITEMS: Final = 3
# Ranges wider than this are drawn skewed towards their low end (see integer()).
_SKEW_ABOVE: Final = 1_000

#: random() builds instances without running the validators (its values are valid by
#: construction): an empty instance, then each slot set directly.
new_instance: Final = object.__new__
set_slot: Final = object.__setattr__

_members: dict[type[Enum], tuple[Enum, ...]] = {}
_members_except: dict[tuple[type[Enum], tuple[str, ...]], tuple[Enum, ...]] = {}


def string(r: random.Random, max_length: int) -> str:
    """1 to ``max_length`` characters, each length equally likely."""
    length = 1 + int(r.random() * max_length)
    start = int(r.random() * (_POOL_SPAN - length))
    return _POOL[start : start + length]


def integer(r: random.Random, low: int, high: int) -> int:
    """An integer in [low, high]. Wide ranges (ids, meter readings) are skewed so that small and
    large values both occur: uniform draws would almost never give a small one."""
    width = high - low + 1
    if width > _SKEW_ABOVE:
        u = r.random()
        return low + int(u * u * width)
    return low + int(r.random() * width)


def tenths(r: random.Random, low: int, high: int) -> float:
    """A decimal with one digit after the point, between low/10 and high/10 inclusive.

    Exact at one decimal, and where the range allows, chosen so that ``value / 0.1`` is a whole
    float as well: strict validators (jsonschema among them) test ``multipleOf: 0.1`` that way
    and reject 0.3. A few neighbours of the drawn value are tried; when none passes that test
    (a range of one value such as 0.3), the exact decimal is returned anyway.
    """
    if low > high:
        raise ValueError(f"tenths: empty range {low}..{high}")
    width = high - low + 1
    start = int(r.random() * width)
    for step in range(min(width, _TENTHS_TRIES)):
        value = (low + (start + step) % width) / 10
        if value / 0.1 == int(value / 0.1):
            return value
    return (low + start) / 10


# Neighbours tried by tenths(): most values pass at once, and no run of 10 fails.
_TENTHS_TRIES: Final = 10


def boolean(r: random.Random) -> bool:
    return r.random() < 0.5


def date_time(r: random.Random) -> datetime:
    """A UTC timestamp between 2015 and 2035 in whole milliseconds."""
    # Float seconds are exact to well under a microsecond here, so the milliseconds survive.
    return datetime.fromtimestamp(_EPOCH_S + int(r.random() * _SPAN_MS) / 1000, UTC)


def member(r: random.Random, enum: type[E], exclude: tuple[str, ...] = ()) -> E:
    """A member of ``enum`` other than those whose value is in ``exclude``."""
    if exclude:
        key = (enum, exclude)
        members = _members_except.get(key)
        if members is None:
            members = _members_except[key] = tuple(m for m in enum if m.value not in exclude)
    else:
        members = _members.get(enum)
        if members is None:
            members = _members[enum] = tuple(enum)
    return members[int(r.random() * len(members))]  # type: ignore[return-value]


def count(r: random.Random, min_items: int, full: bool) -> int:
    """An array size from the lower bound to 3 more. ``full`` arrays hold at least one item, so
    that every property of the item type shows up."""
    low = max(min_items, 1) if full else min_items
    return low + int(r.random() * (_EXTRA_ITEMS + 1))


def decimal_text(r: random.Random) -> str:
    """A meter reading as text (SampledValue.value): 0 to 999999.999 with 0 to 3 decimals."""
    whole = int(r.random() ** 3 * 1_000_000)
    decimals = int(r.random() * 4)
    if decimals == 0:
        return str(whole)
    return f"{whole}.{int(r.random() * 10**decimals):0{decimals}d}"


_SCHEMES: Final = ("ftp", "ftps", "http", "https", "sftp")


def uri_text(r: random.Random) -> str:
    """An upload or download location: a URI with a random host and path."""
    scheme = _SCHEMES[int(r.random() * len(_SCHEMES))]
    return f"{scheme}://{string(r, 20).lower()}.example.com/{string(r, 40)}"
