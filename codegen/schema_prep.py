"""Turn the 56 message schemas into one document that datamodel-code-generator can name well.

The official schemas inline every nested object and enum without a name, and repeat shared
types (IdTagInfo, MeterValue, ChargingProfile, ...) in several messages. Here each nested object
and enum is lifted into ``definitions`` under its spec name from ``names.toml`` and replaced by a
``$ref``, so the generator emits one class per spec data type. Every property is also annotated
with the Python expressions the templates need (``x-validator``, ``x-random``): computing them
here keeps the Jinja templates free of schema logic.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from codegen import emit

__all__ = ["ACTIONS_ORDER", "Names", "Prepared", "enum_member_name", "load_names", "prepare"]

JSON = dict[str, Any]
Description = emit.Description
DEFINITIONS = "#/definitions/"
#: The 28 actions of OCPP 1.6 in alphabetical order.
ACTIONS_ORDER = (
    "Authorize",
    "BootNotification",
    "CancelReservation",
    "ChangeAvailability",
    "ChangeConfiguration",
    "ClearCache",
    "ClearChargingProfile",
    "DataTransfer",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "GetCompositeSchedule",
    "GetConfiguration",
    "GetDiagnostics",
    "GetLocalListVersion",
    "Heartbeat",
    "MeterValues",
    "RemoteStartTransaction",
    "RemoteStopTransaction",
    "ReserveNow",
    "Reset",
    "SendLocalList",
    "SetChargingProfile",
    "StartTransaction",
    "StatusNotification",
    "StopTransaction",
    "TriggerMessage",
    "UnlockConnector",
    "UpdateFirmware",
)
UNBOUNDED_STRING_LENGTH = 64
SENDER_TEXT = {
    "cp": "Sent by the charge point to the central system.",
    "cs": "Sent by the central system to the charge point.",
    "both": "Sent by either side.",
}


@attrs.frozen
class Names:
    """The contents of names.toml."""

    types: dict[str, str]
    enum_members: dict[str, str]
    actions: dict[str, dict[str, str]]
    integers: dict[str, list[int]]
    decimals: dict[str, list[float]]
    strings: dict[str, str]
    errata: dict[str, list[str]]


def load_names(path: Path) -> Names:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return Names(
        types=data["types"],
        enum_members=data["enum_members"],
        actions=data["actions"],
        integers=data["integers"],
        decimals=data["decimals"],
        strings=data["strings"],
        errata=data["errata"],
    )


@attrs.frozen
class Message:
    action: str
    kind: str  # "Request" or "Response"
    file: str

    @property
    def class_name(self) -> str:
        return self.action + self.kind


@attrs.frozen
class Prepared:
    """The combined document and what the registry template needs."""

    document: JSON
    template_data: dict[str, dict[str, str]]
    messages: list[Message]
    data_types: list[str]
    enums: list[str]
    #: The one constraint description: per class, its properties (see codegen.emit).
    descriptions: dict[str, list[Description]]


_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def enum_member_name(value: str, overrides: dict[str, str]) -> str:
    """UPPER_SNAKE member name for a wire value: ``Energy.Active.Import.Register`` ->
    ``ENERGY_ACTIVE_IMPORT_REGISTER``, ``L1-N`` -> ``L1_N``, unless names.toml spells it."""
    if value in overrides:
        return overrides[value]
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", value) if p]
    return "_".join(_CAMEL_BOUNDARY.sub("_", p) for p in parts).upper()


class _Lifter:
    """Collects named definitions while walking the schemas (first pass)."""

    def __init__(self, names: Names) -> None:
        self.names = names
        self.definitions: dict[str, JSON] = {}
        # Per enum, the value list of every place it stands in: random draws from their intersection
        # so that a value generated for a shared type is valid wherever that type appears.
        self.enum_sites: dict[str, list[list[str]]] = {}
        self.used_keys: set[str] = set()
        self.users: dict[str, list[str]] = {}

    def type_name(self, key: str) -> str:
        try:
            name = self.names.types[key]
        except KeyError:
            raise SystemExit(f"codegen: names.toml [types] has no entry for {key!r}") from None
        self.used_keys.add(key)
        return name

    def lift_object(self, node: JSON, owner: str) -> JSON:
        out: JSON = {"type": "object", "properties": {}}
        for prop, sub in node.get("properties", {}).items():
            out["properties"][prop] = self.lift_property(sub, owner, prop)
        out["additionalProperties"] = node.get("additionalProperties", True)
        if node.get("required"):
            out["required"] = list(node["required"])
        return out

    def lift_property(self, node: JSON, owner: str, prop: str) -> JSON:
        if "enum" in node:
            return self.define_enum(self.type_name(f"{owner}.{prop}"), node, owner)
        if node.get("type") == "object":
            return self.define_object(self.type_name(f"{owner}.{prop}"), node, owner)
        if node.get("type") == "array":
            items = node["items"]
            key = f"{owner}.{prop}[]"
            if "enum" in items:
                lifted_items = self.define_enum(self.type_name(key), items, owner)
            elif items.get("type") == "object":
                lifted_items = self.define_object(self.type_name(key), items, owner)
            else:
                lifted_items = dict(items)
            out = {k: v for k, v in node.items() if k != "items"}
            out["items"] = lifted_items
            if "x-site-min-items" in lifted_items:
                out["x-site-min-items"] = lifted_items.pop("x-site-min-items")
            return out
        return {k: v for k, v in node.items() if k != "additionalProperties"}

    def define_object(self, name: str, node: JSON, user: str) -> JSON:
        lifted = self.lift_object(node, name)
        # This place's own array bounds: where the shared type ends up looser, the place's
        # validator adds them back (see _Annotator.site_bounds).
        bounds = {
            prop: sub["minItems"]
            for prop, sub in lifted["properties"].items()
            if sub.get("type") == "array" and sub.get("minItems")
        }
        lifted["title"] = name
        known = self.definitions.get(name)
        if known is not None:
            lifted = _merge_shapes(known, lifted, f"{name} (second in {user})")
        self.definitions[name] = lifted
        self._note_user(name, user)
        ref: JSON = {"$ref": DEFINITIONS + name}
        if bounds:
            ref["x-site-min-items"] = bounds
        return ref

    def define_enum(self, name: str, node: JSON, user: str) -> JSON:
        # The errata sheet changes the enumeration itself: its values count at every place the
        # enumeration stands (MeterValues and StopTransaction alike), whatever a schema spells.
        values: list[str] = list(node["enum"])
        values += [v for v in self.names.errata.get(name, ()) if v not in values]
        self.enum_sites.setdefault(name, []).append(values)
        known = self.definitions.get(name)
        merged = list(known["enum"]) if known else []
        merged += [v for v in values if v not in merged]
        self.definitions[name] = {"title": name, "type": "string", "enum": merged}
        self._note_user(name, user)
        return {"$ref": DEFINITIONS + name}

    def _note_user(self, name: str, user: str) -> None:
        users = self.users.setdefault(name, [])
        if user not in users:
            users.append(user)


def _merge_shapes(known: JSON, new: JSON, where: str) -> JSON:
    """One shape for a type that the official schemas spell twice with different array bounds
    (MeterValue.sampledValue has minItems 1 in MeterValues, none in StopTransaction).

    Parsing takes the looser bound, so every message valid under its own schema parses; random
    values take the stricter one (``x-random-min-items``), so they are valid under both.
    """
    if (
        known.keys() != new.keys()
        or known.get("properties", {}).keys() != new.get("properties", {}).keys()
    ):
        raise SystemExit(f"codegen: {where} has two different shapes")
    merged = dict(known)
    for prop, old in known.get("properties", {}).items():
        other = new["properties"][prop]
        if old == other:
            continue
        bare_old = {k: v for k, v in old.items() if k not in ("minItems", "x-random-min-items")}
        bare_new = {k: v for k, v in other.items() if k != "minItems"}
        if old.get("type") != "array" or bare_old != bare_new:
            raise SystemExit(f"codegen: {where} has two different shapes at {prop}")
        bounds = [old.get("minItems", 0), other.get("minItems", 0)]
        bounds.append(old.get("x-random-min-items", 0))
        merged_prop = dict(bare_old)
        if min(bounds[:2]):
            merged_prop["minItems"] = min(bounds[:2])
        merged_prop["x-random-min-items"] = max(bounds)
        merged["properties"] = {**merged["properties"], prop: merged_prop}
    return merged


class _Annotator:
    """Describes every property (the one constraint description) and adds the expressions the
    class template needs: the validator, rendered from the description, and the random value
    (second pass)."""

    def __init__(self, names: Names, lifter: _Lifter) -> None:
        self.names = names
        self.definitions = lifter.definitions
        self.enum_sites = lifter.enum_sites
        self.descriptions: dict[str, list[Description]] = {}

    def annotate(self, node: JSON) -> None:
        required = set(node.get("required", ()))
        described = self.descriptions[node["title"]] = []
        for prop, sub in node["properties"].items():
            desc = self.describe(prop, sub, prop in required, f"$.{prop}")
            described.append(desc)
            sub["x-validator"] = emit.validator(desc)
            sub["x-random"] = self.random(prop, sub)

    def describe(self, prop: str, node: JSON, required: bool, path: str) -> Description:
        """The constraints of one property, from its lifted schema node."""
        desc: Description = {
            "name": _snake(prop),
            "wire": prop,
            "path": path,
            "type": node.get("type"),
            "required": required,
            "max_length": node.get("maxLength"),
            "enum": None,
            "enum_class": None,
            "format": node.get("format"),
            "multiple_of": node.get("multipleOf"),
            "min_items": node.get("minItems"),
            "max_items": node.get("maxItems"),
            "nested": None,
            "items": None,
            "site_min_items": [],
        }
        ref = node.get("$ref")
        if ref is not None:
            name = ref.removeprefix(DEFINITIONS)
            target = self.definitions[name]
            if "enum" in target:
                desc.update(type="string", enum=tuple(target["enum"]), enum_class=name)
            else:
                desc.update(type="object", nested=name)
                desc["site_min_items"] = self.site_bounds(target, node.get("x-site-min-items", {}))
        elif desc["type"] == "array":
            items = self.describe("", node["items"], True, f"{path}[]")
            del items["site_min_items"]  # a place's bounds sit on its array property
            if "x-site-min-items" in node:
                target = self.definitions[node["items"]["$ref"].removeprefix(DEFINITIONS)]
                desc["site_min_items"] = self.site_bounds(target, node["x-site-min-items"])
            desc["items"] = items
        if desc["type"] not in {"string", "integer", "number", "boolean", "object", "array"}:
            raise SystemExit(f"codegen: property {prop} of type {desc['type']!r} is not supported")
        if desc["type"] == "number" and desc["multiple_of"] != 0.1:
            raise SystemExit(f"codegen: number {prop} without multipleOf 0.1 is not supported")
        return desc

    @staticmethod
    def site_bounds(target: JSON, bounds: dict[str, int]) -> list[tuple[str, str, int]]:
        """The array bounds this place gives the shared type and the merged type lost:
        MeterValues' MeterValue needs a sampledValue, StopTransaction's does not."""
        return [
            (_snake(prop), prop, bound)
            for prop, bound in bounds.items()
            if bound > target["properties"][prop].get("minItems", 0)
        ]

    def random(self, prop: str, node: JSON) -> str:
        """The Python expression of a random valid value (the generator's node is trimmed too)."""
        ref = node.get("$ref")
        if ref is not None:
            node.pop("x-site-min-items", None)
            name = ref.removeprefix(DEFINITIONS)
            if "enum" in self.definitions[name]:
                return self.enum_random(name)
            return f"{name}.random(full, r)"
        kind = node.get("type")
        node.pop("x-site-min-items", None)
        if kind == "array":
            min_items = int(node.get("minItems", 0))
            random_min_items = int(node.pop("x-random-min-items", min_items))
            item_random = self.random(prop, node["items"])
            # The generator would turn a constrained item into a type alias (KeyItem = str):
            # the constraint lives in the check instead.
            node["items"] = {k: v for k, v in node["items"].items() if k in {"type", "$ref"}}
            return f"[{item_random} for _ in range(_rnd.count(r, {random_min_items}, full))]"
        if kind == "string" and node.get("format") == "date-time":
            return "_rnd.date_time(r)"
        if kind == "string":
            max_length = node.get("maxLength")
            text_kind = self.names.strings.get(prop)
            if text_kind is not None and max_length is None:
                return f"_rnd.{text_kind}_text(r)"
            bound = max_length if max_length is not None else UNBOUNDED_STRING_LENGTH
            return f"_rnd.string(r, {bound})"
        if kind == "integer":
            low, high = self.names.integers.get(prop, self.names.integers["default"])
            return f"_rnd.integer(r, {low}, {high})"
        if kind == "number":
            low_f, high_f = self.names.decimals.get(prop, self.names.decimals["default"])
            return f"_rnd.tenths(r, {round(low_f * 10)}, {round(high_f * 10)})"
        return "_rnd.boolean(r)"

    def enum_random(self, name: str) -> str:
        everywhere = set.intersection(*(set(site) for site in self.enum_sites[name]))
        excluded = [v for v in self.definitions[name]["enum"] if v not in everywhere]
        if not excluded:
            return f"_rnd.member(r, {name})"
        return f"_rnd.member(r, {name}, exclude={tuple(excluded)!r})"


def _snake(name: str) -> str:
    """The attribute name the generator gives a camelCase property: sampledValue, sampled_value."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def _message_files(schemas: Path) -> Iterator[Message]:
    for action in ACTIONS_ORDER:
        yield Message(action, "Request", f"{action}.json")
        yield Message(action, "Response", f"{action}Response.json")


def prepare(schemas: Path, names: Names) -> Prepared:
    """Lift, name and annotate the 56 schemas of ``schemas`` into one document."""
    found = sorted(p.name for p in schemas.glob("*.json"))
    messages = list(_message_files(schemas))
    expected = sorted(m.file for m in messages)
    if found != expected:
        extra, missing = set(found) - set(expected), set(expected) - set(found)
        raise SystemExit(
            f"codegen: schemas/ differs: missing {sorted(missing)}, extra {sorted(extra)}"
        )
    if sorted(names.actions) != sorted(ACTIONS_ORDER):
        raise SystemExit("codegen: names.toml [actions] must list exactly the 28 actions")

    lifter = _Lifter(names)
    message_defs: dict[str, JSON] = {}
    for message in messages:
        schema = json.loads((schemas / message.file).read_text(encoding="utf-8"))
        if schema.get("title") != message.class_name:
            raise SystemExit(f"codegen: {message.file} has title {schema.get('title')!r}")
        body = lifter.lift_object(schema, message.class_name)
        body["title"] = message.class_name
        info = names.actions[message.action]
        what = "request" if message.kind == "Request" else "answer"
        body["description"] = (
            f"{message.action} {what}: {info['summary']}. {SENDER_TEXT[info['sender']]}"
            if message.kind == "Request"
            else f"The {what} to {message.action}Request."
        )
        message_defs[message.class_name] = body
    unused = set(names.types) - lifter.used_keys
    if unused:
        raise SystemExit(f"codegen: names.toml [types] entries match nothing: {sorted(unused)}")
    not_enums = {n for n in names.errata if "enum" not in lifter.definitions.get(n, {})}
    if not_enums:
        raise SystemExit(f"codegen: names.toml [errata] names no enumeration: {sorted(not_enums)}")

    annotator = _Annotator(names, lifter)
    data_types, enums = [], []
    for name, definition in lifter.definitions.items():
        users = ", ".join(lifter.users[name])
        if "enum" in definition:
            enums.append(name)
            definition["x-enum-varnames"] = [
                enum_member_name(v, names.enum_members) for v in definition["enum"]
            ]
            definition["description"] = f"OCPP 1.6 enumeration {name}, used by {users}."
        else:
            data_types.append(name)
            annotator.annotate(definition)
            definition["description"] = f"OCPP 1.6 data type {name}, used by {users}."
    for body in message_defs.values():
        annotator.annotate(body)

    # Order: enums, data types with their dependencies first, then each response before its
    # request (a request names its response class). --keep-model-order keeps it.
    ordered = {name: lifter.definitions[name] for name in sorted(enums)}
    for name in sorted(data_types):
        _add_with_dependencies(name, lifter.definitions, ordered)
    descriptions = annotator.descriptions
    template_data: dict[str, dict[str, str]] = {
        name: _class_data(name, "Model", "", "", descriptions[name]) for name in data_types
    }
    for action in ACTIONS_ORDER:
        response, request = f"{action}Response", f"{action}Request"
        ordered[response] = message_defs[response]
        ordered[request] = message_defs[request]
        template_data[response] = _class_data(
            response, "Response", action, "", descriptions[response]
        )
        # A forward reference in the base: the generator's own ordering may move classes.
        template_data[request] = _class_data(
            request, f'Request["{response}"]', action, response, descriptions[request]
        )
    document: JSON = {"$schema": "http://json-schema.org/draft-04/schema#", "definitions": ordered}
    return Prepared(
        document, template_data, messages, sorted(data_types), sorted(enums), descriptions
    )


def _class_data(
    name: str, base: str, action: str, response: str, described: list[Description]
) -> dict[str, str]:
    """What the class template needs beyond the fields: rendered from the description."""
    return {
        "base": base,
        "action": action,
        "response": response,
        "parse_method": emit.parse_method(name, described),
        "to_dict_method": emit.to_dict_method(described),
        "fast_function": emit.fast_function(name, described),
    }


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"].removeprefix(DEFINITIONS)
        for value in node.values():
            yield from _refs(value)


def _add_with_dependencies(
    name: str, definitions: dict[str, JSON], ordered: dict[str, JSON]
) -> None:
    if name in ordered:
        return
    for dependency in _refs(definitions[name]):
        _add_with_dependencies(dependency, definitions, ordered)
    ordered[name] = definitions[name]
