"""Ask → article → apply for legal aid on a 390×844 phone (Playwright, Debian's chromium): a worker asks
in everyday words with a typo, reads the first article and comes back to the answer, applies with the
question carried over (through the SMS login), picks the employer and uploads evidence; the 南山区 union
approves and assigns a lawyer, and the worker sees who handles the file."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from gonghui.casedesk.tests.helpers import JPEG
from gonghui.legal import aid
from gonghui.legal.models import AidApplication, AidStatus
from gonghui.legal.tests.test_aid import People, make_member
from gonghui.portal.tests.conftest import outbox_code
from gonghui.testing.browser import screenshot
from gonghui.testing.fixtures import Tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = "老板三个月不发工姿怎么办"  # 工姿: a homophone typo for 工资
FACTS = "公司从今年八月起拖欠我三个月工资共计一万八千元，多次找老板都说没钱，要求支付拖欠的工资。"


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def test_ask_read_the_article_and_apply_for_legal_aid_on_a_phone(phone_page, tmp_path):
    tree = Tree()
    people = People(tree)
    member = make_member(people.worker, tree)  # 李四, a member of 南头精密's union
    evidence = tmp_path / "工资条.jpg"
    evidence.write_bytes(JPEG)

    # 1. The question, asked before signing in (the law is public): the typo is read by its sound, the
    # unpaid-wages guide answers and the articles it cites come first.
    page = phone_page
    page.goto(page.base_url + "/legal/")
    expect(page.get_by_role("heading", name="法律咨询", exact=True)).to_be_visible()
    page.get_by_label("您遇到了什么问题？").fill(QUESTION)
    page.get_by_role("button", name="查一查").tap()
    expect(page.get_by_text("已按读音理解：“不发工姿”→“不发工资”")).to_be_visible()
    guide = page.locator("section.guide")
    expect(guide.get_by_role("heading", level=2)).not_to_be_empty()
    expect(guide.locator("ol.steps li").first).to_be_visible()
    expect(guide.get_by_role("heading", name="时限")).to_be_hidden()  # folded: the articles stay near
    guide.get_by_text("时限、要保留的证据和可以找谁").tap()
    expect(guide.get_by_role("heading", name="时限")).to_be_visible()
    guide.get_by_text("时限、要保留的证据和可以找谁").tap()
    hits = page.locator("ol.law-hits a.law-hit-title")
    expect(hits.first).to_have_text("劳动合同法第三十条")
    assert "劳动法第五十条" in hits.all_inner_texts()[:5]
    assert fits_the_phone(page)
    # The answer as it first shows on the phone (the whole page is several screens long).
    page.get_by_text("已按读音理解").scroll_into_view_if_needed()
    screenshot(page, "legal-ask-phone", full_page=False)

    # 2. The first article, then back to the answer.
    hits.first.tap()
    expect(page).to_have_url(re.compile(re.escape("/laws/labour-contract-law/" + quote("第三十条") + "/") + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("劳动合同法第三十条")
    expect(page.locator(".law-text")).to_contain_text("用人单位应当按照劳动合同约定和国家规定，向劳动者及时足额支付劳动报酬")
    assert fits_the_phone(page)
    screenshot(page, "legal-article-phone")
    page.go_back()
    expect(hits.first).to_have_text("劳动合同法第三十条")

    # 3. Apply: the login comes first, then the form with the question already in it.
    page.get_by_role("link", name="申请工会法律援助").tap()
    expect(page.get_by_role("heading", name="职工登录")).to_be_visible()
    page.get_by_label("手机号").fill(people.worker.phone)
    page.get_by_role("button", name="获取验证码").tap()
    expect(page.locator("#phone-status")).to_contain_text("验证码已发送")
    page.get_by_label("验证码").fill(outbox_code(people.worker.phone))
    page.get_by_role("button", name="登录", exact=True).tap()
    expect(page.get_by_role("heading", name="申请工会法律援助")).to_be_visible()
    expect(page.get_by_label("案情及请求")).to_have_value(QUESTION)
    expect(page.get_by_text(f"您在法律咨询中的问题：{QUESTION}")).to_be_visible()
    membership = page.locator(".checklist li", has_text="会员身份证明")
    expect(membership).to_have_class(re.compile(r"\bdone\b"))
    expect(membership).to_contain_text(member.member_no)

    page.get_by_label("争议类型").select_option(label="劳动报酬")
    page.get_by_label("案情及请求").fill(FACTS)
    page.get_by_label("请求金额（元）").fill("18000")
    page.locator("#employer_q").fill("南头精密")
    page.locator("#employer-search").tap()
    choice = page.get_by_role("radio", name=re.compile(tree.nantou_employer.name))
    expect(choice).to_be_visible()
    choice.check()
    page.get_by_label("证据材料").set_input_files(str(evidence))
    assert fits_the_phone(page)
    screenshot(page, "legal-aid-form-phone")
    page.get_by_role("button", name="提交申请").tap()

    # 4. The application: its number, the county-level union that decides, the checklist, the clock.
    expect(page.get_by_text(re.compile(r"法律援助申请已提交，编号 FY"))).to_be_visible()
    application = AidApplication.objects.get()
    assert application.org == tree.nanshan and application.status == AidStatus.SUBMITTED
    assert application.question == QUESTION and application.employer == tree.nantou_employer
    assert list(application.documents.values_list("kind", "name")) == [("evidence", "工资条.jpg")]
    assert application.number.startswith("FY")
    expect(page.locator("h1 .num")).to_have_text(application.number)
    expect(page.get_by_text(f"由「{tree.nanshan.name}」审查和承办")).to_be_visible()
    assert tree.nanshan.name.startswith("南山区")
    checklist = page.locator("#check-h + ul.checklist")
    expect(checklist.locator("li.done", has_text="会员身份证明")).to_contain_text(member.member_no)
    expect(checklist.locator("li.done", has_text="证据材料")).to_contain_text("已上传1份")
    expect(checklist.locator("li.missing")).to_have_count(0)
    expect(page.get_by_role("link", name="工资条.jpg")).to_be_visible()
    due = timezone.localtime(application.decide_due_at)
    expect(page.locator("p.deadline")).to_have_text(f"审查期限：{due.month}月{due.day}日前作出是否援助的决定（按工作日计算）")
    assert fits_the_phone(page)
    screenshot(page, "legal-aid-detail-phone")

    # 5. The 南山区 legal-aid centre approves and assigns its lawyer (in the console; here by the services).
    aid.aid_approve(actor=people.county, application=application)
    aid.aid_assign(actor=people.county, application=application, provider_id=people.lawyer.pk)
    page.reload()
    expect(page.locator("h1 .badge")).to_have_text("承办中")
    expect(page.get_by_text(re.compile(r"承办人：王明（律师，广东南山律师事务所）电话 "))).to_be_visible()
    assert "13912340001" not in page.content()  # the lawyer's phone is shown masked
    assert fits_the_phone(page)
