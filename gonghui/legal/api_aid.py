"""Legal aid API (工会法律援助). A worker applies and follows their file; staff with a case role on
the handling union (or above) decide, assign and follow it; the assigned lawyer or volunteer records
stages, hearings and the outcome. Every id is resolved through aid.aid_get (the caller's own, the
assigned provider's, or within the caller's case-role scope; 404 otherwise); every write goes
through a service in aid.py. Documents are uploaded multipart and downloaded through an access check."""

from __future__ import annotations

import datetime
from decimal import Decimal

from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from gonghui.accounts.api import ErrorOut
from gonghui.accounts.models import User
from gonghui.casedesk import selectors as case_selectors
from gonghui.casedesk import services as case_services
from gonghui.casedesk.api import EmployerNewIn, NumberOrText, UnionRef
from gonghui.core.errors import NotFound, PermissionDenied, ValidationFailed
from gonghui.core.files import private_file
from gonghui.orgs.models import OrgUnit
from gonghui.orgs.selectors import actor_scope, org_get

from . import aid
from .models import AidApplication, AidDeadline, AidProvider, AidStage, Expertise, LegalPolicy

router = Router(tags=["法务云：法律援助"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 429: ErrorOut}


# --- Schemas --------------------------------------------------------------------------------------


class ProviderBrief(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    firm: str
    phone_masked: str


def _provider_brief(provider: AidProvider | None) -> dict | None:
    if provider is None:
        return None
    return {"id": provider.pk, "name": provider.name, "kind": provider.kind, "kind_label": provider.get_kind_display(),
            "firm": provider.firm, "phone_masked": provider.phone_masked}


class AidOut(Schema):
    id: int
    number: str = Field(..., description="申请编号（FY+日期+序号）")
    status: str
    status_label: str
    source: str
    category: str
    category_label: str
    employer: str
    union: UnionRef = Field(..., description="审查和承办的工会（县级以上工会法律援助中心）")
    route_reason: str
    submitted_at: datetime.datetime
    decide_due_at: datetime.datetime = Field(..., description="审查期限（工作日，补充材料期间暂停）")
    decided_at: datetime.datetime | None
    provider: ProviderBrief | None
    outcome: str
    outcome_label: str
    amount_awarded: str | None
    amount_recovered: str | None

    @staticmethod
    def resolve_status_label(obj: AidApplication) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_category_label(obj: AidApplication) -> str:
        return obj.get_category_display()

    @staticmethod
    def resolve_employer(obj: AidApplication) -> str:
        return obj.employer_name or "未填写"

    @staticmethod
    def resolve_union(obj: AidApplication) -> dict:
        return {"id": obj.org.pk, "name": obj.org.name}

    @staticmethod
    def resolve_provider(obj: AidApplication) -> dict | None:
        return _provider_brief(obj.provider)

    @staticmethod
    def resolve_outcome_label(obj: AidApplication) -> str:
        return obj.get_outcome_display() if obj.outcome else ""

    @staticmethod
    def resolve_amount_awarded(obj: AidApplication) -> str | None:
        return None if obj.amount_awarded is None else str(obj.amount_awarded)

    @staticmethod
    def resolve_amount_recovered(obj: AidApplication) -> str | None:
        return None if obj.amount_recovered is None else str(obj.amount_recovered)


class AidPage(Schema):
    items: list[AidOut]
    next_cursor: str | None


class ChecklistOut(Schema):
    key: str
    label: str
    required: bool
    done: bool
    detail: str


class DocumentOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str
    content_type: str
    size: int
    note: str
    created_at: datetime.datetime


class StageOut(Schema):
    id: int
    kind: str
    kind_label: str
    forum: str
    docket_no: str
    started_on: datetime.date
    ended_on: datetime.date | None
    decision_received_on: datetime.date | None
    result: str


class DeadlineOut(Schema):
    id: int
    kind: str
    kind_label: str
    title: str
    due_at: datetime.datetime
    basis: str
    place: str
    stage_id: int | None
    done: bool


class AidEventOut(Schema):
    id: int
    action: str
    action_label: str
    text: str
    created_at: datetime.datetime
    from_status: str
    to_status: str
    actor: str | None = Field(None, description="经办人（申请人看不到）")


class AidDetailOut(AidOut):
    name: str
    phone_masked: str
    membership_proof: dict
    facts: str
    question: str
    workers_involved: int
    amount_claimed: str | None
    hardship: bool
    reject_reason: str
    closing_report: str
    archive_no: str
    case_number: str | None
    your_role: str = Field(..., description="staff / provider / applicant")
    # Read from the attributes _detail() sets (the model's own names are its reverse relations).
    checklist: list[ChecklistOut] = Field(..., alias="checklist_items")
    documents: list[DocumentOut] = Field(..., alias="document_list")
    stages: list[StageOut] = Field(..., alias="stage_list")
    deadlines: list[DeadlineOut] = Field(..., alias="deadline_list")
    timeline: list[AidEventOut] = Field(..., alias="event_list")

    @staticmethod
    def resolve_amount_claimed(obj: AidApplication) -> str | None:
        return None if obj.amount_claimed is None else str(obj.amount_claimed)

    @staticmethod
    def resolve_case_number(obj: AidApplication) -> str | None:
        return obj.case.number if obj.case_id else None


def _detail(actor: User, application: AidApplication) -> AidApplication:
    application = aid.aid_get(actor=actor, application_id=application.pk)
    role = aid.role_of(actor, application)
    application.your_role = role
    application.checklist_items = [item.__dict__ for item in aid.checklist(application)]
    application.document_list = [
        {"id": d.pk, "kind": d.kind, "kind_label": d.get_kind_display(), "name": d.name,
         "content_type": d.content_type, "size": d.size, "note": d.note, "created_at": d.created_at}
        for d in application.documents.exclude(file="")]
    application.stage_list = [
        {"id": s.pk, "kind": s.kind, "kind_label": s.get_kind_display(), "forum": s.forum, "docket_no": s.docket_no,
         "started_on": s.started_on, "ended_on": s.ended_on, "decision_received_on": s.decision_received_on,
         "result": s.result} for s in application.stages.all()]
    application.deadline_list = [
        {"id": d.pk, "kind": d.kind, "kind_label": d.get_kind_display(), "title": d.title, "due_at": d.due_at,
         "basis": d.basis, "place": d.place, "stage_id": d.stage_id, "done": d.done_at is not None}
        for d in application.deadlines.all()]
    application.event_list = [
        {"id": e.pk, "action": e.action, "action_label": e.get_action_display(), "text": e.text,
         "created_at": e.created_at, "from_status": e.from_status, "to_status": e.to_status,
         "actor": None if role == "applicant" else ("系统" if e.actor is None else "申请人"
                                                    if e.actor_id == application.applicant_id
                                                    else (e.actor.display_name or e.actor.username))}
        for e in aid.timeline(actor=actor, application=application)]
    return application


class AidIn(Schema):
    category: str = Field(..., description="争议类型：" + "、".join(f"{v} {label}" for v, label in Expertise.choices))
    facts: str = Field(..., description="案情及请求（20至5000字）")
    employer_id: int | None = None
    employer: EmployerNewIn | None = Field(None, description="未登记的单位：名称与所在乡镇街道代码")
    division_code: str | None = Field(None, max_length=12)
    workers_involved: int | None = None
    amount_claimed: NumberOrText | None = Field(None, description="请求金额（元）")
    hardship: bool = Field(False, description="申请人经济困难（须上传困难证明）")
    question: str = Field("", max_length=2000, description="从法律问答转来时的原问题")


class TextIn(Schema):
    text: str = Field(..., max_length=20000)


class ReasonIn(Schema):
    reason: str = Field("", max_length=2000)


class NoteIn(Schema):
    note: str = Field("", max_length=2000)


class AidNoteIn(Schema):
    text: str = Field(..., max_length=20000)
    worker_visible: bool = False


class AssignIn(Schema):
    provider_id: int
    note: str = Field("", max_length=2000)


class StageIn(Schema):
    kind: str
    started_on: datetime.date
    forum: str = Field("", max_length=1000)
    docket_no: str = Field("", max_length=1000)
    note: str = Field("", max_length=5000)


class StageDecisionIn(Schema):
    received_on: datetime.date
    result: str = Field(..., max_length=5000)


class DeadlineIn(Schema):
    title: str = Field(..., max_length=1000)
    due_at: datetime.datetime
    kind: str = AidDeadline.Kind.HEARING
    place: str = Field("", max_length=1000)
    stage_id: int | None = None


class ConcludeIn(Schema):
    outcome: str
    closing_report: str = Field(..., max_length=20000)
    amount_awarded: NumberOrText | None = None
    amount_recovered: NumberOrText | None = None


class BoardQuery(Schema):
    node: int | None = None
    status: str = Field("", max_length=32)
    overdue: bool = False
    cursor: str | None = Field(None, max_length=2000)


class ProviderOut(ProviderBrief):
    licence_no: str
    expertise: list[str]
    expertise_labels: list[str]
    region_code: str
    max_active: int
    active_count: int
    closed_count: int
    is_active: bool
    has_account: bool
    union: UnionRef

    @staticmethod
    def resolve_kind_label(obj: AidProvider) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_has_account(obj: AidProvider) -> bool:
        return obj.user_id is not None

    @staticmethod
    def resolve_union(obj: AidProvider) -> dict:
        return {"id": obj.org.pk, "name": obj.org.name}


class ProviderIn(Schema):
    org_id: int | None = Field(None, description="名册所属工会（新增时必填）")
    kind: str | None = None
    name: str | None = Field(None, max_length=1000)
    firm: str | None = Field(None, max_length=1000)
    licence_no: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=40)
    expertise: list[str] | None = None
    region_code: str | None = Field(None, max_length=12)
    max_active: int | None = None
    is_active: bool | None = None


class SuggestionOut(Schema):
    provider: ProviderOut
    score: float
    reasons: list[str]


class StatsOut(Schema):
    node: UnionRef
    by_status: dict[str, int]
    open: int
    decided: int
    decided_on_time_rate: float | None
    avg_days_to_decision: float | None
    concluded: int
    outcomes: dict[str, int]
    success_rate: float | None
    amount_awarded: Decimal
    amount_recovered: Decimal
    workers_helped: int
    overdue_decisions: int


class PolicyOut(Schema):
    org_id: int
    aid_decide_days: int
    opinion_reply_days: int
    suggestion_reply_days: int
    reminder_reply_days: int
    letter_prefix: str
    letter_contact: str = Field(..., description="本级工会文书上的联系人及电话（不继承上级）")


class PolicyIn(Schema):
    aid_decide_days: int | None = None
    opinion_reply_days: int | None = None
    suggestion_reply_days: int | None = None
    reminder_reply_days: int | None = None
    letter_prefix: str | None = Field(None, max_length=100)
    letter_contact: str | None = Field(None, max_length=1000)


class ReferIn(Schema):
    note: str = Field(..., max_length=5000)


class ReferOut(Schema):
    case_id: int
    legal_aid_ref: str
    application_id: int | None


# --- Helpers --------------------------------------------------------------------------------------


def _get(request, application_id) -> AidApplication:
    return aid.aid_get(actor=request.user, application_id=application_id)


def _worker(request) -> User:
    if request.user.kind != User.Kind.WORKER:
        raise PermissionDenied("该功能仅限职工本人使用")
    return request.user


def _staff(request) -> User:
    if request.user.kind == User.Kind.WORKER:
        raise PermissionDenied("仅限工会工作人员使用")
    return request.user


def _case_staff(request) -> User:
    user = _staff(request)
    if not actor_scope(user).case_grants:
        raise PermissionDenied("仅限有诉求办理权限的工会工作人员使用")
    return user


def _node(request, node) -> OrgUnit | None:
    if node in (None, ""):
        return None
    org = org_get(actor=request.user, org_id=node)
    if actor_scope(request.user).case_rank_at(org.path) <= 0:
        raise NotFound("工会组织")
    return org


# --- The worker -----------------------------------------------------------------------------------


@router.post("/legal/aid", response={201: AidDetailOut, **ERRORS},
             summary="职工申请法律援助（JSON；材料随后用 /legal/aid/{id}/documents 上传）")
def aid_apply(request, payload: AidIn):
    application = aid.aid_apply(
        actor=request.user, category=payload.category, facts=payload.facts, employer_id=payload.employer_id,
        employer=payload.employer.dict() if payload.employer else None, division_code=payload.division_code,
        workers_involved=payload.workers_involved, amount_claimed=payload.amount_claimed, hardship=payload.hardship,
        question=payload.question)
    return Status(201, _detail(request.user, application))


@router.get("/me/legal-aid", response={200: list[AidOut], **ERRORS}, summary="我的法律援助申请；承办律师另见 assigned")
def my_aid(request, assigned: bool = Query(False, description="true：指派给我承办的案件（律师/志愿者）")):
    user = _worker(request)
    rows = aid.assigned_to_me(user) if assigned else aid.my_applications(user)
    return list(rows[:200])


@router.post("/legal/aid/{application_id}/documents", response={200: AidDetailOut, **ERRORS},
             summary="上传材料（multipart：kind 材料类型 identity/hardship/evidence/authorisation/award/other，files）")
def aid_documents(request, application_id: str, kind: Form[str], files: File[list[UploadedFile]] = None,
                  note: Form[str] = ""):
    application = _get(request, application_id)
    aid.aid_add_documents(actor=request.user, application=application,
                          documents=[(kind, f) for f in (files or [])], note=note)
    return _detail(request.user, application)


@router.post("/legal/aid/{application_id}/supply", response={200: AidDetailOut, **ERRORS},
             summary="申请人按通知补充材料后提交（审查期限顺延）")
def aid_supply(request, application_id: str, payload: TextIn):
    _worker(request)
    application = aid.aid_supply(actor=request.user, application=_get(request, application_id), text=payload.text)
    return _detail(request.user, application)


@router.post("/legal/aid/{application_id}/withdraw", response={200: AidOut, **ERRORS}, summary="申请人撤回申请")
def aid_withdraw(request, application_id: str, payload: ReasonIn):
    _worker(request)
    return aid.aid_withdraw(actor=request.user, application=_get(request, application_id), reason=payload.reason)


@router.get("/legal/aid/stats", response={200: StatsOut, **ERRORS}, summary="法律援助办理情况统计（本级及下级）")
def aid_stats(request, node: int | None = None):
    user = _case_staff(request)
    org = _node(request, node) or OrgUnit.objects.get(pk=sorted(actor_scope(user).case_grants)[0][3])
    return aid.aid_stats(actor=user, node=org)


# --- Everyone with access -------------------------------------------------------------------------


@router.get("/legal/aid/{application_id}", response={200: AidDetailOut, **ERRORS},
            summary="法律援助详情（申请人本人、承办工会及上级有诉求权限的人员、指派的承办人）")
def aid_detail(request, application_id: str):
    return _detail(request.user, _get(request, application_id))


@router.get("/legal/aid/{application_id}/documents/{document_id}", response={200: None, **ERRORS},
            summary="下载材料（经权限检查；工作人员和承办人查看留痕）")
def aid_document(request, application_id: str, document_id: str):
    application = _get(request, application_id)
    document = aid.aid_document_get(actor=request.user, application=application, document_id=document_id)
    try:
        handle = document.file.open("rb")
    except OSError:
        raise NotFound("材料") from None
    return private_file(handle, filename=document.name, content_type=document.content_type, inline_images=True)


# --- The handling union ---------------------------------------------------------------------------


@router.get("/legal/aid", response={200: AidPage, **ERRORS}, summary="法律援助台账（本级及下级，最新在前，游标分页）")
def aid_board(request, params: Query[BoardQuery]):
    user = _case_staff(request)
    rows, cursor = aid.aid_board(actor=user, node=_node(request, params.node), status=params.status,
                                 overdue=params.overdue, cursor=params.cursor)
    return {"items": rows, "next_cursor": cursor}


@router.post("/legal/aid/{application_id}/request-documents", response={200: AidOut, **ERRORS},
             summary="通知申请人补充材料（审查期限暂停）")
def aid_request_documents(request, application_id: str, payload: TextIn):
    return aid.aid_request_documents(actor=request.user, application=_get(request, application_id), text=payload.text)


@router.post("/legal/aid/{application_id}/approve", response={200: AidOut, **ERRORS}, summary="批准援助")
def aid_approve(request, application_id: str, payload: NoteIn):
    return aid.aid_approve(actor=request.user, application=_get(request, application_id), note=payload.note)


@router.post("/legal/aid/{application_id}/reject", response={200: AidOut, **ERRORS}, summary="不予援助（须写明理由）")
def aid_reject(request, application_id: str, payload: ReasonIn):
    return aid.aid_reject(actor=request.user, application=_get(request, application_id), reason=payload.reason)


@router.get("/legal/aid/{application_id}/providers", response={200: list[SuggestionOut], **ERRORS},
            summary="可指派的承办人（按擅长领域、服务地区、在办件数排序，附理由）")
def aid_provider_suggestions(request, application_id: str):
    matches = aid.provider_suggestions(actor=request.user, application=_get(request, application_id))
    return [{"provider": m.provider, "score": m.score, "reasons": m.reasons} for m in matches]


@router.post("/legal/aid/{application_id}/assign", response={200: AidOut, **ERRORS}, summary="指派或改派承办人")
def aid_assign(request, application_id: str, payload: AssignIn):
    return aid.aid_assign(actor=request.user, application=_get(request, application_id),
                          provider_id=payload.provider_id, note=payload.note)


@router.post("/legal/aid/{application_id}/stages", response={201: StageOut, **ERRORS},
             summary="记录进入办理阶段（调解、仲裁、诉讼、执行）；自动计算法定期限")
def aid_stage_add(request, application_id: str, payload: StageIn):
    stage = aid.aid_stage_add(actor=request.user, application=_get(request, application_id), kind=payload.kind,
                              started_on=payload.started_on, forum=payload.forum, docket_no=payload.docket_no,
                              note=payload.note)
    return Status(201, _stage_out(stage))


def _stage_out(stage: AidStage) -> dict:
    return {"id": stage.pk, "kind": stage.kind, "kind_label": stage.get_kind_display(), "forum": stage.forum,
            "docket_no": stage.docket_no, "started_on": stage.started_on, "ended_on": stage.ended_on,
            "decision_received_on": stage.decision_received_on, "result": stage.result}


@router.post("/legal/aid/{application_id}/stages/{stage_id}/decision", response={200: StageOut, **ERRORS},
             summary="记录阶段结果（调解书、裁决书、判决书送达日期）；自动计算起诉、上诉、申请执行期限")
def aid_stage_decision(request, application_id: str, stage_id: str, payload: StageDecisionIn):
    stage = aid.aid_stage_decision(actor=request.user, application=_get(request, application_id), stage_id=stage_id,
                                   received_on=payload.received_on, result=payload.result)
    return _stage_out(stage)


@router.post("/legal/aid/{application_id}/deadlines", response={201: DeadlineOut, **ERRORS},
             summary="登记开庭/调解日期或其他期限（通知申请人）")
def aid_deadline_add(request, application_id: str, payload: DeadlineIn):
    deadline = aid.aid_deadline_add(actor=request.user, application=_get(request, application_id),
                                    title=payload.title, due_at=payload.due_at, kind=payload.kind,
                                    place=payload.place, stage_id=payload.stage_id)
    return Status(201, _deadline_out(deadline))


def _deadline_out(d: AidDeadline) -> dict:
    return {"id": d.pk, "kind": d.kind, "kind_label": d.get_kind_display(), "title": d.title, "due_at": d.due_at,
            "basis": d.basis, "place": d.place, "stage_id": d.stage_id, "done": d.done_at is not None}


@router.post("/legal/aid/{application_id}/deadlines/{deadline_id}/done", response={200: DeadlineOut, **ERRORS},
             summary="期限事项已办理")
def aid_deadline_done(request, application_id: str, deadline_id: str, payload: NoteIn):
    deadline = aid.aid_deadline_done(actor=request.user, application=_get(request, application_id),
                                     deadline_id=deadline_id, note=payload.note)
    return _deadline_out(deadline)


@router.post("/legal/aid/{application_id}/notes", response={201: AidEventOut, **ERRORS},
             summary="办理记录（可选择申请人可见）")
def aid_note(request, application_id: str, payload: AidNoteIn):
    event = aid.aid_note(actor=request.user, application=_get(request, application_id), text=payload.text,
                         worker_visible=payload.worker_visible)
    return Status(201, {"id": event.pk, "action": event.action, "action_label": event.get_action_display(),
                        "text": event.text, "created_at": event.created_at, "from_status": event.from_status,
                        "to_status": event.to_status, "actor": request.user.display_name or request.user.username})


@router.post("/legal/aid/{application_id}/conclude", response={200: AidOut, **ERRORS},
             summary="结案：办理结果、确定金额、实际追回金额与结案报告")
def aid_conclude(request, application_id: str, payload: ConcludeIn):
    return aid.aid_conclude(actor=request.user, application=_get(request, application_id), outcome=payload.outcome,
                            closing_report=payload.closing_report, amount_awarded=payload.amount_awarded,
                            amount_recovered=payload.amount_recovered)


@router.post("/legal/aid/{application_id}/archive", response={200: AidOut, **ERRORS},
             summary="审核结案报告并归档（诉求督办质检权限）")
def aid_archive(request, application_id: str):
    return aid.aid_archive(actor=request.user, application=_get(request, application_id))


# --- Rosters and settings -------------------------------------------------------------------------


class ProviderPage(Schema):
    items: list[ProviderOut]


@router.get("/legal/aid-providers", response={200: ProviderPage, **ERRORS},
            summary="法律援助律师/志愿者名册（本级及下级）")
def provider_list(request, node: int | None = None, active: bool = True):
    user = _staff(request)
    qs = aid.providers_visible(user).select_related("org")
    if node is not None:
        org = org_get(actor=user, org_id=node)
        qs = qs.filter(org_path__startswith=org.path)
    if active:
        qs = qs.filter(is_active=True)
    return {"items": list(qs.order_by("org_path", "name")[:500])}


@router.post("/legal/aid-providers", response={201: ProviderOut, **ERRORS}, summary="登记律师/志愿者")
def provider_create(request, payload: ProviderIn):
    user = _staff(request)
    if payload.org_id is None:
        raise ValidationFailed("org_required", "请选择名册所属工会", "org_id")
    org = org_get(actor=user, org_id=payload.org_id)
    provider = aid.provider_save(actor=user, org=org, data=payload.dict(exclude_unset=True, exclude={"org_id"}))
    return Status(201, provider)


@router.patch("/legal/aid-providers/{provider_id}", response={200: ProviderOut, **ERRORS}, summary="修改律师/志愿者信息")
def provider_update(request, provider_id: str, payload: ProviderIn):
    user = _staff(request)
    provider = aid.provider_get(actor=user, provider_id=provider_id)
    return aid.provider_save(actor=user, provider=provider, data=payload.dict(exclude_unset=True, exclude={"org_id"}))


def _policy_out(org: OrgUnit) -> dict:
    return {"org_id": org.pk, **{name: int(aid.policy_value(org, name)) for name in aid.POLICY_FIELDS},
            "letter_prefix": str(aid.policy_value(org, "letter_prefix") or ""),
            "letter_contact": LegalPolicy.objects.filter(org=org).values_list("letter_contact", flat=True).first() or ""}


@router.get("/legal/policy/{org_id}", response={200: PolicyOut, **ERRORS}, summary="法务设置（本级未设置的取上级或全国默认）")
def policy_get(request, org_id: str):
    return _policy_out(org_get(actor=_staff(request), org_id=org_id))


@router.put("/legal/policy/{org_id}", response={200: PolicyOut, **ERRORS},
            summary="修改法务设置（审查时限、回复期限、文号代字；留空为继承上级）")
def policy_set(request, org_id: str, payload: PolicyIn):
    user = _staff(request)
    org = org_get(actor=user, org_id=org_id)
    aid.policy_set(actor=user, org=org, data=payload.dict(exclude_unset=True))
    return _policy_out(org)


# --- The case desk's referral ----------------------------------------------------------------------


@router.post("/cases/{case_id}/legal-aid", response={200: ReferOut, **ERRORS},
             summary="12351诉求转法律援助（生成法律援助申请，送县级以上工会审查）")
def case_refer_legal_aid(request, case_id: str, payload: ReferIn):
    user = _case_staff(request)
    case = case_selectors.case_get(actor=user, case_id=case_id)
    case = case_services.case_refer_legal_aid(actor=user, case=case, note=payload.note)
    found = AidApplication.objects.filter(case=case).order_by("-pk").first()
    return {"case_id": case.pk, "legal_aid_ref": case.legal_aid_ref, "application_id": found.pk if found else None}

