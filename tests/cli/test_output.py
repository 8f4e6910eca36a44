"""How the CLI prints: tables on a pipe are not cut to 80 columns."""

from __future__ import annotations

import io
import json
import re

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


@pytest.mark.parametrize(
    "text",
    [
        '[2,"1","Authorize",{"idTag":"é\u2028\x7f\u202e"}]',
        '[2,\n "1" ,\r\n"DataTransfer",\t{"vendorId":"V","data":"a\\nb\\u0000"}]',
        '[3,"1",{}]',
    ],
    ids=["unsafe-in-strings", "line-breaks-between-tokens", "plain"],
)
def test_a_frame_record_written_from_the_wire_text_is_the_same_json(text: str) -> None:
    """serve --json writes the frame's own text into its record: one line, the same value."""
    frame = json.loads(text)
    record = {"time": "t", "identity": "CP", "direction": "in", "frame": frame, "verdict": "valid"}
    stream = io.StringIO()
    JsonLines(stream).write(record, text)
    line = stream.getvalue()
    assert line.count("\n") == 1 and line.endswith("\n")
    assert json.loads(line) == record
    assert list(json.loads(line)) == list(record)  # the keys keep their order
    for raw in ("\u2028", "\x7f", "\u202e"):
        assert raw not in line
    assert not re.search("[\x00-\x1f]", line[:-1])  # no raw control, a tab included


def test_a_stream_that_is_not_utf8_gets_the_record_escaped() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    record = {"time": "t", "frame": [2, "1", "Authorize", {"idTag": "é\udfff"}], "verdict": "ok"}
    JsonLines(stream).write(record, json.dumps(record["frame"], ensure_ascii=False))
    assert json.loads(raw.getvalue().decode("ascii")) == record
