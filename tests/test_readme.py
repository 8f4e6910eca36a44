"""The README's SDK example runs as printed and prints what its comments say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_sdk_example_runs_as_printed(capsys: pytest.CaptureFixture[str]) -> None:
    readme = README.read_text(encoding="utf-8")
    section = readme[readme.index("## The SDK") : readme.index("## Layout")]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None
    exec(compile(found.group(1), "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "{'chargePointVendor': 'Acme', 'chargePointModel': 'X1'}"
    assert printed[1].startswith("BootNotificationRequest(charge_point_vendor=")
    assert printed[2:] == [
        "$.chargePointModel: violates required (missing)",
        "$.chargePointVendor: violates type string (got integer)",
        "$.chargePointModel: violates required (missing)",
        "True",
    ]
