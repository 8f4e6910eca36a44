"""What counts as a finding, and the findings themselves.

Oracles (``Finding.oracle``):

- ``crash``: the connection dropped and the target then refused connections (or its
  ``--restart-cmd`` process exited);
- ``hang``: no answer on the connection, and a probe Heartbeat on a fresh connection got none;
- ``stall``: the connection stopped answering (a Heartbeat on it got nothing) while a fresh
  connection is still answered;
- ``unanswered``: a CALL got no answer although the connection still answers;
- ``dropped``: the central system closed the connection (a close with code 1009 after a frame
  over 1 MiB is its right and not counted);
- ``accepted-invalid``: a CALL that breaks its schema (or its framing) answered with a CALLRESULT;
  whether the payload really is invalid is decided by the generated classes
  (:func:`ocpp16._violations.violations`), and values that one reading of the spec allows
  (:mod:`ocpp16.readings`) never count;
- ``invalid-answer``: a CALLRESULT that breaks the response schema, or a frame that is not OCPP-J;
- ``slow``: an answer far slower than the running median of its action (SLOW_FACTOR times, and at
  least SLOW_FLOOR_S seconds);
- ``security``: a security probe succeeded that should have failed.

Findings are deduplicated by signature: oracle, action, kind of mutation, path (with array
indexes generalised to ``[]``).
"""

from __future__ import annotations

import statistics
from collections import deque
from typing import Any, Final

import attrs

from ocpp16._generated.actions import ACTIONS
from ocpp16._model import Model
from ocpp16._violations import violations
from ocpp16.errors import ValidationError
from ocpp16.frames import CALLERROR, CALLRESULT
from ocpp16.readings import errata_values, generic_path

__all__ = [
    "MINIMIZED",
    "ORACLES",
    "SLOW_FACTOR",
    "SLOW_FLOOR_S",
    "Finding",
    "Recorded",
    "SlowTracker",
    "answer_problem",
    "invalid_paths",
]

ORACLES: Final = (
    "crash",
    "hang",
    "stall",
    "unanswered",
    "dropped",
    "accepted-invalid",
    "invalid-answer",
    "slow",
    "security",
)
#: The oracles whose findings are minimized by delta debugging.
MINIMIZED: Final = ("crash", "hang", "stall", "dropped")
SLOW_FACTOR: Final = 20.0
SLOW_FLOOR_S: Final = 2.0
#: Answers per action the running median is taken over; none is judged before _SLOW_WARMUP.
_SLOW_WINDOW: Final = 101
_SLOW_WARMUP: Final = 20


@attrs.frozen
class Recorded:
    """The frames of one connection, in order: (seconds since it opened, "out"/"in", data)."""

    identity: str
    frames: tuple[tuple[float, str, str | bytes], ...]
    auth: str = "given"


@attrs.define
class Finding:
    """One distinct problem, with the case that showed it first and how to reproduce it."""

    oracle: str
    action: str
    kind: str
    path: str
    observed: str
    seed: int
    case: int
    title: str = ""
    connections: tuple[Recorded, ...] = ()
    probe: str = ""  # the security probe, for security findings
    concurrent: bool = False  # replay the connections at once (a connection storm)
    count: int = 1  # cases that showed it
    minimized: bool = False
    original_frames: int = 0
    file: str = ""

    @property
    def signature(self) -> tuple[str, str, str, str]:
        return (self.oracle, self.action, self.kind, generic_path(self.path))


def invalid_paths(action: str, payload: Any) -> list[str]:
    """The paths where ``payload`` breaks ``action``'s request schema; values that only one
    reading of the spec allows (the errata's units) are not violations here."""
    cls = ACTIONS[action].request
    if _parses(payload, cls):
        return []
    found = violations(payload, cls)
    return [v.path for v in found if not _reading_allows(action, payload, v.path)]


def _parses(payload: Any, cls: type[Model]) -> bool:
    """The fast path: ``from_dict`` accepts it (a null included: it refuses those itself)."""
    try:
        cls.from_dict(payload)
    except (ValidationError, ValueError, TypeError, RecursionError):
        return False  # violations() says where
    return True


def _reading_allows(action: str, payload: Any, path: str) -> bool:
    allowed = errata_values(action, path)
    return bool(allowed) and _at(payload, path) in allowed


def _at(payload: Any, path: str) -> Any:
    node = payload
    for part in path[2:].replace("[", ".[").split("."):
        if not part:
            continue
        try:
            node = node[int(part[1:-1])] if part.startswith("[") else node[part]
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    return node


def answer_problem(action: str, frame: Any) -> str | None:
    """Why ``frame`` is not a valid answer to a CALL of ``action`` (None: it is)."""
    if not isinstance(frame, list) or not frame:
        return "the answer is not an OCPP-J array"
    if frame[0] == CALLERROR:
        if len(frame) != 5 or not all(isinstance(x, str) for x in frame[1:4]):
            return "a CALLERROR without its 5 elements (id, code and description as strings)"
        return None
    if frame[0] != CALLRESULT or len(frame) != 3:
        return "the answer is neither a CALLRESULT nor a CALLERROR of the right length"
    known = ACTIONS.get(action)
    if known is None:
        return None
    if _parses(frame[2], known.response):
        return None
    found = violations(frame[2], known.response)
    if found:
        return f"the {action} CALLRESULT breaks the response schema: {found[0]}"
    return None


class SlowTracker:
    """The running median answer time per action, bounded."""

    def __init__(self) -> None:
        self._times: dict[str, deque[float]] = {}

    def slow(self, action: str, elapsed: float) -> str | None:
        """Why ``elapsed`` is far slower than the median of ``action`` (None: it is not);
        the time joins the window either way."""
        times = self._times.setdefault(action, deque(maxlen=_SLOW_WINDOW))
        verdict = None
        if len(times) >= _SLOW_WARMUP:
            median = statistics.median(times)
            if elapsed > max(SLOW_FLOOR_S, SLOW_FACTOR * median):
                verdict = f"answered in {elapsed:.2f} s; the median of {action} is {median:.3f} s"
        times.append(elapsed)
        return verdict
