"""The one-command demo: ``python -m ocpp16_cli.demo``, as ``make demo`` runs it."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

import pytest

from tests.ocpp_peer import CP_ACTIONS


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocpp16_cli.demo", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.parametrize("args", [[], ["--full", "--seed", "3"]], ids=["default", "full"])
def test_the_demo_sends_every_charge_point_action_and_stops_the_server(args: list[str]) -> None:
    done = run_demo(*args)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    header = re.search(r"ocpp16 serve listens on ws://127\.0\.0\.1:(\d+)/ocpp/<identity>", out)
    assert header is not None, out
    # Every charge point action went out and got its answer, BootNotification first.
    for action in CP_ACTIONS:
        assert f"{action}Request" in out
    assert out.index("BootNotificationRequest") < out.index("AuthorizeRequest")
    assert out.count("Request:") == len(CP_ACTIONS) == 10
    assert out.count("Response:") == 10
    # The after-boot round trip, as the charge point saw it.
    assert re.search(r"the central system sent \[2, \"[^\"]+\", \"GetConfiguration\"", out)
    summary = out.strip().splitlines()[-1]
    assert summary == (
        "demo: 10/10 charge point calls answered with valid CALLRESULTs; GetConfiguration sent"
        " back after the boot and answered validly; ocpp16 send exited 0; server stopped."
    )
    assert "Traceback" not in out + done.stderr
    # The server is gone: nothing listens on its port any more.
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", int(header.group(1))))
