"""Slowing down password guessing: failed attempts per key (an address, an identity) make the
next attempt wait, doubling each time, with bounded bookkeeping.

Pure and clocked from outside (``now`` is passed in), so the tests need no sleeps.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable

from ocpp16.limits import AUTH_FAILURES_FREE, AUTH_MAX_DELAY, MAX_AUTH_TRACKED

__all__ = ["Throttle"]


class Throttle:
    """``free`` failures of a key block its next attempt for 1 second, each further one doubles
    the wait, up to ``max_delay`` seconds. A key unseen for ``forget`` seconds starts afresh, and
    only the ``size`` most recently failing keys are remembered (the others are forgotten)."""

    def __init__(
        self,
        *,
        free: int = AUTH_FAILURES_FREE,
        max_delay: float = AUTH_MAX_DELAY,
        size: int = MAX_AUTH_TRACKED,
        forget: float | None = None,
    ) -> None:
        self.free = free
        self.max_delay = max_delay
        self.size = size
        self.forget = 10 * max_delay if forget is None else forget
        #: key -> (failures, time of the last one, blocked until)
        self._seen: OrderedDict[Hashable, tuple[int, float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def wait(self, keys: Iterable[Hashable], now: float) -> float:
        """Seconds until any of ``keys`` may try again (0: now)."""
        longest = 0.0
        for key in keys:
            entry = self._seen.get(key)
            if entry is not None:
                longest = max(longest, entry[2] - now)
        return longest

    def failed(self, keys: Iterable[Hashable], now: float) -> None:
        for key in keys:
            count, last, _ = self._seen.pop(key, (0, now, now))
            count = 1 if now - last > self.forget else count + 1
            over = count - self.free + 1
            until = now + min(self.max_delay, 2.0 ** (over - 1)) if over > 0 else now
            self._seen[key] = (count, now, until)
            while len(self._seen) > self.size:
                self._seen.popitem(last=False)

    def succeeded(self, keys: Iterable[Hashable]) -> None:
        for key in keys:
            self._seen.pop(key, None)
