"""ocpp16.frames: the nesting-depth limit that keeps json.loads from recursing without bound."""

from __future__ import annotations

import json
import random

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


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def _random_json(rng: random.Random, depth: int) -> object:
    pick = rng.random()
    if depth == 0 or pick < 0.3:
        return rng.choice(['a"[{', "\\", "]}", 'x\\"[', 1, None, "\u00e9["])
    items = [_random_json(rng, depth - 1) for _ in range(rng.randint(0, 4))]
    if pick < 0.65:
        return items
    return {f"k{i}[": item for i, item in enumerate(items)}


@pytest.mark.parametrize("seed", range(40))
def test_depth_agrees_with_the_parsed_value(seed: int) -> None:
    rng = random.Random(seed)
    value = _random_json(rng, rng.randint(1, 12))
    text = json.dumps(value, ensure_ascii=rng.random() < 0.5)
    depth = _depth(value)
    for limit in range(max(depth - 2, 0), depth + 2):
        assert too_deep(text, limit) == (depth > limit), (text, limit)


@pytest.mark.parametrize(
    "text",
    [
        "]" * 10_000 + "[" * (MAX_NESTING_DEPTH + 1),  # unmatched closers first
        "[" * (MAX_NESTING_DEPTH + 1) + "}" * 10_000,  # closers of the wrong kind
        "[" * 40 + "]" * 40 + "{" * (MAX_NESTING_DEPTH - 39),  # open after a closed nest
    ],
    ids=["closers-first", "wrong-closers", "open-after-closed"],
)
def test_unbalanced_text_never_passes_as_shallow(text: str) -> None:
    assert too_deep(text)


def test_a_wide_array_is_not_deep() -> None:
    text = json.dumps({"meterValue": [{"sampledValue": [{"value": "1"}]}] * 10_000})
    assert not too_deep(text)
    assert too_deep(text, limit=3)
