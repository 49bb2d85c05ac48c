"""Console supervision pages (劳动法律监督, 一函两书) as union staff use them: the list, the record form
with its article picker, a record with its drafting forms, a letter through its steps, the files,
the figures; outsiders get the console's 404, workers its 403."""

from __future__ import annotations

import re
import secrets

import pytest
from django.test import Client
from django.urls import reverse

from gonghui.core.models import AuditEntry
from gonghui.legal import supervision as sv
from gonghui.legal.models import LetterKind, LetterSerial, LetterStatus, SupervisionLetter, SupervisionRecord
from gonghui.legal.tests.test_supervision import at, frozen, people, record_at
from gonghui.membership.models import OrgNotice

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def token() -> str:
    return secrets.token_urlsafe(18)


def text(response) -> str:
    return response.content.decode()


def board(org) -> str:
    return reverse("console:supervision_board", args=[org.pk])


def record_page(record) -> str:
    return reverse("console:supervision_record", args=[record.pk])


def letter_page(letter) -> str:
    return reverse("console:supervision_letter", args=[letter.pk])


def act(client, letter, action: str, **data):
    return client.post(letter_page(letter), {"form_token": token(), "action": action, **data})


@pytest.fixture
def w(tree):
    tree.p = people(tree)
    tree.record = record_at(tree.nanshan, tree.p.nanshan_staff, tree.nantou_employer)
    tree.draft = sv.letter_draft(actor=tree.p.nanshan_staff, record=tree.record, kind=LetterKind.OPINION)
    with frozen(at(2026, 9, 28, 10, 0)):
        late = sv.letter_draft(actor=tree.p.nanshan_staff, record=tree.record, kind=LetterKind.OPINION)
        late = sv.letter_issue(actor=tree.p.nanshan_admin, letter=late)
        tree.late = sv.letter_deliver(actor=tree.p.nanshan_staff, letter=late, method="邮寄送达")
    return tree


RECORD_FORM = {
    "step": "save", "trigger": "inspection", "inspected_on": "2026-11-20", "employer_id": "",
    "employer_name": "深圳市南头某某服装厂", "employer_address": "深圳市南山区南头街道中山南路3号",
    "monitor_name": ["李明", "王芳", ""], "monitor_cert": ["粤工监2024-018", "", ""],
    "findings": "该厂安排职工每日工作12小时，每月休息不足4天，且未支付加班工资。",
    "articles": "劳动法第四十一条\n《中华人民共和国劳动法》第四十四条\n", "workers_affected": "35",
}


# --- Access ---------------------------------------------------------------------------------------


def test_every_page_renders_for_the_unions_staff(w):
    client = client_for(w.p.nanshan_staff)
    n = w.nanshan.pk
    pages = [board(w.nanshan), f"{board(w.nanshan)}?view=records", f"{board(w.nanshan)}?kind=opinion&status=draft",
             f"{board(w.nanshan)}?overdue=1", f"{board(w.nanshan)}?view=records&status=open",
             f"{board(w.nanshan)}?kind=bogus&status=bogus",
             reverse("console:supervision_record_new", args=[n]), reverse("console:supervision_stats", args=[n]),
             record_page(w.record), reverse("console:supervision_record_edit", args=[w.record.pk]),
             letter_page(w.draft), letter_page(w.late),
             reverse("console:supervision_employers", args=[n]) + "?employer_q=南头精密"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "不存在或无权访问" not in text(response), url
    response = client.get(reverse("console:supervision_home"))
    assert response.status_code == 302 and response["Location"] == board(w.nanshan)
    pdf = client.get(reverse("console:supervision_letter_pdf", args=[w.late.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert "filename*=UTF-8''" in pdf["Content-Disposition"]
    docx = client.get(reverse("console:supervision_letter_docx", args=[w.draft.pk]))
    assert docx.status_code == 200 and docx.content.startswith(b"PK")


def test_the_nav_links_to_the_supervision_pages(w):
    page = text(client_for(w.p.nanshan_viewer).get(reverse("console:home"), follow=True))
    assert f'href="{board(w.nanshan)}">劳动法律监督</a>' in page


def test_outsiders_get_404_and_workers_403(w):
    futian = client_for(w.p.futian_admin)
    for url in [board(w.nanshan), record_page(w.record), letter_page(w.draft),
                reverse("console:supervision_record_edit", args=[w.record.pk]),
                reverse("console:supervision_record_new", args=[w.nanshan.pk]),
                reverse("console:supervision_stats", args=[w.nanshan.pk]),
                reverse("console:supervision_letter_pdf", args=[w.late.pk]),
                reverse("console:supervision_letter_docx", args=[w.late.pk]),
                reverse("console:supervision_letter", args=["abc"]), reverse("console:supervision_record", args=["-1"]),
                reverse("console:supervision_letter", args=["99999999999999999999"])]:
        response = futian.get(url)
        assert response.status_code == 404, url
        assert "不存在或无权访问" in text(response), url
    before = SupervisionLetter.objects.values_list("id", "status").order_by("id")
    response = act(futian, w.draft, "issue")
    assert response.status_code == 404 and list(before) == list(
        SupervisionLetter.objects.values_list("id", "status").order_by("id"))
    response = client_for(w.p.worker).get(letter_page(w.draft))
    assert response.status_code == 403 and "工作台仅限工会工作人员" in text(response)


def test_a_viewer_reads_but_gets_no_forms_and_cannot_post(w):
    client = client_for(w.p.nanshan_viewer)
    page = text(client.get(record_page(w.record)))
    assert "起草意见书" not in page and "修改记录" not in page and "第八十二条" in page
    page = text(client.get(letter_page(w.draft)))
    assert 'name="action" value="issue"' not in page and "下载 PDF" in page
    response = act(client, w.draft, "issue")  # refused in place, like any other refusal of the page
    assert "只有发文工会的管理员可以签发监督文书" in text(response)
    w.draft.refresh_from_db()
    assert w.draft.status == LetterStatus.DRAFT
    response = client.get(reverse("console:supervision_record_new", args=[w.nanshan.pk]))
    assert response.status_code == 403


# --- The board ------------------------------------------------------------------------------------


def test_the_board_marks_overdue_letters_and_filters(w):
    client = client_for(w.p.nanshan_staff)
    page = text(client.get(board(w.nanshan)))
    assert w.late.serial_label in page and "逾期未回复" in page and "意见书（草稿）" in page
    page = text(client.get(f"{board(w.nanshan)}?overdue=1"))
    assert w.late.serial_label in page and "意见书（草稿）" not in page
    page = text(client.get(f"{board(w.nanshan)}?kind=reminder"))
    assert "暂无提示函文书" in page
    page = text(client.get(f"{board(w.nanshan)}?view=records"))
    assert f"JD{w.record.pk:06d}" in page and "文书2件" in page


def test_the_board_pages_with_htmx(w):
    for _ in range(31):
        sv.letter_draft(actor=w.p.nanshan_staff, record=w.record, kind=LetterKind.REMINDER)
    client = client_for(w.p.nanshan_staff)
    page = text(client.get(board(w.nanshan)))
    more = re.search(r'hx-get="([^"]+cursor=[^"]+)"', page).group(1).replace("&amp;", "&")
    rows = client.get(more, HTTP_HX_REQUEST="true")
    assert rows.status_code == 200 and "<html" not in text(rows) and text(rows).count("<tr") == 3  # 33 - 30


# --- The record form ------------------------------------------------------------------------------


def test_a_record_is_saved_from_the_form_then_a_letter_drafted_issued_and_followed(w):
    staff, admin = client_for(w.p.nanshan_staff), client_for(w.p.nanshan_admin)
    response = staff.post(reverse("console:supervision_record_new", args=[w.nanshan.pk]),
                          {**RECORD_FORM, "form_token": token()})
    record = SupervisionRecord.objects.latest("id")
    assert response.status_code == 302 and response["Location"] == record_page(record)
    assert record.monitors == [{"name": "李明", "cert_no": "粤工监2024-018"}, {"name": "王芳", "cert_no": ""}]
    assert sorted(record.articles.values_list("number", flat=True)) == [41, 44] and record.workers_affected == 35
    page = text(staff.get(record_page(record)))
    assert "已登记监督记录" in page and "起草意见书" in page and "起草建议书" in page
    assert "劳动法第四十一条\n劳动法第四十四条" in page  # the picker starts from the record's articles

    response = staff.post(record_page(record), {"form_token": token(), "action": "draft", "kind": "opinion",
                                                "recipient": "深圳市南头某某服装厂", "reply_days": "10",
                                                "articles": "劳动法第四十一条\n劳动法第四十四条"})
    letter = SupervisionLetter.objects.latest("id")
    assert response.status_code == 302 and response["Location"] == letter_page(letter)
    assert (letter.kind, letter.reply_days, letter.status) == ("opinion", 10, "draft")
    page = text(staff.get(letter_page(letter)))
    assert "已起草" in page and "修改草稿" in page and 'value="issue"' not in page  # staff do not issue
    assert "深圳市南头某某服装厂：" in page and "（盖章）" in page and "（文号待签发后生成）" in page

    response = act(admin, letter, "issue")
    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.serial_label == f"南山区总工会监意〔{letter.year}〕第{letter.serial}号"
    assert letter.serial == LetterSerial.objects.get(org=w.nanshan, kind=LetterKind.OPINION, year=letter.year).last
    page = text(admin.get(letter_page(letter)))
    assert f"已签发，文号 {letter.serial_label}" in page and letter.serial_label in page and "登记送达" in page

    assert act(staff, letter, "deliver", method="直接送达", received_by="张厂长", delivered_at="").status_code == 302
    letter.refresh_from_db()
    assert letter.status == LetterStatus.DELIVERED and letter.reply_due_at is not None
    page = text(staff.get(letter_page(letter)))
    assert "已登记送达，回复期限" in page and "应回复日期" in page

    assert act(staff, letter, "reply", text="已调整排班，补发加班工资", date="").status_code == 302
    assert act(staff, letter, "rectify", text="加班工资已全部补发", date="").status_code == 302
    letter.refresh_from_db()
    record.refresh_from_db()
    assert letter.status == LetterStatus.RECTIFIED and record.status == SupervisionRecord.Status.RECTIFIED
    page = text(staff.get(letter_page(letter)))
    for step in ("起草", "签发", "送达", "收到回复", "整改完成"):
        assert f"<strong>{step}</strong>" in page


@pytest.mark.parametrize("changes, field, message", [
    ({"articles": "劳动合同法第九百条"}, "articles", "《劳动合同法》没有第九百条"),
    ({"articles": "公司法第一条"}, "articles", "法规库中没有《公司法》"),
    ({"articles": "第八十二条"}, "articles", "应写作法律名称加条号"),
    ({"monitor_name": ["李明", "", ""]}, "monitors", "两名以上监督员"),
    ({"findings": "太短"}, "findings", "至少10个字"),
    ({"inspected_on": "2099-01-01"}, "inspected_on", "不能晚于今天"),
    ({"employer_name": ""}, "employer_name", "用人单位"),
    ({"trigger": "case", "case_no": "WQ-没有"}, "case_no", "WQ 开头的编号"),
])
def test_a_bad_record_form_says_what_to_fix_and_keeps_the_input(w, changes, field, message):
    before = SupervisionRecord.objects.count()
    response = client_for(w.p.nanshan_staff).post(reverse("console:supervision_record_new", args=[w.nanshan.pk]),
                                                  {**RECORD_FORM, **changes, "form_token": token()})
    assert response.status_code == 200
    page = text(response)
    assert message in page
    assert re.search(r'class="(field|fieldset)?[^"]*has-error', page)
    assert "该厂安排职工每日工作12小时" in page or field == "findings"  # what was typed stays
    assert SupervisionRecord.objects.count() == before


def test_the_employer_search_without_javascript(w):
    client = client_for(w.p.nanshan_staff)
    response = client.post(reverse("console:supervision_record_new", args=[w.nanshan.pk]),
                           {**RECORD_FORM, "step": "find", "employer_q": "南头精密", "form_token": token()})
    page = text(response)
    assert response.status_code == 200 and "深圳市南头精密制造有限公司" in page
    assert f'name="employer_id" value="{w.nantou_employer.pk}"' in page
    assert not SupervisionRecord.objects.filter(employer_name="深圳市南头某某服装厂").exists()


def test_a_record_is_edited_field_by_field(w):
    client = client_for(w.p.nanshan_staff)
    url = reverse("console:supervision_record_edit", args=[w.record.pk])
    page = text(client.get(url))
    assert 'value="李明"' in page and "劳动合同法第三十条" in page
    form = {"step": "save", "trigger": "inspection", "inspected_on": "2026-09-20",
            "employer_id": str(w.nantou_employer.pk), "employer_name": "",
            "employer_address": w.record.employer_address,
            "monitor_name": ["李明", "王芳"], "monitor_cert": ["粤工监2024-018", ""], "findings": w.record.findings,
            "articles": "劳动合同法第三十条\n劳动合同法第八十二条\n劳动合同法第八十五条", "workers_affected": "",
            "form_token": token()}
    response = client.post(url, form)
    assert response.status_code == 302
    w.record.refresh_from_db()
    assert sorted(w.record.articles.values_list("number", flat=True)) == [30, 82, 85]
    # Only the articles changed: nothing else went to the service (nor was looked up again).
    assert set(AuditEntry.objects.filter(action="legal.record_update").get().after) == {"articles"}
    assert w.record.employer == w.nantou_employer


# --- Drafting and escalation ----------------------------------------------------------------------


def test_a_grassroots_union_asks_the_county_from_the_record_page(w):
    record = record_at(w.nantou_union, w.p.union_staff, w.nantou_employer)
    client = client_for(w.p.union_staff)
    page = text(client.get(record_page(record)))
    assert "起草意见书" in page and "起草建议书" not in page and "提请上级工会发出建议书" in page
    assert "南山区总工会会收到通知" in page
    response = client.post(record_page(record), {"form_token": token(), "action": "draft", "kind": "suggestion"})
    assert response.status_code == 200 and "建议书须由县级以上工会发出" in text(response)
    assert not SupervisionLetter.objects.filter(record=record).exists()
    response = client.post(record_page(record), {"form_token": token(), "action": "escalate", "note": "拒不整改"},
                           follow=True)
    assert "已提请南山区总工会发出建议书" in text(response)
    letter = SupervisionLetter.objects.get(record=record)
    assert letter.org == w.nanshan and "南山区总工会" in text(response) and "已提请上级工会办理" in text(response)
    assert OrgNotice.objects.filter(org=w.nanshan, kind="legal_letter").exists()
    county = text(client_for(w.p.nanshan_staff).get(letter_page(letter)))
    assert "深圳市南山区人力资源和社会保障局劳动保障监察大队" in county and "抄送：深圳市南头精密制造有限公司工会委员会" in county


def test_a_bad_draft_keeps_its_form_open_with_the_message(w):
    client = client_for(w.p.nanshan_staff)
    response = client.post(record_page(w.record), {"form_token": token(), "action": "draft", "kind": "opinion",
                                                   "recipient": "深圳市南头精密制造有限公司",
                                                   "articles": "劳动合同法第九百条", "reply_days": "15"})
    page = text(response)
    assert response.status_code == 200 and "《劳动合同法》没有第九百条" in page
    assert '<details class="case-action" id="draft-opinion" open>' in page and "劳动合同法第九百条</textarea>" in page
    assert SupervisionLetter.objects.count() == 2


def test_a_double_submitted_draft_makes_one_letter(w):
    client = client_for(w.p.nanshan_staff)
    data = {"form_token": token(), "action": "draft", "kind": "reminder", "recipient": "深圳市南头精密制造有限公司",
            "articles": "劳动合同法第八十二条", "reply_days": "0"}
    first = client.post(record_page(w.record), data)
    second = client.post(record_page(w.record), data)
    assert first.status_code == 302 and second.status_code == 302 and first["Location"] == second["Location"]
    assert SupervisionLetter.objects.filter(kind=LetterKind.REMINDER).count() == 1


def test_an_overdue_letter_is_escalated_from_its_page(w):
    client = client_for(w.p.nanshan_staff)
    page = text(client.get(letter_page(w.late)))
    assert "已逾期，可升级处理" in page and "升级为建议书" in page
    response = act(client, w.late, "escalate", note="逾期未回复")
    suggestion = SupervisionLetter.objects.get(previous=w.late)
    assert response.status_code == 302 and response["Location"] == letter_page(suggestion)
    page = text(client.get(letter_page(suggestion)))
    assert "由意见书升级" in page and "已起草劳动法律监督建议书" in page and w.late.serial_label in page


def test_a_draft_is_edited_and_voided_from_its_page(w):
    staff, admin = client_for(w.p.nanshan_staff), client_for(w.p.nanshan_admin)
    response = act(staff, w.draft, "edit", recipient="深圳市南头精密制造有限公司", recipient_address="南头街道1号",
                   body="第一段正文，写明检查经过和发现的问题。\n第二段正文。", demands="（一）补签合同\n（二）补发工资",
                   articles="劳动合同法第八十二条", reply_days="15")
    assert response.status_code == 302
    w.draft.refresh_from_db()
    assert w.draft.demands == "补签合同\n补发工资" and w.draft.recipient_address == "南头街道1号"
    response = act(staff, w.draft, "edit", recipient="", recipient_address="", body="", demands="",
                   articles="劳动合同法第八十二条", reply_days="15")
    assert response.status_code == 200 and "请填写主送单位" in text(response)
    assert "只有发文工会的管理员可以作废监督文书" in text(act(staff, w.draft, "void", reason="重复起草"))
    assert act(admin, w.draft, "void", reason="重复起草").status_code == 302
    w.draft.refresh_from_db()
    assert w.draft.status == LetterStatus.VOID and w.draft.void_reason == "重复起草"
    page = text(admin.get(letter_page(w.draft)))
    assert "作废原因" in page and 'id="actions"' not in page


def test_a_bad_delivery_is_shown_beside_its_form(w):
    letter = sv.letter_issue(actor=w.p.nanshan_admin, letter=w.draft)
    response = act(client_for(w.p.nanshan_staff), letter, "deliver", method="直接送达", received_by="",
                   delivered_at="")
    page = text(response)
    assert response.status_code == 200 and "直接送达请填写签收人" in page
    assert '<details class="case-action" id="act-deliver" open>' in page
    letter.refresh_from_db()
    assert letter.status == LetterStatus.ISSUED


def test_stats_page_numbers(w):
    page = text(client_for(w.p.nanshan_viewer).get(reverse("console:supervision_stats", args=[w.nanshan.pk])))
    assert "一函两书统计" in page and "逾期未回复" in page
    assert f'href="{board(w.nanshan)}?overdue=1">1</a>' in page


def test_closing_a_record_from_its_page(w):
    record = record_at(w.nanshan, w.p.nanshan_staff, w.nantou_employer)
    draft = sv.letter_draft(actor=w.p.nanshan_staff, record=record, kind=LetterKind.REMINDER)
    client = client_for(w.p.nanshan_staff)
    refused = client.post(record_page(record), {"form_token": token(), "action": "close", "note": "单位已整改"})
    assert "还有未办结的文书" in text(refused)
    sv.letter_void(actor=w.p.nanshan_admin, letter=draft, reason="不再发出")
    done = client.post(record_page(record), {"form_token": token(), "action": "close", "note": "单位已整改，复查属实"})
    assert done.status_code == 302
    assert SupervisionRecord.objects.get(pk=record.pk).status == SupervisionRecord.Status.CLOSED
    assert "结束监督" not in text(client.get(record_page(record)))
