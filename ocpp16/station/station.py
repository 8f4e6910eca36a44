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

from datetime import datetime, timedelta
from typing import Any, Final, Literal

from ocpp16._generated.authorize import AuthorizeRequest, AuthorizeResponse
from ocpp16._generated.boot_notification import (
    BootNotificationRequest,
    BootNotificationResponse,
)
from ocpp16._generated.diagnostics_status_notification import DiagnosticsStatusNotificationRequest
from ocpp16._generated.enums import (
    AuthorizationStatus,
    FirmwareStatus,
    ReadingContext,
    Reason,
    RegistrationStatus,
)
from ocpp16._generated.firmware_status_notification import FirmwareStatusNotificationRequest
from ocpp16._generated.heartbeat import HeartbeatRequest, HeartbeatResponse
from ocpp16._generated.meter_values import MeterValuesRequest
from ocpp16._generated.start_transaction import StartTransactionResponse
from ocpp16._generated.stop_transaction import StopTransactionResponse
from ocpp16._model import Request, Response
from ocpp16.errors import OcppError
from ocpp16.station._time import MAX_OFFSET_S, plausible
from ocpp16.station.config import KEYS
from ocpp16.station.core import MAX_CONNECTORS
from ocpp16.station.outbound import (
    Call,
    Outbound,
    Reconnect,
    TxEntry,
)
from ocpp16.station.sessions import Sessions
from ocpp16.station.transfers import next_version

__all__ = ["MAX_COMPOSITE_S", "MAX_CONNECTORS", "Station"]

#: BootNotification retry when the answer gives no interval, or the CALL failed (s).
BOOT_RETRY_S: Final = 30
#: A reset waits this long for its StopTransactions to be answered before rebooting (s), and the
#: reboot keeps the station offline this long.
RESET_GRACE_S: Final = 10
REBOOT_S: Final = 2
#: Longest composite schedule computed (s); a longer request is answered for this long.
MAX_COMPOSITE_S: Final = 31 * 86400


class Station(Sessions):
    """One charge point; see the module docstring for how a driver uses it."""

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

    def apply(self, event: Any, now: datetime) -> None:
        """Apply one plan event now (plan.PlanEvent)."""
        from ocpp16.station.plan import apply_event  # plan.py builds on the station

        apply_event(self, event, now)

    def handle_call(self, request: Request[Any], now: datetime) -> Response:
        """The typed answer to a CALL of the central system; follow-ups are left for ``poll``.
        Raises CallError NotSupported for an action only a charge point sends."""
        from ocpp16.station.handlers import handle_call

        return handle_call(self, request, now)

    def configuration_changed(self, key: str, now: datetime) -> None:
        """A key changed with ChangeConfiguration: make it take effect at once."""
        if key == "HeartbeatInterval":
            self.heartbeat_changed(now)
        elif key == "MeterValueSampleInterval":
            self.resample(now)
        elif key == "ClockAlignedDataInterval":
            self._realign(now)
        self._event(now, "configuration", None, f"{key} = {self.config.raw(key)[:50]}", key=key)

    def _next_tx_call(self, now: datetime) -> Call | None:
        call, dropped = self._queue.next_call(now)
        for entry in dropped:
            self._event(now, "dropped", entry.tx.connector_id, "no transactionId; dropped")
        return call

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
