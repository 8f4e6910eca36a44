"""Every way a wire payload breaks its schema, and that list told to a peer in bounded text.

The violations come from the generated parsers' one pass (``ocpp16._convert``): ``from_dict``
raises the first of exactly this list. A hostile payload can break its schema a million times
over, so :func:`describe` lists at most ``MAX_VIOLATIONS_LISTED`` of them and cuts the text at
``MAX_DESCRIPTION_CHARS``: a 1 MB CALL never gets a multi-megabyte CALLERROR.
"""

from __future__ import annotations

from typing import Any

from ocpp16._convert import Capped, violations
from ocpp16._model import Model
from ocpp16._text import shorten
from ocpp16.errors import SchemaViolations, ValidationError
from ocpp16.limits import MAX_DESCRIPTION_CHARS, MAX_VIOLATIONS_LISTED

__all__ = ["check_payload", "describe", "violations"]


def check_payload(payload: Any, cls: type[Model]) -> None:
    """Raise SchemaViolations listing every violation when ``payload`` is not a valid ``cls``."""
    found = violations(payload, cls)
    if found:
        raise SchemaViolations(found)


def describe(found: list[ValidationError]) -> str:
    """The violations as one line for a CALLERROR description: the first few, then how many
    more, never longer than MAX_DESCRIPTION_CHARS (plus the note of how much was cut)."""
    text = "; ".join(str(v) for v in found[:MAX_VIOLATIONS_LISTED])
    if isinstance(found, Capped) and found.cut:
        text += f"; and more (the first {len(found):,} counted)"
    elif len(found) > MAX_VIOLATIONS_LISTED:
        text += f"; and {len(found) - MAX_VIOLATIONS_LISTED:,} more"
    return shorten(text, MAX_DESCRIPTION_CHARS)
