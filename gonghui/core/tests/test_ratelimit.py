"""Fixed-window counters shared by every web node: counted atomically, per key, per window."""

from __future__ import annotations

import pytest

from gonghui.core import ratelimit
from gonghui.core.errors import RateLimited
from gonghui.core.models import RateCounter

pytestmark = pytest.mark.django_db

T = 86400 * 20000 + 30  # 30 s into a minute


def test_hits_are_counted_per_key_and_window():
    assert ratelimit.hit("a", 3, 60, now=T) == (1, 31)
    assert ratelimit.hit("a", 3, 60, now=T + 10) == (2, 21)
    assert ratelimit.hit("b", 3, 60, now=T + 10)[0] == 1
    assert ratelimit.hit("a", 3, 60, now=T + 30)[0] == 1  # the next window starts afresh
    assert ratelimit.hit("a", 3, 60, now=T + 31)[0] == 2  # still the window that began at T + 30


def test_check_raises_with_a_chinese_message_and_the_wait(settings, monkeypatch):
    settings.GONGHUI_RATE_LIMITS = {**settings.GONGHUI_RATE_LIMITS, "probe": (2, 60)}
    monkeypatch.setattr("gonghui.core.ratelimit.time", type("C", (), {"time": staticmethod(lambda: T)}))
    ratelimit.check("probe", "x", "请求过于频繁，请稍后再试")
    ratelimit.check("probe", "x", "请求过于频繁，请稍后再试")
    with pytest.raises(RateLimited) as refused:
        ratelimit.check("probe", "x", "请求过于频繁，请稍后再试")
    assert refused.value.status == 429 and refused.value.code == "rate_limited"
    assert refused.value.message == "请求过于频繁，请稍后再试" and refused.value.retry_after == 31
    ratelimit.check("probe", "y", "请求过于频繁，请稍后再试")  # another subject is not affected


def test_prune_drops_old_windows_only():
    ratelimit.hit("old", 10, 60, now=T - 3 * 86400)
    ratelimit.hit("new", 10, 60)
    assert ratelimit.prune() == 1
    assert list(RateCounter.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db
def test_rate_counters_are_unlogged_on_postgresql():
    """A commit that wrote only rate counters does not wait for a WAL flush (see migration 0003)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("UNLOGGED is a PostgreSQL table property")
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'core_ratecounter'")
        assert cursor.fetchone()[0] == "u"
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'core_lockout'")
        assert cursor.fetchone()[0] == "p"
