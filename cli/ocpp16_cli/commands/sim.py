"""``ocpp16 sim``: a simulated charge point behaving like a real one, until Ctrl-C or --duration.

The command only parses and prints: the charge point is :class:`ocpp16.sim.SimulatedChargePoint`.
Everything given is checked before connecting (URL, --config keys and values, the plan file), so
bad input sends nothing. Output: a live view on a terminal, one plain line per frame and per
station event otherwise, or with ``--json`` one JSON object per line (frames carry ``direction``,
station events carry ``event``).
"""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from ocpp16_cli.main import app
from ocpp16_cli.options import (
    Ca,
    Cert,
    Connectors,
    Identity,
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

    from ocpp16 import FrameEvent
    from ocpp16.sim import SimResult, SimulatedChargePoint
    from ocpp16.station import PlanEvent, StationEvent

__all__ = ["sim"]

#: Messages the live view keeps under the connector table.
_LIVE_MESSAGES: Final = 8
#: Longest frame printed on a plain line (characters); JSON lines carry frames whole.
_PLAIN_FRAME: Final = 160
#: idTags drawn by --sessions auto unless --id-tag gives some.
_AUTO_TAGS: Final = [f"TAG{n:04d}" for n in range(1, 11)]
#: Simulated seconds of --sessions auto when the run has no --duration.
_AUTO_SPAN_S: Final = 7 * 86400.0


@app.command()
def sim(
    url: Annotated[
        str,
        typer.Argument(
            help="Central system URL (ws, wss, http or https), ending with the identity"
            " unless --id gives it.",
            show_default=False,
        ),
    ],
    *,
    identity: Identity = None,
    connectors: Connectors = 2,
    vendor: Annotated[str, typer.Option(help="chargePointVendor.")] = "ocpp16",
    model: Annotated[str, typer.Option(help="chargePointModel.")] = "sim",
    password: Password = None,
    ca: Ca = None,
    cert: Cert = None,
    key: Key = None,
    insecure: Insecure = False,
    max_frame: MaxFrame = None,
    config: Annotated[
        list[str] | None,
        typer.Option(
            metavar="KEY=VALUE",
            help="Configuration key to set (repeatable), e.g. MeterValueSampleInterval=30.",
            show_default=False,
        ),
    ] = None,
    plan: PlanFile = None,
    sessions: Sessions = None,
    id_tag: Annotated[
        list[str] | None,
        typer.Option(
            "--id-tag",
            metavar="TAG",
            help="idTags --sessions auto draws from (repeatable; default TAG0001..TAG0010).",
            show_default=False,
        ),
    ] = None,
    duration: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            metavar="S",
            help="Stop after S seconds of wall time (default: run until Ctrl-C).",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed for a repeatable run.", show_default=False)
    ] = None,
    speed: Speed = 1.0,
    timeout: Timeout = 30.0,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="One JSON object per line per frame and per state change."),
    ] = False,
) -> None:
    """Run a simulated charge point that behaves like a real one.

    Exit codes: 0 every exchange valid, 1 the central system sent invalid frames, 2 bad input,
    3 cannot connect, 130 interrupted (Ctrl-C).
    """
    import random

    from ocpp16.errors import InputError
    from ocpp16.limits import MAX_FRAME_BYTES
    from ocpp16.sim import SimulatedChargePoint
    from ocpp16.station import PlanError, auto_sessions, load_plan
    from ocpp16.transport import tls_context

    overrides = _config(config or [])
    events: list[PlanEvent] = []
    try:
        if plan is not None:
            events.extend(load_plan(plan, connectors))
        if sessions is not None:
            if sessions != "auto":
                raise InputError(f"--sessions: expected auto, got {sessions[:50]!r}")
            span = duration * speed if duration is not None else _AUTO_SPAN_S
            rng = random.Random(seed)
            events.extend(auto_sessions(rng, connectors, span, id_tag or _AUTO_TAGS))
    except PlanError as exc:
        more = f" (and {len(exc.problems) - 1} more problems)" if len(exc.problems) > 1 else ""
        raise InputError(f"{exc.problems[0]}{more}") from None
    tls = None
    if ca is not None or cert is not None or key is not None or insecure:
        tls = tls_context(_path(ca), _path(cert), _path(key), insecure)
    view = _View(as_json)
    point = SimulatedChargePoint(
        url,
        identity,
        connectors=connectors,
        vendor=vendor,
        model=model,
        config=overrides,
        password=password,
        tls=tls,
        plan=sorted(events, key=lambda event: event.at),
        seed=seed,
        speed=speed,
        timeout=timeout,
        max_frame=MAX_FRAME_BYTES if max_frame is None else max_frame,
        on_frame=view.frame,
        on_event=view.event,
    )
    view.point = point
    result, interrupted = _run(point, duration, view)
    view.summary(result, interrupted)
    if interrupted:
        raise typer.Exit(130)
    if not result.ok:
        raise typer.Exit(1)


def _run(point: SimulatedChargePoint, duration: float | None, view: _View) -> tuple[Any, bool]:
    """Run until the end; Ctrl-C stops the charge point cleanly (its connection closes)."""
    import asyncio
    import contextlib
    import signal

    interrupted = False

    def interrupt() -> None:
        nonlocal interrupted
        interrupted = True
        point.stop()

    async def main() -> SimResult:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(signal.SIGINT, interrupt)
        with view.live():
            return await point.run(duration)

    return asyncio.run(main()), interrupted


def _config(items: list[str]) -> dict[str, str]:
    from ocpp16._text import printable, shorten
    from ocpp16.errors import InputError

    values: dict[str, str] = {}
    for item in items:
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise InputError(f"--config {printable(shorten(item))}: expected KEY=VALUE")
        values[name.strip()] = value.strip()
    return values


def _path(value: Path | None) -> str | None:
    return None if value is None else str(value)


class _View:
    """Prints what the charge point does: a live view, plain lines, or JSON lines."""

    def __init__(self, as_json: bool) -> None:
        import sys

        from ocpp16_cli.output import JsonLines, make_console

        self.as_json = as_json
        self.lines = JsonLines(sys.stdout) if as_json else None
        self.console: Console = make_console()
        self.is_live = not as_json and self.console.is_terminal
        self.point: SimulatedChargePoint | None = None
        self.messages: deque[str] = deque(maxlen=_LIVE_MESSAGES)

    def live(self) -> Any:
        import contextlib

        if not self.is_live:
            return contextlib.nullcontext()
        from rich.live import Live

        return Live(get_renderable=self._render, console=self.console, refresh_per_second=4)

    def frame(self, event: FrameEvent) -> None:
        from ocpp16_cli.output import frame_record

        if self.lines is not None:
            stamp = _stamp(event.time)
            self.lines.write(
                frame_record(
                    event.identity,
                    event.direction,
                    event.frame,
                    event.verdict,
                    event.detail,
                    time=stamp,
                ),
                event.text,
            )
            return
        arrow = "->" if event.direction == "out" else "<-"
        text = _compact(event.frame)
        if event.verdict != "valid":
            text += f"  ({event.verdict}: {event.detail})"
        self._line(f"{arrow} {text}", event.time, style="red" if event.verdict == "invalid" else "")

    def event(self, event: StationEvent) -> None:
        if self.lines is not None:
            record = {
                "time": _stamp(event.at),
                "identity": self.point.identity if self.point else None,
                "event": event.kind,
                "connector": event.connector_id,
                "detail": event.detail,
            }
            if event.data:
                record["data"] = json.loads(json.dumps(event.data, default=str))
            self.lines.write(record)
            return
        where = f"#{event.connector_id} " if event.connector_id is not None else ""
        self._line(f"{where}{event.kind}: {event.detail}", event.at, style="cyan")

    def _line(self, text: str, at: Any, style: str = "") -> None:
        from ocpp16._text import printable, shorten
        from ocpp16_cli.output import safe_text

        shown = safe_text(self.console, printable(shorten(text, _PLAIN_FRAME * 2)), one_line=True)
        line = f"{at:%H:%M:%S} {shown}"
        if self.is_live:
            self.messages.append(line)
            return
        from rich.text import Text

        self.console.print(Text(line, style=style))

    def _render(self) -> RenderableType:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        point = self.point
        if point is None:
            return Text("")
        station = point.station
        title = (
            f"{point.identity}  {station.registration.value if station.registration else '-'}"
            f"  {'online' if station.online else 'offline'}  {point.now():%Y-%m-%d %H:%M:%S}"
        )
        table = Table(title=title, title_justify="left")
        for column in ("#", "status", "kW", "kWh", "transaction", "idTag", "SoC"):
            table.add_column(column, justify="right" if column in ("kW", "kWh", "SoC") else "left")
        for state in station.snapshot():
            table.add_row(
                str(state.connector_id),
                state.status.value,
                f"{state.power_w / 1000:.1f}",
                f"{state.energy_wh / 1000:.3f}",
                "" if state.transaction_id is None else str(state.transaction_id),
                state.id_tag or "",
                "" if state.soc_percent is None else f"{state.soc_percent} %",
            )
        return Group(table, Text("\n".join(self.messages)))

    def summary(self, result: SimResult, interrupted: bool) -> None:
        import sys

        from ocpp16._text import printable

        state = "interrupted" if interrupted else "done"
        verdict = (
            "every exchange valid"
            if result.ok
            else f"{result.problem_count} invalid frame(s) from the central system"
        )
        print(
            f"ocpp16 sim: {printable(result.identity)} {state}: {result.frames_out} frames out,"
            f" {result.frames_in} in, {result.connections} connection(s); {verdict}",
            file=sys.stderr,
        )
        for problem in result.problems[:10]:
            print(f"  {problem}", file=sys.stderr)


def _stamp(at: Any) -> str:
    text: str = at.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _compact(frame: Any) -> str:
    from ocpp16._text import shorten

    if isinstance(frame, str | bytes):
        text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
    else:
        text = json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
    return shorten(text, _PLAIN_FRAME)
