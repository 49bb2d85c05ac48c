"""Writes: validate, then one transaction with the audit entry and rollup deltas inside it."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from gonghui.analytics import rollups
from gonghui.core.audit import audit_log, diff, snapshot
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.text import name_bigrams, name_initials

from . import validators as v
from .models import (
    CASE_ROLE_RANK,
    CREATABLE_CHILD_KINDS,
    LEAF_KINDS,
    ROLE_RANK,
    TERRITORIAL_KINDS,
    CaseRole,
    Division,
    Employer,
    Grant,
    OrgKind,
    OrgMove,
    OrgUnit,
    Role,
)
from .paths import STEP, ancestor_paths, child_path, depth_of
from .scoping import PARENT_SCOPED, SCOPED
from .selectors import actor_scope, require_rank

ORG_AUDIT_FIELDS = ["name", "kind", "division_id", "industry", "chair_name", "founded_on", "term_ends_on", "parent_id"]
EMPLOYER_AUDIT_FIELDS = ["name", "uscc", "division_id", "address", "industry", "employee_count", "is_platform", "org_id"]


def territory_of(org: OrgUnit) -> Division | None:
    """The division of the nearest ancestor-or-self that has one."""
    if org.division_id:
        return org.division
    for ancestor in reversed(OrgUnit.objects.filter(path__in=ancestor_paths(org.path, include_self=False)).select_related("division").order_by("path")):
        if ancestor.division_id:
            return ancestor.division
    return None


def _check_division_in(division: Division | None, org: OrgUnit, field: str = "division_code") -> None:
    if division is None:
        return
    territory = territory_of(org)
    if territory is not None and not v.division_within(division.code, territory):
        raise ValidationFailed(
            "division_outside", f"行政区划 {division.name}（{division.code}）不在{org.name}的辖区（{territory.name}）内", field=field
        )


def _check_move_territory(node: OrgUnit, new_parent: OrgUnit) -> None:
    """属地管理: a node keeps its territory when it moves. A node without a division (a national
    federation) cannot go under a union that has one."""
    if node.division_id is None and territory_of(new_parent) is not None:
        raise ValidationFailed(
            "division_outside", f"{node.name}未设行政区划（全国性组织），不能移到{new_parent.name}之下", field="new_parent_id"
        )
    _check_division_in(node.division, new_parent, field="new_parent_id")


def _allocate_child_path(parent: OrgUnit) -> str:
    """Hand out the next child path under a row lock (concurrent creates never collide)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orgs_orgunit SET child_seq = child_seq + 1 WHERE id = %s RETURNING child_seq", [parent.pk]
        )
        seq = cursor.fetchone()[0]
    return child_path(parent.path, seq)


def _set_search_fields(obj) -> None:
    obj.name_initials = name_initials(obj.name)
    obj.name_bigrams = name_bigrams(obj.name)


def union_create(
    *,
    actor,
    parent: OrgUnit,
    name: str,
    kind: str,
    division_code: str | None = None,
    industry: str = "",
    chair_name: str = "",
    founded_on=None,
    employer_ids: list[int] | None = None,
) -> OrgUnit:
    require_rank(actor, parent.path, Role.STAFF, "没有在该组织下新建工会的权限")
    name = v.clean_name(name, label="工会名称")
    try:
        kind = OrgKind(kind)
    except ValueError:
        raise ValidationFailed("invalid_kind", "工会类型无效", field="kind") from None
    allowed = CREATABLE_CHILD_KINDS[OrgKind(parent.kind)]
    if kind not in allowed:
        if not allowed:
            raise ValidationFailed("invalid_parent", f"{parent.kind_label}下不能再设立工会组织", field="parent_id")
        raise ValidationFailed(
            "invalid_kind", f"{parent.kind_label}下只能新建：" + "、".join(k.label for k in allowed), field="kind"
        )
    division = v.clean_division(division_code, required=False) or territory_of(parent)
    _check_division_in(division, parent)
    industry = v.clean_text(industry, field="industry", label="行业", max_length=100)
    chair_name = v.clean_text(chair_name, field="chair_name", label="主席姓名", max_length=100)
    founded_on = v.clean_date(founded_on, field="founded_on", label="成立日期")
    employers = _employers_for_union(actor, parent, employer_ids or [])
    if kind in LEAF_KINDS and len(employers) > 1 and kind != OrgKind.JOINT:
        raise ValidationFailed("too_many_employers", "只有联合基层工会可以覆盖多个用人单位", field="employer_ids")
    with transaction.atomic():
        parent = OrgUnit.objects.select_for_update().get(pk=parent.pk)
        # Under the parent's lock, so a double submit or two clerks at once cannot both pass.
        _refuse_duplicate_name(parent, name)
        path = _allocate_child_path(parent)
        org = OrgUnit(
            name=name,
            kind=kind,
            parent=parent,
            path=path,
            depth=depth_of(path),
            division=division,
            province_code=(division.code[:2] if division else parent.province_code),
            industry=industry,
            chair_name=chair_name,
            founded_on=founded_on,
        )
        _set_search_fields(org)
        org.save()
        rollups.rollup_add(parent.path, {rollups.UNIONS: 1, rollups.GRASSROOTS: 1 if kind in LEAF_KINDS else 0})
        audit_log(actor=actor, action="org.create", obj=org, org=org, after=snapshot(org, ORG_AUDIT_FIELDS))
        for employer in employers:
            _employer_reassign(actor, employer, org)
    return org


def _refuse_duplicate_name(parent: OrgUnit, name: str, exclude: int | None = None) -> None:
    siblings = OrgUnit.objects.filter(parent=parent, name=name)
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude)
    if siblings.exists():
        raise Conflict("duplicate_name", f"{parent.name}下已有名为“{name}”的工会，请勿重复建立", field="name")


def _employers_for_union(actor, parent: OrgUnit, employer_ids: list[int]) -> list[Employer]:
    if not employer_ids:
        return []
    try:
        ids = sorted({int(i) for i in employer_ids})
    except (TypeError, ValueError):
        raise ValidationFailed("invalid_employer", "用人单位编号无效", field="employer_ids") from None
    employers = list(
        Employer.objects.filter(actor_scope(actor).q("org_path"), pk__in=ids).select_related("org", "division")
    )
    if len(employers) != len(ids):
        raise NotFound("用人单位", field="employer_ids")
    for employer in employers:
        if employer.org.kind in LEAF_KINDS:
            raise ValidationFailed(
                "employer_has_union", f"{employer.name}已有工会（{employer.org.name}），不能重复建会", field="employer_ids"
            )
        # The employer moves down into its new union: it is registered at the parent or above it, or below it.
        if not (employer.org_path.startswith(parent.path) or parent.path.startswith(employer.org_path)):
            raise ValidationFailed(
                "employer_elsewhere", f"{employer.name}登记在{employer.org.name}，不属于{parent.name}", field="employer_ids"
            )
        _check_division_in(employer.division, parent, field="employer_ids")
    return employers


def union_update(*, actor, org: OrgUnit, data: dict) -> OrgUnit:
    require_rank(actor, org.path, Role.STAFF, "没有修改该工会的权限")
    changes: dict = {}
    if "name" in data:
        changes["name"] = v.clean_name(data["name"], label="工会名称")
    if "division_code" in data:
        if org.kind in TERRITORIAL_KINDS and data["division_code"] != org.division_id:
            raise ValidationFailed(
                "territorial_division", "地方总工会和乡镇（街道）工会按行政区划设立，其行政区划不能修改", field="division_code"
            )
        division = v.clean_division(data["division_code"], required=False)
        if org.parent_id:
            _check_division_in(division, org.parent)
        changes["division"] = division
    if "industry" in data:
        changes["industry"] = v.clean_text(data["industry"], field="industry", label="行业", max_length=100)
    if "chair_name" in data:
        changes["chair_name"] = v.clean_text(data["chair_name"], field="chair_name", label="主席姓名", max_length=100)
    if "founded_on" in data:
        changes["founded_on"] = v.clean_date(data["founded_on"], field="founded_on", label="成立日期")
    if "term_ends_on" in data:
        changes["term_ends_on"] = v.clean_date(data["term_ends_on"], field="term_ends_on", label="届期届满日期")
    with transaction.atomic():
        if "name" in changes and org.parent_id:
            parent = OrgUnit.objects.select_for_update().get(pk=org.parent_id)
            _refuse_duplicate_name(parent, changes["name"], exclude=org.pk)
        org = OrgUnit.objects.select_for_update().get(pk=org.pk)
        before = snapshot(org, ORG_AUDIT_FIELDS)
        for key, value in changes.items():
            setattr(org, key, value)
        _set_search_fields(org)
        org.save()
        b, a = diff(before, snapshot(org, ORG_AUDIT_FIELDS))
        if a:
            audit_log(actor=actor, action="org.update", obj=org, org=org, before=b, after=a)
    return org


# --- Employers --------------------------------------------------------------------------------


def employer_create(
    *,
    actor,
    org: OrgUnit,
    name: str,
    uscc: str | None,
    division_code: str,
    address: str = "",
    industry: str = "",
    employee_count=0,
    is_platform: bool = False,
) -> Employer:
    require_rank(actor, org.path, Role.STAFF, "没有在该组织下登记用人单位的权限")
    name = v.clean_name(name, label="单位名称")
    code = v.clean_uscc(uscc, required=True)
    division = v.clean_division(division_code)
    _check_employer_home(org, division)
    if Employer.objects.filter(uscc=code).exists():
        raise Conflict("duplicate_uscc", f"统一社会信用代码 {code} 已登记，请搜索该单位", field="uscc")
    employer = Employer(
        name=name,
        uscc=code,
        division=division,
        address=v.clean_text(address, field="address", label="地址", max_length=300),
        industry=v.clean_text(industry, field="industry", label="行业", max_length=100),
        employee_count=v.clean_count(employee_count, field="employee_count", label="职工人数"),
        is_platform=bool(is_platform),
        org=org,
        org_path=org.path,
        province_code=division.code[:2],
    )
    _set_search_fields(employer)
    try:
        with transaction.atomic():
            employer.save()
            rollups.rollup_add(org.path, {rollups.EMPLOYERS: 1, rollups.WORKERS: employer.employee_count})
            audit_log(actor=actor, action="employer.create", obj=employer, org=org,
                      after=snapshot(employer, EMPLOYER_AUDIT_FIELDS))
    except IntegrityError:
        raise Conflict("duplicate_uscc", f"统一社会信用代码 {code} 已登记，请搜索该单位", field="uscc") from None
    return employer


def employer_update(*, actor, employer: Employer, data: dict) -> Employer:
    require_rank(actor, employer.org_path, Role.STAFF, "没有修改该用人单位的权限")
    changes: dict = {}
    if "name" in data:
        changes["name"] = v.clean_name(data["name"], label="单位名称")
    if "uscc" in data:
        code = v.clean_uscc(data["uscc"], required=True)
        if Employer.objects.filter(uscc=code).exclude(pk=employer.pk).exists():
            raise Conflict("duplicate_uscc", f"统一社会信用代码 {code} 已被其他单位使用", field="uscc")
        changes["uscc"] = code
    if "division_code" in data:
        division = v.clean_division(data["division_code"])
        changes["division"] = division
        changes["province_code"] = division.code[:2]
    if "address" in data:
        changes["address"] = v.clean_text(data["address"], field="address", label="地址", max_length=300)
    if "industry" in data:
        changes["industry"] = v.clean_text(data["industry"], field="industry", label="行业", max_length=100)
    if "employee_count" in data:
        if data["employee_count"] is None:
            raise ValidationFailed("required", "请填写职工人数（没有职工请填0）", field="employee_count")
        changes["employee_count"] = v.clean_count(data["employee_count"], field="employee_count", label="职工人数")
    if "is_platform" in data:
        if data["is_platform"] is None:
            raise ValidationFailed("required", "请选择是否为平台企业", field="is_platform")
        changes["is_platform"] = bool(data["is_platform"])
    new_org = None
    if data.get("org_id") not in (None, ""):
        from .selectors import org_get

        new_org = org_get(actor=actor, org_id=data["org_id"])
        require_rank(actor, new_org.path, Role.STAFF, "没有把单位划归到该工会的权限")
    if new_org is not None or "division" in changes:
        _check_employer_home(new_org or employer.org, changes.get("division", employer.division),
                             employer=employer, field="division_code" if "division" in changes else "org_id")
    try:
        with transaction.atomic():
            employer = Employer.objects.select_for_update().get(pk=employer.pk)
            before = snapshot(employer, EMPLOYER_AUDIT_FIELDS)
            old_count = employer.employee_count
            for key, value in changes.items():
                setattr(employer, key, value)
            _set_search_fields(employer)
            employer.save()
            if employer.employee_count != old_count:
                rollups.rollup_add(employer.org_path, {rollups.WORKERS: employer.employee_count - old_count})
            if new_org is not None and new_org.pk != employer.org_id:
                _employer_reassign(actor, employer, new_org, audit=False)
            b, a = diff(before, snapshot(employer, EMPLOYER_AUDIT_FIELDS))
            if a:
                audit_log(actor=actor, action="employer.update", obj=employer, org=employer.org, before=b, after=a)
    except IntegrityError:
        raise Conflict("duplicate_uscc", "统一社会信用代码已被其他单位使用", field="uscc") from None
    return employer


def _check_employer_home(org: OrgUnit, division: Division, *, employer: Employer | None = None,
                         field: str = "division_code") -> None:
    """An employer belongs to a provincial or lower union whose territory holds it; a grassroots
    union other than a joint one covers a single employer."""
    if org.kind == OrgKind.NATIONAL:
        raise ValidationFailed("invalid_org", "用人单位应登记在省级及以下工会组织", field="org_id")
    _check_division_in(division, org, field=field)
    if org.kind in LEAF_KINDS and org.kind != OrgKind.JOINT:
        others = Employer.objects.filter(org=org).exclude(pk=employer.pk if employer else None)
        if others.exists():
            raise ValidationFailed("too_many_employers", f"{org.name}已覆盖其他用人单位；只有联合基层工会可以覆盖多个用人单位",
                                   field="org_id")


# Other modules' rows that belong to an employer's union (postings, recruiters…) follow the employer:
# each hook is called as hook(employer, old_path, new_org) inside the move's transaction.
EMPLOYER_MOVE_HOOKS: list = []


def register_employer_move_hook(hook) -> None:
    if hook not in EMPLOYER_MOVE_HOOKS:
        EMPLOYER_MOVE_HOOKS.append(hook)


def _employer_reassign(actor, employer: Employer, org: OrgUnit, audit: bool = True) -> None:
    """Move an employer under another union (e.g. its newly founded union). Inside a transaction."""
    old_path, old_org_id = employer.org_path, employer.org_id
    rollups.rollup_add(old_path, {rollups.EMPLOYERS: -1, rollups.WORKERS: -employer.employee_count})
    employer.org = org
    employer.org_path = org.path
    employer.save(update_fields=["org", "org_path", "updated_at"])
    rollups.rollup_add(org.path, {rollups.EMPLOYERS: 1, rollups.WORKERS: employer.employee_count})
    for hook in EMPLOYER_MOVE_HOOKS:
        hook(employer, old_path, org)
    if audit:
        audit_log(actor=actor, action="employer.reassign", obj=employer, org=org,
                  before={"org_id": old_org_id}, after={"org_id": org.pk})


# --- Staff and roles --------------------------------------------------------------------------


def staff_user_create(*, actor, org: OrgUnit, username: str, display_name: str, password: str | None = None):
    """Create a staff account (then grant it a role). Returns (user, initial password)."""
    require_rank(actor, org.path, Role.ADMIN, "只有管理员可以新建工作人员账户")
    User = get_user_model()
    username = (username or "").strip()
    if not username or len(username) > 150 or not all(ch.isalnum() or ch in "-_.@" for ch in username):
        raise ValidationFailed("invalid_username", "用户名只能包含字母、数字和 - _ . @，最多150个字符", field="username")
    if username.lower() in {u.lower() for u in settings.GONGHUI_DEMO_USERNAMES} or username.lower().startswith("demo-"):
        raise ValidationFailed("reserved_username", "该用户名保留给演示数据，请换一个", field="username")
    display_name = v.clean_name(display_name, field="display_name", label="姓名", max_length=100)
    password = password or secrets.token_urlsafe(12)
    user = User(username=username, display_name=display_name, kind=User.Kind.STAFF, home_org=org)
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed("weak_password", "密码强度不足：" + "；".join(exc.messages), field="password") from None
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            audit_log(actor=actor, action="staff.create", obj=user, org=org, after={"username": username})
    except IntegrityError:
        raise Conflict("duplicate_username", f"用户名 {username} 已被使用", field="username") from None
    return user, password


def grantable_staff(*, actor, username: str):
    """A staff account the actor may give a role to: created in, or already holding a role in, the
    actor's scope. Accounts elsewhere look the same as unknown ones, so names cannot be probed."""
    User = get_user_model()
    scope = actor_scope(actor)
    in_scope = Grant.objects.filter(scope.q("org_path"), user=OuterRef("pk"))
    user = (
        User.objects.filter(username=(username or "").strip(), kind=User.Kind.STAFF, is_active=True)
        .filter(scope.q("home_org__path") | Q(Exists(in_scope)))
        .first()
    )
    if user is None:
        raise NotFound("工作人员账户", field="username")
    return user


def grant_role(*, actor, org: OrgUnit, username: str, role: str, include_descendants: bool = True,
               case_role: str | None = None) -> Grant:
    """Give a staff member a role on a node in the actor's scope, never above the actor's own rank.
    `case_role` (CaseRole; None leaves an existing one as it is) is given only by an admin who holds
    at least that case role over the node (and below it, with descendants)."""
    scope = actor_scope(actor)
    actor_rank = scope.rank_at(org.path)
    if actor_rank < ROLE_RANK[Role.ADMIN]:
        raise PermissionDenied("只有管理员可以授予角色")
    try:
        role = Role(role)
    except ValueError:
        raise ValidationFailed("invalid_role", "角色无效，可选：管理员、工作人员、查看员", field="role") from None
    if ROLE_RANK[role] > actor_rank:
        raise PermissionDenied("不能授予高于自己的角色", code="rank_exceeded")
    # "And its descendants" reaches further than a grant on this node alone: only as far as the actor does.
    if include_descendants and ROLE_RANK[role] > scope.subtree_rank(org.path):
        raise PermissionDenied("您对下级组织没有相应权限，不能授予含下级组织的角色", code="rank_exceeded")
    if case_role is not None:
        try:
            case_role = CaseRole(case_role or "")
        except ValueError:
            raise ValidationFailed("invalid_case_role", "诉求办理角色无效，可选：无、诉求办理、诉求督办质检",
                                   field="case_role") from None
        held = scope.case_subtree_rank(org.path) if include_descendants else scope.case_rank_at(org.path)
        if CASE_ROLE_RANK[case_role] > held:
            raise PermissionDenied("不能授予高于自己的诉求办理角色", code="rank_exceeded")
    user = grantable_staff(actor=actor, username=username)
    if user.pk == actor.pk:
        raise ValidationFailed("self_grant", "不能给自己授权", field="username")
    with transaction.atomic():
        existing = Grant.objects.select_for_update().filter(user=user, org=org).first()
        if existing is not None:
            if _grant_outranks(scope, existing):
                raise PermissionDenied("该人员的现有角色高于您的角色，不能修改", code="rank_exceeded")
            new_case_role = existing.case_role if case_role is None else case_role.value
            b, a = diff({"role": existing.role, "include_descendants": existing.include_descendants,
                         "case_role": existing.case_role},
                        {"role": role.value, "include_descendants": include_descendants, "case_role": new_case_role})
            if not a:
                return existing  # already held exactly so: nothing changes, nothing to record
            existing.role, existing.include_descendants, existing.granted_by = role, include_descendants, actor
            existing.case_role = new_case_role
            existing.save()
            audit_log(actor=actor, action="grant.update", obj=existing, org=org, before=b, after=a)
            return existing
        grant = Grant.objects.create(
            user=user, org=org, org_path=org.path, role=role, include_descendants=include_descendants, granted_by=actor,
            case_role=(case_role or CaseRole.NONE).value,
        )
        rollups.rollup_add(org.path, {rollups.STAFF: 1})
        audit_log(actor=actor, action="grant.create", obj=grant, org=org,
                  after={"user": user.username, "role": role, "include_descendants": include_descendants,
                         "case_role": grant.case_role})
    return grant


def _grant_outranks(scope, grant: Grant) -> bool:
    """The grant holds more than the actor: a higher role, or the same role over a wider subtree."""
    rank = ROLE_RANK[Role(grant.role)]
    if rank > scope.rank_at(grant.org_path):
        return True
    case_rank = CASE_ROLE_RANK[CaseRole(grant.case_role)]
    if case_rank > (scope.case_subtree_rank(grant.org_path) if grant.include_descendants
                    else scope.case_rank_at(grant.org_path)):
        return True
    return grant.include_descendants and rank > scope.subtree_rank(grant.org_path)


def grant_revoke(*, actor, grant: Grant) -> None:
    scope = actor_scope(actor)
    if scope.rank_at(grant.org_path) < ROLE_RANK[Role.ADMIN] or _grant_outranks(scope, grant):
        raise PermissionDenied("没有撤销该授权的权限")
    if grant.user_id == actor.pk:
        raise ValidationFailed("self_revoke", "不能撤销自己的授权", field="grant_id")
    with transaction.atomic():
        org = grant.org
        audit_log(actor=actor, action="grant.revoke", obj=grant, org=org,
                  before={"user": grant.user.username, "role": grant.role})
        grant.delete()
        rollups.rollup_add(org.path, {rollups.STAFF: -1})


# --- Moving a node ----------------------------------------------------------------------------


def org_move_check(*, actor, node: OrgUnit, new_parent: OrgUnit) -> None:
    """Every rule a move must pass, without writing anything (the console uses it to explain which
    search results can be the new parent)."""
    scope = actor_scope(actor)
    if scope.rank_at(node.path) < ROLE_RANK[Role.ADMIN] or scope.rank_at(new_parent.path) < ROLE_RANK[Role.ADMIN]:
        raise PermissionDenied("只有管理员可以在其管辖范围内调整组织隶属关系")
    if node.pk in scope.roots or node.parent_id is None:
        raise PermissionDenied("不能调整自己所在组织的隶属关系，请联系上级工会")
    if new_parent.path.startswith(node.path):
        raise ValidationFailed("move_into_self", "不能把组织移到它自己或它的下级组织之下", field="new_parent_id")
    if new_parent.pk == node.parent_id:
        raise ValidationFailed("same_parent", "该组织已在所选上级组织之下", field="new_parent_id")
    if node.kind in (OrgKind.NATIONAL, OrgKind.PROVINCE, OrgKind.CITY, OrgKind.COUNTY, OrgKind.TOWNSHIP):
        raise ValidationFailed("territorial_move", "地方总工会和乡镇（街道）工会按行政区划设立，不能调整隶属关系", field="node_id")
    allowed = CREATABLE_CHILD_KINDS[OrgKind(new_parent.kind)]
    if node.kind not in allowed:
        raise ValidationFailed("invalid_parent", f"{new_parent.kind_label}下不能设立{node.kind_label}", field="new_parent_id")
    _check_move_territory(node, new_parent)


def org_move_request(*, actor, node: OrgUnit, new_parent: OrgUnit) -> OrgMove:
    """Validate and queue a move; the job `org_move_execute` rewrites every scoped row."""
    org_move_check(actor=actor, node=node, new_parent=new_parent)
    try:
        with transaction.atomic():
            move = OrgMove.objects.create(
                node=node, old_parent_id=node.parent_id, new_parent=new_parent, old_path=node.path, requested_by=actor
            )
            audit_log(actor=actor, action="org.move_request", obj=node, org=node,
                      before={"parent_id": node.parent_id}, after={"parent_id": new_parent.pk})
    except IntegrityError:
        raise Conflict("move_pending", "该组织已有一项迁移正在处理，请稍后再试", field="node_id") from None
    from .tasks import org_move_task

    transaction.on_commit(lambda: org_move_task.enqueue(move.pk))
    return move


def org_move_execute(move_id: int) -> OrgMove:
    """Carry out a queued move in one transaction: paths of the subtree and of every scoped row,
    rollups of old and new ancestors. Idempotent: a finished move is left as it is."""
    with transaction.atomic():
        move = OrgMove.objects.select_for_update().select_related("node", "new_parent").get(pk=move_id)
        if move.status != OrgMove.Status.PENDING:
            return move
        # Lock the node and both parents in path order to avoid deadlocks with other writers.
        ids = sorted({move.node_id, move.new_parent_id, move.old_parent_id})
        locked = {o.pk: o for o in OrgUnit.objects.select_for_update().filter(pk__in=ids).order_by("path")}
        node, new_parent = locked[move.node_id], locked[move.new_parent_id]
        try:
            if new_parent.path.startswith(node.path) or node.parent_id == new_parent.pk:
                raise ValidationFailed("invalid_target", "目标上级组织已无效")
            _check_move_territory(node, new_parent)  # divisions may have changed since the request
        except ValidationFailed as exc:
            move.status, move.error, move.finished_at = OrgMove.Status.FAILED, exc.message, timezone.now()
            move.save()
            return move
        old_path = node.path
        new_path = _allocate_child_path(new_parent)
        subtree_totals = rollups.rollup_read(node.pk)
        subtree_totals[rollups.UNIONS] = subtree_totals.get(rollups.UNIONS, 0) + 1
        if node.kind in LEAF_KINDS:
            subtree_totals[rollups.GRASSROOTS] = subtree_totals.get(rollups.GRASSROOTS, 0) + 1
        rollups.rollup_add(node.parent.path, {k: -val for k, val in subtree_totals.items()})
        depth_delta = (len(new_path) - len(old_path)) // STEP
        with connection.cursor() as cursor:
            for model, path_field in SCOPED:
                table = model._meta.db_table
                column = model._meta.get_field(path_field).column
                extra = ", depth = depth + %s" if model is OrgUnit else ""
                params = [new_path, len(old_path) + 1] + ([depth_delta] if model is OrgUnit else []) + [old_path + "%"]
                cursor.execute(
                    f"UPDATE {table} SET {column} = %s || SUBSTR({column}, %s){extra} WHERE {column} LIKE %s",
                    params,
                )
            for model, path_field, holder_field in PARENT_SCOPED:
                cursor.execute(
                    f"UPDATE {model._meta.db_table} SET {model._meta.get_field(path_field).column} = %s "
                    f"WHERE {model._meta.get_field(holder_field).column} = %s", [new_parent.path, new_path])
        OrgUnit.objects.filter(pk=node.pk).update(parent=new_parent)
        rollups.rollup_add(new_parent.path, subtree_totals)
        rollups.rollup_move(node.pk, node.parent.path, new_parent.path)
        province = new_parent.province_code
        if province and node.province_code != province:
            OrgUnit.objects.filter(path__startswith=new_path).update(province_code=province)
        move.status, move.new_path, move.finished_at = OrgMove.Status.DONE, new_path, timezone.now()
        move.save()
        node.refresh_from_db()
        audit_log(actor=move.requested_by, action="org.move", obj=node, org=node,
                  before={"parent_id": move.old_parent_id, "path": old_path},
                  after={"parent_id": new_parent.pk, "path": new_path})
    return move


def org_move_fail(move_id: int, error: str) -> None:
    OrgMove.objects.filter(pk=move_id, status=OrgMove.Status.PENDING).update(
        status=OrgMove.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )

