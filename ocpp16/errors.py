"""The one exception tree of ocpp16.

::

    OcppError
    ├── ValidationError           a payload breaks its schema (JSON path, constraint, OCPP-J code)
    │   └── SchemaViolations      every way it breaks it, not only the first
    ├── InputError                input to fix before anything is sent (a URL, JSON text, a file)
    ├── FrameError                text that is not a valid OCPP-J frame (FormationViolation, ...)
    ├── UnknownAction             a name that is none of the 28 actions (with the closest ones)
    ├── CallError                 the peer answered a CALL with a CALLERROR
    ├── InvalidResponse           the peer's CALLRESULT breaks the response schema
    └── TransportError            anything below the OCPP layer
        ├── ConnectError          the connection could not be opened
        │   ├── DNSError          the host name does not resolve
        │   ├── RefusedError      nothing listens there (or it reset the connection)
        │   ├── TLSError          the TLS handshake failed (certificate, protocol)
        │   ├── HandshakeError    HTTP status other than 101 on the upgrade (401, 404, ...)
        │   └── SubprotocolError  the server did not agree to ``ocpp1.6``
        ├── CallTimeout           no answer within the timeout
        └── ConnectionClosed      the peer closed the connection

Library exceptions (websocket-client, ssl, socket) are re-raised as these with ``from exc``.
Error codes keep their OCPP 1.6 spellings (including ``OccurenceConstraintViolation``).
"""

from __future__ import annotations

from typing import Any, Final, Literal, get_args

from ocpp16._text import printable, shorten

__all__ = [
    "ERROR_CODES",
    "CallError",
    "CallTimeout",
    "ConnectError",
    "ConnectionClosed",
    "DNSError",
    "ErrorCode",
    "FrameError",
    "HandshakeError",
    "InputError",
    "InvalidResponse",
    "OcppError",
    "RefusedError",
    "SchemaViolations",
    "SubprotocolError",
    "TLSError",
    "TransportError",
    "UnknownAction",
    "ValidationError",
]

ErrorCode = Literal[
    "NotImplemented",
    "NotSupported",
    "InternalError",
    "ProtocolError",
    "SecurityError",
    "FormationViolation",
    "PropertyConstraintViolation",
    "OccurenceConstraintViolation",
    "TypeConstraintViolation",
    "GenericError",
]

#: The CALLERROR codes of OCPP-J 1.6, spelled as the specification spells them (those above).
ERROR_CODES: Final[tuple[ErrorCode, ...]] = get_args(ErrorCode)


class OcppError(Exception):
    """Root of every exception ocpp16 raises on purpose."""


class ValidationError(OcppError, ValueError):
    """A payload breaks its schema.

    ``path`` is a JSON path into the wire payload (``$.meterValue[0].timestamp``), ``constraint``
    names the violated rule (``maxLength 20``, ``required``, ``type string``, ``enum``,
    ``additionalProperties``, ``format date-time``, ``minItems 1``, ``multipleOf 0.1``) and
    ``code`` is the OCPP-J error code a receiver should answer with.
    """

    def __init__(self, path: str, constraint: str, code: ErrorCode, detail: str = "") -> None:
        self.path = path
        self.constraint = constraint
        self.code: ErrorCode = code
        self.detail = detail
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.path}: violates {self.constraint}"
        return f"{text} ({self.detail})" if self.detail else text

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.constraint, self.code, self.detail))

    def at(self, prefix: str) -> ValidationError:
        """The same error seen from an enclosing object: ``prefix`` + our path without its ``$``."""
        return ValidationError(prefix + self.path[1:], self.constraint, self.code, self.detail)


class SchemaViolations(ValidationError):
    """Every way a payload breaks its schema: ``violations``, field by field, unknown keys last.

    ``path``, ``constraint`` and ``code`` are those of the first violation, so code that handles a
    ValidationError handles this one too. ``str()`` is one bounded line: the first few violations
    and how many more (``ocpp16._violations.describe``).
    """

    def __init__(self, violations: list[ValidationError]) -> None:
        if not violations:
            raise ValueError("SchemaViolations needs at least one violation")
        self.violations = violations
        first = violations[0]
        super().__init__(first.path, first.constraint, first.code, first.detail)

    def __str__(self) -> str:
        # The violations may be a hostile peer's million; this text reaches one-line messages
        # (InvalidResponse, a --param error): bounded as a CALLERROR description is.
        from ocpp16._violations import describe  # that module imports this one

        return describe(self.violations)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.violations,))


class InputError(OcppError, ValueError):
    """Input to fix before anything is sent: a URL that is not a WebSocket URL, text that is not
    JSON, a certificate file that cannot be loaded. The message says what and where."""


class FrameError(OcppError):
    """Text that is not a valid OCPP-J frame; ``code`` is the CALLERROR code to answer with."""

    def __init__(self, message: str, code: ErrorCode = "FormationViolation") -> None:
        self.code: ErrorCode = code
        super().__init__(message)


class UnknownAction(OcppError, LookupError):
    """``name`` is not an OCPP 1.6 action; ``suggestions`` are the closest action names."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean {' or '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown action {name!r}{hint}")

    def __str__(self) -> str:
        return str(self.args[0])


class CallError(OcppError):
    """The peer answered a CALL with CALLERROR ``code``."""

    def __init__(
        self,
        code: str,
        description: str = "",
        details: dict[str, Any] | None = None,
        action: str = "",
    ) -> None:
        self.code = code
        self.description = description
        self.details: dict[str, Any] = details if details is not None else {}
        self.action = action
        # The peer chose the code and description: shown cut and escaped, kept whole above.
        shown = printable(shorten(code))
        text = f"{action}: CALLERROR {shown}" if action else f"CALLERROR {shown}"
        super().__init__(f"{text}: {printable(shorten(description))}" if description else text)


class InvalidResponse(OcppError):
    """The peer's CALLRESULT payload breaks the response schema: a conformance failure.

    ``error`` says where and how; ``payload`` is the raw payload as received.
    """

    def __init__(self, action: str, error: ValidationError, payload: Any) -> None:
        self.action = action
        self.error = error
        self.payload = payload
        # One bounded line however many violations (all of them are in ``.error``).
        super().__init__(f"{action} response is invalid: {printable(str(error))}")


class TransportError(OcppError):
    """A failure below the OCPP layer."""


class ConnectError(TransportError):
    """The connection could not be opened."""


class DNSError(ConnectError):
    """The host name does not resolve."""


class RefusedError(ConnectError):
    """Nothing accepts connections at that address."""


class TLSError(ConnectError):
    """The TLS handshake failed."""


class HandshakeError(ConnectError):
    """The server answered the WebSocket upgrade with an HTTP status other than 101."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


class SubprotocolError(ConnectError):
    """The server completed the handshake without agreeing to ``ocpp1.6``."""


class CallTimeout(TransportError):
    """No answer arrived within the timeout."""


class ConnectionClosed(TransportError):
    """The peer closed the connection."""
