"""The wheel as a user installs it: no extras, a fresh virtual environment, the ``ocpp16`` command.

pip fetches the dependencies (from its cache when it has them), so this is the slowest test of the
suite; ``-m "not install"`` leaves it out.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

pytestmark = [pytest.mark.install, pytest.mark.timeout(300)]


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    done = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=cwd,  # not the checkout, whose ocpp16/ would shadow the installed one
        env={**env, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert done.returncode == 0, f"{command}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, ROOT, cwd=out)
    (built,) = out.glob("ocpp16-*.whl")
    return built


def test_the_wheel_carries_the_license_and_metadata(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
        (license_name,) = [n for n in names if n.endswith("/LICENSE")]
        assert "MIT License" in archive.read(license_name).decode()
    assert metadata["License-Expression"] == "MIT"
    classifiers = metadata.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert "ocpp" in (metadata["Keywords"] or "").split(",")
    requires = metadata.get_all("Requires-Dist") or []
    for name in ("typer", "rich", "websockets", "attrs"):
        (spec,) = [r for r in requires if r.split(">")[0].strip() == name]
        assert "extra" not in spec  # a plain install brings the command line
    assert any(n.startswith("ocpp16_cli/") for n in names)
    assert "ocpp16/__main__.py" in names


def test_a_plain_install_gives_a_working_command(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", wheel, cwd=tmp_path)
    ocpp16 = venv / "bin" / "ocpp16"

    shown = run(ocpp16, "--help", cwd=tmp_path)
    for command in ("list", "send", "serve", "check"):
        assert command in shown.stdout
    sent = run(ocpp16, "send", "Heartbeat", "--dry-run", cwd=tmp_path)
    assert sent.stdout.startswith("HeartbeatRequest\nRequest:\n[\n  2,")
    version = run(python, "-m", "ocpp16", "--version", cwd=tmp_path)
    assert version.stdout == f"ocpp16 {VERSION}\n"
    code = "import ocpp16, sys; print(ocpp16.__file__); print(*sorted(sys.modules))"
    where, loaded = run(python, "-c", code, cwd=tmp_path).stdout.splitlines()
    assert where.startswith(str(venv))  # the installed package, not the checkout
    assert not {"typer", "rich", "click", "pydantic"} & set(loaded.split())
