"""The queue of transaction messages: kept while offline, sent one at a time, in order.

StartTransaction, StopTransaction and the MeterValues of a transaction wait here, oldest first.
Only the head is ever in flight. A request is built when its entry is sent, so a MeterValues or
StopTransaction queued before the StartTransaction answer still carries the transactionId. A
CALLERROR counts an attempt: the head is retried ``interval x attempts`` seconds later and dropped
after ``attempts`` (with the rest of its transaction, when it was the StartTransaction: without a
transactionId they cannot be sent). No answer at all (a timeout, a lost connection) is no attempt:
the head is sent again when the station can.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from ocpp16._generated.meter_values import MeterValuesRequest
from ocpp16._generated.start_transaction import StartTransactionRequest
from ocpp16._generated.stop_transaction import StopTransactionRequest
from ocpp16._model import Request, Response
from ocpp16.errors import OcppError
from ocpp16.station.outbound import Call, TxEntry

__all__ = ["MAX_TX_QUEUE", "Settled", "TxQueue"]

#: Transaction messages kept while offline; beyond it, the oldest MeterValues are dropped
#: (StartTransaction and StopTransaction never are).
MAX_TX_QUEUE: Final = 1000

#: What became of an answered head: answered (done), to retry, dropped, or nothing (stale: an
#: answer to a call given up; lost: no answer, sent again later).
Settled = Literal["done", "retry", "dropped", "stale", "lost"]


class TxQueue:
    """Transaction messages in order; see the module docstring."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: deque[TxEntry] = deque()

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[TxEntry]:
        return iter(self._entries)

    def add(self, entry: TxEntry) -> None:
        if len(self._entries) >= MAX_TX_QUEUE:
            for old in self._entries:
                if old.kind == "meter" and old.in_flight is None:
                    self._entries.remove(old)
                    break
        self._entries.append(entry)

    def connection_lost(self) -> None:
        """The head's call will not be answered: it is sent again after reconnecting."""
        for entry in self._entries:
            entry.in_flight = None

    def ready_at(self, now: datetime) -> datetime | None:
        """When the head may be sent (None: nothing to send, or the head is in flight)."""
        if not self._entries or self._entries[0].in_flight is not None:
            return None
        return self._entries[0].not_before or now

    def next_call(self, now: datetime) -> tuple[Call | None, list[TxEntry]]:
        """The head's call if it may go now, and the entries dropped for want of an id."""
        dropped: list[TxEntry] = []
        while self._entries:
            entry = self._entries[0]
            if entry.in_flight is not None:
                break
            if entry.not_before is not None and now < entry.not_before:
                break
            request = build_request(entry)
            if request is None:
                dropped.append(self._entries.popleft())
                continue
            call = Call(
                request, transactional=True, connector_id=entry.tx.connector_id, entry=entry
            )
            entry.in_flight = call
            return call, dropped
        return None, dropped

    def settle(
        self,
        entry: TxEntry,
        call: Call,
        answer: Response | OcppError | None,
        now: datetime,
        *,
        attempts: int,
        interval_s: int,
    ) -> Settled:
        """Record what came of ``call``; the entry leaves the queue when done or dropped."""
        if entry.in_flight is not call:
            return "stale"
        entry.in_flight = None
        if answer is None:
            return "lost"
        if isinstance(answer, OcppError):
            entry.attempts += 1
            if entry.attempts < attempts:
                entry.not_before = now + timedelta(seconds=interval_s * entry.attempts)
                return "retry"
            self._entries.remove(entry)
            if entry.kind == "start":
                for other in [e for e in self._entries if e.tx is entry.tx]:
                    self._entries.remove(other)
            return "dropped"
        self._entries.remove(entry)
        return "done"


def build_request(entry: TxEntry) -> Request[Any] | None:
    """The request of ``entry`` as it stands now (None: it needs a transactionId it lacks)."""
    tx = entry.tx
    if entry.kind == "start":
        return StartTransactionRequest(
            connector_id=tx.connector_id,
            id_tag=tx.id_tag,
            meter_start=tx.meter_start,
            timestamp=tx.started_clock,
            reservation_id=tx.reservation_id,
        )
    if tx.transaction_id is None:
        return None
    if entry.kind == "meter":
        return MeterValuesRequest(
            connector_id=tx.connector_id,
            meter_value=entry.meter_value or [],
            transaction_id=tx.transaction_id,
        )
    return StopTransactionRequest(
        meter_stop=entry.stop_meter,
        timestamp=entry.stop_time or tx.started_clock,
        transaction_id=tx.transaction_id,
        id_tag=entry.stop_id_tag,
        reason=tx.stop_reason,
        transaction_data=list(tx.data) or None,
    )
