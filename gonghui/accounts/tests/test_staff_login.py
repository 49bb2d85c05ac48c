"""Staff log in with username + password (+ TOTP); repeated failures lock the username."""

from __future__ import annotations

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from gonghui.accounts.models import User
from gonghui.testing.api_asserts import assert_error
from gonghui.testing.fixtures import PASSWORD, StaffFactory, WorkerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return StaffFactory(username="bob")


def _device(user, confirmed=True) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="手机", confirmed=confirmed)


def _token(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_right_password_gives_a_token(login_client, staff):
    response = login_client.staff_login("bob", PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["user"]["username"] == "bob" and body["user"]["kind"] == "staff"
    assert PASSWORD not in response.content.decode()


def test_wrong_password_and_unknown_user_answer_alike(login_client, staff):
    wrong = assert_error(login_client.staff_login("bob", "not-the-password"), 400, "invalid_credentials", "password")
    unknown = assert_error(login_client.staff_login("nobody", "not-the-password"), 400, "invalid_credentials")
    assert wrong == unknown


def test_missing_credentials_are_named(login_client, staff):
    assert_error(login_client.staff_login("", PASSWORD), 400, "missing_credentials", "username")
    assert_error(login_client.staff_login("bob", ""), 400, "missing_credentials", "password")
    response = login_client.client.post("/api/v1/auth/staff/login", {"username": "bob"}, content_type="application/json")
    assert_error(response, 400, "invalid_input", "password")


def test_repeated_failures_lock_the_username_even_for_the_right_password(login_client, staff, settings):
    settings.GONGHUI_STAFF_LOCKOUT_FAILURES = 3
    for _ in range(3):
        assert_error(login_client.staff_login("bob", "guess-123456"), 400, "invalid_credentials")
    locked = login_client.staff_login("bob", PASSWORD)
    body = assert_error(locked, 429, "rate_limited")
    assert "锁定" in body["message"] and int(locked["Retry-After"]) > 0
    # Other usernames, including ones that share a prefix, are not locked.
    StaffFactory(username="bo")
    assert login_client.staff_login("bo", PASSWORD).status_code == 200
    assert_error(login_client.staff_login("bob", PASSWORD), 429)


def test_the_lock_ends_after_the_lockout_period(login_client, staff, settings, clock):
    settings.GONGHUI_STAFF_LOCKOUT_FAILURES = 2
    for _ in range(2):
        login_client.staff_login("bob", "guess-123456")
    assert_error(login_client.staff_login("bob", PASSWORD), 429)
    clock.advance(settings.GONGHUI_STAFF_LOCKOUT_SECONDS)
    assert login_client.staff_login("bob", PASSWORD).status_code == 200


def test_a_success_resets_the_failure_count(login_client, staff, settings):
    settings.GONGHUI_STAFF_LOCKOUT_FAILURES = 3
    for _ in range(2):
        login_client.staff_login("bob", "guess-123456")
    assert login_client.staff_login("bob", PASSWORD).status_code == 200
    for _ in range(2):
        login_client.staff_login("bob", "guess-123456")
    assert login_client.staff_login("bob", PASSWORD).status_code == 200


def test_a_login_as_one_user_never_clears_anothers_lock(login_client, staff, settings):
    settings.GONGHUI_STAFF_LOCKOUT_FAILURES = 3
    StaffFactory(username="bobby")
    for _ in range(3):
        login_client.staff_login("bobby", "guess-123456")
    assert login_client.staff_login("bob", PASSWORD).status_code == 200
    assert_error(login_client.staff_login("bobby", PASSWORD), 429)


def test_login_attempts_are_limited_per_address(login_client, staff, settings):
    settings.GONGHUI_RATE_LIMITS = {**settings.GONGHUI_RATE_LIMITS, "staff_login_ip_min": (2, 60)}
    settings.GONGHUI_STAFF_LOCKOUT_FAILURES = 100
    for name in ("alice", "carol"):
        login_client.staff_login(name, "guess-123456")
    assert_error(login_client.staff_login("bob", PASSWORD), 429, "rate_limited")
    assert login_client.staff_login("bob", PASSWORD, ip="192.0.2.50").status_code == 200


def test_with_a_confirmed_device_the_otp_is_required(login_client, staff):
    device = _device(staff)
    assert_error(login_client.staff_login("bob", PASSWORD), 400, "otp_required", "otp")
    response = login_client.staff_login("bob", PASSWORD, otp=_token(device))
    assert response.status_code == 200, response.json()


def test_a_wrong_otp_is_refused_and_counts_as_a_failure(login_client, staff, settings):
    settings.GONGHUI_STAFF_LOCKOUT_FAILURES = 2
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own back-off is tested below
    device = _device(staff)
    right = _token(device)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    assert_error(login_client.staff_login("bob", PASSWORD, otp=wrong), 400, "invalid_otp", "otp")
    assert_error(login_client.staff_login("bob", PASSWORD, otp="abcdef"), 400, "invalid_otp", "otp")
    body = assert_error(login_client.staff_login("bob", PASSWORD, otp=right), 429, "rate_limited")
    assert "锁定" in body["message"]


def test_after_a_wrong_otp_the_next_try_waits(login_client, staff):
    device = _device(staff)
    right = _token(device)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    assert_error(login_client.staff_login("bob", PASSWORD, otp=wrong), 400, "invalid_otp")
    assert_error(login_client.staff_login("bob", PASSWORD, otp=right), 429, "rate_limited")


def test_an_otp_cannot_be_replayed(login_client, staff):
    device = _device(staff)
    token = _token(device)
    assert login_client.staff_login("bob", PASSWORD, otp=token).status_code == 200
    assert_error(login_client.staff_login("bob", PASSWORD, otp=token), 400, "invalid_otp")


def test_an_unconfirmed_device_is_not_yet_required(login_client, staff):
    _device(staff, confirmed=False)
    assert login_client.staff_login("bob", PASSWORD).status_code == 200


def test_when_2fa_is_required_an_api_login_without_a_device_is_refused(login_client, staff, settings):
    settings.GONGHUI_STAFF_2FA_REQUIRED = True
    body = assert_error(login_client.staff_login("bob", PASSWORD), 403, "otp_setup_required")
    assert "动态口令" in body["message"]
    device = _device(staff)
    assert login_client.staff_login("bob", PASSWORD, otp=_token(device)).status_code == 200


def test_workers_cannot_use_staff_login(login_client):
    worker = WorkerFactory(username="worker-with-password")
    worker.set_password(PASSWORD)
    worker.save()
    assert_error(login_client.staff_login("worker-with-password", PASSWORD), 400, "invalid_credentials")


def test_disabled_staff_cannot_log_in(login_client, staff):
    User.objects.filter(pk=staff.pk).update(is_active=False)
    assert_error(login_client.staff_login("bob", PASSWORD), 400, "invalid_credentials")


@pytest.mark.parametrize("username", ["bob\x00", "b" * 5000, "bob' OR '1'='1", "<script>"])
def test_odd_usernames_are_just_wrong(login_client, staff, username):
    assert_error(login_client.staff_login(username, PASSWORD), 400, "invalid_credentials")
    assert login_client.staff_login("bob", PASSWORD).status_code == 200
