from types import SimpleNamespace

import pytest

from gonghui.accounts.models import SmsOutbox
from gonghui.accounts.services import sms_code_send
from gonghui.core import ratelimit
from gonghui.core.errors import RateLimited

pytestmark = pytest.mark.django_db


def test_two_requests_straddling_a_minute_boundary_send_one_code(monkeypatch, django_capture_on_commit_callbacks):
    now = SimpleNamespace(value=1_800_000_059.0)  # one second before a new one-minute window
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: now.value))
    with django_capture_on_commit_callbacks(execute=True):
        sms_code_send(phone="13700137000", ip="10.0.0.1")
    now.value += 2  # the per-minute counter has rolled over
    with pytest.raises(RateLimited) as caught:
        sms_code_send(phone="13700137000", ip="10.0.0.1")
    assert "秒后再试" in caught.value.message
    assert SmsOutbox.objects.count() == 1
