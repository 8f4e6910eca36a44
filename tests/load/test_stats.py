"""Load statistics: what each outcome counts as, bounded tallies, a bounded timeline."""

from __future__ import annotations

import pytest

from ocpp16._aio import Outcome
from ocpp16.errors import (
    CallError,
    CallTimeout,
    ConnectError,
    ConnectionClosed,
    FrameError,
    HandshakeError,
    InvalidResponse,
    OcppError,
    RefusedError,
    ValidationError,
)
from ocpp16.load.stats import MAX_KINDS, MAX_TIMELINE_ROWS, Statistics, connect_cause


def outcome(error: OcppError | None = None) -> Outcome:
    return Outcome("Heartbeat", [2, "1", "Heartbeat", {}], None, error=error)


@pytest.mark.parametrize(
    ("error", "field", "kind"),
    [
        (None, "ok", None),
        (CallError("NotSupported", "no"), "callerrors", "callerror"),
        (
            InvalidResponse(
                "Heartbeat",
                ValidationError("$.currentTime", "required", "OccurenceConstraintViolation"),
                {},
            ),
            "invalid",
            "invalid",
        ),
        (FrameError("not JSON"), "malformed", "malformed"),
        (CallTimeout("late"), "timeouts", "timeout"),
        (ConnectionClosed("gone"), "closed", "closed"),
    ],
)
def test_each_outcome_counts_once_where_it_belongs(
    error: OcppError | None, field: str, kind: str | None
) -> None:
    stats = Statistics()
    stats.exchange("Heartbeat", 0.002, outcome(error))
    action = stats.actions["Heartbeat"].to_dict()
    assert action["calls"] == 1
    counted = action[field]
    assert counted == ({"NotSupported": 1} if field == "callerrors" else 1)
    assert stats.errors == ({} if kind is None else {kind: 1})
    answered = kind in (None, "callerror", "invalid", "malformed")
    assert action["latency_ms"]["max"] == (2.0 if answered else 0.0)


def test_codes_from_a_hostile_peer_are_bounded_and_escaped() -> None:
    stats = Statistics()
    for n in range(500):
        stats.exchange("Heartbeat", 0.001, outcome(CallError(f"\x1b[31mCode{n}", "x")))
    codes = stats.actions["Heartbeat"].callerrors
    assert len(codes) == MAX_KINDS + 1 and codes["other"] == 500 - MAX_KINDS
    assert all("\x1b" not in code for code in codes)
    assert len(stats.examples) == 20


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (RefusedError("refused"), "refused"),
        (HandshakeError(401, "HTTP 401"), "http 401"),
        (
            ConnectError("cannot reach x: the network is down (simulated)"),
            "network down (simulated)",
        ),
        (ConnectError("cannot connect to x: no answer within 30 s"), "timeout"),
        (ConnectError("cannot connect to x: Too many open files"), "open-files limit"),
    ],
)
def test_connect_causes(error: ConnectError, cause: str) -> None:
    assert connect_cause(error) == cause


def test_the_timeline_stays_bounded_and_keeps_every_call() -> None:
    stats = Statistics()
    seconds = MAX_TIMELINE_ROWS * 3 + 7
    for second in range(1, seconds + 1):
        stats.exchange("Heartbeat", 0.001 * (second % 50 + 1), outcome())
        stats.timeline.close(float(second), connected=second % 10)
    rows = stats.timeline.to_list()
    assert len(rows) <= MAX_TIMELINE_ROWS
    assert stats.timeline.step == 4.0
    assert round(sum(row["calls_per_s"] * 4 for row in rows[:-1])) + 1 >= seconds - 4
    assert rows[-1]["t"] == seconds and rows[-1]["connected"] == seconds % 10
    assert max(row["max_ms"] for row in rows) == pytest.approx(50.0, rel=0.02)
