"""Peer text made safe to show: escapes, encodability, bounds."""

from __future__ import annotations

import pytest

from ocpp16._text import printable, shorten
from ocpp16.limits import MAX_ECHO_CHARS


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text", "plain text"),
        ("\x1b[2J\x1b]0;owned\x07", "\\x1b[2J\\x1b]0;owned\\x07"),
        ("lone \udfff surrogate", "lone \\udfff surrogate"),
        ("tab\tand\nnewline", "tab\\x09and\\x0anewline"),
        ("bidi \u202eevil", "bidi \\u202eevil"),
        ("C1 \x9b31m", "C1 \\x9b31m"),
        ("ünïcødé ⚡", "ünïcødé ⚡"),
    ],
)
def test_printable_escapes_what_a_terminal_would_act_on(raw: str, shown: str) -> None:
    assert printable(raw) == shown
    printable(raw).encode("ascii", "backslashreplace")  # always encodable


def test_printable_keeps_layout_when_asked() -> None:
    assert printable("a\tb\nc\x1b", one_line=False) == "a\tb\nc\\x1b"


def test_shorten_bounds_and_says_how_much() -> None:
    assert shorten("short") == "short"
    long = "x" * (MAX_ECHO_CHARS * 5)
    cut = shorten(long)
    assert cut.startswith("x" * MAX_ECHO_CHARS)
    assert len(cut) < MAX_ECHO_CHARS + 40
    assert f"{len(long):,} characters" in cut
