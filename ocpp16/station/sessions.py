"""Sessions: what a user (or a plan) and the central system do to the connectors.

Plugging in, presenting an idTag (authorized from the local list or cache, by Authorize, or
offline per LocalAuthorizeOffline and AllowOfflineTxForUnknownId), starting and stopping
transactions (meterStart and meterStop from the register, the stop reason, transactionData),
faults, reservations (only the reserved idTag or its parent), availability (Scheduled while a
transaction runs), and the meter readings of a transaction. Station (station.py) builds on it.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Any

from ocpp16._generated.authorize import AuthorizeRequest
from ocpp16._generated.datatypes import ChargingProfile, IdTagInfo
from ocpp16._generated.enums import (
    AuthorizationStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    ReadingContext,
    Reason,
    RegistrationStatus,
    ReservationStatus,
)
from ocpp16.errors import InputError
from ocpp16.station.core import MAX_TX_DATA, StationCore
from ocpp16.station.meter import EV
from ocpp16.station.outbound import (
    Call,
    Reconnect,
    Transaction,
    TxEntry,
)
from ocpp16.station.points import Authorization, PendingAuthorize, Point, Reservation

__all__ = ["Sessions"]


class Sessions(StationCore):
    """Sessions on top of the station's state (see the module docstring)."""

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

    def go_offline(self, seconds: float, now: datetime) -> None:
        """Lose the network for ``seconds``: a Reconnect intent for the driver."""
        self._intents.append(Reconnect("plan", seconds))
        self._event(now, "network-loss", None, f"network lost for {seconds:g} s")

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

    def _idtag_answer(self, id_tag: str, info: IdTagInfo, now: datetime) -> None:
        self.auth.remember(id_tag, info, enabled=self.config.flag("AuthorizationCacheEnabled"))

    def _invalid_in_transaction(self, point: Point, info: IdTagInfo, now: datetime) -> None:
        if self.config.flag("StopTransactionOnInvalidId"):
            self._event(now, "refused", point.connector.connector_id, f"idTag {info.status.value}")
            self._stop(point, Reason.DE_AUTHORIZED, now)
        elif point.tx is not None:
            point.tx.suspended = True
            self._event(now, "suspended", point.connector.connector_id, f"{info.status.value}")
