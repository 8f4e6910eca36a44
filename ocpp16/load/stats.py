"""What a load run measures, in memory that does not grow with the number of calls.

- per action (:class:`ActionStats`): calls, valid answers, CALLERRORs by code, invalid answers,
  frames that are not OCPP-J, timeouts, connections closed while waiting, and a latency
  :class:`~ocpp16.load.histogram.Histogram` of the answered calls;
- connections (:class:`ConnectionStats`): attempts, opened, time to connect, failures by
  cause, how connections ended;
- a timeline (:class:`Timeline`): per second, calls answered, errors, latency p50/p90/p99/max
  and charge points connected; past :data:`MAX_TIMELINE_ROWS` rows, neighbouring rows merge
  and the step doubles, so a long run keeps a bounded, coarser timeline.

Error codes and causes come partly from the peer, so each tally keeps at most
:data:`MAX_KINDS` distinct names and counts the rest as ``other``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from ocpp16._aio import Outcome
from ocpp16._text import printable, shorten
from ocpp16.client import Verdict, verdict_of
from ocpp16.errors import (
    CallError,
    ConnectError,
    DNSError,
    HandshakeError,
    RefusedError,
    SubprotocolError,
    TLSError,
)
from ocpp16.load.histogram import Histogram

__all__ = [
    "MAX_KINDS",
    "MAX_TIMELINE_ROWS",
    "SIMULATED_OUTAGE",
    "ActionStats",
    "ConnectionStats",
    "Kind",
    "Statistics",
    "Timeline",
    "connect_cause",
    "outcome_kind",
]

#: Distinct CALLERROR codes or failure causes kept per tally; the rest count as "other".
MAX_KINDS: Final = 32
#: Rows of the timeline before neighbours merge (an hour at one row a second).
MAX_TIMELINE_ROWS: Final = 3600
#: The failure cause of a connection attempt during --blackout: our outage, not the target's.
SIMULATED_OUTAGE: Final = "network down (simulated)"

#: What came of one CALL of ours (as ``ocpp16 send --json`` calls it).
Kind = Verdict


def outcome_kind(outcome: Outcome) -> Kind:
    return verdict_of(outcome.error)


def connect_cause(error: ConnectError) -> str:
    """A short name for why a connection attempt failed (a tally's key)."""
    if isinstance(error, HandshakeError):
        return f"http {error.status}"
    for kind, name in (
        (DNSError, "dns"),
        (RefusedError, "refused"),
        (TLSError, "tls"),
        (SubprotocolError, "subprotocol"),
    ):
        if isinstance(error, kind):
            return name
    text = str(error)
    if "(simulated)" in text:
        return SIMULATED_OUTAGE
    if " within " in text:
        return "timeout"
    if "open files" in text:
        return "open-files limit"
    return "other"


def _tally(counts: dict[str, int], name: str, amount: int = 1) -> None:
    if name not in counts and len(counts) >= MAX_KINDS:
        name = "other"
    counts[name] = counts.get(name, 0) + amount


@dataclass(slots=True)
class ActionStats:
    """One action's calls and what came of them."""

    calls: int = 0
    ok: int = 0
    callerrors: dict[str, int] = field(default_factory=dict)
    invalid: int = 0
    malformed: int = 0
    timeouts: int = 0
    closed: int = 0
    latency: Histogram = field(default_factory=Histogram)

    @property
    def errors(self) -> int:
        return self.calls - self.ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "ok": self.ok,
            "callerrors": dict(sorted(self.callerrors.items())),
            "invalid": self.invalid,
            "malformed": self.malformed,
            "timeouts": self.timeouts,
            "closed": self.closed,
            "latency_ms": self.latency.summary_ms(),
        }


@dataclass(slots=True)
class ConnectionStats:
    """Connection attempts of the whole fleet."""

    attempts: int = 0
    opened: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    #: The first message of each failure cause (MAX_KINDS at most), to tell what "other" was.
    examples: dict[str, str] = field(default_factory=dict)
    #: How connections ended: cut (--storm, --blackout), planned (a reset, a firmware update,
    #: a plan's network loss), lost (the central system or the network closed it), end (of run).
    ended: dict[str, int] = field(default_factory=dict)
    time_to_connect: Histogram = field(default_factory=Histogram)

    def to_dict(self, reconnects: int) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "opened": self.opened,
            "reconnects": reconnects,
            "failures": dict(sorted(self.failures.items())),
            "failure_examples": dict(sorted(self.examples.items())),
            "ended": dict(sorted(self.ended.items())),
            "time_to_connect_ms": self.time_to_connect.summary_ms(),
        }


@dataclass(slots=True)
class Row:
    """One step of the timeline: ``t`` seconds since the start, over ``step`` seconds."""

    t: float
    step: float
    calls: int
    errors: int
    latency: Histogram
    connected: int

    def absorb(self, later: Row) -> None:
        """Cover ``later`` too (the row right after this one)."""
        self.t = later.t
        self.step += later.step
        self.calls += later.calls
        self.errors += later.errors
        self.latency.merge(later.latency)
        self.connected = later.connected

    def to_dict(self) -> dict[str, Any]:
        figures = self.latency.summary_ms()
        return {
            "t": round(self.t, 3),
            "step_s": round(self.step, 3),
            "calls": self.calls,
            "calls_per_s": round(self.calls / self.step, 3),
            "errors": self.errors,
            "p50_ms": figures["p50"],
            "p90_ms": figures["p90"],
            "p99_ms": figures["p99"],
            "max_ms": figures["max"],
            "connected": self.connected,
        }


class Timeline:
    """Calls, errors, latency and connected charge points per step (1 s, doubling when long)."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.step = 1.0
        self._since = 0.0
        self._open = Row(0.0, 1.0, 0, 0, Histogram(), 0)

    def record(self, elapsed: float, ok: bool, answered: bool) -> None:
        row = self._open
        row.calls += 1
        if not ok:
            row.errors += 1
        if answered:
            row.latency.record(elapsed)

    def close(self, t: float, connected: int) -> Row:
        """End the current row at ``t`` seconds since the start (a second after the last, or
        more when the event loop lags: rates divide by the time really covered)."""
        row = self._open
        row.step = max(t - self._since, 0.001)
        row.t = t
        row.connected = connected
        self._since = t
        self._open = Row(t, 1.0, 0, 0, Histogram(), 0)
        self._add(row)
        return row

    def finish(self, t: float) -> None:
        """The run ended at ``t``: the calls since the last full second make a shorter row."""
        row = self._open
        if row.calls and t > self._since:
            row.t = t
            row.step = t - self._since
            self.rows.append(row)
        self._open = Row(t, 1.0, 0, 0, Histogram(), 0)

    def _add(self, second: Row) -> None:
        last = self.rows[-1] if self.rows else None
        if last is not None and last.step < self.step:
            last.absorb(second)  # the last row covers less than a step: this second joins it
        else:
            self.rows.append(second)
        if len(self.rows) > MAX_TIMELINE_ROWS:
            self.step *= 2
            merged: list[Row] = []
            for first, later in zip(self.rows[::2], self.rows[1::2], strict=False):
                first.absorb(later)
                merged.append(first)
            if len(self.rows) % 2:
                merged.append(self.rows[-1])
            self.rows = merged

    def to_list(self) -> list[dict[str, Any]]:
        return [row.to_dict() for row in self.rows]


class Statistics:
    """Everything a load run counts; the fleet feeds it, reports and the live view read it."""

    def __init__(self) -> None:
        self.actions: dict[str, ActionStats] = {}
        self.connections = ConnectionStats()
        self.timeline = Timeline()
        self.calls = 0
        self.errors: dict[str, int] = {}
        #: Examples of what went wrong (bounded), for the report.
        self.examples: list[str] = []

    def exchange(self, action: str, elapsed: float, outcome: Outcome) -> None:
        """One CALL of ours: ``elapsed`` wall seconds from sending to its end."""
        stats = self.actions.get(action)
        if stats is None:
            stats = self.actions[action] = ActionStats()
        kind = outcome_kind(outcome)
        stats.calls += 1
        self.calls += 1
        answered = kind in ("ok", "callerror", "invalid", "malformed")
        if answered:
            stats.latency.record(elapsed)
        if kind == "ok":
            stats.ok += 1
        else:
            _tally(self.errors, kind)
            if kind == "callerror" and isinstance(outcome.error, CallError):
                _tally(stats.callerrors, printable(shorten(outcome.error.code, 40)))
            elif kind == "invalid":
                stats.invalid += 1
            elif kind == "malformed":
                stats.malformed += 1
            elif kind == "timeout":
                stats.timeouts += 1
            else:
                stats.closed += 1
            if len(self.examples) < 20:
                text = str(outcome.error)  # a CallError names its action itself
                text = text if text.startswith(f"{action}: ") else f"{action}: {text}"
                self.examples.append(printable(shorten(text)))
        self.timeline.record(elapsed, kind == "ok", answered)

    def connect(self, elapsed: float, error: ConnectError | None) -> None:
        """One connection attempt; ``error`` None when it opened."""
        connections = self.connections
        connections.attempts += 1
        if error is None:
            connections.opened += 1
            connections.time_to_connect.record(elapsed)
            return
        cause = connect_cause(error)
        _tally(connections.failures, cause)
        if cause not in connections.examples and len(connections.examples) < MAX_KINDS:
            connections.examples[cause] = printable(shorten(str(error)))

    def ended(self, how: str) -> None:
        _tally(self.connections.ended, how)

    def latency(self) -> Histogram:
        """Every answered call's latency, all actions together."""
        total = Histogram()
        for stats in self.actions.values():
            total.merge(stats.latency)
        return total
