"""The target process of ``--restart-cmd``: started, watched, restarted after a crash, stopped.

The command is split like a shell would (``shlex``) but run without one, in a process group of
its own, so that stopping it stops everything it started. :meth:`Target.start` waits until the
target accepts TCP connections on the fuzzed URL's host and port.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import subprocess
import time
from typing import Final

from ocpp16.errors import ConnectError, InputError

__all__ = ["START_TIMEOUT", "Target", "accepts_connections"]

#: Seconds a (re)started target has to accept connections.
START_TIMEOUT: Final = 20.0
#: Seconds between SIGTERM and SIGKILL when stopping it.
_STOP_GRACE: Final = 5.0


async def accepts_connections(host: str, port: int, timeout: float = 2.0) -> bool:
    """Whether something accepts a TCP connection on ``host:port`` within ``timeout``."""
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


class Target:
    """The process started by ``command`` (a string, split with shlex)."""

    def __init__(self, command: str, host: str, port: int) -> None:
        try:
            self.argv = shlex.split(command)
        except ValueError as exc:
            raise InputError(f"--restart-cmd: {exc}") from None
        if not self.argv:
            raise InputError("--restart-cmd: no command given")
        self.host, self.port = host, port
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def start(self) -> None:
        """Start the command and wait until it accepts connections; ConnectError when it exits
        or does not listen in time, InputError when it cannot be run at all."""
        try:
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            raise InputError(f"--restart-cmd: cannot run {self.argv[0]}: {exc.strerror}") from None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.running:
                code = self.process.returncode
                raise ConnectError(f"--restart-cmd: the target exited with code {code}")
            if await accepts_connections(self.host, self.port, 0.5):
                return
            await asyncio.sleep(0.05)
        self.stop()
        raise ConnectError(
            f"--restart-cmd: nothing accepts connections on {self.host}:{self.port}"
            f" after {START_TIMEOUT:g} s"
        )

    async def restart(self) -> None:
        self.stop()
        self.restarts += 1
        await self.start()

    def stop(self) -> None:
        """Stop the process group: SIGTERM, then SIGKILL after a grace period."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(_STOP_GRACE)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(_STOP_GRACE)
        else:  # the leader is gone; its children may not be
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
