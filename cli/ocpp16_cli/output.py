"""How the CLI shows OCPP-J traffic, shared by every command that talks to a peer.

Two forms:

- an *exchange* for people: a heading (the request's action, prefixed with the charge point's
  identity when a server prints it), ``Request:`` with the CALL as indented JSON and ``Response:``
  with the answer, coloured by rich on a terminal and plain text otherwise;
- a *frame record* for programs: one JSON object per line with ``time``, ``identity``,
  ``direction`` (``in`` or ``out``, seen from the side that prints), ``frame`` (the frame as JSON,
  or the raw text when it is not JSON), ``verdict`` (``valid``, ``invalid`` or ``ignored``) and,
  when not valid, ``detail``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "JsonLines",
    "frame_json",
    "frame_record",
    "make_console",
    "print_exchange",
    "print_note",
    "print_request",
    "print_response",
    "utc_now",
]


def utc_now() -> str:
    """The current time as RFC 3339 UTC text with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_console(stderr: bool = False) -> Console:
    """A rich console on stdout (or stderr): colour on a terminal, never wrapping JSON."""
    from rich.console import Console

    return Console(stderr=stderr, soft_wrap=True, highlight=False)


def frame_json(frame: Any) -> str:
    """A frame as indented JSON; text that is not JSON stays as it came."""
    if isinstance(frame, str | bytes):
        return frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
    return json.dumps(frame, indent=2, ensure_ascii=False)


def _print_frame(console: Console, frame: Any) -> None:
    from rich.json import JSON

    if isinstance(frame, str | bytes):
        console.print(frame_json(frame), markup=False, highlight=False)
    else:
        console.print(JSON.from_data(frame, indent=2, ensure_ascii=False))


def print_exchange(
    console: Console,
    name: str,
    request: Any,
    response: Any | None,
    *,
    identity: str | None = None,
    problem: str = "",
    note: str = "",
) -> None:
    """One request and its answer, as ``send`` and ``serve`` print them.

    ``request`` and ``response`` are frames (lists) or raw text; ``response`` None means no answer
    arrived. ``problem`` (shown in red) says what was wrong; ``note`` (dim) adds context such as
    who sent the request.
    """
    print_request(console, name, request, identity=identity, note=note)
    print_response(console, response, problem=problem)


def print_request(
    console: Console, name: str, request: Any, *, identity: str | None = None, note: str = ""
) -> None:
    """The first half of an exchange, printed before the answer comes (``send`` does)."""
    from rich.text import Text

    heading = Text()
    if identity is not None:
        heading.append(f"[{identity}] ", style="cyan")
    heading.append(name, style="bold")
    if note:
        heading.append(f"  {note}", style="dim")
    console.print(heading)
    console.print("Request:", style="dim")
    _print_frame(console, request)
    console.file.flush()


def print_response(console: Console, response: Any | None, *, problem: str = "") -> None:
    """The second half of an exchange: the answer (None: none came) and what was wrong."""
    from rich.text import Text

    console.print("Response:", style="dim")
    if response is None:
        console.print("(no answer)", style="yellow")
    else:
        _print_frame(console, response)
    if problem:
        console.print(Text(problem, style="red"))
    console.file.flush()


def print_note(
    console: Console, text: str, *, identity: str | None = None, style: str = ""
) -> None:
    """A one-line remark about the traffic (an ignored frame, a refused connection)."""
    from rich.text import Text

    line = Text()
    if identity is not None:
        line.append(f"[{identity}] ", style="cyan")
    line.append(text, style=style)
    console.print(line)
    console.file.flush()


def frame_record(
    identity: str | None,
    direction: str,
    frame: Any,
    verdict: str,
    detail: str = "",
    *,
    time: str | None = None,
) -> dict[str, Any]:
    """One frame as the JSON object ``--json`` and ``--trace`` write."""
    if isinstance(frame, bytes):
        frame = frame.decode("utf-8", "replace")
    record: dict[str, Any] = {
        "time": time or utc_now(),
        "identity": identity,
        "direction": direction,
        "frame": frame,
        "verdict": verdict,
    }
    if detail:
        record["detail"] = detail
    return record


class JsonLines:
    """Writes frame records as JSON lines to any number of text streams, flushing each line."""

    def __init__(self, *streams: IO[str]) -> None:
        self._streams = streams

    def __bool__(self) -> bool:
        return bool(self._streams)

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        for stream in self._streams:
            stream.write(line)
            stream.flush()
