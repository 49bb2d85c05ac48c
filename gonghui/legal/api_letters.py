"""Labour-law supervision API (劳动法律监督, 一函两书): supervision records, the letters drawn from them
and their workflow, the letters as PDF and DOCX, and the figures.

Staff only, by the general role over the union concerned (VIEWER reads, STAFF writes, ADMIN issues
and voids; see gonghui/legal/supervision.py). Every id from a request is resolved through a selector
inside the caller's scope (404 otherwise, the same for an unknown id); every write is one service.
"""

from __future__ import annotations

import datetime
from typing import Annotated
from urllib.parse import quote

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import BeforeValidator

from gonghui.accounts.api import ErrorOut
from gonghui.core.errors import PermissionDenied
from gonghui.orgs.models import OrgUnit
from gonghui.orgs.selectors import actor_scope, org_get

from . import supervision as sv
from .models import Article, LetterEvent, SupervisionLetter, SupervisionRecord

router = Router(tags=["法务云：劳动法律监督"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


def _staff(request):
    if actor_scope(request.user).is_empty:
        raise PermissionDenied("仅限工会工作人员使用")
    return request.user


def _node(request, node) -> OrgUnit | None:
    """The union a list or the figures are about: the given id inside the caller's scope (404 outside
    it), or None for everything the caller may see."""
    user = _staff(request)
    if node in (None, ""):
        return None
    return org_get(actor=user, org_id=node)


def _as_text(value):
    """Article numbers may come as JSON numbers (82) or text (第八十二条)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


NumberOrText = Annotated[str, BeforeValidator(_as_text)]


# --- Schemas --------------------------------------------------------------------------------------


class UnionRef(Schema):
    id: int
    name: str


class ArticleRefIn(Schema):
    law: str = Field("", max_length=200, description="法规：英文标识、全称或简称，如 labour-contract-law、劳动合同法")
    article: NumberOrText = Field("", max_length=40, description="条号：第八十二条 或 82")


class ArticleOut(Schema):
    law: str = Field(..., description="法规英文标识")
    law_title: str
    number: int
    label: str
    title: str = Field(..., description="简称与条号，如 劳动合同法第八十二条")
    text: str = Field(..., description="条文全文（款、项各占一行）")


def _article(article: Article) -> dict:
    return {"law": article.law.slug, "law_title": article.law.title, "number": article.number, "label": article.label,
            "title": sv.article_ref_text(article), "text": article.text}


class MonitorIn(Schema):
    name: str = Field("", max_length=200, description="监督员姓名（2至20个字）")
    cert_no: str = Field("", max_length=200, description="劳动法律监督员证号（可不填）")


class MonitorOut(Schema):
    name: str
    cert_no: str


class RecordIn(Schema):
    org_id: int = Field(..., description="开展监督的工会（须有工作人员及以上角色）")
    trigger: str = Field(..., max_length=32, description="监督来源：inspection 日常监督检查 / case 职工诉求 / "
                                                         "cluster 风险预警 / report 举报线索 / other 其他")
    case_id: int | None = Field(None, description="来源为 case 时可关联的诉求（须有诉求办理权限）")
    cluster_id: int | None = Field(None, description="来源为 cluster 时可关联的群体性诉求预警")
    employer_id: int | None = Field(None, description="已登记的用人单位；未登记的填写 employer_name")
    employer_name: str = Field("", max_length=1000)
    employer_address: str = Field("", max_length=1000)
    inspected_on: str = Field(..., max_length=40, description="检查日期，如 2026-11-20（不能晚于今天）")
    monitors: list[MonitorIn] = Field(..., description="劳动法律监督员，至少两名", max_length=50)
    findings: str = Field(..., max_length=100000, description="发现的问题（10至5000字）")
    articles: list[ArticleRefIn] = Field(..., description="违反的条款（从法规库中引用，至少一条）", max_length=100)
    workers_affected: int | None = Field(None, description="涉及职工人数；缺省取关联诉求或预警的人数")


class RecordPatch(Schema):
    trigger: str | None = Field(None, max_length=32)
    case_id: int | None = None
    cluster_id: int | None = None
    employer_id: int | None = None
    employer_name: str | None = Field(None, max_length=1000)
    employer_address: str | None = Field(None, max_length=1000)
    inspected_on: str | None = Field(None, max_length=40)
    monitors: list[MonitorIn] | None = Field(None, max_length=50)
    findings: str | None = Field(None, max_length=100000)
    articles: list[ArticleRefIn] | None = Field(None, max_length=100)
    workers_affected: int | None = None


class LetterBrief(Schema):
    id: int
    kind: str
    kind_label: str
    status: str
    status_label: str
    serial_label: str = Field(..., description="文号；签发前为空")
    union: UnionRef = Field(..., description="发文工会")
    recipient: str
    reply_due_at: datetime.datetime | None
    overdue: bool = Field(..., description="已送达、超过回复期限仍未回复")
    visible: bool = Field(True, description="false：上级工会的文书（提请上级后由其起草），只显示类型、工会和状态")


class RecordOut(Schema):
    id: int
    number: str = Field(..., description="监督记录编号，如 JD000012")
    union: UnionRef
    trigger: str
    trigger_label: str
    case_id: int | None
    cluster_id: int | None
    employer_id: int | None
    employer_name: str
    employer_address: str
    inspected_on: datetime.date
    monitors: list[MonitorOut]
    findings: str
    workers_affected: int
    status: str
    status_label: str
    rectified_at: datetime.datetime | None
    created_at: datetime.datetime
    letter_count: int = Field(..., description="未作废的文书件数")


class RecordDetailOut(RecordOut):
    articles: list[ArticleOut]
    letters: list[LetterBrief]
    may_draft: list[str] = Field(..., description="本人可在本工会起草的文书类型")
    may_escalate: bool = Field(..., description="可提请上级工会发出建议书")


class RecordPage(Schema):
    items: list[RecordOut]
    next_cursor: str | None


def _record(record: SupervisionRecord) -> dict:
    count = getattr(record, "letter_count", None)
    if count is None:
        count = record.letters.exclude(status=sv.Status.VOID).count()
    return {
        "id": record.pk, "number": sv.record_number(record), "union": {"id": record.org_id, "name": record.org.name},
        "trigger": record.trigger, "trigger_label": record.get_trigger_display(), "case_id": record.case_id,
        "cluster_id": record.cluster_id, "employer_id": record.employer_id, "employer_name": record.employer_name,
        "employer_address": record.employer_address, "inspected_on": record.inspected_on,
        "monitors": [{"name": m.get("name", ""), "cert_no": m.get("cert_no", "")} for m in record.monitors],
        "findings": record.findings, "workers_affected": record.workers_affected, "status": record.status,
        "status_label": record.get_status_display(), "rectified_at": record.rectified_at,
        "created_at": record.created_at, "letter_count": count,
    }


def _brief(letter: SupervisionLetter, visible: bool = True) -> dict:
    return {"id": letter.pk, "kind": letter.kind, "kind_label": letter.get_kind_display(), "status": letter.status,
            "status_label": letter.get_status_display(), "serial_label": letter.serial_label,
            "union": {"id": letter.org_id, "name": letter.org.name},
            "recipient": letter.recipient if visible else "", "reply_due_at": letter.reply_due_at if visible else None,
            "overdue": sv.is_overdue(letter) if visible else False, "visible": visible}


def _record_detail(user, record: SupervisionRecord) -> dict:
    mine, above = sv.record_letters(actor=user, record=record)
    scope = actor_scope(user)
    may_draft = []
    if scope.rank_at(record.org_path) >= sv.STAFF and record.status != SupervisionRecord.Status.CLOSED:
        may_draft = [k for k in sv.Kind.values if k in (sv.Kind.REMINDER, sv.Kind.OPINION)
                     or sv.is_county_plus(record.org)]
    return {**_record(record), "articles": [_article(a) for a in record.articles.select_related("law")],
            "letters": [_brief(x) for x in mine] + [_brief(x, visible=False) for x in above],
            "may_draft": may_draft,
            "may_escalate": bool(may_draft) and not sv.is_county_plus(record.org)}


class EventOut(Schema):
    id: int
    action: str
    action_label: str
    from_status: str
    to_status: str
    text: str
    actor: str = Field(..., description="经办人；系统提醒为“系统”")
    created_at: datetime.datetime


def _event(event: LetterEvent) -> dict:
    actor = "系统" if event.actor is None else (event.actor.display_name or event.actor.username)
    return {"id": event.pk, "action": event.action, "action_label": event.get_action_display(),
            "from_status": event.from_status, "to_status": event.to_status, "text": event.text, "actor": actor,
            "created_at": event.created_at}


class LetterOut(LetterBrief):
    record_id: int
    record_number: str
    employer_name: str
    year: int | None
    serial: int | None
    recipient_address: str
    reply_days: int | None = Field(..., description="回复期限（工作日，0 为无需回复）")
    referral_ground: str
    referral_ground_label: str
    previous_id: int | None = Field(..., description="由哪件文书升级而来")
    issued_at: datetime.datetime | None
    delivered_at: datetime.datetime | None
    delivery_method: str
    received_by: str
    reminded_at: datetime.datetime | None
    overdue_at: datetime.datetime | None
    replied_at: datetime.datetime | None
    rectified_at: datetime.datetime | None
    void_reason: str
    created_at: datetime.datetime


class LetterDetailOut(LetterOut):
    body: list[str] = Field(..., description="正文，每段一项")
    demands: list[str] = Field(..., description="整改要求或建议事项，每项一条")
    reply_clause: str
    articles: list[ArticleOut]
    reply_text: str
    rectification: str
    next_ids: list[int] = Field(..., description="由本件升级出的文书")
    allowed_actions: list[str] = Field(..., description="本人现在可以执行的操作：edit issue deliver reply rectify "
                                                        "unresolved escalate void")
    timeline: list[EventOut]
    pdf_url: str
    docx_url: str


class LetterPage(Schema):
    items: list[LetterOut]
    next_cursor: str | None


def _letter(letter: SupervisionLetter) -> dict:
    return {
        **_brief(letter), "record_id": letter.record_id, "record_number": sv.record_number(letter.record),
        "employer_name": letter.record.employer_name, "year": letter.year, "serial": letter.serial,
        "recipient_address": letter.recipient_address, "reply_days": letter.reply_days,
        "referral_ground": letter.referral_ground,
        "referral_ground_label": sv.referral_grounds().get(letter.referral_ground, ""),
        "previous_id": letter.previous_id, "issued_at": letter.issued_at, "delivered_at": letter.delivered_at,
        "delivery_method": letter.delivery_method, "received_by": letter.received_by,
        "reminded_at": letter.reminded_at, "overdue_at": letter.overdue_at, "replied_at": letter.replied_at,
        "rectified_at": letter.rectified_at, "void_reason": letter.void_reason, "created_at": letter.created_at,
    }


def _letter_detail(user, letter: SupervisionLetter) -> dict:
    base = f"/api/v1/legal/letters/{letter.pk}"
    return {
        **_letter(letter),
        "body": [p for p in letter.body.split("\n") if p.strip()],
        "demands": [d for d in letter.demands.split("\n") if d.strip()],
        "reply_clause": sv.reply_clause(letter.kind, letter.reply_days),
        "articles": [_article(a) for a in letter.articles.select_related("law").order_by("law__sort", "number")],
        "reply_text": letter.reply_text, "rectification": letter.rectification,
        "next_ids": list(sv.letters_visible(user).filter(previous=letter).order_by("id").values_list("id", flat=True)),
        "allowed_actions": sv.letter_allowed_actions(user, letter),
        "timeline": [_event(e) for e in sv.letter_timeline(letter)],
        "pdf_url": f"{base}/pdf", "docx_url": f"{base}/docx",
    }


class LetterIn(Schema):
    record_id: int = Field(..., description="监督记录")
    kind: str = Field(..., max_length=32, description="reminder 提示函 / opinion 意见书 / suggestion 建议书（县级以上工会）"
                                                      " / referral 移送检察机关线索函（县级以上工会）")
    org_id: int | None = Field(None, description="发文工会：缺省为监督记录所属工会，也可为其上级工会")
    recipient: str | None = Field(None, max_length=1000, description="主送；缺省：用人单位，建议书为当地劳动保障监察机构，"
                                                                      "移送为当地人民检察院")
    recipient_address: str | None = Field(None, max_length=1000)
    body: list[str] | None = Field(None, max_length=200, description="正文段落；缺省按模板由监督记录生成")
    demands: list[str] | None = Field(None, max_length=200, description="整改要求或建议事项；缺省按模板生成")
    articles: list[ArticleRefIn] | None = Field(None, max_length=100, description="引用条文；缺省为监督记录的违反条款")
    reply_days: int | None = Field(None, description="回复期限（工作日）；缺省按本会法务设置（意见书15、建议书5）")
    referral_ground: str = Field("", max_length=60, description="移送事由（仅移送检察机关线索函）：" + "；".join(
        f"{code} {label}" for code, label in sv.DEFAULT_REFERRAL_GROUNDS.items()))


class LetterPatch(Schema):
    recipient: str | None = Field(None, max_length=1000)
    recipient_address: str | None = Field(None, max_length=1000)
    body: list[str] | None = Field(None, max_length=200)
    demands: list[str] | None = Field(None, max_length=200)
    articles: list[ArticleRefIn] | None = Field(None, max_length=100)
    reply_days: int | None = None
    referral_ground: str | None = Field(None, max_length=60)


class DeliverIn(Schema):
    method: str = Field(..., max_length=40, description="直接送达 / 邮寄送达 / 电子送达 / 留置送达")
    received_by: str = Field("", max_length=1000, description="签收人（直接送达必填）")
    delivered_at: str | None = Field(None, max_length=40, description="送达时间，如 2026-11-20T09:30；缺省为现在")


class ReplyIn(Schema):
    text: str = Field(..., max_length=100000, description="回复内容")
    replied_on: str | None = Field(None, max_length=40, description="收到回复的日期，缺省为今天")


class RectifyIn(Schema):
    text: str = Field(..., max_length=100000, description="整改情况")
    rectified_on: str | None = Field(None, max_length=40, description="整改完成日期，缺省为今天")


class ReasonIn(Schema):
    reason: str = Field(..., max_length=10000)


class NoteIn(Schema):
    note: str = Field("", max_length=10000)


class RecordQuery(Schema):
    node: str | None = Field(None, max_length=20, description="工会 id；缺省为本人可见的全部")
    status: str = Field("", max_length=16, description="open / rectified / closed")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=100)


class LetterQuery(Schema):
    node: str | None = Field(None, max_length=20, description="工会 id；缺省为本人可见的全部")
    kind: str = Field("", max_length=16, description="reminder / opinion / suggestion / referral")
    status: str = Field("", max_length=16)
    overdue: bool = Field(False, description="只看已送达、超过回复期限仍未回复的")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=100)


class StatsQuery(Schema):
    node: str | None = Field(None, max_length=20, description="工会 id；缺省为本人可见的全部")


class StatsOut(Schema):
    node: UnionRef | None
    records: int
    records_by_status: dict[str, int]
    by_kind: dict[str, int] = Field(..., description="各类文书已签发件数（不含草稿和作废）")
    by_status: dict[str, int]
    by_kind_status: dict[str, dict[str, int]]
    delivered: int
    reply_counted: int = Field(..., description="计入回复率的文书：已过回复期限或已回复")
    replied: int
    reply_rate: float | None
    on_time_rate: float | None
    rectified: int
    rectify_days_median: float | None = Field(..., description="送达至整改完成的工作日数，中位数")
    rectify_days_mean: float | None
    overdue_open: int


# --- Records --------------------------------------------------------------------------------------


def _changes(payload: Schema) -> dict:
    data = payload.dict(exclude_unset=True)
    for key in ("monitors", "articles"):
        if data.get(key) is not None:
            data[key] = [dict(item) for item in data[key]]
    return data


@router.post("/legal/supervision-records", response={201: RecordDetailOut, **ERRORS},
             summary="登记劳动法律监督记录（两名以上监督员，违反条款从法规库引用）")
def record_create(request, payload: RecordIn):
    user = _staff(request)
    data = _changes(payload)
    record = sv.record_create(actor=user, **{k: data.get(k) for k in (
        "org_id", "trigger", "case_id", "cluster_id", "employer_id", "employer_name", "employer_address",
        "inspected_on", "monitors", "findings", "articles", "workers_affected")})
    return Status(201, _record_detail(user, sv.record_get(actor=user, record_id=record.pk)))


@router.get("/legal/supervision-records", response={200: RecordPage, **ERRORS},
            summary="劳动法律监督记录（本级及下级，最新在前，游标分页）")
def record_list(request, params: Query[RecordQuery]):
    node = _node(request, params.node)
    items, next_cursor = sv.record_list(actor=request.user, node=node, status=params.status, cursor=params.cursor,
                                        limit=params.limit)
    return {"items": [_record(r) for r in items], "next_cursor": next_cursor}


@router.get("/legal/supervision-records/{record_id}", response={200: RecordDetailOut, **ERRORS},
            summary="一份劳动法律监督记录，含引用条文和由它发出的文书")
def record_detail(request, record_id: str):
    user = _staff(request)
    return _record_detail(user, sv.record_get(actor=user, record_id=record_id))


@router.patch("/legal/supervision-records/{record_id}", response={200: RecordDetailOut, **ERRORS},
              summary="修改劳动法律监督记录（只改所填项；已起草的文书不受影响）")
def record_update(request, record_id: str, payload: RecordPatch):
    user = _staff(request)
    record = sv.record_get(actor=user, record_id=record_id)
    sv.record_update(actor=user, record=record, **_changes(payload))
    return _record_detail(user, sv.record_get(actor=user, record_id=record.pk))


@router.post("/legal/supervision-records/{record_id}/close", response={200: RecordDetailOut, **ERRORS},
             summary="结束监督（全部文书已办结或作废后）")
def record_close(request, record_id: str, payload: NoteIn):
    user = _staff(request)
    record = sv.record_get(actor=user, record_id=record_id)
    sv.record_close(actor=user, record=record, note=payload.note)
    return _record_detail(user, sv.record_get(actor=user, record_id=record.pk))


@router.post("/legal/supervision-records/{record_id}/escalate", response={201: LetterDetailOut, **ERRORS},
             summary="提请上级工会发出建议书（县级以下工会）：在最近的县级以上上级工会生成建议书草稿并通知该会")
def record_escalate(request, record_id: str, payload: NoteIn):
    user = _staff(request)
    record = sv.record_get(actor=user, record_id=record_id)
    letter = sv.record_escalate(actor=user, record=record, note=payload.note)
    return Status(201, _letter_out_any(user, letter))


def _letter_out_any(user, letter: SupervisionLetter) -> dict:
    """The new letter, as the caller may see it: in full where their scope reaches, else its brief
    line (a draft sent up to an ancestor belongs to that union)."""
    letter = SupervisionLetter.objects.select_related("org", "record", "record__org").get(pk=letter.pk)
    if actor_scope(user).covers(letter.org_path):
        return _letter_detail(user, letter)
    return {**_letter(letter), "visible": False, "body": [], "demands": [], "reply_clause": "", "articles": [],
            "reply_text": "", "rectification": "", "next_ids": [], "allowed_actions": [], "timeline": [],
            "pdf_url": "", "docx_url": ""}


# --- Letters --------------------------------------------------------------------------------------


@router.get("/legal/letters/stats", response={200: StatsOut, **ERRORS},
            summary="一函两书统计：各类文书件数、回复率、按期回复率、整改用时（工作日）")
def letter_stats(request, params: Query[StatsQuery]):
    node = _node(request, params.node)
    return sv.letter_stats(actor=request.user, node=node)


@router.post("/legal/letters", response={201: LetterDetailOut, **ERRORS},
             summary="起草提示函、意见书、建议书或移送线索函（未填写的内容按模板由监督记录生成）")
def letter_draft(request, payload: LetterIn):
    user = _staff(request)
    record = sv.record_get(actor=user, record_id=payload.record_id)
    data = _changes(payload)
    letter = sv.letter_draft(actor=user, record=record, kind=payload.kind, org_id=payload.org_id,
                             recipient=payload.recipient, recipient_address=payload.recipient_address,
                             body=payload.body, demands=payload.demands, articles=data.get("articles"),
                             reply_days=payload.reply_days, referral_ground=payload.referral_ground)
    return Status(201, _letter_detail(user, sv.letter_get(actor=user, letter_id=letter.pk)))


@router.get("/legal/letters", response={200: LetterPage, **ERRORS},
            summary="一函两书台账（本级及下级，最新在前，游标分页；可按类型、状态、逾期筛选）")
def letter_list(request, params: Query[LetterQuery]):
    node = _node(request, params.node)
    items, next_cursor = sv.letter_list(actor=request.user, node=node, kind=params.kind, status=params.status,
                                        overdue=params.overdue, cursor=params.cursor, limit=params.limit)
    return {"items": [_letter(x) for x in items], "next_cursor": next_cursor}


def _get(request, letter_id) -> tuple:
    user = _staff(request)
    return user, sv.letter_get(actor=user, letter_id=letter_id)


def _detail_of(user, letter: SupervisionLetter) -> dict:
    return _letter_detail(user, sv.letter_get(actor=user, letter_id=letter.pk))


@router.get("/legal/letters/{letter_id}", response={200: LetterDetailOut, **ERRORS},
            summary="一件监督文书：正文、引用条文、办理经过和本人可执行的操作")
def letter_detail(request, letter_id: str):
    user, letter = _get(request, letter_id)
    return _letter_detail(user, letter)


@router.patch("/legal/letters/{letter_id}", response={200: LetterDetailOut, **ERRORS},
              summary="修改草稿（只改所填项；签发后不能修改）")
def letter_update(request, letter_id: str, payload: LetterPatch):
    user, letter = _get(request, letter_id)
    sv.letter_update(actor=user, letter=letter, **_changes(payload))
    return _detail_of(user, letter)


@router.post("/legal/letters/{letter_id}/issue", response={200: LetterDetailOut, **ERRORS},
             summary="签发（发文工会管理员）：按发文工会、文书类型和年度编号，如 南山区总工会监意〔2026〕第3号")
def letter_issue(request, letter_id: str):
    user, letter = _get(request, letter_id)
    return _detail_of(user, sv.letter_issue(actor=user, letter=letter))


@router.post("/legal/letters/{letter_id}/deliver", response={200: LetterDetailOut, **ERRORS},
             summary="登记送达：从送达之日起按工作日计算回复期限")
def letter_deliver(request, letter_id: str, payload: DeliverIn):
    user, letter = _get(request, letter_id)
    return _detail_of(user, sv.letter_deliver(actor=user, letter=letter, method=payload.method,
                                              received_by=payload.received_by, delivered_at=payload.delivered_at))


@router.post("/legal/letters/{letter_id}/reply", response={200: LetterDetailOut, **ERRORS}, summary="登记收到的书面回复")
def letter_reply(request, letter_id: str, payload: ReplyIn):
    user, letter = _get(request, letter_id)
    return _detail_of(user, sv.letter_reply(actor=user, letter=letter, text=payload.text,
                                            replied_on=payload.replied_on))


@router.post("/legal/letters/{letter_id}/rectify", response={200: LetterDetailOut, **ERRORS},
             summary="登记整改完成（监督记录的文书都已整改时，记录随之标为已整改）")
def letter_rectify(request, letter_id: str, payload: RectifyIn):
    user, letter = _get(request, letter_id)
    return _detail_of(user, sv.letter_rectified(actor=user, letter=letter, text=payload.text,
                                                rectified_on=payload.rectified_on))


@router.post("/legal/letters/{letter_id}/unresolved", response={200: LetterDetailOut, **ERRORS},
             summary="登记未整改（可随后升级）")
def letter_unresolved(request, letter_id: str, payload: ReasonIn):
    user, letter = _get(request, letter_id)
    return _detail_of(user, sv.letter_unresolved(actor=user, letter=letter, reason=payload.reason))


@router.post("/legal/letters/{letter_id}/escalate", response={201: LetterDetailOut, **ERRORS},
             summary="升级：提示函→意见书，意见书→建议书（县级以上工会），建议书→移送检察机关；返回新文书草稿")
def letter_escalate(request, letter_id: str, payload: NoteIn):
    user, letter = _get(request, letter_id)
    return Status(201, _letter_out_any(user, sv.letter_escalate(actor=user, letter=letter, note=payload.note)))


@router.post("/legal/letters/{letter_id}/void", response={200: LetterDetailOut, **ERRORS},
             summary="作废（发文工会管理员；已签发的文号保留，不再使用）")
def letter_void(request, letter_id: str, payload: ReasonIn):
    user, letter = _get(request, letter_id)
    return _detail_of(user, sv.letter_void(actor=user, letter=letter, reason=payload.reason))


# --- The letter as a document ---------------------------------------------------------------------


def _file_response(content: bytes, filename: str, content_type: str, fallback: str) -> HttpResponse:
    """The file as an attachment: an ASCII name for old clients, the Chinese one RFC 5987-encoded."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


PDF_TYPE = "application/pdf"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _binary(content_type: str, description: str) -> dict:
    return {"responses": {200: {"description": description,
                                "content": {content_type: {"schema": {"type": "string", "format": "binary"}}}}}}


@router.get("/legal/letters/{letter_id}/pdf", response={200: None, **ERRORS}, openapi_extra=_binary(
    PDF_TYPE, "PDF 文件"), summary="文书 PDF（含文号、引用条文全文和盖章位置；草稿带“草稿”水印）")
def letter_pdf(request, letter_id: str):
    _user, letter = _get(request, letter_id)
    content, filename = sv.letter_pdf(letter)
    return _file_response(content, filename, PDF_TYPE, f"letter-{letter.pk}.pdf")


@router.get("/legal/letters/{letter_id}/docx", response={200: None, **ERRORS}, openapi_extra=_binary(
    DOCX_TYPE, "Word 文件"), summary="文书 Word 文件（可编辑）")
def letter_docx(request, letter_id: str):
    _user, letter = _get(request, letter_id)
    content, filename = sv.letter_docx(letter)
    return _file_response(content, filename, DOCX_TYPE, f"letter-{letter.pk}.docx")
