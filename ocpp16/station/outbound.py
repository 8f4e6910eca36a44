"""What a Station asks its driver to do, what it tells observers, and its transactions.

- :class:`Call`: a typed request to send as a CALL. ``transactional`` marks StartTransaction,
  StopTransaction and transaction MeterValues: the station queues those while offline and
  retries them; every other Call is sent at once or not at all. The driver hands the Call back to
  :meth:`Station.handle_answer` with what came of it.
- :class:`Reconnect`: close the connection, stay away ``offline_s`` seconds (a reset's reboot,
  a firmware installation, a planned network loss), then connect again.
- :class:`StationEvent`: a change worth showing (a status, a transaction, a refusal...), for a
  live view or ``--json``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from ocpp16._generated.datatypes import MeterValue
from ocpp16._generated.enums import ChargePointErrorCode, ChargePointStatus, Reason
from ocpp16._model import Request

__all__ = [
    "Call",
    "ConnectorState",
    "Outbound",
    "Reconnect",
    "StationEvent",
    "Transaction",
    "TxEntry",
    "reconnect_delay",
]

#: Reconnection backoff: the first delay, the longest, and the jitter (a delay is drawn between
#: (1 - _JITTER) and 1 times its exponential value, so a fleet does not reconnect in step).
BACKOFF_FIRST_S: Final = 1.0
BACKOFF_MAX_S: Final = 300.0
_JITTER: Final = 0.5


@dataclass(eq=False, slots=True)
class Transaction:
    """One charging session, from StartTransaction to StopTransaction."""

    key: int
    connector_id: int
    id_tag: str
    parent_id_tag: str | None
    meter_start: int
    #: When it started: on the driver's clock (timers) and the station's (messages).
    started: datetime
    started_clock: datetime
    reservation_id: int | None = None
    #: The central system's id, from the StartTransaction answer.
    transaction_id: int | None = None
    #: The StopTxnSampledData / StopTxnAlignedData readings for StopTransaction.transactionData.
    data: list[MeterValue] = field(default_factory=list)
    #: No energy flows: the central system said the idTag is not valid (and
    #: StopTransactionOnInvalidId is false), or the charge point suspends it.
    suspended: bool = False
    stop_reason: Reason | None = None


@dataclass(eq=False, slots=True)
class TxEntry:
    """A transaction message waiting in the queue; its request is built when it is sent, so that
    it carries the transactionId even when the StartTransaction answer came after it was queued."""

    kind: Literal["start", "meter", "stop"]
    tx: Transaction
    meter_value: list[MeterValue] | None = None
    stop_meter: int = 0
    stop_time: datetime | None = None
    stop_id_tag: str | None = None
    attempts: int = 0
    not_before: datetime | None = None
    in_flight: Call | None = None


@dataclass(eq=False, slots=True)
class Call:
    """A request for the driver to send; hand it back to ``Station.handle_answer``."""

    request: Request[Any]
    transactional: bool = False
    connector_id: int | None = None
    #: Sent because of a TriggerMessage (allowed while the boot is Pending).
    triggered: bool = False
    entry: TxEntry | None = field(default=None, repr=False)

    @property
    def action(self) -> str:
        return self.request.ACTION


@dataclass(frozen=True, slots=True)
class Reconnect:
    """Close the connection, wait ``offline_s`` seconds, connect again (and report both)."""

    reason: Literal["reset", "firmware", "plan"]
    offline_s: float


Outbound = Call | Reconnect


@dataclass(frozen=True, slots=True)
class StationEvent:
    """A change in the station: ``kind`` (status, transaction-started, ...), the connector
    concerned (None for the whole station), a one-line ``detail`` and structured ``data``."""

    at: datetime
    kind: str
    connector_id: int | None
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConnectorState:
    """One connector as a live view shows it (connector 0: the charge point)."""

    connector_id: int
    status: ChargePointStatus
    error_code: ChargePointErrorCode
    power_w: float
    offered_w: float
    energy_wh: int
    transaction_id: int | None
    id_tag: str | None
    session_wh: int | None
    soc_percent: int | None


def reconnect_delay(failures: int, rng: random.Random) -> float:
    """How long a driver waits before its next connection attempt after ``failures`` failed
    ones in a row: exponential from BACKOFF_FIRST_S up to BACKOFF_MAX_S, with jitter."""
    ceiling = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2.0 ** min(max(failures, 0), 30))
    return ceiling * rng.uniform(1.0 - _JITTER, 1.0)
