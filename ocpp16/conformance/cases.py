"""The cases of a conformance check, generated from the schemas: positive and negative.

Positive cases send valid CALLs (required fields only, every field, boundary values, every enum
value over the run) and expect a valid CALLRESULT. Negative cases each carry exactly one defect,
derived by walking the action's JSON schema alongside a valid payload, and expect a CALLERROR with
the fitting OCPP 1.6 code; frame-level cases break the OCPP-J framing itself. The same seed gives
the same cases.
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
from ocpp16.frames import CALL, CALLRESULT
from ocpp16.schemas import load_schema

__all__ = ["Case", "Expect", "build_cases", "frame_cases"]

JSON = dict[str, Any]


class Expect(StrEnum):
    """What a conforming central system does with a case."""

    RESULT = "result"  # a CALLRESULT valid for the response schema
    ERROR = "error"  # a CALLERROR, ideally with one of the fitting codes
    SILENCE = "silence"  # nothing, and the connection stays open


@attrs.frozen
class Case:
    """One frame to send and what should come back."""

    id: str  # stable across runs with the same seed: "Authorize/negative/missing $.idTag"
    action: str  # the action under test ("" for frame-level cases)
    kind: str  # "positive", "negative" or "frame"
    title: str
    expect: Expect
    #: The text sent as one WebSocket message (usually a CALL frame).
    text: str
    unique_id: str | None = None
    #: For Expect.ERROR: the OCPP 1.6 codes that fit the defect; the first is the usual one.
    codes: tuple[str, ...] = ()


MISSING: Final = ("OccurenceConstraintViolation", "ProtocolError")
WRONG_TYPE: Final = ("TypeConstraintViolation",)
BAD_VALUE: Final = ("PropertyConstraintViolation",)
TOO_FEW: Final = ("OccurenceConstraintViolation",)
UNKNOWN_PROPERTY: Final = ("FormationViolation", "PropertyConstraintViolation")
FORMATION: Final = ("FormationViolation",)
NOT_CS_ACTION: Final = ("NotSupported", "NotImplemented")

# A value of another JSON type for each schema type.
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
        payload = action.request.random(full=full, rng=rng).to_dict()
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
    schema = load_schema(action.name)
    base = action.request.random(full=True, rng=rng).to_dict()
    boundary = _at_boundaries(schema, copy.deepcopy(base))
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
    enums = list(_enum_paths(schema, base, "$"))
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


def _negative(action: Action, rng: random.Random, ids: _Ids) -> Iterator[Case]:
    schema = load_schema(action.name)
    base = action.request.random(full=True, rng=rng).to_dict()
    for path, defect, payload, codes in _defects(schema, base):
        unique_id = ids.next()
        yield Case(
            f"{action.name}/negative/{defect} {path}",
            action.name,
            "negative",
            f"{defect} at {path}",
            Expect.ERROR,
            _call(action.name, payload, unique_id),
            unique_id,
            codes,
        )
    payload = {**base, "unexpectedProperty": "x"}
    unique_id = ids.next()
    yield Case(
        f"{action.name}/negative/unknown property $.unexpectedProperty",
        action.name,
        "negative",
        "unknown property at $.unexpectedProperty",
        Expect.ERROR,
        _call(action.name, payload, unique_id),
        unique_id,
        UNKNOWN_PROPERTY,
    )


def _defects(schema: JSON, payload: Any, path: str = "$") -> Iterator[tuple[str, str, Any, Any]]:
    """(path, defect, payload with that one defect, fitting codes) for every field at any depth.

    ``payload`` must hold every property (a ``full`` random payload), so every field is reached.
    """
    properties: JSON = schema.get("properties", {})
    for name in schema.get("required", []):
        broken = copy.deepcopy(payload)
        del broken[name]
        yield f"{path}.{name}", "missing", broken, MISSING
    for name, sub in properties.items():
        if name not in payload:
            continue
        here = f"{path}.{name}"
        kind = sub.get("type")
        yield here, "wrong type", _replaced(payload, name, _WRONG_VALUE[kind]), WRONG_TYPE
        if kind == "string" and "maxLength" in sub:
            too_long = "x" * (sub["maxLength"] + 1)
            yield here, "over maxLength", _replaced(payload, name, too_long), BAD_VALUE
        if "enum" in sub:
            yield here, "unknown enum value", _replaced(payload, name, "NoSuchValue"), BAD_VALUE
        if sub.get("format") == "date-time":
            yield here, "bad date-time", _replaced(payload, name, "2026-13-45T25:61:00Z"), BAD_VALUE
        if kind == "array" and sub.get("minItems", 0) > 0:
            short = payload[name][: sub["minItems"] - 1]
            yield here, "below minItems", _replaced(payload, name, short), TOO_FEW
        if kind == "object":
            for inner_path, defect, inner, codes in _defects(sub, payload[name], here):
                yield inner_path, defect, _replaced(payload, name, inner), codes
        if kind == "array" and sub["items"].get("type") == "object" and payload[name]:
            for inner_path, defect, inner, codes in _defects(
                sub["items"], payload[name][0], f"{here}[0]"
            ):
                items = [inner, *copy.deepcopy(payload[name][1:])]
                yield inner_path, defect, _replaced(payload, name, items), codes


def _replaced(payload: JSON, name: str, value: Any) -> JSON:
    broken = copy.deepcopy(payload)
    broken[name] = value
    return broken


def _at_boundaries(schema: JSON, payload: Any) -> Any:
    """Every string at exactly maxLength and every array cut to minItems (at least one item)."""
    for name, sub in schema.get("properties", {}).items():
        if name not in payload:
            continue
        if sub.get("type") == "string" and "maxLength" in sub and "enum" not in sub:
            text = payload[name]
            payload[name] = (text * sub["maxLength"])[: sub["maxLength"]] if text else "x"
        elif sub.get("type") == "object":
            _at_boundaries(sub, payload[name])
        elif sub.get("type") == "array" and payload[name]:
            keep = max(sub.get("minItems", 0), 1)
            payload[name] = payload[name][:keep]
            if sub["items"].get("type") == "object":
                for item in payload[name]:
                    _at_boundaries(sub["items"], item)
            elif "maxLength" in sub["items"]:
                limit = sub["items"]["maxLength"]
                payload[name] = [("k" * limit) for _ in payload[name]]
    return payload


def _enum_paths(schema: JSON, payload: Any, path: str) -> Iterator[tuple[str, list[str]]]:
    for name, sub in schema.get("properties", {}).items():
        if name not in payload:
            continue
        here = f"{path}.{name}"
        if "enum" in sub:
            yield here, list(sub["enum"])
        elif sub.get("type") == "object":
            yield from _enum_paths(sub, payload[name], here)
        elif sub.get("type") == "array" and sub["items"].get("type") == "object" and payload[name]:
            yield from _enum_paths(sub["items"], payload[name][0], f"{here}[0]")


def _set(payload: Any, path: str, value: Any) -> None:
    """Set ``value`` at a path such as ``$.meterValue[0].sampledValue[0].unit``."""
    steps: list[str | int] = []
    for part in path[2:].split("."):
        name, _, index = part.partition("[")
        steps.append(name)
        if index:
            steps.append(int(index.rstrip("]")))
    node = payload
    for step in steps[:-1]:
        node = node[step]
    node[steps[-1]] = value


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
