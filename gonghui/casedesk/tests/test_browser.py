"""The whole life of a case in real browsers: a worker files it on a phone, the city's 12351 agent
dispatches it down, the grassroots union accepts, replies and resolves it, the worker rates it from
the portal, and the city's supervisor closes it after the quality check."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from gonghui.casedesk.models import Case, CaseStatus
from gonghui.orgs.services import employer_create
from gonghui.portal.tests.conftest import outbox_code
from gonghui.testing.browser import DESKTOP, screenshot
from gonghui.testing.fixtures import PASSWORD, Tree, WorkerFactory, uscc_in

from .helpers import desk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = "13800138066"


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def staff_page(browser, live_server, username: str):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/console/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("link", name="诉求办理").first).to_be_visible()
    page.base_url = live_server.url
    return page


def open_action(page, summary: str):
    page.locator("details.case-action summary", has_text=summary).click()


def test_a_case_from_the_phone_to_the_quality_check(browser, live_server, phone_page):
    tree = Tree()
    d = desk(tree)
    # A small shop in 南头街道 without a union of its own: its cases go to the street's union.
    shop = employer_create(actor=tree.root_admin, org=tree.nantou, name="深圳南头湘味小食店",
                           uscc=uscc_in("440305001"), division_code="440305001", employee_count=8)
    WorkerFactory(display_name="刘小梅", phone=PHONE)

    # 1. The worker, on a phone.
    page = phone_page
    page.goto(page.base_url + "/cases/new/")
    page.get_by_label("手机号").fill(PHONE)
    page.get_by_role("button", name="获取验证码").tap()
    expect(page.locator("#phone-status")).to_contain_text("验证码已发送")
    page.get_by_label("验证码").fill(outbox_code(PHONE))
    page.get_by_role("button", name="登录", exact=True).tap()
    expect(page.get_by_role("heading", name="提交维权诉求")).to_be_visible()
    page.locator("#category").select_option("wage_arrears")
    page.get_by_label("发生了什么").fill("店里拖欠我两个月工资共8000元，老板一直说下个月再给，现在电话也不接了。")
    page.locator("#employer_q").fill("湘味小食")
    page.locator("#employer-search").tap()
    choice = page.get_by_role("radio", name=re.compile(shop.name))
    expect(choice).to_be_visible()
    choice.check()
    page.get_by_label("涉及金额（元）").fill("8000")
    assert fits_the_phone(page)
    screenshot(page, "cases-new-phone")
    page.get_by_role("button", name="提交诉求").tap()
    expect(page.get_by_text(tree.nantou.name).first).to_be_visible()
    case = Case.objects.get()
    assert (case.org, case.status, case.worker.phone) == (tree.nantou, CaseStatus.PENDING, PHONE)
    expect(page.get_by_text(case.number).first).to_be_visible()
    assert fits_the_phone(page)
    screenshot(page, "cases-filed-phone")

    # 2. The 12351 agent at the city sends it to the grassroots union that will handle it.
    agent = staff_page(browser, live_server, d.agent.username)
    agent.goto(agent.base_url + f"/console/cases/orgs/{tree.shenzhen.pk}/")
    row = agent.get_by_role("link", name=case.number)
    expect(row).to_be_visible()
    screenshot(agent, "cases-board")
    row.click()
    expect(agent.get_by_role("heading", level=1)).to_be_visible()
    open_action(agent, "转办下级工会")
    agent.locator("#dispatch-to").select_option(str(tree.nantou_union.pk))
    agent.locator("#dispatch-note").fill("请该片区联合工会就近约谈店主")
    agent.get_by_role("button", name="转办", exact=True).click()
    expect(agent.locator(".messages, [role=status], .alert").first).to_be_visible()
    case.refresh_from_db()
    assert (case.org, case.status) == (tree.nantou_union, CaseStatus.PENDING)
    agent.context.close()

    # 3. The grassroots union accepts, replies and resolves.
    handler = staff_page(browser, live_server, d.grassroots.username)
    handler.goto(handler.base_url + f"/console/cases/{case.pk}/")
    handler.get_by_role("button", name="受理", exact=True).click()
    open_action(handler, "答复职工")
    handler.locator("#reply-text").fill("已约谈店主，店主承诺本周五前结清工资。")
    handler.get_by_role("button", name="发送答复").click()
    open_action(handler, "办结")
    handler.locator("#resolve-result").fill("店主已于周五结清两个月工资8000元。")
    handler.locator("#resolve-money").fill("8000")
    handler.locator("#act-resolve").get_by_role("button", name="办结").click()
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED and case.money_recovered == 8000
    screenshot(handler, "cases-detail-resolved")
    handler.context.close()

    # 4. The worker sees the reply and rates the result.
    page.goto(page.base_url + f"/cases/{case.pk}/")
    expect(page.get_by_text("已约谈店主，店主承诺本周五前结清工资。")).to_be_visible()
    page.get_by_role("button", name="去评价").tap()
    expect(page.get_by_role("heading", name="诉求办理评价")).to_be_visible()
    page.locator("label.star-choice", has=page.locator("input[value='5']")).tap()
    page.get_by_label("想说的话").fill("工会帮了大忙，谢谢！")
    assert fits_the_phone(page)
    screenshot(page, "cases-callback-phone")
    page.get_by_role("button", name="提交评价").tap()
    expect(page.get_by_text(re.compile("感谢|谢谢您的评价"))).to_be_visible()
    case.refresh_from_db()
    assert case.satisfaction == 5 and case.status == CaseStatus.RESOLVED

    # 5. The city's supervisor checks it and closes it.
    supervisor = staff_page(browser, live_server, d.supervisor.username)
    supervisor.goto(supervisor.base_url + f"/console/cases/{case.pk}/")
    supervisor.locator("#close-note").fill("回访满意，办理规范")
    supervisor.get_by_role("button", name="质检通过，结案").click()
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    supervisor.context.close()

    page.goto(page.base_url + "/cases/")
    expect(page.get_by_text(case.number)).to_be_visible()
    expect(page.get_by_text("已结案").first).to_be_visible()
    assert fits_the_phone(page)
