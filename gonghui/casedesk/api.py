"""Case desk API (12351 维权服务): a worker files and follows their own cases; a hotline agent or another
system (a staff token with a case role) records them; handlers work the board; the worker rates the
result through a signed link without logging in.

Every case id from a request is resolved through selectors.case_get (the worker's own case, or the
staff member's case-role scope; 404 otherwise); every write goes through a service. Phones leave
masked, except through the audited reveal; a worker who asked for protection is shown to an
employer-level union without name, phone or contact details, and every staff view of such a case is
audited. Attachments are uploaded through the portal, or afterwards with POST /cases/{id}/info
(multipart); the intake endpoint takes JSON.
"""

from __future__ import annotations

import datetime
from contextlib import contextmanager
from decimal import Decimal
from typing import Annotated

from ninja import Field, File, Form, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import BeforeValidator

from gonghui.accounts.api import ErrorOut
from gonghui.accounts.models import User
from gonghui.core import ratelimit
from gonghui.core.context import client_ip
from gonghui.core.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from gonghui.orgs.models import OrgUnit
from gonghui.orgs.paths import STEP
from gonghui.orgs.selectors import actor_scope, org_get, org_visible

from . import selectors, services
from .models import Case, CaseCategory, CaseEvent, CaseStatus, Channel

router = Router(tags=["12351职工维权诉求"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 429: ErrorOut}


# --- Who is asking --------------------------------------------------------------------------------


def _worker(request) -> User:
    if request.user.kind != User.Kind.WORKER:
        raise PermissionDenied("该功能仅限职工本人使用")
    return request.user


def _case_staff(request) -> User:
    """Staff with a case role somewhere (an admin without one reads no case content)."""
    if request.user.kind == User.Kind.WORKER or not actor_scope(request.user).case_grants:
        raise PermissionDenied("仅限有诉求办理权限的工会工作人员使用")
    return request.user


def _staff_case(request, case_id) -> tuple[User, Case]:
    user = _case_staff(request)
    return user, selectors.case_get(actor=user, case_id=case_id)


def _board_node(request, node) -> OrgUnit:
    """The node a board is about: the given id where the caller holds a case role, else the caller's
    first case-role node (404 for a node outside that scope, as for any id)."""
    user = _case_staff(request)
    scope = actor_scope(user)
    if node in (None, ""):
        node = sorted(scope.case_grants)[0][3]
    org = org_get(actor=user, org_id=node)
    if scope.case_rank_at(org.path) <= 0:
        raise NotFound("工会组织")
    return org


@contextmanager
def _field_as(service_field: str, api_field: str):
    """A service names a field differently from the request body: report the body's name."""
    try:
        yield
    except ServiceError as exc:
        if exc.field == service_field:
            exc.field = api_field
        raise


# --- Schemas --------------------------------------------------------------------------------------


class UnionRef(Schema):
    id: int
    name: str


def _union(org: OrgUnit | None) -> dict | None:
    return {"id": org.pk, "name": org.name} if org is not None else None


class CaseOut(Schema):
    id: int
    number: str = Field(..., description="受理编号（职工电话查询时报这个号）")
    status: str
    status_label: str
    kind: str
    kind_label: str
    category: str = Field(..., description="诉求分类代码")
    category_label: str
    difficulty: str
    difficulty_label: str
    channel: str
    title: str
    union: UnionRef = Field(..., description="当前承办工会")
    route_reason: str
    external_id: str | None
    created_at: datetime.datetime
    accept_due_at: datetime.datetime | None
    complete_due_at: datetime.datetime | None
    due_at: datetime.datetime | None = Field(None, description="当前状态所对应的期限（受理或办结）")
    accepted_at: datetime.datetime | None
    resolved_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    overdue: bool = Field(..., description="曾超过受理或办结期限（已提请督办）")
    satisfaction: int | None

    @staticmethod
    def resolve_status_label(obj: Case) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_kind_label(obj: Case) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_category(obj: Case) -> str:
        return obj.category.code

    @staticmethod
    def resolve_category_label(obj: Case) -> str:
        return obj.category.label

    @staticmethod
    def resolve_difficulty_label(obj: Case) -> str:
        return obj.get_difficulty_display()

    @staticmethod
    def resolve_union(obj: Case) -> dict:
        return _union(obj.org)

    @staticmethod
    def resolve_overdue(obj: Case) -> bool:
        return obj.accept_overdue_at is not None or obj.complete_overdue_at is not None


class CasePage(Schema):
    items: list[CaseOut]
    next_cursor: str | None


class CaseBoardItemOut(CaseOut):
    name_masked: str | None = Field(None, description="职工姓名（脱敏）；对本单位工会保密身份时为空")
    identity_hidden: bool
    protect_identity: bool
    employer: str
    workers_affected: int
    reopen_count: int

    @staticmethod
    def resolve_name_masked(obj: Case) -> str | None:
        return None if obj.identity_hidden else obj.name_masked

    @staticmethod
    def resolve_employer(obj: Case) -> str:
        return obj.employer_name or "未填写"


class CaseBoardPage(Schema):
    items: list[CaseBoardItemOut]
    next_cursor: str | None


class EventOut(Schema):
    id: int
    action: str
    action_label: str
    text: str
    created_at: datetime.datetime
    from_status: str
    to_status: str
    from_union: UnionRef | None
    to_union: UnionRef | None
    actor: str | None = Field(None, description="经办人（仅工作人员可见）")
    worker_visible: bool | None = Field(None, description="职工是否可见（仅工作人员可见）")


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    created_at: datetime.datetime


class CaseDetailOut(CaseOut):
    description: str
    employer: str
    workers_affected: int
    amount_claimed: str | None = Field(None, description="涉及金额（元）")
    protect_identity: bool
    identity_hidden: bool = Field(..., description="职工要求对本单位工会保密身份，且查看者只在单位工会一级有诉求权限")
    name: str | None
    phone_masked: str | None
    contact_preference: str | None
    result: str
    money_recovered: str
    workers_helped: int
    satisfaction_comment: str
    rated_at: datetime.datetime | None
    reopen_count: int
    merged_into: str | None = Field(None, description="合并到的诉求编号")
    legal_aid_referred: bool
    timeline: list[EventOut]
    attachments: list[AttachmentOut]
    # Staff only (null for the worker).
    intake_union: UnionRef | None = None
    supervisor_union: UnionRef | None = None
    qc_note: str | None = None

    @staticmethod
    def resolve_employer(obj: Case) -> str:
        return obj.employer_name or "未填写"

    @staticmethod
    def resolve_attachments(obj: Case) -> list:
        return obj.attachment_list

    @staticmethod
    def resolve_amount_claimed(obj: Case) -> str | None:
        return None if obj.amount_claimed is None else str(obj.amount_claimed)

    @staticmethod
    def resolve_name(obj: Case) -> str | None:
        return None if obj.identity_hidden else obj.name

    @staticmethod
    def resolve_phone_masked(obj: Case) -> str | None:
        return None if obj.identity_hidden else obj.phone_masked

    @staticmethod
    def resolve_contact_preference(obj: Case) -> str | None:
        return None if obj.identity_hidden else obj.contact_preference

    @staticmethod
    def resolve_money_recovered(obj: Case) -> str:
        return str(obj.money_recovered)

    @staticmethod
    def resolve_merged_into(obj: Case) -> str | None:
        return obj.merged_into.number if obj.merged_into_id else None

    @staticmethod
    def resolve_legal_aid_referred(obj: Case) -> bool:
        return bool(obj.legal_aid_ref)

    @staticmethod
    def resolve_intake_union(obj: Case) -> dict | None:
        return _union(obj.intake_org) if obj.for_staff else None

    @staticmethod
    def resolve_supervisor_union(obj: Case) -> dict | None:
        return _union(obj.supervisor) if obj.for_staff and obj.supervisor_id else None

    @staticmethod
    def resolve_qc_note(obj: Case) -> str | None:
        return obj.qc_note if obj.for_staff else None


def _event_out(event: CaseEvent, case: Case, for_staff: bool) -> dict:
    out = {"id": event.pk, "action": event.action, "action_label": event.get_action_display(), "text": event.text,
           "created_at": event.created_at, "from_status": event.from_status, "to_status": event.to_status,
           "from_union": _union(event.from_org), "to_union": _union(event.to_org)}
    if for_staff:
        if event.actor is None:
            out["actor"] = "系统"
        elif event.actor.kind == User.Kind.WORKER:
            out["actor"] = "职工"  # never the worker's name: the case may be protected
        else:
            out["actor"] = event.actor.display_name or event.actor.username
        out["worker_visible"] = event.worker_visible
    return out


def _detail(actor: User, case: Case) -> Case:
    for_staff = actor.kind != User.Kind.WORKER
    case.for_staff = for_staff
    case.identity_hidden = selectors.identity_hidden(actor, case)
    case.timeline = [_event_out(e, case, for_staff) for e in selectors.case_timeline(actor=actor, case=case)]
    case.attachment_list = selectors.case_attachments(actor=actor, case=case)
    return case


def _number_as_text(value):
    """Codes and amounts may come as JSON numbers or strings: the services read both from text."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    return value


NumberOrText = Annotated[str, BeforeValidator(_number_as_text)]


class EmployerNewIn(Schema):
    name: str = Field(..., max_length=1000)
    division_code: str | None = Field(None, max_length=12)


class CaseIn(Schema):
    category: NumberOrText | None = Field(..., description="诉求分类代码或 id（须为具体分类，见 /cases/categories）")
    description: str = Field(..., description="诉求内容（10至5000字）")
    channel: str | None = Field(None, description="hotline / visit / api；职工本人提交固定为 portal；"
                                                  "工作人员令牌未填写时为 api（其他系统）")
    kind: str | None = Field(None, max_length=32, description="诉求类型；缺省取分类的常见类型")
    difficulty: str | None = Field(None, max_length=32)
    employer_id: int | None = None
    employer: EmployerNewIn | None = Field(None, description="未登记的单位：名称与所在乡镇街道代码")
    division_code: str | None = Field(None, max_length=12, description="无单位时的工作地（乡镇街道或区县代码）")
    workers_affected: int | None = None
    amount_claimed: NumberOrText | None = Field(None, description="涉及金额（元）")
    contact_preference: str = Field("", max_length=2000)
    protect_identity: bool = Field(False, description="对本单位工会保密身份")
    name: str | None = Field(None, max_length=1000, description="来电人姓名（工作人员登记时必填）")
    phone: str | None = Field(None, max_length=40, description="来电人手机号（工作人员登记时）")
    external_id: str | None = Field(None, max_length=1000,
                                    description="其他系统的编号：同一编号重复提交返回同一诉求（状态码200）")
    org_id: int | None = Field(None, description="工作人员指定承办工会（缺省按单位和属地自动确定）")


class DispatchIn(Schema):
    to_org: int = Field(..., description="下级工会 id")
    note: str = Field(..., max_length=10000)


class TextIn(Schema):
    text: str = Field(..., max_length=100000)


class ReasonIn(Schema):
    reason: str = Field(..., max_length=10000)


class WithdrawIn(Schema):
    reason: str = Field("", max_length=10000)


class ResolveIn(Schema):
    result: str = Field(..., max_length=100000)
    money_recovered: NumberOrText | None = Field(None, description="追回金额（元）")
    workers_helped: int | None = Field(None, description="帮助人数；缺省为涉及人数")


class CloseIn(Schema):
    passed: bool = Field(True, description="质检通过则结案；不通过则退回重新办理（须写明意见）")
    note: str = Field("", max_length=10000)


class RateIn(Schema):
    score: int = Field(..., description="满意度 1-5")
    comment: str = Field("", max_length=10000)


class RevealOut(Schema):
    field: str
    value: str


class CallbackOut(Schema):
    number: str
    status: str
    status_label: str
    satisfaction: int | None
    reopened: bool = Field(..., description="评价不满意，诉求已重新办理")


class BoardQuery(Schema):
    node: str | None = Field(None, max_length=20, description="工会 id；缺省为本人第一个有诉求权限的组织")
    status: str = Field("pending", max_length=16)
    overdue: bool = False
    category: str = Field("", max_length=40, description="分类代码（大类或具体分类）")
    q: str = Field("", max_length=100, description="受理编号、手机号、外部编号，或标题、单位名称中的文字")
    supervising: bool = Field(False, description="督办：超时后提请本级督办的下级诉求")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=100)


class MyCasesQuery(Schema):
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(20, ge=1, le=100)


class CategoryItemOut(Schema):
    id: int
    code: str
    name: str
    label: str
    description: str
    default_kind: str


class CategoryGroupOut(Schema):
    id: int
    code: str
    name: str
    description: str
    items: list[CategoryItemOut]


# --- Reference: the taxonomy ----------------------------------------------------------------------


def _province_path(request, division_code: str | None) -> str:
    """Whose provincial items to add: the place given, else the staff member's case node."""
    if division_code:
        code = division_code.strip()
        path = OrgUnit.objects.filter(division_id=code[:2] + "0000").values_list("path", flat=True).first() \
            if code.isdigit() and len(code) in (6, 9, 12) else None
        if path is None:
            raise ValidationFailed("division_unknown", "所在地区代码不存在，请从列表中选择", "division_code")
        return path[: 2 * STEP]
    grants = sorted(actor_scope(request.user).case_grants)
    return grants[0][0][: 2 * STEP] if grants else ""


@router.get("/cases/categories", response={200: list[CategoryGroupOut], **ERRORS},
            summary="诉求分类（大类及具体分类）；q 按名称和口语说法检索，结果按相关程度排序")
def category_list(request, q: str = Query("", max_length=100),
                  division_code: str | None = Query(None, max_length=12, description="工作地，用于加入本省增设的分类")):
    province = _province_path(request, division_code)
    groups = selectors.categories(province)
    by_id = {g.pk: g for g in groups}
    if q.strip():  # the groups of the matching items, best match first, each with its matches only
        ranked: dict[int, CaseCategory] = {}
        for item in selectors.category_search(q, province, limit=20):
            group = by_id[item.parent_id]
            if group.pk not in ranked:
                ranked[group.pk] = group
                group.items = []
            group.items.append(item)
        groups = list(ranked.values())
    for group in groups:
        for item in group.items:
            item.parent = group  # the label reads the group's name without a query per item
    return groups


# --- Intake: the worker, the hotline, other systems ------------------------------------------------


@router.post("/cases", response={200: CaseOut, 201: CaseOut, **ERRORS},
             summary="提交诉求：职工本人、12351热线坐席或其他系统（同一 external_id 重复提交返回同一诉求，状态码200）")
def case_create(request, payload: CaseIn):
    user = request.user
    channel = payload.channel or (Channel.PORTAL if user.kind == User.Kind.WORKER else Channel.API)
    case, created = services.case_create(
        actor=user, channel=channel, category=payload.category, description=payload.description, kind=payload.kind,
        employer_id=payload.employer_id, employer=payload.employer.dict() if payload.employer else None,
        division_code=payload.division_code, workers_affected=payload.workers_affected,
        amount_claimed=payload.amount_claimed, contact_preference=payload.contact_preference,
        protect_identity=payload.protect_identity, name=payload.name, phone=payload.phone,
        external_id=payload.external_id, org_id=payload.org_id, difficulty=payload.difficulty,
    )
    return Status(201 if created else 200, case)


# --- The worker -----------------------------------------------------------------------------------


@router.get("/me/cases", response={200: CasePage, **ERRORS}, summary="我的诉求（最新在前，游标分页）")
def my_cases(request, params: Query[MyCasesQuery]):
    user = _worker(request)
    items, next_cursor = selectors.my_cases(actor=user, cursor=params.cursor, limit=params.limit)
    return {"items": items, "next_cursor": next_cursor}


@router.post("/cases/{case_id}/withdraw", response={200: CaseOut, **ERRORS}, summary="职工撤回自己的诉求")
def case_withdraw(request, case_id: str, payload: WithdrawIn):
    user = _worker(request)
    case = selectors.case_get(actor=user, case_id=case_id)
    return services.case_withdraw(actor=user, case=case, reason=payload.reason)


@router.post("/cases/{case_id}/info", response={200: CaseOut, **ERRORS},
             summary="职工补充情况和材料（multipart：text 与 attachments 附件，JPG/PNG/PDF）；待补充的诉求恢复办理")
def case_worker_info(request, case_id: str, text: Form[str], attachments: File[list[UploadedFile]] = None):
    user = _worker(request)
    case = selectors.case_get(actor=user, case_id=case_id)
    return services.case_worker_add(actor=user, case=case, text=text, attachments=attachments or [])


# --- Staff: the board -------------------------------------------------------------------------------


@router.get("/cases", response={200: CaseBoardPage, **ERRORS},
            summary="诉求办理台：本级及下级的诉求（按期限排序，游标分页）；supervising=true 为提请本级督办的诉求")
def case_board(request, params: Query[BoardQuery]):
    node = _board_node(request, params.node)
    items, next_cursor = selectors.case_board(
        actor=request.user, node=node, status=params.status, overdue=params.overdue, supervising=params.supervising,
        category=params.category, q=params.q, cursor=params.cursor, limit=params.limit)
    for case in items:
        case.identity_hidden = selectors.identity_hidden(request.user, case)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/cases/{case_id}", response={200: CaseDetailOut, **ERRORS},
            summary="诉求详情与办理过程（职工只看到本人诉求和给职工的答复；工作人员查看保密身份的诉求留痕）")
def case_detail(request, case_id: str):
    user = request.user
    case = selectors.case_get(actor=user, case_id=case_id)
    if user.kind != User.Kind.WORKER:
        services.case_viewed(actor=user, case=case)
    return _detail(user, case)


# --- Staff: handling --------------------------------------------------------------------------------


@router.post("/cases/{case_id}/accept", response={200: CaseOut, **ERRORS}, summary="受理（开始计算办结期限）")
def case_accept(request, case_id: str):
    user, case = _staff_case(request, case_id)
    return services.case_accept(actor=user, case=case)


@router.post("/cases/{case_id}/dispatch", response={200: CaseOut, **ERRORS},
             summary="转办下级工会（受理期限在下级重新计算）")
def case_dispatch(request, case_id: str, payload: DispatchIn):
    user, case = _staff_case(request, case_id)
    to_org = org_visible(user).filter(pk=payload.to_org).first()
    if to_org is None:
        raise ValidationFailed("dispatch_outside", "只能转办给本级工会的下级工会", "to_org")
    with _field_as("to_org_id", "to_org"):
        return services.case_dispatch(actor=user, case=case, to_org=to_org, note=payload.note)


@router.post("/cases/{case_id}/return", response={200: CaseOut, **ERRORS}, summary="退回上级工会（须写明原因）")
def case_return(request, case_id: str, payload: ReasonIn):
    user, case = _staff_case(request, case_id)
    return services.case_return(actor=user, case=case, reason=payload.reason)


@router.post("/cases/{case_id}/note", response={200: CaseOut, **ERRORS}, summary="内部备注（职工不可见）")
def case_note(request, case_id: str, payload: TextIn):
    user, case = _staff_case(request, case_id)
    services.case_note(actor=user, case=case, text=payload.text)
    return case


@router.post("/cases/{case_id}/reply", response={200: CaseOut, **ERRORS}, summary="答复职工（职工可见，诉求仍在办理）")
def case_reply(request, case_id: str, payload: TextIn):
    user, case = _staff_case(request, case_id)
    services.case_reply(actor=user, case=case, text=payload.text)
    return case


@router.post("/cases/{case_id}/request-info", response={200: CaseOut, **ERRORS},
             summary="请职工补充材料（补充前办结期限暂停计算）")
def case_request_info(request, case_id: str, payload: TextIn):
    user, case = _staff_case(request, case_id)
    return services.case_request_info(actor=user, case=case, text=payload.text)


@router.post("/cases/{case_id}/resolve", response={200: CaseOut, **ERRORS},
             summary="办结（记录结果，向职工发送评价链接）")
def case_resolve(request, case_id: str, payload: ResolveIn):
    user, case = _staff_case(request, case_id)
    return services.case_resolve(actor=user, case=case, result=payload.result,
                                 money_recovered=payload.money_recovered, workers_helped=payload.workers_helped)


@router.post("/cases/{case_id}/close", response={200: CaseOut, **ERRORS},
             summary="质检结案；不通过则重新办理（督办质检权限）")
def case_close(request, case_id: str, payload: CloseIn):
    user, case = _staff_case(request, case_id)
    return services.case_close(actor=user, case=case, passed=payload.passed, note=payload.note)


@router.post("/cases/{case_id}/reopen", response={200: CaseOut, **ERRORS},
             summary="重新办理已办结或已结案的诉求（督办质检权限）")
def case_reopen(request, case_id: str, payload: ReasonIn):
    user, case = _staff_case(request, case_id)
    return services.case_reopen(actor=user, case=case, reason=payload.reason)


@router.post("/cases/{case_id}/rate-by-phone", response={200: CaseOut, **ERRORS},
             summary="电话回访：登记职工在电话中给出的满意度（不满意则重新办理）")
def case_rate_by_phone(request, case_id: str, payload: RateIn):
    user, case = _staff_case(request, case_id)
    return services.case_rate_by_phone(actor=user, case=case, score=payload.score, comment=payload.comment)


@router.post("/cases/{case_id}/reveal-phone", response={200: RevealOut, **ERRORS},
             summary="查看职工完整手机号以便回电（承办人员，留痕审计，限次数；保密身份时单位工会不可查看）")
def case_reveal_phone(request, case_id: str):
    user, case = _staff_case(request, case_id)
    return {"field": "phone", "value": services.case_reveal_phone(actor=user, case=case)}


# --- The satisfaction link (no login) -----------------------------------------------------------------


class CallbackIn(Schema):
    score: int = Field(..., description="满意度 1-5")
    comment: str = Field("", max_length=10000)


@router.post("/callbacks/{token}", auth=None, response={200: CallbackOut, **ERRORS},
             summary="职工通过短信/通知中的评价链接评价办理结果（无需登录；链接一次有效、限期、按IP限频）")
def callback_rate(request, payload: CallbackIn, token: str = Path(..., max_length=1000)):
    ratelimit.check("callback_ip_min", client_ip(request) or "unknown", "评价提交过于频繁，请稍后再试")
    case = services.callback_rate(token=token, score=payload.score, comment=payload.comment)
    return {"number": case.number, "status": case.status, "status_label": case.get_status_display(),
            "satisfaction": case.satisfaction, "reopened": case.status != CaseStatus.RESOLVED}
