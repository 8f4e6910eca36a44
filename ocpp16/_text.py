"""Peer-controlled text made safe to show: no escape sequences, nothing unencodable, bounded.

Whatever a peer sends (CALLERROR descriptions, identities, payload strings) can end up on a
terminal, in a log or in an exception message. :func:`printable` escapes control characters
(ESC included) and lone surrogates the way ``repr`` does, so nothing reaches a terminal as a
control sequence and every output encoding can write it; :func:`shorten` bounds its length.
"""

from __future__ import annotations

import re
from typing import Final

from ocpp16.limits import MAX_ECHO_CHARS

__all__ = ["printable", "shorten"]

# C0 and C1 controls, DEL, lone surrogates, and the bidi/line separators that reorder or break a
# terminal line. Tab and newline are kept only where the caller asks for them.
_UNSAFE: Final = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_UNSAFE_ONE_LINE: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, one_line: bool = True) -> str:
    """``text`` with every control character and lone surrogate escaped (``\\x1b``, ``\\udfff``).

    ``one_line`` also escapes tab and newline, for text placed inside a one-line message.
    """
    pattern = _UNSAFE_ONE_LINE if one_line else _UNSAFE
    return pattern.sub(_escape, text)


def shorten(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    """``text`` cut to about ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters in all)"
