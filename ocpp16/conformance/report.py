"""Reports of a conformance run: a summary per action, JSON and JUnit XML for CI systems."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import attrs

from ocpp16._text import printable, redact_url
from ocpp16.conformance.grading import Grade, Outcome

__all__ = ["Report", "json_text", "junit_text", "write_json", "write_junit"]


@attrs.frozen
class Report:
    """Everything a run found: the outcomes in case order, and how it was run.

    ``stopped`` is the verdict of a run that ended early (the central system stopped answering);
    ``interrupted`` a run ended by Ctrl-C. Either leaves the report incomplete.
    """

    url: str
    identity: str
    seed: int
    strict_codes: bool
    outcomes: tuple[Outcome, ...]
    elapsed_s: float
    reconnects: int = 0
    planned: int = 0  # the cases the run was to send
    stopped: str = ""
    interrupted: bool = False

    def failed(self, outcome: Outcome) -> bool:
        return outcome.grade.failed(self.strict_codes)

    @property
    def complete(self) -> bool:
        return not self.stopped and not self.interrupted

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if self.failed(o)]

    @property
    def warnings(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.grade.warned(self.strict_codes)]

    @property
    def not_tested(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.grade is Grade.NOT_TESTED]

    @property
    def passed(self) -> bool:
        """No case failed and every planned case ran: an incomplete run never passes, whatever
        it found so far (a CI job reading ``passed`` must not be misled by a Ctrl-C)."""
        return self.complete and not self.failures

    def by_action(self) -> dict[str, Counter[Grade]]:
        """Grades counted per action ("frames" for frame-level cases), in case order."""
        table: dict[str, Counter[Grade]] = {}
        for outcome in self.outcomes:
            table.setdefault(outcome.case.action or "frames", Counter())[outcome.grade] += 1
        return table

    def to_json(self) -> dict[str, Any]:
        grades = Counter(o.grade.value for o in self.outcomes)
        return {
            "url": redact_url(self.url),  # never a password, whatever the caller passed
            "identity": self.identity,
            "seed": self.seed,
            "strictCodes": self.strict_codes,
            "passed": self.passed,
            "complete": self.complete,
            "stopped": self.stopped or None,
            "interrupted": self.interrupted,
            "elapsedSeconds": round(self.elapsed_s, 3),
            "reconnects": self.reconnects,
            "summary": {
                "planned": self.planned,
                "cases": len(self.outcomes),
                "failed": len(self.failures),
                "warnings": len(self.warnings),
                "notTested": len(self.not_tested),
                "grades": dict(sorted(grades.items())),
            },
            "cases": [_outcome_json(o, self.failed(o)) for o in self.outcomes],
        }


def _outcome_json(outcome: Outcome, failed: bool) -> dict[str, Any]:
    case = outcome.case
    return {
        "id": case.id,
        "action": case.action,
        "kind": case.kind,
        "title": case.title,
        "expect": case.expect.value,
        "fittingCodes": list(case.codes),
        "reading": case.reading or None,
        "grade": outcome.grade.value,
        "failed": failed,
        "skipped": outcome.grade is Grade.NOT_TESTED,
        "reason": outcome.reason,
        "sent": None if outcome.grade is Grade.NOT_TESTED else outcome.sent_text,
        "answer": outcome.answer,
        "elapsedMs": round(outcome.elapsed_ms, 2),
    }


def json_text(report: Report) -> str:
    """The JSON report (ASCII: what the peer wrote is in ``\\u`` escapes), ending in a newline."""
    return json.dumps(report.to_json(), indent=2) + "\n"


def write_json(report: Report, path: Path) -> None:
    path.write_text(json_text(report), encoding="utf-8")


def junit_text(report: Report) -> str:
    """The JUnit XML report as ASCII text (other characters as character references), fit for
    any stdout whatever its encoding."""
    data: bytes = ET.tostring(_junit(report), encoding="us-ascii", xml_declaration=True)
    return data.decode("ascii") + "\n"


def write_junit(report: Report, path: Path) -> None:
    ET.ElementTree(_junit(report)).write(path, encoding="utf-8", xml_declaration=True)


def _junit(report: Report) -> ET.Element:
    """One testsuite per action, one testcase per case; warnings are <system-out> notes (code
    warnings failures under ``strict_codes``), cases not tested <skipped>. An incomplete run
    says so in the root's properties and each suite's ``complete`` attribute."""
    suites = ET.Element("testsuites", name="ocpp16 check", time=f"{report.elapsed_s:.3f}")
    properties = ET.SubElement(suites, "properties")
    for name, value in (
        ("complete", str(report.complete).lower()),
        ("planned", str(report.planned)),
        ("stopped", report.stopped),
        ("interrupted", str(report.interrupted).lower()),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    groups: dict[str, list[Outcome]] = {}
    for outcome in report.outcomes:
        groups.setdefault(outcome.case.action or "frames", []).append(outcome)
    if not report.complete:
        _junit_incomplete(report, suites)
    for action, outcomes in groups.items():
        failed = [o for o in outcomes if report.failed(o)]
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"ocpp16.check.{action}",
            tests=str(len(outcomes)),
            failures=str(len(failed)),
            errors="0",
            skipped=str(sum(1 for o in outcomes if o.grade is Grade.NOT_TESTED)),
            time=f"{sum(o.elapsed_ms for o in outcomes) / 1000:.3f}",
            complete=str(report.complete).lower(),
        )
        for outcome in outcomes:
            _junit_case(report, suite, action, outcome)
    ET.indent(suites)
    return suites


def _junit_incomplete(report: Report, suites: ET.Element) -> None:
    """An incomplete run as a failed test case of its own, first: a CI system counting failures
    in JUnit must not see a stopped or interrupted run as green."""
    why = report.stopped or "interrupted (Ctrl-C)"
    run = f"{len(report.outcomes)} of {report.planned} cases ran"
    suite = ET.SubElement(
        suites, "testsuite", name="ocpp16.check.run", tests="1", failures="1", errors="0"
    )
    case = ET.SubElement(suite, "testcase", classname="ocpp16.check.run", name="complete")
    failure = ET.SubElement(case, "failure", message=f"incomplete run: {why}", type="incomplete")
    failure.text = f"{run}; an incomplete run never passes"


def _junit_case(report: Report, suite: ET.Element, action: str, outcome: Outcome) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=f"ocpp16.check.{action}",
        name=outcome.case.id,
        time=f"{outcome.elapsed_ms / 1000:.3f}",
    )
    if outcome.grade is Grade.NOT_TESTED:
        ET.SubElement(case, "skipped", message=outcome.reason)
        return
    answer = json.dumps(outcome.answer) if outcome.answer is not None else "(nothing)"
    # XML 1.0 cannot hold most control characters: whatever the peer sent is escaped.
    details = printable(f"sent: {outcome.sent_text}\nanswer: {answer}", one_line=False)
    if report.failed(outcome):
        failure = ET.SubElement(case, "failure", message=outcome.reason, type=outcome.grade.value)
        failure.text = details
    elif outcome.grade.warned(report.strict_codes):
        ET.SubElement(case, "system-out").text = f"warning: {outcome.reason}\n{details}"
