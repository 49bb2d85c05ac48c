"""Membership API: the worker's join, membership, card and transfer; the staff queue and members.

Every id from a request is resolved through a selector inside the actor's scope (404 otherwise);
every write goes through a service. ID numbers and phones leave only masked, except through the
audited reveal endpoint.
"""

from __future__ import annotations

import datetime

from django.http import StreamingHttpResponse
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from gonghui.accounts.api import ErrorOut
from gonghui.accounts.models import User
from gonghui.core import ratelimit
from gonghui.core.errors import NotFound, PermissionDenied
from gonghui.orgs.selectors import actor_scope, org_get

from . import cards, selectors, services
from .models import Application, ChangeRequest, Member, RosterImport, Transfer

router = Router(tags=["会员与会籍"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 429: ErrorOut}


def _worker(request) -> User:
    if request.user.kind != User.Kind.WORKER:
        raise PermissionDenied("该功能仅限职工本人使用")
    return request.user


def _staff(request) -> User:
    if actor_scope(request.user).is_empty:
        raise PermissionDenied("仅限工会工作人员使用")
    return request.user


def _node(request, node):
    """The node a staff list is about: the given id in scope, else the actor's first node."""
    _staff(request)
    if node in (None, ""):
        roots = actor_scope(request.user).roots
        node = roots[0]
    return org_get(actor=request.user, org_id=node)


class UnionRef(Schema):
    id: int
    name: str


class EmployerNewIn(Schema):
    name: str = Field(..., max_length=200)
    uscc: str | None = Field(None, max_length=40)
    division_code: str | None = Field(None, max_length=12)


class ApplicationIn(Schema):
    name: str = Field(..., max_length=100)
    id_number: str = Field(..., max_length=40)
    employer_id: int | None = None
    employer: EmployerNewIn | None = None
    employment_form: str = Field(..., max_length=32)
    occupation_code: str | None = Field(None, max_length=16)
    platform_id: int | None = None
    platform_role: str = Field("", max_length=32)
    job_title: str = Field("", max_length=200)
    division_code: str | None = Field(None, max_length=12)
    consent: bool


class ApplicationOut(Schema):
    id: int
    status: str
    status_label: str
    union: UnionRef
    route_rule: str
    route_reason: str
    submitted_at: datetime.datetime
    due_at: datetime.datetime
    decided_at: datetime.datetime | None
    reject_reason: str
    escalated: bool
    name_masked: str
    id_masked: str
    employer: str
    employment_form: str

    @staticmethod
    def resolve_status_label(obj: Application) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_union(obj: Application) -> dict:
        return {"id": obj.org_id, "name": obj.org.name}

    @staticmethod
    def resolve_escalated(obj: Application) -> bool:
        return obj.escalated_at is not None

    @staticmethod
    def resolve_employer(obj: Application) -> str:
        return obj.employer_label


class ApplicationStaffOut(ApplicationOut):
    name: str
    phone_masked: str
    gender: str
    birth_date: datetime.date
    job_title: str
    occupation_code: str | None
    platform_role: str
    member_id: int | None
    supervisor_id: int | None

    @staticmethod
    def resolve_occupation_code(obj: Application) -> str | None:
        return obj.occupation_id


class ApplicationPage(Schema):
    items: list[ApplicationStaffOut]
    next_cursor: str | None


class PageQuery(Schema):
    node: str | None = Field(None, max_length=20, description="工会 id；缺省为本人的第一个授权组织")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=100)


class ApplicationQuery(PageQuery):
    status: str | None = Field("pending", max_length=16)
    overdue: bool = False


class RejectIn(Schema):
    reason: str = Field(..., max_length=1000)


class MemberOut(Schema):
    id: int
    member_no: str
    member_no_display: str
    name: str
    union: UnionRef
    status: str
    status_label: str
    joined_on: datetime.date
    employer: str
    employment_form: str
    job_title: str
    id_masked: str
    phone_masked: str

    @staticmethod
    def resolve_union(obj: Member) -> dict:
        return {"id": obj.org_id, "name": obj.org.name}

    @staticmethod
    def resolve_status_label(obj: Member) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_employer(obj: Member) -> str:
        return obj.employer_label


class MemberEventOut(Schema):
    from_status: str
    to_status: str
    action: str
    reason: str
    union: str
    created_at: datetime.datetime

    @staticmethod
    def resolve_union(obj) -> str:
        return obj.org.name


class MemberDetailOut(MemberOut):
    gender: str
    birth_date: datetime.date
    retain_reason: str
    source: str
    history: list[MemberEventOut]


class MemberPage(Schema):
    items: list[MemberOut]
    next_cursor: str | None


class MemberQuery(PageQuery):
    status: str | None = Field(None, max_length=16)
    q: str = Field("", max_length=100, description="身份证号、手机号、会员编号或姓名（精确）")
    direct: bool = False


class RevealIn(Schema):
    field: str = Field(..., max_length=16, description="id_number 或 phone")


class RevealOut(Schema):
    field: str
    value: str


class StatusIn(Schema):
    status: str = Field(..., max_length=16)
    reason: str = Field("", max_length=300)


class RetainIn(Schema):
    reason: str = Field(..., max_length=32, description="retired / unemployed / employer_closed")


class TransferIn(Schema):
    member_id: int | None = Field(None, description="工作人员代办时填写；职工本人办理不填")
    employer_id: int | None = None
    employer: EmployerNewIn | None = None
    employment_form: str = Field(..., max_length=32)
    platform_id: int | None = None
    platform_role: str = Field("", max_length=32)
    job_title: str = Field("", max_length=200)
    division_code: str | None = Field(None, max_length=12, description="未登记的新单位所在地（无单位时为工作地）")
    residence_code: str | None = Field(None, max_length=12, description="居住地（乡镇街道）：新单位未建会时会籍由居住地工会保管")


class TransferOut(Schema):
    id: int
    status: str
    status_label: str
    member_id: int
    member_name_masked: str
    from_union: UnionRef
    to_union: UnionRef
    route_rule: str
    route_reason: str
    requested_at: datetime.datetime
    due_at: datetime.datetime
    completed_at: datetime.datetime | None
    escalated: bool

    @staticmethod
    def resolve_status_label(obj: Transfer) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_member_name_masked(obj: Transfer) -> str:
        return obj.member.name_masked

    @staticmethod
    def resolve_from_union(obj: Transfer) -> dict:
        return {"id": obj.from_org_id, "name": obj.from_org.name}

    @staticmethod
    def resolve_to_union(obj: Transfer) -> dict:
        return {"id": obj.to_org_id, "name": obj.to_org.name}

    @staticmethod
    def resolve_escalated(obj: Transfer) -> bool:
        return obj.escalated_at is not None


class TransferPage(Schema):
    items: list[TransferOut]
    next_cursor: str | None


class TransferQuery(PageQuery):
    direction: str = Field("in", pattern="^(in|out)$")
    status: str | None = Field("pending", max_length=16)


class CorrectionOut(Schema):
    id: int
    status: str
    member_id: int
    member_name_masked: str
    changes: dict
    reason: str
    has_evidence: bool
    created_at: datetime.datetime
    reject_reason: str

    @staticmethod
    def resolve_member_name_masked(obj: ChangeRequest) -> str:
        return obj.member.name_masked

    @staticmethod
    def resolve_has_evidence(obj: ChangeRequest) -> bool:
        return bool(obj.evidence)


class CorrectionPage(Schema):
    items: list[CorrectionOut]
    next_cursor: str | None


class DecideIn(Schema):
    approve: bool
    reason: str = Field("", max_length=1000)


class MyMembershipOut(Schema):
    member: MemberOut | None
    applications: list[ApplicationOut]
    pending_transfer: TransferOut | None


class CardOut(Schema):
    member_no: str
    member_no_display: str
    name: str
    union: UnionRef
    joined_on: datetime.date
    status: str
    qr_token: str
    expires_at: datetime.datetime


class CardVerifyOut(Schema):
    status: str = Field(..., description="valid / expired / revoked / invalid")
    name_masked: str | None
    union: str | None
    member_no_masked: str | None
    checked_at: datetime.datetime


class PolicyIn(Schema):
    auto_approve: bool | None = None
    decide_within_days: int | None = Field(None, ge=1, le=30)
    routing: list[str] | None = None
    inherit: list[str] = Field([], description="恢复继承上级设置的项目：auto_approve / decide_within_days / routing")


class PolicyOut(Schema):
    org_id: int
    auto_approve: bool
    decide_within_days: int
    routing: list[str]


class DailyOut(Schema):
    day: datetime.date
    new_members: int


class MembershipStatsOut(Schema):
    org_id: int
    scope: str
    members: int
    by_status: dict[str, int]
    gig_members: int
    applications_pending: int
    applications_overdue: int
    applications_decided: int
    transfers_pending: int
    approval_hours_median: float | None = Field(None, description="中位审批用时（小时，按分档上限）")
    approval_hours_p90: float | None
    workers_at_counted_employers: int
    join_rate: float | None = Field(None, description="入会率 = 职工人数已知单位的会员数 / 职工人数")
    new_members_daily: list[DailyOut]


class ChildStatsOut(Schema):
    org: UnionRef
    members: int
    gig_members: int
    applications_pending: int
    applications_overdue: int
    join_rate: float | None

    @staticmethod
    def resolve_org(obj: dict) -> dict:
        return {"id": obj["org"].pk, "name": obj["org"].name}


class ImportOut(Schema):
    id: int
    status: str
    status_label: str
    union: UnionRef
    original_name: str
    file_format: str
    encoding: str
    error: str
    total_rows: int
    valid_rows: int
    error_rows: int
    committed_rows: int
    skipped_rows: int
    processed_rows: int
    percent: int
    error_report_url: str | None
    created_at: datetime.datetime
    finished_at: datetime.datetime | None

    @staticmethod
    def resolve_status_label(obj: RosterImport) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_union(obj: RosterImport) -> dict:
        return {"id": obj.org_id, "name": obj.org.name}

    @staticmethod
    def resolve_percent(obj: RosterImport) -> int:
        from .imports import import_progress

        return int(import_progress(obj)["percent"])

    @staticmethod
    def resolve_error_report_url(obj: RosterImport) -> str | None:
        if obj.error_rows:
            return f"/api/v1/membership/imports/{obj.pk}/errors"
        return None


# --- The worker ------------------------------------------------------------------------------------


@router.post("/membership/applications", response={200: ApplicationOut, 201: ApplicationOut, **ERRORS},
             summary="一键入会：提交入会申请（重复提交返回同一申请，状态码200）")
def application_submit(request, payload: ApplicationIn):
    user = _worker(request)
    ratelimit.check("join_user_hour", str(user.pk), "提交过于频繁，请稍后再试")
    app, created = services.application_submit(
        actor=user, name=payload.name, id_number=payload.id_number, employment_form=payload.employment_form,
        consent=payload.consent, employer_id=payload.employer_id,
        employer=payload.employer.dict() if payload.employer else None, occupation_code=payload.occupation_code,
        platform_id=payload.platform_id, platform_role=payload.platform_role, job_title=payload.job_title,
        division_code=payload.division_code,
    )
    return Status(201 if created else 200, app)


@router.post("/membership/applications/{application_id}/withdraw", response={200: ApplicationOut, **ERRORS},
             summary="职工撤回自己待审批的入会申请")
def application_withdraw(request, application_id: str):
    user = _worker(request)
    app = selectors.my_application_get(user, application_id)
    return services.application_withdraw(actor=user, application=app)


@router.get("/me/membership", response={200: MyMembershipOut, **ERRORS}, summary="我的会籍与入会申请")
def my_membership(request):
    user = _worker(request)
    member = selectors.my_member(user)
    pending = None
    if member is not None:
        pending = selectors.member_pending_transfer(member)
    return {"member": member, "applications": selectors.my_applications(user), "pending_transfer": pending}


class ClaimIn(Schema):
    id_number: str = Field(..., max_length=40)


@router.post("/me/membership/claim", response={200: MemberOut, **ERRORS},
             summary="认领会籍：花名册登记了本人手机号时，核对身份证号后关联到本账户")
def membership_claim(request, payload: ClaimIn):
    user = _worker(request)
    ratelimit.check("join_user_hour", str(user.pk), "尝试过于频繁，请稍后再试")
    return services.member_claim(actor=user, id_number=payload.id_number)


@router.get("/me/card", response={200: CardOut, **ERRORS}, summary="电子会员卡（二维码令牌短期有效）")
def my_card(request):
    user = _worker(request)
    member = selectors.my_member(user)
    if member is None or member.status not in services.card_statuses():
        raise NotFound("有效的会员卡")
    token, expires_at = cards.card_token_issue(member)
    return {"member_no": member.member_no, "member_no_display": member.member_no_display, "name": member.name,
            "union": {"id": member.org_id, "name": member.org.name}, "joined_on": member.joined_on,
            "status": member.status, "qr_token": token, "expires_at": expires_at}


@router.get("/cards/verify", response={200: CardVerifyOut, **ERRORS},
            summary="服务网点核验会员卡二维码（有效/过期/已作废）")
def card_verify(request, token: str = Query(..., max_length=300)):
    ratelimit.check("card_verify_min", str(request.user.pk), "核验过于频繁，请稍后再试")
    return cards.card_verify(token)


# --- Transfers -------------------------------------------------------------------------------------


@router.post("/membership/transfers", response={200: TransferOut, 201: TransferOut, **ERRORS},
             summary="会员关系接转（换工作）：由接收工会办理，原工会无需审批")
def transfer_request(request, payload: TransferIn):
    user = request.user
    if payload.member_id is not None:
        _staff(request)
        member = selectors.member_get(actor=user, member_id=payload.member_id)
    else:
        _worker(request)
        ratelimit.check("join_user_hour", str(user.pk), "提交过于频繁，请稍后再试")
        member = selectors.my_member(user)
        if member is None:
            raise NotFound("会员信息")
    transfer, created = services.transfer_request(
        actor=user, member=member, employment_form=payload.employment_form, employer_id=payload.employer_id,
        employer=payload.employer.dict() if payload.employer else None, platform_id=payload.platform_id,
        platform_role=payload.platform_role, job_title=payload.job_title, division_code=payload.division_code,
        residence_code=payload.residence_code,
    )
    return Status(201 if created else 200, transfer)


@router.get("/membership/transfers", response={200: TransferPage, **ERRORS}, summary="转入/转出的会员关系接转")
def transfer_list(request, params: Query[TransferQuery]):
    node = _node(request, params.node)
    items, next_cursor = selectors.transfer_list(actor=request.user, node=node, direction=params.direction,
                                                 status=params.status, cursor=params.cursor, limit=params.limit)
    return {"items": items, "next_cursor": next_cursor}


def _transfer_for(request, transfer_id: str) -> Transfer:
    if request.user.kind == User.Kind.WORKER:
        return selectors.my_transfer_get(request.user, transfer_id)
    return selectors.transfer_get(actor=request.user, transfer_id=transfer_id)


@router.post("/membership/transfers/{transfer_id}/accept", response={200: MemberOut, **ERRORS},
             summary="接收工会办理转入")
def transfer_accept(request, transfer_id: str):
    _staff(request)
    transfer = selectors.transfer_get(actor=request.user, transfer_id=transfer_id)
    return services.transfer_accept(actor=request.user, transfer=transfer)


@router.post("/membership/transfers/{transfer_id}/cancel", response={200: TransferOut, **ERRORS},
             summary="取消接转（会员本人或接收工会）")
def transfer_cancel(request, transfer_id: str):
    transfer = _transfer_for(request, transfer_id)
    return services.transfer_cancel(actor=request.user, transfer=transfer)


# --- Staff: applications ----------------------------------------------------------------------------


@router.get("/membership/applications", response={200: ApplicationPage, **ERRORS},
            summary="入会审批队列（按办理时限排序，游标分页）")
def application_list(request, params: Query[ApplicationQuery]):
    node = _node(request, params.node)
    items, next_cursor = selectors.application_list(actor=request.user, node=node, status=params.status or None,
                                                    overdue=params.overdue, cursor=params.cursor, limit=params.limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/membership/board", response={200: ApplicationPage, **ERRORS},
            summary="督办：下级工会超时未办的入会申请")
def application_board(request, params: Query[PageQuery]):
    node = _node(request, params.node)
    items, next_cursor = selectors.application_board(actor=request.user, node=node, cursor=params.cursor,
                                                     limit=params.limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/membership/applications/{application_id}", response={200: ApplicationStaffOut, **ERRORS},
            summary="入会申请详情")
def application_detail(request, application_id: str):
    _staff(request)
    return selectors.application_get(actor=request.user, application_id=application_id)


@router.post("/membership/applications/{application_id}/approve", response={200: MemberOut, **ERRORS},
             summary="批准入会（生成会员编号；重复点击返回同一会员）")
def application_approve(request, application_id: str):
    _staff(request)
    app = selectors.application_get(actor=request.user, application_id=application_id)
    return services.application_approve(actor=request.user, application=app)


@router.post("/membership/applications/{application_id}/reject", response={200: ApplicationStaffOut, **ERRORS},
             summary="不予批准（原因职工可见）")
def application_reject(request, application_id: str, payload: RejectIn):
    _staff(request)
    app = selectors.application_get(actor=request.user, application_id=application_id)
    return services.application_reject(actor=request.user, application=app, reason=payload.reason)


# --- Staff: members -------------------------------------------------------------------------------


@router.get("/membership/members", response={200: MemberPage, **ERRORS}, summary="会员名册（游标分页，信息脱敏）")
def member_list(request, params: Query[MemberQuery]):
    node = _node(request, params.node)
    items, next_cursor = selectors.member_list(actor=request.user, node=node, status=params.status, q=params.q,
                                               cursor=params.cursor, limit=params.limit, direct=params.direct)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/membership/members/{member_id}", response={200: MemberDetailOut, **ERRORS}, summary="会员详情与会籍变动记录")
def member_detail(request, member_id: str):
    _staff(request)
    member = selectors.member_get(actor=request.user, member_id=member_id)
    member.history = selectors.member_history(member)
    return member


@router.post("/membership/members/{member_id}/reveal", response={200: RevealOut, **ERRORS},
             summary="查看完整身份证号或手机号（留痕审计，限次数）")
def member_reveal(request, member_id: str, payload: RevealIn):
    _staff(request)
    member = selectors.member_get(actor=request.user, member_id=member_id)
    value = services.member_reveal(actor=request.user, member=member, field=payload.field)
    return {"field": payload.field, "value": value}


@router.post("/membership/members/{member_id}/status", response={200: MemberOut, **ERRORS},
             summary="暂停、恢复、退会或登记去世")
def member_status(request, member_id: str, payload: StatusIn):
    _staff(request)
    member = selectors.member_get(actor=request.user, member_id=member_id)
    return services.member_set_status(actor=request.user, member=member, status=payload.status, reason=payload.reason)


@router.post("/membership/members/{member_id}/retain", response={200: MemberOut, **ERRORS},
             summary="保留会籍（退休、失业；单位关闭时由上级工会保管）")
def member_retain(request, member_id: str, payload: RetainIn):
    _staff(request)
    member = selectors.member_get(actor=request.user, member_id=member_id)
    return services.member_retain(actor=request.user, member=member, reason=payload.reason)


# --- Staff: corrections ---------------------------------------------------------------------------


@router.get("/membership/corrections", response={200: CorrectionPage, **ERRORS}, summary="会员信息更正待审核")
def correction_list(request, params: Query[PageQuery]):
    node = _node(request, params.node)
    items, next_cursor = selectors.change_request_list(actor=request.user, node=node, cursor=params.cursor,
                                                       limit=params.limit)
    return {"items": items, "next_cursor": next_cursor}


@router.post("/membership/corrections/{correction_id}/decide", response={200: CorrectionOut, **ERRORS},
             summary="审核信息更正")
def correction_decide(request, correction_id: str, payload: DecideIn):
    _staff(request)
    cr = selectors.change_request_get(actor=request.user, change_request_id=correction_id)
    return services.change_request_decide(actor=request.user, change_request=cr, approve=payload.approve,
                                          reason=payload.reason)


@router.post("/me/membership/corrections", response={201: CorrectionOut, **ERRORS},
             summary="会员提交信息更正（更正身份证号须上传证明材料）")
def correction_submit(request, name: Form[str] = None, phone: Form[str] = None, employer_name: Form[str] = None,
                      job_title: Form[str] = None, id_number: Form[str] = None, reason: Form[str] = "",
                      evidence: File[UploadedFile] = None):
    user = _worker(request)
    ratelimit.check("join_user_hour", str(user.pk), "提交过于频繁，请稍后再试")
    member = selectors.my_member(user)
    if member is None:
        raise NotFound("会员信息")
    changes = {k: v for k, v in {"name": name, "phone": phone, "employer_name": employer_name,
                                 "job_title": job_title, "id_number": id_number}.items() if v not in (None, "")}
    cr = services.change_request_submit(actor=user, member=member, changes=changes, reason=reason or "",
                                        evidence=evidence)
    return Status(201, cr)


# --- Staff: policy and numbers ----------------------------------------------------------------------


@router.get("/membership/policy/{org_id}", response={200: PolicyOut, **ERRORS}, summary="入会政策（含继承）")
def policy_get(request, org_id: str):
    org = _node(request, org_id)
    policy = services.policy_for(org)
    return {"org_id": org.pk, **policy.__dict__}


@router.put("/membership/policy/{org_id}", response={200: PolicyOut, **ERRORS},
            summary="设置入会政策：自动批准、审批时限、受理规则顺序（管理员）")
def policy_put(request, org_id: str, payload: PolicyIn):
    org = _node(request, org_id)
    services.policy_set(actor=request.user, org=org, auto_approve=payload.auto_approve,
                        decide_within_days=payload.decide_within_days, routing_rules=payload.routing,
                        inherit=payload.inherit)
    policy = services.policy_for(org)
    return {"org_id": org.pk, **policy.__dict__}


@router.get("/membership/stats", response={200: MembershipStatsOut, **ERRORS}, summary="会员统计（来自汇总表）")
def membership_stats(request, node: str | None = Query(None, max_length=20), days: int = Query(30, ge=1, le=366)):
    org = _node(request, node)
    return {"org_id": org.pk, **selectors.membership_stats(actor=request.user, node=org, days=days)}


@router.get("/membership/stats/children", response={200: list[ChildStatsOut], **ERRORS}, summary="按下级组织的会员统计")
def membership_stats_children(request, node: str | None = Query(None, max_length=20)):
    org = _node(request, node)
    return selectors.child_breakdown(actor=request.user, node=org)


# --- Staff: roster import ---------------------------------------------------------------------------


@router.post("/membership/imports", response={202: ImportOut, **ERRORS},
             summary="上传花名册（.xlsx/.csv），后台校验；返回任务")
def import_create(request, org_id: Form[int], file: File[UploadedFile], employer_id: Form[int] = None):
    from gonghui.orgs.selectors import employer_get

    from .imports import import_create as create

    _staff(request)
    org = org_get(actor=request.user, org_id=org_id)
    employer = employer_get(actor=request.user, employer_id=employer_id) if employer_id else None
    job = create(actor=request.user, org=org, upload=file, employer=employer)
    job.refresh_from_db()
    return Status(202, job)


@router.get("/membership/imports/{import_id}", response={200: ImportOut, **ERRORS}, summary="导入进度与结果")
def import_detail(request, import_id: str):
    _staff(request)
    return selectors.import_get(actor=request.user, import_id=import_id)


@router.post("/membership/imports/{import_id}/commit", response={202: ImportOut, **ERRORS},
             summary="确认导入校验通过的行（后台任务）")
def import_commit(request, import_id: str):
    from .imports import import_commit as commit

    _staff(request)
    job = selectors.import_get(actor=request.user, import_id=import_id)
    job = commit(actor=request.user, job=job)
    job.refresh_from_db()
    return Status(202, job)


@router.get("/membership/imports/{import_id}/errors", response={200: None, **ERRORS},
            summary="下载错误报告（CSV，逐行说明）")
def import_errors(request, import_id: str):
    from .imports import error_report

    _staff(request)
    job = selectors.import_get(actor=request.user, import_id=import_id)
    response = StreamingHttpResponse(error_report(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="roster-errors-{job.pk}.csv"'
    return response


# --- Reference: occupations -----------------------------------------------------------------------


class OccupationOut(Schema):
    code: str
    name: str


@router.get("/occupations/search", response={200: list[OccupationOut], **ERRORS},
            summary="搜索职业（2022版职业分类大典，名称、拼音首字母或代码）")
def occupation_search(request, q: str = Query(..., min_length=1, max_length=50), limit: int = Query(20, ge=1, le=50)):
    from gonghui.orgs.models import Occupation

    q = q.strip()
    qs = Occupation.objects.filter(level=4)
    if q[:1].isdigit():
        qs = qs.filter(code__startswith=q)
    elif q.isascii():
        qs = qs.filter(name_initials__startswith=q.lower())
    else:
        qs = qs.filter(name__contains=q)
    return list(qs.order_by("code")[:limit])
