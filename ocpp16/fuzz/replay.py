"""Sending recorded frames again and judging what happens: replay and the minimizer's test.

:func:`observe` opens a fresh connection per recorded connection (one after the other, or all at
once for a connection storm), sends its frames in order, waits for the answer to each frame that
carries a readable unique id, and names the oracle the outcome matches (``crash``, ``hang``,
``stall``, ``unanswered``, ``dropped``, ``accepted-invalid``, ``invalid-answer``) or none.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Sequence
from typing import Any, Final

import attrs

from ocpp16.errors import ConnectError, InputError
from ocpp16.frames import CALL, CALLRESULT, MAX_ID_LENGTH
from ocpp16.fuzz.oracles import SLOW_FLOOR_S, Finding, answer_problem, invalid_paths
from ocpp16.fuzz.probe import heartbeat, target_state
from ocpp16.fuzz.security import run_probe
from ocpp16.fuzz.target import Target
from ocpp16.fuzz.wire import UNREADABLE_ID, Link, Reply, Where, open_link

__all__ = ["BIG_FRAME", "Observation", "observe", "replay_finding", "send_frames"]

#: A frame this large may be refused by closing with 1009 (message too big): not a finding.
BIG_FRAME: Final = 1024 * 1024
_TOO_BIG: Final = 1009


@attrs.frozen
class Observation:
    """What a replay saw: the oracle it matches ("" for none) and in words."""

    oracle: str
    detail: str


def _call_of(data: str | bytes) -> tuple[str | None, str, Any]:
    """(unique id to wait for, action, payload) of a frame; no id when none can be read."""
    try:
        frame = json.loads(data)
    except (ValueError, RecursionError, UnicodeDecodeError):
        return None, "", None
    if not (isinstance(frame, list) and len(frame) == 4 and frame[0] == CALL):
        return None, "", None
    if type(frame[0]) is not int or not isinstance(frame[1], str):
        return None, "", None
    action = frame[2] if isinstance(frame[2], str) else ""
    return frame[1], action, frame[3]


async def send_frames(
    link: Link, frames: Sequence[str | bytes], timeout: float
) -> tuple[list[tuple[str, str, Any, Reply]], bool]:
    """Send ``frames`` in order, waiting for the answer to each CALL with a readable id.
    Returns (unique id, action, payload, reply) per CALL waited for, and whether the last frame
    was answered or needs no answer."""
    replies: list[tuple[str, str, Any, Reply]] = []
    settled = True
    for data in frames:
        if not await link.send(data):
            break
        uid, action, payload = _call_of(data)
        settled = uid is None
        if uid is None or len(uid) > MAX_ID_LENGTH:
            continue  # an answer may or may not come: the Heartbeat after the frames tells
        reply = await link.wait(uid, timeout)
        replies.append((uid, action, payload, reply))
        settled = reply.status == "answer"
        if reply.status == "closed":
            break
    return replies, settled


async def observe(
    where: Where,
    connections: Sequence[tuple[str, Sequence[str | bytes]]],
    timeout: float,
    target: Target | None = None,
    concurrent: bool = False,
) -> Observation:
    """Replay ``connections`` (identity, frames) and name what happened. Raises ConnectError
    when the first connection cannot be opened at all."""
    if concurrent:
        results = await asyncio.gather(
            *(_one(where, identity, frames, timeout, target) for identity, frames in connections),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, Observation) and result.oracle:
                return result
            if isinstance(result, ConnectError):
                state = await target_state(where, connections[0][0], timeout, target)
                if state == "crashed":
                    return Observation("crash", f"connections refused during the storm: {result}")
        return Observation("", "every connection of the storm was served")
    seen = Observation("", "nothing wrong")
    for identity, frames in connections:
        seen = await _one(where, identity, frames, timeout, target)
        if seen.oracle:
            return seen
    return seen


async def _one(
    where: Where,
    identity: str,
    frames: Sequence[str | bytes],
    timeout: float,
    target: Target | None,
) -> Observation:
    link = await open_link(where, identity, timeout)
    try:
        return await _judge(where, link, frames, timeout, target)
    finally:
        await link.close()


async def _judge(
    where: Where,
    link: Link,
    frames: Sequence[str | bytes],
    timeout: float,
    target: Target | None,
) -> Observation:
    replies, settled = await send_frames(link, frames, timeout)
    rng = random.Random(0)
    if not link.closed and not settled:
        reply = await heartbeat(link, rng, timeout)
        if reply.status == "timeout":
            return await _silent(where, link.identity, timeout, target)
    if link.closed:
        if link.closed_code == _TOO_BIG and any(len(f) > BIG_FRAME for f in frames):
            return Observation("", "closed with 1009 after a frame over 1 MiB (allowed)")
        state = await target_state(where, link.identity, timeout, target)
        if state == "crashed":
            return Observation("crash", "the connection dropped and connections are refused")
        return Observation("dropped", f"the connection was closed {link.closed_how}")
    for uid, action, payload, reply in replies:
        if reply.status == "timeout" and link.wait_early(UNREADABLE_ID) is None:
            return Observation("unanswered", f"no answer to {action} {uid!r}")
        if reply.status != "answer":
            continue
        frame = reply.frame
        if isinstance(frame, list) and frame and frame[0] == CALLRESULT and action:
            if len(uid) > MAX_ID_LENGTH:
                return Observation("accepted-invalid", "a CALL with an over-long id answered")
            if isinstance(payload, dict) and _known(action) and invalid_paths(action, payload):
                return Observation("accepted-invalid", f"an invalid {action} was answered")
        problem = answer_problem(action, frame) if reply.status == "answer" else None
        if problem:
            return Observation("invalid-answer", problem)
    if link.unreadable:
        return Observation("invalid-answer", "a frame that is not OCPP-J came back")
    return Observation("", "every frame was answered properly")


def _known(action: str) -> bool:
    from ocpp16._generated.actions import ACTIONS

    found = ACTIONS.get(action)
    return found is not None and found.sender.charge_point_sends


async def _silent(
    where: Where, identity: str, timeout: float, target: Target | None
) -> Observation:
    state = await target_state(where, identity + "-probe", timeout, target)
    if state == "crashed":
        return Observation("crash", "no answer, then connections are refused")
    if state == "silent":
        return Observation("hang", "no answer, and a fresh connection's Heartbeat got none")
    return Observation("stall", "the connection stopped answering; a fresh one is answered")


async def replay_finding(finding: Finding, where: Where, timeout: float) -> Observation:
    """Run the finding's frames (or its security probe) again against ``where``: the oracle
    it matches now ("" when nothing went wrong)."""
    if finding.oracle == "security":
        identity = finding.connections[0].identity if finding.connections else "fuzz-probe"
        result = await run_probe(finding.probe, where, identity, timeout)
        if result is None:
            raise InputError(f"the {finding.probe!r} probe needs the password (--password)")
        return Observation("security" if result.found else "", result.observed)
    plan = [
        (c.identity, [data for _, direction, data in c.frames if direction == "out"])
        for c in finding.connections
    ]
    plan = [(identity, frames) for identity, frames in plan if frames]
    if not plan:
        raise InputError("the reproducer holds no frame to send")
    started = time.monotonic()
    seen = await observe(where, plan, timeout, None, finding.concurrent)
    if not seen.oracle and finding.oracle == "slow":
        took = time.monotonic() - started
        if took > SLOW_FLOOR_S:
            return Observation("slow", f"the replay took {took:.2f} s")
    return seen
