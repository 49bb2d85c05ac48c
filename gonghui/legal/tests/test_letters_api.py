"""The supervision API (/api/v1/legal/supervision-records, /api/v1/legal/letters): the workflow as
a union uses it, the PDF and DOCX read back (pdftotext, python-docx), and every kind of bad input,
refused with a Chinese message and nothing written."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from urllib.parse import quote, unquote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gonghui.legal import supervision as sv
from gonghui.legal.models import LetterKind, SupervisionLetter, SupervisionRecord
from gonghui.testing.api_asserts import assert_error
from gonghui.testing.fixtures import api_as

from .test_supervision import ARTICLES, FINDINGS, MONITORS, at, frozen, people, record_at

pytestmark = pytest.mark.django_db
RECORDS = "/api/v1/legal/supervision-records"
LETTERS = "/api/v1/legal/letters"


@pytest.fixture
def w(tree):
    tree.p = people(tree)
    return tree


def record_body(w, **changes) -> dict:
    data = {"org_id": w.nanshan.pk, "trigger": "inspection", "employer_id": w.nantou_employer.pk,
            "inspected_on": "2026-11-20", "monitors": MONITORS, "findings": FINDINGS, "articles": ARTICLES}
    data.update(changes)
    return data


def written() -> tuple[int, int]:
    return SupervisionRecord.objects.count(), SupervisionLetter.objects.count()


def pdf_text(content: bytes, tmp_path) -> str:
    """The PDF's text as pdftotext reads it, without white space (CJK lines wrap anywhere)."""
    assert shutil.which("pdftotext"), "poppler-utils is missing: `make test` installs it"
    path = tmp_path / "letter.pdf"
    path.write_bytes(content)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True).stdout
    return re.sub(r"\s+", "", out.decode())


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- The workflow ---------------------------------------------------------------------------------


def test_a_union_records_drafts_issues_delivers_and_follows_a_letter(w):
    staff, admin = api_as(w.p.nanshan_staff), api_as(w.p.nanshan_admin)
    response = staff.post(RECORDS, record_body(w))
    assert response.status_code == 201, response.content
    record = response.json()
    assert record["number"] == f"JD{record['id']:06d}" and record["union"] == {"id": w.nanshan.pk, "name": "南山区总工会"}
    assert record["employer_name"] == "深圳市南头精密制造有限公司" and record["trigger_label"] == "日常监督检查"
    assert [a["title"] for a in record["articles"]] == ["劳动合同法第三十条", "劳动合同法第八十二条"]
    assert record["may_draft"] == ["reminder", "opinion", "suggestion", "referral"] and not record["may_escalate"]

    response = staff.post(LETTERS, {"record_id": record["id"], "kind": "opinion"})
    assert response.status_code == 201, response.content
    letter = response.json()
    assert (letter["status"], letter["serial_label"], letter["reply_days"]) == ("draft", "", 15)
    assert letter["allowed_actions"] == ["edit"]  # staff draft and edit; the admin issues
    assert letter["reply_clause"] == "请于收到本意见书之日起十五个工作日内将整改情况书面回复本会。"
    url = f"{LETTERS}/{letter['id']}"
    response = staff.patch(url, {"demands": ["补签书面劳动合同", "支付二倍工资差额"]})
    assert response.status_code == 200 and response.json()["demands"] == ["补签书面劳动合同", "支付二倍工资差额"]
    assert_error(staff.post(f"{url}/issue"), 403, "forbidden")
    assert set(admin.get(url).json()["allowed_actions"]) == {"edit", "issue", "void"}

    issued = admin.post(f"{url}/issue").json()
    assert re.fullmatch(r"南山区总工会监意〔\d{4}〕第1号", issued["serial_label"])
    delivered = staff.post(f"{url}/deliver", {"method": "直接送达", "received_by": "张经理"})
    assert delivered.status_code == 200, delivered.content
    body = delivered.json()
    assert body["status"] == "delivered" and body["reply_due_at"].endswith("23:59:59+08:00")
    # Staff cannot void (the admin does), nor escalate a letter still within its time.
    assert set(body["allowed_actions"]) == {"reply", "rectify", "unresolved"}
    assert staff.post(f"{url}/reply", {"text": "已收到，正在整改"}).json()["status"] == "replied"
    done = staff.post(f"{url}/rectify", {"text": "已与全部职工补签劳动合同并补发工资差额"}).json()
    assert done["status"] == "rectified" and done["allowed_actions"] == []
    assert [e["action"] for e in done["timeline"]] == ["draft", "edit", "issue", "deliver", "reply", "rectify"]
    assert done["timeline"][2]["actor"] == "南山管理员"
    record = staff.get(f"{RECORDS}/{record['id']}").json()
    assert record["status"] == "rectified" and [x["status"] for x in record["letters"]] == ["rectified"]

    listed = staff.get(LETTERS, status="rectified").json()
    assert [x["id"] for x in listed["items"]] == [letter["id"]] and listed["next_cursor"] is None
    stats = staff.get(f"{LETTERS}/stats", node=w.nanshan.pk).json()
    assert stats["by_kind"]["opinion"] == 1 and stats["rectified"] == 1 and stats["records"] == 1


def test_a_grassroots_union_asks_the_county_for_a_suggestion(w):
    union = api_as(w.p.union_staff)
    record = union.post(RECORDS, record_body(w, org_id=w.nantou_union.pk)).json()
    assert record["may_draft"] == ["reminder", "opinion"] and record["may_escalate"]
    before = written()
    body = assert_error(union.post(LETTERS, {"record_id": record["id"], "kind": "suggestion"}), 403,
                        "county_level_required", "kind")
    assert "建议书须由县级以上工会发出" in body["message"] and "请提请上级工会" in body["message"]
    assert written() == before
    response = union.post(f"{RECORDS}/{record['id']}/escalate", {"note": "单位拒不整改"})
    assert response.status_code == 201, response.content
    sent = response.json()
    assert (sent["kind"], sent["union"]["name"], sent["visible"], sent["body"]) == (
        "suggestion", "南山区总工会", False, [])  # the county's draft: the union sees that it went
    assert union.get(f"{RECORDS}/{record['id']}").json()["letters"][0]["visible"] is False
    assert_error(union.get(f"{LETTERS}/{sent['id']}"), 404, "not_found")
    county = api_as(w.p.nanshan_staff).get(f"{LETTERS}/{sent['id']}").json()
    assert county["recipient"] == "深圳市南山区人力资源和社会保障局劳动保障监察大队" and county["reply_days"] == 5


def test_an_overdue_opinion_is_escalated_and_listed_as_overdue(w):
    record = record_at(w.nanshan, w.p.nanshan_staff, w.nantou_employer)
    with frozen(at(2026, 9, 28, 10, 0)):
        letter = sv.letter_draft(actor=w.p.nanshan_staff, record=record, kind=LetterKind.OPINION)
        letter = sv.letter_issue(actor=w.p.nanshan_admin, letter=letter)
        sv.letter_deliver(actor=w.p.nanshan_staff, letter=letter, method="邮寄送达")
    staff = api_as(w.p.nanshan_staff)
    overdue = staff.get(LETTERS, overdue="true").json()["items"]
    assert [(x["id"], x["overdue"]) for x in overdue] == [(letter.pk, True)]
    response = staff.post(f"{LETTERS}/{letter.pk}/escalate", {"note": "逾期未回复"})
    assert response.status_code == 201, response.content
    suggestion = response.json()
    assert (suggestion["kind"], suggestion["previous_id"], suggestion["visible"]) == ("suggestion", letter.pk, True)
    assert staff.get(f"{LETTERS}/{letter.pk}").json()["next_ids"] == [suggestion["id"]]
    assert_error(staff.post(f"{LETTERS}/{letter.pk}/reply", {"text": "迟到的回复"}), 409, "status_invalid", "status")


# --- Documents ------------------------------------------------------------------------------------


def issued_letter(w) -> SupervisionLetter:
    record = record_at(w.nanshan, w.p.nanshan_staff, w.nantou_employer)
    letter = sv.letter_draft(actor=w.p.nanshan_staff, record=record, kind=LetterKind.OPINION)
    return sv.letter_issue(actor=w.p.nanshan_admin, letter=letter)


def test_the_pdf_reads_back_with_the_serial_and_the_quoted_article(w, tmp_path):
    letter = issued_letter(w)
    response = api_as(w.p.nanshan_viewer).get(f"{LETTERS}/{letter.pk}/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    disposition = response["Content-Disposition"]
    filename = f"{letter.serial_label}-劳动法律监督意见书.pdf"
    assert disposition == f"attachment; filename=\"letter-{letter.pk}.pdf\"; filename*=UTF-8''{quote(filename)}"
    assert unquote(disposition.split("''", 1)[1]) == filename
    text = pdf_text(response.content, tmp_path)
    assert compact(letter.serial_label) in text
    assert "劳动法律监督意见书" in text and "南山区总工会" in text and "深圳市南头精密制造有限公司" in text
    article = letter.articles.get(number=82)
    assert compact(article.text)[:40] in text  # 第八十二条 quoted from the library
    assert "十五个工作日内" in text


def test_a_draft_pdf_has_no_number_yet(w, tmp_path):
    record = record_at(w.nanshan, w.p.nanshan_staff, w.nantou_employer)
    letter = sv.letter_draft(actor=w.p.nanshan_staff, record=record, kind=LetterKind.REMINDER)
    response = api_as(w.p.nanshan_staff).get(f"{LETTERS}/{letter.pk}/pdf")
    assert response.status_code == 200
    assert quote("草稿-劳动法律监督提示函.pdf") in response["Content-Disposition"]
    text = pdf_text(response.content, tmp_path)
    assert "文号待签发后生成" in text and "〔" not in text


def test_the_docx_opens_with_the_text_of_the_letter(w):
    import docx

    letter = issued_letter(w)
    response = api_as(w.p.nanshan_staff).get(f"{LETTERS}/{letter.pk}/docx")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert quote(f"{letter.serial_label}-劳动法律监督意见书.docx") in response["Content-Disposition"]
    document = docx.Document(io.BytesIO(response.content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert letter.serial_label in text and "劳动法律监督意见书" in text
    assert letter.articles.get(number=82).text.split("\n")[0] in text
    assert "深圳市南头精密制造有限公司：" in text


def test_the_openapi_document_describes_the_files(client):
    document = client.get("/api/openapi.json").json()
    pdf = document["paths"]["/api/v1/legal/letters/{letter_id}/pdf"]["get"]["responses"]["200"]
    assert "application/pdf" in pdf["content"]
    paths = {p for p in document["paths"] if p.startswith("/api/v1/legal/")}
    assert {"/api/v1/legal/supervision-records", "/api/v1/legal/supervision-records/{record_id}",
            "/api/v1/legal/supervision-records/{record_id}/escalate", "/api/v1/legal/letters",
            "/api/v1/legal/letters/stats", "/api/v1/legal/letters/{letter_id}",
            "/api/v1/legal/letters/{letter_id}/docx"} <= paths


# --- Bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("changes, status, code, field, words", [
    ({"articles": [{"law": "劳动合同法", "article": "第九百条"}]}, 400, "article_unknown", "articles",
     "《劳动合同法》没有第九百条"),
    ({"articles": [{"law": "劳动合同法", "article": 900}]}, 400, "article_unknown", "articles", "没有第九百条"),
    ({"articles": [{"law": "合同法", "article": 1}]}, 400, "law_unknown", "articles", "法规库中没有《合同法》"),
    ({"articles": []}, 400, "articles_required", "articles", "至少引用一条"),
    ({"articles": [{"law": "劳动合同法"}]}, 400, "article_invalid", "articles", "无法识别"),
    ({"monitors": [{"name": "李明"}]}, 400, "monitors_too_few", "monitors", "两名以上"),
    ({"monitors": [{"name": "李明"}, {}]}, 400, "monitors_too_few", "monitors", "两名以上"),
    ({"findings": ""}, 400, "findings_required", "findings", "请填写发现的问题"),
    ({"findings": "欠" * 5001}, 400, "findings_too_long", "findings", "5000"),
    ({"findings": "欠" * 100_001}, 400, "invalid_input", "findings", "过长"),
    ({"inspected_on": "2099-01-01"}, 400, "inspected_on_future", "inspected_on", "不能晚于今天"),
    ({"inspected_on": "昨天"}, 400, "inspected_on_invalid", "inspected_on", "2026-11-20"),
    ({"employer_id": 99999999}, 404, "not_found", "employer_id", "用人单位"),
    ({"org_id": 99999999}, 404, "not_found", "org_id", "工会组织"),
    ({"trigger": "case", "case_id": 99999999}, 404, "not_found", "case_id", "诉求"),
    ({"employer_name": "厂" * 201, "employer_id": None}, 400, "employer_name_too_long", "employer_name", "200"),
    ({"findings": "公司\x00拖欠工资三个月，涉及职工四十二人。"}, 201, None, None, None),
])
def test_a_bad_record_is_refused_in_chinese(w, changes, status, code, field, words):
    before = written()
    response = api_as(w.p.nanshan_staff).post(RECORDS, record_body(w, **changes))
    if status == 201:  # a NUL byte is dropped, not stored and not a 500
        assert response.status_code == 201, response.content
        assert "\x00" not in response.json()["findings"]
        return
    body = assert_error(response, status, code, field)
    assert words in body["message"], body
    assert written() == before


def test_a_draft_citing_an_article_that_does_not_exist_is_refused(w):
    record = record_at(w.nanshan, w.p.nanshan_staff, w.nantou_employer)
    before = written()
    body = assert_error(api_as(w.p.nanshan_staff).post(LETTERS, {
        "record_id": record.pk, "kind": "opinion", "articles": [{"law": "劳动法", "article": "第二百条"}]}),
        400, "article_unknown", "articles")
    assert body["message"] == "《劳动法》没有第二百条（共107条）"
    assert written() == before


@pytest.mark.parametrize("payload, code, field", [
    ({"kind": "memo"}, "kind_invalid", "kind"),
    ({"kind": "referral"}, "referral_ground_invalid", "referral_ground"),
    ({"kind": "opinion", "reply_days": 0}, "reply_days_required", "reply_days"),
    ({"kind": "opinion", "reply_days": "十五"}, "invalid_input", "reply_days"),
    ({"kind": "opinion", "body": [""]}, "body_required", "body"),
    ({"kind": "opinion", "recipient": ""}, "recipient_required", "recipient"),
    ({"kind": "opinion", "demands": ["很长的要求" * 101]}, "demands_too_long", "demands"),
])
def test_a_bad_draft_is_refused_in_chinese(w, payload, code, field):
    record = record_at(w.nanshan, w.p.nanshan_staff, w.nantou_employer)
    before = written()
    assert_error(api_as(w.p.nanshan_staff).post(LETTERS, {"record_id": record.pk, **payload}), 400, code, field)
    assert written() == before


@pytest.mark.parametrize("letter_id", ["abc", "-1", "0", "1.5", "99999999999999999999", "%20", "1%3B"])
def test_tampered_letter_ids_are_not_found(w, letter_id):
    client = api_as(w.p.nanshan_admin)
    for method, suffix in (("get", ""), ("get", "/pdf"), ("get", "/docx"), ("post", "/issue"), ("patch", "")):
        response = getattr(client, method)(f"{LETTERS}/{letter_id}{suffix}")
        assert_error(response, 404, "not_found")
    assert_error(client.get(f"{RECORDS}/{letter_id}"), 404, "not_found")


def test_ids_of_another_subtree_are_not_found_and_nothing_changes(w):
    futian_record = record_at(w.futian, w.p.futian_admin, w.futian_employer)
    letter = sv.letter_draft(actor=w.p.futian_admin, record=futian_record, kind=LetterKind.OPINION)
    client = api_as(w.p.nanshan_admin)
    for method, path, data in (
        ("get", f"{LETTERS}/{letter.pk}", None), ("get", f"{LETTERS}/{letter.pk}/pdf", None),
        ("get", f"{LETTERS}/{letter.pk}/docx", None), ("post", f"{LETTERS}/{letter.pk}/issue", None),
        ("post", f"{LETTERS}/{letter.pk}/void", {"reason": "越权作废"}),
        ("patch", f"{LETTERS}/{letter.pk}", {"recipient": "别的单位"}),
        ("get", f"{RECORDS}/{futian_record.pk}", None),
        ("post", f"{RECORDS}/{futian_record.pk}/escalate", {"note": "越权"}),
        ("post", LETTERS, {"record_id": futian_record.pk, "kind": "opinion"}),
    ):
        response = getattr(client, method)(path, data) if data else getattr(client, method)(path)
        assert_error(response, 404, "not_found")
    letter.refresh_from_db()
    assert (letter.status, letter.recipient) == ("draft", "深圳市福田商贸有限公司")
    assert_error(client.get(LETTERS, node=w.futian.pk), 404, "not_found")
    assert_error(client.get(f"{LETTERS}/stats", node="abc"), 404, "not_found")
    assert client.get(LETTERS).json()["items"] == []


def test_who_may_call(w):
    record = record_at(w.nanshan, w.p.nanshan_staff, w.nantou_employer)
    assert_error(api_as(None).get(LETTERS), 401, "unauthenticated")
    assert_error(api_as(w.p.worker).get(LETTERS), 403, "forbidden")
    assert_error(api_as(w.p.worker).post(RECORDS, record_body(w)), 403, "forbidden")
    assert_error(api_as(w.p.nanshan_viewer).post(LETTERS, {"record_id": record.pk, "kind": "opinion"}), 403,
                 "forbidden")
    assert api_as(w.p.nanshan_viewer).get(f"{RECORDS}/{record.pk}").json()["may_draft"] == []


@pytest.mark.parametrize("query, code, field", [
    ({"kind": "memo"}, "kind_invalid", "kind"),
    ({"status": "lost"}, "status_invalid", "status"),
    ({"cursor": "forged"}, "invalid_cursor", "cursor"),
    ({"limit": 1000}, "invalid_input", "limit"),
])
def test_bad_list_filters_are_refused(w, query, code, field):
    assert_error(api_as(w.p.nanshan_staff).get(LETTERS, **query), 400, code, field)


def test_workflow_bad_input(w):
    letter = issued_letter(w)
    staff = api_as(w.p.nanshan_staff)
    url = f"{LETTERS}/{letter.pk}"
    assert_error(staff.post(f"{url}/deliver", {"method": "飞鸽传书"}), 400, "method_invalid", "method")
    assert_error(staff.post(f"{url}/deliver", {"method": "邮寄送达", "delivered_at": "2099-01-01T09:00"}), 400,
                 "delivered_at_future", "delivered_at")
    assert_error(staff.post(f"{url}/deliver", {}), 400, "invalid_input", "method")
    assert_error(staff.post(f"{url}/reply", {"text": "已收到"}), 409, "status_invalid", "status")
    assert_error(staff.patch(url, {"recipient": "别的单位"}), 409, "letter_not_draft", "status")
    assert_error(api_as(w.p.nanshan_admin).post(f"{url}/void", {"reason": ""}), 400, "reason_required", "reason")
    response = staff.client.post(f"{url}/deliver", "{not json", content_type="application/json",
                                 **staff._headers())
    assert_error(response, 400)
    letter.refresh_from_db()
    assert letter.status == "issued" and letter.delivered_at is None


def test_the_letter_list_costs_the_same_queries_for_more_letters(w):
    record = record_at(w.nanshan, w.p.nanshan_staff, w.nantou_employer)
    client = api_as(w.p.nanshan_staff)

    def queries() -> int:
        client.get(LETTERS)  # warm: the token and the scope
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LETTERS).status_code == 200
        return len(ctx.captured_queries)

    sv.letter_draft(actor=w.p.nanshan_staff, record=record, kind=LetterKind.OPINION)
    few = queries()
    for _ in range(5):
        sv.letter_draft(actor=w.p.nanshan_staff, record=record, kind=LetterKind.REMINDER)
    assert queries() == few


def test_the_issuing_unions_contact_is_printed_on_its_own_letters_only(w, tmp_path):
    from gonghui.legal import aid

    aid.policy_set(actor=w.p.nanshan_admin, org=w.nanshan, data={"letter_contact": "联系人：李明　联系电话：0755-26661234"})
    letter = issued_letter(w)
    text = pdf_text(api_as(w.p.nanshan_staff).get(f"{LETTERS}/{letter.pk}/pdf").content, tmp_path)
    assert "联系人：李明" in text and "0755-26661234" in text
    assert sv.letter_document(letter).contact.startswith("联系人：李明")
    policy = api_as(w.p.nanshan_admin).get(f"/api/v1/legal/policy/{w.nanshan.pk}").json()
    assert policy["letter_contact"] == "联系人：李明　联系电话：0755-26661234"
    # A union below inherits limits and the issuer code from above, never the contact.
    assert api_as(w.p.nanshan_admin).get(f"/api/v1/legal/policy/{w.nantou.pk}").json()["letter_contact"] == ""
