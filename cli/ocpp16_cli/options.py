"""Command-line options shared by the commands that connect to a central system."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# The SDK's bounds, named once: the CLI refuses what the SDK would refuse.
from ocpp16.limits import MAX_TIMEOUT, MIN_TIMEOUT

__all__ = [
    "MAX_TIMEOUT",
    "MIN_TIMEOUT",
    "Ca",
    "Cert",
    "Connectors",
    "Identity",
    "Insecure",
    "Key",
    "MaxFrame",
    "Password",
    "PlanFile",
    "Sessions",
    "Speed",
    "Timeout",
    "complete_action",
    "complete_actions",
]


def complete_action(incomplete: str) -> list[str]:
    """Tab completion of an action name: those starting with what was typed (Typer keeps only
    completions that start with it as typed, so the case must match)."""
    from ocpp16 import ACTIONS

    return [name for name in ACTIONS if name.startswith(incomplete)]


def complete_actions(incomplete: str) -> list[str]:
    """Tab completion of a comma-separated list of actions (``--actions A,B``): its last name."""
    done, comma, last = incomplete.rpartition(",")
    return [f"{done}{comma}{name}" for name in complete_action(last)]


Identity = Annotated[
    str | None,
    typer.Option(
        "--id",
        metavar="IDENTITY",
        help="Charge point identity, appended to the URL path (percent-encoded).",
        show_default=False,
    ),
]
Password = Annotated[
    str | None,
    typer.Option(
        envvar="OCPP16_PASSWORD",
        help="HTTP Basic auth password (the user name is the identity). Never printed.",
        show_default=False,
    ),
]
Ca = Annotated[
    Path | None,
    typer.Option(exists=True, dir_okay=False, help="CA bundle (PEM) to verify the server."),
]
Cert = Annotated[
    Path | None,
    typer.Option(exists=True, dir_okay=False, help="Client certificate (PEM), profile 3."),
]
Key = Annotated[
    Path | None,
    typer.Option(exists=True, dir_okay=False, help="Private key (PEM) of --cert."),
]
Insecure = Annotated[
    bool, typer.Option("--insecure", help="Do not verify the server's certificate.")
]
MaxFrame = Annotated[
    int | None,
    typer.Option(
        "--max-frame",
        metavar="BYTES",
        min=1,
        help="Largest message accepted from the central system; a bigger one closes the"
        " connection (1009). Default 10 MiB (ocpp16.limits.MAX_FRAME_BYTES).",
        show_default=False,
    ),
]

# Options of the commands that run simulated charge points (sim, load).
Connectors = Annotated[int, typer.Option(min=1, max=16, help="Connectors per charge point.")]
Sessions = Annotated[
    str | None,
    typer.Option(
        metavar="auto",
        help="auto: plausible random charging sessions on every connector, from --seed.",
        show_default=False,
    ),
]
PlanFile = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE",
        help="Timed events per connector (.toml, else JSON); see the README.",
        show_default=False,
    ),
]
Speed = Annotated[
    float,
    typer.Option(
        metavar="X", help="Run the simulated clocks X times faster (timers, meter, plan)."
    ),
]
Timeout = Annotated[
    float,
    typer.Option(
        min=MIN_TIMEOUT, max=MAX_TIMEOUT, help="Seconds to wait to connect and for each answer."
    ),
]
