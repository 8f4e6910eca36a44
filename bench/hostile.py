"""Hostile charge points against ``ocpp16 serve``: memory and time bounds, attack by attack.

Run: ``python -m bench.hostile [--idle 10000] [--seconds 5] [--rounds 2]``.

Starts the installed command (``python -m ocpp16_cli serve --port 0``, output to /dev/null) in a
subprocess, connects one well-behaved charge point, and then runs each attack of issue 9 in turn
from this process, over loopback. For each it prints what the server answered, how long the
attack ran, the server's resident memory after it and its ratio to the start (the bound is 1.2),
and whether the well-behaved charge point was still answered afterwards. The attacks run
``--rounds`` times: a second round that adds nothing shows memory is bounded, not leaking.
Last, ``--idle`` connections are opened and held: memory per connection is the growth divided
by the count.

There is no peer ratio here: these are bounds (does memory come back, does the server keep
serving), not speeds.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

PASSWORD: Final = "bench-password-0123"
OCPP16: Final = Subprotocol("ocpp1.6")
BOOT: Final = '[2,"b","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]'


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Target:
    def __init__(self, url: str, pid: int) -> None:
        self.url, self.pid = url, pid
        found = re.match(r"ws://([^:/]+):(\d+)", url)
        assert found is not None
        self.host, self.port = found.group(1), int(found.group(2))

    def connect(self, identity: str, **kwargs: Any) -> Any:
        kwargs.setdefault("additional_headers", _basic(identity))
        return connect(f"{self.url}/{identity}", subprotocols=[OCPP16], open_timeout=10, **kwargs)


def _basic(identity: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{identity}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def ask(ws: ClientConnection, text: str) -> Any:
    await ws.send(text)
    async with asyncio.timeout(10):
        return json.loads(await ws.recv())


def raw_socket(target: Target, identity: str) -> socket.socket:
    """A WebSocket connection made by hand, which then never reads (tiny receive buffer)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((target.host, target.port))
    auth = _basic(identity)["Authorization"]
    sock.sendall(
        (f"GET /ocpp/{identity} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
         "Connection: Upgrade\r\nSec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZg==\r\n"
         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n"
         f"Authorization: {auth}\r\n\r\n").encode()
    )  # fmt: skip
    sock.setblocking(False)
    return sock


def masked(opcode: int, payload: bytes) -> bytes:
    """A client frame with an all-zero mask key (so the payload goes as is)."""
    size = len(payload)
    if size < 126:
        head = bytes([0x80 | opcode, 0x80 | size])
    elif size < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + size.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


async def flood(sock: socket.socket, data: bytes, seconds: float) -> int:
    """Send ``data`` over and over without reading, for ``seconds``; bytes the server took."""
    loop = asyncio.get_running_loop()
    sent = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            async with asyncio.timeout(max(0.01, deadline - time.monotonic())):
                await loop.sock_sendall(sock, data)
            sent += len(data)
        except TimeoutError:
            break
    return sent


# The attacks -----------------------------------------------------------------------------------


async def surrogates(target: Target, seconds: float) -> str:
    text = '[2,"{n}","StatusNotification",{{"connectorId":1,"errorCode":"\\udfff","status":"x"}}]'
    codes: set[str] = set()
    async with target.connect("SURROGATE") as ws:
        for n in range(1000):
            codes.add((await ask(ws, text.format(n=n)))[2])
    return f"1,000 CALLs with lone surrogates: answered {', '.join(sorted(codes))}"


async def unread_calls(target: Target, seconds: float) -> str:
    sock = raw_socket(target, "UNREAD")
    frame = '[2,"x","DataTransfer",{"vendorId":"V","data":"' + "d" * 1_000_000 + '"}]'
    try:
        sent = await flood(sock, masked(1, frame.encode()), seconds)
    finally:
        sock.close()
    return (
        f"1 MB CALLs for {seconds:g} s, never reading: {sent / 1e6:,.0f} MB taken and answered, "
        "each freed"
    )


async def deep_json(target: Target, seconds: float) -> str:
    deep = '[2,"d","DataTransfer",{"vendorId":"V","data":' + "[" * 32_000 + "]" * 32_000 + "}]"
    async with target.connect("DEEP") as ws:
        codes = {(await ask(ws, deep))[2] for _ in range(100)}
    return f"100 frames nested 32,000 deep (64 KB): answered {', '.join(sorted(codes))}"


async def pings(target: Target, seconds: float) -> str:
    sock = raw_socket(target, "PINGS")
    try:
        sent = await flood(sock, masked(9, b"ping") * 10_000, seconds)
    finally:
        sock.close()
    return (
        f"pings for {seconds:g} s, never reading: {sent // 10:,} taken, then the server paused "
        "reading (its pongs unread)"
    )


async def duplicates(target: Target, seconds: float) -> str:
    held = [await target.connect("TWIN") for _ in range(200)]
    await asyncio.sleep(0.5)
    closed = sum(1 for ws in held[:-1] if ws.close_code == 1000)
    for ws in held:
        await ws.close()
    return f"200 connections as one identity: {closed} older ones closed with 1000"


async def bad_identities(target: Target, seconds: float) -> str:
    statuses: dict[int, int] = {}
    for n in range(500):
        try:
            async with connect(f"{target.url}/CP%1B%5B{n}m%FF", subprotocols=[OCPP16]):
                pass
        except InvalidStatus as exc:
            statuses[exc.response.status_code] = statuses.get(exc.response.status_code, 0) + 1
    return f"500 identities with ESC and %FF: HTTP {statuses}"


async def guesses(target: Target, seconds: float) -> str:
    statuses: dict[int, int] = {}
    start = time.monotonic()
    for n in range(500):
        try:
            # From an address of its own: the throttle then holds it back, not the other attacks.
            async with target.connect(
                "GUESSED",
                additional_headers=_basic("GUESSED", str(n)),
                local_addr=("127.0.0.4", 0),
            ):
                pass
        except InvalidStatus as exc:
            statuses[exc.response.status_code] = statuses.get(exc.response.status_code, 0) + 1
    took = time.monotonic() - start
    checked = statuses.get(401, 0)
    return (
        f"500 password guesses in {took:.1f} s: {checked} checked (HTTP 401), "
        f"{statuses.get(429, 0)} refused unchecked (HTTP 429)"
    )


ATTACKS: Final[list[tuple[str, Callable[[Target, float], Awaitable[str]]]]] = [
    ("1 lone surrogates", surrogates),
    ("2 CALLs never read", unread_calls),
    ("3/4 deep JSON", deep_json),
    ("6 pings never read", pings),
    ("8 duplicate identity", duplicates),
    ("9 bad identities", bad_identities),
    ("10 password guessing", guesses),
]


async def idle(target: Target, count: int) -> str:
    before = rss_kib(target.pid)
    held: list[ClientConnection] = []
    start = time.monotonic()
    semaphore = asyncio.Semaphore(200)

    async def one(n: int) -> None:
        async with semaphore:
            # From another loopback address: the guessing attack got 127.0.0.1 throttled.
            held.append(
                await target.connect(f"IDLE{n}", compression=None, local_addr=("127.0.0.3", 0))
            )

    await asyncio.gather(*(one(n) for n in range(count)))
    took = time.monotonic() - start
    await asyncio.sleep(1)
    after = rss_kib(target.pid)
    for ws in held:
        await ws.close()
    return (
        f"{len(held):,} idle connections held (opened in {took:.1f} s): "
        f"{(after - before) / len(held):.1f} KiB each"
    )


async def main(args: argparse.Namespace) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    env = {**os.environ, "OCPP16_PASSWORD": PASSWORD}
    server = subprocess.Popen(
        [sys.executable, "-m", "ocpp16_cli", "serve", "--port", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        url = re.search(r"(ws://\S+)/<identity>", line)
        if url is None:
            raise SystemExit(f"serve did not start: {line}")
        target = Target(url.group(1), server.pid)
        logged: list[str] = []  # read all along: a full pipe would stall the server
        stderr = server.stderr
        threading.Thread(target=lambda: logged.extend(stderr), daemon=True).start()
        async with target.connect("GOOD") as good:
            await ask(good, BOOT)
            start = rss_kib(server.pid)
            print(f"server memory at start: {start / 1024:.1f} MiB")
            print(f"{'attack':22} {'seconds':>7} {'MiB after':>9} {'ratio':>6}  outcome")
            for name, attack in [a for _ in range(args.rounds) for a in ATTACKS]:
                began = time.monotonic()
                outcome = await attack(target, args.seconds)
                took = time.monotonic() - began
                await asyncio.sleep(1)
                after = rss_kib(server.pid)
                answered = (await ask(good, '[2,"h","Heartbeat",{}]'))[0] == 3
                note = "" if answered else "  THE GOOD CHARGE POINT WAS NOT ANSWERED"
                print(
                    f"{name:22} {took:7.1f} {after / 1024:9.1f} {after / start:6.2f}  "
                    f"{outcome}{note}",
                    flush=True,
                )
        if args.idle:
            print(await idle(target, args.idle))
        print(f"server log lines during the attacks: {len(logged)}")
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=10_000, help="idle connections to hold")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each flood")
    parser.add_argument(
        "--rounds", type=int, default=2, help="run every attack this many times (growth or not)"
    )
    asyncio.run(main(parser.parse_args()))
