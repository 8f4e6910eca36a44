"""The ChargePointStatus state machine: the spec's transition table, connector 0, and
MinimumStatusDuration (a status held shorter is never reported, the later one is)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from ocpp16 import ChargePointStatus
from ocpp16.station.connectors import Connector, is_legal
from tests.station.harness import T0, booted

S = ChargePointStatus
A, B, C, D, E, F, G, H, I = (  # noqa: E741  (the spec's row letters)
    S.AVAILABLE,
    S.PREPARING,
    S.CHARGING,
    S.SUSPENDED_EV,
    S.SUSPENDED_EVSE,
    S.FINISHING,
    S.RESERVED,
    S.UNAVAILABLE,
    S.FAULTED,
)

# OCPP 1.6 section 4.9, written out cell by cell (A2 = Available -> Preparing, ...).
SPEC_LEGAL = {
    (A, B), (A, C), (A, D), (A, E), (A, G), (A, H), (A, I),
    (B, A), (B, C), (B, D), (B, E), (B, F), (B, I),
    (C, A), (C, D), (C, E), (C, F), (C, H), (C, I),
    (D, A), (D, C), (D, E), (D, F), (D, H), (D, I),
    (E, A), (E, C), (E, D), (E, F), (E, H), (E, I),
    (F, A), (F, B), (F, H), (F, I),
    (G, A), (G, B), (G, H), (G, I),
    (H, A), (H, B), (H, C), (H, D), (H, E), (H, I),
    (I, A), (I, B), (I, C), (I, D), (I, E), (I, F), (I, G), (I, H),
}  # fmt: skip
ALL_PAIRS = [(a, b) for a, b in itertools.product(S, S) if a != b]


@pytest.mark.parametrize(("old", "new"), sorted(SPEC_LEGAL))
def test_the_spec_s_transitions_are_legal(old: S, new: S) -> None:
    assert is_legal(1, old, new)


@pytest.mark.parametrize(("old", "new"), sorted(set(ALL_PAIRS) - SPEC_LEGAL))
def test_every_other_transition_is_illegal(old: S, new: S) -> None:
    assert not is_legal(1, old, new)


@pytest.mark.parametrize("new", list(S))
def test_connector_zero_takes_only_available_unavailable_faulted(new: S) -> None:
    assert is_legal(0, A, new) == (new in (H, I))


def test_an_illegal_transition_is_entered_but_flagged() -> None:
    connector = Connector(1, T0)
    assert connector.set_status(B, T0)
    assert not connector.set_status(G, T0)  # Preparing -> Reserved is not in the table
    assert connector.status == G


def test_a_status_held_shorter_than_minimum_status_duration_is_not_reported() -> None:
    run = booted(config={"MinimumStatusDuration": "30"})
    run.until(60)
    run.cs.sent.clear()
    station = run.station
    station.plug_in(1, run.now)  # Preparing, for 10 s only
    run.until(10)
    station.unplug(1, run.now)  # back to Available, which was already reported
    run.until(60)
    plugged = run.now
    station.plug_in(2, run.now)  # Preparing, held
    run.until(29)
    assert run.cs.of("StatusNotification") == []
    run.until(2)
    statuses = [(p["connectorId"], p["status"]) for p in run.cs.of("StatusNotification")]
    assert statuses == [(2, "Preparing")]
    assert run.cs.sent[0].at == plugged + timedelta(seconds=30)
