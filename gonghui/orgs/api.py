"""Union tree and employer API. Every id from the request is looked up inside the actor's scope."""

from __future__ import annotations

import datetime

from ninja import Field, Query, Router, Schema, Status

from gonghui.accounts.api import ErrorOut
from gonghui.core.errors import PermissionDenied

from . import selectors, services
from .models import Employer, OrgMove, OrgUnit

router = Router(tags=["工会组织与用人单位"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


class OrgOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    parent_id: int | None
    depth: int
    division_code: str | None
    province_code: str
    is_placeholder: bool
    may_have_children: bool

    @staticmethod
    def resolve_division_code(obj: OrgUnit) -> str | None:
        return obj.division_id

    @staticmethod
    def resolve_may_have_children(obj: OrgUnit) -> bool:
        return obj.child_seq > 0


class AncestorOut(Schema):
    id: int
    name: str
    kind: str
    in_scope: bool


class OrgDetailOut(OrgOut):
    division_name: str | None
    industry: str
    chair_name: str
    founded_on: datetime.date | None
    term_ends_on: datetime.date | None
    ancestors: list[AncestorOut]
    my_rank: int


class OrgPage(Schema):
    items: list[OrgOut]
    next_cursor: str | None


class StatsOut(Schema):
    org_id: int
    scope: str = Field(..., description="subtree: the node and everything below it; node: the node alone (a grant without descendants)")
    unions: int
    grassroots_unions: int
    employers: int
    workers: int
    staff: int
    members: dict[str, int]


class EmployerOut(Schema):
    id: int
    name: str
    uscc: str | None
    division_code: str
    division_name: str
    address: str
    industry: str
    employee_count: int
    is_platform: bool
    org_id: int
    org_name: str
    has_own_union: bool

    @staticmethod
    def resolve_division_code(obj: Employer) -> str:
        return obj.division_id

    @staticmethod
    def resolve_division_name(obj: Employer) -> str:
        return obj.division.name

    @staticmethod
    def resolve_org_name(obj: Employer) -> str:
        return obj.org.name


class EmployerPublicOut(Schema):
    """What a worker sees when looking for an employer to join."""

    id: int
    name: str
    uscc: str | None
    division_code: str
    division_name: str

    @staticmethod
    def resolve_division_code(obj: Employer) -> str:
        return obj.division_id

    @staticmethod
    def resolve_division_name(obj: Employer) -> str:
        return obj.division.name


class EmployerPage(Schema):
    items: list[EmployerOut]
    next_cursor: str | None


class UnionIn(Schema):
    parent_id: int
    name: str = Field(..., max_length=1000)
    kind: str
    division_code: str | None = None
    industry: str = ""
    chair_name: str = ""
    founded_on: str | None = None
    employer_ids: list[int] = []


class UnionPatch(Schema):
    name: str | None = Field(None, max_length=1000)
    division_code: str | None = None
    industry: str | None = None
    chair_name: str | None = None
    founded_on: str | None = None
    term_ends_on: str | None = None


class EmployerIn(Schema):
    org_id: int
    name: str = Field(..., max_length=1000)
    uscc: str
    division_code: str
    address: str = ""
    industry: str = ""
    employee_count: int = 0
    is_platform: bool = False


class EmployerPatch(Schema):
    name: str | None = Field(None, max_length=1000)
    uscc: str | None = None
    division_code: str | None = None
    address: str | None = None
    industry: str | None = None
    employee_count: int | None = None
    is_platform: bool | None = None
    org_id: int | None = None


class MoveIn(Schema):
    new_parent_id: int


class MoveOut(Schema):
    id: int
    node_id: int
    old_parent_id: int
    new_parent_id: int
    status: str
    error: str


class GrantIn(Schema):
    username: str
    role: str
    include_descendants: bool = True


class GrantOut(Schema):
    id: int
    username: str
    display_name: str
    role: str
    include_descendants: bool
    org_id: int

    @staticmethod
    def resolve_username(obj) -> str:
        return obj.user.username

    @staticmethod
    def resolve_display_name(obj) -> str:
        return obj.user.display_name


class StaffUserIn(Schema):
    username: str
    display_name: str


class StaffUserOut(Schema):
    id: int
    username: str
    initial_password: str


class AuditOut(Schema):
    id: int
    created_at: datetime.datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    org_id: int | None
    before: dict | None
    after: dict | None
    ip: str

    @staticmethod
    def resolve_actor(obj) -> str:
        return obj.actor_label


class AuditPage(Schema):
    items: list[AuditOut]
    next_cursor: str | None


class PageQuery(Schema):
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=100)


class SearchQuery(Schema):
    q: str = Field(..., max_length=200)
    limit: int = Field(20, ge=1, le=100)


def _staff_only(request) -> None:
    if selectors.actor_scope(request.user).is_empty:
        raise PermissionDenied("仅限工会工作人员使用")


def _detail(request, org: OrgUnit) -> OrgUnit:
    # Returned as the model with extra attributes, so OrgOut's resolvers see the object they expect.
    scope = selectors.actor_scope(request.user)
    ancestors = selectors.org_ancestors(org)
    org.division_name = org.division.name if org.division_id else None
    org.ancestors = [{"id": a.pk, "name": a.name, "kind": a.kind, "in_scope": scope.covers(a.path)} for a in ancestors]
    org.my_rank = scope.rank_at(org.path)
    return org


# --- Unions -----------------------------------------------------------------------------------


@router.get("/orgs/search", response={200: list[OrgOut], **ERRORS}, summary="按名称、拼音首字母或区划代码搜索工会")
def org_search(request, params: Query[SearchQuery]):
    _staff_only(request)
    return selectors.org_search(actor=request.user, q=params.q, limit=params.limit)


@router.get("/orgs/{org_id}", response={200: OrgDetailOut, **ERRORS}, summary="工会详情（含上级链）")
def org_detail(request, org_id: str):
    org = selectors.org_get(actor=request.user, org_id=org_id)
    return _detail(request, org)


@router.get("/orgs/{org_id}/children", response={200: OrgPage, **ERRORS}, summary="下级组织（游标分页）")
def org_children(request, org_id: str, params: Query[PageQuery]):
    org = selectors.org_get(actor=request.user, org_id=org_id)
    items, next_cursor = selectors.org_children(actor=request.user, org=org, cursor=params.cursor, limit=params.limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/orgs/{org_id}/stats", response={200: StatsOut, **ERRORS}, summary="本级及下级汇总数（来自汇总表）")
def org_stats(request, org_id: str):
    org = selectors.org_get(actor=request.user, org_id=org_id)
    return {"org_id": org.pk, **selectors.org_stats(actor=request.user, org=org)}


@router.get("/orgs/{org_id}/employers", response={200: EmployerPage, **ERRORS}, summary="辖区内用人单位（游标分页）")
def org_employers(request, org_id: str, params: Query[PageQuery], direct: bool = False):
    org = selectors.org_get(actor=request.user, org_id=org_id)
    items, next_cursor = selectors.employer_list(
        actor=request.user, org=org, cursor=params.cursor, limit=params.limit, direct_only=direct
    )
    return {"items": items, "next_cursor": next_cursor}


@router.get("/orgs/{org_id}/employers/export", response={200: None, **ERRORS}, summary="导出辖区内用人单位（CSV）")
def org_employers_export(request, org_id: str):
    from django.http import StreamingHttpResponse

    from .exports import employer_export

    org = selectors.org_get(actor=request.user, org_id=org_id)
    response = StreamingHttpResponse(employer_export(actor=request.user, org=org), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="employers-{org.pk}.csv"'
    return response


@router.get("/orgs/{org_id}/staff", response={200: list[GrantOut], **ERRORS}, summary="本组织的工作人员及角色")
def org_staff(request, org_id: str):
    org = selectors.org_get(actor=request.user, org_id=org_id)
    return selectors.grant_list(actor=request.user, org=org)


@router.get("/orgs/{org_id}/audit", response={200: AuditPage, **ERRORS}, summary="本组织及下级的审计记录")
def org_audit(request, org_id: str, params: Query[PageQuery]):
    org = selectors.org_get(actor=request.user, org_id=org_id)
    items, next_cursor = selectors.audit_list(actor=request.user, org=org, cursor=params.cursor, limit=params.limit)
    return {"items": items, "next_cursor": next_cursor}


@router.post("/unions", response={201: OrgDetailOut, **ERRORS}, summary="新建工会（基层、联合、行业、区域、平台）")
def union_create(request, payload: UnionIn):
    parent = selectors.org_get(actor=request.user, org_id=payload.parent_id)
    org = services.union_create(
        actor=request.user,
        parent=parent,
        name=payload.name,
        kind=payload.kind,
        division_code=payload.division_code,
        industry=payload.industry,
        chair_name=payload.chair_name,
        founded_on=payload.founded_on,
        employer_ids=payload.employer_ids,
    )
    return Status(201, _detail(request, org))


@router.patch("/unions/{org_id}", response={200: OrgDetailOut, **ERRORS}, summary="修改工会信息")
def union_update(request, org_id: str, payload: UnionPatch):
    org = selectors.org_get(actor=request.user, org_id=org_id)
    org = services.union_update(actor=request.user, org=org, data=payload.dict(exclude_unset=True))
    return _detail(request, org)


@router.post("/orgs/{org_id}/move", response={202: MoveOut, **ERRORS}, summary="调整隶属关系（后台任务）")
def org_move(request, org_id: str, payload: MoveIn):
    node = selectors.org_get(actor=request.user, org_id=org_id)
    new_parent = selectors.org_get(actor=request.user, org_id=payload.new_parent_id)
    move = services.org_move_request(actor=request.user, node=node, new_parent=new_parent)
    move.refresh_from_db()
    return Status(202, move)


@router.get("/moves/{move_id}", response={200: MoveOut, **ERRORS}, summary="迁移任务状态")
def move_detail(request, move_id: str):
    try:
        move = OrgMove.objects.select_related("node").get(pk=int(move_id))
    except (ValueError, OrgMove.DoesNotExist):
        move = None
    scope = selectors.actor_scope(request.user)
    if move is None or not (scope.covers(move.node.path) or scope.covers(move.old_path)):
        from gonghui.core.errors import NotFound

        raise NotFound("迁移任务")
    return move


@router.post("/orgs/{org_id}/grants", response={201: GrantOut, **ERRORS}, summary="授予角色")
def grant_create(request, org_id: str, payload: GrantIn):
    org = selectors.org_get(actor=request.user, org_id=org_id)
    grant = services.grant_role(
        actor=request.user, org=org, username=payload.username, role=payload.role,
        include_descendants=payload.include_descendants,
    )
    return Status(201, grant)


@router.delete("/grants/{grant_id}", response={204: None, **ERRORS}, summary="撤销角色")
def grant_delete(request, grant_id: str):
    grant = selectors.grant_get(actor=request.user, grant_id=grant_id)
    services.grant_revoke(actor=request.user, grant=grant)
    return Status(204, None)


@router.post("/orgs/{org_id}/staff-users", response={201: StaffUserOut, **ERRORS}, summary="新建工作人员账户")
def staff_user_create(request, org_id: str, payload: StaffUserIn):
    org = selectors.org_get(actor=request.user, org_id=org_id)
    user, password = services.staff_user_create(
        actor=request.user, org=org, username=payload.username, display_name=payload.display_name
    )
    return Status(201, {"id": user.pk, "username": user.username, "initial_password": password})


@router.get("/audit", response={200: AuditPage, **ERRORS}, summary="我管辖范围内的审计记录")
def audit(request, params: Query[PageQuery]):
    _staff_only(request)
    items, next_cursor = selectors.audit_list(actor=request.user, cursor=params.cursor, limit=params.limit)
    return {"items": items, "next_cursor": next_cursor}


# --- Employers --------------------------------------------------------------------------------


@router.get("/employers/search", response={200: list[EmployerPublicOut], **ERRORS},
            summary="搜索用人单位（职工入会时查找单位；工作人员限辖区）")
def employer_search(request, params: Query[SearchQuery]):
    public = selectors.actor_scope(request.user).is_empty
    return selectors.employer_search(actor=request.user, q=params.q, limit=params.limit, public=public)


@router.get("/employers/{employer_id}", response={200: EmployerOut, **ERRORS}, summary="用人单位详情")
def employer_detail(request, employer_id: str):
    return selectors.employer_get(actor=request.user, employer_id=employer_id)


@router.post("/employers", response={201: EmployerOut, **ERRORS}, summary="登记用人单位")
def employer_create(request, payload: EmployerIn):
    org = selectors.org_get(actor=request.user, org_id=payload.org_id)
    employer = services.employer_create(
        actor=request.user, org=org, name=payload.name, uscc=payload.uscc, division_code=payload.division_code,
        address=payload.address, industry=payload.industry, employee_count=payload.employee_count,
        is_platform=payload.is_platform,
    )
    return Status(201, selectors.employer_get(actor=request.user, employer_id=employer.pk))


@router.patch("/employers/{employer_id}", response={200: EmployerOut, **ERRORS}, summary="修改用人单位")
def employer_update(request, employer_id: str, payload: EmployerPatch):
    employer = selectors.employer_get(actor=request.user, employer_id=employer_id)
    services.employer_update(actor=request.user, employer=employer, data=payload.dict(exclude_unset=True))
    return selectors.employer_get(actor=request.user, employer_id=employer.pk)
