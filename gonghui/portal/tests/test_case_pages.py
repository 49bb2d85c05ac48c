"""The worker's 12351 pages: my cases, filing a case on a phone (plain form posts and the htmx parts),
the case with its timeline and files, adding material, withdrawing, and the no-login rating page."""

from __future__ import annotations

import datetime
import re
import secrets
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from gonghui.casedesk import services
from gonghui.casedesk.models import Case, CaseAttachment, CaseEvent, CaseStatus
from gonghui.casedesk.tests.helpers import JPEG, PDF, big_file, desk, file_case, upload
from gonghui.membership.models import Notice
from gonghui.portal import case_views
from gonghui.testing.fixtures import WorkerFactory

pytestmark = pytest.mark.django_db

EXE = b"MZ\x90\x00" + b"\x00" * 200
DESCRIPTION = "公司已经三个月没有发工资了，老板说等回款再发，我们车间十几个人都没拿到。"


@pytest.fixture
def d(tree):
    return desk(tree)


@pytest.fixture
def worker(client, d):
    client.force_login(d.worker)
    return d.worker


def case_data(tree, **changes) -> dict:
    data = {"action": "submit", "nonce": secrets.token_hex(16), "category": "wage_arrears", "description": DESCRIPTION,
            "employer_id": tree.nantou_employer.pk, "contact": "phone"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def error_next_to(page: str, field: str) -> str:
    """The message shown right under a field (its `<field>-msg` paragraph), when it is an error."""
    found = re.search(rf'<p class="error" id="{re.escape(field)}-msg" role="alert">([^<]*)</p>', page)
    assert found, f"no error shown under {field}"
    return found.group(1)


def day(value: datetime.datetime) -> str:
    local = timezone.localtime(value)
    return f"{local.month}月{local.day}日"


def resolved(d, case, result="已约谈企业负责人，三个月工资已全部补发。") -> Case:
    services.case_accept(actor=d.grassroots, case=case)
    return services.case_resolve(actor=d.grassroots, case=case, result=result, money_recovered="18000")


def callback_url(worker) -> str:
    return Notice.objects.filter(user=worker, link__startswith="/callbacks/").latest("id").link


# --- Access -------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login(client, d, tree):
    case = file_case(d.worker, tree.nantou_employer, attachments=[upload()])
    attachment = case.attachments.get()
    for url in ("/cases/", "/cases/new/", f"/cases/{case.pk}/", f"/cases/{case.pk}/attachments/{attachment.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == f"/login/?next={url}", url


def test_staff_accounts_do_not_use_the_worker_pages(client, d, tree):
    case = file_case(d.worker, tree.nantou_employer)
    client.force_login(d.grassroots)  # handles this very case in the console
    for url in ("/cases/", "/cases/new/", f"/cases/{case.pk}/"):
        assert client.get(url)["Location"] == "/", url
    response = client.post("/cases/new/", case_data(tree))
    assert response["Location"] == "/"
    assert client.post(f"/cases/{case.pk}/withdraw/")["Location"] == "/"
    assert Case.objects.count() == 1 and Case.objects.get().status == CaseStatus.PENDING


def test_home_page_has_the_case_tile(client, worker):
    page = client.get("/").content.decode()
    assert "我要维权 / 12351" in page and 'href="/cases/"' in page


def test_another_worker_gets_404_for_the_case_and_its_files(client, d, tree):
    case = file_case(d.worker, tree.nantou_employer, attachments=[upload()])
    attachment = case.attachments.get()
    client.force_login(WorkerFactory(display_name="王五"))
    for url in (f"/cases/{case.pk}/", f"/cases/{case.pk}/attachments/{attachment.pk}/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "诉求不存在或无权访问" in response.content.decode()
        assert DESCRIPTION not in response.content.decode()
    assert client.post(f"/cases/{case.pk}/withdraw/").status_code == 404
    assert client.post(f"/cases/{case.pk}/supplement/", {"text": "我也要补充"}).status_code == 404
    assert client.post(f"/cases/{case.pk}/rate/").status_code == 404
    assert client.get("/cases/").content.decode().count(case.number) == 0
    case.refresh_from_db()
    assert case.status == CaseStatus.PENDING and case.events.count() == 1


# --- My cases -----------------------------------------------------------------------------------


def test_my_cases_show_status_and_deadline_with_more_pages(client, worker, d, tree, monkeypatch):
    monkeypatch.setattr(case_views, "PAGE_SIZE", 2)
    first = file_case(worker, tree.nantou_employer)
    second = file_case(worker, tree.nantou_employer, category="overtime_pay",
                       description="每周六都要加班，公司从来不给加班费，也不给调休。")
    third = file_case(worker, tree.futian_employer, category="no_contract",
                      description="入职半年了公司一直不和我签劳动合同，怎么办？")
    services.case_accept(actor=d.futian, case=third)
    third.refresh_from_db()
    file_case(WorkerFactory(display_name="王五"), tree.nantou_employer)  # somebody else's

    page = client.get("/cases/").content.decode()
    assert third.number in page and second.number in page and first.number not in page
    assert '<span class="badge badge-in_progress">办理中</span>' in page
    assert f"办结期限：{day(third.complete_due_at)}（含）" in page
    assert f"须在{day(second.accept_due_at)}（含）前受理" in page
    assert 'href="/cases/new/"' in page
    cursor = re.search(r'href="\?cursor=([^"]+)"', page).group(1)

    more = client.get(f"/cases/?cursor={cursor}", headers={"HX-Request": "true"}).content.decode()
    assert first.number in more and "<html" not in more and "加载更多" not in more
    plain = client.get(f"/cases/?cursor={cursor}").content.decode()
    assert first.number in plain and "我的维权诉求" in plain

    bad = client.get("/cases/?cursor=forged")
    assert bad.status_code == 400 and "翻页参数无效" in bad.content.decode()


# --- Filing -------------------------------------------------------------------------------------


def test_the_form_offers_every_field_and_says_the_limits(client, worker, settings):
    page = client.get("/cases/new/").content.decode()
    for name in ("category_q", "category", "description", "employer_q", "employer_name", "place", "workers_affected",
                 "amount_claimed", "attachments", "contact", "contact_time", "protect_identity", "nonce"):
        assert f'name="{name}"' in page, name
    assert '<optgroup label="劳动报酬">' in page and '<option value="wage_arrears">欠薪（拖欠、克扣工资）</option>' in page
    assert f"最多{settings.GONGHUI_CASE_DESCRIPTION_MAX}个字" in page
    assert f"最多{settings.GONGHUI_CASE_ATTACHMENTS_MAX}个，JPG、PNG 图片或 PDF，每个不超过10MB" in page
    assert "对本单位工会保密我的身份" in page and "看不到您的姓名和电话" in page
    assert re.search(r'<input type="hidden" name="nonce" value="[0-9a-f]{32}">', page)
    assert 'enctype="multipart/form-data"' in page and "csrfmiddlewaretoken" in page
    assert 'name="name"' not in page  # the profile has the name


def test_filing_shows_the_union_why_and_the_acceptance_deadline(client, worker, tree):
    data = case_data(tree, workers_affected="12", amount_claimed="18000", contact="sms", contact_time="晚上7点后",
                     protect_identity="yes")
    data["attachments"] = [upload(), upload(PDF, "劳动合同.pdf", "application/pdf")]
    response = client.post("/cases/new/", data)
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert (case.worker, case.org, case.channel, case.category.code) == (worker, tree.nantou_union, "portal",
                                                                           "wage_arrears")
    assert (case.workers_affected, str(case.amount_claimed), case.protect_identity) == (12, "18000.00", True)
    assert case.contact_preference == "短信联系；晚上7点后"
    assert case.external_id.startswith(f"portal-{worker.pk}-")

    page = client.get(response["Location"]).content.decode()
    assert f"诉求已提交，编号 {case.number}" in page
    assert f"由「{tree.nantou_union.name}」办理" in page
    assert case.route_reason in page and "已建立工会" in page
    assert f"「{tree.nantou_union.name}」须在{day(case.accept_due_at)}（含）前受理" in page
    assert "欠条.jpg" in page and "劳动合同.pdf" in page  # the worker's own files, filed with the case
    assert DESCRIPTION in page and "对本单位工会保密" in page


def test_an_unlisted_employer_goes_by_the_place_picked(client, worker, tree):
    data = case_data(tree, employer_id=None, employer_name="深圳某某餐饮店")
    data["place"] = ["440000", "440300", "440305", "440305007"]
    assert client.post("/cases/new/", data).status_code == 302
    case = Case.objects.get()
    assert case.org == tree.yuehai and case.employer_name == "深圳某某餐饮店" and case.work_division_id == "440305007"


def test_an_unlisted_employer_needs_its_place(client, worker, tree):
    response = client.post("/cases/new/", case_data(tree, employer_id=None, employer_name="深圳某某餐饮店"))
    page = response.content.decode()
    assert response.status_code == 400
    assert error_next_to(page, "place") == "请选择用人单位，或填写单位名称并选择所在地（乡镇街道）"
    assert '<details class="manual" open>' in page and 'value="深圳某某餐饮店"' in page
    assert not Case.objects.exists()


def test_a_double_submit_files_one_case(client, worker, tree):
    data = case_data(tree)
    first = client.post("/cases/new/", data)
    again = client.post("/cases/new/", data, follow=True)
    case = Case.objects.get()
    assert first["Location"] == f"/cases/{case.pk}/"
    assert again.redirect_chain == [(f"/cases/{case.pk}/", 302)]
    assert f"这份诉求已经提交过（编号 {case.number}），无需重复提交" in again.content.decode()
    # A new form (a new key) is a new case.
    assert client.post("/cases/new/", case_data(tree)).status_code == 302
    assert Case.objects.count() == 2


def test_a_form_key_of_another_worker_is_not_theirs(client, worker, tree):
    data = case_data(tree)
    client.post("/cases/new/", data)
    other = WorkerFactory(display_name="王五")
    client.force_login(other)
    response = client.post("/cases/new/", data)
    assert response.status_code == 302
    assert Case.objects.filter(worker=other).count() == 1 and Case.objects.count() == 2


@pytest.mark.parametrize(("changes", "files", "field", "message"), [
    ({"description": ""}, None, "description", "请填写诉求内容"),
    ({"description": "欠薪" * 51_200}, None, "description", "诉求内容不能超过5000个字（现有102400个字）"),
    ({"category": "no_such_thing"}, None, "category", "诉求分类不存在或已停用，请重新选择"),
    ({"category": ""}, None, "category", "请选择诉求分类"),
    ({"category": "wages"}, None, "category", "请在「劳动报酬」下选择具体的诉求分类"),
    ({"workers_affected": "0"}, None, "workers_affected", "涉及人数应在1至100000之间"),
    ({"amount_claimed": "一万八"}, None, "amount_claimed", "涉及金额应为数字（单位：元）"),
    ({"employer_id": "999999999"}, None, "employer", "所选用人单位不存在，请重新搜索选择"),
    ({}, [upload(EXE, "工资条.png", "image/png")], "attachments",
     "第1个附件不是 JPG、PNG 图片或 PDF 文件（按文件内容识别）"),
    ({}, [upload(), upload(b"", "空.jpg")], "attachments", "第2个附件是空文件，请重新选择"),
    ({}, [upload(JPEG, f"{i}.jpg") for i in range(10)], "attachments", "附件最多9个"),
], ids=["empty", "100 KB", "unknown category", "no category", "group only", "no workers", "amount in words",
        "unknown employer", "exe named png", "empty file", "too many files"])
def test_bad_input_shows_a_chinese_error_and_writes_nothing(client, worker, tree, changes, files, field, message):
    data = case_data(tree, **changes)
    if files:
        data["attachments"] = files
    response = client.post("/cases/new/", data)
    page = response.content.decode()
    assert response.status_code == 400
    assert error_next_to(page, field) == message
    assert f'href="#f-{field}"' in page  # the summary at the top links to the field
    assert not Case.objects.exists() and not CaseEvent.objects.exists() and not CaseAttachment.objects.exists()


def test_a_30_mb_photo_is_refused_and_the_text_is_kept(client, worker, tree):
    data = case_data(tree, attachments=[big_file(30 * 1024 * 1024)])
    response = client.post("/cases/new/", data)
    page = response.content.decode()
    assert response.status_code == 400
    assert error_next_to(page, "attachments") == "第1个附件超过10MB，请压缩后再上传"
    assert DESCRIPTION in page and "之前选择的附件没有保存" in page
    assert not Case.objects.exists() and not CaseAttachment.objects.exists()


def test_an_oversized_request_is_refused_before_it_is_read(client, worker, tree, settings):
    settings.GONGHUI_CASE_ATTACHMENTS_MAX = 1
    settings.GONGHUI_CASE_ATTACHMENT_MAX_BYTES = 1024 * 1024
    response = client.post("/cases/new/", case_data(tree, attachments=[big_file(3 * 1024 * 1024)]))
    assert response.status_code == 400
    assert error_next_to(response.content.decode(), "attachments").startswith("附件总共太大：最多1个、每个不超过1MB")
    assert not Case.objects.exists()


def test_every_mistake_is_shown_at_once(client, worker, tree):
    data = case_data(tree, description="太短", category="no_such_thing", workers_affected="abc", amount_claimed="-1",
                     attachments=[upload(EXE, "a.jpg")])
    page = client.post("/cases/new/", data).content.decode()
    assert error_next_to(page, "description") == "诉求内容至少10个字"
    assert error_next_to(page, "category") == "诉求分类不存在或已停用，请重新选择"
    assert error_next_to(page, "workers_affected") == "涉及人数应为整数"
    assert error_next_to(page, "amount_claimed") == "涉及金额应在0至10亿元之间"
    assert error_next_to(page, "attachments").startswith("第1个附件不是")
    assert "请修改以下5项后再提交" in page
    assert 'value="abc"' in page and 'value="-1"' in page and "太短</textarea>" in page
    assert not Case.objects.exists()


def test_the_category_search_works_without_and_with_javascript(client, worker, tree):
    page = client.post("/cases/new/", case_data(tree, action="category_search", category_q="不发工资")).content.decode()
    assert '<input type="radio" name="category_pick" value="wage_arrears">' in page
    assert DESCRIPTION in page and not Case.objects.exists()
    part = client.get("/cases/new/categories/", {"category_q": "被辞退"}).content.decode()
    assert 'name="category_pick" value="dismissal"' in part and "<html" not in part
    none = client.get("/cases/new/categories/", {"category_q": "火星"}).content.decode()
    assert "没有找到与“火星”相关的分类" in none
    # The pick wins over the list.
    assert client.post("/cases/new/", case_data(tree, category="", category_pick="dismissal")).status_code == 302
    assert Case.objects.get().category.code == "dismissal"


def test_the_employer_search_is_a_step_of_the_form(client, worker, tree):
    page = client.post("/cases/new/", case_data(tree, action="employer_search", employer_id=None,
                                               employer_q="南头精密")).content.decode()
    assert f'name="employer_id" value="{tree.nantou_employer.pk}"' in page
    assert not Case.objects.exists()
    picked = client.post("/cases/new/", case_data(tree, action="refresh")).content.decode()
    assert tree.nantou_employer.name in picked and 'value="employer_clear"' in picked


def test_a_worker_without_a_name_is_asked_for_one(client, tree):
    nameless = WorkerFactory(display_name="")
    client.force_login(nameless)
    assert 'name="name"' in client.get("/cases/new/").content.decode()
    page = client.post("/cases/new/", case_data(tree)).content.decode()
    assert error_next_to(page, "name") == "请填写您的姓名，便于工会与您联系"
    assert client.post("/cases/new/", case_data(tree, name="赵六")).status_code == 302
    assert Case.objects.get().name == "赵六"


# --- One case -----------------------------------------------------------------------------------


def test_the_owner_downloads_a_file_with_safe_headers(client, worker, tree):
    case = file_case(worker, tree.nantou_employer, attachments=[upload(), upload(PDF, "合同.pdf", "application/pdf")])
    photo, pdf = case.attachments.order_by("id")
    response = client.get(f"/cases/{case.pk}/attachments/{photo.pk}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == JPEG
    assert response["Content-Type"] == "image/jpeg" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline")
    response = client.get(f"/cases/{case.pk}/attachments/{pdf.pk}/")
    assert response["Content-Disposition"].startswith("attachment") and "filename*=utf-8''" in response[
        "Content-Disposition"]
    # A file of another case is not reachable through this case's address.
    other = file_case(WorkerFactory(display_name="王五"), tree.nantou_employer, attachments=[upload()])
    assert client.get(f"/cases/{case.pk}/attachments/{other.attachments.get().pk}/").status_code == 404


def test_the_timeline_shows_what_the_worker_may_see(client, worker, d, tree):
    case = file_case(worker, tree.nantou_employer)
    services.case_accept(actor=d.grassroots, case=case)
    services.case_note(actor=d.grassroots, case=case, text="内部备注：企业负责人态度消极")
    services.case_reply(actor=d.grassroots, case=case, text="已联系企业，正在协调。", attachments=[upload(PDF, "通知.pdf")])
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "提交诉求" in page and "已受理" in page and "工会答复" in page and "已联系企业，正在协调。" in page
    assert "内部备注" not in page and "态度消极" not in page
    assert "通知.pdf" in page and "工会提供" in page
    assert '<span class="badge badge-in_progress">办理中</span>' in page


def test_supplementing_resumes_a_case_waiting_for_the_worker(client, worker, d, tree):
    case = file_case(worker, tree.nantou_employer)
    services.case_accept(actor=d.grassroots, case=case)
    services.case_request_info(actor=d.grassroots, case=case, text="请上传近三个月的工资条或考勤记录")
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "请补充材料" in page and "请上传近三个月的工资条或考勤记录" in page
    assert '<span class="badge badge-waiting_worker">待职工补充</span>' in page

    bad = client.post(f"/cases/{case.pk}/supplement/", {"text": "", "attachments": [upload(EXE, "考勤.jpg")]})
    assert bad.status_code == 400
    assert error_next_to(bad.content.decode(), "text") == "请填写补充内容"
    assert error_next_to(bad.content.decode(), "attachments").startswith("第1个附件不是")
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING_WORKER and case.attachments.count() == 0

    response = client.post(f"/cases/{case.pk}/supplement/", {"text": "已上传考勤记录", "attachments": [upload(name="考勤.jpg")]},
                           follow=True)
    page = response.content.decode()
    assert "补充材料已提交，工会将继续办理" in page and "您补充了材料" in page and "考勤.jpg" in page
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS and case.paused_at is None
    assert case.attachments.get().uploaded_by == worker


def test_withdraw_after_confirming(client, worker, tree):
    case = file_case(worker, tree.nantou_employer)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "撤回诉求" in page and "确认撤回" in page
    response = client.post(f"/cases/{case.pk}/withdraw/", {"reason": "已和单位协商解决"}, follow=True)
    page = response.content.decode()
    assert "诉求已撤回" in page and '<span class="badge badge-withdrawn">已撤回</span>' in page
    assert "确认撤回" not in page and "已和单位协商解决" in page
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    again = client.post(f"/cases/{case.pk}/withdraw/", follow=True)  # a second tap changes nothing
    assert again.status_code == 200 and case.events.filter(action="withdraw").count() == 1


def test_a_finished_case_cannot_be_withdrawn_or_supplemented(client, worker, d, tree):
    case = resolved(d, file_case(worker, tree.nantou_employer))
    page = client.post(f"/cases/{case.pk}/withdraw/", follow=True).content.decode()
    assert "诉求当前为「已办结待回访」，不能撤回" in page
    response = client.post(f"/cases/{case.pk}/supplement/", {"text": "还有新情况"}, follow=True)
    assert response.redirect_chain == [(f"/cases/{case.pk}/", 302)]
    assert "诉求当前为「已办结待回访」，如有新情况请重新提交诉求" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED


def test_the_owner_rates_a_resolved_case_through_the_rating_page(client, worker, d, tree):
    case = resolved(d, file_case(worker, tree.nantou_employer))
    sms_link = callback_url(worker)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "评价办理结果" in page and "已约谈企业负责人" in page
    response = client.post(f"/cases/{case.pk}/rate/")
    assert response.status_code == 302 and response["Location"].startswith("/callbacks/")
    assert response["Location"] != sms_link
    assert client.post(response["Location"], {"score": "5"}).status_code == 200
    case.refresh_from_db()
    assert case.satisfaction == 5
    assert "评价办理结果" not in client.get(f"/cases/{case.pk}/").content.decode()
    # The link sent earlier no longer rates a second time.
    assert "已经用过" in Client().get(sms_link).content.decode()


# --- The callback page --------------------------------------------------------------------------


def test_the_callback_page_full_flow_then_replay(d, tree):
    case = resolved(d, file_case(d.worker, tree.nantou_employer))
    url = callback_url(d.worker)
    anonymous = Client(enforce_csrf_checks=True)
    response = anonymous.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert case.number in page and "已约谈企业负责人，三个月工资已全部补发。" in page and tree.nantou_union.name in page
    assert page.count('type="radio" name="score"') == 5 and "5星 · 非常满意" in page
    assert d.worker.phone not in page
    token = anonymous.cookies["csrftoken"].value

    missing = anonymous.post(url, {"csrfmiddlewaretoken": token, "comment": "x" * 501})
    assert missing.status_code == 400
    assert error_next_to(missing.content.decode(), "score") == "请选择1至5星的满意度"
    assert error_next_to(missing.content.decode(), "comment") == "评价内容不能超过500个字（现有501个字）"
    case.refresh_from_db()
    assert case.satisfaction is None

    done = anonymous.post(url, {"csrfmiddlewaretoken": token, "score": "4", "comment": "处理及时"})
    assert done.status_code == 200 and "感谢您的评价" in done.content.decode()
    case.refresh_from_db()
    assert (case.satisfaction, case.satisfaction_comment, case.rated_via) == (4, "处理及时", "link")

    replay = anonymous.get(url)
    assert replay.status_code == 200 and "这个评价链接已经用过了" in replay.content.decode()
    again = anonymous.post(url, {"csrfmiddlewaretoken": token, "score": "1"})
    assert again.status_code == 200 and "已经用过" in again.content.decode()
    case.refresh_from_db()
    assert case.satisfaction == 4 and case.status == CaseStatus.RESOLVED


def test_a_low_rating_reopens_the_case(client, d, tree):
    case = resolved(d, file_case(d.worker, tree.nantou_employer))
    page = client.post(callback_url(d.worker), {"score": "1", "comment": "钱还没到账"}).content.decode()
    assert "将重新办理" in page
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS and case.reopen_count == 1


def test_a_tampered_link_is_a_friendly_404(client, d, tree):
    resolved(d, file_case(d.worker, tree.nantou_employer))
    url = callback_url(d.worker)
    token = url.split("/")[2]
    tampered = f"/callbacks/{token[:-2]}{'A' if token[-2] != 'A' else 'B'}{token[-1]}/"
    for target in (tampered, "/callbacks/garbage/"):
        response = client.get(target)
        assert response.status_code == 404 and "评价链接无效" in response.content.decode()
        assert client.post(target, {"score": "5"}).status_code == 404
    assert Case.objects.get().satisfaction is None


def test_an_expired_link_says_so(client, d, tree, settings):
    resolved(d, file_case(d.worker, tree.nantou_employer))
    url = callback_url(d.worker)
    later = timezone.now() + datetime.timedelta(days=settings.GONGHUI_CASE_CALLBACK_DAYS + 1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = client.get(url)
        posted = client.post(url, {"score": "5"})
    assert response.status_code == 400 and "评价链接已过期" in response.content.decode()
    assert posted.status_code == 400
    assert Case.objects.get().satisfaction is None


def test_rating_submits_are_limited_per_address(client, d, tree, settings):
    settings.GONGHUI_RATE_LIMITS = {**settings.GONGHUI_RATE_LIMITS, "callback_ip_min": (2, 60)}
    resolved(d, file_case(d.worker, tree.nantou_employer))
    url = callback_url(d.worker)
    assert client.post(url, {}).status_code == 400
    assert client.post(url, {}).status_code == 400
    limited = client.post(url, {"score": "5"})
    assert limited.status_code == 429 and "提交过于频繁" in limited.content.decode()
    assert Case.objects.get().satisfaction is None
    assert client.get(url).status_code == 200  # reading the page is not limited
