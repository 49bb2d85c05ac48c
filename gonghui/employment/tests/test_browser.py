"""The employment cloud in real browsers: a worker who asked the union for help searches jobs on a
phone, reads why one suits them and applies with one tap; the employer's recruiter, on their own
phone, invites them to an interview, makes an offer and confirms the hire; the worker sees each step;
and the street union's help ledger in the console shows the request closed as placed."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import expect

from gonghui.employment import services
from gonghui.employment.models import ApplicationStatus, HelpRequest, JobApplication
from gonghui.orgs.models import Role
from gonghui.portal.tests.conftest import outbox_code
from gonghui.testing.browser import DESKTOP, PHONE, screenshot
from gonghui.testing.fixtures import PASSWORD, Tree, WorkerFactory, staff_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORKER_PHONE = "13800138071"
HR_PHONE = "13800138072"


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def sign_in_on_phone(page, phone: str) -> None:
    page.get_by_label("手机号").fill(phone)
    page.get_by_role("button", name="获取验证码").tap()
    expect(page.locator("#phone-status")).to_contain_text("验证码已发送")
    page.get_by_label("验证码").fill(outbox_code(phone))
    page.get_by_role("button", name="登录", exact=True).tap()


def test_search_apply_hire_and_the_ledger_shows_the_placement(browser, live_server, phone_page):
    tree = Tree()
    moderator = staff_on(tree.nanshan, Role.STAFF, username="nanshan-jobs")
    street = staff_on(tree.nantou, Role.STAFF, username="nantou-help")
    hr = WorkerFactory(display_name="王经理", phone=HR_PHONE)
    claim = services.recruiter_claim(actor=hr, uscc=tree.nantou_employer.uscc, name="王经理", title="人事主管")
    services.recruiter_decide(actor=moderator, recruiter=claim, approve=True)
    job = services.posting_create(actor=hr, employer_id=tree.nantou_employer.pk, data={
        "title": "快递收派员", "occupation": "4-02-07-08", "division_code": "440305001", "address": "南头街道工业路1号",
        "salary_min": 7000, "salary_max": 11000, "headcount": 3, "skills": ["电动车驾驶", "智能手机操作"],
        "benefits": ["五险一金", "包住"], "description": "负责南头片区快件收派，多劳多得，每月休四天。",
        "contact_name": "王经理", "contact_phone": HR_PHONE})
    services.posting_moderate(actor=moderator, posting=job, approve=True)
    worker = WorkerFactory(display_name="李求职", phone=WORKER_PHONE)
    services.seeker_save(actor=worker, data={
        "occupations": ["4-02-07-08"], "places": ["440305001"], "salary_expected": 8000,
        "skills": ["电动车驾驶"], "education": "junior", "experience_years": 2, "help_group": "jobless",
        "visible_to_employers": True})
    help_request = services.help_request_submit(actor=worker, division_code="440305001", help_group="jobless",
                                                needs="原在电子厂做普工，工厂搬迁后失业两个月，想找快递或仓储的工作。")
    services.help_assign(actor=street, request=help_request, staff=street)

    # 1. The worker, on a phone: search, read why the job suits them, apply.
    page = phone_page
    page.goto(page.base_url + "/jobs/help/")
    sign_in_on_phone(page, WORKER_PHONE)
    expect(page.get_by_text(help_request.number)).to_be_visible()
    page.get_by_role("link", name="找工作").first.tap()
    expect(page.get_by_role("heading", name="为您推荐")).to_be_visible()
    page.get_by_label("关键词").fill("快递")
    page.get_by_role("button", name="搜索").tap()
    result = page.locator("#job-results").get_by_role("link", name=re.compile("快递收派员"))
    expect(result).to_be_visible()
    assert fits_the_phone(page)
    screenshot(page, "jobs-search-phone", full_page=False)
    result.tap()
    expect(page.get_by_role("heading", name="为什么适合您")).to_be_visible()
    expect(page.get_by_text(re.compile("匹配度 \\d+%"))).to_be_visible()
    assert HR_PHONE not in page.content()
    assert fits_the_phone(page)
    screenshot(page, "jobs-detail-phone", full_page=False)
    page.get_by_label("给招聘方留言").fill("有两年电动车送件经验，可随时到岗")
    page.get_by_role("button", name="一键投递").tap()
    expect(page.get_by_text(re.compile("已投递“快递收派员”"))).to_be_visible()
    application = JobApplication.objects.get(user=worker)
    assert application.status == ApplicationStatus.SUBMITTED

    # 2. The recruiter, on another phone: interview, offer, hire.
    hr_context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                     locale="zh-CN")
    hr_page = hr_context.new_page()
    hr_page.goto(live_server.url + "/jobs/recruit/")
    sign_in_on_phone(hr_page, HR_PHONE)
    row = hr_page.get_by_role("link", name=re.compile("快递收派员"))
    expect(row).to_contain_text("1份新投递")
    row.tap()
    applicant = hr_page.locator(f"#a{application.pk}")
    expect(applicant).to_contain_text("李求职")
    expect(applicant).to_contain_text("可随时到岗")
    applicant.locator("summary", has_text="处理").tap()
    when = (datetime.datetime.now() + datetime.timedelta(days=2)).replace(hour=10, minute=0)
    applicant.get_by_label("面试时间").fill(when.strftime("%Y-%m-%dT%H:%M"))
    applicant.scroll_into_view_if_needed()
    assert fits_the_phone(hr_page)
    screenshot(hr_page, "jobs-recruiter-phone", full_page=False)
    applicant.get_by_role("button", name="邀请面试").tap()
    expect(hr_page.get_by_text("李求职：邀请面试，已通知求职者。")).to_be_visible()
    for step, label in (("拟录用", "拟录用"), ("确认入职", "已入职")):
        applicant = hr_page.locator(f"#a{application.pk}")
        applicant.locator("summary", has_text="处理").tap()
        applicant.get_by_role("button", name=step).tap()
        expect(hr_page.get_by_text(f"李求职：{label}，已通知求职者。")).to_be_visible()
    hr_context.close()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.HIRED

    # 3. The worker sees each step, and the help request closed as placed.
    page.goto(page.base_url + f"/jobs/applications/{application.pk}/")
    expect(page.get_by_text("恭喜入职！")).to_be_visible()
    assert page.locator(".timeline li.done").count() == 5
    assert fits_the_phone(page)
    screenshot(page, "jobs-application-phone", full_page=False)
    help_request.refresh_from_db()
    assert help_request.status == HelpRequest.Status.PLACED

    # 4. The street union's help ledger (帮扶台账) in the console shows the placement.
    staff = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    staff.goto(live_server.url + "/console/login/")
    staff.get_by_label("用户名").fill(street.username)
    staff.get_by_label("密码", exact=True).fill(PASSWORD)
    staff.get_by_role("button", name="登录").click()
    staff.goto(live_server.url + f"/console/jobs/orgs/{tree.nantou.pk}/help/")
    row = staff.locator("tr", has_text=help_request.number)
    expect(row).to_contain_text("已就业")
    expect(row).to_contain_text(tree.nantou_employer.name)
    screenshot(staff, "jobs-help-ledger", full_page=False)
    staff.context.close()
