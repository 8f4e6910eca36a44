"""Verdicts a user can trust: readings of the spec, isolated defects, early ends, hostile text.

Each test runs ``ocpp16 check`` against a small central system over loopback
(tests.conformance.peers) that deviates in one way, and asserts what the user sees.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from ocpp16_cli.main import app
from typer.testing import CliRunner
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from ocpp16._action import Sender
from ocpp16._dispatch import Invalid, Valid, receive, result_frame
from ocpp16.conformance import runner as runner_module
from ocpp16.conformance.grading import Grade
from ocpp16.conformance.runner import STOP_AFTER_UNANSWERED, CheckOptions, run_check
from ocpp16.frames import encode
from ocpp16.readings import ERRATA_UNITS, ONE_OR_MORE
from tests.conformance.peers import faulty, first_edition, refuse
from tests.loopback import ServerThread

runner = CliRunner()


def _not_passed(report: Any) -> dict[str, str]:
    return {o.case.id: o.grade.value for o in report.outcomes if o.grade is not Grade.PASS}


def test_a_first_edition_server_gets_only_reading_warnings(tmp_path: Path) -> None:
    report_json = tmp_path / "report.json"
    with ServerThread(faulty(first_edition)) as server:
        url = server.url("/ocpp/FIRST")
        result = runner.invoke(app, ["check", url, "--seed", "4", "--json", str(report_json)])
        report = run_check(CheckOptions(url=url, seed=4, timeout=1.0))
    assert result.exit_code == 0, result.output
    assert _not_passed(report) == {
        **{
            f"{action}/positive/errata {unit} {path}": "reading warning"
            for action, path in [
                ("MeterValues", "$.meterValue[0].sampledValue[0].unit"),
                ("StopTransaction", "$.transactionData[0].sampledValue[0].unit"),
            ]
            for unit in ("Celsius", "Hertz")
        },
        **{
            f"{action}/negative/below minItems {path}": "reading warning"
            for action, path in [
                ("MeterValues", "$.meterValue"),
                ("MeterValues", "$.meterValue[0].sampledValue"),
                ("StopTransaction", "$.transactionData[0].sampledValue"),
            ]
        },
    }
    assert "errata sheet v4.0 (2019) adds it to UnitOfMeasure" in result.output
    assert (
        "below minItems $.meterValue: accepted an empty array: the spec's tables give 1..*"
        in result.output
    )
    assert "7 warnings, 0 failed" in result.output
    cases = json.loads(report_json.read_text())["cases"]
    readings = {c["reading"] for c in cases if c["grade"] == "reading warning"}
    assert readings == {ERRATA_UNITS.key, ONE_OR_MORE.key}


def _refuses_status_notification(full_only: bool) -> Any:
    def fault(incoming: Valid | Invalid) -> str | None:
        if not isinstance(incoming, Valid) or incoming.action.name != "StatusNotification":
            return None
        if full_only and "timestamp" not in incoming.frame.payload:
            return None
        return refuse(incoming, "InternalError", "no status today")

    return fault


def test_negative_cases_without_an_accepted_base_are_not_tested() -> None:
    with ServerThread(faulty(_refuses_status_notification(full_only=False))) as server:
        report = run_check(
            CheckOptions(url=server.url("/ocpp/BASE"), actions=("StatusNotification",), timeout=1)
        )
    grades = {o.case.id: o for o in report.outcomes}
    negative = [o for case_id, o in grades.items() if "/negative/" in case_id]
    assert negative and all(o.grade is Grade.NOT_TESTED for o in negative)
    assert all(o.reason.startswith("not tested: base payload refused") for o in negative)
    positive = [o for case_id, o in grades.items() if "/positive/" in case_id]
    assert all(o.grade is Grade.CALL_ERROR for o in positive)
    assert not report.passed  # the refusals of valid CALLs fail; nothing passes by default


def test_negative_cases_are_planted_in_the_payload_that_was_accepted(tmp_path: Path) -> None:
    """Only the required-fields payload is accepted: defects of required fields are tested on
    it, defects of optional fields (absent from it) are not tested, and the table says so."""
    report_json, report_xml = tmp_path / "r.json", tmp_path / "r.xml"
    with ServerThread(faulty(_refuses_status_notification(full_only=True))) as server:
        result = runner.invoke(
            app,
            [
                "check",
                server.url("/ocpp/BASE2"),
                "--actions",
                "StatusNotification",
                "--json",
                str(report_json),
                "--junit",
                str(report_xml),
            ],
        )
    assert result.exit_code == 1, result.output
    cases = {c["id"]: c for c in json.loads(report_json.read_text())["cases"]}
    required = cases["StatusNotification/positive/required"]
    assert required["grade"] == "pass"
    missing = cases["StatusNotification/negative/missing $.status"]
    assert missing["grade"] == "pass"
    sent = json.loads(missing["sent"])[3]
    assert sent == {k: v for k, v in json.loads(required["sent"])[3].items() if k != "status"}
    optional = cases["StatusNotification/negative/bad date-time $.timestamp"]
    assert optional["grade"] == "not tested" and optional["skipped"] is True
    assert "no accepted StatusNotification payload has $.timestamp" in optional["reason"]
    suite = ET.parse(report_xml).getroot().find("testsuite")
    assert suite is not None and int(suite.get("skipped", "0")) > 0
    assert "not tested StatusNotification/negative/bad date-time $.timestamp" in result.output


async def _silent(connection: ServerConnection) -> None:
    async for _ in connection:
        pass


def _answers_first(count: int) -> Any:
    """Answers the BootNotification and ``count`` more frames, then nothing."""
    seen = 0

    def fault(_: Valid | Invalid) -> str | None:
        nonlocal seen
        seen += 1
        return None if seen <= count + 1 else ""

    return fault


def test_a_server_that_never_answers_ends_the_run_at_once(tmp_path: Path) -> None:
    report_json = tmp_path / "r.json"
    with ServerThread(_silent) as server:
        result = runner.invoke(
            app,
            ["check", server.url("/ocpp/MUTE"), "--timeout", "0.3", "--json", str(report_json)],
        )
    assert result.exit_code == 1, result.output
    assert "STOPPED the central system did not answer the BootNotification" in result.output
    report = json.loads(report_json.read_text())
    assert report["summary"]["cases"] == 0 and report["complete"] is False
    assert report["passed"] is False
    assert report["identity"] == "MUTE"  # from the URL: the run ended at the boot
    assert report["stopped"].startswith("the central system did not answer the BootNotification")


def test_a_server_that_answers_only_the_boot_stops_after_the_boot() -> None:
    with ServerThread(faulty(_answers_first(0))) as server:
        report = run_check(CheckOptions(url=server.url("/ocpp/BOOTONLY"), timeout=0.2))
    assert report.stopped == (
        "the central system stopped answering after the BootNotification: "
        f"{STOP_AFTER_UNANSWERED} exchanges in a row without an answer"
    )
    # The first case and its probe, then the second case (no probe: the run stops).
    assert [o.grade for o in report.outcomes] == [Grade.TIMEOUT, Grade.TIMEOUT]
    assert report.identity == "BOOTONLY"
    assert not report.passed and not report.complete


def test_a_server_that_stops_answering_ends_the_run_with_one_verdict() -> None:
    with ServerThread(faulty(_answers_first(10))) as server:
        report = run_check(CheckOptions(url=server.url("/ocpp/STOPS"), timeout=0.3))
    # Answered: Authorize's 3 positive cases, its 4 negative cases and 3 of their Heartbeat
    # probes. Unanswered: the last probe, the next case and its probe: 3 in a row.
    last = "Authorize/negative/unknown property $.unexpectedProperty"
    assert report.stopped == (
        f"the central system stopped answering after case {last}: "
        f"{STOP_AFTER_UNANSWERED} exchanges in a row without an answer"
    )
    assert [o.case.id for o in report.outcomes][-2:] == [last, "BootNotification/positive/required"]
    assert len(report.outcomes) == 8
    assert report.outcomes[-1].grade is Grade.TIMEOUT
    assert not report.passed and not report.complete


def test_reconnecting_that_fails_ends_the_run_and_is_not_counted() -> None:
    connections = 0

    def only_once(_: ServerConnection, request: Request) -> Response | None:
        nonlocal connections
        connections += 1
        if connections > 1:
            return Response(403, "Forbidden", Headers(), b"")
        return None

    def closes_on_malformed(incoming: Valid | Invalid) -> str | None:
        return (
            "close"
            if isinstance(incoming.raw if isinstance(incoming, Invalid) else None, str)
            else None
        )

    with ServerThread(faulty(closes_on_malformed), process_request=only_once) as server:
        report = run_check(CheckOptions(url=server.url("/ocpp/ONCE"), timeout=1.0))
    assert report.outcomes[-1].case.id == "frame/malformed JSON"
    assert report.outcomes[-1].grade is Grade.DROPPED
    assert report.stopped.startswith(
        "the connection was lost after case frame/malformed JSON and reconnecting failed"
    )
    assert report.reconnects == 0


HOSTILE_DESCRIPTION = "[/] [bold red]boom[/] \x1b[2J\x1b]0;owned\x07"
HOSTILE_DETAILS = {"trace": "\x1b[31mred\x1b[0m [/]", "\x1b": ["\x9b1m"]}


def hostile(incoming: Valid | Invalid) -> str | None:
    if isinstance(incoming, Invalid):
        code = incoming.reply.code
        if incoming.action == "Authorize":
            return refuse(incoming, code, HOSTILE_DESCRIPTION, None)  # details {}: fine
        return refuse(incoming, code + "[/]\x1b[1m", HOSTILE_DESCRIPTION, HOSTILE_DETAILS)
    if incoming.action.name in ("Heartbeat", "DataTransfer"):
        return None  # accepted: DataTransfer's negative cases are tested, and refused as above
    return refuse(incoming, "InternalError\x1b[5m", HOSTILE_DESCRIPTION, HOSTILE_DETAILS)


def test_markup_and_escape_sequences_from_the_peer_never_reach_the_terminal(
    tmp_path: Path,
) -> None:
    report_json, report_xml = tmp_path / "r.json", tmp_path / "r.xml"
    with ServerThread(faulty(hostile)) as server:
        result = runner.invoke(
            app,
            [
                "check",
                server.url("/ocpp/HOSTILE"),
                "--actions",
                "Authorize,DataTransfer",
                "--json",
                str(report_json),
                "--junit",
                str(report_xml),
                "--timeout",
                "1",
            ],
        )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert (
        "\x1b" not in result.output and "\x9b" not in result.output and "\x07" not in result.output
    )
    assert "[/] [bold red]boom[/] \\x1b[2J" in result.output  # shown as text, escaped
    assert "FAILED Authorize/positive/required" in result.output
    assert "warning DataTransfer/negative/missing $.vendorId: refused with" in result.output
    report = json.loads(report_json.read_text())
    assert report["summary"]["failed"] > 0
    ET.parse(report_xml)  # well-formed XML, whatever the peer sent


@pytest.mark.parametrize(
    ("details", "shown"),
    [(None, "null"), ("oops", '"oops"'), ([1, True], "[1, true]"), (1.5, "1.5")],
    ids=["null", "string", "array", "number"],
)
def test_errordetails_that_are_not_an_object_are_a_warning(details: Any, shown: str) -> None:
    def null_details(incoming: Valid | Invalid) -> str | None:
        if isinstance(incoming, Invalid):
            return json.dumps([4, incoming.reply.unique_id, incoming.reply.code, "", details])
        return None

    with ServerThread(faulty(null_details)) as server:
        report = run_check(
            CheckOptions(url=server.url("/ocpp/NULL"), actions=("Heartbeat",), timeout=1.0)
        )
    warned = [o for o in report.outcomes if o.grade is Grade.WARNING]
    assert [o.case.id for o in warned] == [
        "Heartbeat/negative/unknown property $.unexpectedProperty",
        "frame/malformed JSON",
        "frame/not an array",
        "frame/unknown action",
        "frame/message id over 36 characters",
    ]
    # Shown as the JSON the peer sent, not as a Python repr (None, True).
    assert all(f"errorDetails is {shown}, not an object" in o.reason for o in warned)
    assert report.passed


def test_ctrl_c_prints_the_table_so_far_and_writes_incomplete_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report_json, report_xml = tmp_path / "r.json", tmp_path / "r.xml"
    real = runner_module._run_case
    calls = 0

    def interrupted_at_the_fourth(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(runner_module, "_run_case", interrupted_at_the_fourth)
    with ServerThread(faulty(lambda _: None)) as server:
        result = runner.invoke(
            app,
            [
                "check",
                server.url("/ocpp/CTRLC"),
                "--actions",
                "Heartbeat",
                "--json",
                str(report_json),
                "--junit",
                str(report_xml),
            ],
        )
    assert result.exit_code == 130, result.output
    assert "Heartbeat" in result.output and "INTERRUPTED: 3 cases: 3 passed" in result.output
    report = json.loads(report_json.read_text())
    assert report["complete"] is False and report["interrupted"] is True
    assert report["passed"] is False  # nothing failed, yet an incomplete run never passes
    assert report["identity"] == "CTRLC"
    assert report["summary"]["cases"] == 3 and report["summary"]["planned"] == 9
    suites = ET.parse(report_xml).getroot()
    complete = {p.get("name"): p.get("value") for p in suites.iter("property")}["complete"]
    assert complete == "false"
    # A CI system counting JUnit failures sees the incomplete run as one.
    assert sum(int(s.get("failures", "0")) for s in suites.iter("testsuite")) == 1
    failure = suites.find("testsuite[@name='ocpp16.check.run']/testcase/failure")
    assert failure is not None
    assert failure.get("message") == "incomplete run: interrupted (Ctrl-C)"


@pytest.mark.parametrize("actions", ["", " , ,", ","])
def test_an_empty_action_list_is_bad_input(actions: str) -> None:
    result = runner.invoke(app, ["check", "ws://127.0.0.1:9/ocpp/X", "--actions", actions])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        "ocpp16: error: --actions: no action named; give a list such as Authorize,Heartbeat"
    ]


@pytest.mark.parametrize(
    ("option", "where", "message"),
    [
        ("--json", "missing/r.json", "no such directory"),
        ("--junit", ".", "is a directory"),
    ],
)
def test_report_paths_are_checked_before_anything_is_sent(
    tmp_path: Path, option: str, where: str, message: str
) -> None:
    # Nothing listens on port 9: exit 2 (not 3, no connection) shows nothing was tried.
    result = runner.invoke(app, ["check", "ws://127.0.0.1:9/ocpp/X", option, str(tmp_path / where)])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert message in result.output and "Traceback" not in result.output


def test_silence_to_a_frame_without_a_readable_id_is_a_warning() -> None:
    def silent_when_no_id(incoming: Valid | Invalid) -> str | None:
        unreadable = isinstance(incoming, Invalid) and not isinstance(incoming.raw, list)
        return "" if unreadable else None

    with ServerThread(faulty(silent_when_no_id)) as server:
        report = run_check(
            CheckOptions(url=server.url("/ocpp/QUIET"), actions=("Heartbeat",), timeout=0.5)
        )
    assert _not_passed(report) == {
        "frame/malformed JSON": "warning",
        "frame/not an array": "warning",
    }
    assert report.passed and report.complete


def test_a_real_ctrl_c_on_the_installed_command(tmp_path: Path) -> None:
    """SIGINT reaches ``ocpp16 check`` while it waits for an answer: reports and table follow."""
    received = 0

    async def slow(connection: ServerConnection) -> None:
        nonlocal received
        async for message in connection:
            received += 1
            await asyncio.sleep(0.05)  # slow enough that the run is still going when stopped
            incoming = receive(message, Sender.CP)
            if isinstance(incoming, Valid):
                response = incoming.action.response.random()
                await connection.send(encode(result_frame(incoming, response)))
            elif isinstance(incoming, Invalid):
                await connection.send(encode(incoming.reply))

    report_json = tmp_path / "r.json"
    ocpp16 = str(Path(sys.executable).with_name("ocpp16"))
    with ServerThread(slow) as server:
        process = subprocess.Popen(
            [ocpp16, "check", server.url("/ocpp/SIGINT"), "--json", str(report_json)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(400):  # until a few cases went out (at most 20 s)
            if received >= 10 or process.poll() is not None:
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 130, out + err
    assert "INTERRUPTED: " in out and "Traceback" not in out + err
    report = json.loads(report_json.read_text())
    assert report["complete"] is False and report["interrupted"] is True
    assert 0 < report["summary"]["cases"] < report["summary"]["planned"]
