"""The base classes of every generated message and data type."""

from __future__ import annotations

from collections.abc import Callable
from random import Random
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar

from ocpp16._convert import BAD, from_dict

if TYPE_CHECKING:
    from ocpp16.errors import ValidationError

__all__ = ["Model", "Request", "Response"]


class Model:
    """What every generated class has; ``to_dict``, ``random`` and ``_parse`` are generated."""

    __slots__ = ()

    #: The instance for a valid wire object, else ``_convert.BAD`` (saying nothing about why:
    #: ``_parse`` does). Generated for every class, from the same description as ``_parse``.
    _fast: ClassVar[Callable[[dict[str, Any]], Any]]

    def to_dict(self) -> dict[str, Any]:
        """The wire JSON object: camelCase keys, absent fields omitted, RFC 3339 date-times."""
        raise NotImplementedError(f"{type(self).__name__} is not a generated class")

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Parse a wire JSON object; raises ValidationError with the path of the first defect
        (the first of ``ocpp16.violations(data, cls)``)."""
        if type(data) is dict:
            obj = cls._fast(data)  # valid input: the one call it costs
            if obj is not BAD:
                return obj  # type: ignore[no-any-return]
        return from_dict(data, cls)

    @classmethod
    def random(cls, full: bool = False, rng: Random | None = None) -> Self:
        """Random schema-valid values: the required fields only, or every field if ``full``.

        The same ``rng`` seed gives the same instance. Generated for every class.
        """
        raise NotImplementedError(f"{cls.__name__} is not a generated class")

    @staticmethod
    def _parse(d: dict[str, Any], errs: list[ValidationError]) -> Any:
        """The instance for the wire object ``d``, or ``_convert.BAD`` with every violation
        appended to ``errs``. Generated for every class from its constraint description."""
        raise NotImplementedError("not a generated class")


class Response(Model):
    """The payload of a CALLRESULT."""

    __slots__ = ()
    ACTION: ClassVar[str]


R = TypeVar("R", bound=Response)


class Request(Model, Generic[R]):
    """The payload of a CALL; ``R`` is the class of its answer, ``RESPONSE`` (generated)."""

    __slots__ = ()
    ACTION: ClassVar[str]
    RESPONSE: ClassVar[type[Response]]
