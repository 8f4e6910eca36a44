"""``ocpp16 list``, ``ocpp16 schema`` and ``ocpp16 random``: look at messages, no network."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ocpp16_cli.main import app
from ocpp16_cli.options import complete_action

__all__ = ["list_actions", "random_payload", "schema"]


@app.command("list")
def list_actions(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per action.")] = False,
) -> None:
    """The 28 OCPP 1.6 actions and who sends each."""
    from ocpp16 import ACTIONS

    if as_json:
        for action in ACTIONS.values():
            typer.echo(
                json.dumps(
                    {
                        "action": action.name,
                        "sender": action.sender.value,
                        "summary": action.summary,
                    }
                )
            )
        return
    from rich.table import Table

    from ocpp16_cli.output import make_console

    table = Table(title="OCPP 1.6 actions", title_justify="left")
    # Names and senders never wrap nor shrink to an ellipsis; the summaries take what is left.
    longest = max(len(name) for name in ACTIONS)
    table.add_column("Action", style="bold", no_wrap=True, min_width=longest)
    table.add_column("Sent by", no_wrap=True)
    table.add_column("What it does")
    senders = {"cp": "charge point", "cs": "central system", "both": "either side"}
    for action in ACTIONS.values():
        table.add_row(action.name, senders[action.sender.value], action.summary)
    make_console().print(table)  # on a pipe as wide as the other tables, not cut at 80


@app.command()
def schema(
    action: Annotated[
        str,
        typer.Argument(help="Action name, e.g. BootNotification.", autocompletion=complete_action),
    ],
    response: Annotated[bool, typer.Option("--response", help="The response schema.")] = False,
) -> None:
    """Print the JSON schema of an action's request (or response)."""
    from ocpp16 import resolve_action
    from ocpp16.schemas import schema_text

    found = resolve_action(action)
    typer.echo(schema_text(found.name, response=response), nl=False)


@app.command("random")
def random_payload(
    action: Annotated[
        str,
        typer.Argument(help="Action name, e.g. BootNotification.", autocompletion=complete_action),
    ],
    response: Annotated[bool, typer.Option("--response", help="A response payload.")] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Fill every field, not only required ones.")
    ] = False,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed for repeatable payloads.")
    ] = None,
) -> None:
    """Print a random schema-valid payload (no network)."""
    import random

    from ocpp16 import resolve_action

    found = resolve_action(action)
    cls = found.response if response else found.request
    rng = random.Random(seed) if seed is not None else None
    typer.echo(json.dumps(cls.random(full=full, rng=rng).to_dict(), indent=2))
