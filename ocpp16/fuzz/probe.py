"""Small exchanges the engine, the security probes and replay share: boot, heartbeat, liveness.

:func:`target_state` tells a crash from a drop: after a connection is lost, a target that
refuses new connections (or whose ``--restart-cmd`` process exited) has crashed.
"""

from __future__ import annotations

import asyncio
import random
from typing import Final

from ocpp16._generated.boot_notification import BootNotificationRequest
from ocpp16.errors import ConnectError, HandshakeError, RefusedError
from ocpp16.frames import CALL
from ocpp16.fuzz.mutators import encode
from ocpp16.fuzz.target import Target, accepts_connections
from ocpp16.fuzz.wire import Link, Reply, Where, open_link

__all__ = ["EXIT_GRACE_S", "boot", "boot_frame", "heartbeat", "new_uid", "target_state"]

#: Seconds a lost connection is given before asking whether the target is still there.
EXIT_GRACE_S: Final = 0.2


def new_uid(rng: random.Random, tag: str) -> str:
    return f"{tag}-{rng.getrandbits(64):016x}"


def boot_frame(rng: random.Random) -> tuple[str, str]:
    """A random valid BootNotification CALL: (its unique id, its text)."""
    uid = new_uid(rng, "boot")
    payload = BootNotificationRequest.random(rng=rng).to_dict()
    return uid, encode([CALL, uid, "BootNotification", payload])


async def boot(link: Link, rng: random.Random, timeout: float) -> Reply:
    """Send a random valid BootNotification and wait for its answer."""
    uid, text = boot_frame(rng)
    await link.send(text)
    return await link.wait(uid, timeout)


async def heartbeat(link: Link, rng: random.Random, timeout: float) -> Reply:
    uid = new_uid(rng, "hb")
    await link.send(encode([CALL, uid, "Heartbeat", {}]))
    return await link.wait(uid, timeout)


async def target_state(where: Where, identity: str, timeout: float, target: Target | None) -> str:
    """What the target is like now: "crashed" (its process exited, or connections are refused),
    "silent" (a fresh connection does not open in time, or its Heartbeat gets no answer) or
    "alive"."""
    # A process that dies drops its connections a moment before its listening socket goes
    # and before it can be reaped: asked at once, it would look alive.
    await asyncio.sleep(EXIT_GRACE_S)
    if target is not None and not target.running:
        return "crashed"
    host, port = where.host_port
    if not await accepts_connections(host, port, timeout):
        return "crashed"
    try:
        link = await open_link(where, identity, timeout)
    except HandshakeError:
        return "alive"  # it answers HTTP, it refuses this identity: not a crash
    except RefusedError:
        return "crashed"
    except ConnectError:  # TCP is accepted, the upgrade never completes
        return "silent"
    try:
        reply = await heartbeat(link, random.Random(), timeout)
    finally:
        await link.close()
    if reply.status != "timeout":  # answered, or closed at once: something is alive
        return "alive"
    if target is not None and not target.running:
        return "crashed"
    return "silent"
