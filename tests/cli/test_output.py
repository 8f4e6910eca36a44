"""How the CLI prints: tables on a pipe are not cut to 80 columns."""

from __future__ import annotations

import io
import json

import pytest
from ocpp16_cli.output import PIPE_WIDTH, JsonLines, make_console
from rich.table import Table


def test_a_table_written_to_a_pipe_keeps_its_headers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    console = make_console()
    assert not console.is_terminal
    assert console.width == PIPE_WIDTH
    table = Table()
    for header in ("Action", "Cases", "Passed", "Warnings", "Not tested", "Failed", "By kind"):
        table.add_column(header)
    table.add_row("DiagnosticsStatusNotification", "10", "10", "", "", "", "")
    console.print(table)
    printed = capsys.readouterr().out
    assert "Warnings" in printed
    assert "Not tested" in printed
    assert "…" not in printed


def test_columns_still_decides_when_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert make_console().width == 100


@pytest.mark.parametrize("text", ["\x9b31m", "\u202eevil", "\x7f", "\udfff", "\x1b[2J"])
def test_json_lines_hold_no_raw_terminal_controls(text: str) -> None:
    """serve --json and --trace: what a peer sent stays the same JSON value, escaped."""
    stream = io.StringIO()
    JsonLines(stream).write({"frame": ["é", text]})
    line = stream.getvalue()
    assert text not in line
    assert "é" in line  # readable text stays readable
    assert json.loads(line) == {"frame": ["é", text]}
