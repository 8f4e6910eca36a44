"""``ocpp16 replay``: run a fuzzing finding's reproducer again."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ocpp16_cli.main import app
from ocpp16_cli.options import Ca, Cert, Insecure, Key, Password, Timeout

__all__ = ["replay"]


@app.command()
def replay(
    file: Annotated[Path, typer.Argument(help="A reproducer file written by ocpp16 fuzz --out.")],
    url: Annotated[
        str,
        typer.Argument(
            help='Central system URL without the identity (the file\'s "target", or another).'
        ),
    ],
    *,
    password: Password = None,
    ca: Ca = None,
    cert: Cert = None,
    key: Key = None,
    insecure: Insecure = False,
    timeout: Timeout = 5.0,
) -> None:
    """Send a reproducer's frames again and say whether the finding still happens.

    Exit 1 when it still reproduces, 0 when it does not; 2 bad input (not a reproducer),
    3 the target cannot be reached.
    """
    import asyncio

    from ocpp16._text import printable, shorten
    from ocpp16.fuzz.engine import where_of
    from ocpp16.fuzz.replay import replay_finding
    from ocpp16.fuzz.reproducer import load

    finding, _target = load(file)
    # "_" stands for the identities, which come from the file: errors show the URL as given.
    where, _ = where_of(url.rstrip("/"), "_", password, ca=None if ca is None else str(ca),
                        cert=None if cert is None else str(cert),
                        key=None if key is None else str(key), insecure=insecure)  # fmt: skip
    seen = asyncio.run(replay_finding(finding, where, timeout))
    what = " ".join(x for x in (finding.oracle, finding.action, finding.kind, finding.path) if x)
    detail = printable(shorten(seen.detail))
    if seen.oracle == finding.oracle:
        typer.echo(f"REPRODUCED {printable(shorten(what))}: {detail}")
        raise typer.Exit(1)
    now = f" (now: {seen.oracle})" if seen.oracle else ""
    typer.echo(f"NOT REPRODUCED {printable(shorten(what))}{now}: {detail}")
