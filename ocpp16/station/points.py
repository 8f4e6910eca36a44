"""One connector's whole state, and the status it means.

A :class:`Point` gathers what the station knows of a connector: the EV plugged in, the
transaction, an idTag authorized and waiting for the EV, an Authorize waiting for its answer, a
reservation, a fault, the availability (and a ChangeAvailability waiting for the transaction to
end), the meter. :meth:`Point.derive` turns that into the ChargePointStatus, in one place, so a
status can never disagree with the state: a fault first, then the transaction (Charging,
SuspendedEV when the EV takes nothing, SuspendedEVSE when nothing is offered), Finishing (stopped,
cable still in), Unavailable, Reserved, Preparing (an EV or an idTag waiting), Available.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ocpp16._generated.datatypes import ChargingProfile
from ocpp16._generated.enums import ChargePointErrorCode, ChargePointStatus
from ocpp16.station.connectors import Connector
from ocpp16.station.meter import EV, Meter
from ocpp16.station.outbound import Call, Transaction

__all__ = ["Authorization", "PendingAuthorize", "Point", "Reservation"]


@dataclass(slots=True)
class Reservation:
    """A ReserveNow in force (expiry on the station's clock)."""

    reservation_id: int
    id_tag: str
    parent_id_tag: str | None
    expiry: datetime

    def admits(self, id_tag: str, parent_id_tag: str | None) -> bool:
        """Only the reserved idTag, or one with the same parent, may use the reservation."""
        return id_tag == self.id_tag or (
            self.parent_id_tag is not None and parent_id_tag == self.parent_id_tag
        )


@dataclass(slots=True)
class Authorization:
    """An idTag authorized on a connector, waiting for the EV (or about to start)."""

    id_tag: str
    parent_id_tag: str | None
    deadline: datetime
    profile: ChargingProfile | None = None
    reservation_id: int | None = None


@dataclass(slots=True)
class PendingAuthorize:
    """An Authorize sent for a connector, waiting for its answer."""

    id_tag: str
    call: Call
    profile: ChargingProfile | None


class Point:
    """One connector's whole state (index 0 is the charge point itself)."""

    __slots__ = (
        "auth",
        "connector",
        "ev",
        "fault",
        "finishing",
        "meter",
        "next_sample",
        "offered_w",
        "operative",
        "pending",
        "reservation",
        "scheduled",
        "tx",
    )

    def __init__(self, connector_id: int, now: datetime, phases: int) -> None:
        self.connector = Connector(connector_id, now)
        self.meter = Meter(phases=phases)
        self.ev: EV | None = None
        self.tx: Transaction | None = None
        self.finishing = False
        self.auth: Authorization | None = None
        self.pending: PendingAuthorize | None = None
        self.reservation: Reservation | None = None
        self.fault: ChargePointErrorCode | None = None
        self.operative = True
        #: ChangeAvailability waiting for the transaction to end (True: Operative).
        self.scheduled: bool | None = None
        self.next_sample: datetime | None = None
        self.offered_w = 0.0

    def derive(self, charge_point_operative: bool) -> ChargePointStatus:
        """The status this state means (the station's one source of connector statuses)."""
        s = ChargePointStatus
        if self.fault is not None:
            return s.FAULTED
        if self.tx is not None:
            if self.offered_w <= 0:
                return s.SUSPENDED_EVSE
            if self.meter.power_w <= 0:
                return s.SUSPENDED_EV
            return s.CHARGING
        if self.finishing:
            return s.FINISHING
        if not (self.operative and charge_point_operative):
            return s.UNAVAILABLE
        if self.reservation is not None:
            return s.RESERVED
        if self.ev is not None or self.auth is not None or self.pending is not None:
            return s.PREPARING
        return s.AVAILABLE
