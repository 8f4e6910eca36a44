"""How the CLI shows OCPP-J traffic, shared by every command that talks to a peer.

Two forms:

- an *exchange* for people: a heading (the request's action, prefixed with the charge point's
  identity when a server prints it), ``Request:`` with the CALL as indented JSON and ``Response:``
  with the answer, coloured by rich on a terminal and plain text otherwise; frames longer than
  ``max_print`` bytes are cut, with their size shown;
- a *frame record* for programs: one JSON object per line with ``time``, ``identity``,
  ``direction`` (``in`` or ``out``, seen from the side that prints), ``frame`` (the frame as JSON,
  or the raw text when it is not JSON), ``verdict`` (``valid``, ``invalid`` or ``ignored``) and,
  when not valid, ``detail``.

Everything a peer controls (identities, payload strings, CALLERROR text) is printed through
:func:`safe_text`: never read as rich markup, control characters and lone surrogates escaped, and
whatever the console's encoding cannot write escaped too, so printing never fails on it.
"""

from __future__ import annotations

import errno
import json
import os
import re
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any, Final

from ocpp16._text import printable, shorten
from ocpp16.limits import MAX_PRINTED_FRAME_BYTES

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "JsonLines",
    "frame_json",
    "frame_record",
    "json_text",
    "make_console",
    "plain_text",
    "print_exchange",
    "print_note",
    "print_request",
    "print_response",
    "safe_text",
    "shown_frame",
    "utc_now",
]


def utc_now() -> str:
    """The current time as RFC 3339 UTC text with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


#: Width of tables written to a pipe or a file (rich would use 80 and cut their columns).
PIPE_WIDTH: Final = 160


def make_console(stderr: bool = False) -> Console:
    """A rich console on stdout (or stderr): colour on a terminal, never wrapping JSON; on a
    pipe or a file, as wide as :data:`PIPE_WIDTH` unless ``COLUMNS`` says otherwise."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # rich would exit with 1 (which reads as "failures" for check): the root command
            # handles a closed stdout once, for every command (ocpp16_cli.main).
            self.quiet = True
            raise BrokenPipeError(errno.EPIPE, "the reader of the output went away")

    console = _Console(stderr=stderr, soft_wrap=True, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPE_WIDTH
    return console


def frame_json(frame: Any) -> str:
    """A frame as indented JSON; text that is not JSON stays as it came."""
    if isinstance(frame, str | bytes):
        return frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
    return json.dumps(frame, indent=2, ensure_ascii=False)


def shown_frame(frame: Any, max_print: int = MAX_PRINTED_FRAME_BYTES) -> str:
    """A frame as :func:`frame_json` prints it, cut after ``max_print`` bytes with its size shown.

    Linear in the frame: decoding refuses JSON nested deeper than MAX_NESTING_DEPTH, which bounds
    the indentation of each line.
    """
    text = frame_json(frame)
    if len(text) <= max_print // 4:
        return text  # cannot be over the limit, even at 4 bytes a character
    size = len(text.encode("utf-8", "surrogatepass"))
    if size <= max_print:
        return text
    cut = text.encode("utf-8", "surrogatepass")[:max_print].decode("utf-8", "ignore")
    return f"{cut}\n... (cut: {size:,} bytes in all, {max_print:,} shown)"


def plain_text(text: str, max_print: int = MAX_PRINTED_FRAME_BYTES) -> str:
    """``text`` for a plain stream (a pipe, a file): controls escaped as :func:`safe_text` does,
    so nothing reaches a terminal behind ``| tee`` or ``| less -R`` as an escape sequence (click
    strips only colour codes, not OSC or C1 controls), and cut after ``max_print`` characters."""
    return printable(shorten(text, max_print), one_line=False)


#: What ``json.dumps(..., ensure_ascii=False)`` leaves raw that a terminal acts on: DEL, C1
#: controls (``\x9b`` is CSI), line and bidi separators, lone surrogates. C0 it escapes itself.
_JSON_UNSAFE: Final = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def json_text(value: Any, **options: Any) -> str:
    """``value`` as JSON, readable non-ASCII kept, and every character a terminal would act on
    as a ``\\u`` escape: the same JSON value, safe to print (they can only stand in strings)."""
    return _escape_unsafe(json.dumps(value, ensure_ascii=False, **options))


def _escape_unsafe(text: str) -> str:
    if text.isascii() and "\x7f" not in text:
        return text  # most frames: two C-speed checks instead of the slower pattern scan
    return _JSON_UNSAFE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def record_parts(record: dict[str, Any], frame_text: str | None = None) -> tuple[str, ...]:
    """``record`` (a :func:`frame_record`) as one line of JSON, safe to print, in parts to write
    one after the other (a large frame is not copied into one string first).

    With ``frame_text``, the JSON that ``record["frame"]`` was parsed from (or encoded to, as
    :attr:`ocpp16.FrameEvent.text` is), the text itself stands for the frame: the same JSON
    value, with no second encoding (for the large frames a fuzzer sends, most of the cost of a
    record).
    """
    if frame_text is None:
        return (json_text(record), "\n")
    keys = list(record)
    at = keys.index("frame")
    before = json_text({key: record[key] for key in keys[:at]})[1:-1]
    after = json_text({key: record[key] for key in keys[at + 1 :]})[1:-1]
    # JSON never holds a raw control character inside a string: a line break or a tab is only
    # whitespace between tokens, and a space keeps the record one line with no raw controls.
    frame = _escape_unsafe(frame_text.replace("\n", " ").replace("\r", " ").replace("\t", " "))
    return (
        "{" + before + ", " * bool(before) + '"frame": ',
        frame,
        ", " * bool(after) + after + "}\n",
    )


def safe_text(console: Console, text: str, *, one_line: bool = False) -> str:
    """``text`` that ``console`` can print as is: controls and lone surrogates escaped, and
    whatever its encoding cannot write escaped as well (``\\xe9`` on an ASCII console)."""
    text = printable(text, one_line=one_line)
    encoding = console.encoding
    if encoding.replace("-", "").replace("_", "") not in ("utf8", "utf8sig"):
        text = text.encode(encoding, "backslashreplace").decode(encoding, "replace")
    return text


def _print_frame(console: Console, frame: Any, max_print: int) -> None:
    from rich.highlighter import JSONHighlighter
    from rich.text import Text

    text = Text(safe_text(console, shown_frame(frame, max_print)))
    if console.is_terminal and not isinstance(frame, str | bytes):
        JSONHighlighter().highlight(text)  # regular expressions: linear in the text
    console.print(text)


def print_exchange(
    console: Console,
    name: str,
    request: Any,
    response: Any | None,
    *,
    identity: str | None = None,
    problem: str = "",
    note: str = "",
    max_print: int = MAX_PRINTED_FRAME_BYTES,
) -> None:
    """One request and its answer, as ``send`` and ``serve`` print them.

    ``request`` and ``response`` are frames (lists) or raw text; ``response`` None means no answer
    arrived. ``problem`` (shown in red) says what was wrong; ``note`` (dim) adds context such as
    who sent the request. Frames are cut after ``max_print`` bytes.
    """
    print_request(console, name, request, identity=identity, note=note, max_print=max_print)
    print_response(console, response, problem=problem, max_print=max_print)


def print_request(
    console: Console,
    name: str,
    request: Any,
    *,
    identity: str | None = None,
    note: str = "",
    max_print: int = MAX_PRINTED_FRAME_BYTES,
) -> None:
    """The first half of an exchange, printed before the answer comes (``send`` does)."""
    from rich.text import Text

    heading = Text()
    if identity is not None:
        heading.append(f"[{safe_text(console, identity, one_line=True)}] ", style="cyan")
    heading.append(safe_text(console, shorten(name), one_line=True), style="bold")
    if note:
        heading.append(f"  {note}", style="dim")
    console.print(heading)
    console.print("Request:", style="dim")
    _print_frame(console, request, max_print)
    console.file.flush()


def print_response(
    console: Console,
    response: Any | None,
    *,
    problem: str = "",
    max_print: int = MAX_PRINTED_FRAME_BYTES,
) -> None:
    """The second half of an exchange: the answer (None: none came) and what was wrong."""
    from rich.text import Text

    console.print("Response:", style="dim")
    if response is None:
        console.print("(no answer)", style="yellow")
    else:
        _print_frame(console, response, max_print)
    if problem:
        console.print(Text(safe_text(console, shorten(problem, max_print)), style="red"))
    console.file.flush()


def print_note(
    console: Console, text: str, *, identity: str | None = None, style: str = ""
) -> None:
    """A one-line remark about the traffic (an ignored frame, a refused connection)."""
    from rich.text import Text

    who = f"[{safe_text(console, identity, one_line=True)}] " if identity is not None else ""
    what = safe_text(console, text, one_line=True)
    if not console.is_terminal:
        # No styles and no live display on a pipe or a file: the line as rich would print it
        # (soft-wrapped, so never cut) at a fraction of the cost; a busy server writes one per
        # connection.
        if not console.quiet:
            console.file.write(f"{who}{what}\n")
    else:
        line = Text()
        line.append(who, style="cyan")
        line.append(what, style=style)
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

    def write(self, record: dict[str, Any], frame_text: str | None = None) -> None:
        """Write ``record``; ``frame_text`` as :func:`record_parts` takes it."""
        parts = record_parts(record, frame_text)
        for stream in self._streams:
            if _writes_utf8(stream):
                for part in parts:
                    stream.write(part)
            else:
                # \u escapes are the same JSON, and every encoding writes them.
                stream.write(json.dumps(record) + "\n")
            stream.flush()


def _writes_utf8(stream: IO[str]) -> bool:
    encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("-", "")
    return encoding in ("utf8", "utf_8")
