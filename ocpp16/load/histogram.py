"""A latency histogram in the manner of HdrHistogram: fixed memory, about 1.6 % precision.

Values are recorded in whole microseconds into log-linear buckets: values below 64 µs exactly,
then 32 buckets per power of two (each 1/32 to 1/64 of its value wide). However many values are
recorded, a histogram holds at most :data:`MAX_BUCKETS` counters, so the statistics of a load run
do not grow with the number of calls. A percentile is the highest value of the bucket it falls
in (never more than the largest value recorded), as HdrHistogram reports it.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MAX_BUCKETS", "MAX_VALUE_US", "Histogram"]

_SUB_BITS: Final = 6
_SUB: Final = 1 << _SUB_BITS  # 64
_HALF: Final = _SUB // 2
#: Largest value kept apart (µs, about 19 hours); larger ones count as this.
MAX_VALUE_US: Final = (1 << 36) - 1
#: Buckets a histogram can ever hold.
MAX_BUCKETS: Final = _SUB + (36 - _SUB_BITS) * _HALF


def _index(value: int) -> int:
    if value < _SUB:
        return value
    shift = value.bit_length() - _SUB_BITS
    return _SUB + (shift - 1) * _HALF + ((value >> shift) - _HALF)


def _highest(index: int) -> int:
    """The largest value that lands in bucket ``index``."""
    if index < _SUB:
        return index
    shift = (index - _SUB) // _HALF + 1
    mantissa = (index - _SUB) % _HALF + _HALF
    return ((mantissa + 1) << shift) - 1


class Histogram:
    """Counts of values (µs) in log-linear buckets; see the module docstring."""

    __slots__ = ("_buckets", "count", "max_us", "total_us")

    def __init__(self) -> None:
        self._buckets: dict[int, int] = {}
        self.count = 0
        self.total_us = 0
        self.max_us = 0

    def record(self, seconds: float) -> None:
        """Record one duration given in seconds."""
        value = min(max(int(seconds * 1_000_000), 0), MAX_VALUE_US)
        index = _index(value)
        self._buckets[index] = self._buckets.get(index, 0) + 1
        self.count += 1
        self.total_us += value
        self.max_us = max(self.max_us, value)

    def merge(self, other: Histogram) -> None:
        for index, count in other._buckets.items():
            self._buckets[index] = self._buckets.get(index, 0) + count
        self.count += other.count
        self.total_us += other.total_us
        self.max_us = max(self.max_us, other.max_us)

    def percentile(self, percent: float) -> int:
        """The value (µs) at or below which ``percent`` % of the values fall; 0 when empty."""
        if self.count == 0:
            return 0
        rank = max(1, -(-self.count * percent // 100))  # the ceiling, at least the first value
        seen = 0
        for index in sorted(self._buckets):
            seen += self._buckets[index]
            if seen >= rank:
                return min(_highest(index), self.max_us)
        return self.max_us

    def summary_ms(self) -> dict[str, float]:
        """p50, p90, p99, max and mean in milliseconds (3 decimals), for reports."""
        mean = self.total_us / self.count if self.count else 0.0
        figures = {
            "p50": self.percentile(50),
            "p90": self.percentile(90),
            "p99": self.percentile(99),
            "max": self.max_us,
            "mean": mean,
        }
        return {name: round(value / 1000, 3) for name, value in figures.items()}
