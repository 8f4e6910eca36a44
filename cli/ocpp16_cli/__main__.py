"""``python -m ocpp16_cli``: the same as the ``ocpp16`` command."""

from ocpp16_cli.main import run

run()
