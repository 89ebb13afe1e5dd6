"""When the next quick and full check-ins are due, in the person's own time zone, from her last sessions."""

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Plan:
    """How often a person means to take her photos, and when she likes to be reminded; `check_dates` are the
    dates on the day of her cycle she chose for full check-ins, as far as her cycle log lets them be estimated."""

    quick_every_days: int
    full_every_days: int
    cycle_day: int | None
    timezone: str
    reminder_time: time
    check_dates: tuple[date, ...] = ()


@dataclass(frozen=True)
class Due:
    """The next due check-ins, as aware local times at the reminder time."""

    next_quick: datetime
    next_full: datetime
    overdue: bool


def _on_day(year: int, month: int, day: int) -> date:
    """`day` of a month, or the month's last day when it is shorter (31 in February is the 28th or 29th)."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _anchored(nominal: date, cycle_day: int) -> date:
    """The date on `cycle_day` nearest to `nominal` (the later one on a tie), so a monthly check-in keeps to the
    same day of the month even when a session was a few days early or late."""
    months = [
        (nominal.year + (nominal.month - 1 + step) // 12, (nominal.month - 1 + step) % 12 + 1) for step in (-1, 0, 1)
    ]
    candidates = [_on_day(year, month, cycle_day) for year, month in months]
    return min(candidates, key=lambda day: (abs((day - nominal).days), -day.toordinal()))


def _on_cycle_day(plan: Plan, last_full: date | None, nominal: date, today: date) -> date | None:
    """The full check-in's date on her chosen cycle day: with no full session yet the first such date from today,
    else the one after her last full session nearest to when it is nominally due (the later one on a tie); None
    when her log gives no such date."""
    if last_full is None:
        return next((day for day in plan.check_dates if day >= today), None)
    after = [day for day in plan.check_dates if day > last_full]
    return min(after, key=lambda day: (abs((day - nominal).days), -day.toordinal())) if after else None


def local_moment(day: date, plan: Plan) -> datetime:
    """`day` at the reminder time in the plan's zone; a time that a clock change skips becomes the valid one after
    it (02:30 on a spring-forward night reads 03:30)."""
    zone = ZoneInfo(plan.timezone)
    return datetime.combine(day, plan.reminder_time, tzinfo=zone).astimezone(UTC).astimezone(zone)


def next_due(plan: Plan, last_any: datetime | None, last_full: datetime | None, now: datetime) -> Due:
    """The next due quick and full check-ins. A full session counts as a quick one too (so `last_any` includes
    it); with no session yet, both are due today. Overdue when a due day has passed without a session."""
    zone = ZoneInfo(plan.timezone)
    today = now.astimezone(zone).date()
    quick = today if last_any is None else last_any.astimezone(zone).date() + timedelta(days=plan.quick_every_days)
    last_full_day = None if last_full is None else last_full.astimezone(zone).date()
    if last_full_day is None:
        full = today
    else:
        full = last_full_day + timedelta(days=plan.full_every_days)
        if plan.cycle_day is not None:
            full = _anchored(full, plan.cycle_day)
    full = _on_cycle_day(plan, last_full_day, full, today) or full
    # A full check-in due first is also the quick one.
    quick = min(quick, full)
    return Due(
        next_quick=local_moment(quick, plan), next_full=local_moment(full, plan), overdue=min(quick, full) < today
    )


def upcoming(
    plan: Plan, last_any: datetime | None, last_full: datetime | None, now: datetime, count: int
) -> list[tuple[str, datetime]]:
    """The next `count` check-ins ("quick" or "full", local time), as if each were taken on its day; one that is
    overdue is shown today."""
    events: list[tuple[str, datetime]] = []
    today = local_moment(now.astimezone(ZoneInfo(plan.timezone)).date(), plan)
    while len(events) < count:
        due = next_due(plan, last_any, last_full, now)
        kind = "full" if due.next_full <= due.next_quick else "quick"
        when = max(due.next_full if kind == "full" else due.next_quick, today)
        last_any = when
        if kind == "full":
            last_full = when
        events.append((kind, when))
    return events
