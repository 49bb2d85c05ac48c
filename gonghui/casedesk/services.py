"""Case desk writes. Each service checks the actor and the input first, then does the whole change
in one transaction: the case row, a CaseEvent, the audit entry and the rollup deltas.

Statuses move only through `_move`, along TRANSITIONS. Rollups: a case contributes a fixed set of
metric values (`contributions`) to the node that holds it; every service records the difference
between the case's contributions before and after, at the old and the new node, so the totals
always equal a recount (`rebuild.py`) even when a case changes hands.
"""

from __future__ import annotations

import datetime
import re
import secrets
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.accounts.services import normalize_phone
from gonghui.analytics import rollups
from gonghui.core import pii, ratelimit, workdays
from gonghui.core.audit import audit_log
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.text import normalize_name
from gonghui.membership import routing
from gonghui.membership.models import Member, Notice, OrgNotice
from gonghui.orgs.models import CASE_ROLE_RANK, ROLE_RANK, CaseRole, Division, Employer, OrgKind, OrgUnit, Role
from gonghui.orgs.paths import STEP, ancestor_paths
from gonghui.orgs.selectors import actor_scope

from .models import (
    OPEN_STATUSES,
    CallbackLink,
    Case,
    CaseAttachment,
    CaseCategory,
    CaseEvent,
    CaseKind,
    CaseStatus,
    CaseTimeLimit,
    Channel,
    ClusterAlert,
    Difficulty,
)

Action = CaseEvent.Action
HANDLER = CASE_ROLE_RANK[CaseRole.HANDLER]
SUPERVISOR = CASE_ROLE_RANK[CaseRole.SUPERVISOR]

TRANSITIONS: dict[str, set[str]] = {
    # A simple case may be resolved straight from the queue (accepted and resolved in one step).
    CaseStatus.PENDING: {CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED, CaseStatus.PENDING, CaseStatus.MERGED,
                         CaseStatus.WITHDRAWN, CaseStatus.CLOSED},
    CaseStatus.IN_PROGRESS: {CaseStatus.WAITING_WORKER, CaseStatus.RESOLVED, CaseStatus.PENDING, CaseStatus.MERGED,
                             CaseStatus.WITHDRAWN},
    CaseStatus.WAITING_WORKER: {CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED, CaseStatus.MERGED,
                                CaseStatus.WITHDRAWN},
    CaseStatus.RESOLVED: {CaseStatus.CLOSED, CaseStatus.IN_PROGRESS},
    CaseStatus.CLOSED: {CaseStatus.IN_PROGRESS},
    CaseStatus.MERGED: set(),
    CaseStatus.WITHDRAWN: set(),
}

ATTACHMENT_TYPES = {  # magic bytes → (extension, content type)
    b"\xff\xd8\xff": ("jpg", "image/jpeg"),
    b"\x89PNG\r\n\x1a\n": ("png", "image/png"),
    b"%PDF-": ("pdf", "application/pdf"),
}
AMOUNT_MAX = Decimal("1000000000")


# --- Rollup contributions -----------------------------------------------------------------------


def category_group_code(case: Case) -> str:
    category = case.category
    return category.parent.code if category.parent_id else category.code


def contributions(case: Case) -> dict[str, int]:
    """The metric values one case adds to the node that holds it (rebuild.py mirrors this in SQL)."""
    out = {"cases.total": 1, f"cases.status.{case.status}": 1, f"cases.kind.{case.kind}": 1,
           f"cases.cat.{category_group_code(case)}": 1}
    if case.status in OPEN_STATUSES:
        out["cases.open"] = 1
        if case.accept_overdue_at or case.complete_overdue_at:
            out["cases.overdue_open"] = 1
    if case.accepted_at:
        out["cases.accepted"] = 1
        if case.accepted_on_time:
            out["cases.accepted_on_time"] = 1
    if case.resolved_at:
        out["cases.completed"] = 1
        if case.completed_on_time:
            out["cases.completed_on_time"] = 1
        out["cases.money_fen"] = int((case.money_recovered or 0) * 100)
        out["cases.workers_helped"] = case.workers_helped or 0
    if case.satisfaction:
        out["cases.rated"] = 1
        out["cases.satisfaction_sum"] = case.satisfaction
        if case.satisfaction >= 4:
            out["cases.satisfied"] = 1
    return out


def _local_day(moment: datetime.datetime | None):
    return timezone.localtime(moment).date() if moment else None


def _daily(case: Case) -> dict:
    """Per-day contributions: {(day, metric): 1}."""
    out = {}
    if case.created_at:
        out[(_local_day(case.created_at), "cases.new")] = 1
    if case.closed_at and case.status == CaseStatus.CLOSED:
        out[(_local_day(case.closed_at), "cases.closed")] = 1
    return out


@dataclass
class _Before:
    path: str
    values: dict[str, int]
    daily: dict


def _before(case: Case) -> _Before:
    return _Before(case.org_path, contributions(case), _daily(case))


def _record(case: Case, before: _Before | None) -> None:
    """Apply the difference in the case's contributions (at the old node and the new one)."""
    after, after_daily = contributions(case), _daily(case)
    if before is None:
        rollups.rollup_add(case.org_path, after)
        for (day, metric), value in after_daily.items():
            rollups.rollup_add_daily(case.org_path, day, {metric: value})
        return
    if before.path == case.org_path:
        deltas = {k: after.get(k, 0) - before.values.get(k, 0) for k in set(after) | set(before.values)}
        rollups.rollup_add(case.org_path, deltas)
        daily = {k: after_daily.get(k, 0) - before.daily.get(k, 0) for k in set(after_daily) | set(before.daily)}
        for (day, metric), value in daily.items():
            if value:
                rollups.rollup_add_daily(case.org_path, day, {metric: value})
        return
    rollups.rollup_add(before.path, {k: -v for k, v in before.values.items()})
    rollups.rollup_add(case.org_path, after)
    for (day, metric), value in before.daily.items():
        rollups.rollup_add_daily(before.path, day, {metric: -value})
    for (day, metric), value in after_daily.items():
        rollups.rollup_add_daily(case.org_path, day, {metric: value})


# --- Time limits ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    accept_days: int
    complete_days: int
    warn_days: int


def limits_for(org: OrgUnit, difficulty: str) -> Limits:
    """The nearest CaseTimeLimit on the node's province or the national root, else settings."""
    row = (CaseTimeLimit.objects.filter(org__path__in=ancestor_paths(org.path), difficulty=difficulty)
           .order_by("-org__path").values_list("accept_days", "complete_days", "warn_days").first())
    if row is not None:
        return Limits(*row)
    default = settings.GONGHUI_CASE_TIME_LIMITS[difficulty]
    return Limits(default["accept_days"], default["complete_days"], default["warn_days"])


def time_limit_set(*, actor, org: OrgUnit, difficulty: str, accept_days: int, complete_days: int,
                   warn_days: int = 1) -> CaseTimeLimit:
    """National defaults on the root, a province's own on its union; set by that node's admin."""
    if org.kind not in (OrgKind.NATIONAL, OrgKind.PROVINCE):
        raise ValidationFailed("limit_level", "办理时限只能由全国总工会或省级总工会设置", "org")
    if actor_scope(actor).rank_at(org.path) < ROLE_RANK[Role.ADMIN]:
        raise PermissionDenied("只有本级工会管理员可以设置办理时限")
    if difficulty not in Difficulty.values:
        raise ValidationFailed("difficulty_invalid", "难度只能是：一般、难点、特别复杂", "difficulty")
    try:
        accept_days, complete_days, warn_days = int(accept_days), int(complete_days), int(warn_days)
    except (TypeError, ValueError):
        raise ValidationFailed("limit_invalid", "时限应为整数个工作日", "accept_days") from None
    if not 1 <= accept_days <= 10:
        raise ValidationFailed("limit_invalid", "受理时限应为1至10个工作日", "accept_days")
    if not accept_days <= complete_days <= 120:
        raise ValidationFailed("limit_invalid", "办结时限应不少于受理时限、不超过120个工作日", "complete_days")
    if not 0 <= warn_days < complete_days:
        raise ValidationFailed("limit_invalid", "预警天数应小于办结时限", "warn_days")
    with transaction.atomic():
        row, _ = CaseTimeLimit.objects.update_or_create(
            org=org, difficulty=difficulty,
            defaults={"accept_days": accept_days, "complete_days": complete_days, "warn_days": warn_days,
                      "updated_by": actor})
        audit_log(actor=actor, action="case.time_limit", obj=row, org=org, object_repr=f"{org.name}办理时限",
                  after={"difficulty": difficulty, "accept_days": accept_days, "complete_days": complete_days,
                         "warn_days": warn_days})
    return row


def _due(start: datetime.datetime, days: int, warn_days: int) -> tuple[datetime.datetime, datetime.datetime]:
    due = workdays.deadline(start, days)
    warn = workdays.deadline(start, max(0, days - warn_days)) if warn_days else due
    return due, min(warn, due)


def _start_accept_clock(case: Case, now: datetime.datetime, org: OrgUnit) -> None:
    limits = limits_for(org, case.difficulty)
    case.accept_due_at, case.accept_warn_at = _due(now, limits.accept_days, limits.warn_days if limits.accept_days > 1
                                                   else 0)
    case.accept_warned_at = None


def _start_complete_clock(case: Case, now: datetime.datetime) -> None:
    limits = limits_for(case.org, case.difficulty)
    case.complete_due_at, case.complete_warn_at = _due(now, limits.complete_days, limits.warn_days)
    case.complete_warned_at = None


# --- Access --------------------------------------------------------------------------------------


def require_case_role(actor, case_or_path, rank: int = HANDLER, message: str = "") -> None:
    path = case_or_path if isinstance(case_or_path, str) else case_or_path.org_path
    if actor_scope(actor).case_rank_at(path) < rank:
        raise PermissionDenied(message or ("只有有诉求督办质检权限的人员可以执行此操作" if rank >= SUPERVISOR
                                           else "只有承办工会有诉求办理权限的人员可以执行此操作"))


def _lock(case: Case) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("org", "category__parent").get(pk=case.pk)


def _move(case: Case, to_status: str) -> str:
    if to_status not in TRANSITIONS[case.status]:
        raise Conflict("status_invalid", f"诉求当前为「{case.get_status_display()}」，不能"
                       f"{'改为' + CaseStatus(to_status).label}", "status")
    was = case.status
    case.status = to_status
    return was


def _event(case: Case, action: str, actor, *, was: str = "", text: str = "", worker_visible: bool = False,
           from_org: OrgUnit | None = None, to_org: OrgUnit | None = None) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, action=action, actor=actor if getattr(actor, "pk", None) else None, from_status=was or case.status,
        to_status=case.status, from_org=from_org, to_org=to_org, org_path=case.org_path, text=text,
        worker_visible=worker_visible)


def _notify_worker(case: Case, title: str, body: str, link: str = "") -> None:
    if case.worker_id:
        Notice.objects.create(user_id=case.worker_id, title=title[:100], body=body[:500],
                              link=link or f"/cases/{case.pk}/")


def _notify_org(org: OrgUnit, kind: str, title: str, body: str, link: str) -> None:
    OrgNotice.objects.create(org=org, org_path=org.path, kind=kind, title=title[:100], body=body[:500], link=link)


def case_viewed(*, actor, case: Case) -> None:
    """Every staff view of a protected case leaves an audit entry (who opened whose case, when)."""
    if case.protect_identity and actor is not None and getattr(actor, "kind", "") != "worker":
        with transaction.atomic():
            audit_log(actor=actor, action="case.view", obj=case, object_repr=case.number, org=case.org)


def case_reveal_phone(*, actor, case: Case) -> str:
    """The caller's full phone number for a call back: handlers of the case only, never where the
    identity is hidden from the actor, audited and limited per day like member reveals."""
    from .selectors import identity_hidden

    require_case_role(actor, case)
    if identity_hidden(actor, case):
        raise PermissionDenied("该职工要求对本单位工会保密身份，请由上级工会联系职工")
    if not case.phone_encrypted:
        raise NotFound("联系电话", "phone")
    ratelimit.check("pii_reveal_day", str(actor.pk), "今日查看完整个人信息的次数已达上限，如确需查看请联系上级管理员")
    with transaction.atomic():
        audit_log(actor=actor, action="case.reveal", obj=case, object_repr=case.number, org=case.org,
                  after={"field": "phone"})
    return case.phone


# --- Input cleaning ------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value, *, field: str, label: str, min_len: int = 0, max_len: int = 500) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed("text_invalid", f"{label}格式不正确", field)
    text = _CONTROL.sub("", unicodedata.normalize("NFC", value)).replace("\r\n", "\n").strip()
    if len(text) < min_len:
        raise ValidationFailed(f"{field}_required" if not text else f"{field}_too_short",
                               f"请填写{label}" if not text else f"{label}至少{min_len}个字", field)
    if len(text) > max_len:
        raise ValidationFailed(f"{field}_too_long", f"{label}不能超过{max_len}个字（现有{len(text)}个字）", field)
    return text


def _amount(value, *, field: str, label: str, required: bool = False) -> Decimal | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed(f"{field}_required", f"请填写{label}", field)
        return None
    try:
        amount = Decimal(str(value).replace(",", "").replace("，", "").strip())
    except InvalidOperation:
        raise ValidationFailed(f"{field}_invalid", f"{label}应为数字（单位：元）", field) from None
    if not amount.is_finite() or amount < 0 or amount >= AMOUNT_MAX:
        raise ValidationFailed(f"{field}_invalid", f"{label}应在0至10亿元之间", field)
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(f"{field}_invalid", f"{label}最多保留两位小数（分）", field)
    return amount.quantize(Decimal("0.01"))


def _count(value, *, field: str, label: str, low: int, high: int, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{field}_invalid", f"{label}应为整数", field) from None
    if not low <= number <= high:
        raise ValidationFailed(f"{field}_invalid", f"{label}应在{low}至{high}之间", field)
    return number


def category_for(value, province_path: str | None = None) -> CaseCategory:
    """An active item of the taxonomy (by id or code); a group alone is not specific enough."""
    if value in (None, ""):
        raise ValidationFailed("category_required", "请选择诉求分类", "category")
    qs = CaseCategory.objects.select_related("parent").filter(is_active=True)
    category = (qs.filter(pk=int(value)).first() if str(value).isdigit() else qs.filter(code=str(value)).first())
    if category is None or (category.owner_path and not (province_path or "").startswith(category.owner_path)):
        raise ValidationFailed("category_unknown", "诉求分类不存在或已停用，请重新选择", "category")
    if category.parent_id is None and category.children.filter(is_active=True).exists():
        raise ValidationFailed("category_too_broad", f"请在「{category.name}」下选择具体的诉求分类", "category")
    return category


def check_attachment(upload, index: int = 0) -> tuple[str, str]:
    """Sniffs the first bytes (the name and the declared type are ignored); returns (ext, type)."""
    field = "attachments"
    size = getattr(upload, "size", None) or 0
    if size <= 0:
        raise ValidationFailed("attachment_empty", f"第{index + 1}个附件是空文件，请重新选择", field)
    limit = settings.GONGHUI_CASE_ATTACHMENT_MAX_BYTES
    if size > limit:
        raise ValidationFailed("attachment_too_large",
                               f"第{index + 1}个附件超过{limit // (1024 * 1024)}MB，请压缩后再上传", field)
    head = upload.read(8)
    upload.seek(0)
    for magic, found in ATTACHMENT_TYPES.items():
        if head.startswith(magic):
            return found
    raise ValidationFailed("attachment_type", f"第{index + 1}个附件不是 JPG、PNG 图片或 PDF 文件（按文件内容识别）",
                           field)


def _check_attachments(uploads) -> list[tuple]:
    uploads = list(uploads or [])
    if len(uploads) > settings.GONGHUI_CASE_ATTACHMENTS_MAX:
        raise ValidationFailed("attachments_too_many", f"附件最多{settings.GONGHUI_CASE_ATTACHMENTS_MAX}个",
                               "attachments")
    return [(upload, *check_attachment(upload, i)) for i, upload in enumerate(uploads)]


def _save_attachments(case: Case, checked: list[tuple], actor, event: CaseEvent | None) -> None:
    for upload, ext, content_type in checked:
        original = (getattr(upload, "name", "") or f"附件.{ext}").rsplit("/", 1)[-1][:150]
        stem = original.rsplit(".", 1)[0] if "." in original else original
        attachment = CaseAttachment(case=case, event=event, name=f"{stem}.{ext}", content_type=content_type,
                                    size=upload.size, uploaded_by=actor if getattr(actor, "pk", None) else None)
        attachment.file.save(f"{secrets.token_hex(16)}.{ext}", upload, save=False)
        attachment.save()


# --- Intake --------------------------------------------------------------------------------------


def _employer_and_place(employer_id, employer: dict | None, division_code) -> tuple[Employer | None, str,
                                                                                     Division | None]:
    found = None
    name = ""
    if employer_id not in (None, ""):
        try:
            found = Employer.objects.select_related("org", "division").get(pk=int(employer_id))
        except (Employer.DoesNotExist, TypeError, ValueError):
            raise ValidationFailed("employer_unknown", "所选用人单位不存在，请重新搜索选择", "employer_id") from None
    elif employer:
        if not isinstance(employer, dict):
            raise ValidationFailed("employer_invalid", "用人单位格式不正确", "employer")
        name = normalize_name(clean_text(employer.get("name"), field="employer.name", label="用人单位名称",
                                         min_len=2, max_len=200))
        division_code = employer.get("division_code") or division_code
    division = None
    if division_code not in (None, ""):
        division = Division.objects.filter(code=str(division_code).strip()).first()
        if division is None:
            raise ValidationFailed("division_unknown", "所在地区代码不存在，请从列表中选择", "division_code")
    if found is None and division is None:
        raise ValidationFailed("place_required", "请选择用人单位，或填写单位名称并选择所在地（乡镇街道）", "division_code")
    return found, name, division


def case_route(*, employer: Employer | None, employer_name: str = "", division: Division | None) -> routing.Route:
    place = routing.Place(employer=employer, division=division, employment_form="labor_contract",
                          employer_name=employer_name)
    return routing.route(place, rules=list(settings.GONGHUI_CASE_ROUTING))


def _intake_org(actor, fallback: OrgUnit) -> OrgUnit:
    """Where an agent's call comes in: the highest node where they hold a case role."""
    grants = sorted(actor_scope(actor).case_grants, key=lambda g: len(g[0]))
    if not grants:
        return fallback
    return OrgUnit.objects.get(pk=grants[0][3])


def case_create(*, actor, channel: str, category, description: str, kind: str | None = None,
                employer_id=None, employer: dict | None = None, division_code=None, workers_affected=None,
                amount_claimed=None, contact_preference: str = "", protect_identity: bool = False,
                attachments=None, name: str | None = None, phone: str | None = None, external_id: str | None = None,
                org_id=None, difficulty: str | None = None) -> tuple[Case, bool]:
    """A worker files a case (portal), an agent records a call (hotline), or another system sends
    one (API, idempotent on external_id). Returns (case, created)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("请先登录")
    is_worker = actor.kind == User.Kind.WORKER
    if not is_worker and not actor_scope(actor).case_grants:
        raise PermissionDenied("只有职工本人或有诉求办理权限的人员可以登记诉求")
    if external_id not in (None, ""):
        external_id = clean_text(external_id, field="external_id", label="外部编号", min_len=1, max_len=64)
        existing = Case.objects.filter(external_id=external_id).select_related("org", "category").first()
        if existing is not None:
            if _may_resend(actor, existing):
                return existing, False
            raise Conflict("external_id_taken", "该外部编号已被其他诉求使用", "external_id")
    else:
        external_id = None
    if channel not in Channel.values:
        raise ValidationFailed("channel_invalid", "来源渠道无效", "channel")
    if is_worker:
        channel = Channel.PORTAL
    elif channel == Channel.PORTAL:
        raise ValidationFailed("channel_invalid", "工作人员登记的诉求请选择热线、来访或其他系统", "channel")
    description = clean_text(description, field="description", label="诉求内容", min_len=10,
                             max_len=settings.GONGHUI_CASE_DESCRIPTION_MAX)
    found_employer, employer_name, division = _employer_and_place(employer_id, employer, division_code)
    workers_affected = _count(workers_affected, field="workers_affected", label="涉及人数", low=1, high=100000,
                              default=1)
    amount_claimed = _amount(amount_claimed, field="amount_claimed", label="涉及金额")
    contact_preference = clean_text(contact_preference, field="contact_preference", label="联系方式偏好",
                                    max_len=100)
    checked = _check_attachments(attachments)
    # Who: the worker themself, or the caller an agent names.
    member = None
    if is_worker:
        worker = actor
        phone_value = actor.phone
        member = Member.objects.filter(user=actor).first()
        given = normalize_name(clean_text(name, field="name", label="姓名", max_len=50))
        name = (member.name if member else "") or given or actor.display_name
        if not name:
            raise ValidationFailed("name_required", "请填写您的姓名，便于工会与您联系", "name")
    else:
        name = normalize_name(clean_text(name, field="name", label="来电人姓名", min_len=1, max_len=50))
        phone_value = normalize_phone(phone or "") if phone else ""
        worker = User.objects.filter(phone_hash=pii.lookup_hash("phone", phone_value)).first() if phone_value else None
        if phone_value:
            member = Member.objects.filter(phone_hash=pii.lookup_hash("phone", phone_value)).first()
    # Where it goes.
    if org_id not in (None, "") and not is_worker:
        org = OrgUnit.objects.filter(pk=int(org_id) if str(org_id).isdigit() else 0, is_active=True).first()
        if org is None or actor_scope(actor).case_rank_at(org.path) < HANDLER:
            raise NotFound("承办工会", "org_id")
        reason = "由登记人指定承办工会"
    else:
        found = case_route(employer=found_employer, employer_name=employer_name, division=division)
        org, reason = found.org, found.reason.replace("受理", "办理")
    category = category_for(category, org.path[:2 * STEP])
    kind = kind or category.default_kind or CaseKind.PROBLEM
    if kind not in CaseKind.values:
        raise ValidationFailed("kind_invalid", "诉求类型无效", "kind")
    difficulty = difficulty or category.default_difficulty or Difficulty.NORMAL
    if difficulty not in Difficulty.values:
        raise ValidationFailed("difficulty_invalid", "难度只能是：一般、难点、特别复杂", "difficulty")
    if is_worker:
        ratelimit.check("case_user_day", str(actor.pk), "今天提交的诉求过多，请明天再试，紧急情况请拨打12351")
    now = timezone.now()
    case = Case(
        external_id=external_id, kind=kind, category=category, difficulty=difficulty, channel=channel,
        title=description.replace("\n", " ")[:40], description=description, worker=worker, member=member,
        name=name, protect_identity=bool(protect_identity), contact_preference=contact_preference,
        employer=found_employer, employer_name=employer_name or (found_employer.name if found_employer else ""),
        work_division=division or (found_employer.division if found_employer else None),
        workers_affected=workers_affected, amount_claimed=amount_claimed, org=org, org_path=org.path,
        province_code=org.province_code, intake_org=org if is_worker else _intake_org(actor, org),
        route_reason=reason[:300], created_by=actor, status=CaseStatus.PENDING,
    )
    case.set_phone(phone_value)
    _start_accept_clock(case, now, org)
    try:
        with transaction.atomic():
            case.save()
            event = _event(case, Action.CREATE, actor, was="", text=reason, to_org=org)
            _save_attachments(case, checked, actor, event)
            _record(case, None)
            audit_log(actor=actor, action="case.create", obj=case, object_repr=case.number, org=org,
                      after={"channel": channel, "category": category.code, "org_id": org.pk})
            _notify_org(org, "case", "新的职工诉求", f"{case.number}：{category.label}，请在受理期限内受理。",
                        f"/console/cases/{case.pk}/")
            _cluster_check(case)
    except IntegrityError:
        if external_id:  # a concurrent send of the same external id won
            existing = Case.objects.filter(external_id=external_id).select_related("intake_org").first()
            if existing is not None:
                if _may_resend(actor, existing):
                    return existing, False
                raise Conflict("external_id_taken", "该外部编号已被其他诉求使用", "external_id") from None
        raise
    return case, True


def _may_resend(actor, existing: Case) -> bool:
    """Who gets the case already filed under an external id back: the worker who filed it (the portal
    form's idempotency key), or a handler where it came in (another system sending it again)."""
    if actor.kind == User.Kind.WORKER:
        return existing.worker_id == actor.pk
    return actor_scope(actor).case_rank_at(existing.intake_org.path) >= HANDLER


def consultation_close(*, actor, category, question: str, answer: str, name: str = "", phone: str = "",
                       employer_id=None, employer: dict | None = None, division_code=None) -> Case:
    """A question answered during the call: recorded as a consultation, closed at once."""
    if not actor_scope(actor).case_grants:
        raise PermissionDenied("只有有诉求办理权限的人员可以登记热线咨询")
    question = clean_text(question, field="question", label="咨询问题", min_len=4,
                          max_len=settings.GONGHUI_CASE_DESCRIPTION_MAX)
    answer = clean_text(answer, field="answer", label="答复内容", min_len=4, max_len=5000)
    name = normalize_name(clean_text(name, field="name", label="来电人姓名", max_len=50)) or "来电职工"
    org = _intake_org(actor, None)
    category = category_for(category, org.path[:2 * STEP])
    found_employer, employer_name = None, ""
    if employer_id or employer:
        found_employer, employer_name, _division = _employer_and_place(employer_id, employer, division_code)
    phone_value = normalize_phone(phone) if phone else ""
    now = timezone.now()
    case = Case(kind=CaseKind.CONSULTATION, category=category, channel=Channel.HOTLINE,
                title=question.replace("\n", " ")[:40], description=question, answer=answer, name=name,
                worker=User.objects.filter(phone_hash=pii.lookup_hash("phone", phone_value)).first()
                if phone_value else None,
                employer=found_employer, employer_name=employer_name or (found_employer.name if found_employer else ""),
                org=org, org_path=org.path, province_code=org.province_code, intake_org=org, created_by=actor,
                status=CaseStatus.CLOSED, accepted_at=now, resolved_at=now, closed_at=now, accepted_on_time=True,
                completed_on_time=True, accept_due_at=now, complete_due_at=now, result=answer,
                route_reason="热线当场答复")
    case.set_phone(phone_value)
    with transaction.atomic():
        case.save()
        _event(case, Action.CONSULT, actor, was="", text=answer, worker_visible=True)
        _record(case, None)
        audit_log(actor=actor, action="case.consult", obj=case, object_repr=case.number, org=org,
                  after={"category": category.code})
    return case


# --- Handling ------------------------------------------------------------------------------------


def case_accept(*, actor, case: Case) -> Case:
    require_case_role(actor, case)
    with transaction.atomic():
        case = _lock(case)
        if case.status == CaseStatus.IN_PROGRESS:
            return case  # a double click
        before = _before(case)
        was = _move(case, CaseStatus.IN_PROGRESS)
        now = timezone.now()
        if case.accepted_at is None:
            case.accepted_at = now
            case.accepted_on_time = now <= case.accept_due_at
        if case.complete_due_at is None:
            _start_complete_clock(case, now)
        case.save()
        _event(case, Action.ACCEPT, actor, was=was, worker_visible=True,
               text=f"「{case.org.name}」已受理您的诉求")
        _record(case, before)
        audit_log(actor=actor, action="case.accept", obj=case, object_repr=case.number, org=case.org)
        _notify_worker(case, "您的诉求已受理", f"{case.number} 已由「{case.org.name}」受理，"
                       f"办结期限 {timezone.localtime(case.complete_due_at):%Y-%m-%d}。")
    return case


def case_dispatch(*, actor, case: Case, to_org: OrgUnit, note: str) -> Case:
    """转办: send the case down to a union below the one holding it (its acceptance clock restarts
    there; the completion clock, once started, keeps running)."""
    require_case_role(actor, case)
    note = clean_text(note, field="note", label="转办说明", min_len=2, max_len=500)
    if not to_org.path.startswith(case.org_path) or to_org.path == case.org_path or not to_org.is_active:
        raise ValidationFailed("dispatch_outside", "只能转办给本级工会的下级工会", "to_org_id")
    with transaction.atomic():
        case = _lock(case)
        if case.status == CaseStatus.PENDING and case.org_id == to_org.pk:
            return case
        if case.status not in (CaseStatus.PENDING, CaseStatus.IN_PROGRESS):
            raise Conflict("status_invalid", f"诉求当前为「{case.get_status_display()}」，不能转办", "status")
        if not to_org.path.startswith(case.org_path) or to_org.path == case.org_path:
            raise ValidationFailed("dispatch_outside", "只能转办给本级工会的下级工会", "to_org_id")
        before = _before(case)
        from_org = case.org
        was = _move(case, CaseStatus.PENDING)
        case.org, case.org_path, case.province_code = to_org, to_org.path, to_org.province_code
        if case.supervisor_id:  # an escalated case stays on the board of the union above its holder
            case.supervisor_id = to_org.parent_id
        _start_accept_clock(case, timezone.now(), to_org)
        case.save()
        _event(case, Action.DISPATCH, actor, was=was, text=note, from_org=from_org, to_org=to_org,
               worker_visible=True)
        _record(case, before)
        audit_log(actor=actor, action="case.dispatch", obj=case, object_repr=case.number, org=from_org,
                  after={"to_org_id": to_org.pk})
        _notify_org(to_org, "case", "上级转办的职工诉求", f"{case.number}：「{from_org.name}」转办，{note}",
                    f"/console/cases/{case.pk}/")
        _notify_worker(case, "您的诉求已转交办理", f"{case.number} 已转交「{to_org.name}」办理。")
    return case


def case_return(*, actor, case: Case, reason: str) -> Case:
    """退回: the union holding the case sends it back up to its parent, with the reason."""
    require_case_role(actor, case)
    reason = clean_text(reason, field="reason", label="退回原因", min_len=4, max_len=500)
    with transaction.atomic():
        case = _lock(case)
        parent = case.org.parent
        if parent is None:
            raise ValidationFailed("return_top", "已是最高一级，不能再退回", "reason")
        if case.status not in (CaseStatus.PENDING, CaseStatus.IN_PROGRESS):
            raise Conflict("status_invalid", f"诉求当前为「{case.get_status_display()}」，不能退回", "status")
        before = _before(case)
        from_org = case.org
        was = _move(case, CaseStatus.PENDING)
        case.org, case.org_path, case.province_code = parent, parent.path, parent.province_code
        if case.supervisor_id:
            case.supervisor_id = parent.parent_id
        _start_accept_clock(case, timezone.now(), parent)
        case.save()
        _event(case, Action.RETURN, actor, was=was, text=reason, from_org=from_org, to_org=parent)
        _record(case, before)
        audit_log(actor=actor, action="case.return", obj=case, object_repr=case.number, org=from_org,
                  after={"to_org_id": parent.pk, "reason": reason})
        _notify_org(parent, "case", "下级退回的职工诉求", f"{case.number}：「{from_org.name}」退回，原因：{reason}",
                    f"/console/cases/{case.pk}/")
    return case


def case_note(*, actor, case: Case, text: str, attachments=None) -> CaseEvent:
    require_case_role(actor, case)
    text = clean_text(text, field="text", label="备注", min_len=1, max_len=5000)
    checked = _check_attachments(attachments)
    with transaction.atomic():
        case = _lock(case)
        event = _event(case, Action.NOTE, actor, text=text)
        _save_attachments(case, checked, actor, event)
        audit_log(actor=actor, action="case.note", obj=case, object_repr=case.number, org=case.org)
    return event


def case_reply(*, actor, case: Case, text: str, attachments=None) -> CaseEvent:
    """A reply the worker sees (progress, advice); the case stays with the handler."""
    require_case_role(actor, case)
    text = clean_text(text, field="text", label="答复内容", min_len=2, max_len=5000)
    checked = _check_attachments(attachments)
    with transaction.atomic():
        case = _lock(case)
        if case.status in (CaseStatus.MERGED, CaseStatus.WITHDRAWN):
            raise Conflict("status_invalid", f"诉求当前为「{case.get_status_display()}」，不能再答复", "status")
        event = _event(case, Action.REPLY, actor, text=text, worker_visible=True)
        _save_attachments(case, checked, actor, event)
        audit_log(actor=actor, action="case.reply", obj=case, object_repr=case.number, org=case.org)
        _notify_worker(case, "工会答复了您的诉求", f"{case.number}：{text[:80]}")
    return event


def case_request_info(*, actor, case: Case, text: str) -> Case:
    """Ask the worker for more (evidence, details): the completion clock pauses until they answer."""
    require_case_role(actor, case)
    text = clean_text(text, field="text", label="需要补充的内容", min_len=4, max_len=2000)
    with transaction.atomic():
        case = _lock(case)
        if case.status == CaseStatus.WAITING_WORKER:
            return case
        before = _before(case)
        was = _move(case, CaseStatus.WAITING_WORKER)
        case.paused_at = timezone.now()
        case.save()
        _event(case, Action.REQUEST_INFO, actor, was=was, text=text, worker_visible=True)
        _record(case, before)
        audit_log(actor=actor, action="case.request_info", obj=case, object_repr=case.number, org=case.org)
        _notify_worker(case, "请补充诉求材料", f"{case.number}：{text[:80]}")
    return case


def case_worker_add(*, actor, case: Case, text: str, attachments=None) -> Case:
    """The worker adds information; a case waiting for them resumes, its deadlines moved by the
    working days it waited."""
    if case.worker_id != getattr(actor, "pk", None):
        raise NotFound("诉求")
    text = clean_text(text, field="text", label="补充内容", min_len=2, max_len=5000)
    checked = _check_attachments(attachments)
    ratelimit.check("case_info_user_day", str(actor.pk), "今天补充材料的次数过多，请明天再试，紧急情况请拨打12351")
    with transaction.atomic():
        case = _lock(case)
        if case.status not in OPEN_STATUSES:
            raise Conflict("status_invalid", f"诉求当前为「{case.get_status_display()}」，如有新情况请重新提交诉求", "status")
        before = _before(case)
        was = case.status
        if case.status == CaseStatus.WAITING_WORKER:
            _move(case, CaseStatus.IN_PROGRESS)
            _resume(case, timezone.now())
        case.save()
        event = _event(case, Action.WORKER_INFO, actor, was=was, text=text, worker_visible=True)
        _save_attachments(case, checked, actor, event)
        _record(case, before)
        audit_log(actor=actor, action="case.worker_info", obj=case, object_repr=case.number, org=case.org)
        _notify_org(case.org, "case", "职工补充了诉求材料", f"{case.number}：{text[:80]}", f"/console/cases/{case.pk}/")
    return case


def _resume(case: Case, now: datetime.datetime) -> None:
    waited = workdays.workdays_between(case.paused_at, now) if case.paused_at else 0
    if waited and case.complete_due_at:
        case.complete_due_at = _shift(case.complete_due_at, waited)
        if case.complete_warn_at:
            case.complete_warn_at = _shift(case.complete_warn_at, waited)
    case.paused_at = None


def _shift(moment: datetime.datetime, days: int) -> datetime.datetime:
    local = timezone.localtime(moment)
    day = workdays.add_workdays(local.date(), days)
    return timezone.make_aware(datetime.datetime.combine(day, local.time()), timezone.get_current_timezone())


def case_set_difficulty(*, actor, case: Case, difficulty: str, reason: str) -> Case:
    require_case_role(actor, case)
    if difficulty not in Difficulty.values:
        raise ValidationFailed("difficulty_invalid", "难度只能是：一般、难点、特别复杂", "difficulty")
    reason = clean_text(reason, field="reason", label="调整原因", min_len=2, max_len=500)
    with transaction.atomic():
        case = _lock(case)
        if case.difficulty == difficulty:
            return case
        if case.status not in OPEN_STATUSES:
            raise Conflict("status_invalid", "只能调整办理中诉求的难度", "status")
        old = case.difficulty
        case.difficulty = difficulty
        if case.accepted_at and case.complete_overdue_at is None:
            limits = limits_for(case.org, difficulty)
            case.complete_due_at, case.complete_warn_at = _due(case.accepted_at, limits.complete_days,
                                                               limits.warn_days)
            case.complete_warned_at = None
        case.save()
        _event(case, Action.DIFFICULTY, actor, text=f"{Difficulty(old).label} → {Difficulty(difficulty).label}：{reason}")
        audit_log(actor=actor, action="case.difficulty", obj=case, object_repr=case.number, org=case.org,
                  before={"difficulty": old}, after={"difficulty": difficulty})
    return case


def case_resolve(*, actor, case: Case, result: str, money_recovered=None, workers_helped=None) -> Case:
    """办结: the result is recorded, and the worker gets a link to rate it."""
    require_case_role(actor, case)
    result = clean_text(result, field="result", label="办理结果", min_len=4, max_len=5000)
    money = _amount(money_recovered, field="money_recovered", label="追回金额") or Decimal("0.00")
    helped = _count(workers_helped, field="workers_helped", label="帮助人数", low=0, high=100000,
                    default=case.workers_affected)
    with transaction.atomic():
        case = _lock(case)
        if case.status == CaseStatus.RESOLVED:
            return case
        before = _before(case)
        was = _move(case, CaseStatus.RESOLVED)
        now = timezone.now()
        if case.paused_at:
            _resume(case, now)
        if case.accepted_at is None:  # resolved straight from the queue: accepted now
            case.accepted_at, case.accepted_on_time = now, now <= case.accept_due_at
        if case.completed_on_time is None:
            case.completed_on_time = case.complete_due_at is None or now <= case.complete_due_at
        case.resolved_at, case.result, case.money_recovered, case.workers_helped = now, result, money, helped
        case.save()
        _event(case, Action.RESOLVE, actor, was=was, text=result, worker_visible=True)
        _record(case, before)
        audit_log(actor=actor, action="case.resolve", obj=case, object_repr=case.number, org=case.org,
                  after={"money_recovered": money, "workers_helped": helped})
        link = callback_link_issue(case)
        _notify_worker(case, "您的诉求已办结，请评价", f"{case.number} 已办结。请点击查看办理结果并评价。",
                       link=f"/callbacks/{link}/")
    return case


# --- Callback (回访) --------------------------------------------------------------------------------

CALLBACK_SALT = "gonghui.casedesk.callback"


def callback_link_issue(case: Case) -> str:
    """A signed token naming a fresh single-use nonce; earlier links of the case stop working."""
    CallbackLink.objects.filter(case=case, used_at__isnull=True).update(used_at=timezone.now())
    link = CallbackLink.objects.create(
        case=case, nonce=secrets.token_hex(16),
        expires_at=timezone.now() + datetime.timedelta(days=settings.GONGHUI_CASE_CALLBACK_DAYS))
    return signing.dumps({"c": case.pk, "n": link.nonce}, salt=CALLBACK_SALT, compress=True)


def callback_open(token: str) -> CallbackLink:
    """The link behind a token, if it is genuine, unused and unexpired (else a clear refusal)."""
    try:
        data = signing.loads(token or "", salt=CALLBACK_SALT,
                             max_age=datetime.timedelta(days=settings.GONGHUI_CASE_CALLBACK_DAYS))
        case_id, nonce = int(data["c"]), str(data["n"])
    except signing.SignatureExpired:
        raise ValidationFailed("callback_expired", "评价链接已过期。如需评价请拨打12351热线。", "token") from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NotFound("评价链接", "token") from None
    link = CallbackLink.objects.select_related("case__org").filter(case_id=case_id, nonce=nonce).first()
    if link is None:
        raise NotFound("评价链接", "token")
    if link.used_at is not None:
        raise Conflict("callback_used", "该评价链接已使用过，不能重复评价。", "token")
    if link.expires_at <= timezone.now():
        raise ValidationFailed("callback_expired", "评价链接已过期。如需评价请拨打12351热线。", "token")
    return link


def _score(score) -> int:
    try:
        score = int(score)
    except (TypeError, ValueError):
        raise ValidationFailed("score_invalid", "请选择1至5分的满意度", "score") from None
    if not 1 <= score <= 5:
        raise ValidationFailed("score_invalid", "请选择1至5分的满意度", "score")
    return score


def callback_rate(*, token: str, score, comment: str = "") -> Case:
    """The worker's rating through the link (no login). A low score reopens the case."""
    score = _score(score)
    comment = clean_text(comment, field="comment", label="评价内容", max_len=500)
    with transaction.atomic():
        link = callback_open(token)
        claimed = CallbackLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=timezone.now())
        if not claimed:  # a concurrent submit of the same link won
            raise Conflict("callback_used", "该评价链接已使用过，不能重复评价。", "token")
        return _rate(link.case, score, comment, actor=None, via="link")


def case_rate_by_phone(*, actor, case: Case, score, comment: str = "") -> Case:
    """An agent records the rating the worker gave on the phone."""
    require_case_role(actor, case)
    score = _score(score)
    comment = clean_text(comment, field="comment", label="评价内容", max_len=500)
    with transaction.atomic():
        CallbackLink.objects.filter(case=case, used_at__isnull=True).update(used_at=timezone.now())
        return _rate(case, score, comment, actor=actor, via="phone")


def _rate(case: Case, score: int, comment: str, *, actor, via: str) -> Case:
    case = _lock(case)
    if case.status != CaseStatus.RESOLVED:
        raise Conflict("status_invalid", f"诉求当前为「{case.get_status_display()}」，不在回访阶段", "status")
    before = _before(case)
    case.satisfaction, case.satisfaction_comment, case.rated_at, case.rated_via = score, comment, timezone.now(), via
    text = f"满意度 {score} 分" + (f"：{comment}" if comment else "")
    dissatisfied = score <= settings.GONGHUI_CASE_DISSATISFIED_AT_OR_BELOW
    if dissatisfied:
        _reopen(case, actor, f"职工不满意（{text}），重新办理")
    case.save()
    _event(case, Action.RATE, actor, text=text, worker_visible=True)
    _record(case, before)
    audit_log(actor=actor, action="case.rate", obj=case, object_repr=case.number, org=case.org,
              after={"score": score, "via": via})
    if dissatisfied:
        _notify_org(case.org, "case", "职工不满意，诉求重新办理", f"{case.number}：{text}", f"/console/cases/{case.pk}/")
    return case


def _reopen(case: Case, actor, reason: str) -> None:
    was = _move(case, CaseStatus.IN_PROGRESS)
    now = timezone.now()
    case.reopen_count += 1
    case.closed_at = None
    _start_complete_clock(case, now)
    case.complete_overdue_at = None
    case.completed_on_time = None
    case.resolved_at = None
    case.result = ""
    case.money_recovered, case.workers_helped = Decimal("0.00"), 0
    _event(case, Action.REOPEN, actor, was=was, text=reason, worker_visible=True)


def case_close(*, actor, case: Case, passed: bool = True, note: str = "") -> Case:
    """质检: a supervisor checks the handling and closes the case, or sends it back to be redone."""
    require_case_role(actor, case, SUPERVISOR)
    note = clean_text(note, field="note", label="质检意见", min_len=0 if passed else 4, max_len=500)
    with transaction.atomic():
        case = _lock(case)
        if passed and case.status == CaseStatus.CLOSED:
            return case
        if case.status != CaseStatus.RESOLVED:
            raise Conflict("status_invalid", f"诉求当前为「{case.get_status_display()}」，办结后才能质检", "status")
        before = _before(case)
        case.qc_by, case.qc_at, case.qc_note = actor, timezone.now(), note
        if passed:
            was = _move(case, CaseStatus.CLOSED)
            case.closed_at = timezone.now()
            CallbackLink.objects.filter(case=case, used_at__isnull=True).update(used_at=timezone.now())
            _event(case, Action.CLOSE, actor, was=was, text=note or "质检通过，结案", worker_visible=True)
        else:
            _reopen(case, actor, f"质检未通过：{note}")
        case.save()
        _record(case, before)
        audit_log(actor=actor, action="case.close" if passed else "case.qc_reject", obj=case,
                  object_repr=case.number, org=case.org, after={"note": note})
    return case


def case_reopen(*, actor, case: Case, reason: str) -> Case:
    require_case_role(actor, case, SUPERVISOR)
    reason = clean_text(reason, field="reason", label="重新办理的原因", min_len=4, max_len=500)
    with transaction.atomic():
        case = _lock(case)
        if case.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
            raise Conflict("status_invalid", f"诉求当前为「{case.get_status_display()}」，不需要重新办理", "status")
        before = _before(case)
        _reopen(case, actor, reason)
        case.save()
        _record(case, before)
        audit_log(actor=actor, action="case.reopen", obj=case, object_repr=case.number, org=case.org,
                  after={"reason": reason})
        _notify_worker(case, "您的诉求重新办理", f"{case.number}：{reason[:80]}")
    return case


def case_merge(*, actor, case: Case, into: Case, note: str = "") -> Case:
    """A duplicate is merged into the case that goes on; the worker is told which one."""
    require_case_role(actor, case)
    require_case_role(actor, into)
    if case.pk == into.pk:
        raise ValidationFailed("merge_self", "不能与自身合并", "into_id")
    note = clean_text(note, field="note", label="合并说明", max_len=500)
    with transaction.atomic():
        first, second = sorted([case, into], key=lambda c: c.pk)
        first, second = _lock(first), _lock(second)
        case, into = (first, second) if first.pk == case.pk else (second, first)
        if case.status == CaseStatus.MERGED and case.merged_into_id == into.pk:
            return case
        if into.status not in OPEN_STATUSES:
            raise Conflict("merge_target", "只能合并到仍在办理的诉求", "into_id")
        before = _before(case)
        was = _move(case, CaseStatus.MERGED)
        case.merged_into, case.closed_at = into, timezone.now()
        case.save()
        _event(case, Action.MERGE, actor, was=was, text=f"合并到 {into.number}" + (f"：{note}" if note else ""),
               worker_visible=True)
        _event(into, Action.NOTE, actor, text=f"{case.number} 已合并到本件" + (f"：{note}" if note else ""))
        _record(case, before)
        audit_log(actor=actor, action="case.merge", obj=case, object_repr=case.number, org=case.org,
                  after={"into": into.pk})
        _notify_worker(case, "您的诉求已合并办理", f"{case.number} 与 {into.number} 是同一事项，已合并办理。")
    return case


def case_withdraw(*, actor, case: Case, reason: str = "") -> Case:
    if case.worker_id != getattr(actor, "pk", None):
        raise NotFound("诉求")
    reason = clean_text(reason, field="reason", label="撤回原因", max_len=500)
    with transaction.atomic():
        case = _lock(case)
        if case.status == CaseStatus.WITHDRAWN:
            return case
        if case.status not in OPEN_STATUSES:
            raise Conflict("status_invalid", f"诉求当前为「{case.get_status_display()}」，不能撤回", "status")
        before = _before(case)
        was = _move(case, CaseStatus.WITHDRAWN)
        case.closed_at = timezone.now()
        case.save()
        _event(case, Action.WITHDRAW, actor, was=was, text=reason or "职工撤回", worker_visible=True)
        _record(case, before)
        audit_log(actor=actor, action="case.withdraw", obj=case, object_repr=case.number, org=case.org)
        _notify_org(case.org, "case", "职工撤回了诉求", f"{case.number}：{reason or '未说明原因'}",
                    f"/console/cases/{case.pk}/")
    return case


# --- Legal aid hook -------------------------------------------------------------------------------
# The legal-affairs module registers a function (case, actor, note) -> str that opens a legal-aid
# application and returns its reference. Until it exists, a referral is recorded and the union told.

LEGAL_AID_HANDLERS: list = []


def register_legal_aid_handler(handler) -> None:
    if handler not in LEGAL_AID_HANDLERS:
        LEGAL_AID_HANDLERS.append(handler)


def case_refer_legal_aid(*, actor, case: Case, note: str) -> Case:
    require_case_role(actor, case)
    note = clean_text(note, field="note", label="转法律援助说明", min_len=4, max_len=1000)
    with transaction.atomic():
        case = _lock(case)
        if case.legal_aid_ref:
            return case
        if case.status not in OPEN_STATUSES:
            raise Conflict("status_invalid", "只能转介办理中的诉求", "status")
        refs = [handler(case=case, actor=actor, note=note) for handler in LEGAL_AID_HANDLERS]
        case.legal_aid_ref = next((ref for ref in refs if ref), "") or "referred"
        case.save(update_fields=["legal_aid_ref", "updated_at"])
        _event(case, Action.REFER_LEGAL_AID, actor, text=note, worker_visible=True)
        audit_log(actor=actor, action="case.legal_aid", obj=case, object_repr=case.number, org=case.org,
                  after={"ref": case.legal_aid_ref})
        _notify_worker(case, "已为您转介法律援助", f"{case.number}：工会将为您提供法律援助，工作人员会与您联系。")
    return case


# --- Clusters -------------------------------------------------------------------------------------


def _employer_key(case: Case) -> str:
    if case.employer_id:
        return f"id:{case.employer_id}"
    name = re.sub(r"\s+", "", case.employer_name or "")
    return f"name:{case.work_division_id or ''}:{name}" if name else ""


def _cluster_check(case: Case) -> None:
    """Several cases about one employer and category in a window: raise (or grow) an alert."""
    key = _employer_key(case)
    if not key or case.kind in (CaseKind.CONSULTATION, CaseKind.SUGGESTION):
        return
    rule = settings.GONGHUI_CASE_CLUSTER
    since = case.created_at - datetime.timedelta(days=rule["days"])
    same = Case.objects.filter(category=case.category, created_at__gte=since).exclude(
        status__in=[CaseStatus.MERGED, CaseStatus.WITHDRAWN])
    same = same.filter(employer_id=case.employer_id) if case.employer_id else same.filter(
        employer__isnull=True, employer_name=case.employer_name, work_division_id=case.work_division_id)
    alert = ClusterAlert.objects.select_for_update().filter(employer_key=key, category=case.category,
                                                            status=ClusterAlert.Status.OPEN).first()
    if alert is not None:
        ClusterAlert.objects.filter(pk=alert.pk).update(
            case_count=F("case_count") + 1, workers=F("workers") + case.workers_affected,
            amount=F("amount") + (case.amount_claimed or 0), last_case_at=case.created_at)
        Case.objects.filter(pk=case.pk).update(cluster=alert)
        return
    rows = list(same.values_list("pk", "workers_affected", "amount_claimed", "created_at"))
    if len(rows) < rule["min_cases"]:
        return
    try:
        with transaction.atomic():
            alert = ClusterAlert.objects.create(
                org=case.org, org_path=case.org_path, employer=case.employer, employer_key=key,
                employer_name=case.employer_name or "", category=case.category,
                first_case_at=min(r[3] for r in rows), last_case_at=max(r[3] for r in rows), case_count=len(rows),
                workers=sum(r[1] for r in rows), amount=sum((r[2] or 0) for r in rows))
    except IntegrityError:  # a concurrent case raised it first: it counts this one when it reads again
        return
    Case.objects.filter(pk__in=[r[0] for r in rows]).update(cluster=alert)
    body = (f"「{alert.employer_name}」{rule['days']}天内有{alert.case_count}件「{case.category.label}」诉求，"
            f"涉及{alert.workers}人，请关注劳动关系风险。")
    for org in filter(None, [case.org, case.org.parent]):
        _notify_org(org, "cluster", "群体性诉求预警", body, f"/console/cases/clusters/{alert.pk}/")


def cluster_handle(*, actor, alert: ClusterAlert, note: str) -> ClusterAlert:
    require_case_role(actor, alert.org_path)
    note = clean_text(note, field="note", label="处置情况", min_len=4, max_len=500)
    with transaction.atomic():
        alert = ClusterAlert.objects.select_for_update().get(pk=alert.pk)
        if alert.status == ClusterAlert.Status.HANDLED:
            return alert
        alert.status, alert.handled_by, alert.handled_at, alert.handled_note = (
            ClusterAlert.Status.HANDLED, actor, timezone.now(), note)
        alert.save()
        audit_log(actor=actor, action="case.cluster_handle", obj=alert, org=alert.org, after={"note": note})
    return alert


# --- The deadline sweep ----------------------------------------------------------------------------


SWEEP_LABELS = {"accept_warn": "即将超过受理期限", "accept_overdue": "超过受理期限，已提请上级督办",
                "complete_warn": "即将超过办结期限", "complete_overdue": "超过办结期限，已提请上级督办"}
# Board notices of a sweep batch, one per union (and per parent union when overdue); both engines
# write these texts, {n} being the union's count of cases.
BOARD_BODY, PARENT_TITLE, PARENT_BODY = "本级有{n}件职工诉求{label}。", "下级诉求超时督办", "下级工会有{n}件职工诉求{label}，请督促办理。"
SWEEP_TITLES = {"accept_warn": "职工诉求即将超过受理期限", "accept_overdue": "职工诉求超过受理期限",
                "complete_warn": "职工诉求即将超过办结期限", "complete_overdue": "职工诉求超过办结期限"}
# (step, status, the moment column, the mark column, the warning mark an overdue step also sets).
# Overdue steps run first: a case past its deadline is escalated, and its warning is then moot (one
# update and one event per case, not two).
SWEEP_STEPS = [
    ("accept_overdue", CaseStatus.PENDING, "accept_due_at", "accept_overdue_at", "accept_warned_at"),
    ("complete_overdue", CaseStatus.IN_PROGRESS, "complete_due_at", "complete_overdue_at", "complete_warned_at"),
    ("accept_warn", CaseStatus.PENDING, "accept_warn_at", "accept_warned_at", ""),
    ("complete_warn", CaseStatus.IN_PROGRESS, "complete_warn_at", "complete_warned_at", ""),
]


def deadline_sweep(now: datetime.datetime | None = None, batch: int = 1000) -> dict[str, int]:
    """Warnings before a deadline, and 督办 when one passes: set-based, in batches that skip rows a
    handler holds (they are picked up next time). Idempotent; `manage.py periodic` runs it.

    A batch holds its cases' row locks until it commits, so a handler opening one of them waits for
    that batch: 1,000 keeps the wait under 0.25 s at national scale (5,000 was 1 s). Each batch starts
    where the previous one stopped in deadline order, not at the oldest deadline: cases acted on
    earlier stay in the sweep's indexes (their marks are not indexed, see Case), and re-reading them
    for every batch cost more than the batches. (Running the acceptance and the completion steps side
    by side on two connections was measured: within the noise on two cores, so they run in turn.)"""
    from django.db import connection

    now = now or timezone.now()
    step_fn = _sweep_step_sql if connection.vendor == "postgresql" else _sweep_step_portable
    done = {"accept_warn": 0, "accept_overdue": 0, "complete_warn": 0, "complete_overdue": 0}
    for name, status, when, mark, warned in SWEEP_STEPS:
        after = None
        while True:
            n, after = step_fn(name, status, when, mark, warned, now, batch, after)
            done[name] += n
            if n < batch:
                break
    return done


def _sweep_step_sql(name: str, status: str, when: str, mark: str, warned: str, now, batch: int, after=None
                    ) -> tuple[int, datetime.datetime | None]:
    """One batch: (cases marked, the latest deadline among them: where the next batch starts)."""
    from django.db import connection

    sql, params = sweep_statement(name, status, when, mark, warned, now, batch, after)
    with transaction.atomic(), connection.cursor() as cursor:
        # Compiling the statement (JIT, for its estimated cost) took longer than running its joins.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return cursor.fetchone()


def sweep_statement(name: str, status: str, when: str, mark: str, warned: str, now, batch: int, after=None
                    ) -> tuple[str, dict]:
    """One batch as one PostgreSQL statement: pick the due cases (skipping any a handler holds), mark
    them (and, when overdue, put them on the parent's board), write their events, the workers'
    notices, one board notice per union (and per parent union that now supervises), and the rollup
    deltas of every ancestor. Nothing comes back to Python but the count: at national scale a batch
    touches thousands of unions, and a round trip per union (or per chunk of them) cost more than
    marking the cases did."""
    from gonghui.analytics.models import RollupDelta

    overdue = name.endswith("overdue")
    label = SWEEP_LABELS[name]
    sets = [f"{mark} = %(now)s"]
    if warned:
        sets.append(f"{warned} = COALESCE(c.{warned}, %(now)s)")
    if overdue:  # supervisor_path already names the union above (Case.save)
        sets.append("supervisor_id = (SELECT p.id FROM orgs_orgunit p WHERE p.path = c.supervisor_path)")
    notify = overdue and name == "accept_overdue"
    org_notice, rollup = OrgNotice._meta.db_table, RollupDelta._meta.db_table
    sql = f"""
        WITH picked AS (
            SELECT id FROM casedesk_case
            WHERE status = %(status)s AND {mark} IS NULL AND {when} <= %(now)s
              AND {when} >= COALESCE(%(after)s, '-infinity'::timestamptz)
            ORDER BY {when} LIMIT %(batch)s
            FOR UPDATE SKIP LOCKED
        ), marked AS (
            UPDATE casedesk_case c SET {", ".join(sets)}
            FROM picked WHERE c.id = picked.id
            RETURNING c.id, c.org_id, c.org_path, c.supervisor_id, c.supervisor_path, c.worker_id, c.{when} AS moment,
                      (c.accept_overdue_at IS NULL) <> (c.complete_overdue_at IS NULL) AS first_overdue
        ), events AS (
            INSERT INTO casedesk_caseevent (case_id, action, from_status, to_status, org_path, text,
                                            worker_visible, created_at)
            SELECT id, %(action)s, %(status)s, %(status)s, org_path, %(label)s, FALSE, %(now)s FROM marked
        ), notices AS (
            INSERT INTO {Notice._meta.db_table} (user_id, title, body, link, created_at)
            SELECT worker_id, %(w_title)s, %(w_body)s, '/cases/' || id || '/', %(now)s FROM marked
            WHERE %(notify)s AND worker_id IS NOT NULL
        ), per_org AS (
            SELECT org_id, org_path, supervisor_id, supervisor_path, count(*) AS n,
                   count(*) FILTER (WHERE first_overdue) AS first
            FROM marked GROUP BY org_id, org_path, supervisor_id, supervisor_path
        ), board AS (
            INSERT INTO {org_notice} (org_id, org_path, kind, title, body, link, created_at)
            SELECT org_id, org_path, 'case_deadline', %(b_title)s, %(b_pre)s || n || %(b_post)s, %(b_link)s, %(now)s
            FROM per_org
        ), parent_board AS (  -- the union above each holder, which the UPDATE has just looked up
            INSERT INTO {org_notice} (org_id, org_path, kind, title, body, link, created_at)
            SELECT supervisor_id, supervisor_path, 'case_escalation', %(p_title)s,
                   %(p_pre)s || sum(n) || %(p_post)s, '/console/cases/?supervising=1', %(now)s
            FROM per_org WHERE %(overdue)s AND supervisor_id IS NOT NULL GROUP BY supervisor_id, supervisor_path
        ), deltas AS (
            -- An open case counts as overdue once, whichever deadline it missed first: +1 at its union
            -- and at every ancestor. The ids of the two deepest (the holder, the union above) are at
            -- hand; the few distinct ones further up are looked up by path.
            SELECT substr(org_path, 1, k * {STEP}) AS path, sum(first) AS delta,
                   max(CASE WHEN k * {STEP} = length(org_path) THEN org_id
                            WHEN k * {STEP} = length(org_path) - {STEP} THEN supervisor_id END) AS known
            FROM per_org CROSS JOIN LATERAL generate_series(1, length(org_path) / {STEP}) k
            WHERE %(overdue)s AND first > 0 GROUP BY 1
        ), rolled AS (  -- appended, folded into the totals behind the sweep (rollups.rollup_fold)
            INSERT INTO {rollup} (org_id, metric, value)
            SELECT o.id, 'cases.overdue_open', d.delta
            FROM deltas d CROSS JOIN LATERAL (
                SELECT COALESCE(d.known, (SELECT id FROM orgs_orgunit WHERE path = d.path)) AS id) o
            WHERE o.id IS NOT NULL
        )
        SELECT count(*), max(moment) FROM marked
    """
    params = {"status": status, "now": now, "batch": batch, "after": after, "label": label, "notify": notify, "overdue": overdue,
              "action": Action.ESCALATE if overdue else Action.WARN, "w_title": "您的诉求已提请督办",
              "w_body": "承办工会未在期限内受理您的诉求，已提请上级工会督办。",
              "b_title": SWEEP_TITLES[name], "p_title": PARENT_TITLE,
              "b_link": "/console/cases/?overdue=1" if overdue else "/console/cases/"}
    for key, template in (("b", BOARD_BODY), ("p", PARENT_BODY)):  # the count goes in between, in SQL
        params[f"{key}_pre"], _n, params[f"{key}_post"] = template.format(n="{n}", label=label).partition("{n}")
    return sql, params


def _sweep_step_portable(name: str, status: str, when: str, mark: str, warned: str, now, batch: int, after=None
                         ) -> tuple[int, datetime.datetime | None]:
    """The same batch through the ORM, for SQLite (the embedded demo)."""
    overdue = name.endswith("overdue")
    label = SWEEP_LABELS[name]
    with transaction.atomic():
        ids = list(Case.objects.select_for_update(skip_locked=True).filter(
            status=status, **{f"{mark}__isnull": True, f"{when}__lte": now},
            **({f"{when}__gte": after} if after else {})).order_by(when)
            .values_list("pk", flat=True)[:batch])
        if not ids:
            return 0, after
        last = Case.objects.filter(pk__in=ids).aggregate(last=Max(when))["last"]
        Case.objects.filter(pk__in=ids).update(**{mark: now})
        if warned:
            Case.objects.filter(pk__in=ids, **{f"{warned}__isnull": True}).update(**{warned: now})
        rows = list(Case.objects.filter(pk__in=ids).values_list(
            "pk", "org_id", "org_path", "worker_id", "accept_overdue_at", "complete_overdue_at"))
        if overdue:
            parents = dict(OrgUnit.objects.filter(path__in={r[2][:-STEP] for r in rows if len(r[2]) > STEP})
                           .values_list("path", "pk"))
            by_parent: dict[int, list[int]] = {}
            for pk, _org, path, *_rest in rows:
                parent_id = parents.get(path[:-STEP])
                if parent_id:
                    by_parent.setdefault(parent_id, []).append(pk)
            for parent_id, pks in by_parent.items():
                Case.objects.filter(pk__in=pks).update(supervisor_id=parent_id)
        CaseEvent.objects.bulk_create([
            CaseEvent(case_id=pk, action=Action.ESCALATE if overdue else Action.WARN, from_status=status,
                      to_status=status, org_path=path, text=label) for pk, _o, path, *_r in rows])
        per_org: dict[tuple[int, str], int] = {}
        for _pk, org_id, path, *_r in rows:
            per_org[(org_id, path)] = per_org.get((org_id, path), 0) + 1
        if overdue:
            first_time = [path for _pk, _o, path, _w, a_over, c_over in rows if (a_over is None) != (c_over is None)]
            rollups.rollup_add_many([(path, "cases.overdue_open", 1) for path in first_time])
            if name == "accept_overdue":
                Notice.objects.bulk_create([
                    Notice(user_id=worker_id, title="您的诉求已提请督办",
                           body="承办工会未在期限内受理您的诉求，已提请上级工会督办。", link=f"/cases/{pk}/")
                    for pk, _o, _p, worker_id, *_r in rows if worker_id], batch_size=1000)
        _sweep_notices(name, label, [(org_id, path, n) for (org_id, path), n in per_org.items()], overdue)
    return len(ids), last


def _sweep_notices(name: str, label: str, per_org: list[tuple[int, str, int]], overdue: bool) -> None:
    """One board notice per union per batch (the count and the link to the list), and, when overdue,
    one per parent union that now supervises them."""
    notices = [OrgNotice(org_id=org_id, org_path=path, kind="case_deadline", title=SWEEP_TITLES[name],
                         body=BOARD_BODY.format(n=n, label=label),
                         link="/console/cases/?overdue=1" if overdue else "/console/cases/")
               for org_id, path, n in per_org]
    if overdue:
        per_parent: dict[str, int] = {}
        for _org_id, path, n in per_org:
            if len(path) > STEP:
                per_parent[path[:-STEP]] = per_parent.get(path[:-STEP], 0) + n
        parents = dict(OrgUnit.objects.filter(path__in=list(per_parent)).values_list("path", "pk"))
        notices += [OrgNotice(org_id=parents[path], org_path=path, kind="case_escalation", title=PARENT_TITLE,
                              body=PARENT_BODY.format(n=n, label=label),
                              link="/console/cases/?supervising=1")
                    for path, n in per_parent.items() if path in parents]
    OrgNotice.objects.bulk_create(notices, batch_size=1000)


# --- Taxonomy admin ------------------------------------------------------------------------------


def _taxonomy_owner(actor, owner: OrgUnit | None) -> OrgUnit:
    if owner is None or owner.kind not in (OrgKind.NATIONAL, OrgKind.PROVINCE):
        raise ValidationFailed("owner_level", "诉求分类只能由全国总工会或省级总工会维护", "owner")
    if actor_scope(actor).rank_at(owner.path) < ROLE_RANK[Role.ADMIN]:
        raise PermissionDenied("只有全国总工会或省级总工会的管理员可以维护诉求分类")
    return owner


def category_save(*, actor, owner: OrgUnit, category: CaseCategory | None = None, name: str, parent_id=None,
                  code: str = "", description: str = "", keywords: str = "", default_kind: str = "",
                  default_difficulty: str = Difficulty.NORMAL, sort: int = 100, is_active: bool = True) -> CaseCategory:
    """Add or edit a category. National entries belong to the national admins; a province adds its
    own items (under any group) and edits only those."""
    owner = _taxonomy_owner(actor, owner)
    national = owner.kind == OrgKind.NATIONAL
    if category is not None and (category.owner_path or "") != ("" if national else owner.path):
        raise PermissionDenied("只能修改本级添加的诉求分类")
    name = clean_text(name, field="name", label="分类名称", min_len=2, max_len=40)
    description = clean_text(description, field="description", label="说明", max_len=200)
    keywords = clean_text(keywords, field="keywords", label="检索词", max_len=200)
    if default_kind and default_kind not in CaseKind.values:
        raise ValidationFailed("kind_invalid", "诉求类型无效", "default_kind")
    if default_difficulty not in Difficulty.values:
        raise ValidationFailed("difficulty_invalid", "难度只能是：一般、难点、特别复杂", "default_difficulty")
    sort = _count(sort, field="sort", label="排序", low=0, high=32767, default=100)
    parent = None
    if parent_id not in (None, ""):
        parent = CaseCategory.objects.filter(pk=int(parent_id) if str(parent_id).isdigit() else 0,
                                             parent__isnull=True).first()
        if parent is None:
            raise ValidationFailed("parent_unknown", "上级分类不存在（只支持两级分类）", "parent_id")
    elif not national:
        raise ValidationFailed("parent_required", "省级只能在已有大类下添加具体分类", "parent_id")
    if category is not None and parent is not None and parent.pk == category.pk:
        raise ValidationFailed("parent_invalid", "不能把分类放到它自己之下", "parent_id")
    if category is not None and parent is not None and category.children.exists():
        raise ValidationFailed("parent_invalid", "该分类下还有子分类，不能再放到其他分类之下", "parent_id")
    with transaction.atomic():
        if category is None:
            code = (code or "").strip().lower()
            if not re.fullmatch(r"[a-z][a-z0-9_]{1,39}", code):
                raise ValidationFailed("code_invalid", "代码应为2至40位小写字母、数字或下划线，以字母开头", "code")
            if CaseCategory.objects.filter(code=code).exists():
                raise ValidationFailed("code_taken", "该代码已被使用", "code")
            category = CaseCategory(code=code, owner=None if national else owner,
                                    owner_path="" if national else owner.path)
            action = "case.category_create"
        else:
            action = "case.category_update"
        category.name, category.parent, category.description, category.keywords = name, parent, description, keywords
        category.default_kind, category.default_difficulty = default_kind, default_difficulty
        category.sort, category.is_active = sort, bool(is_active)
        category.save()
        audit_log(actor=actor, action=action, obj=category, org=owner,
                  after={"code": category.code, "name": name, "active": category.is_active})
    return category
