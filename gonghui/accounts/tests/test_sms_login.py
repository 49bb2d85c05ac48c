"""Workers log in with phone + SMS code: codes are secret, single use, short-lived and rate-limited."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError

from gonghui.accounts import services
from gonghui.accounts.models import ApiToken, SmsCode, User
from gonghui.accounts.tests.helpers import age_codes, latest_code
from gonghui.core import pii
from gonghui.core.models import AuditEntry
from gonghui.testing.api_asserts import assert_error
from gonghui.testing.fixtures import WorkerFactory

pytestmark = pytest.mark.django_db

PHONE = "13800138000"


def _limits(settings, **overrides):
    settings.GONGHUI_RATE_LIMITS = {**settings.GONGHUI_RATE_LIMITS, **overrides}


def test_the_code_is_six_digits_sent_by_sms_and_never_in_a_response(login_client):
    sent = login_client.send(PHONE)
    assert sent.status_code == 200
    assert sent.json() == {"sent": True, "expires_in": 300, "message": "验证码已发送，5分钟内有效"}
    code = latest_code(PHONE)
    assert re.fullmatch(r"\d{6}", code)
    assert code not in sent.content.decode()
    sms = SmsCode.objects.get()
    assert code not in json.dumps([sms.code_hash, sms.phone_hash, sms.ip])  # stored as a keyed hash only
    login = login_client.login(PHONE, code)
    assert login.status_code == 200
    assert code not in login.content.decode()
    assert login.json()["user"]["phone_masked"] == "138****8000"
    assert PHONE not in login.content.decode()


def test_codes_are_random(login_client):
    codes = set()
    for i in range(12):
        phone = f"1390000{i:04d}"
        assert login_client.send(phone, ip=f"198.51.100.{i}").status_code == 200
        codes.add(latest_code(phone))
    assert len(codes) > 1


def test_a_code_is_single_use(login_client):
    login_client.send(PHONE)
    code = latest_code(PHONE)
    assert login_client.login(PHONE, code).status_code == 200
    assert_error(login_client.login(PHONE, code), 400, "invalid_code", "code")


def test_a_code_expires_after_five_minutes(login_client):
    login_client.send(PHONE)
    sms = SmsCode.objects.get()
    assert (sms.expires_at - sms.created_at).total_seconds() == pytest.approx(300, abs=1)
    age_codes(PHONE, 301)
    assert_error(login_client.login(PHONE, latest_code(PHONE)), 400, "invalid_code", "code")
    assert not User.objects.filter(kind=User.Kind.WORKER).exists()


def test_a_code_still_works_just_before_it_expires(login_client):
    login_client.send(PHONE)
    age_codes(PHONE, 290)
    assert login_client.login(PHONE, latest_code(PHONE)).status_code == 200


def test_five_wrong_codes_lock_that_code(login_client, clock):
    login_client.send(PHONE)
    code = latest_code(PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        assert_error(login_client.login(PHONE, wrong), 400, "invalid_code", "code")
    assert_error(login_client.login(PHONE, code), 400, "too_many_attempts", "code")
    # A fresh code (after the resend interval) works again.
    age_codes(PHONE, 61)
    clock.advance(61)
    login_client.send(PHONE)
    assert login_client.login(PHONE, latest_code(PHONE)).status_code == 200


def test_malformed_codes_are_refused_without_using_an_attempt(login_client):
    login_client.send(PHONE)
    for bad in ("12345", "1234567", "abcdef", "", "12 34 56", "١٢٣٤٥٦"):
        assert_error(login_client.login(PHONE, bad), 400, "invalid_code", "code")
    assert SmsCode.objects.get().attempts == 0
    # A code typed with full-width digits is the same code.
    full_width = latest_code(PHONE).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert login_client.login(PHONE, full_width).status_code == 200


def test_a_phone_gets_one_code_a_minute(login_client, clock):
    assert login_client.send(PHONE).status_code == 200
    again = login_client.send(PHONE)
    body = assert_error(again, 429, "rate_limited")
    assert "秒后再试" in body["message"] and 0 < int(again["Retry-After"]) <= 60
    assert SmsCode.objects.count() == 1
    age_codes(PHONE, 61)
    clock.advance(61)
    assert login_client.send(PHONE).status_code == 200


def test_the_minute_holds_across_a_window_boundary(login_client, clock):
    clock.advance(29.5)  # 0.5 s before the minute's fixed window ends
    assert login_client.send(PHONE).status_code == 200
    clock.advance(1)  # a new fixed window, but only a second later
    assert_error(login_client.send(PHONE), 429, "rate_limited")


def test_a_phone_gets_a_limited_number_of_codes_a_day(login_client, clock, settings):
    _limits(settings, sms_phone_day=(3, 86400))
    for _ in range(3):
        assert login_client.send(PHONE).status_code == 200
        age_codes(PHONE, 61)
        clock.advance(61)
    body = assert_error(login_client.send(PHONE), 429, "rate_limited")
    assert "今日" in body["message"]
    assert login_client.send("13900139000").status_code == 200  # other phones are not affected


def test_an_address_gets_a_limited_number_of_codes(login_client, settings):
    _limits(settings, sms_ip_hour=(2, 3600))
    assert login_client.send("13900000001", ip="192.0.2.1").status_code == 200
    assert login_client.send("13900000002", ip="192.0.2.1").status_code == 200
    body = assert_error(login_client.send("13900000003", ip="192.0.2.1"), 429, "rate_limited")
    assert "网络" in body["message"]
    assert login_client.send("13900000003", ip="192.0.2.2").status_code == 200


def test_login_attempts_are_limited_per_address(login_client, settings):
    _limits(settings, login_ip_min=(3, 60))
    login_client.send(PHONE)
    for _ in range(3):
        assert_error(login_client.login(PHONE, "000000"), 400)
    assert_error(login_client.login(PHONE, latest_code(PHONE)), 429, "rate_limited")
    assert login_client.login(PHONE, latest_code(PHONE), ip="192.0.2.99").status_code in (200, 400)


def test_a_new_code_invalidates_the_older_one(login_client, clock):
    login_client.send(PHONE)
    first = latest_code(PHONE)
    age_codes(PHONE, 61)
    clock.advance(61)
    login_client.send(PHONE)
    second = latest_code(PHONE)
    if first != second:  # one in a million they are the same digits
        assert_error(login_client.login(PHONE, first), 400, "invalid_code")
    assert login_client.login(PHONE, second).status_code == 200


def test_the_first_login_creates_one_worker_and_later_logins_find_it(login_client, clock):
    login_client.send("+86 138 0013 8000")
    first = login_client.login("138-0013-8000", latest_code(PHONE))
    assert first.status_code == 200
    user = User.objects.get(phone_hash=pii.lookup_hash("phone", PHONE))
    assert (user.kind, user.phone, user.has_usable_password()) == (User.Kind.WORKER, PHONE, False)
    assert PHONE not in user.phone_encrypted
    assert AuditEntry.objects.filter(action="worker.register", object_id=str(user.pk)).count() == 1
    age_codes(PHONE, 61)
    clock.advance(61)
    login_client.send(PHONE)
    second = login_client.login(PHONE, latest_code(PHONE))
    assert second.json()["user"]["id"] == first.json()["user"]["id"] == user.pk
    assert User.objects.filter(kind=User.Kind.WORKER).count() == 1
    assert ApiToken.objects.filter(user=user).count() == 2


def test_two_racing_first_logins_create_one_account(db, monkeypatch):
    """A login of a new phone finds no account; before it inserts one, a rival login commits the same
    phone. The insert fails on the unique phone, and the login goes into the rival's account."""
    monkeypatch.setattr(services, "_consume_code", lambda phone_hash, code: None)
    real_filter = User.objects.filter
    rivals = []

    def filter_(*args, **kwargs):
        if "phone_hash" in kwargs and not rivals:
            rivals.append(WorkerFactory(phone=PHONE))  # commits right after our lookup
            return real_filter(pk__in=[])
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(User.objects, "filter", filter_)
    user = services.worker_login(phone=PHONE, code="123456", ip="192.0.2.1")
    assert rivals and user.pk == rivals[0].pk
    assert User.objects.filter(phone_hash=pii.lookup_hash("phone", PHONE)).count() == 1
    assert not AuditEntry.objects.filter(action="worker.register").exists()


def test_the_unique_phone_is_enforced_by_the_database(db):
    WorkerFactory(phone=PHONE)
    with pytest.raises(IntegrityError):
        WorkerFactory(phone=PHONE)


def test_disabled_workers_cannot_log_in(login_client):
    worker = WorkerFactory(phone=PHONE)
    User.objects.filter(pk=worker.pk).update(is_active=False)
    login_client.send(PHONE)
    assert_error(login_client.login(PHONE, latest_code(PHONE)), 403, "account_disabled")


def test_sms_outbox_prints_the_message_for_one_phone(login_client):
    login_client.send(PHONE)
    login_client.send("13900139000")
    out = io.StringIO()
    call_command("sms_outbox", phone="138 0013 8000", stdout=out)
    printed = out.getvalue()
    assert latest_code(PHONE) in printed and "138****8000" in printed and "139****9000" not in printed
    assert "5分钟内有效" in printed
    with pytest.raises(CommandError) as refused:
        call_command("sms_outbox", phone="12345", stdout=io.StringIO())
    assert "手机号" in str(refused.value)
    empty = io.StringIO()
    call_command("sms_outbox", phone="13700137000", stdout=empty)
    assert "没有短信" in empty.getvalue()
