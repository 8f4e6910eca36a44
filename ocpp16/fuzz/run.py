"""What a fuzzing run takes and gives: options, live numbers, the report, Ctrl-C."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import attrs

from ocpp16.fuzz.oracles import Finding
from ocpp16.fuzz.wire import Where
from ocpp16.transport import endpoint, tls_context

__all__ = ["FuzzInterrupted", "FuzzOptions", "FuzzReport", "Live", "where_of"]


@attrs.frozen
class FuzzOptions:
    """How to fuzz. ``identity`` is the prefix of the connections' identities (the URL's last
    path segment when None); ``password`` is used for Basic auth and never reported."""

    url: str
    identity: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    insecure: bool = False
    duration: float | None = 60.0
    cases: int | None = None
    seed: int = 0
    actions: tuple[str, ...] = ()
    connections: int = 4
    timeout: float = 5.0
    restart_cmd: str | None = None
    out: Path | None = None
    minimize: bool = True


@attrs.define
class Live:
    """Numbers for a live view, updated as the run goes."""

    started: float = attrs.field(factory=time.monotonic)
    phase: str = "starting"
    cases: int = 0
    calls: int = 0  # CALL frames sent
    connections: int = 0
    restarts: int = 0
    findings: Counter[str] = attrs.field(factory=Counter)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


@attrs.frozen
class FuzzReport:
    url: str
    seed: int
    cases: int
    calls: int
    elapsed_s: float
    findings: tuple[Finding, ...]
    probes: tuple[tuple[str, str], ...]  # (probe, what was seen)
    restarts: int = 0
    stopped: str = ""
    interrupted: bool = False
    internal_errors: tuple[str, ...] = ()  # defects of the fuzzer itself, if any

    @property
    def cases_per_second(self) -> float:
        return self.cases / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def complete(self) -> bool:
        return not self.interrupted and not self.stopped

    def to_json(self) -> dict[str, Any]:
        from ocpp16.fuzz.reproducer import to_json

        return {
            "url": self.url,
            "seed": self.seed,
            "cases": self.cases,
            "calls": self.calls,
            "elapsedSeconds": round(self.elapsed_s, 3),
            "casesPerSecond": round(self.cases_per_second, 1),
            "restarts": self.restarts,
            "complete": self.complete,
            "stopped": self.stopped or None,
            "interrupted": self.interrupted,
            "probes": [{"probe": p, "observed": o} for p, o in self.probes],
            "internalErrors": list(self.internal_errors),
            "findingsByOracle": dict(Counter(f.oracle for f in self.findings)),
            "findings": [{**to_json(f, self.url), "file": f.file or None} for f in self.findings],
        }


class FuzzInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run; ``report`` holds what was found so far."""

    def __init__(self, report: FuzzReport) -> None:
        super().__init__("fuzz interrupted")
        self.report = report


def where_of(
    url: str,
    identity: str | None,
    password: str | None,
    *,
    ca: str | None = None,
    cert: str | None = None,
    key: str | None = None,
    insecure: bool = False,
) -> tuple[Where, str]:
    """The target (base URL, credentials, TLS) and the identity prefix for ``url``."""
    found = endpoint(url, identity)
    base = found.url.rsplit("/", 1)[0]
    tls = None
    if found.secure:
        tls = tls_context(ca, cert, key, insecure)
    return Where(base, password, tls), found.identity
