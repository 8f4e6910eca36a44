"""Deliberately broken central systems for the fuzzer's tests: ``python broken_cs.py MODE PORT``.

Each is ocpp16's own validating CentralSystem with one bug planted, the kind real central
systems have had:

- ``crash``: the process exits on a date-time whose year is past 9999 (StEVe, July 2025);
- ``stall``: a StopTransaction for a transaction this connection never started blocks the
  connection's CALL handling for good;
- ``drop``: a NUL character in an idTag closes the connection;
- ``takeover``: a second connection with the same identity closes the first (what
  ``ocpp16 serve`` does by default, ``--duplicate replace``, for charge points that reconnect
  before their old connection is seen to be dead; ``good`` runs with ``--duplicate reject``);
- ``wrong-password``: any password is accepted (a missing one is still refused);
- ``freeze``: a DataTransfer whose messageId holds a format string blocks the whole process;
- ``good``: no bug at all.

It prints ``PORT n`` once it listens (port 0 picks a free one) and runs until killed.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import sys
import time
from typing import Any

from websockets.asyncio.server import ServerConnection

from ocpp16 import StartTransactionRequest, StopTransactionRequest
from ocpp16.server import CentralSystem, ChargePointSession, ConnectionEvent, FrameEvent

_FAR_YEAR = re.compile(r"^\d{5,}-\d\d-\d\d")


def _strings(value: Any, key: str = "") -> Any:
    """Every (key, string) in a JSON value, at any depth."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _strings(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, key)
    elif isinstance(value, str):
        yield key, value


def build(mode: str) -> CentralSystem:
    connections: dict[str, ServerConnection] = {}
    started: dict[str, set[int]] = {}
    counter = itertools.count(1)
    cs: CentralSystem

    def on_frame(event: FrameEvent) -> None:
        if event.direction != "in":
            return
        for key, text in _strings(event.frame):
            if mode == "crash" and _FAR_YEAR.match(text):
                os._exit(3)  # the bug: an unhandled overflow takes the process down
            if mode == "freeze" and key == "messageId" and "%n" in text:
                time.sleep(3600)  # the bug: blocking work in the event loop stops everything
            if mode == "drop" and key == "idTag" and "\x00" in text:
                session = cs.sessions.get(event.identity)
                if session is not None:
                    session.connection.transport.abort()
                return

    def on_connection(event: ConnectionEvent) -> None:
        if mode != "takeover" or event.kind != "connected" or event.identity is None:
            return
        old = connections.get(event.identity)
        session = cs.sessions.get(event.identity)
        if session is not None:
            connections[event.identity] = session.connection
        if old is not None and (session is None or old is not session.connection):
            old.transport.abort()  # the bug: the newcomer takes the identity over

    password: Any = None
    if mode == "wrong-password":
        password = lambda _identity, _given: True  # noqa: E731  (the bug: any password)
    duplicate: Any = "reject" if mode == "good" else "replace"
    cs = CentralSystem(
        on_frame=on_frame, on_connection=on_connection, basic_auth=password, duplicate=duplicate
    )

    @cs.on("StartTransaction")
    def start(request: StartTransactionRequest, session: ChargePointSession) -> Any:
        number = next(counter)
        started.setdefault(session.identity, set()).add(number)
        return {"transactionId": number, "idTagInfo": {"status": "Accepted"}}

    @cs.on("StopTransaction")
    async def stop(request: StopTransactionRequest, session: ChargePointSession) -> Any:
        if mode == "stall" and request.transaction_id not in started.get(session.identity, ()):
            await asyncio.Event().wait()  # the bug: waits for a transaction that never comes
        return {}

    return cs


async def main(mode: str, port: int) -> None:
    async with build(mode).serve("127.0.0.1", port) as server:
        print(f"PORT {server.port}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
