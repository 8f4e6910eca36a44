"""The fuzzer's cases: case number ``index`` of seed ``seed`` is always the same case.

A case is a few steps on one connection: frames to send (and which unique ids must be answered),
a reconnect, or a connection storm. Three families:

- ``payload``: a random valid CALL of an action, with 1 to 3 payload mutations stacked
  (:func:`ocpp16.fuzz.mutators.mutate_payload`);
- ``frame``: a valid CALL with its framing broken (:func:`ocpp16.fuzz.mutators.frame_mutation`);
- ``sequence``: valid CALLs in an order or state a central system must survive: calls before
  BootNotification, StopTransaction for a transaction never started, already stopped or started
  by another charge point, a repeated StartTransaction, MeterValues for someone else's
  transaction, several CALLs in flight, a CALL replayed after a reconnect, a connection storm.

Transaction ids are known only at run time: steps carry the placeholder strings ``"@tx-own@"``
(the last transaction this connection started) and ``"@tx-other@"`` (one another connection
started) as the transactionId, which the engine replaces with the number before sending; the
reproducer files hold what was really sent.
"""

from __future__ import annotations

import json
import random
from typing import Any, Final

import attrs

from ocpp16._generated.actions import ACTIONS
from ocpp16.frames import CALL
from ocpp16.fuzz.mutators import Applied, encode, frame_mutation, mutate_payload

__all__ = [
    "OTHER_TX",
    "OWN_TX",
    "SEQUENCES",
    "STORM_SIZE",
    "Case",
    "Step",
    "cp_actions",
    "make_case",
]

OWN_TX: Final = "@tx-own@"
OTHER_TX: Final = "@tx-other@"
#: Connections opened at once by the connection-storm case.
STORM_SIZE: Final = 20

SEQUENCES: Final = (
    "call before boot",
    "stop unknown transaction",
    "stop twice",
    "stop another's transaction",
    "repeated start",
    "meter values for another's transaction",
    "calls in flight",
    "replay after reconnect",
    "connection storm",
)

#: The share of connection storms among the draws that pick one.
_STORM_SHARE: Final = 0.25
# How often each family is drawn.
_FAMILIES: Final = (("payload", 0.70), ("frame", 0.15), ("sequence", 0.15))


@attrs.frozen
class Step:
    """One thing to do: send ``data`` ("send"), reconnect and boot again ("reconnect"), or open
    STORM_SIZE connections at once ("storm"). ``expect`` is the unique id whose answer must come."""

    op: str
    data: str | bytes = ""
    expect: str | None = None
    action: str = ""  # the action of the CALL sent, to check its answer


@attrs.frozen
class Case:
    """A case: its steps and what it mutated (for findings and their signatures)."""

    index: int
    family: str  # payload, frame or sequence
    action: str
    kind: str  # "string", "frame: id too long", "sequence: stop twice", ...
    path: str  # the JSON path of the (first) payload mutation, or ""
    steps: tuple[Step, ...]
    mutations: tuple[Applied, ...] = ()
    #: The unique id of the CALL whose CALLRESULT means a defective CALL was accepted: the
    #: mutated payload (checked against the schema when answered) or an invalid frame.
    decisive: str | None = None
    #: The payload sent with ``decisive`` (None: the frame itself is defective).
    payload: Any = None
    base: Any = None  # the valid payload before mutation
    raw: bool = False  # the payload went out as raw text (duplicate keys)
    fresh: bool = False  # run on a new connection, before any BootNotification

    @property
    def title(self) -> str:
        if self.mutations:
            return "; ".join(f"{m.kind} {m.path}: {m.detail}" for m in self.mutations)
        return self.kind


def cp_actions(names: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The actions a charge point sends (or those of ``names``), in registry order."""
    chosen = [a.name for a in ACTIONS.values() if a.sender.charge_point_sends]
    return tuple(n for n in chosen if not names or n in names)


def _uid(index: int, rng: random.Random) -> str:
    return f"{index:x}-{rng.getrandbits(48):012x}"


def _valid(action: str, rng: random.Random) -> dict[str, Any]:
    return ACTIONS[action].request.random(full=rng.random() < 0.5, rng=rng).to_dict()


def make_case(seed: int, index: int, actions: tuple[str, ...]) -> Case:
    """Case ``index`` of ``seed`` over ``actions`` (CP→CS action names)."""
    rng = random.Random(seed * 1_000_003 + index)
    draw = rng.random()
    family = "sequence"
    for name, weight in _FAMILIES:
        if draw < weight:
            family = name
            break
        draw -= weight
    action = actions[int(rng.random() * len(actions))]
    if family == "payload":
        return _payload_case(index, action, rng)
    if family == "frame":
        return _frame_case(index, action, rng)
    name = SEQUENCES[int(rng.random() * len(SEQUENCES))]
    if name == "connection storm" and rng.random() >= _STORM_SHARE:
        name = "calls in flight"  # a storm costs STORM_SIZE handshakes: drawn less often
    return sequence_case(index, name, actions, rng)


def _payload_case(index: int, action: str, rng: random.Random) -> Case:
    base = _valid(action, rng)
    payload, applied, raw = mutate_payload(action, base, rng)
    uid = _uid(index, rng)
    text = encode([CALL, uid, action, payload], raw)
    return Case(
        index,
        "payload",
        action,
        applied[0].kind,
        applied[0].path,
        (Step("send", text, uid, action),),
        tuple(applied),
        uid,
        payload,
        base,
        raw is not None,
    )


def _frame_case(index: int, action: str, rng: random.Random) -> Case:
    uid = _uid(index, rng)
    mutated = frame_mutation(action, _valid(action, rng), uid, rng)
    # An unknown action has no response schema to check an answer against.
    sent = "" if mutated.kind == "action unknown" else action
    steps = [Step("send", frame, None, sent) for frame in mutated.frames]
    if mutated.expect:
        steps[-1] = Step("send", mutated.frames[-1], mutated.expect[0], sent)
    decisive = None
    if mutated.invalid:  # the frame's own (over-long) id: an answer to it carries it
        decisive = json.loads(mutated.frames[0])[1]
    return Case(
        index, "frame", action, f"frame: {mutated.kind}", "", tuple(steps), decisive=decisive
    )


def _send(action: str, payload: Any, uid: str) -> Step:
    return Step("send", encode([CALL, uid, action, payload]), uid, action)


def sequence_case(index: int, name: str, actions: tuple[str, ...], rng: random.Random) -> Case:
    """The sequence case ``name`` (one of SEQUENCES)."""
    steps: list[Step] = []
    action = ""
    fresh = False

    def uid() -> str:
        return _uid(index, rng) + f"-{len(steps)}"

    def start() -> dict[str, Any]:
        return _valid("StartTransaction", rng)

    def stop(transaction: int | str) -> Step:
        payload = {**_valid("StopTransaction", rng), "transactionId": transaction}
        return _send("StopTransaction", payload, uid())

    if name == "call before boot":
        action = next((a for a in actions if a != "BootNotification"), actions[0])
        steps.append(_send(action, _valid(action, rng), uid()))
        fresh = True
    elif name == "stop unknown transaction":
        action = "StopTransaction"
        steps.append(stop(2**31 - 1 - int(rng.random() * 1000)))
    elif name == "stop twice":
        action = "StopTransaction"
        steps.append(_send("StartTransaction", start(), uid()))
        steps.append(stop(OWN_TX))
        steps.append(stop(OWN_TX))
    elif name == "stop another's transaction":
        action = "StopTransaction"
        steps.append(stop(OTHER_TX))
    elif name == "repeated start":
        action = "StartTransaction"
        payload = start()
        steps.append(_send(action, payload, uid()))
        steps.append(_send(action, payload, uid()))
    elif name == "meter values for another's transaction":
        action = "MeterValues"
        steps.append(_send(action, {**_valid(action, rng), "transactionId": OTHER_TX}, uid()))
    elif name == "calls in flight":
        for _ in range(3):
            chosen = actions[int(rng.random() * len(actions))]
            frame = encode([CALL, uid(), chosen, _valid(chosen, rng)])
            steps.append(Step("send", frame, None, chosen))
    elif name == "replay after reconnect":
        action = actions[int(rng.random() * len(actions))]
        call = _send(action, _valid(action, rng), uid())
        steps += [call, Step("reconnect"), call]
    else:  # connection storm
        steps.append(Step("storm"))
    return Case(index, "sequence", action, f"sequence: {name}", "", tuple(steps), fresh=fresh)
