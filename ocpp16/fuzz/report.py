"""Reports of a fuzzing run for CI systems: JSON and JUnit XML.

JSON is :meth:`ocpp16.fuzz.engine.FuzzReport.to_json` (every finding with its reproducer). JUnit
has one testsuite with a testcase per oracle: a failure per finding of that oracle, so a CI
system lists each distinct problem; an oracle with no finding is a passing testcase.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from ocpp16._text import printable, shorten
from ocpp16.fuzz.oracles import ORACLES

if TYPE_CHECKING:
    from ocpp16.fuzz.engine import FuzzReport

__all__ = ["json_text", "junit_text", "write_json", "write_junit"]


def json_text(report: FuzzReport) -> str:
    """The JSON report, ASCII only (whatever the target sent travels as JSON escapes)."""
    return json.dumps(report.to_json(), indent=2) + "\n"


def write_json(report: FuzzReport, path: Path) -> None:
    path.write_text(json_text(report), encoding="ascii")


def junit_text(report: FuzzReport) -> str:
    """The JUnit XML report as ASCII text (other characters as character references)."""
    data: bytes = ET.tostring(_junit(report), encoding="us-ascii", xml_declaration=True)
    return data.decode("ascii") + "\n"


def write_junit(report: FuzzReport, path: Path) -> None:
    ET.ElementTree(_junit(report)).write(path, encoding="utf-8", xml_declaration=True)


def _junit(report: FuzzReport) -> ET.Element:
    suites = ET.Element("testsuites", name="ocpp16 fuzz", time=f"{report.elapsed_s:.3f}")
    properties = ET.SubElement(suites, "properties")
    for name, value in (
        ("url", report.url),
        ("seed", str(report.seed)),
        ("cases", str(report.cases)),
        ("complete", str(report.complete).lower()),
        ("stopped", report.stopped),
        ("interrupted", str(report.interrupted).lower()),
    ):
        ET.SubElement(properties, "property", name=name, value=printable(value))
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="ocpp16.fuzz",
        tests=str(len(ORACLES)),
        failures=str(sum(1 for o in ORACLES if any(f.oracle == o for f in report.findings))),
        errors="0",
        time=f"{report.elapsed_s:.3f}",
    )
    for oracle in ORACLES:
        case = ET.SubElement(suite, "testcase", classname="ocpp16.fuzz", name=oracle)
        for finding in (f for f in report.findings if f.oracle == oracle):
            where = " ".join(x for x in (finding.action, finding.kind, finding.path) if x)
            # XML 1.0 cannot hold most control characters: the peer's text is escaped.
            message = printable(shorten(f"{where}: {finding.observed}"))
            failure = ET.SubElement(case, "failure", message=message, type=oracle)
            failure.text = printable(
                f"seed {finding.seed}, case {finding.case} ({finding.count} cases)\n"
                f"{shorten(finding.title, 1000)}\nreproducer: {finding.file or '(not saved)'}",
                one_line=False,
            )
    ET.indent(suites)
    return suites
