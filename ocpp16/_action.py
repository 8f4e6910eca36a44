"""What the registry knows of an action."""

from __future__ import annotations

from enum import StrEnum
from importlib import import_module
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from ocpp16._model import Request, Response

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


# (request, response) by action name, filled as the generated modules load.
_classes: dict[str, tuple[Any, Any]] = {}


@attrs.frozen
class Action:
    """One of the 28 OCPP 1.6 actions; its classes are imported on first use."""

    name: str
    sender: Sender
    summary: str
    module: str = attrs.field(repr=False)

    @property
    def request(self) -> type[Request[Any]]:
        """The class of this action's CALL payload (``BootNotificationRequest``)."""
        found = _classes.get(self.name) or self._load()
        request: type[Request[Any]] = found[0]
        return request

    @property
    def response(self) -> type[Response]:
        """The class of this action's CALLRESULT payload (``BootNotificationResponse``)."""
        found = _classes.get(self.name) or self._load()
        response: type[Response] = found[1]
        return response

    def _load(self) -> tuple[Any, Any]:
        module = import_module(self.module)
        found = (getattr(module, f"{self.name}Request"), getattr(module, f"{self.name}Response"))
        _classes[self.name] = found
        return found
