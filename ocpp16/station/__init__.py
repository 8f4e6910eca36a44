"""A charge point's behaviour without I/O: the model behind ``ocpp16 sim``, load and fuzzing.

- :mod:`~ocpp16.station.station`: :class:`Station`, the charge point (its docstring shows how a
  driver uses it), built on :mod:`~ocpp16.station.sessions` (what users and the central system
  do to sessions) and :mod:`~ocpp16.station.core` (the state, the clock, derived statuses);
- :mod:`~ocpp16.station.points`: one connector's state and the status it means;
- :mod:`~ocpp16.station.txqueue`: transaction messages, queued offline, retried, in order;
- :mod:`~ocpp16.station.transfers`: the diagnostics and firmware status sequences;
- :mod:`~ocpp16.station.connectors`: the ChargePointStatus transition table;
- :mod:`~ocpp16.station.meter`: the power model, the energy register, sampled values;
- :mod:`~ocpp16.station.config`: configuration keys, GetConfiguration, ChangeConfiguration;
- :mod:`~ocpp16.station.auth`: the local authorization list and the authorization cache;
- :mod:`~ocpp16.station.smart`: charging profiles, the limit in force, the composite schedule;
- :mod:`~ocpp16.station.handlers`: what each CS->CP request does and answers;
- :mod:`~ocpp16.station.plan`: plan files and random sessions;
- :mod:`~ocpp16.station.outbound`: Call, Reconnect, StationEvent, ConnectorState, backoff.
"""

from ocpp16.station.outbound import (
    Call,
    ConnectorState,
    Outbound,
    Reconnect,
    StationEvent,
    Transaction,
    reconnect_delay,
)
from ocpp16.station.plan import PlanError, PlanEvent, auto_sessions, load_plan, schedule_plan
from ocpp16.station.station import Station

__all__ = [
    "Call",
    "ConnectorState",
    "Outbound",
    "PlanError",
    "PlanEvent",
    "Reconnect",
    "Station",
    "StationEvent",
    "Transaction",
    "auto_sessions",
    "load_plan",
    "reconnect_delay",
    "schedule_plan",
]
