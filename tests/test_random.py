"""The random value helpers reach their boundaries and stay inside them."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from ocpp16 import ChargingRateUnitType, UnitOfMeasure
from ocpp16 import _random as rnd


def test_string_lengths_cover_one_to_max_length() -> None:
    r = random.Random(1)
    lengths = {len(rnd.string(r, 20)) for _ in range(2000)}
    assert lengths == set(range(1, 21))
    assert all(rnd.string(r, 500).isalnum() for _ in range(100))


def test_integers_stay_in_range_and_reach_both_ends_of_small_ranges() -> None:
    r = random.Random(2)
    small = {rnd.integer(r, 0, 8) for _ in range(1000)}
    assert small == set(range(9))
    wide = [rnd.integer(r, 1, 2_147_483_647) for _ in range(2000)]
    assert min(wide) >= 1
    assert max(wide) <= 2_147_483_647
    assert min(wide) < 100_000
    assert max(wide) > 1_000_000_000


def test_tenths_are_exact_at_one_decimal_even_for_naive_validators() -> None:
    r = random.Random(3)
    values = [rnd.tenths(r, 0, 5000) for _ in range(5000)]
    assert all(0 <= v <= 500 for v in values)
    assert all(v / 0.1 == int(v / 0.1) for v in values)  # how jsonschema tests multipleOf
    assert all(round(v * 10) == v * 10 or abs(v * 10 - round(v * 10)) < 1e-9 for v in values)
    assert len(set(values)) > 2000
    assert any(v != int(v) for v in values)


@pytest.mark.parametrize(
    ("low", "high", "allowed"),
    [
        (3, 3, {0.3}),  # one value, and one that fails the naive test: it never returned
        (0, 0, {0.0}),
        (-3, -3, {-0.3}),
        (5000, 5000, {500.0}),
        (1, 3, {0.1, 0.2, 0.3}),
        (2, 3, {0.2, 0.3}),
        (-1, 1, {-0.1, 0.0, 0.1}),
    ],
    ids=["3..3", "0..0", "-3..-3", "5000..5000", "1..3", "2..3", "-1..1"],
)
def test_tenths_on_narrow_and_degenerate_ranges(low: int, high: int, allowed: set[float]) -> None:
    r = random.Random(8)
    values = {rnd.tenths(r, low, high) for _ in range(200)}
    assert values <= allowed
    assert values


def test_tenths_of_an_empty_range_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"empty range 4\.\.3"):
        rnd.tenths(random.Random(9), 4, 3)


def test_date_times_are_utc_milliseconds_past_and_future() -> None:
    r = random.Random(4)
    values = [rnd.date_time(r) for _ in range(1000)]
    now = datetime.now(UTC)
    assert all(v.tzinfo is UTC and v.microsecond % 1000 == 0 for v in values)
    assert min(values) < now < max(values)
    assert datetime(2015, 1, 1, tzinfo=UTC) <= min(values)
    assert max(values) <= datetime(2035, 12, 31, tzinfo=UTC)


def test_member_draws_every_value_but_the_excluded() -> None:
    r = random.Random(5)
    assert {rnd.member(r, ChargingRateUnitType) for _ in range(100)} == set(ChargingRateUnitType)
    units = {rnd.member(r, UnitOfMeasure, exclude=("Hertz",)) for _ in range(2000)}
    assert units == set(UnitOfMeasure) - {UnitOfMeasure.HERTZ}
    assert UnitOfMeasure.HERTZ in {rnd.member(r, UnitOfMeasure) for _ in range(2000)}


def test_counts_start_at_min_items_and_full_means_at_least_one() -> None:
    r = random.Random(6)
    assert {rnd.count(r, 0, False) for _ in range(200)} == {0, 1, 2, 3}
    assert {rnd.count(r, 0, True) for _ in range(200)} == {1, 2, 3, 4}
    assert {rnd.count(r, 2, True) for _ in range(200)} == {2, 3, 4, 5}


def test_text_kinds() -> None:
    r = random.Random(7)
    for _ in range(200):
        float(rnd.decimal_text(r))
        assert "://" in rnd.uri_text(r)
