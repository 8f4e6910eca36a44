"""Reproducer files: one finding, the exact frames that showed it, and how to replay them.

A reproducer is JSON (``FORMAT``, version ``VERSION``)::

    {"format": "ocpp16-fuzz-reproducer", "version": 1,
     "target": "ws://127.0.0.1:9000/ocpp",          # the URL without credentials or identity
     "seed": 7, "case": 1234,                       # `ocpp16 fuzz --seed 7` made case 1234
     "oracle": "crash", "action": "StartTransaction", "kind": "date-time",
     "path": "$.timestamp", "title": "...", "observed": "...", "count": 3,
     "probe": "",                                   # the security probe, for security findings
     "concurrent": false,                           # replay the connections at once (a storm)
     "minimized": true, "originalFrames": 9,
     "connections": [{"identity": "fuzz-0", "auth": "given",
                      "frames": [{"at": 0.0021, "direction": "out", "text": "[2,...]"},
                                 {"at": 0.0032, "direction": "in", "text": "[3,...]"},
                                 {"at": 0.0040, "direction": "out", "binary": "WzIs..."}]}]}

``at`` is seconds since the connection opened; binary frames are base64. Replay sends the
``out`` frames; the ``in`` frames are what the target answered when the finding was made.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any, Final

from ocpp16.errors import InputError
from ocpp16.fuzz.oracles import ORACLES, Finding, Recorded

__all__ = ["FORMAT", "VERSION", "file_name", "load", "save", "to_json"]

FORMAT: Final = "ocpp16-fuzz-reproducer"
VERSION: Final = 1
_UNSAFE_NAME: Final = re.compile(r"[^A-Za-z0-9_.-]+")


def _frame_json(at: float, direction: str, data: str | bytes) -> dict[str, Any]:
    entry: dict[str, Any] = {"at": round(at, 4), "direction": direction}
    if isinstance(data, bytes):
        entry["binary"] = base64.b64encode(data).decode("ascii")
    else:
        entry["text"] = data
    return entry


def to_json(finding: Finding, target: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "target": target,
        "seed": finding.seed,
        "case": finding.case,
        "oracle": finding.oracle,
        "action": finding.action,
        "kind": finding.kind,
        "path": finding.path,
        "title": finding.title,
        "observed": finding.observed,
        "count": finding.count,
        "probe": finding.probe,
        "concurrent": finding.concurrent,
        "minimized": finding.minimized,
        "originalFrames": finding.original_frames,
        "connections": [
            {
                "identity": c.identity,
                "auth": c.auth,
                "frames": [_frame_json(*frame) for frame in c.frames],
            }
            for c in finding.connections
        ],
    }


def file_name(number: int, finding: Finding) -> str:
    what = "-".join(x for x in (finding.oracle, finding.action, finding.kind) if x)
    return f"{number:03d}-{_UNSAFE_NAME.sub('_', what)[:80]}.json"


def save(finding: Finding, target: str, path: Path) -> None:
    # ASCII only: lone surrogates and control characters travel as JSON escapes.
    path.write_text(json.dumps(to_json(finding, target), indent=1) + "\n", encoding="ascii")


def load(path: Path) -> tuple[Finding, str]:
    """The finding in a reproducer file and its target URL; InputError (one line) when the
    file cannot be read or is not a reproducer."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f'{path}: not an ocpp16 fuzz reproducer (no "format": "{FORMAT}")')
    if data.get("version") != VERSION:
        found = data.get("version")
        raise InputError(f"{path}: reproducer version {found!r}; this ocpp16 reads {VERSION}")
    try:
        connections = tuple(
            Recorded(
                str(c["identity"]),
                tuple(_frame(f) for f in c["frames"]),
                str(c.get("auth", "given")),
            )
            for c in data["connections"]
        )
        finding = Finding(
            oracle=str(data["oracle"]),
            action=str(data.get("action", "")),
            kind=str(data.get("kind", "")),
            path=str(data.get("path", "")),
            observed=str(data.get("observed", "")),
            seed=int(data.get("seed", 0)),
            case=int(data.get("case", -1)),
            title=str(data.get("title", "")),
            connections=connections,
            probe=str(data.get("probe", "")),
            concurrent=bool(data.get("concurrent", False)),
            count=int(data.get("count", 1)),
            minimized=bool(data.get("minimized", False)),
        )
    except KeyError as exc:
        raise InputError(f'{path}: malformed reproducer: no "{exc.args[0]}"') from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"{path}: malformed reproducer: {exc}") from None
    if finding.oracle not in ORACLES:
        raise InputError(f"{path}: unknown oracle {finding.oracle!r}")
    return finding, str(data.get("target", ""))


def _frame(entry: dict[str, Any]) -> tuple[float, str, str | bytes]:
    data: str | bytes
    if "binary" in entry:
        data = base64.b64decode(entry["binary"], validate=True)
    else:
        data = str(entry["text"])
    direction = str(entry.get("direction", "out"))
    if direction not in ("in", "out"):
        raise ValueError(f"direction {direction!r}")
    return float(entry.get("at", 0.0)), direction, data
