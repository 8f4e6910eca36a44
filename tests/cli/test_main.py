"""The root command: bad option values, --version, completion, commands loaded on demand, and an
SDK import that loads no CLI library."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from ocpp16_cli.exit_codes import ExitCode
from ocpp16_cli.main import COMMANDS, app
from typer.testing import CliRunner, Result

OCPP16 = Path(sys.executable).with_name("ocpp16")
CLI_LIBRARIES = ("typer", "rich", "click", "pydantic", "shellingham", "ocpp16_cli")


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def python(code: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **env},
    )


# Bad input on the command line: one line, exit code 2 ------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["send", "Heartbeat", "--seed", "abc"], "'--seed': not an integer (see 'ocpp16 send --"),
        (
            ["send", "Heartbeat", "--timeout", "0"],
            "invalid value for '--timeout': must be at least",
        ),
        (["send", "Heartbeat", "--timeout", "soon"], "invalid value for '--timeout': not a number"),
        (["send", "Heartbeat", "--ca", "missing.pem"], "'--ca': file 'missing.pem' does not exist"),
        (["send", "Heartbeat", "--cert", "missing.pem"], "invalid value for '--cert'"),
        (["send", "Heartbeat", "--answer", "maybe"], "'--answer': 'maybe' is not one of 'random'"),
        (["send", "Heartbeat", "--url"], "requires an argument (see 'ocpp16 send --help')"),
        (["send", "Heartbeat", "--bogus"], "no such option: --bogus"),
        (["serve", "--port", "http"], "invalid value for '--port'"),
        (["check", "ws://127.0.0.1:9/CP1", "--timeout", "-1"], "invalid value for '--timeout'"),
        (["send", "Heartbeat", "--timeout", "inf"], "'--timeout': must be at most 86400"),
        (["check", "ws://127.0.0.1:9/CP1", "--timeout", "1e12"], "'--timeout': must be at most"),
        (["serve", "--timeout", "1e309"], "'--timeout': must be at most 86400"),
        (["serve", "--timeout", "-1"], "'--timeout': must be at least 0.001"),
        (["check"], "missing argument 'URL'"),
        (["random", "Heartbeat", "--seed", "1.5"], "invalid value for '--seed'"),
        (["schema"], "missing argument 'ACTION'"),
        (["sned"], "no such command 'sned'; did you mean send?"),
        (["--bogus"], "no such option: --bogus"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)  # missing.pem really is missing
    result = run(*args)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("ocpp16: error: ")
    assert message.lower() in result.stderr.lower()
    assert "--help'" in result.stderr  # says where to look
    assert "╭" not in result.stderr
    assert "Traceback" not in result.output


def test_bad_usage_of_the_installed_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(OCPP16), "send", "Heartbeat", "--seed", "abc", "--url", "ws://127.0.0.1:9/CP1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == ExitCode.USAGE
    assert done.stdout == ""
    assert done.stderr.startswith("ocpp16: error: invalid value for '--seed'")
    assert done.stderr.count("\n") == 1, done.stderr


def test_no_arguments_shows_help() -> None:
    result = run()
    assert "Usage:" in result.stdout
    assert "ocpp16: error" not in result.output


# --version, --help, completion ------------------------------------------------------------------


def test_version_comes_from_the_package_metadata() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout == f"ocpp16 {version('ocpp16')}\n"


def test_help_lists_every_command_with_its_summary() -> None:
    result = run("--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.replace("│", " ").split())
    for name, entry in COMMANDS.items():
        assert f"{name} {entry.summary}" in text
    for option in ("--version", "--install-completion", "--show-completion"):
        assert option in result.stdout


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_loads_with_the_summary_the_root_shows(name: str) -> None:
    import typer

    group = typer.main.get_command(app)
    command = group.resolve_command(group.make_context("ocpp16", [name]), [name])[1]  # type: ignore[attr-defined]
    assert command.name == name
    assert (command.help or "").splitlines()[0] == COMMANDS[name].summary


def test_the_table_names_every_command_and_its_module() -> None:
    """A command added to a module but not to COMMANDS would never be found."""
    import importlib
    import pkgutil

    import ocpp16_cli.commands
    import typer

    for found in pkgutil.iter_modules(ocpp16_cli.commands.__path__):
        importlib.import_module(f"ocpp16_cli.commands.{found.name}")
    where = {
        info.name or typer.main.get_command_name(info.callback.__name__): info.callback.__module__
        for info in app.registered_commands
        if info.callback is not None
    }
    assert where == {name: f"ocpp16_cli.commands.{e.module}" for name, e in COMMANDS.items()}


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("ocpp16 se", {"send", "serve"}),
        ("ocpp16 send --ti", {"--timeout"}),
        ("ocpp16 send Heartbeat Start", {"StartTransaction"}),
        ("ocpp16 send --request Stat", {"StatusNotification"}),
        (
            "ocpp16 schema Get",
            {"GetCompositeSchedule", "GetConfiguration", "GetDiagnostics"}
            | {"GetLocalListVersion"},
        ),
        ("ocpp16 random Meter", {"MeterValues"}),
        ("ocpp16 check ws://h/CP1 --actions Heartbeat,Auth", {"Heartbeat,Authorize"}),
    ],
)
def test_shell_completion(words: str, expected: set[str]) -> None:
    script = subprocess.run(
        [str(OCPP16), "--show-completion", "bash"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert script.returncode == 0, script.stderr
    assert "_OCPP16_COMPLETE=complete_bash" in script.stdout
    done = subprocess.run(
        [str(OCPP16)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            **os.environ,
            "_OCPP16_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
        },
    )
    assert set(done.stdout.split()) == expected, done.stdout + done.stderr


def test_python_dash_m_ocpp16() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ocpp16", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"ocpp16 {version('ocpp16')}\n"


# What loads -----------------------------------------------------------------------------------

LOADED = "import sys; print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in {}))); "


@pytest.mark.parametrize(
    "code",
    [
        "import ocpp16",
        "import ocpp16.client, ocpp16.server, ocpp16.transport",
        "from ocpp16 import BootNotificationRequest as B; B.from_dict(B.random().to_dict())",
        "import ocpp16.conformance.runner",
    ],
)
def test_the_sdk_loads_no_cli_library(code: str) -> None:
    done = python(f"{code}\n{LOADED.format(set(CLI_LIBRARIES))}")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "\n", f"{code} loaded {done.stdout}"


COMMAND_MODULES = [f"ocpp16_cli.commands.{name}" for name in ("catalog", "check", "send", "serve")]


@pytest.mark.parametrize(
    ("args", "absent"),
    [
        (["--help"], [*COMMAND_MODULES, "ocpp16"]),
        (["--version"], [*COMMAND_MODULES, "ocpp16", "rich"]),
        (["send", "Heartbeat", "--dry-run"], [*COMMAND_MODULES[:2], COMMAND_MODULES[3], "rich"]),
        (["list", "--json"], COMMAND_MODULES[1:]),
    ],
)
def test_a_command_loads_only_what_it_uses(args: list[str], absent: list[str]) -> None:
    code = (
        "import sys\nfrom ocpp16_cli.main import run\nsys.argv = ['ocpp16', *sys.argv[1:]]\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "print('LOADED', ' '.join(sorted(sys.modules)), file=sys.stderr)"
    )
    done = python(code, *args)
    loaded = done.stderr.split("LOADED ")[1].split()
    found = [m for m in loaded for p in absent if m == p or m.startswith(f"{p}.")]
    assert not found, f"ocpp16 {' '.join(args)} loaded {found}"


# A closed stdout ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["list"],
        ["list", "--json"],
        ["schema", "MeterValues"],
        ["random", "MeterValues", "--full"],
        ["send", "Heartbeat", "--dry-run", "--url", "ws://127.0.0.1:9/CP1"],
        ["--help"],
        ["--version"],
        ["check", "--help"],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_a_closed_stdout_ends_quietly_with_141(args: list[str]) -> None:
    """``ocpp16 list | head -1``: the reader is gone before anything is written (a pipe whose
    read end is closed), so the first write fails with EPIPE whatever the output's size."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ocpp16", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write)
    assert done.returncode == ExitCode.BROKEN_PIPE
    assert int(ExitCode.BROKEN_PIPE) == 141  # 128 + SIGPIPE, as a shell reports it
    assert done.stderr == ""  # no traceback, no "Exception ignored" at exit
