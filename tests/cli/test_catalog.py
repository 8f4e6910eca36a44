"""``ocpp16 list``, ``ocpp16 schema`` and ``ocpp16 random``: the messages, no network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ocpp16_cli.exit_codes import ExitCode
from ocpp16_cli.main import app
from typer.testing import CliRunner, Result

from ocpp16 import ACTIONS
from tests.oracle import official_schema, official_validator

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_list_shows_every_action_and_its_sender() -> None:
    result = run("list")
    assert result.exit_code == 0, result.output
    assert "OCPP 1.6 actions" in result.stdout
    for name, action in ACTIONS.items():
        assert name in result.stdout
        assert action.summary[:20] in result.stdout


def test_list_on_a_pipe_keeps_each_summary_on_its_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    rows = [line for line in run("list").stdout.splitlines() if line.startswith("│")]
    assert len(rows) == len(ACTIONS)  # none wrapped onto a second line
    for row, action in zip(rows, ACTIONS.values(), strict=True):
        assert action.summary in row


def test_list_as_json() -> None:
    result = run("list", "--json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["action"] for row in rows] == list(ACTIONS) == sorted(ACTIONS)
    senders = {row["action"]: row["sender"] for row in rows}
    assert senders["BootNotification"] == "cp"
    assert senders["Reset"] == "cs"
    assert senders["DataTransfer"] == "both"
    assert sum(1 for s in senders.values() if s in ("cp", "both")) == 10
    assert sum(1 for s in senders.values() if s in ("cs", "both")) == 19


@pytest.mark.parametrize("response", [False, True], ids=["request", "response"])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_schema_prints_the_schema_file(action: str, response: bool) -> None:
    result = run("schema", action.lower(), *(["--response"] if response else []))
    assert result.exit_code == 0, result.output
    name = f"{action}{'Response' if response else ''}.json"
    assert result.stdout == (SCHEMAS / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("command", ["schema", "random"])
def test_unknown_action_suggests_the_closest(command: str) -> None:
    result = run(command, "Heartbeet")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == "ocpp16: error: unknown action 'Heartbeet'; did you mean Heartbeat?\n"
    assert result.stdout == ""


@pytest.mark.parametrize("full", [False, True], ids=["required", "full"])
@pytest.mark.parametrize("response", [False, True], ids=["request", "response"])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_random_payloads_are_valid_for_the_official_schema(
    action: str, response: bool, full: bool
) -> None:
    flags = [*(["--response"] if response else []), *(["--full"] if full else [])]
    result = run("random", f"{action}Request" if not response else action, *flags)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    official_validator(action, response).validate(payload)
    schema = official_schema(action, response)
    expected = set(schema.get("properties", {})) if full else set(schema.get("required", []))
    assert set(payload) == expected


def test_random_with_a_seed_repeats() -> None:
    first = run("random", "MeterValues", "--full", "--seed", "5")
    again = run("random", "MeterValues", "--full", "--seed", "5")
    other = run("random", "MeterValues", "--full", "--seed", "6")
    assert first.exit_code == again.exit_code == other.exit_code == 0
    assert first.stdout == again.stdout != other.stdout
    assert first.stdout.startswith("{\n  ")  # indented JSON
