"""The OCPP 1.6 JSON schemas the messages are generated from, as shipped with the package."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["load_schema", "schema_file", "schema_text"]


@cache
def _folder() -> Path:
    # A wheel carries them as ocpp16/_schemas; a source checkout keeps them in schemas/.
    packaged = Path(str(resources.files("ocpp16"))) / "_schemas"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "schemas"


def schema_file(action: str, response: bool = False) -> Path:
    """The schema file of ``action``'s request (or response), named as in the spec's set."""
    return _folder() / f"{action}{'Response' if response else ''}.json"


def schema_text(action: str, response: bool = False) -> str:
    return schema_file(action, response).read_text(encoding="utf-8")


def load_schema(action: str, response: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(schema_text(action, response))
    return result
