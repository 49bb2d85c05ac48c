"""Labour-law supervision (一函两书) at the service level: records with their monitors and articles,
every letter transition allowed and refused, serial numbers (also two issues at once), working-day
deadlines across a holiday, the reminder and overdue sweep, escalation up to the county and on to
the procuratorate, who may do what, the documents, and the figures."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass
from unittest import mock

import pytest
from django.utils import timezone

from gonghui.casedesk import services as casedesk
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ServiceError, ValidationFailed
from gonghui.core.models import AuditEntry
from gonghui.legal import supervision as sv
from gonghui.legal.models import (
    LegalPolicy,
    LetterEvent,
    LetterKind,
    LetterSerial,
    LetterStatus,
    SupervisionLetter,
    SupervisionRecord,
)
from gonghui.membership.models import OrgNotice
from gonghui.orgs.models import CaseRole, Role
from gonghui.testing.concurrency import run_together
from gonghui.testing.fixtures import Tree, WorkerFactory, staff_on

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
Action = LetterEvent.Action
Kind = LetterKind
Status = LetterStatus


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SHANGHAI)


def frozen(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


@dataclass
class People:
    nanshan_admin: object  # 南山区总工会 (county): issues and voids
    nanshan_staff: object  # drafts, delivers, records replies
    nanshan_viewer: object
    shenzhen_admin: object  # an ancestor
    futian_admin: object  # a sibling county
    union_staff: object  # 南头精密's grassroots union
    union_admin: object
    worker: object


def people(tree) -> People:
    return People(
        nanshan_admin=staff_on(tree.nanshan, Role.ADMIN, username="ns-admin", display_name="南山管理员"),
        nanshan_staff=staff_on(tree.nanshan, Role.STAFF, username="ns-staff", display_name="南山工作人员"),
        nanshan_viewer=staff_on(tree.nanshan, Role.VIEWER, username="ns-viewer"),
        shenzhen_admin=staff_on(tree.shenzhen, Role.ADMIN, username="sz-admin"),
        futian_admin=staff_on(tree.futian, Role.ADMIN, username="ft-admin"),
        union_staff=staff_on(tree.nantou_union, Role.STAFF, username="ntu-staff"),
        union_admin=staff_on(tree.nantou_union, Role.ADMIN, username="ntu-admin"),
        worker=WorkerFactory(display_name="职工甲"),
    )


MONITORS = [{"name": "李明", "cert_no": "粤工监2024-018"}, {"name": "王芳", "cert_no": ""}]
FINDINGS = "该公司与车间42名职工自用工之日起超过一个月未订立书面劳动合同，且拖欠2026年9月工资。"
ARTICLES = [{"law": "劳动合同法", "article": "第八十二条"}, {"law": "labour-contract-law", "article": 30}]


def record_at(org, actor, employer=None, **changes) -> SupervisionRecord:
    data = {"org_id": org.pk, "trigger": "inspection", "inspected_on": "2026-09-20", "monitors": MONITORS,
            "findings": FINDINGS, "articles": ARTICLES}
    if employer is not None:
        data["employer_id"] = employer.pk
    else:
        data.update(employer_name="深圳市南头某某电子厂", employer_address="深圳市南山区南头街道关口二路8号")
    data.update(changes)
    with frozen(at(2026, 9, 21, 10, 0)):
        return sv.record_create(actor=actor, **data)


def reload(letter) -> SupervisionLetter:
    return SupervisionLetter.objects.select_related("org", "record", "record__org").get(pk=letter.pk)


def issued(letter, admin, when=None) -> SupervisionLetter:
    with frozen(when or at(2026, 9, 28, 10, 0)):
        return sv.letter_issue(actor=admin, letter=letter)


def delivered(letter, admin, staff, when=None) -> SupervisionLetter:
    letter = issued(letter, admin, when)
    with frozen(when or at(2026, 9, 28, 10, 0)):
        return sv.letter_deliver(actor=staff, letter=letter, method="直接送达", received_by="张经理")


@pytest.fixture
def w(tree):
    """The tree, its people and a record at 南山区 about 南头精密 (a registered employer)."""
    tree.p = people(tree)
    tree.record = record_at(tree.nanshan, tree.p.nanshan_staff, tree.nantou_employer)
    return tree


def opinion(w, **kwargs) -> SupervisionLetter:
    with frozen(at(2026, 9, 25, 10, 0)):
        return sv.letter_draft(actor=w.p.nanshan_staff, record=w.record, kind=Kind.OPINION, **kwargs)


# --- Records --------------------------------------------------------------------------------------


def test_a_record_of_two_monitors_with_articles_from_the_library(w):
    record = w.record
    assert (record.org, record.org_path, record.employer, record.employer_name) == (
        w.nanshan, w.nanshan.path, w.nantou_employer, "深圳市南头精密制造有限公司")
    assert record.monitors == [{"name": "李明", "cert_no": "粤工监2024-018"}, {"name": "王芳", "cert_no": ""}]
    assert record.inspected_on == datetime.date(2026, 9, 20) and record.status == SupervisionRecord.Status.OPEN
    assert sorted(sv.article_ref_text(a) for a in record.articles.select_related("law")) == [
        "劳动合同法第三十条", "劳动合同法第八十二条"]
    entry = AuditEntry.objects.get(action="legal.record_create")
    assert entry.org_path == w.nanshan.path and entry.actor == w.p.nanshan_staff
    assert sv.record_number(record) == f"JD{record.pk:06d}"


@pytest.mark.parametrize("line, law, number", [
    ("劳动合同法第八十二条", "labour-contract-law", 82),
    ("《中华人民共和国劳动合同法》第三十八条第一款第二项", "labour-contract-law", 38),
    ("劳动法 44", "labour-law", 44),
    ("中华人民共和国工伤保险条例第十四条", "work-injury-regulations", 14),
    ("劳动合同法实施条例第6条", "labour-contract-regulations", 6),
])
def test_an_article_by_any_usual_way_of_writing_it(db, line, law, number):
    [article] = sv.resolve_articles([line])
    assert (article.law.slug, article.number) == (law, number)


@pytest.mark.parametrize("changes, code, field, words", [
    ({"monitors": [{"name": "李明"}]}, "monitors_too_few", "monitors", "两名以上监督员"),
    ({"monitors": [{"name": "李明"}, {"name": "李明"}]}, "monitor_repeated", "monitors", "李明"),
    ({"monitors": [{"name": "李明"}, {"name": "王"}]}, "monitor_name_invalid", "monitors", "第2名监督员"),
    ({"monitors": [{"name": "李明"}, {"name": "王芳" * 11}]}, "monitor_name_invalid", "monitors", "2至20个字"),
    ({"monitors": "李明"}, "monitors_invalid", "monitors", "监督员"),
    ({"findings": "没签合同"}, "findings_too_short", "findings", "至少10个字"),
    ({"findings": "欠" * 5001}, "findings_too_long", "findings", "5000"),
    ({"articles": []}, "articles_required", "articles", "至少引用一条"),
    ({"articles": [{"law": "劳动合同法", "article": "第九百条"}]}, "article_unknown", "articles",
     "《劳动合同法》没有第九百条"),
    ({"articles": [{"law": "劳动合同法", "article": 99}]}, "article_unknown", "articles", "没有第九十九条（共98条）"),
    ({"articles": [{"law": "公司法", "article": "第一条"}]}, "law_unknown", "articles", "法规库中没有《公司法》"),
    ({"articles": [{"law": "劳动合同法", "article": "八十二款"}]}, "article_invalid", "articles", "八十二款"),
    ({"articles": ["劳动合同法"]}, "article_invalid", "articles", "例如“劳动合同法第八十二条”"),
    ({"inspected_on": "2026-09-22"}, "inspected_on_future", "inspected_on", "不能晚于今天"),
    ({"inspected_on": "9月20日"}, "inspected_on_invalid", "inspected_on", "2026-11-20"),
    ({"trigger": "rumour"}, "trigger_invalid", "trigger", "日常监督检查"),
    ({"case_id": 1}, "case_unexpected", "case_id", "职工诉求"),
    ({"employer_id": None, "employer_name": "", "employer_address": ""}, "employer_required", "employer_name",
     "用人单位"),
    ({"workers_affected": -3}, "workers_affected_invalid", "workers_affected", "涉及职工人数"),
])
def test_a_bad_record_is_refused_with_what_to_fix(w, changes, code, field, words):
    before = SupervisionRecord.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        record_at(w.nanshan, w.p.nanshan_staff, w.nantou_employer, **changes)
    assert (exc.value.code, exc.value.field) == (code, field), exc.value.message
    assert words in exc.value.message
    assert SupervisionRecord.objects.count() == before


def test_who_may_record(w):
    with pytest.raises(PermissionDenied):
        record_at(w.nanshan, w.p.nanshan_viewer)
    for outsider in (w.p.futian_admin, w.p.worker, w.p.union_staff):  # Nanshan is outside their scope
        with pytest.raises(NotFound):
            record_at(w.nanshan, outsider)
    with pytest.raises(NotFound) as exc:  # an employer outside the actor's scope
        record_at(w.nantou_union, w.p.union_staff, w.futian_employer)
    assert exc.value.field == "employer_id"
    assert record_at(w.nantou_union, w.p.union_staff, w.nantou_employer).org == w.nantou_union
    assert record_at(w.nanshan, w.p.shenzhen_admin).org == w.nanshan  # an ancestor's admin


def test_a_record_from_a_case_takes_its_employer_and_needs_the_case_role(w):
    handler = staff_on(w.nanshan, Role.STAFF, case_role=CaseRole.HANDLER, username="ns-handler")
    case, _ = casedesk.case_create(
        actor=WorkerFactory(display_name="职工乙"), channel="portal", category="wage_arrears",
        employer_id=w.futian_employer.pk,
        description="公司已经两个月没有发工资了，车间二十多人都没有拿到。", workers_affected=23)
    with pytest.raises(NotFound) as exc:  # a Futian case: out of the Nanshan handler's scope
        record_at(w.nanshan, handler, trigger="case", case_id=case.pk)
    assert exc.value.field == "case_id"
    case, _ = casedesk.case_create(
        actor=WorkerFactory(display_name="职工乙"), channel="portal", category="wage_arrears",
        employer_id=w.nantou_employer.pk,
        description="公司已经两个月没有发工资了，车间二十多人都没有拿到。", workers_affected=23)
    with pytest.raises(NotFound):  # general staff role, no case role: cases are not theirs to read
        record_at(w.nanshan, w.p.nanshan_staff, trigger="case", case_id=case.pk)
    record = record_at(w.nanshan, handler, trigger="case", case_id=case.pk, employer_name="", employer_address="")
    assert (record.case, record.employer, record.workers_affected) == (case, w.nantou_employer, 23)


def test_a_record_is_corrected_field_by_field(w):
    record = sv.record_update(actor=w.p.nanshan_staff, record=w.record, findings="复查发现：" + FINDINGS,
                              articles=["劳动合同法第八十二条"])
    assert record.findings.startswith("复查发现") and record.employer == w.nantou_employer
    assert [a.label for a in record.articles.all()] == ["第八十二条"]
    entry = AuditEntry.objects.get(action="legal.record_update")
    assert set(entry.after) == {"findings", "articles"}
    with pytest.raises(PermissionDenied):
        sv.record_update(actor=w.p.nanshan_viewer, record=record, findings=FINDINGS)
    with pytest.raises(ValidationFailed) as exc:
        sv.record_update(actor=w.p.nanshan_staff, record=record, monitors=[{"name": "李明"}])
    assert exc.value.code == "monitors_too_few"
    SupervisionRecord.objects.filter(pk=record.pk).update(status=SupervisionRecord.Status.CLOSED)
    with pytest.raises(Conflict):
        sv.record_update(actor=w.p.nanshan_staff, record=record, findings="结束后又想修改的内容。")


# --- Drafting -------------------------------------------------------------------------------------


def test_an_opinion_is_drafted_from_the_record(w):
    letter = opinion(w)
    assert (letter.status, letter.org, letter.kind, letter.reply_days) == (Status.DRAFT, w.nanshan, Kind.OPINION, 15)
    assert letter.recipient == "深圳市南头精密制造有限公司" and letter.serial_label == ""
    body = letter.body.split("\n")
    assert body[0].startswith("2026年9月20日，本会劳动法律监督员李明、王芳对你单位")
    assert "《中华人民共和国劳动合同法》第三十条、第八十二条" in body[-1]
    assert len(letter.demands.split("\n")) == 3
    assert sorted(letter.articles.values_list("number", flat=True)) == [30, 82]
    assert [(e.action, e.from_status, e.to_status) for e in letter.events.all()] == [(Action.DRAFT, "", "draft")]


def test_a_suggestion_goes_to_the_labour_inspection_of_the_employers_county(w):
    with frozen(at(2026, 9, 25, 10, 0)):
        letter = sv.letter_draft(actor=w.p.nanshan_staff, record=w.record, kind=Kind.SUGGESTION)
    assert letter.recipient == "深圳市南山区人力资源和社会保障局劳动保障监察大队"
    assert letter.reply_days == 5 and "《劳动保障监察条例》第七条" in letter.body
    with frozen(at(2026, 9, 25, 10, 0)):
        referral = sv.letter_draft(actor=w.p.nanshan_staff, record=w.record, kind=Kind.REFERRAL,
                                   referral_ground="wage_arrears_mass", recipient="深圳市南山区人民检察院")
    assert referral.referral_ground == "wage_arrears_mass" and "欠薪涉及人数众多" in referral.body


@pytest.mark.parametrize("kind", [Kind.SUGGESTION, Kind.REFERRAL])
def test_a_grassroots_union_may_not_send_a_suggestion_or_a_referral(w, kind):
    record = record_at(w.nantou_union, w.p.union_staff, w.nantou_employer)
    with pytest.raises(PermissionDenied) as exc:
        sv.letter_draft(actor=w.p.union_admin, record=record, kind=kind, referral_ground="wage_arrears_mass")
    assert exc.value.code == "county_level_required" and exc.value.field == "kind"
    assert "须由县级以上工会发出" in exc.value.message and "请提请上级工会" in exc.value.message
    assert not SupervisionLetter.objects.exists()


def test_a_grassroots_record_is_escalated_to_the_nearest_county_union(w):
    record = record_at(w.nantou_union, w.p.union_staff, w.nantou_employer)
    letter = sv.record_escalate(actor=w.p.union_staff, record=record, note="单位拒不整改")
    # 南头精密's union → 南头街道 (township) → 南山区 (county): the county drafts it.
    assert (letter.org, letter.kind, letter.status, letter.record) == (w.nanshan, Kind.SUGGESTION, Status.DRAFT, record)
    assert letter.body.startswith("2026年9月20日，深圳市南头精密制造有限公司工会委员会劳动法律监督员")
    notice = OrgNotice.objects.get(org=w.nanshan, kind="legal_letter")
    assert "提请本会" in notice.body and notice.link == f"/console/legal/supervision/letters/{letter.pk}/"
    assert sv.record_escalate(actor=w.p.union_staff, record=record) == letter  # asked twice: one draft
    assert SupervisionLetter.objects.count() == 1
    with pytest.raises(NotFound):  # the draft is the county's
        sv.letter_get(actor=w.p.union_staff, letter_id=letter.pk)
    mine, above = sv.record_letters(actor=w.p.union_staff, record=record)
    assert (mine, above) == ([], [letter])
    assert sv.letter_get(actor=w.p.nanshan_staff, letter_id=letter.pk) == letter
    assert AuditEntry.objects.filter(action="legal.record_escalate", org_path=w.nantou_union.path).count() == 1


def test_a_county_staff_member_drafts_for_a_record_below_from_the_county(w):
    record = record_at(w.nantou_union, w.p.union_staff, w.nantou_employer)
    letter = sv.letter_draft(actor=w.p.nanshan_staff, record=record, kind=Kind.SUGGESTION, org_id=w.nanshan.pk)
    assert letter.org == w.nanshan
    with pytest.raises(ValidationFailed) as exc:  # a union beside the record's, not above it
        sv.letter_draft(actor=w.p.shenzhen_admin, record=record, kind=Kind.OPINION, org_id=w.futian.pk)
    assert exc.value.code == "issuer_invalid"


@pytest.mark.parametrize("kwargs, code, field, words", [
    ({"articles": [{"law": "劳动合同法", "article": "第九百条"}]}, "article_unknown", "articles", "没有第九百条"),
    ({"demands": []}, "demands_required", "demands", "整改要求"),
    ({"reply_days": 0}, "reply_days_required", "reply_days", "意见书须设定回复期限"),
    ({"reply_days": 61}, "reply_days_invalid", "reply_days", "0至60"),
    ({"body": ["太短"]}, "body_too_short", "body", "至少10个字"),
    ({"body": ["很长的正文" * 700]}, "body_too_long", "body", "3000"),
    ({"recipient": "厂"}, "recipient_too_short", "recipient", "主送单位"),
    ({"referral_ground": "wage_arrears_mass"}, "referral_ground_unexpected", "referral_ground", "移送"),
])
def test_a_bad_draft_is_refused(w, kwargs, code, field, words):
    with pytest.raises(ValidationFailed) as exc:
        opinion(w, **kwargs)
    assert (exc.value.code, exc.value.field) == (code, field), exc.value.message
    assert words in exc.value.message
    assert not SupervisionLetter.objects.exists()


def test_a_referral_needs_a_ground_from_the_list(w):
    with pytest.raises(ValidationFailed) as exc:
        sv.letter_draft(actor=w.p.nanshan_staff, record=w.record, kind=Kind.REFERRAL, referral_ground="看着不对")
    assert exc.value.code == "referral_ground_invalid" and "欠薪涉及人数众多" in exc.value.message


def test_reply_days_come_from_the_nearest_policy_and_may_be_set_per_letter(w):
    LegalPolicy.objects.create(org=w.shenzhen, opinion_reply_days=10)
    assert opinion(w).reply_days == 10
    assert opinion(w, reply_days=20).reply_days == 20
    LegalPolicy.objects.create(org=w.nanshan, reminder_reply_days=3)
    reminder = sv.letter_draft(actor=w.p.nanshan_staff, record=w.record, kind=Kind.REMINDER)
    assert reminder.reply_days == 3 and reminder.demands == ""


def test_a_draft_is_edited_and_an_issued_letter_never(w):
    letter = opinion(w)
    letter = sv.letter_update(actor=w.p.nanshan_staff, letter=letter, demands="1. 补签书面劳动合同\n（二）支付二倍工资差额",
                              articles=["劳动合同法第八十二条"], recipient_address="南山区南头街道1号")
    assert letter.demands == "补签书面劳动合同\n支付二倍工资差额"
    assert list(letter.articles.values_list("number", flat=True)) == [82]
    assert letter.events.last().action == Action.EDIT
    with pytest.raises(PermissionDenied):
        sv.letter_update(actor=w.p.nanshan_viewer, letter=letter, recipient_address="别处")
    letter = issued(letter, w.p.nanshan_admin)
    with pytest.raises(Conflict) as exc:
        sv.letter_update(actor=w.p.nanshan_staff, letter=letter, recipient_address="别处")
    assert exc.value.code == "letter_not_draft" and "作废后重新起草" in exc.value.message


# --- The workflow ---------------------------------------------------------------------------------


def test_the_whole_life_of_an_opinion_across_the_national_day_holiday(w):
    letter = opinion(w)
    letter = issued(letter, w.p.nanshan_admin, at(2026, 9, 28, 10, 0))
    assert letter.serial_label == "南山区总工会监意〔2026〕第1号" and (letter.year, letter.serial) == (2026, 1)
    with frozen(at(2026, 9, 29, 16, 0)):
        letter = sv.letter_deliver(actor=w.p.nanshan_staff, letter=letter, method="直接送达", received_by="张经理")
    # 15 working days from Tue 29 Sep: 30 Sep, then 1-7 Oct are holidays, Sat 10 Oct is a make-up
    # working day: 8, 9, 10, 12-16, 19-23 Oct, 26 Oct.
    assert timezone.localtime(letter.reply_due_at) == at(2026, 10, 26, 23, 59, 59)
    with frozen(at(2026, 10, 20, 11, 0)):
        letter = sv.letter_reply(actor=w.p.nanshan_staff, letter=letter, text="已与42名职工补签劳动合同，工资将于本月底前补发。")
    assert letter.status == Status.REPLIED and letter.replied_at == at(2026, 10, 20, 11, 0)
    with frozen(at(2026, 10, 30, 9, 0)):
        letter = sv.letter_rectified(actor=w.p.nanshan_staff, letter=letter, text="工资已全部补发，职工签字确认。",
                                     rectified_on="2026-10-29")
    assert letter.status == Status.RECTIFIED and letter.rectified_at == at(2026, 10, 29, 9, 0)
    w.record.refresh_from_db()
    assert w.record.status == SupervisionRecord.Status.RECTIFIED and w.record.rectified_at == letter.rectified_at
    assert [(e.action, e.from_status, e.to_status, e.actor) for e in letter.events.order_by("id")] == [
        (Action.DRAFT, "", "draft", w.p.nanshan_staff),
        (Action.ISSUE, "draft", "issued", w.p.nanshan_admin),
        (Action.DELIVER, "issued", "delivered", w.p.nanshan_staff),
        (Action.REPLY, "delivered", "replied", w.p.nanshan_staff),
        (Action.RECTIFY, "replied", "rectified", w.p.nanshan_staff),
    ]
    assert list(AuditEntry.objects.filter(action__startswith="legal.letter_").order_by("id")
                .values_list("action", flat=True)) == [
        "legal.letter_draft", "legal.letter_issue", "legal.letter_deliver", "legal.letter_reply",
        "legal.letter_rectify"]


def test_a_suggestion_is_due_in_five_working_days_ending_on_a_make_up_saturday(w):
    letter = sv.letter_draft(actor=w.p.nanshan_staff, record=w.record, kind=Kind.SUGGESTION)
    letter = issued(letter, w.p.nanshan_admin, at(2026, 9, 28, 9, 0))
    with frozen(at(2026, 9, 28, 15, 0)):
        letter = sv.letter_deliver(actor=w.p.nanshan_staff, letter=letter, method="邮寄送达")
    # Mon 28 Sep + 5 working days: 29, 30 Sep, 8, 9 Oct and Saturday 10 Oct (调休 working day).
    assert timezone.localtime(letter.reply_due_at) == at(2026, 10, 10, 23, 59, 59)


def test_a_reminder_without_reply_days_needs_no_reply(w):
    reminder = sv.letter_draft(actor=w.p.nanshan_staff, record=w.record, kind=Kind.REMINDER)
    reminder = delivered(reminder, w.p.nanshan_admin, w.p.nanshan_staff)
    assert reminder.reply_days == 0 and reminder.reply_due_at is None
    assert sv.letter_document(reminder).reply_clause == ""
    # Nothing to wait for: it may be escalated to an opinion at once.
    with frozen(at(2026, 9, 29, 10, 0)):
        new = sv.letter_escalate(actor=w.p.nanshan_staff, letter=reminder)
    assert (new.kind, new.org, new.previous) == (Kind.OPINION, w.nanshan, reminder)
    assert "未予纠正" in new.body


# Which actions each status allows (the expected table, written out; the services are checked against it).
ALLOWED = {
    Status.DRAFT: {"issue", "void"},
    Status.ISSUED: {"deliver", "void"},
    Status.DELIVERED: {"reply", "rectify", "unresolved", "escalate", "void"},
    Status.REPLIED: {"rectify", "unresolved", "escalate"},
    Status.UNRESOLVED: {"rectify", "escalate"},
    Status.RECTIFIED: set(),
    Status.ESCALATED: set(),
    Status.VOID: set(),
}
AFTER = {"issue": Status.ISSUED, "deliver": Status.DELIVERED, "reply": Status.REPLIED, "rectify": Status.RECTIFIED,
         "unresolved": Status.UNRESOLVED, "escalate": Status.ESCALATED, "void": Status.VOID}


def letter_in(w, status: str) -> SupervisionLetter:
    """An opinion brought to `status`, delivered on 28 Sep (due 23 Oct); the clock stands at 2 Nov."""
    letter = opinion(w)
    if status == Status.DRAFT:
        return letter
    if status == Status.VOID:
        return sv.letter_void(actor=w.p.nanshan_admin, letter=letter, reason="主送单位写错")
    letter = issued(letter, w.p.nanshan_admin)
    if status == Status.ISSUED:
        return letter
    with frozen(at(2026, 9, 28, 15, 0)):
        letter = sv.letter_deliver(actor=w.p.nanshan_staff, letter=letter, method="直接送达", received_by="张经理")
    with frozen(at(2026, 11, 2, 9, 0)):
        if status == Status.REPLIED:
            letter = sv.letter_reply(actor=w.p.nanshan_staff, letter=letter, text="正在整改")
        elif status == Status.UNRESOLVED:
            letter = sv.letter_unresolved(actor=w.p.nanshan_staff, letter=letter, reason="单位拒绝整改")
        elif status == Status.RECTIFIED:
            letter = sv.letter_rectified(actor=w.p.nanshan_staff, letter=letter, text="已整改")
        elif status == Status.ESCALATED:
            sv.letter_escalate(actor=w.p.nanshan_staff, letter=letter)
            letter = reload(letter)
    assert letter.status == status
    return letter


def act(w, letter, action: str):
    who = w.p.nanshan_admin
    calls = {
        "issue": lambda: sv.letter_issue(actor=who, letter=letter),
        "deliver": lambda: sv.letter_deliver(actor=who, letter=letter, method="电子送达"),
        "reply": lambda: sv.letter_reply(actor=who, letter=letter, text="已收到意见书"),
        "rectify": lambda: sv.letter_rectified(actor=who, letter=letter, text="已整改完毕"),
        "unresolved": lambda: sv.letter_unresolved(actor=who, letter=letter, reason="拒不整改"),
        "escalate": lambda: sv.letter_escalate(actor=who, letter=letter),
        "void": lambda: sv.letter_void(actor=who, letter=letter, reason="情况有变"),
    }
    with frozen(at(2026, 11, 2, 10, 0)):
        return calls[action]()


@pytest.mark.parametrize("status", list(ALLOWED))
@pytest.mark.parametrize("action", list(AFTER))
def test_every_transition_is_allowed_or_refused_as_declared(w, status, action):
    letter = letter_in(w, status)
    events = letter.events.count()
    assert set(sv.letter_allowed_actions(w.p.nanshan_admin, letter, at(2026, 11, 2, 10, 0))) - {"edit"} == \
        ALLOWED[status]
    if action in ALLOWED[status]:
        act(w, letter, action)
        assert reload(letter).status == AFTER[action]
        assert letter.events.count() == events + 1
        event = letter.events.last()
        assert (event.from_status, event.to_status) == (status, AFTER[action])
    elif AFTER[action] == status:  # the same step twice (a double click): nothing happens again
        act(w, letter, action)
        assert reload(letter).status == status and letter.events.count() == events
    else:
        with pytest.raises(Conflict) as exc:
            act(w, letter, action)
        assert exc.value.code in ("status_invalid", "escalate_refused") and "文书当前为" in exc.value.message
        assert reload(letter).status == status and letter.events.count() == events


def test_a_delivered_letter_is_not_escalated_before_its_deadline(w):
    letter = delivered(opinion(w), w.p.nanshan_admin, w.p.nanshan_staff)
    with frozen(at(2026, 10, 15, 10, 0)), pytest.raises(Conflict) as exc:
        sv.letter_escalate(actor=w.p.nanshan_staff, letter=letter)
    assert exc.value.code == "escalate_refused" and "尚未届满" in exc.value.message and "未整改" in exc.value.message
    assert "escalate" not in sv.letter_allowed_actions(w.p.nanshan_staff, letter, at(2026, 10, 15, 10, 0))


@pytest.mark.parametrize("action, who", [
    ("issue", "nanshan_staff"), ("void", "nanshan_staff"), ("issue", "nanshan_viewer"), ("deliver", "nanshan_viewer"),
    ("issue", "futian_admin"), ("deliver", "worker"), ("issue", "union_admin"),
])
def test_roles_decide_who_takes_each_step(w, action, who):
    letter = opinion(w) if action in ("issue", "void") else issued(opinion(w), w.p.nanshan_admin)
    actor = getattr(w.p, who)
    with pytest.raises(PermissionDenied) as exc:
        {"issue": lambda: sv.letter_issue(actor=actor, letter=letter),
         "void": lambda: sv.letter_void(actor=actor, letter=letter, reason="作废原因"),
         "deliver": lambda: sv.letter_deliver(actor=actor, letter=letter, method="电子送达")}[action]()
    assert "发文工会" in exc.value.message
    assert reload(letter).status == letter.status


def test_an_ancestors_admin_may_issue(w):
    assert issued(opinion(w), w.p.shenzhen_admin).status == Status.ISSUED


@pytest.mark.parametrize("kwargs, code, field", [
    ({"method": "托人转交"}, "method_invalid", "method"),
    ({"method": "直接送达"}, "received_by_required", "received_by"),
    ({"method": "邮寄送达", "delivered_at": "2026-09-30T10:00"}, "delivered_at_future", "delivered_at"),
    ({"method": "邮寄送达", "delivered_at": "2026-09-27"}, "delivered_before_issue", "delivered_at"),
    ({"method": "邮寄送达", "delivered_at": "昨天"}, "delivered_at_invalid", "delivered_at"),
])
def test_a_bad_delivery_is_refused(w, kwargs, code, field):
    letter = issued(opinion(w), w.p.nanshan_admin, at(2026, 9, 28, 10, 0))
    with frozen(at(2026, 9, 29, 10, 0)), pytest.raises(ValidationFailed) as exc:
        sv.letter_deliver(actor=w.p.nanshan_staff, letter=letter, **kwargs)
    assert (exc.value.code, exc.value.field) == (code, field)
    assert reload(letter).status == Status.ISSUED


def test_a_delivery_on_the_day_of_issue_given_as_a_date(w):
    letter = issued(opinion(w), w.p.nanshan_admin, at(2026, 9, 28, 15, 0))
    with frozen(at(2026, 9, 30, 10, 0)):
        letter = sv.letter_deliver(actor=w.p.nanshan_staff, letter=letter, method="邮寄送达", delivered_at="2026-09-28")
    assert letter.delivered_at == at(2026, 9, 28, 15, 0)


def test_a_reply_date_before_delivery_or_in_the_future_is_refused(w):
    letter = delivered(opinion(w), w.p.nanshan_admin, w.p.nanshan_staff)
    with frozen(at(2026, 10, 9, 10, 0)):
        for day, code in (("2026-09-27", "replied_on_before_delivery"), ("2026-10-10", "replied_on_future")):
            with pytest.raises(ValidationFailed) as exc:
                sv.letter_reply(actor=w.p.nanshan_staff, letter=letter, text="已整改", replied_on=day)
            assert exc.value.code == code
        with pytest.raises(ValidationFailed) as exc:
            sv.letter_reply(actor=w.p.nanshan_staff, letter=letter, text=" ")
        assert exc.value.code == "text_required"


def test_a_record_is_rectified_only_when_none_of_its_letters_waits(w):
    first = delivered(opinion(w), w.p.nanshan_admin, w.p.nanshan_staff)
    second = delivered(opinion(w), w.p.nanshan_admin, w.p.nanshan_staff)
    sv.letter_rectified(actor=w.p.nanshan_staff, letter=first, text="合同已补签")
    w.record.refresh_from_db()
    assert w.record.status == SupervisionRecord.Status.OPEN
    sv.letter_rectified(actor=w.p.nanshan_staff, letter=second, text="工资已补发")
    w.record.refresh_from_db()
    assert w.record.status == SupervisionRecord.Status.RECTIFIED
    third = issued(opinion(w), w.p.nanshan_admin)  # a new letter reopens the follow-up
    w.record.refresh_from_db()
    assert third.status == Status.ISSUED and w.record.status == SupervisionRecord.Status.OPEN


# --- Escalation -----------------------------------------------------------------------------------


def test_an_unanswered_opinion_of_a_grassroots_union_goes_up_to_the_county_then_to_the_procuratorate(w):
    record = record_at(w.nantou_union, w.p.union_staff, w.nantou_employer)
    with frozen(at(2026, 9, 25, 10, 0)):
        letter = sv.letter_draft(actor=w.p.union_staff, record=record, kind=Kind.OPINION)
    letter = delivered(letter, w.p.union_admin, w.p.union_staff, at(2026, 9, 28, 10, 0))
    assert letter.serial_label == "深圳市南头精密制造有限公司工会委员会监意〔2026〕第1号"
    with frozen(at(2026, 10, 27, 9, 0)):  # due 23 Oct: unanswered
        suggestion = sv.letter_escalate(actor=w.p.union_staff, letter=letter, note="逾期未回复")
    assert (suggestion.kind, suggestion.org, suggestion.previous, suggestion.status) == (
        Kind.SUGGESTION, w.nanshan, letter, Status.DRAFT)
    assert "逾期未回复、未整改" in suggestion.body and letter.serial_label in suggestion.body
    assert reload(letter).status == Status.ESCALATED
    assert OrgNotice.objects.filter(org=w.nanshan, kind="legal_letter", title__contains="建议书").count() == 1
    assert sv.letter_document(suggestion).cc == "深圳市南头精密制造有限公司工会委员会"
    with pytest.raises(PermissionDenied):  # the grassroots union cannot issue the county's draft
        sv.letter_issue(actor=w.p.union_admin, letter=suggestion)
    suggestion = delivered(suggestion, w.p.nanshan_admin, w.p.nanshan_staff, at(2026, 10, 28, 10, 0))
    with frozen(at(2026, 11, 10, 9, 0)):
        sv.letter_unresolved(actor=w.p.nanshan_staff, letter=suggestion, reason="监察机构未立案")
        referral = sv.letter_escalate(actor=w.p.nanshan_staff, letter=suggestion)
    assert (referral.kind, referral.org, referral.recipient) == (Kind.REFERRAL, w.nanshan, "深圳市南山区人民检察院")
    with frozen(at(2026, 11, 10, 10, 0)), pytest.raises(ValidationFailed) as exc:
        sv.letter_issue(actor=w.p.nanshan_admin, letter=referral)
    assert exc.value.code == "referral_ground_required"
    sv.letter_update(actor=w.p.nanshan_staff, letter=referral, referral_ground="wage_arrears_mass")
    referral = delivered(referral, w.p.nanshan_admin, w.p.nanshan_staff, at(2026, 11, 10, 10, 0))
    assert referral.serial_label == "南山区总工会监移〔2026〕第1号"
    with frozen(at(2026, 12, 30, 9, 0)), pytest.raises(Conflict) as exc:
        sv.letter_escalate(actor=w.p.nanshan_staff, letter=referral)
    assert "最后一步" in exc.value.message


# --- Serial numbers -------------------------------------------------------------------------------


def test_serial_numbers_per_union_kind_and_year_without_gaps_or_reuse(w):
    first, second = issued(opinion(w), w.p.nanshan_admin), issued(opinion(w), w.p.nanshan_admin)
    reminder = issued(sv.letter_draft(actor=w.p.nanshan_staff, record=w.record, kind=Kind.REMINDER),
                      w.p.nanshan_admin)
    assert [first.serial_label, second.serial_label, reminder.serial_label] == [
        "南山区总工会监意〔2026〕第1号", "南山区总工会监意〔2026〕第2号", "南山区总工会监提〔2026〕第1号"]
    sv.letter_void(actor=w.p.nanshan_admin, letter=second, reason="送达对象有误")
    assert reload(second).serial_label == "南山区总工会监意〔2026〕第2号"  # the number stays with the void letter
    assert issued(opinion(w), w.p.nanshan_admin).serial == 3  # and is not used again
    futian_record = record_at(w.futian, w.p.futian_admin, w.futian_employer)
    other = sv.letter_draft(actor=w.p.futian_admin, record=futian_record, kind=Kind.OPINION)
    assert issued(other, w.p.futian_admin).serial_label == "福田区总工会监意〔2026〕第1号"
    LegalPolicy.objects.create(org=w.nanshan, letter_prefix="深南工")
    assert issued(opinion(w), w.p.nanshan_admin, at(2027, 1, 4, 9, 0)).serial_label == "深南工监意〔2027〕第1号"
    assert LetterSerial.objects.get(org=w.nanshan, kind=Kind.OPINION, year=2026).last == 3


def test_the_year_of_the_number_is_the_local_date_of_issue(w):
    # 31 Dec 2026 17:00 UTC is already 1 Jan 2027 in Shenzhen.
    letter = issued(opinion(w), w.p.nanshan_admin, datetime.datetime(2026, 12, 31, 17, 0, tzinfo=datetime.UTC))
    assert (letter.year, letter.serial_label) == (2027, "南山区总工会监意〔2027〕第1号")


@pytest.mark.django_db(transaction=True)
def test_two_letters_issued_at_once_get_two_numbers():
    tree = Tree()
    p = people(tree)
    record = record_at(tree.nanshan, p.nanshan_staff, tree.nantou_employer)
    drafts = [sv.letter_draft(actor=p.nanshan_staff, record=record, kind=Kind.OPINION) for _ in range(4)]
    admins = [staff_on(tree.nanshan, Role.ADMIN, username=f"ns-admin-{i}") for i in range(4)]
    results = run_together(lambda i: sv.letter_issue(actor=admins[i], letter=drafts[i]), 4)
    assert all(isinstance(r, SupervisionLetter) for r in results), results
    assert sorted(r.serial for r in results) == [1, 2, 3, 4]
    assert len({r.serial_label for r in results}) == 4
    assert LetterSerial.objects.get(org=tree.nanshan, kind=Kind.OPINION).last == 4


@pytest.mark.django_db(transaction=True)
def test_one_letter_issued_twice_at_once_gets_one_number():
    tree = Tree()
    p = people(tree)
    record = record_at(tree.nanshan, p.nanshan_staff, tree.nantou_employer)
    draft = sv.letter_draft(actor=p.nanshan_staff, record=record, kind=Kind.OPINION)
    results = run_together(lambda i: sv.letter_issue(actor=p.nanshan_admin, letter=draft), 3)
    assert all(isinstance(r, SupervisionLetter) for r in results), results
    assert {(r.serial, r.serial_label) for r in results} == {(1, f"南山区总工会监意〔{results[0].year}〕第1号")}
    assert LetterSerial.objects.get(org=tree.nanshan, kind=Kind.OPINION).last == 1
    assert LetterEvent.objects.filter(letter=draft, action=Action.ISSUE).count() == 1


# --- The sweep ------------------------------------------------------------------------------------


def test_the_sweep_reminds_two_working_days_before_and_marks_overdue_once(w):
    letter = opinion(w)
    letter = issued(letter, w.p.nanshan_admin, at(2026, 9, 29, 9, 0))
    with frozen(at(2026, 9, 29, 16, 0)):
        letter = sv.letter_deliver(actor=w.p.nanshan_staff, letter=letter, method="直接送达", received_by="张经理")
    answered = delivered(opinion(w), w.p.nanshan_admin, w.p.nanshan_staff, at(2026, 9, 29, 16, 0))
    with frozen(at(2026, 10, 1, 9, 0)):
        sv.letter_reply(actor=w.p.nanshan_staff, letter=answered, text="已收到，正在整改")
    # Due Mon 26 Oct. Wed 21 Oct: 22, 23 Oct are the next two working days, not yet.
    assert sv.letters_sweep(now=at(2026, 10, 21, 9, 0)) == {"overdue": 0, "reminded": 0}
    assert sv.letters_sweep(now=at(2026, 10, 22, 9, 0)) == {"overdue": 0, "reminded": 1}
    assert sv.letters_sweep(now=at(2026, 10, 23, 9, 0)) == {"overdue": 0, "reminded": 0}
    reminder = OrgNotice.objects.get(org=w.nanshan, title="监督文书回复期限临近")
    assert "2026-10-26" in reminder.body and letter.serial_label in reminder.body
    assert sv.letters_sweep(now=at(2026, 10, 26, 23, 0)) == {"overdue": 0, "reminded": 0}
    assert sv.letters_sweep(now=at(2026, 10, 27, 0, 0)) == {"overdue": 1, "reminded": 0}
    assert sv.letters_sweep(now=at(2026, 10, 28, 0, 0)) == {"overdue": 0, "reminded": 0}
    letter = reload(letter)
    assert letter.status == Status.DELIVERED and letter.overdue_at == at(2026, 10, 27, 0, 0)
    assert letter.reminded_at == at(2026, 10, 22, 9, 0)
    assert OrgNotice.objects.filter(org=w.nanshan, title="监督文书逾期未回复").count() == 1
    parent = OrgNotice.objects.get(org=w.shenzhen, title="下级工会监督文书逾期未回复")
    assert parent.body.startswith("南山区总工会：") and parent.link == sv.letter_link(letter)
    assert [(e.action, e.actor) for e in letter.events.filter(action__in=[Action.REMIND, Action.OVERDUE])] == [
        (Action.REMIND, None), (Action.OVERDUE, None)]
    assert reload(answered).overdue_at is None and reload(answered).reminded_at is None


def test_a_letter_found_late_by_the_sweep_is_not_reminded_too(w):
    letter = delivered(opinion(w), w.p.nanshan_admin, w.p.nanshan_staff, at(2026, 9, 28, 10, 0))
    assert sv.letters_sweep(now=at(2026, 11, 2, 9, 0)) == {"overdue": 1, "reminded": 0}
    assert reload(letter).reminded_at is None


# --- Documents ------------------------------------------------------------------------------------


def test_the_document_quotes_the_articles_from_the_library_and_says_when_to_reply(w):
    draft = opinion(w)
    document = sv.letter_document(draft)
    assert document.draft and document.serial_label == "" and document.issuer == "南山区总工会"
    assert sv.letter_filename(draft, "pdf") == "草稿-劳动法律监督意见书.pdf"
    letter = issued(draft, w.p.nanshan_admin)
    document = sv.letter_document(letter)
    assert not document.draft and document.serial_label == "南山区总工会监意〔2026〕第1号"
    assert document.kind_title == "劳动法律监督意见书" and document.recipient == "深圳市南头精密制造有限公司"
    assert document.reply_clause == "请于收到本意见书之日起十五个工作日内将整改情况书面回复本会。"
    assert document.issued_on == datetime.date(2026, 9, 28)
    assert [(a.law_title, a.label) for a in document.articles] == [
        ("中华人民共和国劳动合同法", "第三十条"), ("中华人民共和国劳动合同法", "第八十二条")]
    assert document.articles[1].text.startswith("用人单位自用工之日起超过一个月不满一年未与劳动者订立书面劳动合同的")
    assert len(document.demands) == 3 and document.paragraphs[0].startswith("2026年9月20日")
    assert sv.letter_filename(letter, "docx") == "南山区总工会监意〔2026〕第1号-劳动法律监督意见书.docx"


# --- Reading --------------------------------------------------------------------------------------


def test_lists_are_cut_to_the_scope_filtered_and_paged(w):
    letters = [opinion(w) for _ in range(3)]
    issued(letters[0], w.p.nanshan_admin)
    futian_record = record_at(w.futian, w.p.futian_admin, w.futian_employer)
    sv.letter_draft(actor=w.p.futian_admin, record=futian_record, kind=Kind.REMINDER)
    page, cursor = sv.letter_list(actor=w.p.nanshan_viewer, limit=2)
    assert [x.pk for x in page] == [letters[2].pk, letters[1].pk] and cursor
    rest, cursor = sv.letter_list(actor=w.p.nanshan_viewer, limit=2, cursor=cursor)
    assert [x.pk for x in rest] == [letters[0].pk] and cursor is None
    assert [x.pk for x in sv.letter_list(actor=w.p.nanshan_viewer, status=Status.ISSUED)[0]] == [letters[0].pk]
    assert sv.letter_list(actor=w.p.nanshan_viewer, kind=Kind.REMINDER)[0] == []
    assert len(sv.letter_list(actor=w.p.shenzhen_admin)[0]) == 4
    assert len(sv.letter_list(actor=w.p.shenzhen_admin, node=w.futian)[0]) == 1
    assert sv.letter_list(actor=w.p.worker)[0] == [] and sv.record_list(actor=w.p.worker)[0] == []
    assert [r.pk for r in sv.record_list(actor=w.p.nanshan_viewer)[0]] == [w.record.pk]
    for bad in ({"kind": "memo"}, {"status": "lost"}, {"cursor": "forged"}):
        with pytest.raises(ValidationFailed):
            sv.letter_list(actor=w.p.nanshan_viewer, **bad)


@pytest.mark.parametrize("letter_id", ["abc", "-1", "0", "1e3", "99999999999999999999", "", None, "1; DROP TABLE"])
def test_a_tampered_id_is_not_found(w, letter_id):
    with pytest.raises(NotFound):
        sv.letter_get(actor=w.p.nanshan_admin, letter_id=letter_id)
    with pytest.raises(NotFound):
        sv.record_get(actor=w.p.nanshan_admin, record_id=letter_id)


def test_a_sibling_and_a_worker_find_nothing(w):
    letter = opinion(w)
    for outsider in (w.p.futian_admin, w.p.worker, w.p.union_staff):
        with pytest.raises(NotFound):
            sv.letter_get(actor=outsider, letter_id=letter.pk)
        with pytest.raises(NotFound):
            sv.record_get(actor=outsider, record_id=w.record.pk)


# --- Figures --------------------------------------------------------------------------------------


def test_stats_on_a_fixed_set_of_letters(w):
    p = w.p
    # Answered on time, rectified 7 working days after delivery (29 Sep → 14 Oct, across the holiday).
    on_time = delivered(opinion(w), p.nanshan_admin, p.nanshan_staff, at(2026, 9, 29, 10, 0))
    with frozen(at(2026, 10, 12, 10, 0)):
        sv.letter_reply(actor=p.nanshan_staff, letter=on_time, text="已整改")
    with frozen(at(2026, 10, 14, 10, 0)):
        sv.letter_rectified(actor=p.nanshan_staff, letter=on_time, text="已整改完毕")
    # Rectified late without a written reply: 28 Sep → 30 Oct is 20 working days (due 23 Oct).
    late = delivered(opinion(w), p.nanshan_admin, p.nanshan_staff, at(2026, 9, 28, 10, 0))
    with frozen(at(2026, 10, 30, 10, 0)):
        sv.letter_rectified(actor=p.nanshan_staff, letter=late, text="拖了很久才整改")
    # Past its deadline, unanswered.
    delivered(opinion(w), p.nanshan_admin, p.nanshan_staff, at(2026, 9, 28, 10, 0))
    # Still within its time: counts in neither rate.
    delivered(opinion(w), p.nanshan_admin, p.nanshan_staff, at(2026, 11, 20, 10, 0))
    # A reminder issued, a suggestion drafted, an opinion voided: not delivered.
    issued(sv.letter_draft(actor=p.nanshan_staff, record=w.record, kind=Kind.REMINDER), p.nanshan_admin)
    sv.letter_draft(actor=p.nanshan_staff, record=w.record, kind=Kind.SUGGESTION)
    sv.letter_void(actor=p.nanshan_admin, letter=opinion(w), reason="重复起草")
    # A Futian letter: not Nanshan's.
    futian = sv.letter_draft(actor=p.futian_admin, record=record_at(w.futian, p.futian_admin, w.futian_employer),
                             kind=Kind.OPINION)
    delivered(futian, p.futian_admin, p.futian_admin, at(2026, 9, 28, 10, 0))

    with frozen(at(2026, 11, 24, 10, 0)):
        stats = sv.letter_stats(actor=p.nanshan_viewer)
    assert stats["records"] == 1 and stats["records_by_status"]["open"] == 1
    assert stats["by_kind"] == {"reminder": 1, "opinion": 4, "suggestion": 0, "referral": 0}
    assert stats["by_status"]["draft"] == 1 and stats["by_status"]["void"] == 1
    assert stats["by_kind_status"]["opinion"] == {"draft": 0, "issued": 0, "delivered": 2, "replied": 0,
                                                  "rectified": 2, "unresolved": 0, "escalated": 0, "void": 1}
    assert (stats["delivered"], stats["reply_counted"], stats["replied"]) == (4, 3, 2)
    assert (stats["reply_rate"], stats["on_time_rate"]) == (round(2 / 3, 4), round(1 / 3, 4))
    assert (stats["rectified"], stats["rectify_days_median"], stats["rectify_days_mean"]) == (2, 13.5, 13.5)
    assert stats["overdue_open"] == 1
    with frozen(at(2026, 11, 24, 10, 0)):
        whole = sv.letter_stats(actor=p.shenzhen_admin)
        futian_only = sv.letter_stats(actor=p.shenzhen_admin, node=w.futian)
    assert whole["delivered"] == 5 and whole["overdue_open"] == 2
    assert (futian_only["delivered"], futian_only["node"]) == (1, {"id": w.futian.pk, "name": w.futian.name})
    assert sv.letter_stats(actor=p.worker)["delivered"] == 0


def test_the_reply_clause_names_the_days_in_chinese():
    assert sv.reply_clause(Kind.OPINION, 15) == "请于收到本意见书之日起十五个工作日内将整改情况书面回复本会。"
    assert "五个工作日" in sv.reply_clause(Kind.SUGGESTION, 5) and "建议书" in sv.reply_clause(Kind.SUGGESTION, 5)
    assert sv.reply_clause(Kind.REMINDER, 0) == ""


def test_every_service_error_is_chinese(w):
    """A sample of refusals across the module: each a ServiceError with a Chinese message."""
    errors = []
    for call in (lambda: sv.letter_draft(actor=w.p.nanshan_staff, record=w.record, kind="memo"),
                 lambda: sv.resolve_articles([{"law": "", "article": "1"}]),
                 lambda: sv.record_escalate(actor=w.p.nanshan_viewer, record=w.record)):
        with pytest.raises(ServiceError) as exc:
            call()
        errors.append(exc.value)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in e.message) for e in errors)


def test_a_record_is_closed_only_when_no_letter_is_open_and_then_takes_no_new_ones(w):
    letter = delivered(opinion(w), w.p.nanshan_admin, w.p.nanshan_staff)
    with pytest.raises(Conflict) as error:
        sv.record_close(actor=w.p.nanshan_staff, record=w.record, note="单位已整改完毕")
    assert error.value.code == "letters_pending" and letter.serial_label in error.value.message
    with pytest.raises(ValidationFailed):
        sv.record_close(actor=w.p.nanshan_staff, record=w.record, note="")
    with pytest.raises(PermissionDenied):
        sv.record_close(actor=w.p.nanshan_viewer, record=w.record, note="单位已整改完毕")
    sv.letter_rectified(actor=w.p.nanshan_staff, letter=letter, text="已补签劳动合同并补发工资")
    record = sv.record_close(actor=w.p.nanshan_staff, record=w.record, note="单位已整改完毕，复查属实")
    assert record.status == SupervisionRecord.Status.CLOSED
    assert sv.record_close(actor=w.p.nanshan_staff, record=record, note="再点一次").status == "closed"
    with pytest.raises(Conflict):
        sv.record_escalate(actor=w.p.nanshan_staff, record=record)
    assert AuditEntry.objects.filter(action="legal.record_close").count() == 1
