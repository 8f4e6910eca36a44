"""The cases of a conformance check, derived from the constraint description: positive and negative.

Positive cases send valid CALLs (required fields only, every field, boundary values, every enum
value over the run) and expect a valid CALLRESULT. Negative cases each carry exactly one defect
and expect a CALLERROR with the fitting OCPP 1.6 code; frame-level cases break the OCPP-J framing
itself. The same seed gives the same cases.

A negative case is a :class:`Mutation` (one defect at one path), so that it tests its defect and
nothing else: the runner plants it in a payload that the central system accepted earlier in the
run (:func:`apply_mutation`); the case's ``text`` shows it planted in a random full payload.
Values that only the errata sheet allows (:mod:`ocpp16.readings`) are planted the same way, in
cases of their own, and kept out of every other payload. Derivation (which mutations exist, at
which paths: :func:`defects`, :func:`errata_mutations`; boundaries and enum values of positive
cases) reads the generated constraint description (:mod:`ocpp16.constraints`), the one that the
parsers are rendered from, never the raw schemas; application (:func:`apply_mutation`) reads the
payload alone. Which values and arrays depend on a reading of the spec is decided by
:mod:`ocpp16.readings`: the description's enumerations include the errata's values, and this
module keeps them out of ordinary payloads.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from enum import StrEnum
from typing import Any, Final

import attrs

from ocpp16._action import Action
from ocpp16._generated.actions import ACTIONS
from ocpp16.constraints import CONSTRAINTS, ObjectConstraints, Property, constraints_of
from ocpp16.errors import ErrorCode
from ocpp16.frames import CALL, CALLRESULT
from ocpp16.readings import ERRATA_UNITS, ONE_OR_MORE, errata_values, first_edition, one_or_more

__all__ = [
    "Case",
    "Expect",
    "Mutation",
    "apply_mutation",
    "build_cases",
    "defects",
    "errata_mutations",
    "frame_cases",
    "planted_text",
]

JSON = dict[str, Any]


class Expect(StrEnum):
    """What a conforming central system does with a case."""

    RESULT = "result"  # a CALLRESULT valid for the response schema
    ERROR = "error"  # a CALLERROR, ideally with one of the fitting codes
    SILENCE = "silence"  # nothing, and the connection stays open


@attrs.frozen
class Mutation:
    """One change to plant in a valid payload: a defect, or a value only one reading allows."""

    path: str  # "$.meterValue[0].sampledValue"; "[0]" stands for the first item
    kind: str  # "missing", "wrong type", ..., "errata Hertz"
    codes: tuple[str, ...]  # the fitting CALLERROR codes (none for an errata value)
    #: "set" (replace the value at path), "delete", "truncate" (keep ``value`` items), "repeat"
    #: (repeat the items up to ``value`` of them), "add" (a property the parent object lacks).
    op: str
    value: Any = None
    reading: str = ""  # the key of the reading (ocpp16.readings) this depends on, if any


@attrs.frozen
class Case:
    """One frame to send and what should come back."""

    id: str  # stable across runs with the same seed: "Authorize/negative/missing $.idTag"
    action: str  # the action under test ("" for frame-level cases)
    kind: str  # "positive", "negative" or "frame"
    title: str
    expect: Expect
    #: The text sent as one WebSocket message (usually a CALL frame). For a case with a
    #: mutation: the mutation planted in a random full payload ("" when it has no such path).
    text: str
    unique_id: str | None = None
    #: For Expect.ERROR: the OCPP 1.6 codes that fit the defect; the first is the usual one.
    codes: tuple[str, ...] = ()
    #: Planted at run time in a payload of ``action`` that the central system accepted.
    mutation: Mutation | None = None

    @property
    def reading(self) -> str:
        return "" if self.mutation is None else self.mutation.reading


#: CALLERROR codes that fit a defect, the usual one first.
Codes = tuple[ErrorCode, ...]

MISSING: Final[Codes] = ("OccurenceConstraintViolation", "ProtocolError")
WRONG_TYPE: Final[Codes] = ("TypeConstraintViolation",)
BAD_VALUE: Final[Codes] = ("PropertyConstraintViolation",)
TOO_FEW: Final[Codes] = ("OccurenceConstraintViolation",)
TOO_MANY: Final[Codes] = ("OccurenceConstraintViolation", "FormationViolation")
UNKNOWN_PROPERTY: Final[Codes] = ("FormationViolation", "PropertyConstraintViolation")
FORMATION: Final[Codes] = ("FormationViolation",)
NOT_CS_ACTION: Final[Codes] = ("NotSupported", "NotImplemented")

# A value of another JSON type for each JSON type of the description.
_WRONG_VALUE: Final[dict[str, Any]] = {
    "string": 12345,
    "integer": "1",
    "number": "1.5",
    "boolean": "true",
    "object": "object",
    "array": {"not": "an array"},
}


def _call(action: str, payload: Any, unique_id: str) -> str:
    return json.dumps([CALL, unique_id, action, payload], separators=(",", ":"))


class _Ids:
    """Deterministic unique ids: the seed gives the same ids, so reports can be compared."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def next(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"[:32]


def _positive(action: Action, rng: random.Random, ids: _Ids) -> Iterator[Case]:
    for full, title in ((False, "required fields only"), (True, "every field")):
        payload = _first_edition(action.name, action.request.random(full=full, rng=rng).to_dict())
        unique_id = ids.next()
        yield Case(
            f"{action.name}/positive/{'full' if full else 'required'}",
            action.name,
            "positive",
            title,
            Expect.RESULT,
            _call(action.name, payload, unique_id),
            unique_id,
        )
    root = _request(action.name)
    base = _first_edition(action.name, action.request.random(full=True, rng=rng).to_dict())
    boundary = _at_boundaries(root, copy.deepcopy(base))
    if boundary != base:
        unique_id = ids.next()
        yield Case(
            f"{action.name}/positive/boundaries",
            action.name,
            "positive",
            "strings at maxLength, arrays at minItems",
            Expect.RESULT,
            _call(action.name, boundary, unique_id),
            unique_id,
        )
    # Values that only the errata allows get cases of their own (below), so that a central
    # system following the first edition refuses only those.
    enums = list(_enum_paths(action.name, root, base))
    rounds = max((len(values) for _, values in enums), default=0)
    for index in range(rounds):
        payload = copy.deepcopy(base)
        chosen = []
        for path, values in enums:
            value = values[index % len(values)]
            _set(payload, path, value)
            chosen.append(value)
        unique_id = ids.next()
        yield Case(
            f"{action.name}/positive/enums-{index + 1}",
            action.name,
            "positive",
            "enum values " + ", ".join(dict.fromkeys(chosen)),
            Expect.RESULT,
            _call(action.name, payload, unique_id),
            unique_id,
        )
    for mutation in errata_mutations(action.name, root):
        yield _mutation_case(action.name, "positive", mutation, base, ids, expect=Expect.RESULT)


def _negative(action: Action, rng: random.Random, ids: _Ids) -> Iterator[Case]:
    base = _first_edition(action.name, action.request.random(full=True, rng=rng).to_dict())
    for mutation in defects(action.name):
        yield _mutation_case(action.name, "negative", mutation, base, ids, expect=Expect.ERROR)


def _mutation_case(
    action: str, kind: str, mutation: Mutation, base: JSON, ids: _Ids, *, expect: Expect
) -> Case:
    unique_id = ids.next()
    planted = apply_mutation(mutation, base)
    return Case(
        f"{action}/{kind}/{mutation.kind} {mutation.path}",
        action,
        kind,
        f"{mutation.kind} at {mutation.path}",
        expect,
        "" if planted is None else _call(action, planted, unique_id),
        unique_id,
        mutation.codes,
        mutation,
    )


# Derivation: which mutations exist, at which paths, from the constraint description alone.


def _request(action: str) -> ObjectConstraints:
    return constraints_of(f"{action}Request")


@attrs.frozen
class _Object:
    """An object met on the walk, at a concrete path (``$``, ``$.meterValue[0]``)."""

    path: str
    constraints: ObjectConstraints


@attrs.frozen
class _Place:
    """A property met on the walk, at a concrete path (``[0]`` stands for an array's first item).

    ``min_items`` is the bound that holds here: the property's own, or the one its enclosing place
    adds to a shared type (MeterValues needs a ``sampledValue``, StopTransaction's MeterValue
    does not), whichever is stricter.
    """

    path: str
    prop: Property
    min_items: int | None


def _walk(
    obj: ObjectConstraints, path: str = "$", bounds: tuple[tuple[str, int], ...] = ()
) -> Iterator[_Object | _Place]:
    """``obj`` and every property below it, depth first in schema order: each object before its
    properties, each property before what its value holds (the first item of an array)."""
    yield _Object(path, obj)
    added = dict(bounds)
    for prop in obj.properties:
        here = f"{path}.{prop.wire}"
        limits = [n for n in (prop.min_items, added.get(prop.wire)) if n is not None]
        yield _Place(here, prop, max(limits) if limits else None)
        if prop.nested is not None:
            yield from _walk(CONSTRAINTS[prop.nested], here, prop.nested_min_items)
        elif prop.items is not None and prop.items.nested is not None:
            nested = CONSTRAINTS[prop.items.nested]
            yield from _walk(nested, f"{here}[0]", prop.nested_min_items)


def _places(obj: ObjectConstraints) -> Iterator[_Place]:
    return (place for place in _walk(obj) if isinstance(place, _Place))


def defects(action: str, root: ObjectConstraints | None = None) -> Iterator[Mutation]:
    """Every one-defect mutation of ``action``'s request (or of ``root``), in a stable order: each
    required field missing, each field of the wrong type, each bounded string one over, each
    enum unknown, each date-time bad, each number off its multipleOf, each bounded array one
    short or one over (and each 1..* array of the spec's tables empty), at any depth; an
    unknown property in each kind of nested object (every OCPP 1.6 object is closed:
    additionalProperties false), then at the top."""
    closed: dict[str, str] = {}  # nested object kind -> the first path it was met at
    for node in _walk(_request(action) if root is None else root):
        if isinstance(node, _Object):
            if node.path != "$":
                closed.setdefault(node.constraints.name, node.path)
            for prop in node.constraints.properties:
                if prop.required:
                    yield Mutation(f"{node.path}.{prop.wire}", "missing", MISSING, "delete")
        else:
            yield from _place_defects(action, node)
    for path in closed.values():
        yield _unknown_property(path)
    yield _unknown_property("$")


def _unknown_property(path: str) -> Mutation:
    return Mutation(f"{path}.unexpectedProperty", "unknown property", UNKNOWN_PROPERTY, "add", "x")


def _place_defects(action: str, place: _Place) -> Iterator[Mutation]:
    here, prop = place.path, place.prop
    yield Mutation(here, "wrong type", WRONG_TYPE, "set", _WRONG_VALUE[prop.type])
    if prop.type == "string" and prop.max_length is not None:
        too_long = "x" * (prop.max_length + 1)
        yield Mutation(here, "over maxLength", BAD_VALUE, "set", too_long)
    if prop.enum is not None:
        yield Mutation(here, "unknown enum value", BAD_VALUE, "set", "NoSuchValue")
    # Other formats (uri) are annotations that ocpp16 does not check either.
    if prop.format == "date-time":
        yield Mutation(here, "bad date-time", BAD_VALUE, "set", "2026-13-45T25:61:00Z")
    if prop.multiple_of is not None:
        # Half a step is off the grid for any step (0.05 for multipleOf 0.1).
        yield Mutation(here, "not multipleOf", BAD_VALUE, "set", prop.multiple_of / 2)
    if prop.type == "array":
        # The spec's tables give some arrays as 1..* where the first-edition schemas carry
        # no minItems: accepting one empty is a deviation only the tables make.
        spec = one_or_more(action, here)
        if (place.min_items or 0) > 0 or spec:
            keep = max((place.min_items or 1) - 1, 0)
            reading = ONE_OR_MORE.key if spec else ""
            yield Mutation(here, "below minItems", TOO_FEW, "truncate", keep, reading)
        if prop.max_items is not None:
            yield Mutation(here, "over maxItems", TOO_MANY, "repeat", prop.max_items + 1)


def errata_mutations(action: str, root: ObjectConstraints | None = None) -> Iterator[Mutation]:
    """A mutation for each value that only the errata allows, at each place it applies."""
    for place in _places(_request(action) if root is None else root):
        for value in errata_values(action, place.path):
            yield Mutation(place.path, f"errata {value}", (), "set", value, ERRATA_UNITS.key)


# Application: planting a mutation in a payload, at run time.


def apply_mutation(mutation: Mutation, payload: Any) -> Any | None:
    """A copy of ``payload`` with ``mutation`` planted, or None when ``payload`` lacks its path
    (the field; for a new property, its parent object)."""
    changed = copy.deepcopy(payload)
    found = _parent(changed, mutation.path)
    if found is None:
        return None
    node, last = found
    if mutation.op == "add":
        if not isinstance(node, dict) or last in node:
            return None
        node[last] = copy.deepcopy(mutation.value)
        return changed
    if not _holds(node, last):
        return None
    if mutation.op == "delete":
        del node[last]
    elif mutation.op == "truncate":
        if not isinstance(node[last], list) or len(node[last]) <= mutation.value:
            return None
        node[last] = node[last][: mutation.value]
    elif mutation.op == "repeat":
        if not isinstance(node[last], list) or not node[last]:
            return None
        node[last] = [copy.deepcopy(node[last][i % len(node[last])]) for i in range(mutation.value)]
    else:
        node[last] = copy.deepcopy(mutation.value)
    return changed


def planted_text(case: Case, base: Any) -> str | None:
    """The frame of ``case`` with its mutation planted in ``base`` (None: no such path there)."""
    if case.mutation is None:
        return case.text
    payload = apply_mutation(case.mutation, base)
    return None if payload is None else _call(case.action, payload, case.unique_id or "")


def _parent(payload: Any, path: str) -> tuple[Any, str | int] | None:
    """The node holding the last step of ``path`` in ``payload``, and that step; None when a step
    before it is missing."""
    steps = _steps(path)
    node = payload
    for step in steps[:-1]:
        if not _holds(node, step):
            return None
        node = node[step]
    return node, steps[-1]


def _at(payload: Any, path: str) -> tuple[Any, str | int] | None:
    """Like :func:`_parent`, but None unless ``path`` itself is there too."""
    found = _parent(payload, path)
    return found if found is not None and _holds(*found) else None


def _holds(node: Any, step: str | int) -> bool:
    if isinstance(step, int):
        return isinstance(node, list) and step < len(node)
    return isinstance(node, dict) and step in node


def _first_edition(action: str, payload: Any, path: str = "$") -> Any:
    """``payload`` with each value that only the errata allows replaced by its first-edition
    stand-in: the payloads that other cases build on must not depend on a reading."""
    if isinstance(payload, dict):
        out = {}
        for name, value in payload.items():
            here = f"{path}.{name}"
            out[name] = _first_edition(action, first_edition(action, here, value), here)
        return out
    if isinstance(payload, list):
        return [_first_edition(action, item, f"{path}[{i}]") for i, item in enumerate(payload)]
    return payload


def _at_boundaries(root: ObjectConstraints, payload: Any) -> Any:
    """Every string at exactly maxLength and every array cut to minItems (at least one item).

    Objects inside arrays are reached through their first item, which is all there is after the
    cut as long as no array needs more than one item (none in OCPP 1.6)."""
    for place in _places(root):
        found = _at(payload, place.path)
        if found is None:
            continue
        node, last = found
        prop = place.prop
        if prop.type == "string" and prop.max_length is not None and prop.enum is None:
            text = node[last]
            node[last] = (text * prop.max_length)[: prop.max_length] if text else "x"
        elif prop.type == "array" and node[last]:
            node[last] = node[last][: max(place.min_items or 0, 1)]
            items = prop.items
            if items is not None and items.nested is None and items.max_length is not None:
                node[last] = ["k" * items.max_length for _ in node[last]]
    return payload


def _enum_paths(
    action: str, root: ObjectConstraints, payload: Any
) -> Iterator[tuple[str, list[str]]]:
    """Each enumeration present in ``payload`` and its values that both readings allow: the
    description's enumerations include the errata's values, which get cases of their own."""
    for place in _places(root):
        if place.prop.enum is not None and _at(payload, place.path) is not None:
            errata = errata_values(action, place.path)
            yield place.path, [v for v in place.prop.enum if v not in errata]


def _steps(path: str) -> list[str | int]:
    """``$.meterValue[0].unit`` -> ``["meterValue", 0, "unit"]``."""
    steps: list[str | int] = []
    for part in path[2:].split("."):
        name, _, index = part.partition("[")
        steps.append(name)
        if index:
            steps.append(int(index.rstrip("]")))
    return steps


def _set(payload: Any, path: str, value: Any) -> None:
    """Set ``value`` at a path such as ``$.meterValue[0].sampledValue[0].unit``, which exists."""
    found = _parent(payload, path)
    assert found is not None, path
    node, last = found
    node[last] = value


def frame_cases(ids: _Ids) -> Iterator[Case]:
    """Defects of the OCPP-J framing itself, independent of any action."""
    heartbeat = ids.next()
    yield Case(
        "frame/malformed JSON",
        "",
        "frame",
        "text that is not JSON",
        Expect.ERROR,
        f'[2,"{heartbeat}","Heartbeat",{{',
        None,
        FORMATION,
    )
    yield Case(
        "frame/not an array",
        "",
        "frame",
        "a JSON object instead of an array",
        Expect.ERROR,
        json.dumps({"messageTypeId": CALL, "action": "Heartbeat"}),
        None,
        (*FORMATION, "ProtocolError"),
    )
    unknown_type = ids.next()
    yield Case(
        "frame/unknown message type id",
        "",
        "frame",
        "message type id 7 (to be ignored)",
        Expect.SILENCE,
        json.dumps([7, unknown_type, "Heartbeat", {}]),
        unknown_type,
    )
    unknown_action = ids.next()
    yield Case(
        "frame/unknown action",
        "",
        "frame",
        "an action that OCPP 1.6 does not have",
        Expect.ERROR,
        _call("FlyToTheMoon", {}, unknown_action),
        unknown_action,
        ("NotImplemented",),
    )
    long_id = ids.next() + "-" + ids.next()[:8]  # 41 characters
    yield Case(
        "frame/message id over 36 characters",
        "",
        "frame",
        f"a unique id of {len(long_id)} characters",
        Expect.ERROR,
        _call("Heartbeat", {}, long_id),
        long_id,
        ("ProtocolError", "FormationViolation", "PropertyConstraintViolation"),
    )
    orphan = ids.next()
    yield Case(
        "frame/CALLRESULT for no CALL",
        "",
        "frame",
        "an answer to a CALL never made (to be ignored)",
        Expect.SILENCE,
        json.dumps([CALLRESULT, orphan, {}]),
        orphan,
    )


def build_cases(
    actions: list[str] | None = None, seed: int = 0, cs_actions: bool = False
) -> list[Case]:
    """Every case for the CP→CS actions (or ``actions``), frame-level cases, and with
    ``cs_actions`` the CS→CP actions, which a central system should refuse."""
    rng = random.Random(seed)
    ids = _Ids(random.Random(seed ^ 0x5EED))
    chosen = [ACTIONS[name] for name in actions] if actions else list(ACTIONS.values())
    cases: list[Case] = []
    for action in chosen:
        if not action.sender.charge_point_sends:
            continue
        cases += _positive(action, rng, ids)
        cases += _negative(action, rng, ids)
    cases += frame_cases(ids)
    if cs_actions:
        for action in ACTIONS.values():
            if action.sender.charge_point_sends or (actions and action.name not in actions):
                continue
            unique_id = ids.next()
            payload = action.request.random(full=False, rng=rng).to_dict()
            cases.append(
                Case(
                    f"{action.name}/cs-action",
                    action.name,
                    "negative",
                    "a central-system action sent by a charge point",
                    Expect.ERROR,
                    _call(action.name, payload, unique_id),
                    unique_id,
                    NOT_CS_ACTION,
                )
            )
    return cases
