"""``ocpp16 check``: grade a central system with valid and deliberately invalid messages."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ocpp16_cli.exit_codes import ExitCode
from ocpp16_cli.main import app
from ocpp16_cli.options import (
    MAX_TIMEOUT,
    MIN_TIMEOUT,
    Ca,
    Cert,
    Identity,
    Insecure,
    Key,
    MaxFrame,
    Password,
    complete_actions,
)

if TYPE_CHECKING:
    from rich.console import Console

    from ocpp16.conformance.cases import Case
    from ocpp16.conformance.grading import Outcome
    from ocpp16.conformance.report import Report
    from ocpp16.conformance.runner import CheckOptions

__all__ = ["check"]


@app.command()
def check(
    url: Annotated[
        str,
        typer.Argument(
            help="Central system URL (ws, wss, http or https), ending with the identity."
        ),
    ],
    *,
    identity: Identity = None,
    password: Password = None,
    ca: Ca = None,
    cert: Cert = None,
    key: Key = None,
    insecure: Insecure = False,
    max_frame: MaxFrame = None,
    actions: Annotated[
        str | None,
        typer.Option(
            metavar="A,B,...",
            help="Check only these actions (comma-separated); default every CP→CS action.",
            show_default=False,
            autocompletion=complete_actions,
        ),
    ] = None,
    cs_actions: Annotated[
        bool,
        typer.Option("--cs-actions", help="Also send the CS→CP actions, which a CS should refuse."),
    ] = False,
    seed: Annotated[
        int, typer.Option(help="Seed of the cases: the same seed, the same cases.")
    ] = 0,
    timeout: Annotated[
        float,
        typer.Option(
            min=MIN_TIMEOUT,
            max=MAX_TIMEOUT,
            help="Seconds to wait to connect and for each answer.",
        ),
    ] = 5.0,
    strict_codes: Annotated[
        bool,
        typer.Option(
            "--strict-codes",
            help="Fail a refusal whose error code does not fit, instead of warning.",
        ),
    ] = False,
    json_report: Annotated[
        Path | None,
        typer.Option(
            "--json",
            metavar="FILE",
            help="Write a JSON report ('-': to stdout, the rest of the output to stderr).",
        ),
    ] = None,
    junit_report: Annotated[
        Path | None,
        typer.Option(
            "--junit",
            metavar="FILE",
            help="Write a JUnit XML report ('-': to stdout, the rest of the output to stderr).",
        ),
    ] = None,
) -> None:
    """Connect as a charge point, send valid and invalid messages, and grade every answer.

    Exit 0 when every case passed (warnings allowed; code warnings fail with --strict-codes),
    1 when some failed or the central system stopped answering; 2 bad input, 3 no connection,
    130 interrupted (the reports are written all the same, marked incomplete).
    """
    from ocpp16 import resolve_action
    from ocpp16.conformance.cases import build_cases
    from ocpp16.conformance.runner import CheckInterrupted, CheckOptions
    from ocpp16.errors import InputError
    from ocpp16.limits import MAX_FRAME_BYTES
    from ocpp16.transport import endpoint
    from ocpp16_cli.output import make_console
    from ocpp16_cli.reports import check_report_paths, is_stdout, write_reports

    names = [resolve_action(n.strip()).name for n in (actions or "").split(",") if n.strip()]
    if actions is not None and not names:
        raise InputError("--actions: no action named; give a list such as Authorize,Heartbeat")
    # A CS→CP action named in --actions means: check that it is refused.
    cs_named = any(not resolve_action(n).sender.charge_point_sends for n in names)
    options = CheckOptions(
        url=url,
        identity=identity,
        password=password,
        ca=None if ca is None else str(ca),
        cert=None if cert is None else str(cert),
        key=None if key is None else str(key),
        insecure=insecure,
        timeout=timeout,
        max_frame=MAX_FRAME_BYTES if max_frame is None else max_frame,
        seed=seed,
        actions=tuple(names),
        cs_actions=cs_actions or cs_named,
        strict_codes=strict_codes,
    )
    check_report_paths(json_report, junit_report)  # bad input: one line, before anything is sent
    where = endpoint(url, identity)
    cases = build_cases(list(names) or None, seed, options.cs_actions)
    # A report on stdout is for a pipe (`--json - | jq`): the table and summary go to stderr.
    console = make_console(stderr=is_stdout(json_report) or is_stdout(junit_report))
    try:
        report = _run_with_progress(options, cases, where.url, make_console(stderr=True))
    except CheckInterrupted as interrupted:
        report = interrupted.report
    from ocpp16.conformance.report import json_text, junit_text, write_json, write_junit

    written = write_reports(
        report, json_report, junit_report, (json_text, write_json), (junit_text, write_junit)
    )
    _print_report(console, report)
    if report.interrupted:
        raise typer.Exit(130)
    if not report.passed or not written:
        raise typer.Exit(int(ExitCode.FAILURE))


def _run_with_progress(options: CheckOptions, cases: list[Case], url: str, err: Console) -> Report:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from ocpp16.conformance.runner import run_check

    if not err.is_terminal:
        # On a pipe or in a CI log a bar cannot redraw: rich would leave a blank line before an
        # error and the finished bar's line among the results.
        return run_check(options, cases)
    columns = (
        TextColumn("[bold]checking"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[case]}", style="dim", markup=False),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("check", total=len(cases), case="connecting")

        def advance(done: int, _total: int, outcome: Outcome) -> None:
            progress.update(task, completed=done, case=outcome.case.id)

        return run_check(options, cases, advance)


def _print_report(console: Console, report: Report) -> None:
    from rich.table import Table
    from rich.text import Text

    from ocpp16._text import printable, shorten
    from ocpp16.conformance.grading import Grade
    from ocpp16.limits import MAX_PRINTED_FRAME_BYTES
    from ocpp16.transport import safe_url

    def frame(text: str) -> str:
        return printable(shorten(text, MAX_PRINTED_FRAME_BYTES))

    table = Table(
        title=Text(f"OCPP 1.6 conformance of {safe_url(report.url)}"), title_justify="left"
    )
    table.add_column("Action", style="bold", no_wrap=True)
    table.add_column("Cases", justify="right")
    table.add_column("Passed", justify="right", style="green")
    table.add_column("Warnings", justify="right", style="yellow")
    table.add_column("Not tested", justify="right", style="dim")
    table.add_column("Failed", justify="right", style="red")
    table.add_column("Failures by kind")
    for action, grades in report.by_action().items():
        failed = Counter({g: n for g, n in grades.items() if g.failed(report.strict_codes)})
        warned = sum(n for g, n in grades.items() if g.warned(report.strict_codes))
        table.add_row(
            action,
            str(sum(grades.values())),
            str(grades[Grade.PASS]),
            str(warned or ""),
            str(grades[Grade.NOT_TESTED] or ""),
            str(sum(failed.values()) or ""),
            ", ".join(f"{n} {g.value}" for g, n in failed.most_common()),
        )
    console.print(table)
    # Reasons quote the peer: printed as plain Text, never read as markup.
    for outcome in report.warnings:
        line = f" {outcome.case.id}: {outcome.reason}"
        console.print(Text.assemble(("warning", "yellow"), line))
    for outcome in report.not_tested:
        why = outcome.reason.removeprefix("not tested: ")
        console.print(Text.assemble(("not tested", "dim"), f" {outcome.case.id}: {why}"))
    for outcome in report.failures:
        console.print()
        line = f" {outcome.case.id} — {outcome.grade.value}: {outcome.reason}"
        console.print(Text.assemble(("FAILED", "red"), line))
        console.print(Text(f"  sent:   {frame(outcome.sent_text)}"))
        answer = "(nothing)" if outcome.answer is None else json.dumps(outcome.answer)
        console.print(Text(f"  answer: {frame(answer)}"))
    console.print()
    if report.stopped:
        console.print(Text.assemble(("STOPPED", "red"), f" {report.stopped}"))
    console.print(Text(_summary(report)))


def _summary(report: Report) -> str:
    failures = Counter(o.grade.value for o in report.failures)
    kinds = ", ".join(f"{n} {g}" for g, n in failures.most_common())
    warnings, not_tested = len(report.warnings), len(report.not_tested)
    passed = len(report.outcomes) - len(report.failures) - warnings - not_tested
    text = f"{len(report.outcomes)} cases: {passed} passed"
    if warnings:
        text += f", {warnings} warning{'s' if warnings > 1 else ''}"
    if not_tested:
        text += f", {not_tested} not tested"
    text += f", {len(report.failures)} failed" + (f" ({kinds})" if kinds else "")
    text += f" in {report.elapsed_s:.1f} s"
    if report.reconnects:
        text += f"; reconnected {report.reconnects} time{'s' if report.reconnects > 1 else ''}"
    if not report.complete:
        text += f"; {report.planned - len(report.outcomes)} of {report.planned} cases not run"
    verdict = "PASS" if report.passed else "FAIL"
    if report.interrupted:
        verdict = "INTERRUPTED"
    return f"{verdict}: {text} (seed {report.seed})"
