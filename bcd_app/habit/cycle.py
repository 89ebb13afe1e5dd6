"""Where a date falls in a person's menstrual cycle, from the period starts, lengths and phases she logged."""

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from ..constants import CYCLE_LENGTH_RANGE, DEFAULT_CYCLE_LENGTH, UNKNOWN_PHASE

# A period's days as the phase counts them (days 1-5), and the luteal phase: the steadier half of a cycle, so
# ovulation is placed this many days before the next expected start, whatever the cycle's length.
MENSTRUAL_DAYS = 5
LUTEAL_DAYS = 14
# An estimate holds up to this many of her cycles after the last logged start; later the date is unknown.
ESTIMATE_CYCLES = 2

Source = Literal["logged", "estimated", "unknown"]


@dataclass(frozen=True)
class Logged:
    """What a day's entry of her cycle log tells the estimate."""

    day: date
    phase: str
    period_start: date | None
    cycle_length: int | None


@dataclass(frozen=True)
class Place:
    """A date's cycle day (1 = a period's first day; None when not known), phase, and where they come from:
    `logged` (she logged that day's phase), `estimated` (from her period starts) or `unknown`."""

    cycle_day: int | None
    phase: str
    source: Source


UNKNOWN = Place(None, UNKNOWN_PHASE, "unknown")


def phase_of_day(cycle_day: int, length: int) -> str:
    """The phase of a cycle day in a cycle of `length` days: menstrual on days 1-5, ovulation the three days around
    14 days before the next expected start, follicular between, luteal after (28 days: 1-5, 6-13, 14-16, 17-28)."""
    ovulation = length + 1 - LUTEAL_DAYS
    if cycle_day <= MENSTRUAL_DAYS:
        return "menstrual"
    if cycle_day < ovulation - 1:
        return "follicular"
    if cycle_day <= ovulation + 1:
        return "ovulation"
    return "luteal"


def period_starts(entries: Sequence[Logged], on: date | None = None) -> list[date]:
    """The distinct period starts she logged (on or before `on` when given), oldest first."""
    return sorted({e.period_start for e in entries if e.period_start and (on is None or e.period_start <= on)})


def cycle_length(entries: Sequence[Logged], on: date) -> int:
    """Her cycle's length as of `on`: the length she logged last on or before that day (else the first she logged
    at all), else the median of the gaps between her logged starts that are a cycle long (21-35 days: a longer gap
    is a period she did not log), else 28."""
    lengths = sorted((e.day, e.cycle_length) for e in entries if e.cycle_length is not None)
    if lengths:
        before = [length for day, length in lengths if day <= on]
        return before[-1] if before else lengths[0][1]
    starts = period_starts(entries, on)
    low, high = CYCLE_LENGTH_RANGE
    gaps = [(b - a).days for a, b in itertools.pairwise(starts) if low <= (b - a).days <= high]
    return math.floor(statistics.median(gaps) + 0.5) if gaps else DEFAULT_CYCLE_LENGTH


def estimated_day(entries: Sequence[Logged], on: date) -> tuple[int, int] | None:
    """`on`'s cycle day and the cycle's length, counted from the latest logged start on or before it; None with no
    such start or when `on` is two or more of her cycles after it."""
    starts = period_starts(entries, on)
    if not starts:
        return None
    length = cycle_length(entries, on)
    since = (on - starts[-1]).days
    if since >= ESTIMATE_CYCLES * length:
        return None
    return since % length + 1, length


def where_in_cycle(entries: Sequence[Logged], on: date) -> Place:
    """`on`'s cycle day and phase: the phase she logged for that day when she did, else the phase of its estimated
    cycle day, else unknown."""
    estimate = estimated_day(entries, on)
    cycle_day = None if estimate is None else estimate[0]
    logged = next((e.phase for e in entries if e.day == on and e.phase != UNKNOWN_PHASE), None)
    if logged is not None:
        return Place(cycle_day, logged, "logged")
    if estimate is None:
        return UNKNOWN
    return Place(cycle_day, phase_of_day(*estimate), "estimated")


def check_dates(entries: Sequence[Logged], check_day: int) -> list[date]:
    """The dates on `check_day` of her cycle (day 1 = a period's first day) from her latest logged start, as far as
    an estimate holds (two of her cycles), oldest first; none without a logged start."""
    starts = period_starts(entries)
    if not starts:
        return []
    start = starts[-1]
    length = cycle_length(entries, max(start, *(e.day for e in entries)))
    if check_day > length:
        return []
    return [start + timedelta(days=k * length + check_day - 1) for k in range(ESTIMATE_CYCLES)]
