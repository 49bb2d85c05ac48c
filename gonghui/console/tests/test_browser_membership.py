"""A county official works the approval queue and reads the numbers in a real browser, on a desktop
and at phone width (Debian's chromium)."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import expect

from gonghui.membership import services
from gonghui.membership.tests.helpers import join
from gonghui.orgs.models import Role
from gonghui.testing.browser import screenshot
from gonghui.testing.fixtures import Tree, WorkerFactory, staff_on

from .test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def county(live_server):
    """Nanshan with members approved at the Nantou company union, pending applications (one of them
    escalated) and a flexible worker's application at Yuehai street."""
    tree = Tree()
    admin = staff_on(tree.nanshan, Role.ADMIN, username="nanshan-admin", display_name="南山区总工会 李敏")
    late, _ = join(WorkerFactory(), tree.nantou_employer, name="赵晓东")
    services.overdue_escalate(now=late.due_at + datetime.timedelta(seconds=1))
    for name in ["张建国", "李秀英", "王伟", "刘洋"]:
        app, _ = join(WorkerFactory(), tree.nantou_employer, name=name)
        services.application_approve(actor=admin, application=app)
    for name in ["陈静", "杨帆"]:
        join(WorkerFactory(), tree.nantou_employer, name=name)
    join(WorkerFactory(), employment_form="flexible", division_code="440305007", name="黄丽")
    tree.late = late
    return tree


def test_queue_and_stats_at_desktop_width(county, desktop_page):
    page = desktop_page
    log_in(page)
    page.get_by_role("link", name="入会审批", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("入会审批")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("赵**")
    expect(rows.first).to_contain_text("已督办")
    expect(page.locator("table")).not_to_contain_text("赵晓东")
    screenshot(page, "console-membership-queue")

    page.get_by_role("link", name="只看超时").click()
    expect(page.locator("table tbody tr")).to_have_count(1)

    page.get_by_role("navigation", name="会员工作").get_by_role("link", name="统计").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("会员统计")
    expect(page.locator("#chart-daily canvas")).to_be_visible()
    expect(page.locator("#chart-children canvas")).to_be_visible()
    expect(page.locator(".stats-membership")).to_contain_text("4")
    screenshot(page, "console-membership-stats")


def test_queue_and_stats_at_phone_width(county, phone_page):
    page = phone_page
    log_in(page)
    page.goto(page.base_url + f"/console/membership/orgs/{county.nanshan.pk}/applications/")
    expect(page.locator("table tbody tr")).to_have_count(4)
    # Nothing sticks out sideways at 390 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "console-membership-queue-phone")

    page.goto(page.base_url + f"/console/membership/orgs/{county.nanshan.pk}/stats/")
    expect(page.locator("#chart-children canvas")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "console-membership-stats-phone")
