"""ocpp16: typed OCPP 1.6-J messages, a charge point client and a central system server.

The messages are generated from the OCPP 1.6 JSON schemas::

    from ocpp16 import BootNotificationRequest, ACTIONS

    request = BootNotificationRequest.random(full=True)
    payload = request.to_dict()
    again = BootNotificationRequest.from_dict(payload)
"""

from ocpp16 import _generated
from ocpp16._action import Action, Sender
from ocpp16._generated import *  # noqa: F403  (the generated API; its __all__ lists it)
from ocpp16._model import Model, Request, Response
from ocpp16.errors import (
    CallError,
    CallTimeout,
    ConnectError,
    ConnectionClosed,
    DNSError,
    FrameError,
    HandshakeError,
    InvalidResponse,
    OcppError,
    RefusedError,
    SubprotocolError,
    TLSError,
    TransportError,
    UnknownAction,
    ValidationError,
)
from ocpp16.registry import resolve_action

__version__ = "0.1.0"

__all__ = [
    "Action",
    "CallError",
    "CallTimeout",
    "ConnectError",
    "ConnectionClosed",
    "DNSError",
    "FrameError",
    "HandshakeError",
    "InvalidResponse",
    "Model",
    "OcppError",
    "RefusedError",
    "Request",
    "Response",
    "Sender",
    "SubprotocolError",
    "TLSError",
    "TransportError",
    "UnknownAction",
    "ValidationError",
    "resolve_action",
]
__all__ += _generated.__all__
