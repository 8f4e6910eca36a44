"""``python -m ocpp16_cli.demo`` (what ``make demo`` runs): the main job, in one command.

Starts ``ocpp16 serve`` on a free local port (answering plausibly: an Accepted boot, the current
time, increasing transaction ids; and sending one request back after the BootNotification),
sends it every action a charge point sends with ``ocpp16 send`` (random payloads), prints the
exchanges and a one-line summary, and stops the server. Both sides are the real commands, run
as subprocesses of this Python.
"""

from __future__ import annotations

import argparse
import json
import queue
import signal
import subprocess
import sys
import threading
from typing import IO, Any, Final

__all__ = ["main"]

IDENTITY: Final = "DEMO-CP1"
#: The CS→CP request the central system sends after the BootNotification.
AFTER_BOOT: Final = "GetConfiguration"
STARTUP_SECONDS: Final = 20.0
SEND_SECONDS: Final = 120.0
STOP_SECONDS: Final = 10.0


def _cp_actions() -> list[str]:
    from ocpp16 import ACTIONS

    names = [a.name for a in ACTIONS.values() if a.sender.charge_point_sends]
    return ["BootNotification", *(n for n in names if n != "BootNotification")]


def _pump(stream: IO[str], into: queue.Queue[str | None]) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


def _collect(lines: queue.Queue[str | None]) -> list[str]:
    found: list[str] = []
    while True:
        try:
            line = lines.get(timeout=STOP_SECONDS)
        except queue.Empty:
            return found
        if line is None:
            return found
        found.append(line)


class _Server:
    """``ocpp16 serve --port 0 --json`` in a subprocess; its frames and status lines kept."""

    def __init__(self, command: list[str], seed: int | None) -> None:
        extra = [] if seed is None else ["--seed", str(seed)]
        self.process = subprocess.Popen(
            [*command, "serve", "--port", "0", "--json", "--after-boot", AFTER_BOOT, *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self.frames: queue.Queue[str | None] = queue.Queue()
        self.status: queue.Queue[str | None] = queue.Queue()
        for stream, into in [
            (self.process.stdout, self.frames),
            (self.process.stderr, self.status),
        ]:
            threading.Thread(target=_pump, args=(stream, into), daemon=True).start()

    def url(self) -> str | None:
        """The base URL from the "listening on" line (None when the server did not start)."""
        while True:
            try:
                line = self.status.get(timeout=STARTUP_SECONDS)
            except queue.Empty:
                return None
            if line is None:
                return None
            if "listening on " in line:
                return line.split("listening on ", 1)[1].split("/<identity>", 1)[0]
            sys.stderr.write(line)

    def stop(self) -> tuple[int, list[dict[str, Any]], list[str]]:
        """SIGINT (Ctrl-C), as a user stops it: its exit code, frame records and status lines."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        records = [json.loads(line) for line in _collect(self.frames) if line.strip()]
        return code, records, _collect(self.status)


def _summary(records: list[dict[str, Any]], sent: int) -> tuple[bool, str]:
    """What the server saw: CP→CS calls answered validly, and the after-boot round trip."""
    calls = {
        r["frame"][1]: r for r in records if r["direction"] == "in" and r["frame"][0] == 2
    }  # fmt: skip
    answered = {
        r["frame"][1] for r in records if r["direction"] == "out" and r["frame"][0] == 3
    }  # fmt: skip
    good = sum(1 for uid, r in calls.items() if r["verdict"] == "valid" and uid in answered)
    ours = {r["frame"][1] for r in records if r["direction"] == "out" and r["frame"][0] == 2}
    back = [r for r in records if r["direction"] == "in" and r["frame"][1] in ours]
    round_trip = bool(back) and back[0]["frame"][0] == 3 and back[0]["verdict"] == "valid"
    after = f"{AFTER_BOOT} sent back after the boot and answered validly"
    if not round_trip:
        after = f"{AFTER_BOOT} sent back after the boot: " + (
            "no answer" if not back else back[0].get("detail") or "answered with a CALLERROR"
        )
    ok = good == sent == len(calls) and round_trip
    text = f"{good}/{sent} charge point calls answered with valid CALLRESULTs; {after}"
    return ok, text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ocpp16_cli.demo", description=__doc__)
    parser.add_argument("--full", action="store_true", help="random payloads fill every field")
    parser.add_argument("--seed", type=int, help="seed for repeatable payloads")
    args = parser.parse_args(argv)

    from ocpp16_cli.output import make_console

    console = make_console()
    command = [sys.executable, "-m", "ocpp16_cli"]
    actions = _cp_actions()
    server = _Server(command, args.seed)
    url = server.url()
    if url is None:
        code, _, status = server.stop()
        sys.stderr.writelines(status)
        console.print(f"demo: ocpp16 serve did not start (exit {code})", style="bold red")
        return code or 1
    console.print(
        f"demo: ocpp16 serve listens on {url}/<identity>; ocpp16 send sends it the "
        f"{len(actions)} charge point actions as {IDENTITY}\n",
        style="bold",
        markup=False,
    )
    send = [*command, "send", *actions, "--url", f"{url}/{IDENTITY}", "--timeout", "10"]
    send += ["--full"] if args.full else []
    send += [] if args.seed is None else ["--seed", str(args.seed)]
    sys.stdout.flush()
    try:
        sent = subprocess.run(send, check=False, timeout=SEND_SECONDS).returncode
    except subprocess.TimeoutExpired:
        sent = -1
    finally:
        stopped, records, status = server.stop()
    ok, text = _summary(records, len(actions))
    clean = stopped == 0
    ok = ok and sent == 0 and clean
    ending = "server stopped" if clean else f"server exited with {stopped}"
    if not clean:
        sys.stderr.writelines(status)
    console.print(
        f"\ndemo: {text}; ocpp16 send exited {sent}; {ending}.",
        style="bold green" if ok else "bold red",
        markup=False,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
