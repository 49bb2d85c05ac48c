"""A worker on a 390×844 phone logs in with an SMS code (Playwright, Debian's chromium)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from gonghui.testing.browser import screenshot

from .conftest import outbox_code

PHONE = "13800138000"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_worker_logs_in_by_sms_on_a_phone(phone_page):
    page = phone_page
    page.goto(page.base_url + "/")
    expect(page.get_by_role("heading", name="职工登录")).to_be_visible()

    page.get_by_label("手机号").fill(PHONE)
    page.get_by_role("button", name="获取验证码").tap()
    expect(page.locator("#phone-status")).to_have_text("验证码已发送至138****8000，请查收短信")
    resend = page.locator("#phone-block .btn-code")
    expect(resend).to_be_disabled()
    expect(resend).to_have_text(re.compile(r"^\d+秒后重发$"))
    expect(page.get_by_label("验证码")).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "portal-login")

    page.get_by_label("验证码").fill(outbox_code(PHONE))
    page.get_by_role("button", name="登录", exact=True).tap()

    expect(page.get_by_role("heading", name="你好，职工朋友")).to_be_visible()
    expect(page.get_by_text("138****8000")).to_be_visible()
    assert PHONE not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "portal-home")
