"""The one table of OCPP 1.6 readings where the sources disagree, and how ``check`` grades them.

The OCPP 1.6 errata sheet (v4.0, 2019) amends the first published JSON schemas, and real central
systems follow either. A tool must accept both readings and must not fail a peer for following
one of them: ``ocpp16 check`` grades a deviation that one reading allows as a warning naming the
reading, never as a failure. Pure data and small lookups: nothing heavy is imported here.

Paths are JSON paths with ``[]`` for "any item" (``$.meterValue[].sampledValue[].unit``); the
lookups take concrete paths as cases carry them (``$.meterValue[0].sampledValue[0].unit``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = [
    "ERRATA_SHEET",
    "ERRATA_UNITS",
    "ONE_OR_MORE",
    "READINGS",
    "Reading",
    "errata_values",
    "first_edition",
    "generic_path",
    "one_or_more",
]

ERRATA_SHEET: Final = "OCPP 1.6 errata sheet v4.0 (2019)"


@dataclass(frozen=True)
class Reading:
    """One point where the sources disagree."""

    key: str  # short name, used in case ids and reports
    what: str  # what the disagreement is
    applies_to: tuple[str, ...]  # "Action $.generic.path" for every place it applies
    values: tuple[str, ...]  # the values concerned (enumeration values; empty for multiplicities)
    #: For each value, the first-edition value that stands in for it where a case must not
    #: depend on the reading (the base payloads of ``check``).
    stand_ins: tuple[str, ...]
    source: str  # where the amended reading comes from
    grading: str  # how ``ocpp16 check`` grades a deviation


#: SampledValue.unit, wherever a message carries a SampledValue.
_UNIT_PATHS: Final = (
    "MeterValues $.meterValue[].sampledValue[].unit",
    "StopTransaction $.transactionData[].sampledValue[].unit",
)

ERRATA_UNITS: Final = Reading(
    key="errata units",
    what=(
        "UnitOfMeasure values the errata adds: Celsius (the first-edition schemas spell it "
        "Celcius) and Hertz (for Measurand Frequency)"
    ),
    applies_to=_UNIT_PATHS,
    values=("Celsius", "Hertz"),
    stand_ins=("Celcius", "Wh"),
    source=f"{ERRATA_SHEET}, UnitOfMeasure; the first-edition JSON schemas have Celcius only",
    grading="a refusal is a warning naming the errata; the base cases send first-edition units",
)

ONE_OR_MORE: Final = Reading(
    key="1..* multiplicity",
    what="arrays the spec's tables give as 1..* while the first-edition schemas carry no minItems",
    applies_to=(
        "MeterValues $.meterValue",
        "MeterValues $.meterValue[].sampledValue",
        "StopTransaction $.transactionData[].sampledValue",
    ),
    values=(),
    stand_ins=(),
    source="OCPP 1.6 spec, tables of MeterValues.req and MeterValue (1..*)",
    grading="accepting an empty array is a warning; refusing it passes",
)

READINGS: Final = (ERRATA_UNITS, ONE_OR_MORE)

_INDEX: Final = re.compile(r"\[\d+\]")


def generic_path(path: str) -> str:
    """``$.meterValue[0].sampledValue[3]`` -> ``$.meterValue[].sampledValue[]``."""
    return _INDEX.sub("[]", path)


def _applies(reading: Reading, action: str, path: str) -> bool:
    return f"{action} {generic_path(path)}" in reading.applies_to


def errata_values(action: str, path: str) -> tuple[str, ...]:
    """The errata-only values of the field at ``path`` of ``action``'s request (or none)."""
    return ERRATA_UNITS.values if _applies(ERRATA_UNITS, action, path) else ()


def first_edition(action: str, path: str, value: object) -> object:
    """``value`` at ``path``, or the first-edition value standing in for it when only the errata
    allows it."""
    if value in errata_values(action, path):
        return ERRATA_UNITS.stand_ins[ERRATA_UNITS.values.index(str(value))]
    return value


def one_or_more(action: str, path: str) -> bool:
    """Whether the spec gives the array at ``path`` of ``action``'s request as 1..*."""
    return _applies(ONE_OR_MORE, action, path)
