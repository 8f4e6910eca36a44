"""Plan files (JSON and TOML): loading, every error with its path, and random sessions."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from ocpp16.station import PlanError, auto_sessions, load_plan, schedule_plan
from ocpp16.station.plan import PlanEvent
from tests.station.harness import booted

TOML_PLAN = """
[[events]]
at = 0
connector = 1
do = "plug_in"
id_tag = "TAG001"
energy_wh = 3000
max_power_w = 7400
soc = 35

[[events]]
at = 600
do = "offline"
seconds = 120

[[events]]
at = 3600
connector = 1
do = "unplug"
"""


def test_a_toml_plan_runs(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(TOML_PLAN)
    events = load_plan(path, connectors=2)
    assert [e.do for e in events] == ["plug_in", "offline", "unplug"]
    assert events[0] == PlanEvent(
        at=0, do="plug_in", connector=1, id_tag="TAG001", energy_wh=3000, max_power_w=7400, soc=0.35
    )
    run = booted()
    schedule_plan(run.station, events, run.now)
    run.until(4000)
    assert [r.reason for r in run.reconnects] == ["plan"]
    stop = run.cs.of("StopTransaction")
    start = run.cs.of("StartTransaction")
    assert len(start) == len(stop) == 1
    assert stop[0]["meterStop"] - start[0]["meterStart"] == 3000
    assert stop[0]["reason"] == "EVDisconnected"


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({"at": 0, "connector": 1}, "$.events[0].do: expected one of plug_in"),
        (
            {"at": -1, "connector": 1, "do": "unplug"},
            "$.events[0].at: expected a number at least 0",
        ),
        ({"connector": 1, "do": "unplug"}, "$.events[0].at: missing"),
        (
            {"at": 0, "connector": 3, "do": "unplug"},
            "$.events[0].connector: expected a connector from 1 to 2, got 3",
        ),
        (
            {"at": 0, "connector": 0, "do": "plug_in"},
            "$.events[0].connector: expected a connector from 1 to 2",
        ),
        (
            {"at": 0, "connector": 1, "do": "plug_in", "energy_wh": "lots"},
            '$.events[0].energy_wh: expected a number, got "lots"',
        ),
        (
            {"at": 0, "connector": 1, "do": "plug_in", "energy_wh": 0},
            "$.events[0].energy_wh: expected a number above 0",
        ),
        (
            {"at": 0, "connector": 1, "do": "plug_in", "soc": 120},
            "$.events[0].soc: expected a number up to 100",
        ),
        (
            {"at": 0, "connector": 1, "do": "plug_in", "id_tag": "X" * 21},
            "$.events[0].id_tag: expected a text of 1 to 20",
        ),
        ({"at": 0, "connector": 1, "do": "present"}, "$.events[0].id_tag: missing"),
        (
            {"at": 0, "connector": 1, "do": "unplug", "colour": "red"},
            "$.events[0].colour: not a field of unplug",
        ),
        (
            {"at": 0, "connector": 1, "do": "fault", "error_code": "NoError"},
            "$.events[0].error_code: expected a ChargePointErrorCode",
        ),
        ({"at": 0, "do": "offline"}, "$.events[0].seconds: missing"),
        (
            {"at": 0, "do": "offline", "seconds": 5, "connector": 1},
            "$.events[0].connector: not a field of offline",
        ),
        ("unplug", "$.events[0]: expected an object"),
    ],
)
def test_plan_errors_name_their_path(tmp_path: Path, event: Any, problem: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"events": [event]}))
    with pytest.raises(PlanError) as caught:
        load_plan(path, connectors=2)
    assert str(caught.value).startswith(f"{path}: {problem}")
    assert all("\n" not in line for line in caught.value.problems)


def test_every_problem_is_listed_one_per_line(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    events = [{"at": "soon", "connector": 1, "do": "unplug"}, {"at": 1, "do": "dance"}]
    path.write_text(json.dumps({"events": events}))
    with pytest.raises(PlanError) as caught:
        load_plan(path, connectors=1)
    assert str(caught.value).splitlines() == [
        f'{path}: $.events[0].at: expected a number, got "soon"',
        f"{path}: $.events[1].do: expected one of plug_in, present, unplug, stop, fault, "
        f'recover, offline, got "dance"',
    ]


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        (
            "plan.json",
            '{"events": [\n  {"at": 0,}\n]}',
            "not valid JSON: Expecting property name enclosed in double quotes at line 2 column 12",
        ),
        ("plan.toml", "[[events]\nat = 0", "not valid TOML"),
        ("plan.json", '{"steps": []}', "$: expected an object with one key, events"),
        ("plan.json", '{"events": {}}', "$.events: expected a list of events"),
    ],
)
def test_unreadable_plans(tmp_path: Path, name: str, text: str, problem: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(
        PlanError, match="^" + f"{path}: {problem}".replace("$", r"\$").replace("[", r"\[")
    ):
        load_plan(path, connectors=1)


def test_a_missing_plan_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(tmp_path / "nope.toml", connectors=1)
    assert str(caught.value) == f"{tmp_path / 'nope.toml'}: cannot read: No such file or directory"


def test_auto_sessions_are_plausible_and_repeatable() -> None:
    tags = ["TAG1", "TAG2", "TAG3"]
    events = auto_sessions(random.Random(7), connectors=2, duration_s=8 * 3600, id_tags=tags)
    assert events == auto_sessions(
        random.Random(7), connectors=2, duration_s=8 * 3600, id_tags=tags
    )
    assert events != auto_sessions(
        random.Random(8), connectors=2, duration_s=8 * 3600, id_tags=tags
    )
    for connector in (1, 2):
        mine = [e for e in events if e.connector == connector]
        assert [e.do for e in mine] == ["plug_in", "unplug"] * (len(mine) // 2)  # never overlap
        assert len(mine) >= 2
    for event in events:
        if event.do == "plug_in":
            assert event.id_tag in tags and 5_000 <= event.energy_wh <= 40_000
    run = booted()
    schedule_plan(run.station, events, run.now)
    run.until(12 * 3600)
    starts, stops = run.cs.of("StartTransaction"), run.cs.of("StopTransaction")
    assert len(starts) == len(stops) == len(events) // 2
    assert not [
        e for e in run.station.drain_events() if e.kind in ("illegal-transition", "ignored")
    ]
