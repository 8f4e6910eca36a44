"""Every bound ocpp16 puts on what a peer can make it hold, print or repeat, named once.

A central system and a test tool meet broken and hostile peers by design, so each of these is a
default that the SDK and the CLI read from here (and that options may override), never a literal
repeated at the place of use.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "MAX_DESCRIPTION_CHARS",
    "MAX_ECHO_CHARS",
    "MAX_FRAME_BYTES",
    "MAX_NESTING_DEPTH",
    "MAX_PRINTED_FRAME_BYTES",
    "MAX_VIOLATIONS_LISTED",
]

#: Largest incoming WebSocket message accepted (bytes); larger ones close the connection (1009).
MAX_FRAME_BYTES: Final = 10 * 1024 * 1024

#: Deepest JSON nesting of a frame (the frame's own array counts as one level). OCPP 1.6 payloads
#: nest at most 6 deep; deeper text is a FormationViolation, well below Python's recursion limit.
MAX_NESTING_DEPTH: Final = 64

#: Frames larger than this (as printed JSON text, bytes) are printed cut, with their size shown.
MAX_PRINTED_FRAME_BYTES: Final = 64 * 1024

#: Longest peer-controlled value echoed inside a one-line message (an error, a log line).
MAX_ECHO_CHARS: Final = 200

#: Most schema violations listed in one CALLERROR description; the rest are counted ("and N more").
MAX_VIOLATIONS_LISTED: Final = 10

#: Longest CALLERROR description built from violations (characters).
MAX_DESCRIPTION_CHARS: Final = 2000
