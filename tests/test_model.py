"""The base classes: every request names its response class, and loading stays lazy."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import ocpp16
from ocpp16 import ACTIONS, Action, Request, Response

ACTION_LIST = list(ACTIONS.values())


@pytest.mark.parametrize("action", ACTION_LIST, ids=[a.name for a in ACTION_LIST])
def test_every_request_names_its_response(action: Action) -> None:
    request = action.request
    assert issubclass(request, Request)
    assert request.RESPONSE is action.response
    assert issubclass(request.RESPONSE, Response)
    assert request.RESPONSE.ACTION == request.ACTION == action.name


def test_response_is_typed_on_the_class() -> None:
    # What mypy sees is what runs: the attribute exists on the generated class itself.
    assert "RESPONSE" in vars(ocpp16.BootNotificationRequest)
    assert ocpp16.BootNotificationRequest.RESPONSE is ocpp16.BootNotificationResponse


def _loaded_after(statement: str) -> list[str]:
    probe = (
        f"import json, sys, ocpp16; {statement}; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('ocpp16._generated.', "
        "'ocpp16.constraints')))))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded: list[str] = json.loads(done.stdout)
    return loaded


@pytest.mark.parametrize(
    ("statement", "modules"),
    [
        ("pass", ["actions"]),
        ("ocpp16.HeartbeatRequest.RESPONSE", ["actions", "heartbeat"]),
        ("ocpp16.BootNotificationRequest.RESPONSE", ["actions", "boot_notification", "enums"]),
        (
            "ocpp16.ACTIONS['MeterValues'].request.RESPONSE",
            ["actions", "datatypes", "enums", "meter_values"],
        ),
        ("ocpp16.HeartbeatRequest.from_dict({})", ["actions", "heartbeat"]),
    ],
    ids=["import", "Heartbeat", "BootNotification", "MeterValues", "from_dict"],
)
def test_a_request_loads_its_own_module_only(statement: str, modules: list[str]) -> None:
    """RESPONSE lives in the request's module: nothing unrelated loads, nor the constraint data."""
    assert _loaded_after(statement) == [f"ocpp16._generated.{m}" for m in modules]
