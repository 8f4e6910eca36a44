"""Exit codes of the ``ocpp16`` command, documented in the README."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ExitCode", "exit_code_for"]


class ExitCode(IntEnum):
    OK = 0
    #: A check found failures, or something unexpected went wrong.
    FAILURE = 1
    #: Usage error or bad input (unknown action, invalid JSON, a payload breaking its schema).
    USAGE = 2
    #: The connection could not be opened: refused, DNS, TLS, HTTP 401/404 on the upgrade,
    #: or the server did not agree to ``ocpp1.6``.
    CONNECT = 3
    #: No answer within the timeout.
    TIMEOUT = 4
    #: The peer answered with a CALLERROR.
    CALL_ERROR = 5
    #: The peer's CALLRESULT breaks the response schema.
    INVALID_RESPONSE = 6
    #: The peer closed the connection, or sent a frame that is not OCPP-J.
    CONNECTION_LOST = 7
    #: Standard output was closed early (``ocpp16 list | head -1``): 128 + SIGPIPE, quietly.
    BROKEN_PIPE = 141


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit code for an exception that ends a command (imports the SDK lazily)."""
    from ocpp16 import errors

    if isinstance(exc, errors.ConnectError):
        return ExitCode.CONNECT
    if isinstance(exc, errors.CallTimeout):
        return ExitCode.TIMEOUT
    if isinstance(exc, errors.CallError):
        return ExitCode.CALL_ERROR
    if isinstance(exc, errors.InvalidResponse):
        return ExitCode.INVALID_RESPONSE
    if isinstance(exc, errors.ConnectionClosed | errors.FrameError | errors.TransportError):
        return ExitCode.CONNECTION_LOST
    if isinstance(exc, errors.ValidationError | errors.UnknownAction | errors.InputError):
        return ExitCode.USAGE
    return ExitCode.FAILURE
