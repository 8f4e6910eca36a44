"""The state of a Station and its bookkeeping: the clock, the connectors' points, the meters,
the statuses derived from the state, the events, and the requests built from them.

StationCore holds everything; sessions.py adds what users and the central system do to the
sessions (plug in, authorize, start, stop, reserve, ...); station.py adds the protocol (connection,
boot, heartbeat, what is due, answers, timers). Read station.py's docstring for the driver's API.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from ocpp16._generated.boot_notification import (
    BootNotificationRequest,
)
from ocpp16._generated.datatypes import MeterValue
from ocpp16._generated.enums import (
    ChargePointErrorCode,
    ChargePointStatus,
    Measurand,
    ReadingContext,
    Reason,
    RegistrationStatus,
)
from ocpp16._generated.meter_values import MeterValuesRequest
from ocpp16._generated.status_notification import StatusNotificationRequest
from ocpp16._model import Request
from ocpp16._text import printable, shorten
from ocpp16.errors import InputError
from ocpp16.station._time import plausible
from ocpp16.station.auth import Authorizer
from ocpp16.station.config import Configuration
from ocpp16.station.meter import EV, NOMINAL_VOLTAGE, power_drawn, sampled_values
from ocpp16.station.outbound import (
    Call,
    ConnectorState,
    Reconnect,
    StationEvent,
    Transaction,
)
from ocpp16.station.points import Point, Reservation
from ocpp16.station.smart import SmartCharging, TxContext
from ocpp16.station.transfers import Transfers
from ocpp16.station.txqueue import TxQueue

__all__ = ["MAX_CONNECTORS", "StationCore"]

#: Most connectors one station models.
MAX_CONNECTORS: Final = 100
#: Other messages waiting for the driver's next poll.
MAX_OUTBOX: Final = 100
#: Events kept for drain_events(); the oldest go first.
MAX_EVENTS: Final = 1000
#: Readings kept for one StopTransaction.transactionData (the Transaction.End one always is).
MAX_TX_DATA: Final = 48


class StationCore:
    """The state of one charge point and its bookkeeping (see the module docstring)."""

    def __init__(
        self,
        identity: str,
        *,
        now: datetime,
        connectors: int = 1,
        vendor: str = "ocpp16",
        model: str = "sim",
        serial_number: str | None = None,
        firmware_version: str = "1.0.0",
        config: Mapping[str, str] | None = None,
        connector_max_w: float = 22_000.0,
        phases: int = 3,
        rng: random.Random | None = None,
        data_transfer: Mapping[str, str | None] | None = None,
    ) -> None:
        if not 1 <= connectors <= MAX_CONNECTORS:
            raise InputError(f"connectors: expected 1 to {MAX_CONNECTORS}, got {connectors}")
        for name, value, limit in (
            ("vendor", vendor, 20),
            ("model", model, 20),
            ("serial number", serial_number or "", 25),
            ("firmware version", firmware_version, 50),
        ):
            if len(value) > limit:
                raise InputError(f"{name}: at most {limit} characters, got {len(value)}")
        if now.utcoffset() is None:
            raise InputError("now: needs a timezone (an aware UTC datetime)")
        self.identity = identity
        self.vendor = vendor
        self.model = model
        self.serial_number = serial_number
        self.firmware_version = firmware_version
        self.config = Configuration(config)
        self.config.set_internal("NumberOfConnectors", str(connectors))
        self.rng = rng or random.Random(0)
        self.auth = Authorizer()
        self.smart = SmartCharging(
            voltage=NOMINAL_VOLTAGE,
            connector_max_w=connector_max_w,
            connectors=connectors,
            max_installed=self.config.integer("MaxChargingProfilesInstalled"),
            max_stack_level=self.config.integer("ChargeProfileMaxStackLevel"),
            max_periods=self.config.integer("ChargingScheduleMaxPeriods"),
        )
        self.data_transfer = dict(data_transfer or {})
        self.points = [Point(i, now, phases) for i in range(connectors + 1)]
        #: A reservation of connector 0: any connector, while one stays free for it.
        self.reservation: Reservation | None = None
        self.online = False
        self.registration: RegistrationStatus | None = None
        self.skew = timedelta(0)
        self._last = now
        self._boot_due: datetime | None = None
        self._boot_in_flight = False
        self._heartbeat_due: datetime | None = None
        self._next_aligned: datetime | None = None
        self._outbox: deque[Call] = deque(maxlen=MAX_OUTBOX)
        self._queue = TxQueue()
        self._events: deque[StationEvent] = deque(maxlen=MAX_EVENTS)
        self._intents: list[Reconnect] = []
        self._reset: tuple[Reason, datetime] | None = None
        self._reboot_pending: Literal["reset", "firmware"] | None = None
        self._tx_keys = 0
        self.transfers = Transfers()
        self._plan: deque[tuple[datetime, Any]] = deque()
        self._realign(now)

    def clock(self, now: datetime) -> datetime:
        """The station's clock at driver time ``now`` (set from the central system's time)."""
        return (now + self.skew).astimezone(UTC)

    def _set_clock(self, current_time: datetime, now: datetime) -> None:
        if not plausible(current_time):
            self._event(now, "clock", None, f"currentTime {current_time.isoformat()} not taken")
            return
        self.skew = current_time - now
        self._realign(now)

    @property
    def connectors(self) -> int:
        return len(self.points) - 1

    def status(self, connector_id: int) -> ChargePointStatus:
        return self.points[connector_id].connector.status

    def power_w(self, connector_id: int) -> float:
        return self.points[connector_id].meter.power_w

    def energy_wh(self, connector_id: int) -> int:
        """The register in whole Wh (the number meterStart and meterStop carry)."""
        return self.points[connector_id].meter.whole_wh

    def transaction(self, connector_id: int) -> Transaction | None:
        return self.points[connector_id].tx

    def ev(self, connector_id: int) -> EV | None:
        return self.points[connector_id].ev

    @property
    def queued(self) -> int:
        """Transaction messages waiting (offline, or behind the one in flight)."""
        return len(self._queue)

    def drain_events(self) -> list[StationEvent]:
        """The events since the last call, oldest first (at most MAX_EVENTS are kept)."""
        events = list(self._events)
        self._events.clear()
        return events

    def snapshot(self) -> list[ConnectorState]:
        """Every connector as a live view shows it (connector 0 first)."""
        states = []
        for point in self.points:
            tx = point.tx
            ev = point.ev
            states.append(
                ConnectorState(
                    connector_id=point.connector.connector_id,
                    status=point.connector.status,
                    error_code=point.connector.error_code,
                    power_w=point.meter.power_w,
                    offered_w=point.offered_w,
                    energy_wh=point.meter.whole_wh,
                    transaction_id=tx.transaction_id if tx else None,
                    id_tag=tx.id_tag if tx else None,
                    session_wh=point.meter.whole_wh - tx.meter_start if tx else None,
                    soc_percent=ev.soc_percent if ev else None,
                )
            )
        return states

    def _event(
        self, now: datetime, kind: str, connector_id: int | None, detail: str, **data: Any
    ) -> None:
        # Details carry text from the central system (idTags, CALLERROR descriptions): made safe
        # to print and bounded here, once.
        safe = shorten(printable(detail))
        self._events.append(StationEvent(self.clock(now), kind, connector_id, safe, data))

    def advance(self, now: datetime) -> None:
        self._advance(now)

    def refresh(self, now: datetime) -> None:
        self._refresh(now)

    def tx_context(self, tx: Transaction) -> TxContext:
        return self._tx_context(tx)

    def _tx_context(self, tx: Transaction) -> TxContext:
        return TxContext(tx.key, tx.transaction_id, tx.started_clock)

    def _tx_contexts(self) -> dict[int, TxContext]:
        return {p.tx.connector_id: self._tx_context(p.tx) for p in self.points if p.tx is not None}

    def _operative(self, point: Point) -> bool:
        return point.operative and self.points[0].operative

    def _point(self, connector_id: int) -> Point:
        if not 1 <= connector_id <= self.connectors:
            raise InputError(f"connector {connector_id}: expected 1 to {self.connectors}")
        return self.points[connector_id]

    def _boot_request(self) -> BootNotificationRequest:
        return BootNotificationRequest(
            charge_point_vendor=self.vendor,
            charge_point_model=self.model,
            charge_point_serial_number=self.serial_number,
            firmware_version=self.firmware_version,
        )

    def _status_request(self, point: Point, now: datetime) -> StatusNotificationRequest:
        c = point.connector
        return StatusNotificationRequest(
            connector_id=c.connector_id,
            error_code=c.error_code,
            status=c.status,
            timestamp=self.clock(now),
        )

    def send_later(self, request: Request[Any], *, triggered: bool = False) -> None:
        """Queue a non-transaction request for the next poll (dropped when offline)."""
        if self.online:
            self._outbox.append(Call(request, triggered=triggered))

    def trigger_status(self, connector_id: int, now: datetime) -> None:
        point = self.points[connector_id]
        point.connector.reported = point.connector.status
        self._outbox.append(
            Call(self._status_request(point, now), connector_id=connector_id, triggered=True)
        )

    def boot_request(self) -> BootNotificationRequest:
        return self._boot_request()

    def _realign(self, now: datetime) -> None:
        """The next clock-aligned reading, on the station's clock (None when disabled)."""
        interval = self.config.integer("ClockAlignedDataInterval")
        if interval <= 0:
            self._next_aligned = None
            return
        clock = self.clock(now)
        midnight = clock.replace(hour=0, minute=0, second=0, microsecond=0)
        elapsed = (clock - midnight).total_seconds()
        self._next_aligned = midnight + timedelta(seconds=(elapsed // interval + 1) * interval)

    def realign(self, now: datetime) -> None:
        self._realign(now)

    def _advance(self, now: datetime) -> None:
        """Count the energy drawn since the last call (time never goes backwards here)."""
        seconds = (now - self._last).total_seconds()
        if seconds <= 0:
            return
        for point in self.points[1:]:
            point.meter.advance(seconds, point.ev)
        self._last = now

    def _refresh(self, now: datetime) -> None:
        """Recompute power and statuses from the state; record status changes."""
        clock = self.clock(now)
        zero = self.points[0]
        for point in self.points[1:]:
            tx = point.tx
            if tx is None:
                point.meter.power_w = 0.0
                point.offered_w = 0.0
            else:
                limit = self.smart.limit_w(
                    point.connector.connector_id, clock, self._tx_context(tx)
                )
                energy_flows = not tx.suspended and point.fault is None and zero.fault is None
                point.offered_w = limit if energy_flows else 0.0
                point.meter.power_w = power_drawn(point.ev, point.offered_w)
            self._set_status(point, point.derive(self.points[0].operative), now)
        if zero.fault is not None:
            status = ChargePointStatus.FAULTED
        elif not zero.operative:
            status = ChargePointStatus.UNAVAILABLE
        else:
            status = ChargePointStatus.AVAILABLE
        self._set_status(zero, status, now)

    def _set_status(self, point: Point, status: ChargePointStatus, now: datetime) -> None:
        c = point.connector
        old = c.status
        code = point.fault or ChargePointErrorCode.NO_ERROR
        if status == old and code == c.error_code:
            return
        legal = c.set_status(status, now, code)
        if (
            self.online
            and self.registration == RegistrationStatus.ACCEPTED
            and self.config.integer("MinimumStatusDuration") <= 0
        ):
            # Every status is reported, however briefly held: queued now, in order.
            c.reported = status
            self._outbox.append(Call(self._status_request(point, now), connector_id=c.connector_id))
        self._event(
            now,
            "status",
            c.connector_id,
            f"{old.value} -> {status.value}",
            status=status.value,
            previous=old.value,
        )
        if not legal:
            self._event(now, "illegal-transition", c.connector_id, f"{old.value} -> {status.value}")

    def _meter_value(
        self, point: Point, measurands: list[Measurand], context: ReadingContext, now: datetime
    ) -> MeterValue | None:
        reading = point.meter.read(self.rng, point.offered_w, point.ev)
        values = sampled_values(reading, measurands, context)
        if not values:
            return None
        return MeterValue(timestamp=self.clock(now), sampled_value=values)

    def meter_values_request(
        self, connector_id: int, context: ReadingContext, now: datetime
    ) -> MeterValuesRequest | None:
        """A MeterValues of MeterValuesSampledData for ``connector_id`` (TriggerMessage)."""
        point = self.points[connector_id]
        measurands = self.config.measurands("MeterValuesSampledData")
        value = self._meter_value(point, measurands, context, now)
        if value is None:
            return None
        tx_id = point.tx.transaction_id if point.tx is not None else None
        return MeterValuesRequest(
            connector_id=connector_id, meter_value=[value], transaction_id=tx_id
        )
