"""``ocpp16 check``: grade a central system with valid and deliberately invalid messages."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ocpp16_cli.exit_codes import ExitCode
from ocpp16_cli.main import app
from ocpp16_cli.options import Ca, Cert, Identity, Insecure, Key, MaxFrame, Password

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
        float, typer.Option(min=0.001, help="Seconds to wait to connect and for each answer.")
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
        typer.Option("--json", metavar="FILE", help="Write a JSON report.", dir_okay=False),
    ] = None,
    junit_report: Annotated[
        Path | None,
        typer.Option("--junit", metavar="FILE", help="Write a JUnit XML report.", dir_okay=False),
    ] = None,
) -> None:
    """Connect as a charge point, send valid and invalid messages, and grade every answer.

    Exit 0 when every case passed (code warnings allowed unless --strict-codes), 1 when some
    failed; 2 bad input, 3 no connection.
    """
    from ocpp16 import resolve_action
    from ocpp16.conformance.cases import build_cases
    from ocpp16.conformance.report import write_json, write_junit
    from ocpp16.conformance.runner import CheckOptions
    from ocpp16.limits import MAX_FRAME_BYTES
    from ocpp16.transport import endpoint
    from ocpp16_cli.output import make_console

    names = [resolve_action(n).name for n in (actions or "").split(",") if n.strip()]
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
    where = endpoint(url, identity)  # bad URL: one line, exit 2, before anything is sent
    cases = build_cases(list(names) or None, seed, options.cs_actions)
    console = make_console()
    report = _run_with_progress(options, cases, where.url, make_console(stderr=True))
    _print_report(console, report)
    if json_report is not None:
        write_json(report, json_report)
    if junit_report is not None:
        write_junit(report, junit_report)
    if not report.passed:
        raise typer.Exit(int(ExitCode.FAILURE))


def _run_with_progress(options: CheckOptions, cases: list[Case], url: str, err: Console) -> Report:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from ocpp16.conformance.runner import run_check

    columns = (
        TextColumn("[bold]checking"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[case]}", style="dim"),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task(url, total=len(cases), case="connecting")

        def advance(done: int, _total: int, outcome: Outcome) -> None:
            progress.update(task, completed=done, case=outcome.case.id)

        return run_check(options, cases, advance)


def _print_report(console: Console, report: Report) -> None:
    from rich.table import Table

    from ocpp16.conformance.grading import Grade

    table = Table(title=f"OCPP 1.6 conformance of {report.url}", title_justify="left")
    table.add_column("Action", style="bold", no_wrap=True)
    table.add_column("Cases", justify="right")
    table.add_column("Passed", justify="right", style="green")
    table.add_column("Warnings", justify="right", style="yellow")
    table.add_column("Failed", justify="right", style="red")
    table.add_column("Failures by kind")
    for action, grades in report.by_action().items():
        failed = Counter(
            {
                g: n
                for g, n in grades.items()
                if g is not Grade.PASS and g.failed(report.strict_codes)
            }
        )
        warned = 0 if report.strict_codes else grades[Grade.CODE_WARNING]
        table.add_row(
            action,
            str(sum(grades.values())),
            str(grades[Grade.PASS]),
            str(warned or ""),
            str(sum(failed.values()) or ""),
            ", ".join(f"{n} {g.value}" for g, n in failed.most_common()),
        )
    console.print(table)
    for outcome in report.warnings:
        console.print(f"[yellow]warning[/] {outcome.case.id}: {outcome.reason}", markup=True)
    for outcome in report.failures:
        console.print()
        console.print(f"[red]FAILED[/] {outcome.case.id} — {outcome.grade.value}: {outcome.reason}")
        console.print(f"  sent:   {outcome.case.text}", markup=False)
        answer = "(nothing)" if outcome.answer is None else json.dumps(outcome.answer)
        console.print(f"  answer: {answer}", markup=False)
    console.print()
    console.print(_summary(report), markup=False)


def _summary(report: Report) -> str:
    failures = Counter(o.grade.value for o in report.failures)
    kinds = ", ".join(f"{n} {g}" for g, n in failures.most_common())
    passed = sum(1 for o in report.outcomes if not report.failed(o)) - len(report.warnings)
    text = f"{len(report.outcomes)} cases: {passed} passed"
    if report.warnings:
        text += f", {len(report.warnings)} code warnings"
    text += f", {len(report.failures)} failed" + (f" ({kinds})" if kinds else "")
    text += f" in {report.elapsed_s:.1f} s"
    if report.reconnects:
        text += f"; reconnected {report.reconnects} time{'s' if report.reconnects > 1 else ''}"
    verdict = "PASS" if report.passed else "FAIL"
    return f"{verdict}: {text} (seed {report.seed})"
