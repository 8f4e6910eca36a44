"""``ocpp16 load``: thousands of simulated charge points against one central system.

The command only parses and prints: the fleet is :class:`ocpp16.load.Fleet`, each charge point
an :class:`ocpp16.sim.SimulatedChargePoint`. Everything given is checked before connecting (the
URL, numbers, the plan, the open-files limit, that --html can be drawn, that report files can be
written), so bad input sends nothing. Output: a live view on a terminal, a plain line every
few seconds otherwise, then the report's tables; ``--json`` and ``--html`` write the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from ocpp16_cli.main import app
from ocpp16_cli.options import (
    Ca,
    Cert,
    Connectors,
    Insecure,
    Key,
    MaxFrame,
    Password,
    PlanFile,
    Sessions,
    Speed,
    Timeout,
)

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

    from ocpp16.load import Fleet
    from ocpp16.load.stats import Row
    from ocpp16.station import PlanEvent

__all__ = ["load"]

#: Seconds between plain progress lines (not on a terminal).
_PLAIN_EVERY: Final = 5
#: Problems printed under the summary; the reports list more.
_PROBLEMS_SHOWN: Final = 10


@app.command()
def load(
    url: Annotated[
        str,
        typer.Argument(
            help="Central system URL (ws, wss, http or https) without the identity: each charge"
            " point appends its own.",
            show_default=False,
        ),
    ],
    *,
    cps: Annotated[
        int, typer.Option("--cps", min=1, help="Charge points to simulate.", show_default=False)
    ],
    ramp: Annotated[
        float, typer.Option(min=0.001, metavar="R", help="Charge points connecting per second.")
    ] = 100.0,
    duration: Annotated[
        float, typer.Option(min=0.001, metavar="S", help="Seconds (wall time) the run lasts.")
    ] = 60.0,
    id_prefix: Annotated[
        str, typer.Option(metavar="PREFIX", help="Identities are PREFIX00001, PREFIX00002, ...")
    ] = "CP",
    connectors: Connectors = 2,
    sessions: Sessions = None,
    plan: PlanFile = None,
    heartbeat: Annotated[
        int | None,
        typer.Option(
            metavar="S",
            help="HeartbeatInterval of every station, kept over the boot answer's interval.",
            show_default=False,
        ),
    ] = None,
    meter_interval: Annotated[
        int | None,
        typer.Option(
            metavar="S",
            help="MeterValueSampleInterval of every station (seconds; 0: none).",
            show_default=False,
        ),
    ] = None,
    speed: Speed = 1.0,
    seed: Annotated[
        int | None, typer.Option(help="Seed for repeatable sessions.", show_default=False)
    ] = None,
    password: Password = None,
    ca: Ca = None,
    cert: Cert = None,
    key: Key = None,
    insecure: Insecure = False,
    max_frame: MaxFrame = None,
    timeout: Timeout = 30.0,
    json_file: Annotated[
        Path | None,
        typer.Option(
            "--json", metavar="FILE", help="Write the report as JSON.", show_default=False
        ),
    ] = None,
    html_file: Annotated[
        Path | None,
        typer.Option(
            "--html",
            metavar="FILE",
            # Rich markup would take "[report]" for a style and drop it: escaped.
            help="Write a self-contained HTML page with charts (extra ocpp16\\[report]).",
            show_default=False,
        ),
    ] = None,
    storm: Annotated[
        bool,
        typer.Option(
            "--storm", help="Cut every connection at once mid-run; all reconnect at once."
        ),
    ] = False,
    storm_at: Annotated[
        float | None,
        typer.Option(
            metavar="S", help="When the storm comes (default: mid-run).", show_default=False
        ),
    ] = None,
    blackout: Annotated[
        float | None,
        typer.Option(
            metavar="S",
            help="The network is gone for S seconds (from mid-run): transaction messages queue,"
            " then everyone reconnects with backoff.",
            show_default=False,
        ),
    ] = None,
    blackout_at: Annotated[
        float | None,
        typer.Option(metavar="S", help="When the blackout starts.", show_default=False),
    ] = None,
) -> None:
    """Run thousands of simulated charge points against a central system and measure it.

    Exit codes: 0 every call answered with a valid CALLRESULT, 1 otherwise, 2 bad input, 3 no
    charge point could connect, 130 interrupted (the report is still written, marked
    incomplete).
    """
    from ocpp16.errors import InputError
    from ocpp16.limits import MAX_FRAME_BYTES
    from ocpp16.load import Fleet, LoadConfig
    from ocpp16.server import raise_open_files_limit
    from ocpp16.station import PlanError, load_plan
    from ocpp16.transport import tls_context
    from ocpp16_cli.reports import check_report_paths, is_stdout

    if html_file is not None:
        from ocpp16.load.html import require

        require()
    check_report_paths(json_file, html_file, "--html")  # before the run, not after it
    if sessions is not None and sessions != "auto":
        raise InputError(f"--sessions: expected auto, got {sessions[:50]!r}")
    if blackout_at is not None and blackout is None:
        raise InputError("--blackout-at needs --blackout S")
    events: tuple[PlanEvent, ...] = ()
    if plan is not None:
        try:
            events = tuple(load_plan(plan, connectors))
        except PlanError as exc:
            more = f" (and {len(exc.problems) - 1} more problems)" if len(exc.problems) > 1 else ""
            raise InputError(f"{exc.problems[0]}{more}") from None
    tls = None
    if ca is not None or cert is not None or key is not None or insecure:
        tls = tls_context(_path(ca), _path(cert), _path(key), insecure)
    config = LoadConfig(
        url,
        cps,
        ramp=ramp,
        duration=duration,
        id_prefix=id_prefix,
        connectors=connectors,
        sessions=sessions == "auto",
        plan=events,
        heartbeat=heartbeat,
        meter_interval=meter_interval,
        speed=speed,
        password=password,
        tls=tls,
        timeout=timeout,
        max_frame=MAX_FRAME_BYTES if max_frame is None else max_frame,
        storm_at=(duration / 2 if storm_at is None else storm_at) if storm or storm_at else None,
        blackout=blackout,
        blackout_at=blackout_at,
        seed=seed,
    )
    config.check(open_files=raise_open_files_limit())
    # A report on stdout is for a pipe (`--json - | jq`): everything else goes to stderr.
    view = _View(stderr=is_stdout(json_file) or is_stdout(html_file))
    fleet = Fleet(config, on_tick=view.tick, pace_gc=True)
    view.fleet = fleet
    _run(fleet, view)
    from ocpp16.load import build_report

    report = build_report(fleet)
    written = _write_reports(report, json_file, html_file)
    view.summary(report)
    if fleet.interrupted:
        raise typer.Exit(130)
    if not report["ok"] or not written:
        raise typer.Exit(1)


def _write_reports(report: dict[str, Any], json_file: Path | None, html_file: Path | None) -> bool:
    """Write the reports asked for; False when one could not be (said in one line on stderr,
    and the run's summary is still printed: a full run is not lost to a full disk)."""
    from ocpp16.load.html import render, write_html
    from ocpp16.load.report import json_text, write_json
    from ocpp16_cli.reports import write_reports

    return write_reports(
        report, json_file, html_file, (json_text, write_json), (render, write_html)
    )


def _run(fleet: Fleet, view: _View) -> None:
    """Run until the end; Ctrl-C stops the fleet cleanly (every connection closes)."""
    import asyncio
    import contextlib
    import signal

    async def main() -> None:
        loop = asyncio.get_running_loop()
        # Not on Windows, nor off the main thread: Ctrl-C then raises KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGINT, fleet.stop)
        with view.live():
            await fleet.run()

    asyncio.run(main())


def _path(value: Path | None) -> str | None:
    return None if value is None else str(value)


def _errors_text(errors: dict[str, int], failures: dict[str, int]) -> str:
    parts = [f"{kind} {count}" for kind, count in errors.items()]
    if failures:
        parts.append(f"connect {sum(failures.values())}")
    return ", ".join(parts) or "none"


class _View:
    """The live view on a terminal, plain progress lines otherwise, and the final tables."""

    def __init__(self, stderr: bool = False) -> None:
        from ocpp16_cli.output import make_console

        self.console: Console = make_console(stderr=stderr)
        self.is_live = self.console.is_terminal
        if not self.is_live:
            self.console.width = 150  # a file or pipe: the tables' columns whole
        self.fleet: Fleet | None = None
        self.last: Row | None = None
        self.next_plain = float(_PLAIN_EVERY)
        self.display: Live | None = None

    def live(self) -> Any:
        import contextlib

        if not self.is_live:
            return contextlib.nullcontext()
        from rich.live import Live

        # Refreshed from the event loop once a second (tick): no thread reads the fleet.
        self.display = Live(get_renderable=self._render, console=self.console, auto_refresh=False)
        return self.display

    def tick(self, row: Row) -> None:
        self.last = row
        if self.display is not None:
            self.display.refresh()
            return
        if self.fleet is None or row.t < self.next_plain:
            return
        self.next_plain = (row.t // _PLAIN_EVERY + 1) * _PLAIN_EVERY
        self.console.print(self._line(), highlight=False, markup=False)

    def _figures(self) -> tuple[str, str, str, str, str]:
        fleet = self.fleet
        assert fleet is not None
        row = self.last
        per_s = f"{row.calls / row.step:,.0f}" if row else "0"
        p50 = f"{row.latency.percentile(50) / 1000:.1f}" if row else "-"
        p99 = f"{row.latency.percentile(99) / 1000:.1f}" if row else "-"
        connected = f"{row.connected:,} of {fleet.config.cps:,}" if row else "0"
        errors = _errors_text(fleet.stats.errors, fleet.stats.connections.failures)
        return connected, per_s, p50, p99, errors

    def _line(self) -> str:
        assert self.fleet is not None
        connected, per_s, p50, p99, errors = self._figures()
        left = self.fleet.time_left()
        return (
            f"{self.last.t if self.last else 0:>5.0f} s  connected {connected}  {per_s} calls/s"
            f"  p50 {p50} ms  p99 {p99} ms  errors: {errors}  {left:.0f} s left"
        )

    def _render(self) -> RenderableType:
        from rich.table import Table

        if self.fleet is None:
            return Table()
        connected, per_s, p50, p99, errors = self._figures()
        table = Table(title="ocpp16 load", title_justify="left", show_header=False)
        table.add_column("what")
        table.add_column("value")
        table.add_row("connected", connected)
        table.add_row("calls per second", per_s)
        table.add_row("latency p50 / p99", f"{p50} / {p99} ms")
        table.add_row("calls", f"{self.fleet.stats.calls:,}")
        table.add_row("errors", errors)
        table.add_row("time left", f"{self.fleet.time_left():.0f} s")
        return table

    def summary(self, report: dict[str, Any]) -> None:
        from rich.table import Table
        from rich.text import Text

        from ocpp16_cli.output import safe_text

        table = Table(title="Calls per action", title_justify="left")
        columns = ("action", "calls", "ok", "CALLERRORs", "invalid", "timeouts", "closed")
        for column in (*columns, "p50 ms", "p90 ms", "p99 ms", "max ms"):
            table.add_column(column, justify="left" if column == "action" else "right")
        for name, action in report["actions"].items():
            codes = ", ".join(f"{code} {n}" for code, n in action["callerrors"].items())
            latency = action["latency_ms"]
            table.add_row(
                name,
                f"{action['calls']:,}",
                f"{action['ok']:,}",
                safe_text(self.console, codes or "0", one_line=True),
                str(action["invalid"] + action["malformed"]),
                str(action["timeouts"]),
                str(action["closed"]),
                *(f"{latency[p]:.1f}" for p in ("p50", "p90", "p99", "max")),
            )
        self.console.print(table)
        points = report["charge_points"]
        calls = report["calls"]
        connections = report["connections"]
        ttc = connections["time_to_connect_ms"]
        failures = ", ".join(f"{cause} {n}" for cause, n in connections["failures"].items())
        ended = ", ".join(f"{how} {n}" for how, n in connections["ended"].items())
        lines = [
            f"charge points: {points['started']:,} of {points['planned']:,} started,"
            f" {points['ever_connected']:,} connected, {points['booted']:,} booted,"
            f" {points['connected_at_end']:,} connected at the end",
            f"calls: {calls['calls']:,} in {report['duration_s']:.1f} s ({calls['per_s']:,.1f}/s),"
            f" {calls['ok']:,} answered validly; latency p50 {calls['latency_ms']['p50']:.1f} ms,"
            f" p99 {calls['latency_ms']['p99']:.1f} ms, max {calls['latency_ms']['max']:.1f} ms",
            f"connections: {connections['opened']:,} opened of {connections['attempts']:,}"
            f" attempts, {connections['reconnects']:,} reconnects, time to connect p50"
            f" {ttc['p50']:.1f} ms, p99 {ttc['p99']:.1f} ms; failures: {failures or 'none'};"
            f" ended: {ended or 'none'}",
        ]
        if report["patterns"]["cut"]:
            lines.append(f"patterns: {report['patterns']['cut']:,} connections cut on purpose")
        problems = report["problems"]
        lines.extend(f"  {problem}" for problem in problems[:_PROBLEMS_SHOWN])
        if len(problems) > _PROBLEMS_SHOWN:
            more = len(problems) - _PROBLEMS_SHOWN
            lines.append(f"  ... and {more:,} more listed in the --json and --html reports")
        state = "complete" if report["complete"] else "interrupted: incomplete"
        lines.append(f"ocpp16 load: {state}; {report['verdict']}")
        for line in lines:
            self.console.print(Text(safe_text(self.console, line)))
