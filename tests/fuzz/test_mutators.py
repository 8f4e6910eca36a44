"""The fuzzer's parts without a network: mutators, cases, ddmin, payload shrinking, reproducers."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ocpp16 import ACTIONS
from ocpp16.fuzz.cases import SEQUENCES, cp_actions, make_case, sequence_case
from ocpp16.fuzz.minimize import Budget, ddmin, shrink_frame
from ocpp16.fuzz.mutators import (
    FRAME_KINDS,
    HUGE_FRAME_BYTES,
    MANY_ITEMS,
    PAYLOAD_KINDS,
    Applied,
    frame_mutation,
    mutate_payload,
)
from ocpp16.fuzz.oracles import SLOW_FLOOR_S, Finding, Recorded, SlowTracker, invalid_paths
from ocpp16.fuzz.reproducer import load, save
from ocpp16.schemas import load_schema

ACTIONS_FUZZED = cp_actions()
SEEDS = range(40)


def _at(payload: Any, path: str) -> Any:
    node = payload
    for part in path[2:].replace("[", ".[").split("."):
        if part:
            node = node[int(part[1:-1])] if part.startswith("[") else node[part]
    return node


def _schema_at(action: str, path: str) -> dict[str, Any]:
    node: dict[str, Any] = load_schema(action)
    for part in path[2:].replace("[", ".[").split("."):
        if part.startswith("["):
            node = node["items"]
        elif part:
            node = node["properties"][part]
    return node


def _mutated(kind: str, seed: int) -> tuple[str, dict[str, Any], Applied, str | None]:
    rng = random.Random(seed)
    action = ACTIONS_FUZZED[seed % len(ACTIONS_FUZZED)]
    base = ACTIONS[action].request.random(full=True, rng=rng).to_dict()
    payload, applied, raw = mutate_payload(action, base, rng, count=1, kinds=(kind,))
    return action, payload, applied[0], raw


def _fell_back(action: str, applied: Applied, kind: str) -> bool:
    """Whether the payload had no place for ``kind`` and got the stand-in extra key."""
    if applied.kind == kind:
        return False
    assert applied == Applied("structure", "$.fuzzExtra", "extra key", "add", "x")
    fields = load_schema(action)["properties"].values()
    places: dict[str, Callable[[Any], bool]] = {
        "type": lambda s: True,
        "number": lambda s: s.get("type") in ("integer", "number"),
        "string": lambda s: s.get("type") == "string",
        "date-time": lambda s: s.get("format") == "date-time",
    }
    wanted = places[kind]
    assert not any(wanted(s) for s in fields), f"{action} has a place for {kind}"
    return True


@pytest.mark.parametrize("seed", SEEDS)
def test_type_mutations_put_another_json_type(seed: int) -> None:
    rng = random.Random(seed)
    action = ACTIONS_FUZZED[seed % len(ACTIONS_FUZZED)]
    base = ACTIONS[action].request.random(full=True, rng=rng).to_dict()
    payload, (applied,), _ = mutate_payload(action, base, rng, count=1, kinds=("type",))
    if _fell_back(action, applied, "type"):
        return
    assert type(_at(payload, applied.path)) is not type(_at(base, applied.path))
    assert invalid_paths(action, payload), "another JSON type always breaks the schema"


@pytest.mark.parametrize("seed", SEEDS)
def test_number_mutations_hit_edges_of_number_fields(seed: int) -> None:
    action, payload, applied, _ = _mutated("number", seed)
    if _fell_back(action, applied, "number"):
        return
    value = _at(payload, applied.path)
    assert _schema_at(action, applied.path)["type"] in ("integer", "number")
    assert value in (-1, 0, 2**31 - 1, 2**31, 2**63, 1e308, 0.5) or len(str(value)) == 400


@pytest.mark.parametrize("seed", SEEDS)
def test_string_mutations_say_what_they_put(seed: int) -> None:
    action, payload, applied, _ = _mutated("string", seed)
    if _fell_back(action, applied, "string"):
        return
    value = _at(payload, applied.path)
    schema = _schema_at(action, applied.path)
    assert schema["type"] == "string"
    expected: dict[str, Callable[[str], bool]] = {
        "empty": lambda v: v == "",
        "NUL": lambda v: "\x00" in v,
        "control characters": lambda v: "\x1b" in v,
        "lone surrogate": lambda v: "\ud800" in v,
        "right-to-left": lambda v: "\u202e" in v,
        "combining characters": lambda v: "\u0301" in v,
        "format string": lambda v: "%n" in v,
        "SQL": lambda v: "DROP TABLE" in v,
        "path": lambda v: "../" in v,
        "64 KiB": lambda v: len(v) == 64 * 1024,
        "maxLength - 1": lambda v: len(v) == schema["maxLength"] - 1,
        "maxLength + 1": lambda v: len(v) == schema["maxLength"] + 1,
    }
    assert expected[applied.detail](value), applied


@pytest.mark.parametrize("seed", SEEDS)
def test_date_time_mutations_land_on_date_time_fields(seed: int) -> None:
    action, payload, applied, _ = _mutated("date-time", seed)
    if _fell_back(action, applied, "date-time"):
        return
    assert _schema_at(action, applied.path).get("format") == "date-time"
    value = _at(payload, applied.path)
    assert {
        "year 0001": value.startswith("0001-"),
        "year 9999": value.startswith("9999-"),
        "year 222222017": value.startswith("222222017-"),
        "offset +14:00": value.endswith("+14:00"),
        "offset -12:00": value.endswith("-12:00"),
        "no zone": value[-1].isdigit() and "T" in value,
        "leap second": ":60" in value,
        "garbage": not value[:1].isdigit(),
        "date only": len(value) == 10,
    }[applied.detail]


@pytest.mark.parametrize("seed", SEEDS)
def test_structure_mutations_change_the_shape(seed: int) -> None:
    _, payload, applied, raw = _mutated("structure", seed)
    detail = applied.detail
    steps = applied.path[2:].replace("[", ".[").split(".")
    if detail == "missing":
        parent = _at(payload, "$." + ".".join(steps[:-1])) if len(steps) > 1 else payload
        assert steps[-1] not in parent
    elif detail == "null":
        assert _at(payload, applied.path) is None
    elif detail.endswith(" elements"):
        assert len(_at(payload, applied.path)) == int(detail.split()[0])
        assert int(detail.split()[0]) in (0, 1, MANY_ITEMS)
    elif detail == "extra key" or detail.startswith("absent field added"):
        _at(payload, applied.path)  # present now
    elif detail.startswith("duplicate key"):
        assert raw is not None
        key = json.dumps(steps[-1])
        assert raw.count(key + ":") == 2
    else:
        assert detail.startswith("nesting ")
        assert raw is not None
        depth = int(detail.split()[1])
        assert raw.count("[") + raw.count("{") > depth


@pytest.mark.parametrize("kind", FRAME_KINDS)
def test_frame_mutations_break_what_they_say(kind: str) -> None:
    payload = {"idTag": "ABC"}
    case = frame_mutation("Authorize", payload, "id-1", random.Random(1), kind)
    frames = case.frames
    first = frames[0]
    if kind == "binary frame":
        assert isinstance(first, bytes)
        assert json.loads(first) == [2, "id-1", "Authorize", payload]
        return
    assert isinstance(first, str)
    if kind == "not JSON":
        with pytest.raises(ValueError):
            json.loads(first)
        return
    frame = json.loads(first)
    checks: dict[str, Callable[[], bool]] = {
        "id empty": lambda: frame[1] == "",
        "id too long": lambda: len(frame[1]) > 36 and case.invalid,
        "id not a string": lambda: not isinstance(frame[1], str),
        "id reused in flight": lambda: frames == (first, first),
        "message type unknown": lambda: frame[0] not in (2, 3, 4),
        "message type as string": lambda: frame[0] == "2",
        "CALLRESULT for no CALL": lambda: frame[0] == 3,
        "CALLERROR for no CALL": lambda: frame[0] == 4 and len(frame) == 5,
        "element missing": lambda: len(frame) == 3,
        "element extra": lambda: len(frame) == 5,
        "not an array": lambda: isinstance(frame, dict),
        "huge frame": lambda: len(first) > HUGE_FRAME_BYTES,
        "action unknown": lambda: frame[2] == "FlyToTheMoon",
    }
    assert checks[kind](), frame if len(first) < 1000 else kind


def test_stacked_mutations_number_one_to_three() -> None:
    counts = set()
    for seed in range(200):
        rng = random.Random(seed)
        base = ACTIONS["StartTransaction"].request.random(full=True, rng=rng).to_dict()
        _, applied, raw = mutate_payload("StartTransaction", base, rng)
        assert 1 <= len(applied) <= 3
        assert {a.kind for a in applied} <= set(PAYLOAD_KINDS)
        if raw is None:
            counts.add(len(applied))
    assert counts == {1, 2, 3}


def test_the_same_seed_gives_the_same_cases_and_another_seed_others() -> None:
    first = [make_case(7, i, ACTIONS_FUZZED) for i in range(300)]
    again = [make_case(7, i, ACTIONS_FUZZED) for i in range(300)]
    other = [make_case(8, i, ACTIONS_FUZZED) for i in range(300)]
    assert [c.steps for c in first] == [c.steps for c in again]
    assert [c.steps for c in first] != [c.steps for c in other]
    assert {c.family for c in first} == {"payload", "frame", "sequence"}


@pytest.mark.parametrize("name", SEQUENCES)
def test_sequence_cases(name: str) -> None:
    case = sequence_case(1, name, ACTIONS_FUZZED, random.Random(2))
    ops = [s.op for s in case.steps]
    sent = [json.loads(s.data) for s in case.steps if s.op == "send"]
    if name == "connection storm":
        assert ops == ["storm"]
    elif name == "replay after reconnect":
        assert ops == ["send", "reconnect", "send"]
        assert case.steps[0] == case.steps[2]
    elif name == "call before boot":
        assert case.fresh and sent[0][2] != "BootNotification"
    elif name == "stop twice":
        assert [f[2] for f in sent] == ["StartTransaction", "StopTransaction", "StopTransaction"]
        assert sent[1][3]["transactionId"] == sent[2][3]["transactionId"] == "@tx-own@"
    elif name == "repeated start":
        assert sent[0][3] == sent[1][3] and sent[0][1] != sent[1][1]
    elif name == "calls in flight":
        assert len(sent) == 3 and all(s.expect is None for s in case.steps)
    elif "another's" in name:
        assert sent[0][3]["transactionId"] == "@tx-other@"
    else:
        assert sent[0][2] == "StopTransaction" and isinstance(sent[0][3]["transactionId"], int)


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


@pytest.mark.parametrize(
    ("needed", "size"),
    [({7}, 20), ({3, 17}, 20), ({0, 1, 2}, 9), ({12}, 13)],
)
def test_ddmin_finds_the_items_that_matter(needed: set[int], size: int) -> None:
    tested: list[list[int]] = []

    async def test(items: list[int]) -> bool:
        tested.append(items)
        return needed <= set(items)

    found = _run(ddmin(list(range(size)), test, Budget(200)))
    assert found == sorted(needed)
    assert all(t != [] for t in tested)


def test_ddmin_stops_at_its_budget_with_a_list_that_still_triggers() -> None:
    calls = 0

    async def test(items: list[int]) -> bool:
        nonlocal calls
        calls += 1
        return {5, 50} <= set(items)

    found = _run(ddmin(list(range(64)), test, Budget(8)))
    assert calls == 8
    assert {5, 50} <= set(found) and len(found) < 64


def test_shrink_frame_keeps_only_what_triggers() -> None:
    frame = json.dumps(
        [2, "u1", "StartTransaction",
         {"connectorId": 1, "idTag": "AB\x00CDEFGH", "meterStart": 5, "timestamp": "x" * 30}]
    )  # fmt: skip

    async def test(text: str | bytes) -> bool:
        payload = json.loads(text)[3]
        return "\x00" in str(payload.get("idTag"))

    small = _run(shrink_frame(frame, test, Budget(200)))
    assert json.loads(small) == [2, "u1", "StartTransaction", {"idTag": "\x00"}]


def test_reproducers_round_trip(tmp_path: Path) -> None:
    frames = (
        (0.0, "out", '[2,"a","Heartbeat",{}]'),
        (0.01, "in", "[3]"),
        (0.5, "out", b"\x00\xff"),
    )
    finding = Finding(
        "dropped", "Authorize", "string", "$.idTag", "closed", 3, 17, "string $.idTag: NUL",
        (Recorded("fz-0", frames),), count=2, minimized=True,
    )  # fmt: skip
    path = tmp_path / "f.json"
    save(finding, "ws://h:1/ocpp", path)
    loaded, target = load(path)
    assert target == "ws://h:1/ocpp"
    assert loaded.connections == finding.connections
    assert loaded.signature == finding.signature
    assert (loaded.seed, loaded.case, loaded.count) == (3, 17, 2)


@pytest.mark.parametrize(
    ("text", "message"),
    [("{", "not JSON"), ('{"format": "x"}', "not an ocpp16 fuzz reproducer")],
)
def test_a_file_that_is_no_reproducer_is_one_clear_error(
    tmp_path: Path, text: str, message: str
) -> None:
    from ocpp16.errors import InputError

    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load(path)


def test_slow_answers_are_judged_against_the_running_median() -> None:
    tracker = SlowTracker()
    assert all(tracker.slow("Heartbeat", 0.001) is None for _ in range(30))
    assert tracker.slow("Heartbeat", SLOW_FLOOR_S / 2) is None  # under the floor
    assert tracker.slow("Heartbeat", SLOW_FLOOR_S + 0.5) is not None
    assert tracker.slow("Authorize", 100.0) is None  # no median yet
