"""Every bound ocpp16 puts on what a peer can make it hold, print or repeat, named once.

A central system and a test tool meet broken and hostile peers by design, so each of these is a
default that the SDK and the CLI read from here (and that options may override), never a literal
repeated at the place of use.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "AUTH_FAILURES_FREE",
    "AUTH_MAX_DELAY",
    "MAX_AUTH_TRACKED",
    "MAX_DESCRIPTION_CHARS",
    "MAX_ECHO_CHARS",
    "MAX_FRAME_BYTES",
    "MAX_HELD_EVENTS",
    "MAX_NESTING_DEPTH",
    "MAX_PRINTED_FRAME_BYTES",
    "MAX_QUEUED_CALLS",
    "MAX_RECEIVED_FRAMES",
    "MAX_TIMEOUT",
    "MAX_UNSENT_BYTES",
    "MAX_VIOLATIONS_COUNTED",
    "MAX_VIOLATIONS_LISTED",
    "MIN_TIMEOUT",
    "RESOURCE_REPORT_INTERVAL",
]

#: The range of every timeout, in seconds (the SDK's and the CLI's --timeout): at most a day.
#: Without a bound, ``inf`` or 1e12 overflowed the platform's clock types deep in a wait (an
#: OverflowError traceback, or a bogus connect failure); 0, negatives and NaN mean nothing.
MIN_TIMEOUT: Final = 0.001
MAX_TIMEOUT: Final = 86_400.0

#: Largest incoming WebSocket message accepted (bytes); larger ones close the connection (1009).
MAX_FRAME_BYTES: Final = 10 * 1024 * 1024

#: Deepest JSON nesting of a frame (the frame's own array counts as one level). OCPP 1.6 payloads
#: nest at most 6 deep; deeper text is a FormationViolation, well below Python's recursion limit.
MAX_NESTING_DEPTH: Final = 64

#: Frames larger than this (as printed JSON text, bytes) are printed cut, with their size shown.
MAX_PRINTED_FRAME_BYTES: Final = 64 * 1024

#: Longest peer-controlled value echoed inside a one-line message (an error, a log line).
MAX_ECHO_CHARS: Final = 200

#: CALLs from the peer held behind the one being answered, in either role. OCPP-J allows one
#: outstanding CALL per direction; a few more are forgiven to sloppy peers, any beyond get a
#: ProtocolError CALLERROR at once.
MAX_QUEUED_CALLS: Final = 2

#: Frames ``websockets`` holds received but not yet read by us (its ``max_queue``); with
#: MAX_FRAME_BYTES this bounds what one connection can make the server hold.
MAX_RECEIVED_FRAMES: Final = 4

#: Bytes written to a peer but not yet taken by it (the ``websockets`` write limit). Above it we
#: stop reading from that peer, so a peer that never reads cannot pile up pongs or answers.
MAX_UNSENT_BYTES: Final = 64 * 1024

#: Failed Basic-auth attempts (per address and per identity) allowed before they are throttled
#: with HTTP 429; each further failure doubles the wait, up to AUTH_MAX_DELAY seconds.
AUTH_FAILURES_FREE: Final = 5
AUTH_MAX_DELAY: Final = 60.0

#: Addresses and identities whose failed attempts are remembered (the oldest are forgotten).
MAX_AUTH_TRACKED: Final = 10_000

#: Seconds between two reports that the server ran out of a resource (file descriptors).
RESOURCE_REPORT_INTERVAL: Final = 1.0

#: Events (frames ignored, CALLs answered) a client keeps for the record of one exchange.
MAX_HELD_EVENTS: Final = 100

#: Most schema violations listed in one CALLERROR description; the rest are counted ("and N more").
MAX_VIOLATIONS_LISTED: Final = 10
#: Violations of a peer's CALL counted before checking stops (at the next array element or
#: property): the CALLERROR then says "and more".
MAX_VIOLATIONS_COUNTED: Final = 100

#: Longest CALLERROR description built from violations (characters).
MAX_DESCRIPTION_CHARS: Final = 2000
