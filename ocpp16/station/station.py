"""The Station: one charge point's behaviour, with no sockets, clocks or event loops inside.

A driver (asyncio, threads, gevent, a test) owns the connection and the clock and tells the
station what happens; the station says what to send. Every call takes ``now``, an aware UTC
datetime on the driver's clock (simulated or wall, ``--speed`` is the driver's business)::

    station = Station("CP001", now=now, connectors=2, config={"MeterValueSampleInterval": "30"})
    station.connected(now)                     # the WebSocket is open
    for out in station.poll(now):              # what is due now, in order
        if isinstance(out, Call):              # send out.request as a CALL, one at a time ...
            answer = ...                       # ... the typed response, a CallError (any
            station.handle_answer(out, answer, now)  # OcppError), or None: no answer at all
        else:                                  # a Reconnect: close, wait out.offline_s, reconnect
            ...
    response = station.handle_call(request, now)   # a CALL from the central system; raises
                                                   # CallError for one a charge point never gets
    sleep_until(station.next_wakeup())         # nothing changes before then unless told
    station.plug_in(1, now, id_tag="TAG1", energy_wh=20_000, max_power_w=11_000)
    station.drain_events()                     # StationEvents for a live view or --json

The driver's contract:

- ``connected(now)`` when the WebSocket is open, ``disconnected(now)`` when it is gone (after
  that, Calls still unanswered count as unanswered: transaction messages are sent again after the
  next ``connected``, the others are dropped). Reconnecting after a failure is the driver's, with
  :func:`~ocpp16.station.outbound.reconnect_delay` (exponential backoff with jitter).
- ``poll(now)`` returns what is due, in order: Calls to send one at a time, each handed back with
  ``handle_answer(call, answer, now)`` (the typed response, an OcppError such as CallError or
  InvalidResponse, or None when no answer came); a Reconnect, always last, means: send the Calls
  before it, then close, stay offline ``offline_s`` seconds, connect again (a reset, a firmware
  installation, a planned network loss).
- ``handle_call(request, now)`` answers a CALL of the central system with its typed response
  (CallError NotSupported for an action only a charge point sends). The driver sends the answer
  first, then polls: the follow-ups (the StatusNotification a TriggerMessage asks for, the
  StopTransaction after a RemoteStop, a DiagnosticsStatusNotification) are due at once.
- ``next_wakeup()``: sleep until then, or until a frame or a user event arrives, then poll. It is
  the earliest timer (heartbeat, sample, clock-aligned reading, retry, ConnectionTimeOut,
  reservation expiry, a profile's next period, the EV becoming full, a plan event), so a
  simulated clock can jump there directly: tests and ``--speed`` need no sleeps.

What a user or a plan does: ``plug_in(connector, now, id_tag=, energy_wh=, max_power_w=, soc=)``,
``present_id_tag``, ``unplug``, ``stop_local``, ``fault(connector, now, error_code)``,
``recover``, ``go_offline(seconds, now)``; plan.py's ``schedule_plan`` queues timed ones.
What a view shows: ``snapshot()`` (each connector's status, power, energy, transaction id,
idTag, SoC), ``status``/``power_w``/``energy_wh``/``transaction``, ``registration``,
``queued`` (transaction messages waiting), ``clock(now)`` (the station's clock, set from the
central system's), and ``drain_events()``: StationEvents (status, transaction-started,
transaction-id, transaction-stopped, authorized, refused, retry, dropped, boot, reboot,
reservation, availability, configuration, diagnostics, firmware, online, offline, ...), their
details escaped and bounded.

Rules the station keeps (OCPP 1.6 and its "how a real charge point behaves" reading):

- Nothing but BootNotification until it is Accepted; Pending: only what a TriggerMessage asks for;
  Rejected: silence until the interval has passed. Accepted: the clock is taken from currentTime
  (and from every Heartbeat answer), the interval becomes HeartbeatInterval, and every connector's
  status (0 included) is reported. Boot is sent again only after a reset or a firmware update.
- Transaction messages (StartTransaction, StopTransaction, MeterValues with a transactionId) wait
  in one queue, kept while offline and sent one at a time in order; a CALLERROR counts an
  attempt, retried TransactionMessageRetryInterval x attempts later, dropped after
  TransactionMessageAttempts. Everything else is sent at once, and dropped while offline.
- Connector statuses are derived from the state (EV plugged, transaction, fault, availability,
  reservation), follow the transition table of connectors.py and are reported per
  MinimumStatusDuration.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from ocpp16._generated.authorize import AuthorizeRequest, AuthorizeResponse
from ocpp16._generated.boot_notification import (
    BootNotificationRequest,
    BootNotificationResponse,
)
from ocpp16._generated.datatypes import ChargingProfile, IdTagInfo, MeterValue
from ocpp16._generated.diagnostics_status_notification import DiagnosticsStatusNotificationRequest
from ocpp16._generated.enums import (
    AuthorizationStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    FirmwareStatus,
    Measurand,
    ReadingContext,
    Reason,
    RegistrationStatus,
    ReservationStatus,
)
from ocpp16._generated.firmware_status_notification import FirmwareStatusNotificationRequest
from ocpp16._generated.heartbeat import HeartbeatRequest, HeartbeatResponse
from ocpp16._generated.meter_values import MeterValuesRequest
from ocpp16._generated.start_transaction import StartTransactionResponse
from ocpp16._generated.status_notification import StatusNotificationRequest
from ocpp16._generated.stop_transaction import StopTransactionResponse
from ocpp16._model import Request, Response
from ocpp16._text import printable, shorten
from ocpp16.errors import InputError, OcppError
from ocpp16.station._time import MAX_OFFSET_S, plausible
from ocpp16.station.auth import Authorizer
from ocpp16.station.config import KEYS, Configuration
from ocpp16.station.meter import EV, NOMINAL_VOLTAGE, power_drawn, sampled_values
from ocpp16.station.outbound import (
    Call,
    ConnectorState,
    Outbound,
    Reconnect,
    StationEvent,
    Transaction,
    TxEntry,
)
from ocpp16.station.points import Authorization, PendingAuthorize, Point, Reservation
from ocpp16.station.smart import SmartCharging, TxContext
from ocpp16.station.transfers import Transfers, next_version
from ocpp16.station.txqueue import TxQueue

__all__ = ["MAX_CONNECTORS", "Station"]

#: Most connectors one station models.
MAX_CONNECTORS: Final = 100
#: Other messages waiting for the driver's next poll.
MAX_OUTBOX: Final = 100
#: Events kept for drain_events(); the oldest go first.
MAX_EVENTS: Final = 1000
#: Readings kept for one StopTransaction.transactionData (the Transaction.End one always is).
MAX_TX_DATA: Final = 48
#: BootNotification retry when the answer gives no interval, or the CALL failed (s).
BOOT_RETRY_S: Final = 30
#: A reset waits this long for its StopTransactions to be answered before rebooting (s), and the
#: reboot keeps the station offline this long.
RESET_GRACE_S: Final = 10
REBOOT_S: Final = 2
#: Longest composite schedule computed (s); a longer request is answered for this long.
MAX_COMPOSITE_S: Final = 31 * 86400


class Station:
    """One charge point; see the module docstring for how a driver uses it."""

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

    # The clock ---------------------------------------------------------------------------------

    def clock(self, now: datetime) -> datetime:
        """The station's clock at driver time ``now`` (set from the central system's time)."""
        return (now + self.skew).astimezone(UTC)

    def _set_clock(self, current_time: datetime, now: datetime) -> None:
        if not plausible(current_time):
            self._event(now, "clock", None, f"currentTime {current_time.isoformat()} not taken")
            return
        self.skew = current_time - now
        self._realign(now)

    # Observing ---------------------------------------------------------------------------------

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

    # The connection ----------------------------------------------------------------------------

    def connected(self, now: datetime) -> None:
        """The WebSocket is open: boot if not registered, else resume sending."""
        self._advance(now)
        self.online = True
        if self.registration != RegistrationStatus.ACCEPTED:
            self._boot_due = max(now, self._boot_due or now)
        # Statuses changed while offline are reported now (reported != status).
        self._event(now, "online", None, "connected")
        self._refresh(now)

    def disconnected(self, now: datetime) -> None:
        """The connection is gone: unanswered calls are lost, transaction messages kept."""
        self._advance(now)
        self.online = False
        self._boot_in_flight = False
        self._outbox.clear()
        self._queue.connection_lost()
        for point in self.points:
            if point.pending is not None:
                pending, point.pending = point.pending, None
                self._decide_offline(point, pending.id_tag, now, pending.profile)
        self._event(now, "offline", None, "disconnected")
        self._refresh(now)

    # What is due -------------------------------------------------------------------------------

    def poll(self, now: datetime) -> list[Outbound]:
        """Everything due at ``now``: timers run, then the calls to send, in order."""
        self._advance(now)
        self._run_timers(now)
        self._refresh(now)
        out: list[Outbound] = []
        if self.online:
            out.extend(self._due_calls(now))
        else:
            self._outbox.clear()  # nothing but transaction messages waits for the connection
        if self._reboot_pending is not None:
            self._apply_reboot(now, self._reboot_pending)
        out.extend(self._intents)  # after the calls: a reboot sends what it owed first
        self._intents.clear()
        return out

    def _due_calls(self, now: datetime) -> list[Call]:
        out: list[Call] = []
        if self.registration != RegistrationStatus.ACCEPTED:
            if self._boot_due is not None and now >= self._boot_due and not self._boot_in_flight:
                self._boot_due = None
                self._boot_in_flight = True
                out.append(Call(self._boot_request()))
            if self.registration == RegistrationStatus.PENDING:
                out.extend(call for call in self._outbox if call.triggered)
            self._outbox.clear()
            return out
        minimum = self.config.integer("MinimumStatusDuration")
        for point in self.points:
            c = point.connector
            if c.due_report(now, minimum):
                c.reported = c.status
                out.append(Call(self._status_request(point, now), connector_id=c.connector_id))
        out.extend(self._outbox)
        self._outbox.clear()
        head = self._next_tx_call(now)
        if head is not None:
            out.append(head)
        return out

    def next_wakeup(self) -> datetime | None:
        """When something next falls due without being told (None: nothing ever will).

        A driver sleeps until then (or until a frame or a user event arrives), then polls.
        """
        times: list[datetime | None] = [self._boot_due if self.online else None]
        if self.online and self.registration == RegistrationStatus.ACCEPTED:
            times.append(self._heartbeat_due)
            minimum = self.config.integer("MinimumStatusDuration")
            times.extend(p.connector.report_at(minimum) for p in self.points)
            times.append(self._queue.ready_at(self._last))
        if self._next_aligned is not None:
            times.append(self._next_aligned - self.skew)
        if self._reset is not None:
            times.append(self._reset[1])
        times.extend(self.transfers.next_at(any(p.tx for p in self.points)))
        if self._plan:
            times.append(self._plan[0][0])
        clock = self.clock(self._last)
        for point in self.points[1:]:
            times.append(point.next_sample)
            if point.auth is not None:
                times.append(point.auth.deadline)
            if point.reservation is not None:
                times.append(point.reservation.expiry - self.skew)
            seconds = point.meter.seconds_to_satisfy(point.ev)
            if seconds is not None:
                times.append(self._last + timedelta(seconds=seconds))
        if self.reservation is not None:
            times.append(self.reservation.expiry - self.skew)
        if any(p.tx is not None for p in self.points):
            change = self.smart.next_change(clock, self._tx_contexts())
            if change is not None:
                times.append(change - self.skew)
        if self._outbox or self._intents or self._reboot_pending:
            times.append(self._last)
        return min((t for t in times if t is not None), default=None)

    # Answers to our calls ----------------------------------------------------------------------

    def handle_answer(self, call: Call, answer: Response | OcppError | None, now: datetime) -> None:
        """What came of ``call``: its typed response, a CALLERROR (or another OcppError such as
        an invalid answer), or None when no answer came (timeout, connection closed)."""
        self._advance(now)
        if call.entry is not None:
            self._tx_answer(call.entry, call, answer, now)
        elif isinstance(call.request, BootNotificationRequest):
            self._boot_answer(answer, now)
        elif isinstance(call.request, AuthorizeRequest):
            self._authorize_answer(call, answer, now)
        elif isinstance(answer, HeartbeatResponse):
            self._set_clock(answer.current_time, now)
        self._refresh(now)

    def _boot_answer(self, answer: Response | OcppError | None, now: datetime) -> None:
        self._boot_in_flight = False
        if not isinstance(answer, BootNotificationResponse):
            self._boot_due = now + timedelta(seconds=BOOT_RETRY_S)
            self._event(now, "boot", None, "BootNotification failed; retrying", retry_s=30)
            return
        self._set_clock(answer.current_time, now)
        was = self.registration
        self.registration = answer.status
        if answer.status == RegistrationStatus.ACCEPTED:
            if answer.interval > 0:
                heartbeat = min(answer.interval, KEYS["HeartbeatInterval"].maximum)
                self.config.set_internal("HeartbeatInterval", str(heartbeat))
            self._heartbeat_due = now + timedelta(seconds=self.config.integer("HeartbeatInterval"))
            if was != RegistrationStatus.ACCEPTED:  # not after a triggered BootNotification
                for point in self.points:
                    point.connector.reported = None
            self._event(now, "boot", None, "Accepted", status="Accepted", interval=answer.interval)
            return
        retry = min(answer.interval, MAX_OFFSET_S) if answer.interval > 0 else BOOT_RETRY_S
        self._boot_due = now + timedelta(seconds=retry)
        self._event(now, "boot", None, f"{answer.status.value}; again in {retry} s", retry_s=retry)

    def _tx_answer(
        self, entry: TxEntry, call: Call, answer: Response | OcppError | None, now: datetime
    ) -> None:
        attempts = self.config.integer("TransactionMessageAttempts")
        interval = self.config.integer("TransactionMessageRetryInterval")
        settled = self._queue.settle(
            entry, call, answer, now, attempts=attempts, interval_s=interval
        )
        cid = entry.tx.connector_id
        if settled == "retry":
            self._event(
                now,
                "retry",
                cid,
                f"{call.action} refused ({answer}); "
                f"attempt {entry.attempts + 1} in {interval * entry.attempts} s",
            )
        elif settled == "dropped":
            self._event(now, "dropped", cid, f"{call.action} refused {attempts} times; dropped")
        if settled != "done":
            return
        tx = entry.tx
        if isinstance(answer, StartTransactionResponse):
            tx.transaction_id = answer.transaction_id
            self._event(
                now,
                "transaction-id",
                cid,
                f"transaction {answer.transaction_id}",
                transaction_id=answer.transaction_id,
            )
            self._idtag_answer(tx.id_tag, answer.id_tag_info, now)
            if answer.id_tag_info.status != AuthorizationStatus.ACCEPTED:
                point = self.points[cid]
                if point.tx is tx:
                    self._invalid_in_transaction(point, answer.id_tag_info, now)
        elif (
            isinstance(answer, StopTransactionResponse)
            and answer.id_tag_info is not None
            and entry.stop_id_tag is not None
        ):
            self._idtag_answer(entry.stop_id_tag, answer.id_tag_info, now)

    def _invalid_in_transaction(self, point: Point, info: IdTagInfo, now: datetime) -> None:
        if self.config.flag("StopTransactionOnInvalidId"):
            self._event(now, "refused", point.connector.connector_id, f"idTag {info.status.value}")
            self._stop(point, Reason.DE_AUTHORIZED, now)
        elif point.tx is not None:
            point.tx.suspended = True
            self._event(now, "suspended", point.connector.connector_id, f"{info.status.value}")

    def _idtag_answer(self, id_tag: str, info: IdTagInfo, now: datetime) -> None:
        self.auth.remember(id_tag, info, enabled=self.config.flag("AuthorizationCacheEnabled"))

    def _authorize_answer(
        self, call: Call, answer: Response | OcppError | None, now: datetime
    ) -> None:
        point = self.points[call.connector_id or 0]
        pending = point.pending
        if pending is None or pending.call is not call:
            return
        point.pending = None
        if not isinstance(answer, AuthorizeResponse):
            # No verdict from the central system: decide as when offline.
            self._decide_offline(point, pending.id_tag, now, pending.profile)
            return
        info = answer.id_tag_info
        self._idtag_answer(pending.id_tag, info, now)
        if info.status == AuthorizationStatus.ACCEPTED:
            self._authorized(point, pending.id_tag, info.parent_id_tag, now, pending.profile)
        else:
            self._refuse(point, pending.id_tag, info.status.value, now)

    # User and plan events ----------------------------------------------------------------------

    def _point(self, connector_id: int) -> Point:
        if not 1 <= connector_id <= self.connectors:
            raise InputError(f"connector {connector_id}: expected 1 to {self.connectors}")
        return self.points[connector_id]

    def plug_in(
        self,
        connector_id: int,
        now: datetime,
        *,
        id_tag: str | None = None,
        energy_wh: float = 20_000.0,
        max_power_w: float = 11_000.0,
        soc: float | None = None,
        capacity_wh: float = 60_000.0,
    ) -> bool:
        """An EV is plugged in (and ``id_tag`` presented); False when one already is."""
        point = self._point(connector_id)
        self._advance(now)
        if point.ev is not None:
            self._event(now, "ignored", connector_id, "plug-in: an EV is already plugged in")
            return False
        point.ev = EV(max_power_w, energy_wh, soc, capacity_wh)
        self._event(now, "plugged", connector_id, f"EV plugged in ({energy_wh:.0f} Wh wanted)")
        self._refresh(now)
        if point.auth is not None and point.tx is None:
            self._start(point, now)
        elif id_tag is not None and point.tx is None:
            # (With a transaction still running, the EV came back: it simply resumes.)
            self.present_id_tag(connector_id, id_tag, now)
        self._refresh(now)
        return True

    def present_id_tag(self, connector_id: int, id_tag: str, now: datetime) -> None:
        """An idTag is presented (an RFID card): starts, or stops the transaction it owns."""
        point = self._point(connector_id)
        if len(id_tag) > 20:
            raise InputError(f"idTag: at most 20 characters, got {len(id_tag)}")
        self._advance(now)
        tx = point.tx
        if tx is not None:
            known = self.auth.lookup(id_tag, self.clock(now), use_list=True, use_cache=True)
            parent = known.parent_id_tag if known else None
            if id_tag == tx.id_tag or (parent is not None and parent == tx.parent_id_tag):
                self._stop(point, Reason.LOCAL, now, id_tag)
            else:
                self._event(now, "ignored", connector_id, "idTag: another transaction runs")
        elif point.fault is not None or not self._operative(point) or point.pending:
            self._refuse(point, id_tag, "connector not available", now)
        else:
            if point.finishing:
                point.finishing = False
                self._refresh(now)
            self._authorize(point, id_tag, now, None)
        self._refresh(now)

    def unplug(self, connector_id: int, now: datetime) -> None:
        point = self._point(connector_id)
        self._advance(now)
        point.ev = None
        point.auth = None
        point.finishing = False
        if point.tx is not None and self.config.flag("StopTransactionOnEVSideDisconnect"):
            self._stop(point, Reason.EV_DISCONNECTED, now)
            point.finishing = False
        self._event(now, "unplugged", connector_id, "EV unplugged")
        self._refresh(now)

    def stop_local(self, connector_id: int, now: datetime) -> None:
        """The stop button: ends the transaction with reason Local."""
        point = self._point(connector_id)
        self._advance(now)
        if point.tx is not None:
            self._stop(point, Reason.LOCAL, now)
        self._refresh(now)

    def fault(
        self,
        connector_id: int,
        now: datetime,
        error_code: ChargePointErrorCode = ChargePointErrorCode.OTHER_ERROR,
    ) -> None:
        """A fault (connector 0: the whole charge point); energy stops until :meth:`recover`."""
        if error_code == ChargePointErrorCode.NO_ERROR:
            raise InputError("fault: NoError is not a fault")
        point = self.points[connector_id] if connector_id == 0 else self._point(connector_id)
        self._advance(now)
        point.fault = error_code
        self._event(now, "fault", connector_id, error_code.value)
        self._refresh(now)

    def recover(self, connector_id: int, now: datetime) -> None:
        point = self.points[connector_id] if connector_id == 0 else self._point(connector_id)
        self._advance(now)
        point.fault = None
        self._event(now, "recovered", connector_id, "fault cleared")
        self._refresh(now)

    def schedule(self, at: datetime, event: Any) -> None:
        """Apply a plan event (plan.py) at driver time ``at``; see :meth:`apply`."""
        self._plan.append((at, event))
        self._plan = deque(sorted(self._plan, key=lambda item: item[0]))

    def apply(self, event: Any, now: datetime) -> None:
        """Apply one plan event now (plan.PlanEvent)."""
        from ocpp16.station.plan import apply_event  # plan.py builds on the station

        apply_event(self, event, now)

    def go_offline(self, seconds: float, now: datetime) -> None:
        """Lose the network for ``seconds``: a Reconnect intent for the driver."""
        self._intents.append(Reconnect("plan", seconds))
        self._event(now, "network-loss", None, f"network lost for {seconds:g} s")

    # The central system's calls (handlers.py decides; these carry them out) ---------------------

    def handle_call(self, request: Request[Any], now: datetime) -> Response:
        """The typed answer to a CALL of the central system; follow-ups are left for ``poll``.
        Raises CallError NotSupported for an action only a charge point sends."""
        from ocpp16.station.handlers import handle_call

        return handle_call(self, request, now)

    def advance(self, now: datetime) -> None:
        self._advance(now)

    def refresh(self, now: datetime) -> None:
        self._refresh(now)

    def tx_context(self, tx: Transaction) -> TxContext:
        return self._tx_context(tx)

    def pick_connector(self) -> int | None:
        """The connector a RemoteStart without connectorId uses: one with an EV waiting, else
        the first available one."""
        waiting = [
            p
            for p in self.points[1:]
            if p.ev is not None
            and p.tx is None
            and p.connector.status == ChargePointStatus.PREPARING
        ]
        free = [p for p in self.points[1:] if p.connector.status == ChargePointStatus.AVAILABLE]
        chosen = waiting or free
        return chosen[0].connector.connector_id if chosen else None

    def can_start(self, connector_id: int, id_tag: str, now: datetime) -> bool:
        """Whether a RemoteStart for ``id_tag`` may be accepted on ``connector_id``."""
        point = self.points[connector_id]
        if (
            point.tx is not None
            or point.fault is not None
            or point.pending is not None
            or point.auth is not None
            or not self._operative(point)
        ):
            return False
        if point.reservation is not None:
            known = self._known(id_tag, now)
            return point.reservation.admits(id_tag, known.parent_id_tag if known else None)
        return True

    def remote_start(
        self, connector_id: int, id_tag: str, profile: ChargingProfile | None, now: datetime
    ) -> None:
        """RemoteStartTransaction accepted: authorize first when AuthorizeRemoteTxRequests."""
        point = self.points[connector_id]
        if point.finishing:
            point.finishing = False
            self._refresh(now)
        self._event(now, "remote-start", connector_id, f"idTag {id_tag}")
        if self.config.flag("AuthorizeRemoteTxRequests"):
            self._authorize(point, id_tag, now, profile)
        else:
            known = self._known(id_tag, now)
            self._authorized(point, id_tag, known.parent_id_tag if known else None, now, profile)

    def stop(self, connector_id: int, reason: Reason, now: datetime) -> None:
        """Stop the transaction on ``connector_id`` with ``reason``."""
        self._stop(self.points[connector_id], reason, now)

    def change_availability(self, connector_id: int, operative: bool, now: datetime) -> bool:
        """ChangeAvailability (0: every connector); True when it waits for a transaction."""
        targets = self.points if connector_id == 0 else [self.points[connector_id]]
        scheduled = False
        busy = any(p.tx is not None for p in self.points)
        for point in targets:
            waits = not operative and (
                point.tx is not None or (point.connector.connector_id == 0 and busy)
            )
            if waits:
                point.scheduled, scheduled = operative, True
            else:
                point.operative, point.scheduled = operative, None
        self._event(
            now,
            "availability",
            connector_id,
            ("Operative" if operative else "Inoperative") + (" (scheduled)" if scheduled else ""),
        )
        return scheduled

    def reserve(
        self, connector_id: int, reservation: Reservation, now: datetime
    ) -> ReservationStatus:
        """ReserveNow on a known connector (0: the charge point); the status to answer."""
        for point in self.points[1:]:  # the same id again replaces the reservation
            if point.reservation and point.reservation.reservation_id == reservation.reservation_id:
                point.reservation = None
        if self.reservation and self.reservation.reservation_id == reservation.reservation_id:
            self.reservation = None
        if connector_id == 0:
            if self.points[0].fault is not None:
                return ReservationStatus.FAULTED
            if not self.points[0].operative:
                return ReservationStatus.UNAVAILABLE
            if self.reservation is not None or self._free_connectors(self.points[0]) == 0:
                return ReservationStatus.OCCUPIED
            self.reservation = reservation
        else:
            point = self.points[connector_id]
            if point.fault is not None:
                return ReservationStatus.FAULTED
            if not self._operative(point):
                return ReservationStatus.UNAVAILABLE
            if point.connector.status != ChargePointStatus.AVAILABLE:
                return ReservationStatus.OCCUPIED
            point.reservation = reservation
        self._event(
            now,
            "reservation",
            connector_id,
            f"{reservation.reservation_id} for {reservation.id_tag}",
        )
        return ReservationStatus.ACCEPTED

    def cancel_reservation(self, reservation_id: int, now: datetime) -> bool:
        if self.reservation is not None and self.reservation.reservation_id == reservation_id:
            self.reservation = None
            self._event(now, "reservation", 0, f"{reservation_id} cancelled")
            return True
        for point in self.points[1:]:
            if point.reservation and point.reservation.reservation_id == reservation_id:
                point.reservation = None
                cid = point.connector.connector_id
                self._event(now, "reservation", cid, f"{reservation_id} cancelled")
                return True
        return False

    def configuration_changed(self, key: str, now: datetime) -> None:
        """A key changed with ChangeConfiguration: make it take effect at once."""
        if key == "HeartbeatInterval":
            self.heartbeat_changed(now)
        elif key == "MeterValueSampleInterval":
            self.resample(now)
        elif key == "ClockAlignedDataInterval":
            self._realign(now)
        self._event(now, "configuration", None, f"{key} = {self.config.raw(key)[:50]}", key=key)

    # Sessions ----------------------------------------------------------------------------------

    def _operative(self, point: Point) -> bool:
        return point.operative and self.points[0].operative

    def _authorize(
        self, point: Point, id_tag: str, now: datetime, profile: ChargingProfile | None
    ) -> None:
        """Authorize ``id_tag`` as a local start would: local list/cache, else Authorize."""
        known = self._known(id_tag, now)
        if not (self.online and self.registration == RegistrationStatus.ACCEPTED):
            self._decide_offline(point, id_tag, now, profile)
        elif (
            known is not None
            and known.status == AuthorizationStatus.ACCEPTED
            and self.config.flag("LocalPreAuthorize")
        ):
            self._authorized(point, id_tag, known.parent_id_tag, now, profile)
        else:
            call = Call(AuthorizeRequest(id_tag=id_tag), connector_id=point.connector.connector_id)
            point.pending = PendingAuthorize(id_tag, call, profile)
            self._outbox.append(call)

    def _known(self, id_tag: str, now: datetime) -> IdTagInfo | None:
        return self.auth.lookup(
            id_tag,
            self.clock(now),
            use_list=self.config.flag("LocalAuthListEnabled"),
            use_cache=self.config.flag("AuthorizationCacheEnabled"),
        )

    def _decide_offline(
        self, point: Point, id_tag: str, now: datetime, profile: ChargingProfile | None
    ) -> None:
        known = self._known(id_tag, now)
        if known is not None:
            if not self.config.flag("LocalAuthorizeOffline"):
                self._refuse(point, id_tag, "offline, LocalAuthorizeOffline is false", now)
            elif known.status == AuthorizationStatus.ACCEPTED:
                self._authorized(point, id_tag, known.parent_id_tag, now, profile)
            else:
                self._refuse(point, id_tag, f"{known.status.value} (local)", now)
        elif self.config.flag("AllowOfflineTxForUnknownId"):
            self._authorized(point, id_tag, None, now, profile)
        else:
            self._refuse(point, id_tag, "unknown idTag while offline", now)

    def _refuse(self, point: Point, id_tag: str, why: str, now: datetime) -> None:
        self._event(now, "refused", point.connector.connector_id, f"idTag {id_tag}: {why}")

    def _authorized(
        self,
        point: Point,
        id_tag: str,
        parent: str | None,
        now: datetime,
        profile: ChargingProfile | None,
    ) -> None:
        """``id_tag`` may charge here, reservations permitting; starts once the EV is in."""
        reservation_id = None
        own = point.reservation
        if own is not None:
            if not own.admits(id_tag, parent):
                self._refuse(point, id_tag, f"connector reserved ({own.reservation_id})", now)
                return
            reservation_id, point.reservation = own.reservation_id, None
        elif self.reservation is not None:
            if self.reservation.admits(id_tag, parent):
                reservation_id, self.reservation = self.reservation.reservation_id, None
            elif self._free_connectors(point) == 0:
                self._refuse(point, id_tag, "the last free connector is reserved", now)
                return
        timeout = timedelta(seconds=self.config.integer("ConnectionTimeOut"))
        point.auth = Authorization(id_tag, parent, now + timeout, profile, reservation_id)
        self._event(now, "authorized", point.connector.connector_id, f"idTag {id_tag}")
        self._refresh(now)
        if point.ev is not None:
            self._start(point, now)

    def _free_connectors(self, besides: Point) -> int:
        return sum(
            1
            for p in self.points[1:]
            if p is not besides and p.connector.status == ChargePointStatus.AVAILABLE
        )

    def _start(self, point: Point, now: datetime) -> None:
        auth = point.auth
        if auth is None:
            return
        point.auth = None
        point.finishing = False
        self._tx_keys += 1
        cid = point.connector.connector_id
        tx = Transaction(
            key=self._tx_keys,
            connector_id=cid,
            id_tag=auth.id_tag,
            parent_id_tag=auth.parent_id_tag,
            meter_start=point.meter.whole_wh,
            started=now,
            started_clock=self.clock(now),
            reservation_id=auth.reservation_id,
        )
        point.tx = tx
        if auth.profile is not None:
            self.smart.set(cid, auth.profile, self.clock(now), self._tx_context(tx))
        self._queue.add(TxEntry("start", tx))
        self._tx_reading(point, ReadingContext.TRANSACTION_BEGIN, now, send=False)
        interval = self.config.integer("MeterValueSampleInterval")
        point.next_sample = now + timedelta(seconds=interval) if interval > 0 else None
        self._event(now, "transaction-started", cid, f"idTag {tx.id_tag}", id_tag=tx.id_tag)
        self._refresh(now)

    def _stop(self, point: Point, reason: Reason, now: datetime, id_tag: str | None = None) -> None:
        tx = point.tx
        if tx is None:
            return
        self._tx_reading(point, ReadingContext.TRANSACTION_END, now, send=False)
        tx.stop_reason = reason
        self._queue.add(
            TxEntry(
                "stop",
                tx,
                stop_meter=point.meter.whole_wh,
                stop_time=self.clock(now),
                stop_id_tag=id_tag,
            )
        )
        point.tx = None
        point.next_sample = None
        point.meter.power_w = 0.0
        point.finishing = point.ev is not None
        self.smart.transaction_ended(tx.key)
        self._event(
            now,
            "transaction-stopped",
            tx.connector_id,
            f"{reason.value}, {point.meter.whole_wh - tx.meter_start} Wh",
            reason=reason.value,
            transaction_id=tx.transaction_id,
        )
        if point.scheduled is not None:
            point.operative, point.scheduled = point.scheduled, None
        zero = self.points[0]
        if zero.scheduled is not None and all(p.tx is None for p in self.points):
            zero.operative, zero.scheduled = zero.scheduled, None
        self._refresh(now)

    def _tx_context(self, tx: Transaction) -> TxContext:
        return TxContext(tx.key, tx.transaction_id, tx.started_clock)

    def _tx_contexts(self) -> dict[int, TxContext]:
        return {p.tx.connector_id: self._tx_context(p.tx) for p in self.points if p.tx is not None}

    # Meter values ------------------------------------------------------------------------------

    def _meter_value(
        self, point: Point, measurands: list[Measurand], context: ReadingContext, now: datetime
    ) -> MeterValue | None:
        reading = point.meter.read(self.rng, point.offered_w, point.ev)
        values = sampled_values(reading, measurands, context)
        if not values:
            return None
        return MeterValue(timestamp=self.clock(now), sampled_value=values)

    def _tx_reading(
        self, point: Point, context: ReadingContext, now: datetime, *, send: bool
    ) -> None:
        """A reading during a transaction: a MeterValues (MeterValues*Data) when ``send``, and
        the StopTxn*Data one kept for StopTransaction.transactionData."""
        tx = point.tx
        if tx is None:
            return
        aligned = context == ReadingContext.SAMPLE_CLOCK
        if send:
            key = "MeterValuesAlignedData" if aligned else "MeterValuesSampledData"
            value = self._meter_value(point, self.config.measurands(key), context, now)
            if value is not None:
                self._queue.add(TxEntry("meter", tx, meter_value=[value]))
        key = "StopTxnAlignedData" if aligned else "StopTxnSampledData"
        kept = self._meter_value(point, self.config.measurands(key), context, now)
        if kept is not None and (
            len(tx.data) < MAX_TX_DATA - 1 or context == ReadingContext.TRANSACTION_END
        ):
            tx.data.append(kept)

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

    def _next_tx_call(self, now: datetime) -> Call | None:
        call, dropped = self._queue.next_call(now)
        for entry in dropped:
            self._event(now, "dropped", entry.tx.connector_id, "no transactionId; dropped")
        return call

    # Requests ----------------------------------------------------------------------------------

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

    # Timers ------------------------------------------------------------------------------------

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

    def resample(self, now: datetime) -> None:
        """MeterValueSampleInterval changed: the next samples are one new interval away."""
        interval = self.config.integer("MeterValueSampleInterval")
        for point in self.points[1:]:
            if point.tx is not None:
                point.next_sample = now + timedelta(seconds=interval) if interval > 0 else None

    def heartbeat_changed(self, now: datetime) -> None:
        """HeartbeatInterval changed: the next Heartbeat is one new interval away."""
        if self.registration == RegistrationStatus.ACCEPTED:
            interval = self.config.integer("HeartbeatInterval")
            self._heartbeat_due = now + timedelta(seconds=interval)

    def realign(self, now: datetime) -> None:
        self._realign(now)

    def _run_timers(self, now: datetime) -> None:
        while self._plan and self._plan[0][0] <= now:
            _, event = self._plan.popleft()
            self.apply(event, now)
        clock = self.clock(now)
        for point in self.points[1:]:
            if point.auth is not None and now >= point.auth.deadline and point.tx is None:
                self._event(now, "timeout", point.connector.connector_id, "no EV plugged in")
                point.auth = None
            if point.reservation is not None and clock >= point.reservation.expiry:
                self._event(now, "reservation", point.connector.connector_id, "expired")
                point.reservation = None
            if point.next_sample is not None and now >= point.next_sample:
                self._tx_reading(point, ReadingContext.SAMPLE_PERIODIC, now, send=True)
                interval = self.config.integer("MeterValueSampleInterval")
                step = timedelta(seconds=max(1, interval))
                point.next_sample += step * ((now - point.next_sample) // step + 1)
        if self.reservation is not None and clock >= self.reservation.expiry:
            self._event(now, "reservation", 0, "expired")
            self.reservation = None
        if self._next_aligned is not None and clock >= self._next_aligned:
            self._aligned(now)
            self._realign(now)
        if (
            self.online
            and self.registration == RegistrationStatus.ACCEPTED
            and self._heartbeat_due is not None
            and now >= self._heartbeat_due
        ):
            self._outbox.append(Call(HeartbeatRequest()))
            interval = self.config.integer("HeartbeatInterval")
            self._heartbeat_due = now + timedelta(seconds=interval)
        self._run_transfers(now)
        if self._reset is not None and (not self._queue or now >= self._reset[1]):
            self._reboot(now, "reset")

    def _aligned(self, now: datetime) -> None:
        accepted = self.online and self.registration == RegistrationStatus.ACCEPTED
        for point in self.points[1:]:
            if point.tx is not None:
                self._tx_reading(point, ReadingContext.SAMPLE_CLOCK, now, send=True)
            elif accepted:
                measurands = self.config.measurands("MeterValuesAlignedData")
                value = self._meter_value(point, measurands, ReadingContext.SAMPLE_CLOCK, now)
                if value is not None:
                    cid = point.connector.connector_id
                    self._outbox.append(
                        Call(MeterValuesRequest(connector_id=cid, meter_value=[value]))
                    )

    # Diagnostics, firmware, reset ---------------------------------------------------------------

    def start_diagnostics(self, location: str, now: datetime) -> None:
        """GetDiagnostics accepted: the upload's status sequence starts (transfers.py)."""
        status = self.transfers.start_diagnostics(location, now)
        self.send_later(DiagnosticsStatusNotificationRequest(status=status))

    def start_firmware(self, location: str, retrieve: datetime, now: datetime) -> None:
        """UpdateFirmware accepted: the update starts at retrieveDate (transfers.py)."""
        at = max(now, retrieve - self.skew) if plausible(retrieve) else now
        self.transfers.start_firmware(location, at)

    def _run_transfers(self, now: datetime) -> None:
        final = self.transfers.diagnostics_due(now)
        if final is not None:
            self.send_later(DiagnosticsStatusNotificationRequest(status=final))
            self._event(now, "diagnostics", None, final.value)
        running = any(p.tx for p in self.points)
        status = self.transfers.firmware_due(now, running)
        if status is not None:
            self.send_later(FirmwareStatusNotificationRequest(status=status))
            self._event(now, "firmware", None, status.value)
            if status == FirmwareStatus.INSTALLED:
                self.firmware_version = next_version(self.firmware_version)
                self._reboot(now, "firmware")

    def reset(self, soft: bool, now: datetime) -> None:
        """Reset: stop every transaction (SoftReset / HardReset), then reboot once their
        StopTransactions are answered (or after RESET_GRACE_S)."""
        reason = Reason.SOFT_RESET if soft else Reason.HARD_RESET
        for point in self.points[1:]:
            if point.tx is not None:
                self._stop(point, reason, now)
        self._reset = (reason, now + timedelta(seconds=RESET_GRACE_S))

    def _reboot(self, now: datetime, why: Literal["reset", "firmware"]) -> None:
        """Reboot once the calls due now are out (poll ends with the Reconnect)."""
        self._reset = None
        self._reboot_pending = why

    def _apply_reboot(self, now: datetime, why: Literal["reset", "firmware"]) -> None:
        """Reboot: register again, volatile state gone, RebootRequired changes in force."""
        self._reboot_pending = None
        self._intents.append(Reconnect(why, REBOOT_S))
        self.registration = None
        self._boot_due = None
        self._heartbeat_due = None
        self._outbox.clear()
        self.reservation = None
        for point in self.points:
            point.auth = None
            point.pending = None
            point.reservation = None
            point.connector.reported = None
        applied = self.config.reboot()
        self._realign(now)
        self._event(now, "reboot", None, why, applied=applied)

    # The model's bookkeeping -------------------------------------------------------------------

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
