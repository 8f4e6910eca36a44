"""Verdicts: what a central system's answer to a case means under OCPP 1.6.

Every reason may quote the peer (codes, descriptions, payload values): it is made printable and
bounded here (:mod:`ocpp16._text`), so no report or terminal ever receives the peer's control
characters or its markup as anything but plain text.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Final

import attrs

from ocpp16._generated.actions import ACTIONS
from ocpp16._text import printable, shorten
from ocpp16.conformance.cases import Case, Expect
from ocpp16.errors import ERROR_CODES, ValidationError
from ocpp16.frames import CallErrorFrame, CallResult
from ocpp16.readings import ERRATA_SHEET, ERRATA_UNITS, ONE_OR_MORE

__all__ = ["Grade", "Outcome", "grade_answer", "grade_silence", "peer_json", "peer_text"]

#: Spellings from OCPP 2.0.1 that some 1.6 central systems send (the `ocpp` package among them).
SPELLINGS_2_0_1: Final = {
    "FormatViolation": "FormationViolation",
    "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
}


#: Longest reason kept (peer text inside it is bounded further, by ``peer_text``).
MAX_REASON_CHARS: Final = 2_000


class Grade(StrEnum):
    PASS = "pass"
    CODE_WARNING = "code warning"  # refused, but with a code that does not fit (or a 2.0.1 one)
    #: A deviation that one reading of the spec allows (ocpp16.readings): never a failure.
    READING_WARNING = "reading warning"
    #: Allowed, but worth knowing: silence where no answer is possible, errorDetails not an object.
    WARNING = "warning"
    #: The case could not isolate its defect: no payload of its action was accepted, or none
    #: that has the defect's path. Neither passed nor failed.
    NOT_TESTED = "not tested"
    INVALID_RESPONSE = "invalid response"  # a CALLRESULT that breaks the response schema
    CALL_ERROR = "callerror"  # a valid CALL was refused
    ACCEPTED_INVALID = "accepted invalid"  # a defective CALL was answered with a CALLRESULT
    ANSWERED_IGNORABLE = "answered ignorable"  # a frame to be ignored got an answer
    TIMEOUT = "timeout"
    DROPPED = "connection dropped"

    def failed(self, strict_codes: bool) -> bool:
        if self is Grade.CODE_WARNING:
            return strict_codes
        return self not in _NOT_FAILED

    def warned(self, strict_codes: bool) -> bool:
        return self in _WARNINGS or (self is Grade.CODE_WARNING and not strict_codes)


_NOT_FAILED: Final = {Grade.PASS, Grade.READING_WARNING, Grade.WARNING, Grade.NOT_TESTED}
_WARNINGS: Final = {Grade.READING_WARNING, Grade.WARNING}


def _safe_reason(text: str) -> str:
    """Whatever a reason quotes, it holds no control character and stays bounded."""
    return printable(shorten(text, MAX_REASON_CHARS))


@attrs.frozen
class Outcome:
    """A case, how it was graded, why, and the frames behind the grade."""

    case: Case
    grade: Grade
    reason: str = attrs.field(converter=_safe_reason)
    answer: Any = None  # the frame received, as a JSON value (None: nothing came)
    elapsed_ms: float = 0.0
    #: The text sent when it differs from ``case.text`` (a mutation planted in an accepted payload).
    sent: str | None = None

    @property
    def sent_text(self) -> str:
        return self.case.text if self.sent is None else self.sent


def peer_text(value: Any) -> str:
    """A value the peer chose, fit to quote in one line: a string as it is, any other value as
    JSON (``null``, ``true``, ``[1]``: what the peer sent, not a Python repr); printable and
    bounded."""
    return peer_json(value) if not isinstance(value, str) else printable(shorten(value))


def peer_json(value: Any) -> str:
    """A JSON value the peer sent, shown as JSON (a string with its quotes); printable and
    bounded. Anything that is not JSON (it never comes from a peer) falls back to its repr."""
    return printable(shorten(json.dumps(value, ensure_ascii=False, default=repr)))


def grade_answer(case: Case, answer: CallResult | CallErrorFrame) -> tuple[Grade, str]:
    """The grade of ``answer`` to a case that expects one (RESULT or ERROR)."""
    if isinstance(answer, CallResult):
        if case.expect is Expect.ERROR:
            if case.reading == ONE_OR_MORE.key:
                return Grade.READING_WARNING, (
                    "accepted an empty array: the spec's tables give 1..*, "
                    "the first-edition schemas carry no minItems"
                )
            return Grade.ACCEPTED_INVALID, "answered CALLRESULT to a defective CALL"
        return _grade_result(case, answer)
    code = peer_text(answer.code)
    if case.expect is Expect.RESULT:
        detail = f": {peer_text(answer.description)}" if answer.description else ""
        if case.reading == ERRATA_UNITS.key and case.mutation is not None:
            return Grade.READING_WARNING, (
                f"refused {case.mutation.value} with {code}{detail}; "
                f"the first-edition schemas lack it, the {ERRATA_SHEET} adds it to UnitOfMeasure"
            )
        return Grade.CALL_ERROR, f"refused a valid CALL with {code}{detail}"
    grade, reason = _grade_code(case, answer.code, code)
    if not isinstance(answer.details, dict):
        note = f"its errorDetails is {peer_json(answer.details)}, not an object"
        if grade is Grade.PASS:
            return Grade.WARNING, f"{reason}, but {note}"
        return grade, f"{reason}; {note}"
    return grade, reason


def grade_silence(case: Case) -> tuple[Grade, str]:
    """The grade when nothing came back in time (the connection being still open)."""
    if case.expect is Expect.SILENCE:
        return Grade.PASS, "ignored, connection still open"
    if case.expect is Expect.ERROR and case.unique_id is None:
        return Grade.WARNING, (
            "no answer: its unique id cannot be read, and OCPP 1.6 gives the central system "
            "no other id to answer with"
        )
    return Grade.TIMEOUT, "no answer in time"


def _grade_result(case: Case, answer: CallResult) -> tuple[Grade, str]:
    response = ACTIONS[case.action].response
    try:
        response.from_dict(answer.payload)
    except ValidationError as error:
        detail = peer_text(error.detail)
        return Grade.INVALID_RESPONSE, f"{error.path}: violates {error.constraint} {detail}"
    return Grade.PASS, "valid CALLRESULT"


def _grade_code(case: Case, raw: Any, code: str) -> tuple[Grade, str]:
    if raw in case.codes:
        return Grade.PASS, f"refused with {code}"
    expected = " or ".join(case.codes)
    if isinstance(raw, str) and raw in SPELLINGS_2_0_1:
        return Grade.CODE_WARNING, (
            f"refused with {code}, the OCPP 2.0.1 spelling of {SPELLINGS_2_0_1[raw]}; "
            f"1.6 expects {expected}"
        )
    if raw not in ERROR_CODES:
        return (
            Grade.CODE_WARNING,
            f"refused with {code}, which is no OCPP 1.6 code; expected {expected}",
        )
    return Grade.CODE_WARNING, f"refused with {code}; the fitting code is {expected}"
