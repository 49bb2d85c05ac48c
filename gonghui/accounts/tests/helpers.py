"""Helpers for the login tests: a frozen rate-limit clock, codes read from the dev SMS outbox."""

from __future__ import annotations

import re
from datetime import timedelta

from django.test import Client

from gonghui.accounts.models import SmsCode, SmsOutbox
from gonghui.core import pii

# The middle of a day, of an hour and of a minute (UTC), so fixed windows never roll over by accident.
MID_WINDOW = 86400 * 20000 + 43200 + 1800 + 30


class Clock:
    def __init__(self, now: float):
        self.now = now

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def age_codes(phone: str, seconds: int) -> None:
    """Pretend the phone's codes were sent `seconds` earlier."""
    phone_hash = pii.lookup_hash("phone", phone)
    for sms in SmsCode.objects.filter(phone_hash=phone_hash):
        SmsCode.objects.filter(pk=sms.pk).update(
            created_at=sms.created_at - timedelta(seconds=seconds), expires_at=sms.expires_at - timedelta(seconds=seconds)
        )


def latest_code(phone: str) -> str:
    row = SmsOutbox.objects.filter(phone_hash=pii.lookup_hash("phone", phone)).order_by("-id").first()
    assert row is not None, "no message in the outbox"
    return re.search(r"验证码是(\d{6})", row.body).group(1)


class LoginClient:
    """Calls the login endpoints as a phone from one address; the SMS gateway runs on commit."""

    def __init__(self, capture, ip: str = "203.0.113.7"):
        self.client = Client()
        self.capture = capture
        self.ip = ip

    def send(self, phone: str, ip: str | None = None):
        with self.capture(execute=True):
            return self.client.post("/api/v1/auth/sms-code", {"phone": phone}, content_type="application/json",
                                    REMOTE_ADDR=ip or self.ip)

    def login(self, phone: str, code: str, ip: str | None = None):
        return self.client.post("/api/v1/auth/login", {"phone": phone, "code": code}, content_type="application/json",
                                REMOTE_ADDR=ip or self.ip)

    def staff_login(self, username: str, password: str, otp: str | None = None, ip: str | None = None):
        body = {"username": username, "password": password}
        if otp is not None:
            body["otp"] = otp
        return self.client.post("/api/v1/auth/staff/login", body, content_type="application/json",
                                REMOTE_ADDR=ip or self.ip)
