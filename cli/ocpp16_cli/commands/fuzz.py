"""``ocpp16 fuzz``: throw mutated and malicious OCPP traffic at a central system."""

from __future__ import annotations

import sys
import threading
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer

from ocpp16_cli.exit_codes import ExitCode
from ocpp16_cli.main import app
from ocpp16_cli.options import Ca, Cert, Insecure, Key, Password, Timeout

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from ocpp16.fuzz.engine import FuzzOptions, FuzzReport, Live

__all__ = ["fuzz"]

#: Most connections in parallel.
MAX_CONNECTIONS: Final = 256
#: Seconds between progress lines when stderr is not a terminal.
_PLAIN_EVERY_S: Final = 5.0


@app.command()
def fuzz(
    url: Annotated[
        str,
        typer.Argument(
            help="Central system URL (ws, wss, http or https), ending with the identity prefix."
        ),
    ],
    *,
    identity: Annotated[
        str | None,
        typer.Option(
            "--id",
            metavar="PREFIX",
            help="Identity prefix: connections are PREFIX-0, PREFIX-1, ... (appended to the URL).",
            show_default=False,
        ),
    ] = None,
    password: Password = None,
    ca: Ca = None,
    cert: Cert = None,
    key: Key = None,
    insecure: Insecure = False,
    duration: Annotated[
        float | None,
        typer.Option(
            min=0.1, metavar="S", help="Seconds to fuzz (default 60 unless --cases is given)."
        ),
    ] = None,
    cases: Annotated[
        int | None, typer.Option(min=1, metavar="N", help="Cases to send, then stop.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed: the same seed, the same cases.")] = 0,
    actions: Annotated[
        str | None,
        typer.Option(
            metavar="A,B,...",
            help="Fuzz only these CP→CS actions (comma-separated); default all of them.",
            show_default=False,
        ),
    ] = None,
    connections: Annotated[
        int,
        typer.Option(
            min=1, max=MAX_CONNECTIONS, metavar="K", help="Connections in parallel, each booted."
        ),
    ] = 4,
    timeout: Timeout = 5.0,
    restart_cmd: Annotated[
        str | None,
        typer.Option(
            metavar="CMD",
            help="Start the target with CMD (no shell), restart it after each crash, stop it"
            " at the end.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="Save a reproducer file per finding in DIR."),
    ] = None,
    json_report: Annotated[
        Path | None, typer.Option("--json", metavar="FILE", help="Write a JSON report.")
    ] = None,
    junit_report: Annotated[
        Path | None, typer.Option("--junit", metavar="FILE", help="Write a JUnit XML report.")
    ] = None,
    minimize: Annotated[
        bool,
        typer.Option(help="Minimize crashes, hangs, stalls and drops by delta debugging."),
    ] = True,
) -> None:
    """Fuzz a central system: mutated CALLs, broken frames, odd sequences, security probes.

    Exit 0 when nothing was found, 1 with findings; 2 bad input, 3 the target cannot be
    reached at all, 130 interrupted (the reports are written all the same).
    """
    from ocpp16 import resolve_action
    from ocpp16.errors import InputError
    from ocpp16.fuzz.engine import FuzzInterrupted, FuzzOptions, Live, where_of
    from ocpp16_cli.reports import check_report_paths

    names = [resolve_action(n.strip()).name for n in (actions or "").split(",") if n.strip()]
    if actions is not None and not names:
        raise InputError("--actions: no action named; give a list such as Authorize,Heartbeat")
    for name in names:
        if not resolve_action(name).sender.charge_point_sends:
            raise InputError(f"--actions: {name} is sent by the central system, not fuzzed")
    check_report_paths(json_report, junit_report)
    if out is not None and out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: not a directory")
    if out is not None:
        # Made now, not when the first reproducer is saved after the run: a path that cannot
        # be made is bad input, not a traceback at the end.
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"--out {out}: cannot create: {exc.strerror or exc}") from None
    options = FuzzOptions(
        url=url,
        identity=identity,
        password=password,
        ca=None if ca is None else str(ca),
        cert=None if cert is None else str(cert),
        key=None if key is None else str(key),
        insecure=insecure,
        duration=duration if duration is not None or cases is not None else 60.0,
        cases=cases,
        seed=seed,
        actions=tuple(names),
        connections=connections,
        timeout=timeout,
        restart_cmd=restart_cmd,
        out=out,
        minimize=minimize,
    )
    where_of(
        url,
        identity,
        password,
        ca=options.ca,
        cert=options.cert,
        key=options.key,
        insecure=insecure,
    )  # fmt: skip  (bad URL or TLS files: exit 2 before anything)
    live = Live()
    try:
        report = _run_with_live(options, live)
        interrupted = False
    except FuzzInterrupted as stop:
        report, interrupted = stop.report, True
    from ocpp16.fuzz.report import json_text, junit_text, write_json, write_junit
    from ocpp16_cli.reports import is_stdout, write_reports

    written = write_reports(
        report, json_report, junit_report, (json_text, write_json), (junit_text, write_junit)
    )
    # A report on stdout is for a pipe (`--json - | jq`): the summary goes to stderr.
    _print_report(report, to_stderr=is_stdout(json_report) or is_stdout(junit_report))
    if interrupted:
        raise typer.Exit(130)
    if report.findings or not written:
        raise typer.Exit(int(ExitCode.FAILURE))


def _status(live: Live) -> str:
    found = ", ".join(f"{n} {o}" for o, n in live.findings.most_common()) or "none"
    rate = live.cases / live.elapsed if live.elapsed > 0 else 0.0
    text = f"{live.phase}: {live.cases:,} cases ({rate:,.0f}/s), {live.calls:,} frames"
    text += f", {live.connections} connections, findings: {found}"
    return text + (f", {live.restarts} restarts" if live.restarts else "")


def _run_with_live(options: FuzzOptions, live: Live) -> FuzzReport:
    from ocpp16.fuzz.engine import run_fuzz
    from ocpp16_cli.output import make_console

    err = make_console(stderr=True)
    live.connections = options.connections
    if not err.is_terminal:
        return _run_plain(options, live)
    from rich.live import Live as RichLive

    def view() -> RenderableType:
        from rich.text import Text

        return Text(_status(live), style="dim")

    with RichLive(get_renderable=view, console=err, refresh_per_second=4, transient=True):
        return run_fuzz(options, live)


def _run_plain(options: FuzzOptions, live: Live) -> FuzzReport:
    """A status line every few seconds on stderr, for logs and CI."""
    from ocpp16.fuzz.engine import run_fuzz

    done = threading.Event()

    def tick() -> None:
        while not done.wait(_PLAIN_EVERY_S):
            print(f"ocpp16 fuzz: {_status(live)}", file=sys.stderr, flush=True)

    ticker = threading.Thread(target=tick, name="fuzz status", daemon=True)
    ticker.start()
    try:
        return run_fuzz(options, live)
    finally:
        done.set()


def _print_report(report: FuzzReport, *, to_stderr: bool = False) -> None:
    from rich.table import Table
    from rich.text import Text

    from ocpp16._text import printable, shorten
    from ocpp16.fuzz.oracles import ORACLES
    from ocpp16_cli.output import make_console

    console: Console = make_console(stderr=to_stderr)
    counts = Counter(f.oracle for f in report.findings)
    cases = Counter[str]()
    for finding in report.findings:
        cases[finding.oracle] += finding.count
    table = Table(title=Text(f"ocpp16 fuzz of {printable(report.url)}"), title_justify="left")
    table.add_column("Oracle", style="bold", no_wrap=True)
    table.add_column("Findings", justify="right", style="red")
    table.add_column("Cases", justify="right")
    for oracle in ORACLES:
        table.add_row(oracle, str(counts[oracle] or ""), str(cases[oracle] or ""))
    console.print(table)
    for name, observed in report.probes:
        console.print(Text(f"probe {name}: {printable(shorten(observed))}", style="dim"))
    for finding in report.findings:
        where = " ".join(x for x in (finding.action, finding.kind, finding.path) if x)
        line = f" {printable(shorten(where))}: {printable(shorten(finding.observed))}"
        console.print(Text.assemble((finding.oracle.upper(), "red"), line))
        detail = f"   seed {finding.seed} case {finding.case}, {finding.count} case(s)"
        if finding.minimized:
            kept = sum(1 for c in finding.connections for f in c.frames if f[1] == "out")
            detail += f"; minimized to {kept} of {finding.original_frames} frames"
        if finding.file:
            detail += f"; {printable(finding.file)}"
        console.print(Text(detail))
    for error in report.internal_errors:
        console.print(Text(f"internal error of the fuzzer (please report): {printable(error)}"))
    console.print()
    if report.stopped:
        console.print(Text.assemble(("STOPPED", "red"), f" {printable(report.stopped)}"))
    verdict = "FOUND" if report.findings else "NOTHING FOUND"
    if report.interrupted:
        verdict = "INTERRUPTED"
    text = f"{verdict}: {len(report.findings)} finding(s) in {report.cases:,} cases"
    text += f" ({report.calls:,} frames, {report.cases_per_second:,.0f} cases/s)"
    text += f" in {report.elapsed_s:.1f} s"
    if report.restarts:
        text += f"; target restarted {report.restarts} time(s)"
    console.print(Text(f"{text} (seed {report.seed})"))
