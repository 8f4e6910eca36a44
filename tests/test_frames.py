"""ocpp16.frames: the nesting-depth limit that keeps json.loads from recursing without bound."""

from __future__ import annotations

import pytest

from ocpp16.errors import FrameError
from ocpp16.frames import Call, decode, loads, too_deep
from ocpp16.limits import MAX_NESTING_DEPTH


def nested(depth: int) -> str:
    """A CALL whose payload nests so that the whole frame is ``depth`` levels deep."""
    inner = "[" * (depth - 2) + "]" * (depth - 2)
    return f'[2,"a","DataTransfer",{{"vendorId":"V","data":{inner or 0}}}]'


@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
@pytest.mark.parametrize("depth", [MAX_NESTING_DEPTH + 1, 1_000, 100_000])
def test_json_deeper_than_the_limit_is_a_formation_violation(depth: int, as_bytes: bool) -> None:
    text = nested(depth)
    with pytest.raises(FrameError) as caught:
        decode(text.encode() if as_bytes else text)
    assert caught.value.code == "FormationViolation"
    assert str(caught.value) == f"JSON nested deeper than {MAX_NESTING_DEPTH} levels"


def test_json_at_the_limit_decodes() -> None:
    frame = decode(nested(MAX_NESTING_DEPTH))
    assert isinstance(frame, Call)
    assert frame.action == "DataTransfer"


@pytest.mark.parametrize(
    "text",
    [
        # Brackets inside strings, escaped quotes and backslashes do not count as nesting.
        '["' + "[" * 500 + '"]',
        '["\\"' + "[" * 500 + '"]',
        '["\\\\", "' + "{" * 500 + '"]',
    ],
    ids=["in-string", "after-escaped-quote", "after-escaped-backslash"],
)
def test_brackets_inside_strings_are_not_nesting(text: str) -> None:
    assert not too_deep(text)
    assert isinstance(loads(text), list)


def test_an_unclosed_string_hides_no_nesting_from_the_parser() -> None:
    # The scan may be fooled by text that is not JSON; json.loads then refuses it all the same.
    with pytest.raises(FrameError, match="not valid JSON"):
        loads('["' + "[" * 500)


def test_a_lone_surrogate_escape_decodes_to_text() -> None:
    frame = decode('[2,"a","Authorize",{"idTag":"\\udfff"}]')
    assert isinstance(frame, Call)
    assert frame.payload == {"idTag": "\udfff"}
