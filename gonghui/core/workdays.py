"""Chinese working days: statutory holidays and make-up working days (调休) from chinese_calendar.

chinese_calendar ships the State Council's schedule year by year (it knows 2004 up to the latest
published year). For a later year, until the library is updated, Monday–Friday count as working
days, corrected by GONGHUI_EXTRA_HOLIDAYS / GONGHUI_EXTRA_WORKDAYS, and a warning is logged once.
Deadlines are the end (23:59:59, Asia/Shanghai) of the Nth working day after the start day.
"""

from __future__ import annotations

import datetime
import logging
from functools import lru_cache

import chinese_calendar
from django.conf import settings
from django.utils import timezone

log = logging.getLogger(__name__)
_warned: set[int] = set()


@lru_cache(maxsize=4096)
def _is_workday(day: datetime.date, extra_holidays: tuple, extra_workdays: tuple) -> bool:
    iso = day.isoformat()
    if iso in extra_holidays:
        return False
    if iso in extra_workdays:
        return True
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned:
            _warned.add(day.year)
            log.warning("chinese_calendar has no schedule for %s: counting Monday-Friday as working days", day.year)
        return day.weekday() < 5


def is_workday(day: datetime.date) -> bool:
    return _is_workday(day, tuple(settings.GONGHUI_EXTRA_HOLIDAYS), tuple(settings.GONGHUI_EXTRA_WORKDAYS))


def add_workdays(start: datetime.date, days: int) -> datetime.date:
    """The Nth working day after `start` (start itself does not count)."""
    day = start
    counted = 0
    while counted < days:
        day += datetime.timedelta(days=1)
        if is_workday(day):
            counted += 1
    return day


def deadline(start: datetime.datetime, days: int) -> datetime.datetime:
    """End of the Nth working day after the local day of `start`."""
    local = timezone.localtime(start)
    last = add_workdays(local.date(), days)
    end = datetime.datetime.combine(last, datetime.time(23, 59, 59))
    return timezone.make_aware(end, timezone.get_current_timezone())


def workdays_between(start: datetime.datetime, end: datetime.datetime) -> int:
    """Working days after start's day up to and including end's day (0 if the same day)."""
    a = timezone.localtime(start).date()
    b = timezone.localtime(end).date()
    count = 0
    while a < b:
        a += datetime.timedelta(days=1)
        if is_workday(a):
            count += 1
    return count
