"""Delta debugging: the fewest frames and the smallest payload that still trigger a finding.

:func:`ddmin` is Zeller's algorithm over a list (split into n chunks, try each chunk and each
complement, refine), with a bound on the tests it may run. :func:`shrink_frame` then makes one
CALL frame smaller: drop payload keys, shorten strings and arrays, one change at a time, keeping
each that still triggers. Both take the test as an async predicate, so they know nothing about
connections; :func:`minimize` wires them to a replay.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, Final, TypeVar

from ocpp16.frames import CALL

__all__ = ["MAX_TESTS", "Budget", "candidates", "ddmin", "shrink_frame"]

T = TypeVar("T")

#: Tests (replays) one minimization may run at most.
MAX_TESTS: Final = 48


class Budget:
    """How many tests are left."""

    def __init__(self, tests: int = MAX_TESTS) -> None:
        self.left = tests

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


async def ddmin(
    items: Sequence[T], test: Callable[[list[T]], Awaitable[bool]], budget: Budget
) -> list[T]:
    """A 1-minimal sublist of ``items`` (order kept) for which ``test`` is true, as far as
    ``budget`` allows; ``test(items)`` is assumed true."""
    current = list(items)
    n = 2
    while len(current) >= 2:
        size = len(current)
        chunks = [current[i * size // n : (i + 1) * size // n] for i in range(n)]
        reduced = False
        for chunk in chunks:  # a chunk alone
            if not budget.take():
                return current
            if await test(chunk):
                current, n, reduced = chunk, 2, True
                break
        if not reduced and n > 2:  # with two chunks the complements are the chunks
            for index in range(n):  # everything but one chunk
                rest = [x for i, chunk in enumerate(chunks) if i != index for x in chunk]
                if not budget.take():
                    return current
                if await test(rest):
                    current, n, reduced = rest, max(n - 1, 2), True
                    break
        if not reduced:
            if n >= len(current):
                break
            n = min(n * 2, len(current))
    return current


def candidates(value: Any) -> Iterator[Any]:
    """Smaller versions of a JSON value, each one change away, biggest savings first: keys
    dropped, strings halved, arrays halved and cut by one, nested values made smaller."""
    if isinstance(value, dict):
        for key in list(value):
            yield {k: v for k, v in value.items() if k != key}
        for key, item in value.items():
            for smaller in candidates(item):
                yield {**value, key: smaller}
    elif isinstance(value, list):
        if len(value) > 1:
            yield value[: len(value) // 2]
            yield value[:-1]
        for index, item in enumerate(value[:2]):
            for smaller in candidates(item):
                yield [*value[:index], smaller, *value[index + 1 :]]
    elif isinstance(value, str) and len(value) > 1:
        # Halves only: cutting one character at a time costs a replay per character (and a
        # restart per try that crashes), for little a reader gains.
        yield value[: len(value) // 2]
        yield value[len(value) // 2 :]


async def shrink_frame(
    frame: str | bytes, test: Callable[[str | bytes], Awaitable[bool]], budget: Budget
) -> str | bytes:
    """``frame`` (a CALL) with its payload made as small as ``test`` allows. Frames that are
    not a readable CALL are returned as they are."""
    try:
        parsed = json.loads(frame)
    except (ValueError, RecursionError, UnicodeDecodeError):
        return frame
    if not (isinstance(parsed, list) and len(parsed) == 4 and parsed[0] == CALL):
        return frame
    payload = parsed[3]
    improved = True
    while improved:
        improved = False
        for smaller in candidates(payload):
            if not budget.take():
                return _frame(parsed, payload, frame)
            text = _frame(parsed, smaller, frame)
            if await test(text):
                payload, improved = smaller, True
                break
    return _frame(parsed, payload, frame)


def _frame(parsed: list[Any], payload: Any, original: str | bytes) -> str | bytes:
    text = json.dumps([*parsed[:3], payload], separators=(",", ":"), ensure_ascii=True)
    return text.encode("utf-8") if isinstance(original, bytes) else text
