"""Times and durations from the central system, kept where datetime arithmetic survives them.

A central system may send any date-time (year 1 or 9999) and any integer; adding an offset to
either can overflow ``datetime``. Every such value passes through here before the model does
arithmetic with it, and one out of range is refused by the caller (a profile Rejected, a clock
not taken) instead of crashing the station.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

__all__ = ["MAX_OFFSET_S", "plausible", "plausible_offset"]

#: Years a date-time of the central system may fall in.
_FIRST_YEAR: Final = 1970
_LAST_YEAR: Final = 2200
#: Longest offset (s) a schedule, interval or duration may carry: ten years.
MAX_OFFSET_S: Final = 10 * 365 * 86400


def plausible(moment: datetime | None) -> bool:
    """Whether ``moment`` (when given) lies in the years the model computes with."""
    return moment is None or _FIRST_YEAR <= moment.year <= _LAST_YEAR


def plausible_offset(seconds: int | float | None) -> bool:
    """Whether ``seconds`` (when given) is a non-negative offset of at most ten years."""
    return seconds is None or 0 <= seconds <= MAX_OFFSET_S
