"""Verdicts: what a central system's answer to a case means under OCPP 1.6."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final

import attrs

from ocpp16._generated.actions import ACTIONS
from ocpp16.conformance.cases import Case, Expect
from ocpp16.errors import ERROR_CODES, ValidationError
from ocpp16.frames import CallErrorFrame, CallResult

__all__ = ["Grade", "Outcome", "grade_answer", "grade_silence"]

#: Spellings from OCPP 2.0.1 that some 1.6 central systems send (the `ocpp` package among them).
SPELLINGS_2_0_1: Final = {
    "FormatViolation": "FormationViolation",
    "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
}


class Grade(StrEnum):
    PASS = "pass"
    CODE_WARNING = "code warning"  # refused, but with a code that does not fit (or a 2.0.1 one)
    INVALID_RESPONSE = "invalid response"  # a CALLRESULT that breaks the response schema
    CALL_ERROR = "callerror"  # a valid CALL was refused
    ACCEPTED_INVALID = "accepted invalid"  # a defective CALL was answered with a CALLRESULT
    ANSWERED_IGNORABLE = "answered ignorable"  # a frame to be ignored got an answer
    TIMEOUT = "timeout"
    DROPPED = "connection dropped"

    def failed(self, strict_codes: bool) -> bool:
        if self is Grade.CODE_WARNING:
            return strict_codes
        return self is not Grade.PASS


@attrs.frozen
class Outcome:
    """A case, how it was graded, why, and the frames behind the grade."""

    case: Case
    grade: Grade
    reason: str
    answer: Any = None  # the frame received, as a JSON value (None: nothing came)
    elapsed_ms: float = 0.0


def grade_answer(case: Case, answer: CallResult | CallErrorFrame) -> tuple[Grade, str]:
    """The grade of ``answer`` to a case that expects one (RESULT or ERROR)."""
    if isinstance(answer, CallResult):
        if case.expect is Expect.ERROR:
            return Grade.ACCEPTED_INVALID, "answered CALLRESULT to a defective CALL"
        return _grade_result(case, answer)
    if case.expect is Expect.RESULT:
        detail = f": {answer.description}" if answer.description else ""
        return Grade.CALL_ERROR, f"refused a valid CALL with {answer.code}{detail}"
    return _grade_code(case, answer.code)


def grade_silence(case: Case) -> tuple[Grade, str]:
    """The grade when nothing came back in time (the connection being still open)."""
    if case.expect is Expect.SILENCE:
        return Grade.PASS, "ignored, connection still open"
    return Grade.TIMEOUT, "no answer in time"


def _grade_result(case: Case, answer: CallResult) -> tuple[Grade, str]:
    response = ACTIONS[case.action].response
    try:
        response.from_dict(answer.payload)
    except ValidationError as error:
        return Grade.INVALID_RESPONSE, f"{error.path}: violates {error.constraint} {error.detail}"
    return Grade.PASS, "valid CALLRESULT"


def _grade_code(case: Case, code: str) -> tuple[Grade, str]:
    if code in case.codes:
        return Grade.PASS, f"refused with {code}"
    expected = " or ".join(case.codes)
    if code in SPELLINGS_2_0_1:
        return Grade.CODE_WARNING, (
            f"refused with {code}, the OCPP 2.0.1 spelling of {SPELLINGS_2_0_1[code]}; "
            f"1.6 expects {expected}"
        )
    if code not in ERROR_CODES:
        return (
            Grade.CODE_WARNING,
            f"refused with {code}, which is no OCPP 1.6 code; expected {expected}",
        )
    return Grade.CODE_WARNING, f"refused with {code}; the fitting code is {expected}"
