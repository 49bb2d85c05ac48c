import pytest

from gonghui.core import ratelimit

pytestmark = pytest.mark.django_db

T0 = 1_800_000_899.0  # one second before a 900-second boundary: a fixed window would end now


def test_a_lock_lasts_its_full_period_whatever_the_clock_alignment():
    for i in range(3):
        locked = ratelimit.register_failure("staff_fail:li", limit=3, period=900, now=T0 + i * 0.1)
    assert locked == 900
    assert ratelimit.locked_for("staff_fail:li", now=T0 + 5) > 890
    assert ratelimit.locked_for("staff_fail:li", now=T0 + 899) > 0
    assert ratelimit.locked_for("staff_fail:li", now=T0 + 901) == 0


def test_old_failures_are_forgotten_and_others_are_not_affected():
    ratelimit.register_failure("staff_fail:wang", limit=3, period=900, now=T0)
    ratelimit.register_failure("staff_fail:wang", limit=3, period=900, now=T0 + 10)
    # The third failure comes after the period: it starts a new count instead of locking.
    assert ratelimit.register_failure("staff_fail:wang", limit=3, period=900, now=T0 + 1000) == 0
    assert ratelimit.locked_for("staff_fail:wang", now=T0 + 1001) == 0
    for i in range(3):
        ratelimit.register_failure("staff_fail:bobby", limit=3, period=900, now=T0 + i)
    ratelimit.clear_lockout("staff_fail:bob")
    assert ratelimit.locked_for("staff_fail:bobby", now=T0 + 5) > 0
