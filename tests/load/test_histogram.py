"""The load statistics' histogram: percentiles within its precision, memory bounded."""

from __future__ import annotations

import random

import pytest

from ocpp16.load.histogram import MAX_BUCKETS, Histogram


def exact(values_us: list[int], percent: float) -> int:
    ordered = sorted(values_us)
    rank = max(1, -(-len(ordered) * percent // 100))
    return ordered[int(rank) - 1]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("percent", [50, 90, 99, 99.9, 100])
def test_percentiles_within_precision(seed: int, percent: float) -> None:
    rng = random.Random(seed)
    values = [int(rng.lognormvariate(8, 1.5)) for _ in range(20_000)]  # µs: ~3 ms median
    histogram = Histogram()
    for value in values:
        histogram.record(value / 1_000_000)
    want = exact(values, percent)
    got = histogram.percentile(percent)
    assert want <= got <= max(want * 1.032, want + 1)  # a bucket is at most 1/32 wide
    assert histogram.max_us == max(values) and histogram.count == len(values)


def test_memory_does_not_grow_with_the_number_of_values() -> None:
    histogram = Histogram()
    rng = random.Random(5)
    for _ in range(100_000):
        histogram.record(rng.uniform(0, 100_000))  # up to a day, in seconds
    histogram.record(-1.0)
    histogram.record(10**9)
    assert len(histogram._buckets) <= MAX_BUCKETS
    assert histogram.count == 100_002


def test_merge_and_empty() -> None:
    first, second = Histogram(), Histogram()
    assert first.percentile(99) == 0 and first.summary_ms()["mean"] == 0
    first.record(0.000_010)  # below 64 µs every microsecond has its own bucket
    second.record(0.000_030)
    first.merge(second)
    assert first.count == 2 and first.percentile(50) == 10 and first.max_us == 30
    assert first.summary_ms() == {"p50": 0.01, "p90": 0.03, "p99": 0.03, "max": 0.03, "mean": 0.02}
