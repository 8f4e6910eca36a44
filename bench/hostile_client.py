"""Hostile central systems against the client: what ``ocpp16 send`` costs, and a named peer's.

Raw-socket servers on 127.0.0.1 (threads of this process) play a hostile central system:

- ``huge``: answers the CALL with one 50 MB text frame (over the 10 MiB default limit);
- ``large``: answers with 10 MB, just under the limit (what an accepted answer may cost);
- ``dribble``: sends its valid ``101`` upgrade answer one byte a second;
- ``headers``: answers the upgrade with 100,000 header lines, quickly;
- ``deep``: answers with a payload nested 100,000 deep (200 KB).

Each client is a new process that runs one ``send Heartbeat --timeout 2`` (and against ``huge``
also ``check --actions Heartbeat,Authorize``: 16 cases, each reconnecting) and reports its peak
memory (ru_maxrss) and wall time: ocpp16's CLI, and, as the named peer, websocket-client 1.x
(the library this client was built on before) connecting with ``timeout=2`` and reading the answer.
A peer run still going after 20 s is stopped and shown as ``> 20 s``. The same ocpp16 command
against a well-behaved answer gives the baseline memory.

Run: ``python -m bench.hostile_client``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Final

HUGE_BYTES: Final = 50 * 1000 * 1000
LARGE_BYTES: Final = 10 * 1000 * 1000
DEPTH: Final = 100_000
PEER_LIMIT_S: Final = 20.0
TIMEOUT_S: Final = 2

Respond = Callable[[socket.socket, bytes, threading.Event], None]


def _switching(request: bytes) -> bytes:
    key = re.search(rb"Sec-WebSocket-Key: (\S+)", request, re.IGNORECASE)
    assert key is not None
    accept = base64.b64encode(
        hashlib.sha1(key.group(1) + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()
    )
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Protocol: ocpp1.6\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )


def _text_frame(data: bytes) -> bytes:
    if len(data) < 126:
        return bytes([0x81, len(data)]) + data
    if len(data) < 65536:
        return bytes([0x81, 126]) + len(data).to_bytes(2, "big") + data
    return bytes([0x81, 127]) + len(data).to_bytes(8, "big") + data


def _call_id(data: bytes) -> bytes:
    """The unique id (as JSON) of the masked client frame ``data``; "x" when it has none."""
    length, offset = data[1] & 0x7F, 2
    if length == 126:
        length, offset = int.from_bytes(data[2:4], "big"), 4
    mask = data[offset : offset + 4]
    payload = data[offset + 4 : offset + 4 + length]
    try:
        text = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return json.dumps(json.loads(text)[1]).encode()
    except (ValueError, IndexError, KeyError, TypeError):
        return b'"x"'


def _answer_with(payload: bytes) -> Respond:
    def respond(peer: socket.socket, request: bytes, stop: threading.Event) -> None:
        peer.sendall(_switching(request))
        unique_id = _call_id(peer.recv(65536))
        frame = _text_frame(b"[3," + unique_id + b"," + payload + b"]")
        peer.settimeout(1)
        view = memoryview(frame)
        while view and not stop.is_set():
            try:
                sent = peer.send(view[: 1 << 20])
            except TimeoutError:
                continue
            view = view[sent:]
        # Then hang up, as a server does after its close frame is not answered.

    return respond


def _dribble(peer: socket.socket, request: bytes, stop: threading.Event) -> None:
    for byte in _switching(request):
        if stop.wait(1.0):
            return
        peer.sendall(bytes([byte]))


def _headers(peer: socket.socket, request: bytes, stop: threading.Event) -> None:
    peer.sendall(b"HTTP/1.1 101 Switching Protocols\r\n")
    for _ in range(100):
        if stop.is_set():
            return
        peer.sendall(b"X-Flood: 1\r\n" * 1000)
    peer.sendall(_switching(request).partition(b"\r\n")[2])
    stop.wait(PEER_LIMIT_S)


class _Server:
    """One hostile behaviour on a free port; each connection in its own thread."""

    def __init__(self, respond: Respond) -> None:
        self.respond = respond
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                peer, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._one, args=(peer,), daemon=True).start()

    def _one(self, peer: socket.socket) -> None:
        with peer:
            request = b""
            try:
                while b"\r\n\r\n" not in request:
                    chunk = peer.recv(4096)
                    if not chunk:
                        return
                    request += chunk
                self.respond(peer, request, self.stop)
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


_PEAK: Final = """
def peak():  # this process's own high-water mark (ru_maxrss would include the parent's)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""

_OURS: Final = """
import json, sys, time
from ocpp16_cli.main import app
start = time.perf_counter()
try:
    app(["send", "Heartbeat", "--url", sys.argv[1], "--timeout", sys.argv[2]])
except SystemExit as exc:
    code = exc.code
print("BENCH " + json.dumps([code, time.perf_counter() - start, peak()]), file=sys.stderr)
"""

_CHECK: Final = """
import json, sys, time
from ocpp16_cli.main import app
start = time.perf_counter()
try:
    app(["check", sys.argv[1], "--timeout", sys.argv[2], "--actions", "Heartbeat,Authorize"])
except SystemExit as exc:
    code = exc.code
print("BENCH " + json.dumps([code, time.perf_counter() - start, peak()]), file=sys.stderr)
"""

_PEER: Final = """
import json, sys, time
import websocket
start = time.perf_counter()
code = 0
try:
    ws = websocket.create_connection(sys.argv[1], timeout=float(sys.argv[2]),
                                     subprotocols=["ocpp1.6"], skip_utf8_validation=True)
    ws.send('[2,"x","Heartbeat",{}]')
    json.loads(ws.recv())
except Exception as exc:
    code = type(exc).__name__
print("BENCH " + json.dumps([code, time.perf_counter() - start, peak()]), file=sys.stderr)
"""


def _run(script: str, url: str) -> tuple[str, float, float, list[str]]:
    """(exit, seconds, peak MiB, other stderr lines) of one client process."""
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PEAK + script, url, str(TIMEOUT_S)],
            capture_output=True,
            text=True,
            timeout=PEER_LIMIT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "stopped", time.perf_counter() - start, float("nan"), []
    lines = done.stderr.splitlines()
    report = [line for line in lines if line.startswith("BENCH ")]
    if not report:
        return f"crashed ({done.returncode})", time.perf_counter() - start, float("nan"), lines
    code, _, peak_kib = json.loads(report[-1][6:])
    other = [line for line in lines if not line.startswith("BENCH ")]
    return str(code), time.perf_counter() - start, peak_kib / 1024, other


def _show(name: str, result: tuple[str, float, float, list[str]]) -> None:
    code, seconds, peak, lines = result
    took = f"> {PEER_LIMIT_S:g} s" if code == "stopped" else f"{seconds:.2f} s"
    memory = "-" if math.isnan(peak) else f"{peak:,.0f} MiB"
    print(f"    {name:<16} exit {code:<26} {took:>9}  peak {memory:>9}")
    for line in lines[-2:]:
        print(f"      {line[:150]}")


def main() -> None:
    normal = _Server(_answer_with(b'{"currentTime":"2025-01-01T00:00:00Z"}'))
    cases = {
        "huge (50 MB answer)": _Server(_answer_with(b'{"v":"' + b"x" * HUGE_BYTES + b'"}')),
        "large (10 MB answer)": _Server(_answer_with(b'{"v":"' + b"x" * LARGE_BYTES + b'"}')),
        "dribble (1 byte/s)": _Server(_dribble),
        "headers (100,000)": _Server(_headers),
        "deep (100,000)": _Server(_answer_with(b"[" * DEPTH + b"]" * DEPTH)),
    }
    try:
        base = _run(_OURS, f"ws://127.0.0.1:{normal.port}/CP1")
        peer_base = _run(_PEER, f"ws://127.0.0.1:{normal.port}/CP1")
        print(f"Hostile central systems vs `ocpp16 send Heartbeat --timeout {TIMEOUT_S}`")
        print(
            f"  baseline (a valid answer): ocpp16 peak {base[2]:,.0f} MiB, {base[1]:.2f} s;"
            f" websocket-client peak {peer_base[2]:,.0f} MiB, {peer_base[1]:.2f} s"
        )
        for name, server in cases.items():
            url = f"ws://127.0.0.1:{server.port}/CP1"
            print(f"  {name}")
            ours = _run(_OURS, url)
            _show("ocpp16", ours)
            peer = _run(_PEER, url)
            _show("websocket-client", peer)
            if not (math.isnan(ours[2]) or math.isnan(peer[2])):
                print(
                    f"    memory over its own baseline: ocpp16 {ours[2] - base[2]:+,.0f} MiB,"
                    f" websocket-client {peer[2] - peer_base[2]:+,.0f} MiB"
                )
            if name.startswith("huge"):
                checked = _run(_CHECK, url)
                _show("ocpp16 check", (checked[0], checked[1], checked[2], []))
            if peer[0] == "stopped" or peer[1] > ours[1]:
                peer_time = f"> {PEER_LIMIT_S:g}" if peer[0] == "stopped" else f"{peer[1]:.2f}"
                print(f"    time: ocpp16 {ours[1]:.2f} s, websocket-client {peer_time} s")
    finally:
        normal.close()
        for server in cases.values():
            server.close()


if __name__ == "__main__":
    main()
