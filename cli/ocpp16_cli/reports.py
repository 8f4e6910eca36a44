"""Report files of ``check``, ``fuzz`` and ``load``: paths checked before a run, written after.

A path is checked before anything is sent (a missing directory, a directory, a file that cannot
be written: one line and exit 2, not a traceback after the run); ``-`` means standard output, for
one of the reports at most. At the end the reports are written before anything else is printed,
and a failure to write one is one line on stderr.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import typer

__all__ = ["check_report_paths", "is_stdout", "write_reports"]

R = TypeVar("R")

#: How a report is written: its text (for ``-``) and its writer to a file.
Form = tuple[Callable[[R], str], Callable[[R, Path], None]]


def is_stdout(path: Path | None) -> bool:
    """Whether a report path is ``-``: standard output, as for most Unix tools."""
    return path is not None and str(path) == "-"


def check_report_paths(
    json_path: Path | None, junit_path: Path | None, other: str = "--junit"
) -> None:
    """InputError (one line, exit 2) for report paths that cannot be written or collide;
    ``other`` is the option of the second report (``--html`` for ``load``)."""
    from ocpp16.errors import InputError

    for option, path in (("--json", json_path), (other, junit_path)):
        if path is not None and not is_stdout(path):
            _check_writable(option, path)
    if json_path is None or junit_path is None:
        return
    if is_stdout(json_path) and is_stdout(junit_path):
        raise InputError(f"--json and {other} both name stdout (-): give a file to one")
    files = not is_stdout(json_path) and not is_stdout(junit_path)
    if files and json_path.resolve() == junit_path.resolve():
        raise InputError(f"--json and {other} name the same file {json_path}: give two")


def _check_writable(option: str, path: Path) -> None:
    from ocpp16.errors import InputError

    folder = path.parent
    if path.is_dir():
        raise InputError(f"{option} {path}: is a directory")
    if not folder.is_dir():
        raise InputError(f"{option} {path}: no such directory {folder}")
    if not os.access(path if path.exists() else folder, os.W_OK):
        raise InputError(f"{option} {path}: not writable")


def write_reports(
    report: R,
    json_path: Path | None,
    junit_path: Path | None,
    json_form: Form[R],
    junit_form: Form[R],
) -> bool:
    """Write the reports asked for; False when one could not be written (said on stderr)."""
    ok = True
    for path, (text, write) in ((json_path, json_form), (junit_path, junit_form)):
        if path is None:
            continue
        if is_stdout(path):
            typer.echo(text(report), nl=False)
            continue
        try:
            write(report, path)
        except OSError as exc:
            typer.echo(f"ocpp16: error: cannot write {path}: {exc.strerror or exc}", err=True)
            ok = False
    return ok
