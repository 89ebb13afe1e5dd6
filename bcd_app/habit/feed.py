"""The calendar feed a phone subscribes to: the next check-ins as events with an alarm, in words a lock screen may
show (no health word, nothing about what the photos are)."""

from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event

TITLES = {"quick": "Photo check-in", "full": "Photo check-in: all views"}
DESCRIPTION = "A few minutes for your photos, as planned."
EVENT_MINUTES = 15
PRODUCT_ID = "-//BCD//Check-ins//EN"


def calendar_feed(events: list[tuple[str, datetime]], feed_id: str, now: datetime) -> bytes:
    """An iCalendar (RFC 5545) document of `events` (kind, aware local start), each with a display alarm at its
    start; `feed_id` keeps every event's UID stable across refreshes and apart from other people's feeds."""
    feed = Calendar()
    feed.add("prodid", PRODUCT_ID)
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("x-wr-calname", "Photo check-ins")
    for kind, start in events:
        event = Event()
        event.add("uid", f"{kind}-{start.date().isoformat()}-{feed_id}@bcd")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=EVENT_MINUTES))
        event.add("summary", TITLES[kind])
        event.add("description", DESCRIPTION)
        event.add("transp", "TRANSPARENT")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", TITLES[kind])
        alarm.add("trigger", timedelta(0))
        event.add_component(alarm)
        feed.add_component(event)
    feed.add_missing_timezones()
    return feed.to_ical()
