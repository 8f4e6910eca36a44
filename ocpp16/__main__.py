"""``python -m ocpp16``: the ``ocpp16`` command.

The CLI loads only here, when the package is executed, never on ``import ocpp16``.
"""

from ocpp16_cli.main import run

run()
