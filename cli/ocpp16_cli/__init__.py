"""The ``ocpp16`` command line: a Typer app on top of the ocpp16 SDK."""
