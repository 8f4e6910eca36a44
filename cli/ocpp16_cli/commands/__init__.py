"""One module per command; importing this package registers them all on the root app."""

from ocpp16_cli.commands import (
    catalog,  # noqa: F401
    check,  # noqa: F401
    load,  # noqa: F401
    send,  # noqa: F401
    serve,  # noqa: F401
    sim,  # noqa: F401
)
