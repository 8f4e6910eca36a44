"""``ocpp16 serve``: a validating central system for charge points to talk to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from ocpp16.limits import MAX_FRAME_BYTES, MAX_PRINTED_FRAME_BYTES
from ocpp16_cli.main import app
from ocpp16_cli.options import MAX_TIMEOUT, MIN_TIMEOUT

if TYPE_CHECKING:
    from rich.console import Console

    from ocpp16 import CentralSystem, ConnectionEvent, Exchange, FrameEvent

__all__ = ["serve"]

_PAYLOAD_HELP = "ACTION=JSON or ACTION=@file.json"


@app.command()
def serve(
    *,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on; 0 picks a free one.")] = 9000,
    path: Annotated[str, typer.Option(help="URL path before the charge point identity.")] = "/ocpp",
    password: Annotated[
        str | None,
        typer.Option(
            envvar="OCPP16_PASSWORD",
            help="Require HTTP Basic auth (user name = identity) with this password.",
        ),
    ] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option("--allow", metavar="IDENTITY", help="Accept only these identities."),
    ] = None,
    cert: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="TLS certificate (PEM): serve wss://."),
    ] = None,
    key: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="TLS private key (PEM).")
    ] = None,
    client_ca: Annotated[
        Path | None,
        typer.Option(
            exists=True, dir_okay=False, help="Require client certificates signed by this CA."
        ),
    ] = None,
    duplicate: Annotated[
        str,
        typer.Option(
            metavar="replace|reject",
            help="A charge point connecting under a connected identity replaces the older "
            "connection (closed with 1000), or is refused with HTTP 409.",
        ),
    ] = "replace",
    random: Annotated[
        bool,
        typer.Option(
            "--random",
            help="Answer with random valid responses (robustness tests) instead of plausible ones.",
        ),
    ] = False,
    full: Annotated[bool, typer.Option("--full", help="Random payloads fill every field.")] = False,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed for repeatable payloads.")
    ] = None,
    respond: Annotated[
        list[str] | None,
        typer.Option(
            metavar="ACTION=JSON", help=f"Answer ACTION with this payload ({_PAYLOAD_HELP})."
        ),
    ] = None,
    after_boot: Annotated[
        list[str] | None,
        typer.Option(
            metavar="ACTION[=JSON]",
            help="After a BootNotification, send this request (plausible, or random with "
            "--random, unless given).",
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            min=MIN_TIMEOUT, max=MAX_TIMEOUT, help="Seconds to wait for a charge point's answer."
        ),
    ] = 30.0,
    max_frame: Annotated[
        int,
        typer.Option(
            metavar="BYTES", help="Largest message accepted; larger ones close the connection."
        ),
    ] = MAX_FRAME_BYTES,
    max_print: Annotated[
        int, typer.Option(metavar="BYTES", help="Frames longer than this are printed cut.")
    ] = MAX_PRINTED_FRAME_BYTES,
    trace: Annotated[
        Path | None,
        typer.Option(dir_okay=False, help="Append one JSON line per frame to this file."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON line per frame on stdout.")
    ] = False,
) -> None:
    """Run a central system that validates every CALL and answers it.

    Charge points connect to ws://HOST:PORT/PATH/IDENTITY offering the ocpp1.6 subprotocol.
    Valid CALLs get a plausible answer (an Accepted boot, the current time, increasing
    transaction ids), a random valid one with --random, or the --respond payload.
    Invalid CALLs get the CALLERROR that OCPP-J prescribes for the defect.
    Ctrl-C stops the server.
    """
    import asyncio

    from ocpp16 import CentralSystem, server_ssl_context
    from ocpp16.errors import InputError
    from ocpp16_cli.payloads import parse_payload_option

    fixed: list[Any] = []
    for value in respond or []:
        action, message = parse_payload_option("--respond", value, response=True, sender="cp")
        if message is None:
            raise InputError(f"--respond {action.name}: give the response, {action.name}=JSON")
        fixed.append(message)
    requests: list[Any] = []
    for value in after_boot or []:
        action, message = parse_payload_option("--after-boot", value, response=False, sender="cs")
        requests.append(action.request if message is None else message)
    if (cert is None) != (key is None) or (client_ca is not None and cert is None):
        raise InputError("TLS needs both --cert and --key (and --client-ca needs them)")
    context = None if cert is None or key is None else server_ssl_context(
        str(cert), str(key), None if client_ca is None else str(client_ca)
    )  # fmt: skip

    if max_print < 256:
        raise InputError(f"--max-print is at least 256 bytes, not {max_print}")
    trace_file = _open_trace(trace)
    reporter = _Reporter(as_json, trace_file, max_print)
    _give_back_large_blocks()
    try:
        cs = CentralSystem(
            path=path,
            identities=allow,
            basic_auth=password,
            ssl=context,
            duplicate=duplicate,  # type: ignore[arg-type]  # checked by CentralSystem
            random=random,
            max_frame=max_frame,
            full=full,
            seed=seed,
            after_boot=requests,
            timeout=timeout,
            on_frame=reporter.frame,
            on_exchange=reporter.exchange,
            on_connection=reporter.connection,
            pace_gc=True,  # this process only serves: short collector pauses at any scale
        )
        for message in fixed:
            cs.respond(message)
        asyncio.run(_run(cs, host, port, reporter))
    finally:
        if trace_file is not None:
            trace_file.close()


async def _run(cs: CentralSystem, host: str, port: int, reporter: _Reporter) -> None:
    import asyncio
    import contextlib
    import signal

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)

    def stopping(number: int) -> None:
        stop.set()  # close connections (1001, going away) and end; a second one interrupts
        loop.remove_signal_handler(number)

    for number in signals:
        # Not on Windows, nor outside the main thread: Ctrl-C then ends by KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(number, stopping, number)
    try:
        async with cs.serve(host, port) as server:
            extras = ["subprotocol ocpp1.6"]
            if cs.identities is not None:
                extras.append(f"{len(cs.identities)} identities allowed")
            if cs.has_basic_auth:
                extras.append("Basic auth")
            if cs.ssl is not None:
                verify = cs.ssl.verify_mode.name == "CERT_REQUIRED"
                extras.append("TLS with client certificates" if verify else "TLS")
            reporter.status(
                f"listening on {server.url}/<identity> ({', '.join(extras)}); Ctrl-C stops"
            )
            await stop.wait()
    finally:
        for number in signals:
            loop.remove_signal_handler(number)
    reporter.status(f"stopped; {reporter.summary()}")


def _give_back_large_blocks() -> None:
    """Make glibc return freed blocks of 128 KiB and more to the system at once.

    By default glibc raises that threshold after the first large block is freed, so the buffers
    of large frames (a peer may send 10 MiB ones) then come from the heap, which fragments and
    never shrinks: each round of 1 MB frames left the server a few MiB larger. With the threshold
    fixed, memory after such an attack is back where it started (see bench/hostile). A no-op
    where the C library is not glibc.
    """
    import contextlib
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return
    m_mmap_threshold = -3  # from glibc's malloc.h
    with contextlib.suppress(OSError, AttributeError):  # musl or another libc: nothing to tune
        ctypes.CDLL("libc.so.6").mallopt(m_mmap_threshold, 128 * 1024)


def _open_trace(trace: Path | None) -> TextIO | None:
    from ocpp16.errors import InputError

    if trace is None:
        return None
    try:
        return trace.open("a", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--trace: cannot write {trace}: {exc.strerror or exc}") from None


class _Reporter:
    """Prints what the central system reports: exchanges for people or frame records."""

    def __init__(self, as_json: bool, trace: TextIO | None, max_print: int) -> None:
        import sys

        from ocpp16_cli.output import JsonLines, make_console

        self.as_json = as_json
        self.max_print = max_print
        self.out: Console = make_console()
        self.err: Console = make_console(stderr=True)
        streams = ([sys.stdout] if as_json else []) + ([trace] if trace is not None else [])
        self.records = JsonLines(*streams)
        self.identities: set[str] = set()
        self.exchanges = 0
        self.problems = 0

    def status(self, text: str) -> None:
        """A line about the server itself, on stderr (stdout stays for the traffic)."""
        self.err.print(f"ocpp16 serve: {text}", markup=False)

    def summary(self) -> str:
        people = len(self.identities)
        return (
            f"{people} charge point{'s' * (people != 1)}, "
            f"{self.exchanges} exchange{'s' * (self.exchanges != 1)}, "
            f"{self.problems} with problems"
        )

    def frame(self, event: FrameEvent) -> None:
        from ocpp16_cli.output import frame_record, print_note

        time = event.time.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.records.write(
            frame_record(
                event.identity, event.direction, event.frame, event.verdict, event.detail, time=time
            ),
            event.text,
        )
        if event.verdict == "ignored" and not self.as_json:
            from ocpp16._text import shorten

            shown = shorten(json.dumps(event.frame, ensure_ascii=False))
            print_note(self.out, f"ignored {shown}: {event.detail}", identity=event.identity)

    def exchange(self, event: Exchange) -> None:
        from ocpp16_cli.output import print_exchange

        self.exchanges += 1
        self.problems += bool(event.problem)
        if self.as_json:
            return
        from ocpp16 import ACTIONS

        note = "sent by the central system" if event.initiator == "cs" else ""
        print_exchange(
            self.out,
            f"{event.action}Request" if event.action in ACTIONS else event.action,
            event.request,
            event.response,
            identity=event.identity,
            problem=event.problem,
            note=note,
            max_print=self.max_print,
        )

    def connection(self, event: ConnectionEvent) -> None:
        from ocpp16_cli.output import print_note

        if event.identity is not None and event.kind == "connected":
            self.identities.add(event.identity)
        where = f" from {event.remote}" if event.remote else ""
        text = f"{event.kind}{where}" + (f" ({event.detail})" if event.detail else "")
        console = self.err if self.as_json else self.out
        style = "yellow" if event.kind == "refused" else "dim"
        print_note(console, text, identity=event.identity, style=style)
