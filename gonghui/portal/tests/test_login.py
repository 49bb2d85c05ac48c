"""A worker logs in on the portal with phone + SMS code, with and without JavaScript."""

from __future__ import annotations

import pytest

from gonghui.accounts.models import SmsOutbox, User
from gonghui.testing.fixtures import StaffFactory, WorkerFactory

from .conftest import outbox_code

pytestmark = pytest.mark.django_db

PHONE = "13800138000"
MASKED = "138****8000"


def logged_in_user_id(client) -> str | None:
    return client.session.get("_auth_user_id")


def test_anonymous_home_is_the_login_page(client):
    page = client.get("/").content.decode()
    assert "获取验证码" in page
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page
    assert "登录即表示同意" in page and 'href="/privacy/"' in page


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "no-js"])
def test_login_end_to_end(client, request_code, htmx):
    sent = request_code(PHONE, htmx=htmx)
    assert sent.status_code == 200
    assert f"验证码已发送至{MASKED}" in sent.content.decode()
    if not htmx:
        # Without JS the whole page comes back, ready for the code.
        assert 'name="code"' in sent.content.decode()

    response = client.post("/login/", {"phone": PHONE, "code": outbox_code(PHONE)})
    assert response.status_code == 302 and response["Location"] == "/"

    home = client.get("/").content.decode()
    assert "你好，职工朋友" in home
    assert MASKED in home
    assert PHONE not in home
    assert logged_in_user_id(client) is not None


def test_phone_in_spaced_and_plus86_forms_is_accepted(client, request_code):
    sent = request_code("+86 138 0013 8000")
    assert f"验证码已发送至{MASKED}" in sent.content.decode()
    response = client.post("/login/", {"phone": "138-0013-8000", "code": outbox_code(PHONE)})
    assert response.status_code == 302


def test_wrong_code_shows_chinese_error_and_does_not_log_in(client, request_code):
    request_code(PHONE)
    right = outbox_code(PHONE)
    wrong = "000000" if right != "000000" else "111111"
    response = client.post("/login/", {"phone": PHONE, "code": wrong})
    page = response.content.decode()
    assert response.status_code == 400
    assert "验证码错误或已失效，请重新获取" in page
    assert wrong not in page  # the typed code is not echoed back
    assert logged_in_user_id(client) is None
    assert "获取验证码" in client.get("/").content.decode()


def test_empty_code_asks_for_six_digits(client, request_code):
    request_code(PHONE)
    response = client.post("/login/", {"phone": PHONE, "code": ""})
    assert "请输入6位数字验证码" in response.content.decode()
    assert logged_in_user_id(client) is None


def test_code_never_appears_in_any_response(client, request_code):
    bodies = []
    bodies.append(client.get("/").content)
    bodies.append(request_code(PHONE, htmx=True).content)
    code = outbox_code(PHONE)
    bodies.append(client.post("/login/", {"phone": PHONE, "code": "12345x"}).content)
    login = client.post("/login/", {"phone": PHONE, "code": code}, follow=True)
    bodies.append(login.content)
    bodies.append(client.get("/me/edit/").content)
    bodies.append(client.get("/privacy/").content)
    assert all(body for body in bodies)
    for body in bodies:
        assert code.encode() not in body


def test_second_code_request_within_a_minute_is_rate_limited(client, request_code, clock):
    request_code(PHONE)
    clock.value += 30
    again = request_code(PHONE)
    assert again.status_code == 200  # htmx swaps the message into the page
    assert "验证码发送过于频繁，请60秒后再试" in again.content.decode()
    assert SmsOutbox.objects.count() == 1

    no_js = request_code(PHONE, htmx=False)
    assert no_js.status_code == 429
    assert "验证码发送过于频繁，请60秒后再试" in no_js.content.decode()


@pytest.mark.parametrize("phone", ["12345", "23800138000", "1380013800a", ""])
def test_invalid_phone_shows_chinese_error(client, request_code, phone):
    response = request_code(phone)
    assert "请输入正确的11位手机号码（以1开头）" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert SmsOutbox.objects.count() == 0


def test_login_with_invalid_phone_shows_chinese_error(client):
    response = client.post("/login/", {"phone": "555", "code": "123456"})
    assert response.status_code == 400
    assert "请输入正确的11位手机号码（以1开头）" in response.content.decode()
    assert logged_in_user_id(client) is None


def test_first_login_creates_one_user_and_the_next_login_reuses_it(client, request_code, clock):
    before = User.objects.count()
    request_code(PHONE)
    client.post("/login/", {"phone": PHONE, "code": outbox_code(PHONE)})
    first_id = logged_in_user_id(client)
    assert User.objects.count() == before + 1
    created = User.objects.get(pk=first_id)
    assert created.kind == User.Kind.WORKER and created.phone_masked == MASKED

    client.post("/logout/")
    assert logged_in_user_id(client) is None
    clock.value += 61
    request_code(PHONE)
    client.post("/login/", {"phone": PHONE, "code": outbox_code(PHONE)})
    assert logged_in_user_id(client) == first_id
    assert User.objects.count() == before + 1


def test_a_code_works_only_once(client, request_code):
    request_code(PHONE)
    code = outbox_code(PHONE)
    client.post("/login/", {"phone": PHONE, "code": code})
    client.post("/logout/")
    again = client.post("/login/", {"phone": PHONE, "code": code})
    assert "验证码错误或已失效，请重新获取" in again.content.decode()
    assert logged_in_user_id(client) is None


def test_logout_requires_post(client):
    client.force_login(WorkerFactory())
    assert client.get("/logout/").status_code == 405
    assert logged_in_user_id(client) is not None
    response = client.post("/logout/")
    assert response.status_code == 302
    assert logged_in_user_id(client) is None
    assert "获取验证码" in client.get("/").content.decode()


def test_login_returns_to_the_page_asked_for(client, request_code):
    redirect = client.get("/me/edit/")
    assert redirect.status_code == 302 and redirect["Location"] == "/login/?next=/me/edit/"
    assert 'name="next" value="/me/edit/"' in client.get(redirect["Location"]).content.decode()
    request_code(PHONE)
    response = client.post("/login/", {"phone": PHONE, "code": outbox_code(PHONE), "next": "/me/edit/"})
    assert response["Location"] == "/me/edit/"


def test_login_never_redirects_off_site(client, request_code):
    request_code(PHONE)
    response = client.post("/login/", {"phone": PHONE, "code": outbox_code(PHONE), "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_staff_on_the_portal_get_a_note_with_the_console_link(client):
    client.force_login(StaffFactory())
    page = client.get("/").content.decode()
    assert "工作人员账号" in page and 'href="/console/"' in page
    assert client.get("/me/edit/")["Location"] == "/"


def test_privacy_page_explains_the_phone_use(client):
    page = client.get("/privacy/").content.decode()
    for text in ("个人信息保护说明", "手机号", "加密", "138****8000", "12351"):
        assert text in page


def test_a_worker_stays_signed_in_on_their_phone_for_a_month(client, request_code, settings):
    request_code(PHONE)
    client.post("/login/", {"phone": PHONE, "code": outbox_code(PHONE)})
    assert logged_in_user_id(client) is not None
    assert client.session.get_expiry_age() == settings.GONGHUI_WORKER_SESSION_SECONDS
