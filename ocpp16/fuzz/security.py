"""Security probes: what the 2026 CISA advisories on CSMS products found missing.

- ``no credentials`` / ``wrong password`` (only with ``--password``): the upgrade must be refused;
- ``auth not throttled`` (only with ``--password``): THROTTLE_ATTEMPTS wrong passwords in a row
  must meet some resistance (a refusal other than 401, a dropped connection, or answers that
  slow down);
- ``second connection``: a second connection with the same identity must neither take over the
  session (the first one closed or silenced) nor leave the central system's CALLs going to the
  first one once the second has booted.

Each probe returns a :class:`ProbeResult`: whether it succeeded (a finding), what was seen, and
the frames per connection for the reproducer.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Final

import attrs

from ocpp16.errors import ConnectError, HandshakeError
from ocpp16.fuzz.oracles import Recorded
from ocpp16.fuzz.probe import boot, heartbeat
from ocpp16.fuzz.wire import Link, Where, open_link

__all__ = ["PROBES", "RECORD_BYTES", "THROTTLE_ATTEMPTS", "ProbeResult", "record", "run_probe"]

#: In this order: the second-connection probe first, before wrong passwords get the probe's
#: identity and address throttled (a central system that does so answers HTTP 429 for a while).
PROBES: Final = ("second connection", "no credentials", "wrong password", "auth not throttled")
#: Bytes of frames one connection's record holds at most (the last ones are kept).
RECORD_BYTES: Final = 4 * 1024 * 1024
#: Wrong passwords tried in a row by the throttling probe.
THROTTLE_ATTEMPTS: Final = 10
#: Seconds the second-connection probe waits for the central system to act on the first one.
_SETTLE_S: Final = 0.3


@attrs.frozen
class ProbeResult:
    probe: str
    found: bool
    observed: str
    connections: tuple[Recorded, ...] = ()


def record(link: Link, auth: str = "given", budget: int = RECORD_BYTES) -> Recorded:
    """The frames of ``link`` for a reproducer: the last ones, within ``budget`` bytes (the
    last frame always)."""
    kept: list[tuple[float, str, str | bytes]] = []
    for frame in reversed(link.log):
        budget -= len(frame.data)
        if budget < 0 and kept:
            break
        kept.append((frame.at, frame.direction, frame.data))
    return Recorded(link.identity, tuple(reversed(kept)), auth)


async def run_probe(name: str, where: Where, identity: str, timeout: float) -> ProbeResult | None:
    """Run probe ``name`` as ``identity``; None when it does not apply (no password given)."""
    if name != "second connection" and where.password is None:
        return None  # the auth probes need a password to be wrong about
    if name == "no credentials":
        return await _refused(name, where, identity, timeout, "none")
    if name == "wrong password":
        return await _refused(name, where, identity, timeout, "wrong")
    if name == "auth not throttled":
        return await _throttled(where, identity, timeout)
    return await _second_connection(where, identity, timeout)


async def _refused(
    name: str, where: Where, identity: str, timeout: float, auth: str
) -> ProbeResult:
    what = "without credentials" if auth == "none" else "with a wrong password"
    try:
        link = await open_link(where, identity, timeout, auth=auth)
    except ConnectError as exc:
        return ProbeResult(name, False, f"refused {what}: {exc}")
    rng = random.Random(0)
    reply = await boot(link, rng, timeout)
    await link.close()
    answered = "its BootNotification was answered" if reply.status == "answer" else "it opened"
    return ProbeResult(
        name, True, f"a connection {what} was accepted ({answered})", (record(link, auth),)
    )


async def _throttled(where: Where, identity: str, timeout: float) -> ProbeResult:
    name = "auth not throttled"
    times: list[float] = []
    for _ in range(THROTTLE_ATTEMPTS):
        started = time.monotonic()
        try:
            link = await open_link(where, identity, timeout, auth="wrong")
        except HandshakeError as exc:
            if exc.status != 401:
                return ProbeResult(name, False, f"throttled: HTTP {exc.status} after a few tries")
        except ConnectError as exc:
            return ProbeResult(name, False, f"throttled: {exc}")
        else:
            await link.close()  # accepted: the wrong-password probe reports that
            return ProbeResult(name, False, "a wrong password was accepted (reported apart)")
        times.append(time.monotonic() - started)
    first, last = times[0], times[-1]
    if last > 3 * first + 0.2:
        return ProbeResult(name, False, f"throttled: the answers slowed from {first:.2f} s")
    return ProbeResult(
        name,
        True,
        f"{THROTTLE_ATTEMPTS} wrong passwords in a row were refused at full speed"
        f" (last in {last * 1000:.0f} ms) with no sign of throttling",
    )


async def _second_connection(where: Where, identity: str, timeout: float) -> ProbeResult:
    name = "second connection"
    rng = random.Random(1)
    first = await open_link(where, identity, timeout)
    second: Link | None = None
    try:
        await boot(first, rng, timeout)
        try:
            second = await open_link(where, identity, timeout)
        except ConnectError as exc:
            return ProbeResult(name, False, f"the second connection was refused: {exc}")
        await boot(second, rng, timeout)
        calls_before = first.cs_calls
        await asyncio.sleep(_SETTLE_S)
        reply = await heartbeat(first, rng, min(timeout, 2.0))
        await heartbeat(second, rng, min(timeout, 2.0))
        recorded = (record(first), record(second))
        if reply.status == "closed":
            why = f"the first was closed {first.closed_how}"
            return ProbeResult(name, True, f"a second connection took over the session: {why}",
                               recorded)  # fmt: skip
        if reply.status == "timeout":
            why = "the first no longer gets answers"
            return ProbeResult(name, True, f"a second connection took over the session: {why}",
                               recorded)  # fmt: skip
        if first.cs_calls > calls_before and second.cs_calls == 0:
            return ProbeResult(
                name,
                True,
                "the central system's CALLs went to the first connection after the second booted",
                recorded,
            )
        return ProbeResult(name, False, "both connections kept working apart")
    finally:
        await first.close()
        if second is not None:
            await second.close()
