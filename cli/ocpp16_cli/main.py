"""The root ``ocpp16`` app. Commands live one per module; errors become exit codes here only.

Command modules import the SDK inside their functions, so ``ocpp16 --help`` and each command
load only what they use.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from ocpp16_cli.exit_codes import exit_code_for

__all__ = ["app", "run"]


class _Group(TyperGroup):
    """Turns every OcppError a command raises into one line on stderr and its exit code."""

    def invoke(self, ctx: Any) -> Any:  # typer vendors click; its Context is private
        from ocpp16.errors import OcppError

        try:
            return super().invoke(ctx)
        except OcppError as exc:
            typer.echo(f"ocpp16: error: {exc}", err=True)
            ctx.exit(int(exit_code_for(exc)))
        except KeyboardInterrupt:
            typer.echo("ocpp16: interrupted", err=True)
            ctx.exit(130)


app = typer.Typer(
    name="ocpp16",
    cls=_Group,
    help="Send, serve and check OCPP 1.6-J messages.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def run() -> None:
    """Console-script entry point."""
    app()


# Each command module adds its command(s) to `app` when imported.
from ocpp16_cli import commands  # noqa: E402, F401

if __name__ == "__main__":
    run()
