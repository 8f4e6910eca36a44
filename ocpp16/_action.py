"""What the registry knows of an action."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from ocpp16._model import Model

__all__ = ["Action", "Sender"]


class Sender(StrEnum):
    """Which side sends an action's request."""

    CP = "cp"
    CS = "cs"
    BOTH = "both"

    @property
    def charge_point_sends(self) -> bool:
        return self is not Sender.CS

    @property
    def central_system_sends(self) -> bool:
        return self is not Sender.CP


@attrs.frozen
class Action:
    """One of the 28 OCPP 1.6 actions."""

    name: str
    sender: Sender
    summary: str
    request: type[Model]
    response: type[Model]
