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

__all__ = ["MESSAGES", "message_id", "official_schema", "official_validator"]

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
    return schema


@cache
def official_validator(action: str, response: bool) -> Draft4Validator:
    # FormatChecker checks date-time only with rfc3339-validator installed (a dev dependency).
    checker = FormatChecker()
    assert "date-time" in checker.checkers, "install rfc3339-validator to check date-times"
    return Draft4Validator(official_schema(action, response), format_checker=checker)
