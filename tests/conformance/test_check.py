"""``ocpp16 check`` against real central systems over loopback.

- ocpp16's own server passes every case;
- the `ocpp` package's central system gets a stable report whose every difference is real;
- small deliberately faulty servers get exactly their fault reported, and nothing else.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ocpp16_cli.main import app
from typer.testing import CliRunner

from ocpp16 import ACTIONS
from ocpp16._dispatch import Invalid, Valid
from ocpp16.conformance.grading import Grade
from ocpp16.conformance.runner import CheckOptions, run_check
from ocpp16.server import CentralSystem
from tests.conformance.peers import Fault, faulty
from tests.loopback import CentralSystemThread, OcppCentralSystem, ServerThread

runner = CliRunner()


@pytest.fixture(scope="module")
def own_server() -> Iterator[CentralSystemThread]:
    with CentralSystemThread(CentralSystem()) as server:
        yield server


def test_ocpp16_serve_passes_every_case(own_server: CentralSystemThread, tmp_path: Path) -> None:
    report_json, report_xml = tmp_path / "check.json", tmp_path / "check.xml"
    result = runner.invoke(
        app,
        [
            "check",
            own_server.url("CHECK1"),
            "--cs-actions",
            "--seed",
            "5",
            "--json",
            str(report_json),
            "--junit",
            str(report_xml),
        ],
    )
    assert result.exit_code == 0, result.output
    assert ", 0 failed" in result.output
    report = json.loads(report_json.read_text())
    assert report["passed"] is True
    assert report["complete"] is True
    summary = report["summary"]
    assert (summary["planned"], summary["cases"], summary["failed"]) == (260, 260, 0)
    # Where ocpp16's own parser follows one reading of the spec and not the other, the check
    # says so as a reading warning, and only there.
    readings = {c["id"] for c in report["cases"] if c["grade"] == "reading warning"}
    assert readings <= {c["id"] for c in report["cases"] if c["reading"]}
    assert summary["grades"] == {"pass": 260 - len(readings), "reading warning": len(readings)}
    suites = ET.parse(report_xml).getroot()
    assert sum(int(s.get("tests", "0")) for s in suites.iter("testsuite")) == 260
    assert sum(int(s.get("failures", "0")) for s in suites.iter("testsuite")) == 0


def _grades(report: Any) -> dict[str, tuple[str, str]]:
    """case id -> (grade, the CALLERROR code answered or "") for every case that did not pass."""
    found = {}
    for outcome in report.outcomes:
        if outcome.grade is not Grade.PASS:
            answer = outcome.answer
            code = answer[2] if isinstance(answer, list) and answer[:1] == [4] else ""
            found[outcome.case.id] = (outcome.grade.value, code)
    return found


def _expected_for_the_ocpp_package(case_id: str) -> tuple[str, str] | None:
    """What the `ocpp` package (2.1.0) does with each case, where it deviates from 1.6."""
    defect = case_id.split("/", 2)[-1]
    frame_level = {
        "malformed JSON": ("connection dropped", ""),  # its handler fails, code 1011
        # It logs an error and answers nothing: allowed, as the frame has no id to answer to.
        "not an array": ("warning", ""),
        "unknown action": ("code warning", "NotSupported"),  # 1.6 says NotImplemented
        "message id over 36 characters": ("accepted invalid", ""),
    }
    if case_id.startswith("frame/"):
        return frame_level.get(defect)
    if case_id.startswith("StopTransaction/positive/errata Hertz"):
        # Its schemas carry the errata's Hertz in MeterValues only.
        return ("reading warning", "FormatViolation")
    if case_id == "StopTransaction/negative/below minItems $.transactionData[0].sampledValue":
        return ("reading warning", "")  # the first-edition schema: no minItems there
    if "/negative/" not in case_id:
        return None
    kind = defect.split(" $")[0]
    return {
        "bad date-time": ("accepted invalid", ""),  # it validates without a format checker
        # OCPP 2.0.1's spelling of FormationViolation:
        "unknown property": ("code warning", "FormatViolation"),
        "unknown enum value": ("code warning", "FormatViolation"),
        "below minItems": ("code warning", "FormatViolation"),
        "over maxLength": ("code warning", "TypeConstraintViolation"),
    }.get(kind)


def test_the_ocpp_package_report_is_stable_and_its_differences_are_real() -> None:
    logging.getLogger("ocpp").setLevel(logging.CRITICAL)  # it logs its own failures loudly
    central_system = OcppCentralSystem()
    with ServerThread(central_system.handler) as server:
        first = run_check(CheckOptions(url=server.url("/ocpp/OCPPCHECK"), seed=1, timeout=1.0))
        second = run_check(CheckOptions(url=server.url("/ocpp/OCPPCHECK"), seed=1, timeout=1.0))
    assert _grades(first) == _grades(second)
    expected = {
        outcome.case.id: grade
        for outcome in first.outcomes
        if (grade := _expected_for_the_ocpp_package(outcome.case.id)) is not None
    }
    assert _grades(first) == expected
    assert first.reconnects == 1  # after it dropped the connection on malformed JSON
    assert not first.passed


# Deliberately faulty central systems (tests.conformance.peers): conformant but for one fault each.


def accepts_long_id_tags(incoming: Valid | Invalid) -> str | None:
    description = incoming.reply.description if isinstance(incoming, Invalid) else ""
    if description.startswith("$.idTag: violates maxLength 20") and ";" not in description:
        raw = incoming.raw  # type: ignore[union-attr]
        return json.dumps([3, raw[1], ACTIONS[raw[2]].response.random().to_dict()])
    return None


def heartbeat_without_current_time(incoming: Valid | Invalid) -> str | None:
    if isinstance(incoming, Valid) and incoming.action.name == "Heartbeat":
        return json.dumps([3, incoming.frame.unique_id, {}])
    return None


def closes_on_malformed_json(incoming: Valid | Invalid) -> str | None:
    if isinstance(incoming, Invalid) and isinstance(incoming.raw, str | bytes):
        return "close"
    return None


def never_answers_data_transfer(incoming: Valid | Invalid) -> str | None:
    action = incoming.action.name if isinstance(incoming, Valid) else incoming.action
    return "" if action == "DataTransfer" else None


def _ids(*ids: str) -> set[str]:
    return set(ids)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (
            accepts_long_id_tags,
            {
                "Authorize/negative/over maxLength $.idTag": "accepted invalid",
                "StartTransaction/negative/over maxLength $.idTag": "accepted invalid",
                "StopTransaction/negative/over maxLength $.idTag": "accepted invalid",
            },
        ),
        (
            heartbeat_without_current_time,
            {
                "Heartbeat/positive/required": "invalid response",
                "Heartbeat/positive/full": "invalid response",
            },
        ),
        (closes_on_malformed_json, {"frame/malformed JSON": "connection dropped"}),
        (
            never_answers_data_transfer,
            {
                **{
                    f"DataTransfer/positive/{name}": "timeout"
                    for name in ("required", "full", "boundaries")
                },
                # No DataTransfer payload was accepted to plant the defects in.
                **{
                    f"DataTransfer/negative/{defect}": "not tested"
                    for defect in [
                        "missing $.vendorId",
                        "wrong type $.vendorId",
                        "over maxLength $.vendorId",
                        "wrong type $.messageId",
                        "over maxLength $.messageId",
                        "wrong type $.data",
                        "unknown property $.unexpectedProperty",
                    ]
                },
            },
        ),
    ],
    ids=["long idTag accepted", "Heartbeat without currentTime", "malformed JSON", "never answers"],
)
def test_a_faulty_server_gets_exactly_its_fault_reported(
    fault: Fault, expected: dict[str, str]
) -> None:
    with ServerThread(faulty(fault)) as server:
        report = run_check(CheckOptions(url=server.url("/ocpp/FAULTY"), seed=2, timeout=0.3))
    # ocpp16's own validation leaves StopTransaction's sampledValue unbounded (the first edition).
    spec_only = "StopTransaction/negative/below minItems $.transactionData[0].sampledValue"
    found = {case_id: grade for case_id, (grade, _) in _grades(report).items()}
    assert found.pop(spec_only, "reading warning") == "reading warning"
    assert found == expected
    assert report.complete


def test_check_exit_code_and_failure_listing() -> None:
    with ServerThread(faulty(heartbeat_without_current_time)) as server:
        result = runner.invoke(
            app, ["check", server.url("/ocpp/CP7"), "--actions", "heartbeat", "--timeout", "2"]
        )
    assert result.exit_code == 1, result.output
    assert result.stderr == ""  # no progress bar left behind on a pipe
    assert "FAILED Heartbeat/positive/required — invalid response: $.currentTime" in result.output
    assert "FAIL: 9 cases: 7 passed, 2 failed (2 invalid response)" in result.output


def test_code_warnings_fail_only_with_strict_codes() -> None:
    def not_implemented_for_everything(incoming: Valid | Invalid) -> str | None:
        if isinstance(incoming, Invalid) and incoming.reply.code == "FormationViolation":
            unique_id = incoming.raw[1] if isinstance(incoming.raw, list) else "-1"
            return json.dumps([4, unique_id, "FormatViolation", "", {}])
        return None

    with ServerThread(faulty(not_implemented_for_everything)) as server:
        url = server.url("/ocpp/CP8")
        lenient = runner.invoke(app, ["check", url, "--actions", "Heartbeat"])
        strict = runner.invoke(app, ["check", url, "--actions", "Heartbeat", "--strict-codes"])
    assert lenient.exit_code == 0, lenient.output
    assert "warning Heartbeat/negative/unknown property $.unexpectedProperty" in lenient.output
    assert "OCPP 2.0.1 spelling of FormationViolation" in lenient.output
    assert strict.exit_code == 1, strict.output


def test_bad_input_and_no_server() -> None:
    unknown = runner.invoke(app, ["check", "ws://127.0.0.1:9/ocpp/X", "--actions", "Hartbeat"])
    assert unknown.exit_code == 2
    assert "did you mean Heartbeat" in unknown.output
    bad_url = runner.invoke(app, ["check", "ftp://example/ocpp/X"])
    assert bad_url.exit_code == 2
    with ServerThread(faulty(lambda _: None)) as server:
        port = server.port
    refused = runner.invoke(app, ["check", f"ws://127.0.0.1:{port}/ocpp/X", "--timeout", "2"])
    assert refused.exit_code == 3, refused.output
    assert refused.stderr.splitlines() == [  # one line, no blank one left by a progress bar
        f"ocpp16: error: cannot connect to ws://127.0.0.1:{port}/ocpp/X: connection refused"
    ]
    assert refused.stdout == ""
    same = runner.invoke(app, ["check", "ws://127.0.0.1:9/X", "--json", "r", "--junit", "./r"])
    assert same.exit_code == 2
    assert same.stderr == "ocpp16: error: --json and --junit name the same file r: give two\n"


def test_check_authenticates_and_never_prints_the_password() -> None:
    secret = "s3cret-Passw0rd-123"
    with CentralSystemThread(CentralSystem(basic_auth={"AUTH1": secret})) as server:
        url = server.url("AUTH1")
        wrong = runner.invoke(app, ["check", url, "--password", "nope", "--actions", "Heartbeat"])
        right = runner.invoke(
            app, ["check", url, "--actions", "Heartbeat"], env={"OCPP16_PASSWORD": secret}
        )
    assert wrong.exit_code == 3, wrong.output
    assert "401" in wrong.output
    assert right.exit_code == 0, right.output
    assert "PASS: 9 cases" in right.output
    assert secret not in right.output + wrong.output


def test_the_installed_commands_check_and_serve_end_to_end() -> None:
    """``ocpp16 check`` (a process) against ``ocpp16 serve`` (another process)."""
    ocpp16 = str(Path(sys.executable).with_name("ocpp16"))
    server = subprocess.Popen(
        [ocpp16, "serve", "--port", "0"],
        stdout=subprocess.DEVNULL,  # every exchange is printed: not read here
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        assert "listening on " in line, line
        url = line.split("listening on ", 1)[1].split("/<identity>")[0]
        done = subprocess.run(
            [ocpp16, "check", f"{url}/E2E", "--cs-actions", "--seed", "9"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        server.terminate()
        server.communicate(timeout=10)  # waits, and closes the stderr pipe
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS: 260 cases: " in done.stdout and ", 0 failed" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize("option", ["--json", "--junit"])
def test_a_report_to_dash_goes_to_stdout_and_the_rest_to_stderr(
    own_server: CentralSystemThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        app, ["check", own_server.url("DASH"), "--actions", "Heartbeat", option, "-"]
    )
    assert result.exit_code == 0, result.output
    assert list(tmp_path.iterdir()) == []  # no file named '-'
    if option == "--json":
        report = json.loads(result.stdout)  # stdout holds the report and nothing else
        assert report["passed"] is True and report["identity"] == "DASH"
    else:
        suites = ET.fromstring(result.stdout.encode())
        assert sum(int(s.get("tests", "0")) for s in suites.iter("testsuite")) > 0
    assert "OCPP 1.6 conformance of" in result.stderr and "PASS:" in result.stderr


def test_both_reports_to_stdout_is_bad_input() -> None:
    result = runner.invoke(app, ["check", "ws://127.0.0.1:9/X", "--json", "-", "--junit", "-"])
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        "ocpp16: error: --json and --junit both name stdout (-): give a file to one\n"
    )
