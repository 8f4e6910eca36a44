"""The schema constraints of every generated class, as data.

One description, generated from the schemas (``ocpp16/_generated/constraints.py``), from which
codegen also renders each class's parser, validators and serialiser: whatever reads the
constraints (negative-case derivation, documentation, tools) reads these, never the raw schemas.

::

    from ocpp16.constraints import CONSTRAINTS, constraints_of

    meter = constraints_of("MeterValuesRequest")  # or constraints_of(MeterValuesRequest)
    [p.wire for p in meter.properties]  # ['connectorId', 'transactionId', 'meterValue']
    meter.property("meterValue").items.nested  # 'MeterValue'
    CONSTRAINTS["MeterValue"].property("sampledValue").items.nested  # 'SampledValue'

Loading this module builds no message class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["CONSTRAINTS", "ObjectConstraints", "Property", "constraints_of"]

JsonType = Literal["string", "integer", "number", "boolean", "object", "array"]


@dataclass(frozen=True, slots=True)
class Property:
    """One property of an object (or, as ``items``, the elements of an array property).

    ``path`` is the JSON path from the enclosing object (``$.sampledValue``; ``$.key[]`` for the
    items of ``key``). ``nested`` names the generated class of an object value (of the items
    for an array: see ``items``); ``enum`` lists the allowed wire values (errata values
    included), ``enum_class`` names their StrEnum. ``nested_min_items`` are array bounds this
    place adds to the nested type (MeterValues' MeterValue needs a ``sampledValue``, while
    StopTransaction's does not): ``(("sampledValue", 1),)``.
    """

    name: str
    wire: str
    path: str
    type: JsonType
    required: bool
    max_length: int | None = None
    enum: tuple[str, ...] | None = None
    enum_class: str | None = None
    format: str | None = None
    multiple_of: float | None = None
    min_items: int | None = None
    max_items: int | None = None
    nested: str | None = None
    items: Property | None = None
    nested_min_items: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectConstraints:
    """A generated class: ``kind`` is ``request``, ``response`` or ``datatype``; ``action`` is
    empty for data types. Objects never take properties other than ``properties``."""

    name: str
    kind: Literal["request", "response", "datatype"]
    action: str
    properties: tuple[Property, ...]

    def property(self, wire: str) -> Property:
        """The property with wire name ``wire``; KeyError when there is none."""
        for prop in self.properties:
            if prop.wire == wire:
                return prop
        raise KeyError(f"{self.name} has no property {wire!r}")


if TYPE_CHECKING:
    CONSTRAINTS: Mapping[str, ObjectConstraints]


def constraints_of(cls: type | str) -> ObjectConstraints:
    """The constraints of a generated class, given as the class or its name."""
    from ocpp16._generated.constraints import CONSTRAINTS

    return CONSTRAINTS[cls if isinstance(cls, str) else cls.__name__]


def __getattr__(name: str) -> Any:
    # The data loads on first use, after the classes above exist (it is built from them).
    if name == "CONSTRAINTS":
        from ocpp16._generated.constraints import CONSTRAINTS

        return CONSTRAINTS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
