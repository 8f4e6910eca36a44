"""``ocpp16 send``: send CALLs to a central system as a charge point and show each exchange.

Everything the user gave is checked before the connection opens (action names, JSON, schemas,
URL, certificate files), so bad input sends nothing. Exchanges go out in order on one connection;
after a CALLERROR, an invalid answer or a timeout the next action is still sent, after a closed
connection nothing more is. The first failure decides the exit code.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ocpp16_cli.main import app
from ocpp16_cli.options import (
    MAX_TIMEOUT,
    MIN_TIMEOUT,
    Ca,
    Cert,
    Identity,
    Insecure,
    Key,
    MaxFrame,
    Password,
    complete_action,
)

if TYPE_CHECKING:
    from random import Random

    from ocpp16 import Action
    from ocpp16.client import CallRecord, ClientEvent
    from ocpp16.errors import InvalidResponse, ValidationError

__all__ = ["send"]

_BOOLEANS = {"true": True, "1": True, "yes": True, "on": True}
_BOOLEANS |= {"false": False, "0": False, "no": False, "off": False}


class Answer(StrEnum):
    """How to answer the CALLs a central system sends while we wait."""

    RANDOM = "random"
    NOT_IMPLEMENTED = "not-implemented"


@app.command()
def send(
    actions: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="ACTION...",
            help="Actions to send in order: BootNotification, BootNotificationRequest, any case.",
            show_default=False,
            autocompletion=complete_action,
        ),
    ] = None,
    *,
    url: Annotated[
        str | None,
        typer.Option(
            help="Central system URL (ws, wss, http or https), ending with the identity"
            " unless --id gives it.",
            show_default=False,
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            metavar="JSON|@FILE|-",
            help="Payload of the n-th action: JSON text, @file.json, or - for stdin."
            " Actions without one get a random payload.",
            show_default=False,
        ),
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Random payloads fill every field.")] = False,
    seed: Annotated[
        int | None, typer.Option(help="Seed for repeatable random payloads.", show_default=False)
    ] = None,
    identity: Identity = None,
    timeout: Annotated[
        float,
        typer.Option(
            min=MIN_TIMEOUT,
            max=MAX_TIMEOUT,
            help="Seconds to wait to connect and for each answer.",
        ),
    ] = 30.0,
    password: Password = None,
    ca: Ca = None,
    cert: Cert = None,
    key: Key = None,
    insecure: Insecure = False,
    max_frame: MaxFrame = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per exchange, for scripts.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the input and print the CALLs; send nothing.")
    ] = False,
    no_validate: Annotated[
        bool,
        typer.Option("--no-validate", help="Send --param payloads that break the schema."),
    ] = False,
    answer: Annotated[
        Answer,
        typer.Option(help="How to answer CALLs the central system sends meanwhile."),
    ] = Answer.RANDOM,
    request: Annotated[
        list[str] | None,
        typer.Option(
            help="An action to send (the original sender's spelling of ACTION).",
            autocompletion=complete_action,
        ),
    ] = None,
    option: Annotated[
        str | None,
        typer.Option(
            metavar="BOOL",
            help="The original sender's --full: True fills every field, False the required ones.",
        ),
    ] = None,
) -> None:
    """Send CALLs to a central system as a charge point and show each exchange.

    Exit codes: 2 bad input, 3 connect failed, 4 timeout, 5 CALLERROR, 6 invalid answer, 7 lost.
    """
    import random

    from ocpp16 import resolve_action
    from ocpp16.errors import InputError, OcppError

    chosen = [resolve_action(name) for name in [*(actions or []), *(request or [])]]
    if not chosen:
        raise InputError("name at least one action to send, e.g. ocpp16 send Heartbeat --url ...")
    texts = param or []
    if len(texts) > len(chosen):
        raise InputError(f"{len(texts)} --param given for {len(chosen)} action(s)")
    fill = _full(full, option)
    rng = random.Random(seed) if seed is not None else None
    payloads = [
        _payload(action, texts[i] if i < len(texts) else None, fill, rng, not no_validate)
        for i, action in enumerate(chosen)
    ]
    show = _Printer(as_json)
    if dry_run:
        _dry_run(show, chosen, payloads, url, identity)
        return
    if url is None:
        raise InputError("--url is required: the central system to send to (or use --dry-run)")

    from ocpp16.client import ChargePoint, answer_not_implemented, answer_random
    from ocpp16.transport import Connection, endpoint, tls_context

    where = endpoint(url, identity)
    tls = None
    if ca is not None or cert is not None or key is not None or insecure:
        tls = tls_context(_str(ca), _str(cert), _str(key), insecure)
    handler = answer_not_implemented if answer is Answer.NOT_IMPLEMENTED else answer_random
    from ocpp16.frames import Call, new_id

    first: OcppError | None = None
    from ocpp16.limits import MAX_FRAME_BYTES

    limit = MAX_FRAME_BYTES if max_frame is None else max_frame
    connection = Connection.open(
        where, password=password, tls=tls, timeout=timeout, max_frame=limit
    )
    with ChargePoint(connection, timeout=timeout, on_call=handler, on_event=show.event) as cp:
        for action, (payload, checked) in zip(chosen, payloads, strict=True):
            # The CALL shows before it goes: a slow answer or Ctrl-C still leaves it on screen.
            unique_id = new_id()
            show.request(action.name, Call(unique_id, action.name, payload).to_list())
            record = cp.call_raw(action.name, payload, unique_id=unique_id)
            show.response(record, checked)
            first = first or record.error
            if record.verdict == "closed":
                break
    if first is not None:
        raise first


def _full(full: bool, option: str | None) -> bool:
    """--full, or the original sender's --option=True/False."""
    from ocpp16.errors import InputError

    if option is None:
        return full
    value = _BOOLEANS.get(option.strip().lower())
    if value is None:
        raise InputError(f"--option takes True or False, not {option!r}")
    if full and not value:
        raise InputError("--full and --option=False contradict each other")
    return value


def _payload(
    action: Action, text: str | None, full: bool, rng: Random | None, validate: bool
) -> tuple[Any, bool]:
    """The payload to send for ``action`` and whether it was checked against its schema."""
    from ocpp16._violations import violations
    from ocpp16.errors import InputError, SchemaViolations
    from ocpp16_cli.payloads import load_json, strict_json

    if text is None:
        return action.request.random(full=full, rng=rng).to_dict(), True
    where = f"--param for {action.name}"
    if text == "-":
        try:  # not load_json: stdin text starting with @ names no file
            payload = strict_json(sys.stdin.read())
        except ValueError as exc:
            raise InputError(f"{where} (stdin): not JSON: {exc}") from None
    else:
        payload = load_json(text, where)
    if not validate:
        return payload, False
    found = violations(payload, action.request)
    if found:
        count = f"{len(found)} violations" if len(found) > 1 else "a violation"
        raise InputError(
            f"{where} breaks its schema ({count}; --no-validate sends it anyway):"
            f" {SchemaViolations(found)}"
        )
    return payload, True


def _str(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _dry_run(
    show: _Printer,
    chosen: list[Action],
    payloads: list[tuple[Any, bool]],
    url: str | None,
    identity: str | None,
) -> None:
    from ocpp16.frames import Call, new_id

    if url is not None:
        from ocpp16.transport import endpoint

        endpoint(url, identity)  # checks the URL too
    for action, (payload, checked) in zip(chosen, payloads, strict=True):
        show.dry(action.name, Call(new_id(), action.name, payload).to_list(), checked)


class _Printer:
    """Exchanges as the original sender printed them (coloured on a terminal), or JSON lines.

    For people each exchange prints in two halves: the request before it is sent, then what
    arrived while waiting and the answer. ``--json`` prints one object per exchange once it ends.
    Plain text skips rich, whose import costs more than the rest of a send on a pipe.
    """

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.console = None
        if not as_json and sys.stdout.isatty():
            from ocpp16_cli.output import make_console

            self.console = make_console()

    def dry(self, action: str, frame: list[Any], checked: bool) -> None:
        if self.as_json:
            self._line({"action": action, "request": frame, "validated": checked})
        else:
            self.request(action, frame)

    def request(self, action: str, frame: list[Any]) -> None:
        """The CALL about to go out (nothing with --json)."""
        if self.as_json:
            return
        if self.console is not None:
            from ocpp16_cli.output import print_request

            print_request(self.console, f"{action}Request", frame)
            return
        from ocpp16_cli.output import plain_text, shown_frame

        # The same layout as print_request, without importing rich.
        typer.echo(f"{action}Request\nRequest:\n{plain_text(shown_frame(frame))}")

    def response(self, record: CallRecord, checked: bool) -> None:
        """The answer to the CALL shown last and what was wrong (the whole exchange with --json)."""
        if self.as_json:
            self._line(_record_json(record, checked))
            return
        answer, problems = record.answer, _problems(record)
        if self.console is not None:
            from ocpp16_cli.output import print_response

            print_response(self.console, answer, problem="\n".join(problems))
            return
        from ocpp16_cli.output import plain_text, shown_frame

        # What the central system wrote is escaped here as on a terminal: a pipe often ends in one.
        typer.echo("Response:")
        typer.echo("(no answer)" if answer is None else plain_text(shown_frame(answer)))
        for line in problems:
            typer.echo(plain_text(line))

    def event(self, event: ClientEvent) -> None:
        """A frame that came while waiting, when it comes (--json: in the exchange's object)."""
        if self.as_json:
            return
        text = _event_text(event)
        if self.console is not None:
            from ocpp16_cli.output import print_note

            style = "yellow" if event.kind != "server-call" or event.detail else "dim"
            print_note(self.console, text, style=style)
        else:
            from ocpp16_cli.output import plain_text

            typer.echo(plain_text(text))

    @staticmethod
    def _line(obj: dict[str, Any]) -> None:
        from ocpp16_cli.output import json_text

        typer.echo(json_text(obj))


def _problems(record: CallRecord) -> list[str]:
    """What was wrong with the exchange, one line each (empty when the answer was valid)."""
    from ocpp16.errors import CallError, InvalidResponse

    error = record.error
    if error is None:
        return []
    if isinstance(error, CallError):
        line = f"CALLERROR {error.code}" + (f": {error.description}" if error.description else "")
        return [line + (f" {json.dumps(error.details)}" if error.details else "")]
    if isinstance(error, InvalidResponse):
        head = f"Invalid response: the central system's answer breaks the {record.action} schema:"
        return [head, *(f"  {v}" for v in _every(error))]
    return [str(error)]


def _every(error: InvalidResponse) -> list[ValidationError]:
    """Each violation of an invalid answer."""
    from ocpp16.errors import SchemaViolations

    return error.error.violations if isinstance(error.error, SchemaViolations) else [error.error]


def _event_text(event: ClientEvent) -> str:
    frame = json.dumps(event.frame, ensure_ascii=False)
    if event.kind == "server-call":
        reply = json.dumps(event.reply, ensure_ascii=False)
        detail = f" ({event.detail})" if event.detail else ""
        return f"While waiting, the central system sent {frame}; answered {reply}{detail}"
    return f"While waiting, {event.kind} frame {frame}: {event.detail}"


def _record_json(record: CallRecord, checked: bool) -> dict[str, Any]:
    from ocpp16.errors import InvalidResponse

    error = record.error
    violations: list[dict[str, str]] = []
    if isinstance(error, InvalidResponse):
        violations = [
            {"path": v.path, "constraint": v.constraint, "code": v.code, "detail": v.detail}
            for v in _every(error)
        ]
    return {
        "action": record.action,
        "request": record.request,
        "response": record.answer,
        "elapsed_ms": round(record.elapsed * 1000, 3),
        "valid": record.ok,
        "verdict": record.verdict,
        "error": None if error is None else str(error),
        "violations": violations,
        "validated": checked,
        "events": [
            {"kind": e.kind, "frame": e.frame, "reply": e.reply, "detail": e.detail}
            for e in record.events
        ],
    }
