"""The base classes of every generated message and data type."""

from __future__ import annotations

from random import Random
from typing import Any, ClassVar, Generic, Self, TypeVar

from ocpp16._convert import from_dict, to_dict

__all__ = ["Model", "Request", "Response"]


class Model:
    """Wire conversion shared by all generated classes; ``random()`` is generated per class."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """The wire JSON object: camelCase keys, absent fields omitted, RFC 3339 date-times."""
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Parse a wire JSON object; raises ValidationError with the path of the first defect."""
        return from_dict(data, cls)

    @classmethod
    def random(cls, full: bool = False, rng: Random | None = None) -> Self:
        """Random schema-valid values: the required fields only, or every field if ``full``.

        The same ``rng`` seed gives the same instance. Generated for every class.
        """
        raise NotImplementedError(f"{cls.__name__} is not a generated class")


class Response(Model):
    """The payload of a CALLRESULT."""

    __slots__ = ()
    ACTION: ClassVar[str]


R = TypeVar("R", bound=Response)


class Request(Model, Generic[R]):
    """The payload of a CALL; ``R`` is the class of its answer."""

    __slots__ = ()
    ACTION: ClassVar[str]
    RESPONSE: ClassVar[type[Response]]
