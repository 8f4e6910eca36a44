"""ocpp16._dispatch: one text message in, its classification (and CALLERROR) out. No network.

The wire-level behaviour (every defect's code, over a real connection) is in test_server.py; this
checks the pure function both roles share, from either side.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from ocpp16 import (
    ACTIONS,
    BootNotificationRequest,
    ResetRequest,
    ResetResponse,
    Sender,
)
from ocpp16._dispatch import (
    UNKNOWN_ID,
    Answer,
    Ignored,
    Invalid,
    Valid,
    receive,
    result_frame,
)
from ocpp16.errors import ERROR_CODES


def test_a_valid_call_becomes_its_typed_request() -> None:
    text = '[2,"1","BootNotification",{"chargePointVendor":"A","chargePointModel":"B"}]'
    incoming = receive(text, Sender.CP)
    assert isinstance(incoming, Valid)
    assert incoming.action is ACTIONS["BootNotification"]
    assert incoming.request == BootNotificationRequest(
        charge_point_vendor="A", charge_point_model="B"
    )
    assert incoming.frame.unique_id == "1"


@pytest.mark.parametrize(
    ("peer", "action", "payload", "ok"),
    [
        (Sender.CP, "Reset", {"type": "Hard"}, False),
        (Sender.CS, "Reset", {"type": "Hard"}, True),
        (Sender.CS, "Heartbeat", {}, False),
        (Sender.CS, "DataTransfer", {"vendorId": "V"}, True),
        (Sender.CP, "DataTransfer", {"vendorId": "V"}, True),
    ],
)
def test_who_may_send_an_action_depends_on_the_peer(
    peer: Sender, action: str, payload: dict[str, str], ok: bool
) -> None:
    incoming = receive(json.dumps([2, "x", action, payload]), peer)
    if ok:
        assert isinstance(incoming, Valid)
    else:
        assert isinstance(incoming, Invalid)
        assert incoming.reply.code == "NotSupported"


@pytest.mark.parametrize(
    ("text", "unique_id", "code"),
    [
        ("nonsense", UNKNOWN_ID, "FormationViolation"),
        (b"\xff\xfe", UNKNOWN_ID, "FormationViolation"),
        ("[]", UNKNOWN_ID, "FormationViolation"),
        ('[2, 5, "Heartbeat", {}]', UNKNOWN_ID, "FormationViolation"),
        ('[2, "a", "Heartbeat"]', "a", "ProtocolError"),
        ('[2, "a", "Foo", {}]', "a", "NotImplemented"),
        ('[2, "a", "heartbeat", {}]', "a", "NotImplemented"),  # the wire is case-sensitive
        ('[2, "a", "Heartbeat", {"x": null}]', "a", "FormationViolation"),
        ('[2, "a", "Authorize", {"idTag": null}]', "a", "TypeConstraintViolation"),
    ],
)
def test_an_invalid_message_gets_the_callerror_to_send(
    text: str, unique_id: str, code: str
) -> None:
    incoming = receive(text, Sender.CP)
    assert isinstance(incoming, Invalid)
    assert (incoming.reply.unique_id, incoming.reply.code) == (unique_id, code)
    assert incoming.problem.startswith(f"{code}: ")


def test_an_unknown_action_suggests_the_right_spelling() -> None:
    incoming = receive('[2, "a", "heartbeat", {}]', Sender.CP)
    assert isinstance(incoming, Invalid)
    assert incoming.reply.description == "unknown action 'heartbeat'; did you mean Heartbeat?"


def test_answers_and_unknown_types_are_sorted_out() -> None:
    assert isinstance(receive('[3, "a", {}]', Sender.CP), Answer)
    assert isinstance(receive('[4, "a", "GenericError", "", {}]', Sender.CP), Answer)
    ignored = receive('[6, "a"]', Sender.CP)
    assert isinstance(ignored, Ignored)
    assert ignored.reason == "unknown message type id 6"


def test_result_frame_carries_the_wire_payload() -> None:
    call = receive('[2,"id","Reset",{"type":"Soft"}]', Sender.CS)
    assert isinstance(call, Valid)
    frame = result_frame(call, ResetResponse.random())
    assert frame.to_list()[:2] == [3, "id"]
    with pytest.raises(TypeError, match="the handler returned ResetRequest, not ResetResponse"):
        result_frame(call, ResetRequest.random())


def test_no_mutated_message_makes_receive_raise() -> None:
    """Random valid payloads with fields deleted, replaced and added, from either side."""
    rng = random.Random(16)
    odd: list[Any] = [None, True, 0, -1, 1.5, 2**70, "", "x" * 600, [], {}, [1], {"a": 1},
                      "2024-13-01T00:00:00Z"]  # fmt: skip

    def mutate(value: Any) -> Any:
        if isinstance(value, dict) and value and rng.random() < 0.6:
            key = rng.choice(list(value))
            return {**value, key: mutate(value[key]) if rng.random() < 0.5 else rng.choice(odd)}
        if isinstance(value, dict):
            return {**value, rng.choice(["x", "idTag", "status"]): rng.choice(odd)}
        if isinstance(value, list) and value:
            index = rng.randrange(len(value))
            return [*value[:index], mutate(value[index]), *value[index + 1 :]]
        return rng.choice(odd)

    kinds: set[str] = set()
    for _ in range(1000):
        action = rng.choice(list(ACTIONS.values()))
        payload = mutate(mutate(action.request.random(full=True, rng=rng).to_dict()))
        frame: Any = [2, "id", action.name, payload]
        text = json.dumps(mutate(frame) if rng.random() < 0.1 else frame)
        for peer in (Sender.CP, Sender.CS):
            incoming = receive(text, peer)
            kinds.add(type(incoming).__name__)
            if isinstance(incoming, Invalid):
                assert incoming.reply.code in ERROR_CODES
    assert {"Valid", "Invalid"} <= kinds
