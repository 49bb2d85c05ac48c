"""A worker joins the union on a 390×844 phone: login by SMS, the join form with the employer search,
the pending status, then (after staff approve) the electronic member card with its QR code."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from gonghui.membership import services
from gonghui.membership.models import Application
from gonghui.membership.tests.helpers import make_id_number
from gonghui.testing.browser import screenshot
from gonghui.testing.fixtures import Tree

from .conftest import outbox_code

PHONE = "13800138000"


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_worker_joins_and_shows_the_member_card_on_a_phone(phone_page):
    tree = Tree()
    page = phone_page
    page.goto(page.base_url + "/membership/")
    expect(page.get_by_role("heading", name="职工登录")).to_be_visible()
    page.get_by_label("手机号").fill(PHONE)
    page.get_by_role("button", name="获取验证码").tap()
    expect(page.locator("#phone-status")).to_contain_text("验证码已发送")
    page.get_by_label("验证码").fill(outbox_code(PHONE))
    page.get_by_role("button", name="登录", exact=True).tap()

    # Back on the page asked for: the membership hub invites to join.
    expect(page.get_by_role("heading", name="我的会籍")).to_be_visible()
    page.get_by_role("link", name="一键入会").tap()
    expect(page.get_by_role("heading", name="申请入会")).to_be_visible()

    page.get_by_label("真实姓名").fill("王小明")
    page.get_by_label("身份证号").fill(make_id_number())
    page.get_by_text("劳动合同", exact=True).tap()
    page.get_by_label("所在单位").fill("南头精密")
    page.get_by_role("button", name="搜索").first.tap()  # the employer search (platform questions are hidden)
    choice = page.get_by_role("radio", name=re.compile(tree.nantou_employer.name))
    expect(choice).to_be_visible()
    choice.check()
    expect(page.locator("#f-place")).to_be_hidden()  # a listed employer brings its own place
    expect(page.locator("#f-platform")).to_be_hidden()
    page.get_by_label("岗位").fill("装配工")
    page.get_by_role("checkbox").check()
    assert fits_the_phone(page)
    screenshot(page, "membership-join-form")

    page.get_by_role("button", name="提交入会申请").tap()
    expect(page.get_by_text("入会申请已提交")).to_be_visible()
    app = Application.objects.get()
    due = app.due_at.astimezone()
    expect(page.get_by_text(f"已提交至「{tree.nantou_union.name}」")).to_be_visible()
    expect(page.get_by_text(f"受理工会须在{due.month}月{due.day}日（含）前答复您")).to_be_visible()
    assert app.id_number not in page.content()
    assert fits_the_phone(page)
    screenshot(page, "membership-pending")

    member = services.application_approve(actor=tree.root_admin, application=app)
    page.reload()
    page.get_by_role("link", name="出示电子会员卡").tap()
    expect(page.get_by_role("heading", name="出示二维码")).to_be_visible()
    qr = page.locator("#card-qr svg.qr")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box["width"] >= 200 and box["height"] >= 200
    expect(page.get_by_text(member.member_no_display)).to_be_visible()
    expect(page.locator("[data-countdown]")).to_have_text(re.compile(r"^\d+秒后$"))
    assert member.id_number not in page.content()
    assert fits_the_phone(page)
    screenshot(page, "membership-card")
