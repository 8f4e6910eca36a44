"""Central systems for checking ``ocpp16 check``: ocpp16's own dispatcher with one fault each.

:func:`faulty` answers every CALL as ocpp16's dispatcher says (a random valid response, or the
CALLERROR of the first violation), unless the fault answers first. :func:`first_edition` is a
strict central system following the first published JSON schemas of OCPP 1.6, not the errata.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import ServerConnection

from ocpp16 import ACTIONS
from ocpp16._action import Sender
from ocpp16._dispatch import Invalid, Valid, receive, result_frame
from ocpp16.frames import encode

__all__ = ["Fault", "faulty", "first_edition", "refuse"]

#: What a fault makes of an incoming CALL: text to send, "" to send nothing, "close" to close
#: the connection, or None to answer as the dispatcher says.
Fault = Callable[[Valid | Invalid], str | None]


def faulty(fault: Fault) -> Callable[[ServerConnection], Any]:
    """A central system answering as ocpp16's dispatcher says, unless ``fault`` answers first."""

    async def handler(connection: ServerConnection) -> None:
        async for message in connection:
            incoming = receive(message, Sender.CP)
            if not isinstance(incoming, Valid | Invalid):
                continue
            reply = fault(incoming)
            if reply == "close":
                await connection.close()
                return
            if reply is None:
                if isinstance(incoming, Valid):
                    response = incoming.action.response.random()
                    reply = encode(result_frame(incoming, response))
                else:
                    reply = encode(incoming.reply)
            if reply:
                await connection.send(reply)

    return handler


def refuse(incoming: Valid | Invalid, code: str, description: str, details: Any = None) -> str:
    """A CALLERROR answering ``incoming`` (details ``{}`` unless given)."""
    unique_id = (
        incoming.frame.unique_id if isinstance(incoming, Valid) else incoming.reply.unique_id
    )
    return json.dumps([4, unique_id, code, description, {} if details is None else details])


#: The UnitOfMeasure values the errata sheet added; the first-edition schemas lack them.
ERRATA_ONLY = frozenset({"Celsius", "Hertz"})


def _units(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["unit"]} if isinstance(value.get("unit"), str) else set()
        return found.union(*(_units(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_units(v) for v in value))
    return set()


def first_edition(incoming: Valid | Invalid) -> str | None:
    """Strict as the first-edition schemas are: ``Celsius`` and ``Hertz`` are unknown units, and
    empty ``meterValue`` / ``sampledValue`` arrays are valid (no minItems)."""
    if isinstance(incoming, Valid):
        if incoming.action.name in ("MeterValues", "StopTransaction"):
            refused = sorted(_units(incoming.frame.payload) & ERRATA_ONLY)
            if refused:
                return refuse(incoming, "PropertyConstraintViolation", f"unknown unit {refused[0]}")
        return None
    description = incoming.reply.description
    if "violates minItems" in description and ";" not in description:
        raw = incoming.raw
        return json.dumps([3, raw[1], ACTIONS[raw[2]].response.random().to_dict()])
    return None
