"""ocpp16: typed OCPP 1.6-J messages, a charge point client and a central system server.

The messages are generated from the OCPP 1.6 JSON schemas::

    from ocpp16 import BootNotificationRequest, ACTIONS

    request = BootNotificationRequest.random(full=True)
    payload = request.to_dict()
    again = BootNotificationRequest.from_dict(payload)

and sent as a charge point (``connect`` loads the WebSocket client on first use)::

    with ocpp16.connect("ws://localhost:9000/ocpp/CP001") as cp:
        response = cp.call(HeartbeatRequest())  # a HeartbeatResponse
"""

from typing import TYPE_CHECKING, Any

from ocpp16 import _generated
from ocpp16._action import Action, Sender
from ocpp16._model import Model, Request, Response
from ocpp16._violations import violations
from ocpp16.errors import (
    CallError,
    CallTimeout,
    ConnectError,
    ConnectionClosed,
    DNSError,
    FrameError,
    HandshakeError,
    InputError,
    InvalidResponse,
    OcppError,
    RefusedError,
    SchemaViolations,
    SubprotocolError,
    TLSError,
    TransportError,
    UnknownAction,
    ValidationError,
)
from ocpp16.registry import resolve_action

if TYPE_CHECKING:
    from ocpp16._generated import *  # noqa: F403  (the generated API, loaded on first use)
    from ocpp16.client import ChargePoint, connect

if TYPE_CHECKING:
    from ocpp16.sim import SimResult, SimulatedChargePoint, run_fleet

if TYPE_CHECKING:
    from ocpp16.server import (
        CentralSystem,
        ChargePointSession,
        ConnectionEvent,
        Exchange,
        FrameEvent,
        Server,
        server_ssl_context,
    )

__version__ = "0.1.0"

__all__ = [
    "Action",
    "CallError",
    "CallTimeout",
    "CentralSystem",
    "ChargePoint",
    "ChargePointSession",
    "ConnectError",
    "ConnectionClosed",
    "ConnectionEvent",
    "DNSError",
    "Exchange",
    "FrameError",
    "FrameEvent",
    "HandshakeError",
    "InputError",
    "InvalidResponse",
    "Model",
    "OcppError",
    "RefusedError",
    "Request",
    "Response",
    "SchemaViolations",
    "Sender",
    "Server",
    "SimResult",
    "SimulatedChargePoint",
    "SubprotocolError",
    "TLSError",
    "TransportError",
    "UnknownAction",
    "ValidationError",
    "connect",
    "resolve_action",
    "run_fleet",
    "server_ssl_context",
    "violations",
]
__all__ += _generated.__all__

# The server pulls in websockets' server and ssl: loaded on first use, not by `import ocpp16`.
_SERVER_NAMES = frozenset(
    {
        "CentralSystem",
        "ChargePointSession",
        "ConnectionEvent",
        "Exchange",
        "FrameEvent",
        "Server",
        "server_ssl_context",
    }
)


# The generated classes load per action on first use (see ocpp16._generated).
_GENERATED_NAMES = frozenset(_generated.__all__)

# The client pulls in websocket-client: loaded on first use too.
_CLIENT_NAMES = frozenset({"ChargePoint", "connect"})

# The simulator pulls in the station model and websockets' asyncio client: on first use.
_SIM_NAMES = frozenset({"SimResult", "SimulatedChargePoint", "run_fleet"})


def __getattr__(name: str) -> Any:
    if name in _GENERATED_NAMES:
        value = getattr(_generated, name)
        globals()[name] = value
        return value
    if name in _SERVER_NAMES:
        from ocpp16 import server

        return getattr(server, name)
    if name in _CLIENT_NAMES:
        from ocpp16 import client

        return getattr(client, name)
    if name in _SIM_NAMES:
        from ocpp16 import sim

        return getattr(sim, name)
    raise AttributeError(f"module 'ocpp16' has no attribute {name!r}")
