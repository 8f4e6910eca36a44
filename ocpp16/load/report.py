"""The report of a load run: one JSON-ready dict, written by ``--json`` and inlined by ``--html``.

Its keys: ``tool``, ``complete`` (false when interrupted), ``ok`` (every call answered with a
valid CALLRESULT, every frame of the central system valid, every charge point connected, no
connection lost and no attempt failed but in a ``--blackout``),
``verdict`` (that in words, with every reason it is not so),
``url`` (credentials never shown), ``started``, ``duration_s``, ``settings``, ``charge_points``
(planned, started, ever connected, booted, connected at the end), ``calls`` (all actions
together, with latency), ``actions`` (per action: calls, ok, callerrors by code, invalid,
malformed, timeouts, closed, latency_ms p50/p90/p99/max/mean), ``errors`` (by kind),
``connections`` (attempts, opened, reconnects, failures by cause, how connections ended, time
to connect), ``patterns`` (storm and blackout times, connections cut), ``frames`` (in and out),
``problems`` (the central system's invalid frames, and what went wrong: a bounded list of
examples) and ``timeline`` (about one row a second: t, step_s, calls, calls_per_s, errors,
p50/p90/p99/max_ms, connected).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from ocpp16._text import printable
from ocpp16.load.fleet import Fleet
from ocpp16.load.stats import SIMULATED_OUTAGE
from ocpp16.transport import safe_url

__all__ = ["MAX_LISTED_PROBLEMS", "build_report", "json_text", "write_json"]

#: Problems listed in a report; the rest are counted.
MAX_LISTED_PROBLEMS: Final = 50


def build_report(fleet: Fleet) -> dict[str, Any]:
    config = fleet.config
    stats = fleet.stats
    problems: list[str] = list(fleet.crashes)
    problem_count = len(fleet.crashes)
    frames_in = frames_out = 0
    ever = 0
    for result in fleet.results:
        frames_in += result.frames_in
        frames_out += result.frames_out
        ever += result.connections > 0
        problem_count += result.problem_count
        for problem in result.problems:
            if len(problems) >= MAX_LISTED_PROBLEMS:
                break
            problems.append(f"{printable(result.identity)}: {problem}")
    for example in stats.examples:
        if len(problems) < MAX_LISTED_PROBLEMS:
            problems.append(example)
    calls = sum(action.calls for action in stats.actions.values())
    valid = sum(action.ok for action in stats.actions.values())
    started = len(fleet.points)
    connections = stats.connections
    lost = connections.ended.get("lost", 0)
    # A central system that went away between calls answered each call it got: what tells is
    # the connections it dropped and refused. The simulated network outage is ours, not its.
    failed = {k: n for k, n in connections.failures.items() if k != SIMULATED_OUTAGE}
    attempts = sum(failed.values())
    why_not: list[str] = []
    if calls != valid:
        why_not.append(f"{calls - valid:,} of {calls:,} calls not answered validly")
    if lost:
        why_not.append(
            f"{lost:,} connection{'s' * (lost != 1)} lost (closed by the central system or the"
            " network)"
        )
    if failed:
        causes = ", ".join(f"{cause} {n:,}" for cause, n in sorted(failed.items()))
        why_not.append(f"{attempts:,} connection attempt{'s' * (attempts != 1)} failed ({causes})")
    if problem_count:
        why_not.append(
            f"{problem_count:,} problem{'s' * (problem_count != 1)} from the central system"
            " (listed)"
        )
    if started != config.cps:
        why_not.append(f"{started:,} of {config.cps:,} charge points started")
    if ever != started:
        why_not.append(f"{started - ever:,} charge points never connected")
    if fleet.interrupted:
        why_not.append("interrupted before the end")
    ok = not why_not
    blackout = None
    if config.blackout is not None:
        blackout = {"at_s": config.blackout_start, "seconds": config.blackout}
    return {
        "tool": "ocpp16 load",
        "complete": not fleet.interrupted,
        "ok": ok,
        "verdict": "every call answered validly" if ok else "NOT OK: " + "; ".join(why_not),
        "url": safe_url(config.url),
        "started": fleet.started_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "duration_s": round(fleet.elapsed, 3),
        "settings": {
            "cps": config.cps,
            "ramp_per_s": config.ramp,
            "duration_s": config.duration,
            "id_prefix": config.id_prefix,
            "connectors": config.connectors,
            "sessions": "auto" if config.sessions else ("plan" if config.plan else None),
            "heartbeat_s": config.heartbeat,
            "meter_interval_s": config.meter_interval,
            "speed": config.speed,
            "seed": config.seed,
        },
        "charge_points": {
            "planned": config.cps,
            "started": started,
            "ever_connected": ever,
            "booted": len(fleet.booted),
            "connected_at_end": stats.connections.ended.get("end", 0),
        },
        "calls": {
            "calls": calls,
            "ok": valid,
            "per_s": round(calls / fleet.elapsed, 3) if fleet.elapsed else 0.0,
            "latency_ms": stats.latency().summary_ms(),
        },
        "actions": {name: stats.actions[name].to_dict() for name in sorted(stats.actions)},
        "errors": dict(sorted(stats.errors.items())),
        "connections": connections.to_dict(sum(max(r.connections - 1, 0) for r in fleet.results)),
        "patterns": {"storm_at_s": config.storm_at, "blackout": blackout, "cut": fleet.cuts},
        "frames": {"in": frames_in, "out": frames_out},
        "problem_count": problem_count,
        "problems": problems,
        "timeline": stats.timeline.to_list(),
    }


def json_text(report: dict[str, Any]) -> str:
    """The report as ``--json`` writes it."""
    return json.dumps(report, indent=2) + "\n"


def write_json(report: dict[str, Any], path: Path) -> None:
    """Write the report to ``path`` as ``--json`` does; OSError when it cannot be written."""
    path.write_text(json_text(report), encoding="utf-8")
