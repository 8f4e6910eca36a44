"""One module per command, each registering its command(s) on the root app when imported.

The root group imports a module only when one of its commands runs (see ``ocpp16_cli.main``).
"""
