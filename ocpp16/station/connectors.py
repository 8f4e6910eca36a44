"""Connector status: OCPP 1.6's ChargePointStatus state machine and MinimumStatusDuration.

The transition table is the one of the specification (section 4.9, "Status notification"):
a row per status left, the statuses it may be left to. Connector 0 (the charge point as a whole)
only takes Available, Unavailable and Faulted. Faulted may be entered from any status and left to
any status, which is how a charge point recovers to wherever it stands after the fault.

A :class:`Connector` holds the status in force and the status last reported to the central
system. :meth:`Connector.due_report` says whether a StatusNotification is owed: a status is
reported once it has been held for ``MinimumStatusDuration`` seconds, so a status held shorter is
never reported and the later one is.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from ocpp16._generated.enums import ChargePointErrorCode, ChargePointStatus

__all__ = [
    "CONNECTOR_ZERO_STATUSES",
    "TRANSITIONS",
    "Connector",
    "is_legal",
]

S = ChargePointStatus

#: Status left -> statuses it may be left to (the spec's table; A1..I8 in its numbering).
TRANSITIONS: Final[dict[ChargePointStatus, frozenset[ChargePointStatus]]] = {
    S.AVAILABLE: frozenset(
        {S.PREPARING, S.CHARGING, S.SUSPENDED_EV, S.SUSPENDED_EVSE, S.RESERVED, S.UNAVAILABLE}
    ),
    S.PREPARING: frozenset(
        {S.AVAILABLE, S.CHARGING, S.SUSPENDED_EV, S.SUSPENDED_EVSE, S.FINISHING}
    ),
    S.CHARGING: frozenset(
        {S.AVAILABLE, S.SUSPENDED_EV, S.SUSPENDED_EVSE, S.FINISHING, S.UNAVAILABLE}
    ),
    S.SUSPENDED_EV: frozenset(
        {S.AVAILABLE, S.CHARGING, S.SUSPENDED_EVSE, S.FINISHING, S.UNAVAILABLE}
    ),
    S.SUSPENDED_EVSE: frozenset(
        {S.AVAILABLE, S.CHARGING, S.SUSPENDED_EV, S.FINISHING, S.UNAVAILABLE}
    ),
    S.FINISHING: frozenset({S.AVAILABLE, S.PREPARING, S.UNAVAILABLE}),
    S.RESERVED: frozenset({S.AVAILABLE, S.PREPARING, S.UNAVAILABLE}),
    S.UNAVAILABLE: frozenset(
        {S.AVAILABLE, S.PREPARING, S.CHARGING, S.SUSPENDED_EV, S.SUSPENDED_EVSE}
    ),
    S.FAULTED: frozenset(set(S) - {S.FAULTED}),
}
# Faulted may be entered from every status.
for _status, _targets in list(TRANSITIONS.items()):
    if _status is not S.FAULTED:
        TRANSITIONS[_status] = _targets | {S.FAULTED}

#: The only statuses connector 0 (the charge point itself) reports.
CONNECTOR_ZERO_STATUSES: Final = frozenset({S.AVAILABLE, S.UNAVAILABLE, S.FAULTED})


def is_legal(connector_id: int, old: ChargePointStatus, new: ChargePointStatus) -> bool:
    """Whether ``old`` -> ``new`` is a transition OCPP 1.6 allows on this connector."""
    if connector_id == 0:
        return new in CONNECTOR_ZERO_STATUSES and old != new
    return new in TRANSITIONS[old]


class Connector:
    """One connector's status: the one in force, since when, and the one last reported."""

    __slots__ = ("changed_at", "connector_id", "error_code", "info", "reported", "status")

    def __init__(self, connector_id: int, now: datetime) -> None:
        self.connector_id = connector_id
        self.status = S.AVAILABLE
        self.error_code = ChargePointErrorCode.NO_ERROR
        self.info: str | None = None
        self.changed_at = now
        #: What the central system was last told (None: nothing yet, or it must be told again).
        self.reported: ChargePointStatus | None = None

    def set_status(
        self,
        status: ChargePointStatus,
        now: datetime,
        error_code: ChargePointErrorCode = ChargePointErrorCode.NO_ERROR,
    ) -> bool:
        """Enter ``status``; False when the table does not allow it (it is entered all the same,
        so the model never sticks; the station reports the anomaly as an event)."""
        if status == self.status and error_code == self.error_code:
            return True
        legal = status == self.status or is_legal(self.connector_id, self.status, status)
        self.status = status
        self.error_code = error_code
        self.changed_at = now
        return legal

    def due_report(self, now: datetime, minimum_duration_s: int) -> bool:
        """Whether a StatusNotification for the status in force is owed now."""
        if self.reported == self.status:
            return False
        return now - self.changed_at >= timedelta(seconds=max(0, minimum_duration_s))

    def report_at(self, minimum_duration_s: int) -> datetime | None:
        """When the status in force becomes reportable (None when it is already reported)."""
        if self.reported == self.status:
            return None
        return self.changed_at + timedelta(seconds=max(0, minimum_duration_s))
