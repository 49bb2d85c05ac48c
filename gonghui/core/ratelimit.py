"""Fixed-window rate limits on a shared database table, atomic under concurrency (upsert)."""

from __future__ import annotations

import random
import time

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from .errors import RateLimited
from .models import Lockout, RateCounter

PRUNE_PROBABILITY = 0.001  # about one hit in a thousand sweeps expired windows


def hit(key: str, limit: int, window_seconds: int, *, now: float | None = None) -> tuple[int, int]:
    """Count one hit; return (count in this window, seconds until the window ends)."""
    now = time.time() if now is None else now
    window_start = int(now // window_seconds) * window_seconds
    table = RateCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, window_start, count) VALUES (%s, %s, 1) "
            f"ON CONFLICT (key, window_start) DO UPDATE SET count = {table}.count + 1 RETURNING count",
            [key, window_start],
        )
        count = cursor.fetchone()[0]
    if random.random() < PRUNE_PROBABILITY:
        prune()
    return count, int(window_start + window_seconds - now) + 1



def check(name: str, subject: str, message: str) -> None:
    """Raise RateLimited when the named limit (settings.GONGHUI_RATE_LIMITS) is exceeded."""
    limit, window = settings.GONGHUI_RATE_LIMITS[name]
    count, retry_after = hit(f"{name}:{subject}", limit, window)
    if count > limit:
        raise RateLimited(message, retry_after=retry_after)




def prune(older_than_seconds: int = 2 * 86400) -> int:
    deleted, _ = RateCounter.objects.filter(window_start__lt=time.time() - older_than_seconds).delete()
    return deleted


# --- Lockouts: N consecutive failures within a period lock the subject for a full period --------


def locked_for(key: str, *, now: float | None = None) -> int:
    """Seconds the subject stays locked (0 when it is not)."""
    now = time.time() if now is None else now
    until = Lockout.objects.filter(key=key).values_list("locked_until", flat=True).first() or 0
    return max(0, int(until - now + 0.999))


def register_failure(key: str, *, limit: int, period: int, now: float | None = None) -> int:
    """Count a failure; failures older than `period` are forgotten. Returns seconds locked (0 if not)."""
    now = time.time() if now is None else now
    for _attempt in range(2):
        try:
            with transaction.atomic():
                row, _created = Lockout.objects.select_for_update().get_or_create(key=key)
                if row.failures == 0 or now - row.first_failure_at > period:
                    row.failures, row.first_failure_at = 0, int(now)
                row.failures += 1
                if row.failures >= limit:
                    row.locked_until, row.failures = int(now) + period, 0
                row.save()
                return max(0, int(row.locked_until - now + 0.999))
        except IntegrityError:  # another request created the row first: count on it
            continue
    return 0


def clear_lockout(key: str) -> None:
    Lockout.objects.filter(key=key).delete()
