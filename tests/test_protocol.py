"""ocpp16._protocol: the sans-I/O OCPP-J session, driven by hand: no socket, no thread, no clock."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ocpp16._action import Sender
from ocpp16._protocol import Answered, Busy, Note, PeerCall, Reply, Session, TimedOut
from ocpp16.errors import FrameError
from ocpp16.frames import CallErrorFrame, CallResult

DEEP = "[" * 1000 + "]" * 1000


def flying(unique_id: str | None = "ours", deadline: float = 10.0) -> Session:
    session = Session(Sender.CS, max_queued=1)
    session.call('[2,"ours","Heartbeat",{}]', unique_id, deadline)
    return session


def test_one_call_in_flight_and_its_answer() -> None:
    session = flying()
    with pytest.raises(Busy):
        session.call("[]", "second", 10.0)
    answer = '[3,"ours",{"currentTime":"2025-01-01T00:00:00Z"}]'
    [event] = session.receive(answer)
    assert event == Answered("ours", json.loads(answer), CallResult("ours", json.loads(answer)[2]))
    assert not session.in_flight
    [again] = session.receive(answer)  # now it answers nothing
    assert isinstance(again, Note)
    assert again.kind == "ignored"
    assert "answers no CALL of ours (id ours)" in again.detail


def test_the_deadline_is_the_drivers_clock() -> None:
    session = flying(deadline=10.0)
    assert session.expire(9.99) is None
    timed_out = session.expire(10.0, "Heartbeat", 10.0)
    assert isinstance(timed_out, TimedOut)
    assert str(timed_out.error) == "no answer to Heartbeat within 10 s"
    [late] = session.receive('[3,"ours",{}]')
    assert isinstance(late, Note)
    assert late.kind == "ignored"
    session.call("[]", "next", 20.0)  # the way is free again


def test_without_an_id_the_first_answer_is_taken() -> None:
    session = flying(unique_id=None)
    [event] = session.receive('[4,"x","NotImplemented","",{}]')
    assert event == Answered(
        "x", [4, "x", "NotImplemented", "", {}], CallErrorFrame("x", "NotImplemented", "", {})
    )


def test_peer_calls_are_bounded_and_freed_by_their_reply() -> None:
    session = Session(Sender.CS, max_queued=1)  # one being answered, one waiting
    calls = [f'[2,"p{n}","Reset",{{"type":"Soft"}}]' for n in range(3)]
    first, second = session.receive(calls[0]), session.receive(calls[1])
    assert isinstance(first[0], PeerCall)
    assert isinstance(second[0], PeerCall)
    note, reply = session.receive(calls[2])
    assert isinstance(note, Note)
    assert isinstance(reply, Reply)
    assert json.loads(reply.text)[:3] == [4, "p2", "ProtocolError"]
    assert "OCPP-J allows one outstanding CALL" in note.detail
    text = session.reply("p0", CallResult("p0", {"status": "Accepted"}))
    assert json.loads(text) == [3, "p0", {"status": "Accepted"}]
    assert isinstance(session.receive(calls[2])[0], PeerCall)  # room again
    _, refusal = session.receive(calls[2])
    assert isinstance(refusal, Reply)
    assert json.loads(refusal.text)[3] == "a CALL with the id p2 is already being answered"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('[2,"p","Reset",{"type":"Now"}]', "PropertyConstraintViolation"),
        ('[2,"p","BootNotification",{}]', "NotSupported"),
        ('[2,"p","Reset",' + DEEP + "]", "FormationViolation"),
        ('[2,"p","Reset",{"type":"\\udfff"}]', "FormationViolation"),
    ],
    ids=["bad value", "wrong direction", "deep", "surrogate"],
)
def test_broken_peer_calls_are_answered_by_the_session(text: str, code: str) -> None:
    note, reply = Session(Sender.CS).receive(text)
    assert isinstance(note, Note)
    assert note.kind == "peer-call"
    assert isinstance(reply, Reply)
    assert json.loads(reply.text)[:3] == [4, "p", code]


@pytest.mark.parametrize(
    ("text", "problem", "answer"),
    [
        ('[3,"ours",' + DEEP + "]", "JSON nested deeper than 64 levels", None),
        ('[3,"ours",{"a":"\\udfff"}]', "lone surrogate", [3, "ours", {"a": "\\udfff"}]),
        ('[3,"ours"]', "has 3 elements, got 2", [3, "ours"]),
        ('[3,"ours",{"currentTime":Infinity}]', "Infinity is not a JSON value", None),
    ],
    ids=["deep", "surrogate", "short", "infinity"],
)
def test_a_broken_answer_fails_the_call(text: str, problem: str, answer: Any) -> None:
    [event] = flying().receive(text)
    assert isinstance(event, Answered)
    assert isinstance(event.outcome, FrameError)
    assert problem in str(event.outcome)
    if answer is not None:
        assert event.answer == answer
    else:
        assert isinstance(event.answer, str)  # the text, cut


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"\xff", "a binary frame: OCPP-J is text only"),
        ('[9,"x"]', "unknown message type id 9"),
        ('[3,"x",' + DEEP + "]", "nested deeper"),
    ],
    ids=["binary", "unknown type", "deep answer to nothing"],
)
def test_noise_is_reported_and_changes_nothing(data: str | bytes, detail: str) -> None:
    session = flying()
    [event] = session.receive(data)
    assert isinstance(event, Note)
    assert detail in event.detail
    assert session.in_flight


@pytest.mark.parametrize("role", [Sender.CS, Sender.CP])
@pytest.mark.parametrize(
    ("text", "unique_id", "words"),
    [
        ("not json", "-1", "not valid JSON"),
        ('{"action":"Heartbeat"}', "-1", "array"),
        (DEEP, "-1", "nested deeper"),
        ('[2,"deep","DataTransfer",' + DEEP + "]", "deep", "nested deeper"),
        ('[2,"s","DataTransfer",{"vendorId":"\\ud800"}]', "s", "lone surrogate"),
        # Python's json reads these; JSON has no such values, and no other parser reads them.
        ('[2,"n","MeterValues",{"connectorId":NaN,"meterValue":[]}]', "n", "NaN is not a JSON"),
        ('[2,"i","Heartbeat",{"x":-Infinity}]', "i", "-Infinity is not a JSON"),
    ],
    ids=["not json", "not an array", "deep text", "deep call", "surrogate", "NaN", "-Infinity"],
)
def test_text_that_is_no_frame_gets_a_formation_violation_in_either_role(
    role: Sender, text: str, unique_id: str, words: str
) -> None:
    session = flying()
    session.peer = role
    note, reply = session.receive(text)
    assert isinstance(note, Note)
    assert note.kind == "peer-call"
    assert isinstance(reply, Reply)
    answer = json.loads(reply.text)
    assert answer[:3] == [4, unique_id, "FormationViolation"]
    assert words in answer[3]
    assert session.in_flight  # our CALL still waits for its answer
