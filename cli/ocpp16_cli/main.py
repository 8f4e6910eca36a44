"""The root ``ocpp16`` app. Commands live one per module; errors become exit codes here only.

Start-up builds only the command that runs: the root group knows every command's name, module
and one-line help from :data:`COMMANDS`, and imports a command's module (whose ``@app.command()``
registers it) when that command is invoked. ``ocpp16 --help`` lists them all without importing
any. Command modules import the SDK inside their functions for the same reason.
"""

from __future__ import annotations

import importlib
import re
from typing import Annotated, Any, Final, NamedTuple, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

from ocpp16_cli.exit_codes import ExitCode, exit_code_for

__all__ = ["COMMANDS", "app", "run"]


class Entry(NamedTuple):
    """Where a command lives, and the line ``ocpp16 --help`` shows for it."""

    module: str
    summary: str


#: Every command, in the order ``ocpp16 --help`` lists them. A test checks each summary is the
#: first line of the command's docstring.
COMMANDS: Final = {
    "list": Entry("catalog", "The 28 OCPP 1.6 actions and who sends each."),
    "schema": Entry("catalog", "Print the JSON schema of an action's request (or response)."),
    "random": Entry("catalog", "Print a random schema-valid payload (no network)."),
    "send": Entry(
        "send", "Send CALLs to a central system as a charge point and show each exchange."
    ),
    "serve": Entry("serve", "Run a central system that validates every CALL and answers it."),
    "check": Entry(
        "check",
        "Connect as a charge point, send valid and invalid messages, and grade every answer.",
    ),
    "sim": Entry("sim", "Run a simulated charge point that behaves like a real one."),
    "load": Entry(
        "load", "Run thousands of simulated charge points against a central system and measure it."
    ),
    "fuzz": Entry(
        "fuzz",
        "Fuzz a central system: mutated CALLs, broken frames, odd sequences, security probes.",
    ),
    "replay": Entry(
        "replay", "Send a reproducer's frames again and say whether the finding still happens."
    ),
}


class _Group(TyperGroup):
    """Loads commands on demand; turns errors into one line on stderr and an exit code.

    Bad option values and other usage errors (Typer would draw a box) and every OcppError a
    command raises end here, so each command only raises.
    """

    #: Whether stdout was a pipe when the command started (set as the root context is made).
    stdout_was_pipe = False

    def list_commands(self, ctx: Any) -> list[str]:  # typer vendors click; its Context is private
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The command, or for help and completion of names a stand-in holding its summary."""
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        return TyperCommand(name=cmd_name, short_help=entry.summary, help=entry.summary)

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name = args[0]
        if name in COMMANDS:
            ctx.meta["ocpp16_command"] = name  # for errors that click raises without a context
            return name, self._load(name), args[1:]
        if not name.startswith("-"):
            from difflib import get_close_matches

            close = get_close_matches(name, COMMANDS, n=1)
            ctx.fail(f"no such command {name!r}" + (f"; did you mean {close[0]}?" if close else ""))
        return super().resolve_command(ctx, args)

    def _load(self, name: str) -> Any:
        """Import the module of command ``name`` and build its click command (once)."""
        if name not in self.commands:
            module = f"ocpp16_cli.commands.{COMMANDS[name].module}"
            importlib.import_module(module)
            for info in app.registered_commands:
                if info.callback is not None and info.callback.__module__ == module:
                    command = typer.main.get_command_from_info(
                        info,
                        pretty_exceptions_short=app.pretty_exceptions_short,
                        rich_markup_mode=app.rich_markup_mode,
                    )
                    self.commands.setdefault(command.name or name, command)
        return self.commands[name]

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        from typer._click.exceptions import NoArgsIsHelpError, UsageError

        if parent is None:
            self.stdout_was_pipe = _fd_kind(1) == "pipe"
        try:
            return super().make_context(info_name, args, parent, **extra)
        except NoArgsIsHelpError:
            raise
        except UsageError as exc:  # the root's own options: no context to exit through yet
            _usage_error(exc)
        except BrokenPipeError:  # `ocpp16 --version | head -1`: the root's eager options print
            _stdout_gone()
            raise typer.Exit(int(ExitCode.BROKEN_PIPE)) from None
        except SystemExit as exc:  # `ocpp16 --help | head -1`: see _rich_broken_pipe
            _rich_broken_pipe(exc, self.stdout_was_pipe)
            raise

    def invoke(self, ctx: Any) -> Any:
        from typer._click.exceptions import NoArgsIsHelpError, UsageError

        from ocpp16.errors import OcppError

        try:
            return super().invoke(ctx)
        except NoArgsIsHelpError:
            raise
        except UsageError as exc:
            _usage_error(exc, ctx.meta.get("ocpp16_command"))
        except OcppError as exc:
            typer.echo(f"ocpp16: error: {exc}", err=True)
            ctx.exit(int(exit_code_for(exc)))
        except KeyboardInterrupt:
            typer.echo("ocpp16: interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            _stdout_gone()
            ctx.exit(int(ExitCode.BROKEN_PIPE))
        except SystemExit as exc:
            _rich_broken_pipe(exc, self.stdout_was_pipe)
            raise


def _fd_kind(fd: int) -> str:
    """``pipe``, ``devnull`` or ``other``: what file descriptor ``fd`` is."""
    import os
    import stat

    try:
        mode = os.fstat(fd)
        if stat.S_ISFIFO(mode.st_mode):
            return "pipe"
        null = os.stat(os.devnull)
        return "devnull" if (mode.st_dev, mode.st_ino) == (null.st_dev, null.st_ino) else "other"
    except OSError:
        return "other"


def _rich_broken_pipe(exc: SystemExit, stdout_was_pipe: bool) -> None:
    """Typer prints help through a rich console of its own, whose broken-pipe handler points
    stdout at /dev/null and exits with 1. Seen exactly so (stdout a pipe at the start and
    /dev/null now: nothing else in ocpp16 moves it), it ends with 141 like any closed stdout."""
    if exc.code == 1 and stdout_was_pipe and _fd_kind(1) == "devnull":
        raise typer.Exit(int(ExitCode.BROKEN_PIPE)) from None


def _stdout_gone() -> None:
    """The reader of stdout went away (``ocpp16 list | head -1``): nothing more can be shown.

    Python ignores SIGPIPE, so a write raises BrokenPipeError instead of ending the process as
    the shell expects; the command then ends quietly with 141 (128 + SIGPIPE), what a shell
    reports for a process that SIGPIPE ended, never 1, which means "failures" for ``check``.
    Standard output is pointed at /dev/null so that flushing it at exit fails no more (the
    recipe of Python's signal module documentation)."""
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (a test runner's stdout): nothing to do
        pass


#: pydantic's words for a bad value (Typer 0.29 converts through it), and plainer ones.
_PLAINER: Final = (
    (
        re.compile(r"Input should be a valid integer, unable to parse string as an integer"),
        "not an integer",
    ),
    (
        re.compile(r"Input should be a valid number, unable to parse string as a number"),
        "not a number",
    ),
    (re.compile(r"Input should be greater than or equal to (\S+)"), r"must be at least \1"),
    (re.compile(r"Input should be less than or equal to (\S+)"), r"must be at most \1"),
    (re.compile(r"Value error, "), ""),
)


def _usage_error(exc: Any, command: str | None = None) -> NoReturn:
    """A bad option value, a missing argument, an unknown option: one line, exit code 2.

    ``command`` names the command being parsed when click raised without a context (an option
    missing its value), so the line still points at that command's help."""
    from ocpp16._text import printable, shorten

    message = exc.format_message().strip().rstrip(".")
    message = message[:1].lower() + message[1:]
    for words, plainer in _PLAINER:
        message = words.sub(plainer, message)
    if exc.ctx is not None:
        where = exc.ctx.command_path
    else:
        where = "ocpp16" if command is None else f"ocpp16 {command}"
    text = shorten(printable(message))
    typer.echo(f"ocpp16: error: {text} (see '{where} --help')", err=True)
    raise typer.Exit(int(ExitCode.USAGE))


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"ocpp16 {version('ocpp16')}")
        except PackageNotFoundError:
            typer.echo("ocpp16 (not installed: version unknown)")
        raise typer.Exit()


app = typer.Typer(
    name="ocpp16",
    cls=_Group,
    help="Send, serve and check OCPP 1.6-J messages.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Send, serve and check OCPP 1.6-J messages."""


def run() -> None:
    """Console-script entry point."""
    app(prog_name="ocpp16")  # also under `python -m ocpp16`, so completion keys on one name
