"""Peer-controlled text made safe to show: no escape sequences, nothing unencodable, bounded.

Whatever a peer sends (CALLERROR descriptions, identities, payload strings) can end up on a
terminal, in a log or in an exception message. :func:`printable` escapes control characters
(ESC included) and lone surrogates the way ``repr`` does, so nothing reaches a terminal as a
control sequence and every output encoding can write it; :func:`shorten` bounds its length.
"""

from __future__ import annotations

import re
from typing import Any, Final

from ocpp16.limits import MAX_ECHO_CHARS

__all__ = ["has_lone_surrogate", "printable", "redact_url", "scrub", "shorten"]

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


def redact_url(url: str) -> str:
    """``url`` with its userinfo (``user:password@``) replaced by ``***@``, even when the rest of
    it does not parse: a URL is shown in errors and reports, a password in it never is."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    end = len(rest)
    for stop in "/?#":
        found = rest.find(stop)
        if found != -1:
            end = min(end, found)
    at = rest.rfind("@", 0, end)
    if at == -1:
        return url
    return f"{scheme}{sep}***@{rest[at + 1 :]}"


#: A JSON escape of a surrogate: whether a text can decode to a lone surrogate at all.
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def has_lone_surrogate(text: str, value: Any) -> bool:
    """Whether ``value``, the JSON that ``text`` decoded to, holds a lone surrogate in a string
    (which no UTF-8 output can carry). Only the rare text with such an escape is walked."""
    # A one-character search runs at memchr speed: most texts, megabytes of them, end there.
    if "\\" not in text or _SURROGATE_ESCAPE.search(text) is None:
        return False
    return _walk_finds(value)


def _walk_finds(value: Any) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_walk_finds(k) or _walk_finds(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_walk_finds(item) for item in value)
    return False


def scrub(value: Any) -> Any:
    """A copy of the JSON ``value`` whose strings (keys too) have every lone surrogate escaped as
    ``\\udfff`` text, so that it can be printed and encoded anywhere."""
    if isinstance(value, str):
        return _SURROGATE.sub(_escape, value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(item) for item in value]
    return value
