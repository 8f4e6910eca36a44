"""Test oracle: the `ocpp` package's copy of the official schemas, checked with jsonschema.

Used only by tests: ocpp16 itself never runs jsonschema.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft4Validator, FormatChecker

from ocpp16 import ACTIONS, Model

__all__ = [
    "ERRATA_UNITS",
    "MESSAGES",
    "message_id",
    "official_schema",
    "official_validator",
    "with_errata",
]

#: The OCPP 1.6 errata sheet (v4.0, 2019) adds these to UnitOfMeasure, wherever it stands. The
#: one place where the tests read the official schemas with the errata applied.
ERRATA_UNITS: tuple[str, ...] = ("Celsius", "Celcius", "Hertz")

#: (action, is_response, class) for all 56 messages.
MESSAGES: list[tuple[str, bool, type[Model]]] = [
    (action.name, response, action.response if response else action.request)
    for action in ACTIONS.values()
    for response in (False, True)
]


def message_id(message: tuple[str, bool, type[Model]]) -> str:
    return message[2].__name__


@cache
def official_schema(action: str, response: bool) -> dict[str, Any]:
    name = f"{action}{'Response' if response else ''}.json"
    text = (resources.files("ocpp") / "v16" / "schemas" / name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    with_errata(schema)
    return schema


def with_errata(node: Any) -> Any:
    """``node`` with the errata values added to every UnitOfMeasure enumeration (in place)."""
    if isinstance(node, dict):
        values = node.get("enum")
        if isinstance(values, list) and "kWh" in values:
            values += [unit for unit in ERRATA_UNITS if unit not in values]
        for value in node.values():
            with_errata(value)
    elif isinstance(node, list):
        for item in node:
            with_errata(item)
    return node


@cache
def official_validator(action: str, response: bool) -> Draft4Validator:
    # FormatChecker checks date-time only with rfc3339-validator installed (a dev dependency).
    checker = FormatChecker()
    assert "date-time" in checker.checkers, "install rfc3339-validator to check date-times"
    return Draft4Validator(official_schema(action, response), format_checker=checker)
