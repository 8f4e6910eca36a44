"""Payloads given on the command line: ``ACTION=JSON``, ``ACTION=@file.json`` or ``ACTION``.

Every payload is validated against its schema when the command starts; its violations, a file
that cannot be read, and text that is not JSON (``NaN`` and ``Infinity`` included, which Python
reads but JSON does not have) become an InputError naming the option and action: the CLI shows
it as one line, with exit code 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ocpp16 import Action, Model

__all__ = ["load_json", "parse_payload_option", "strict_json"]


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (it has no NaN or Infinity)")


def strict_json(text: str) -> Any:
    """``json.loads`` without Python's extensions: ``NaN`` and ``Infinity`` would go on the
    wire as they are, and no receiver's JSON parser reads them. Raises ValueError."""
    return json.loads(text, parse_constant=_no_constant)


def load_json(text: str, where: str) -> Any:
    """JSON from ``text``, or from the file it names after ``@``; InputError otherwise."""
    from ocpp16.errors import InputError

    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{where}: cannot read {text[1:]}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{where}: {text[1:]} is not UTF-8 text (byte {exc.object[exc.start]:#04x}"
                f" at offset {exc.start})"
            ) from None
    try:
        return strict_json(text)
    except ValueError as exc:
        raise InputError(f"{where}: not JSON: {exc}") from None


def parse_payload_option(
    option: str, value: str, *, response: bool, sender: str
) -> tuple[Action, Model | None]:
    """``ACTION[=JSON|@file]`` as the action and its validated message (None when not given).

    ``response`` picks the response class (else the request); ``sender`` (``cp`` or ``cs``) is the
    side that must send the action's request.
    """
    from ocpp16 import resolve_action, violations
    from ocpp16.errors import InputError, SchemaViolations

    name, has_payload, text = value.partition("=")
    action = resolve_action(name)
    sends = (
        action.sender.charge_point_sends if sender == "cp" else action.sender.central_system_sends
    )
    if not sends:
        role = "charge points send" if sender == "cp" else "the central system sends"
        raise InputError(
            f"{option} {action.name}: {option} takes actions that {role}; "
            f"{action.name} goes the other way"
        )
    if not has_payload:
        return action, None
    where = f"{option} {action.name}"
    payload = load_json(text, where)
    cls = action.response if response else action.request
    found = violations(payload, cls)
    if found:  # every violation at once, as send's --param lists them
        count = f"{len(found)} violations" if len(found) > 1 else "a violation"
        raise InputError(f"{where} breaks its schema ({count}): {SchemaViolations(found)}")
    return action, cls.from_dict(payload)
