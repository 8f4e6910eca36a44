"""A central system played in memory, and a driver loop on a simulated clock, for Station tests.

The loop is what a real driver does (poll, send one call at a time, hand the answer back, sleep
until ``next_wakeup``), with the clock advanced instead of slept, so no test waits. Every request
the station produces is round-tripped through its wire form (our classes re-validate it) and
checked against the official schema with jsonschema (tests/oracle.py), as an independent peer
would.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp16 import (
    AuthorizationStatus,
    AuthorizeResponse,
    BootNotificationResponse,
    CallError,
    DataTransferResponse,
    DataTransferStatus,
    DiagnosticsStatusNotificationResponse,
    FirmwareStatusNotificationResponse,
    HeartbeatResponse,
    IdTagInfo,
    MeterValuesResponse,
    RegistrationStatus,
    StartTransactionResponse,
    StatusNotificationResponse,
    StopTransactionResponse,
)
from ocpp16._model import Response
from ocpp16.errors import OcppError
from ocpp16.station import Call, Reconnect, Station
from tests.oracle import official_validator

T0 = datetime(2025, 3, 1, 8, 0, 0, tzinfo=UTC)
#: The central system's clock differs from the station's first guess by this much.
CS_SKEW = timedelta(hours=1)
#: Most driver steps one run takes (a bounded loop).
MAX_STEPS = 20_000


@dataclass
class Sent:
    """One call as the central system saw it."""

    at: datetime
    call: Call
    payload: dict[str, Any]

    @property
    def action(self) -> str:
        return self.call.action


@dataclass
class FakeCentralSystem:
    """Answers every CP->CS call validly; ``refuse`` makes the next N calls of an action fail
    with a CALLERROR, ``silent`` leaves them unanswered; ``online`` False drops the link."""

    boot: RegistrationStatus = RegistrationStatus.ACCEPTED
    boot_interval: int = 300
    id_tag_status: dict[str, AuthorizationStatus] = field(default_factory=dict)
    refuse: dict[str, int] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    tx_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))

    def answer(self, call: Call, now: datetime) -> Response | OcppError | None:
        request = call.request
        payload = request.to_dict()
        assert type(request).from_dict(payload) == request  # valid on the wire
        official_validator(call.action, False).validate(payload)  # and by the official schema
        self.sent.append(Sent(now, call, payload))
        if self.refuse.get(call.action, 0) > 0:
            self.refuse[call.action] -= 1
            return CallError("InternalError", "refused by the test", action=call.action)
        cs_now = now + CS_SKEW
        info = IdTagInfo(status=self._status(payload.get("idTag")))
        answers: dict[str, Callable[[], Response]] = {
            "BootNotification": lambda: BootNotificationResponse(
                status=self.boot, current_time=cs_now, interval=self.boot_interval
            ),
            "Heartbeat": lambda: HeartbeatResponse(current_time=cs_now),
            "Authorize": lambda: AuthorizeResponse(id_tag_info=info),
            "StartTransaction": lambda: StartTransactionResponse(
                id_tag_info=info, transaction_id=next(self.tx_ids)
            ),
            "StopTransaction": StopTransactionResponse,
            "StatusNotification": StatusNotificationResponse,
            "MeterValues": MeterValuesResponse,
            "DiagnosticsStatusNotification": DiagnosticsStatusNotificationResponse,
            "FirmwareStatusNotification": FirmwareStatusNotificationResponse,
            "DataTransfer": lambda: DataTransferResponse(status=DataTransferStatus.ACCEPTED),
        }
        return answers[call.action]()

    def _status(self, id_tag: str | None) -> AuthorizationStatus:
        if id_tag is None:
            return AuthorizationStatus.ACCEPTED
        return self.id_tag_status.get(id_tag, AuthorizationStatus.ACCEPTED)

    def actions(self) -> list[str]:
        return [s.action for s in self.sent]

    def of(self, action: str) -> list[dict[str, Any]]:
        return [s.payload for s in self.sent if s.action == action]


@dataclass
class Run:
    """A station, its central system, and the simulated clock between them."""

    station: Station
    cs: FakeCentralSystem
    now: datetime = T0
    online: bool = True
    reconnect_at: datetime | None = None
    #: Reconnect intents seen.
    reconnects: list[Reconnect] = field(default_factory=list)
    #: The link is down until this time (a cable pulled by the test).
    down_until: datetime | None = None

    def step(self) -> int:
        """One driver turn at ``now``: poll, send, hand answers back; how many came out."""
        if not self.online and self.reconnect_at is not None and self.now >= self.reconnect_at:
            self.reconnect_at = None
            self.online = True
            self.station.connected(self.now)
        outs = self.station.poll(self.now)
        for out in outs:
            if isinstance(out, Reconnect):
                self.reconnects.append(out)
                if self.online:
                    self.online = False
                    self.station.disconnected(self.now)
                self.reconnect_at = self.now + timedelta(seconds=out.offline_s)
                break
            if not self.online:
                break
            self.station.handle_answer(out, self.cs.answer(out, self.now), self.now)
        return len(outs)

    def until(self, end: datetime | float) -> None:
        """Run the loop until ``end`` (a datetime, or seconds from now)."""
        if not isinstance(end, datetime):
            end = self.now + timedelta(seconds=end)
        for _ in range(MAX_STEPS):
            self.step()
            wake = self.station.next_wakeup()
            candidates = [t for t in (wake, self.reconnect_at) if t is not None]
            nxt = min(candidates, default=end)
            nxt = max(nxt, self.now)  # a wake-up in the past means "now"
            if nxt == self.now:
                # Due now again (answers just handed back made more due: the next queued
                # transaction message, a StartTransaction after an Authorize). A turn that sends
                # nothing while next_wakeup() stays in the past would make a real driver spin.
                if not self.step():
                    raise AssertionError(f"next_wakeup() stays at {wake}: a driver would spin")
                continue
            if nxt >= end:
                self.now = end
                self.step()
                return
            self.now = nxt
        raise AssertionError("the driver loop did not settle")

    def cut(self) -> None:
        """The connection drops (until :meth:`restore`)."""
        self.online = False
        self.reconnect_at = None
        self.station.disconnected(self.now)

    def restore(self) -> None:
        self.online = True
        self.station.connected(self.now)


def booted(
    connectors: int = 2,
    config: dict[str, str] | None = None,
    cs: FakeCentralSystem | None = None,
    **options: Any,
) -> Run:
    """A station connected and Accepted, its first statuses reported."""
    station = Station("CP001", now=T0, connectors=connectors, config=config, **options)
    run = Run(station, cs or FakeCentralSystem())
    station.connected(T0)
    run.until(1)
    return run
