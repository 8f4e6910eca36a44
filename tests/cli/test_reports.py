"""Report paths of check and fuzz: checked before a run, ``-`` for stdout, one writer."""

from __future__ import annotations

from pathlib import Path

import pytest
from ocpp16_cli.reports import check_report_paths, write_reports

from ocpp16.errors import InputError


@pytest.mark.parametrize(
    ("json_path", "junit_path", "message"),
    [
        ("missing-dir/r.json", None, "no such directory"),
        (".", None, "is a directory"),
        ("-", "-", "both name stdout"),
        ("r.xml", "r.xml", "name the same file"),
    ],
)
def test_bad_report_paths_are_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    json_path: str,
    junit_path: str | None,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=message):
        check_report_paths(Path(json_path), None if junit_path is None else Path(junit_path))


def test_reports_go_to_files_and_dash_to_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def text(report: str) -> str:
        return f"<{report}>\n"

    def write(report: str, path: Path) -> None:
        path.write_text(text(report), encoding="utf-8")

    check_report_paths(Path("-"), tmp_path / "r.xml")
    assert write_reports("R", Path("-"), tmp_path / "r.xml", (text, write), (text, write))
    assert capsys.readouterr().out == "<R>\n"
    assert (tmp_path / "r.xml").read_text(encoding="utf-8") == "<R>\n"


def test_a_report_that_cannot_be_written_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def text(report: str) -> str:
        return report

    def write(report: str, path: Path) -> None:
        raise PermissionError(13, "Permission denied")

    assert not write_reports("R", tmp_path / "r.json", None, (text, write), (text, write))
    assert (
        capsys.readouterr().err
        == f"ocpp16: error: cannot write {tmp_path / 'r.json'}: Permission denied\n"
    )
