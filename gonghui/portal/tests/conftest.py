"""Helpers for the portal tests: request a code the way a phone does and read it from the outbox."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from gonghui.accounts.models import SmsOutbox
from gonghui.core import pii, ratelimit

CODE_IN_SMS = re.compile(r"验证码是(\d{6})")


def outbox_code(phone: str) -> str:
    """The code of the newest SMS sent to this phone (what the worker reads on the phone)."""
    message = SmsOutbox.objects.filter(phone_hash=pii.lookup_hash("phone", phone)).order_by("-id").first()
    assert message is not None, "no SMS was sent"
    return CODE_IN_SMS.search(message.body).group(1)


@pytest.fixture
def request_code(client, django_capture_on_commit_callbacks):
    """POST 获取验证码 (as htmx by default); the SMS goes out when the transaction commits."""

    def send(phone: str, *, htmx: bool = True, c=None):
        headers = {"HX-Request": "true"} if htmx else {}
        with django_capture_on_commit_callbacks(execute=True):
            return (c or client).post("/login/code/", {"phone": phone}, headers=headers)

    return send


class Clock:
    """Pins the rate limiter's clock; advancing it also ages the SMS codes already issued, so
    "within 60 s" and "a minute later" are exact for every limit."""

    def __init__(self, value: float):
        self._value = value

    @property
    def value(self) -> float:
        return self._value

    @value.setter
    def value(self, new: float) -> None:
        from datetime import timedelta

        from django.db.models import F

        from gonghui.accounts.models import SmsCode

        SmsCode.objects.update(created_at=F("created_at") - timedelta(seconds=new - self._value))
        self._value = new


@pytest.fixture
def clock(monkeypatch):
    now = Clock(1_800_000_000.0)  # the start of a one-minute window
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: now.value))
    return now
