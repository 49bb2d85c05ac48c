"""Membership writes. Each service validates first, then does the whole change in one transaction
with its audit entry, status history and rollup deltas inside it.

Member statuses move only through `_transition`, along MEMBER_TRANSITIONS.
"""

from __future__ import annotations

import datetime
import json
import secrets
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.accounts.services import normalize_phone
from gonghui.analytics import rollups
from gonghui.core import pii, ratelimit, workdays
from gonghui.core.audit import audit_log
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.orgs.models import LEAF_KINDS, Division, Employer, Occupation, OrgUnit, Role
from gonghui.orgs.selectors import require_rank
from gonghui.orgs.validators import clean_uscc

from . import routing
from .identity import normalize_name, parse_id_number
from .models import (
    CARD_STATUSES,
    HOLDING_STATUSES,
    Application,
    ChangeRequest,
    EmploymentForm,
    Member,
    MemberEvent,
    MembershipPolicy,
    MemberStatus,
    Notice,
    OrgNotice,
    PlatformRole,
    Stint,
    Transfer,
)
from .numbers import member_nos

# --- Metrics (Rollup / DailyRollup names) ---------------------------------------------------------
PENDING = "applications.pending"
OVERDUE = "applications.overdue"
DECIDED = "applications.decided"
GIG = "members.gig"
AT_COUNTED = "members.at_counted_employers"  # members whose employer's headcount is known (入会率)
NEW_MEMBERS = "members.new"  # daily
APPROVALS = "applications.approved"  # daily
TRANSFERS_PENDING = "transfers.pending"
# Approval time histogram: hours from submission to decision, upper bounds of each bucket.
APPROVAL_BUCKETS = (1, 4, 8, 24, 48, 72, 120, 240, 720)


def member_metric(status: str) -> str:
    return f"members.{status}"


def approval_bucket(hours: float) -> str:
    for bound in APPROVAL_BUCKETS:
        if hours <= bound:
            return f"approval_hours.le{bound}"
    return "approval_hours.inf"


MEMBER_TRANSITIONS: dict[str, set[str]] = {
    "": {MemberStatus.ACTIVE},
    MemberStatus.ACTIVE: {MemberStatus.RETAINED, MemberStatus.TRANSFERRING, MemberStatus.SUSPENDED,
                          MemberStatus.WITHDRAWN, MemberStatus.DECEASED},
    MemberStatus.RETAINED: {MemberStatus.ACTIVE, MemberStatus.TRANSFERRING, MemberStatus.WITHDRAWN,
                            MemberStatus.DECEASED},
    MemberStatus.TRANSFERRING: {MemberStatus.ACTIVE, MemberStatus.RETAINED, MemberStatus.WITHDRAWN,
                                MemberStatus.DECEASED},
    MemberStatus.SUSPENDED: {MemberStatus.ACTIVE, MemberStatus.WITHDRAWN, MemberStatus.DECEASED},
    MemberStatus.WITHDRAWN: {MemberStatus.ACTIVE},  # rejoining, through a new application
    MemberStatus.DECEASED: set(),
}


def _status_label(status: str) -> str:
    return MemberStatus(status).label if status else "申请中"


def _member_rollup(member: Member, sign: int, path: str | None = None) -> None:
    """Add (sign=1) or remove (sign=-1) the member's contribution to the totals of its union."""
    deltas = {member_metric(member.status): sign}
    if member.status in HOLDING_STATUSES:
        if member.is_gig:
            deltas[GIG] = sign
        if member.employer_id and member.employer.employee_count:
            deltas[AT_COUNTED] = sign
    rollups.rollup_add(path or member.org_path, deltas)


def _transition(member: Member, to_status: str, *, actor, action: str, reason: str = "",
                org: OrgUnit | None = None) -> MemberEvent:
    """The one place a member's status or union changes. Caller holds the row lock."""
    if to_status not in MEMBER_TRANSITIONS[member.status if member.pk else ""]:
        raise Conflict("bad_transition",
                       f"会籍状态为「{_status_label(member.status)}」时不能变为「{_status_label(to_status)}」",
                       "status")
    from_status = member.status if member.pk else ""
    if member.pk:
        _member_rollup(member, -1)
    member.status = to_status
    if org is not None:
        member.org, member.org_path, member.province_code = org, org.path, org.province_code
    member.status_changed_at = timezone.now()
    member.save()
    _member_rollup(member, 1)
    return MemberEvent.objects.create(
        member=member, from_status=from_status, to_status=to_status, action=action, reason=reason[:300],
        org=member.org, org_path=member.org_path, actor=actor if getattr(actor, "pk", None) else None,
    )


def _notify(user_id: int | None, title: str, body: str, link: str = "") -> None:
    if user_id:
        Notice.objects.create(user_id=user_id, title=title, body=body[:500], link=link)


def _notify_org(org: OrgUnit, kind: str, title: str, body: str, link: str = "") -> None:
    OrgNotice.objects.create(org=org, org_path=org.path, kind=kind, title=title, body=body[:500], link=link)


# --- Policy --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    auto_approve: bool
    decide_within_days: int
    routing: list[str]


def policy_for(org: OrgUnit) -> Policy:
    """Nearest ancestor-or-self that sets a value wins; then settings."""
    auto, days, rules = None, None, None
    for _path, p_auto, p_days, p_rules in routing.policies_along(org.path):
        auto = p_auto if auto is None else auto
        days = p_days if days is None else days
        rules = p_rules if (rules is None and p_rules) else rules
    return Policy(
        auto_approve=bool(auto),
        decide_within_days=days or settings.GONGHUI_MEMBERSHIP_DECIDE_DAYS,
        routing=rules or list(settings.GONGHUI_MEMBERSHIP_ROUTING),
    )


POLICY_FIELDS = ("auto_approve", "decide_within_days", "routing")


def policy_set(*, actor, org: OrgUnit, auto_approve: bool | None = None, decide_within_days: int | None = None,
               routing_rules: list[str] | None = None, inherit: list[str] | tuple = ()) -> MembershipPolicy:
    """Set this node's own values (None leaves a value as it is); fields named in `inherit` go back
    to following the nearest ancestor that sets them."""
    require_rank(actor, org.path, Role.ADMIN, "只有本级工会管理员可以设置入会政策")
    if set(inherit) - set(POLICY_FIELDS):
        raise ValidationFailed("inherit_invalid", "只能恢复继承：auto_approve、decide_within_days、routing", "inherit")
    if decide_within_days is not None and not 1 <= int(decide_within_days) <= 30:
        raise ValidationFailed("days_invalid", "审批时限应为1至30个工作日", "decide_within_days")
    if routing_rules is not None and routing_rules != []:
        routing.validate_rules(routing_rules)
    with transaction.atomic():
        policy, _ = MembershipPolicy.objects.select_for_update().get_or_create(org=org)
        before = {"auto_approve": policy.auto_approve, "decide_within_days": policy.decide_within_days,
                  "routing": policy.routing}
        if auto_approve is not None:
            policy.auto_approve = auto_approve
        if decide_within_days is not None:
            policy.decide_within_days = int(decide_within_days)
        if routing_rules is not None:
            policy.routing = routing_rules
        for name in inherit:
            setattr(policy, name, [] if name == "routing" else None)
        policy.updated_by = actor
        policy.save()
        audit_log(actor=actor, action="membership.policy", obj=policy, object_repr=f"{org.name}入会政策", org=org,
                  before=before, after={"auto_approve": policy.auto_approve,
                                        "decide_within_days": policy.decide_within_days, "routing": policy.routing})
    return policy


# --- Input ---------------------------------------------------------------------------------------


@dataclass
class JobInput:
    employer: Employer | None
    employer_name: str
    employer_uscc: str
    division: Division | None
    employment_form: str
    occupation: Occupation | None
    platform: Employer | None
    platform_role: str
    job_title: str

    def place(self) -> routing.Place:
        return routing.Place(employer=self.employer, division=self.division or (self.employer.division if self.employer else None),
                             employment_form=self.employment_form, platform=self.platform,
                             platform_role=self.platform_role, employer_name=self.employer_name)


def _one_line(value, *, field: str, label: str) -> str:
    """Whitespace collapsed; control and other invisible characters (a NUL byte) refused by name
    rather than left for the database to reject."""
    text = " ".join(str(value or "").split())
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs"} for ch in text):
        raise ValidationFailed("invalid_characters", f"{label}含有不可见或无效字符，请删除后重试", field)
    return text


def _division(code: str | None, field: str = "division_code") -> Division | None:
    code = (code or "").strip()
    if not code:
        return None
    division = Division.objects.filter(code=code).first()
    if division is None:
        raise ValidationFailed("division_unknown", f"行政区划代码 {code} 不存在，请从列表中选择", field)
    return division


def clean_job(*, employer_id=None, employer: dict | None = None, employment_form: str, occupation_code: str | None = None,
              platform_id=None, platform_role: str = "", job_title: str = "", division_code: str | None = None) -> JobInput:
    if employment_form not in EmploymentForm.values:
        raise ValidationFailed("employment_form_invalid", "请选择用工形式：劳动合同、劳务派遣、灵活就业或平台网约",
                               "employment_form")
    found = None
    name = uscc = ""
    if employer_id not in (None, ""):
        try:
            found = Employer.objects.select_related("org", "division").get(pk=int(employer_id))
        except (ValueError, TypeError, Employer.DoesNotExist):
            raise ValidationFailed("employer_unknown", "所选单位不存在，请重新搜索选择", "employer_id") from None
    elif employer:
        name = _one_line(employer.get("name"), field="employer.name", label="单位名称")
        if not 2 <= len(name) <= 200:
            raise ValidationFailed("employer_name_required", "请填写单位全称（2至200个字）", "employer.name")
        uscc = str(employer.get("uscc") or "").strip()
        if uscc:
            uscc = clean_uscc(uscc, field="employer.uscc") or ""
            found = Employer.objects.select_related("org", "division").filter(uscc=uscc).first()
        division_code = division_code or employer.get("division_code")
        if found is None and not division_code:
            raise ValidationFailed("division_required", "请选择单位所在地（乡镇或街道）", "employer.division_code")
    elif employment_form in (EmploymentForm.LABOR_CONTRACT, EmploymentForm.DISPATCH):
        raise ValidationFailed("employer_required", "签订劳动合同或劳务派遣的职工请选择或填写所在单位", "employer_id")
    division = _division(division_code, "employer.division_code" if employer else "division_code")
    if found is None and division is None:
        raise ValidationFailed("division_required", "请选择您工作或居住的乡镇（街道）", "division_code")
    occupation = None
    if occupation_code:
        occupation = Occupation.objects.filter(code=str(occupation_code).strip(), level=4).first()
        if occupation is None:
            raise ValidationFailed("occupation_unknown", f"职业代码 {occupation_code} 不在2022版职业分类大典中，请从列表中选择",
                                   "occupation_code")
    platform = None
    if platform_id not in (None, ""):
        try:
            platform = Employer.objects.select_related("org").get(pk=int(platform_id), is_platform=True)
        except (ValueError, TypeError, Employer.DoesNotExist):
            raise ValidationFailed("platform_unknown", "所选平台不存在，请重新选择", "platform_id") from None
    if platform_role and platform_role not in PlatformRole.values:
        raise ValidationFailed("platform_role_invalid", "请选择平台工作类型", "platform_role")
    if employment_form != EmploymentForm.PLATFORM:
        platform, platform_role = None, ""
    job_title = _one_line(job_title, field="job_title", label="岗位名称")
    if len(job_title) > 100:
        raise ValidationFailed("job_title_too_long", "岗位名称过长（最多100个字）", "job_title")
    return JobInput(employer=found, employer_name="" if found else name, employer_uscc="" if found else uscc,
                    division=division, employment_form=employment_form, occupation=occupation, platform=platform,
                    platform_role=platform_role, job_title=job_title)


def _apply_job(obj, job: JobInput) -> None:
    obj.employer = job.employer
    obj.employer_name = job.employer_name
    obj.employer_uscc = job.employer_uscc
    obj.work_division = job.division or (job.employer.division if job.employer else None)
    obj.employment_form = job.employment_form
    obj.occupation = job.occupation
    obj.platform = job.platform
    obj.platform_role = job.platform_role
    obj.job_title = job.job_title


# --- Applications ---------------------------------------------------------------------------------


def _already_member_error(member: Member, actor) -> Conflict:
    own = member.user_id == actor.pk or (actor.phone_hash and member.phone_hash == actor.phone_hash)
    if own:
        return Conflict("already_member",
                        f"您已是「{member.org.name}」的会员（会员编号 {member.member_no_display}），无需重复入会。"
                        "换了工作请办理会员关系接转。", "id_number")
    return Conflict("already_member", "该身份证号已登记为工会会员。如有疑问请拨打12351职工服务热线。", "id_number")


def application_submit(*, actor: User, name: str, id_number: str, employment_form: str, consent: bool,
                       employer_id=None, employer: dict | None = None, occupation_code: str | None = None,
                       platform_id=None, platform_role: str = "", job_title: str = "",
                       division_code: str | None = None) -> tuple[Application, bool]:
    """One-click join. Returns (application, created). A repeated or concurrent submit by the same
    worker returns the application already pending."""
    if actor is None or not actor.is_authenticated or actor.kind != User.Kind.WORKER:
        raise PermissionDenied("请使用职工账户登录后申请入会")
    if consent is not True:
        raise ValidationFailed("consent_required", "请阅读并同意《个人信息处理规则》后再提交", "consent")
    name = normalize_name(name)
    identity = parse_id_number(id_number)
    id_hash = pii.lookup_hash("id", identity.number)
    existing = _existing_for(actor, id_hash)
    if existing is not None:
        return existing, False
    job = clean_job(employer_id=employer_id, employer=employer, employment_form=employment_form,
                    occupation_code=occupation_code, platform_id=platform_id, platform_role=platform_role,
                    job_title=job_title, division_code=division_code)
    place = job.place()
    found = routing.route(place)
    org = found.org
    policy = policy_for(org)
    now = timezone.now()
    app = Application(
        user=actor, name=name, gender=identity.gender, birth_date=identity.birth_date, org=org, org_path=org.path,
        province_code=org.province_code, route_rule=found.rule, route_reason=found.reason[:300],
        consent_version=settings.GONGHUI_CONSENT_VERSION, consented_at=now,
        due_at=workdays.deadline(now, policy.decide_within_days),
    )
    app.set_id_number(identity.number)
    app.set_phone(actor.phone)
    _apply_job(app, job)
    try:
        with transaction.atomic():
            app.save()
            # An approval of this person's earlier application may have committed after the checks
            # above (the pending-unique index made this insert wait for it): look again.
            if Member.objects.filter(id_hash=id_hash, status__in=list(HOLDING_STATUSES)).exists():
                raise _already_member_error(Member.objects.select_related("org").get(id_hash=id_hash), actor)
            rollups.rollup_add(org.path, {PENDING: 1})
            audit_log(actor=actor, action="membership.apply", obj=app, org=org,
                      after={"org_id": org.pk, "rule": found.rule, "due_at": app.due_at})
            if policy.auto_approve:
                _approve(app, actor=None, auto=True)
    except IntegrityError:
        # A concurrent submit for the same ID number won the race: answer with its application.
        existing = _existing_for(actor, id_hash)
        if existing is not None:
            return existing, False
        raise
    return app, True


def _existing_for(actor: User, id_hash: str) -> Application | None:
    """The pending application this worker already has for this person; errors for anything else.
    Two index probes that fetch only what the decision needs (this runs on every join); the full
    rows are loaded only on the rare paths that answer with them."""
    member = Member.objects.filter(id_hash=id_hash).values("pk", "status").first()
    if member is not None and member["status"] in HOLDING_STATUSES:
        raise _already_member_error(Member.objects.select_related("org").get(pk=member["pk"]), actor)
    pending = list(Application.objects.filter(Q(id_hash=id_hash) | Q(user=actor), status=Application.Status.PENDING)
                   .values_list("pk", "id_hash", "user_id")[:2])
    for pk, found_hash, user_id in pending:
        if found_hash == id_hash:
            if user_id == actor.pk:
                return Application.objects.select_related("org").get(pk=pk)
            raise Conflict("application_pending", "该身份证号已有一份入会申请正在审批中，请勿重复提交。", "id_number")
    if pending:  # the worker's own pending application is for another ID number
        raise Conflict("application_pending_other",
                       "您已有一份入会申请正在审批中（身份证号不同）。如填错了信息，请先撤回该申请再重新提交。", "id_number")
    return None


def _lock_application(application: Application) -> Application:
    return Application.objects.select_for_update(of=("self",)).select_related("org", "employer", "user").get(
        pk=application.pk)


def application_approve(*, actor, application: Application) -> Member:
    require_rank(actor, application.org_path, Role.STAFF, "只有受理工会的工作人员可以审批入会申请")
    with transaction.atomic():
        app = _lock_application(application)
        if app.status == Application.Status.APPROVED and app.member_id:
            return app.member  # a double click: already done
        if app.status != Application.Status.PENDING:
            raise Conflict("not_pending", f"该申请已{app.get_status_display()}，不能再审批", "status")
        return _approve(app, actor=actor)


def _approve(app: Application, *, actor, auto: bool = False) -> Member:
    now = timezone.now()
    member = Member.objects.select_for_update().filter(id_hash=app.id_hash).first()
    if member is not None and member.holds_membership:
        raise Conflict("already_member", f"该职工已是「{member.org.name}」的会员，不能重复入会", "id_number")
    org = app.org
    if member is None:
        member = Member(id_hash=app.id_hash, member_no=member_nos(org.province_code, now.year, 1)[0],
                        joined_on=timezone.localdate(), card_key=secrets.token_urlsafe(16), source=app.source)
        action = "join"
    else:
        action = "rejoin"
        member.joined_on = timezone.localdate()
        Stint.objects.filter(member=member, status=Stint.Status.CURRENT).update(
            status=Stint.Status.ENDED, ended_on=timezone.localdate())
    for field in ("name", "id_encrypted", "id_masked", "gender", "birth_date", "phone_hash", "phone_encrypted",
                  "phone_masked", "employer", "employer_name", "employer_uscc", "work_division", "job_title",
                  "occupation", "employment_form", "platform", "platform_role"):
        setattr(member, field, getattr(app, field))
    if app.user_id and not Member.objects.filter(user_id=app.user_id).exclude(pk=member.pk).exists():
        member.user_id = app.user_id
    _transition(member, MemberStatus.ACTIVE, actor=actor, action=action, org=org,
                reason="自动批准" if auto else "入会申请批准")
    Stint.objects.create(member=member, org=org, org_path=org.path, started_on=timezone.localdate(),
                         how_started="application")
    app.status, app.decided_at, app.member = Application.Status.APPROVED, now, member
    app.decided_by = actor if getattr(actor, "pk", None) else None
    app.save(update_fields=["status", "decided_at", "decided_by", "member"])
    hours = (now - app.submitted_at).total_seconds() / 3600
    deltas = {PENDING: -1, DECIDED: 1, approval_bucket(hours): 1}
    if app.escalated_at:
        deltas[OVERDUE] = -1
    rollups.rollup_add(org.path, deltas)
    rollups.rollup_add_daily(org.path, timezone.localdate(), {NEW_MEMBERS: 1, APPROVALS: 1})
    audit_log(actor=actor, action="membership.approve", obj=app, org=org,
              after={"member_id": member.pk, "member_no": member.member_no, "auto": auto})
    _notify(app.user_id, "入会申请已批准",
            f"欢迎加入工会！您已成为「{org.name}」的会员，会员编号 {member.member_no_display}。电子会员卡已开通。",
            "/membership/card/")
    return member


def application_reject(*, actor, application: Application, reason: str) -> Application:
    require_rank(actor, application.org_path, Role.STAFF, "只有受理工会的工作人员可以审批入会申请")
    reason = _one_line(reason, field="reason", label="不予批准的原因")
    if not 2 <= len(reason) <= 500:
        raise ValidationFailed("reason_required", "请填写不予批准的原因（2至500个字），职工会看到这段说明", "reason")
    with transaction.atomic():
        app = _lock_application(application)
        if app.status == Application.Status.REJECTED:
            return app
        if app.status != Application.Status.PENDING:
            raise Conflict("not_pending", f"该申请已{app.get_status_display()}，不能再审批", "status")
        now = timezone.now()
        app.status, app.decided_at, app.decided_by, app.reject_reason = Application.Status.REJECTED, now, actor, reason
        app.save(update_fields=["status", "decided_at", "decided_by", "reject_reason"])
        deltas = {PENDING: -1, DECIDED: 1, approval_bucket((now - app.submitted_at).total_seconds() / 3600): 1}
        if app.escalated_at:
            deltas[OVERDUE] = -1
        rollups.rollup_add(app.org_path, deltas)
        audit_log(actor=actor, action="membership.reject", obj=app, org=app.org, after={"reason": reason})
        _notify(app.user_id, "入会申请未通过", f"「{app.org.name}」未批准您的入会申请：{reason}", "/membership/")
    return app


def application_withdraw(*, actor, application: Application) -> Application:
    if application.user_id != getattr(actor, "pk", None):
        raise NotFound("入会申请")
    with transaction.atomic():
        app = _lock_application(application)
        if app.status == Application.Status.WITHDRAWN:
            return app
        if app.status != Application.Status.PENDING:
            raise Conflict("not_pending", f"该申请已{app.get_status_display()}，不能撤回", "status")
        app.status, app.decided_at = Application.Status.WITHDRAWN, timezone.now()
        app.save(update_fields=["status", "decided_at"])
        deltas = {PENDING: -1}
        if app.escalated_at:
            deltas[OVERDUE] = -1
        rollups.rollup_add(app.org_path, deltas)
        audit_log(actor=actor, action="membership.withdraw_application", obj=app, org=app.org)
    return app


def overdue_escalate(now: datetime.datetime | None = None, batch: int = 500) -> int:
    """督办: pending applications and transfers past their deadline go on the parent node's board,
    and the worker is told. Idempotent; run every few minutes (manage.py membership_tick)."""
    now = now or timezone.now()
    done = 0
    while True:
        with transaction.atomic():
            apps = list(Application.objects.select_for_update(skip_locked=True, of=("self",)).select_related("org__parent")
                        .filter(status=Application.Status.PENDING, escalated_at__isnull=True, due_at__lt=now)
                        .order_by("due_at")[:batch])
            for app in apps:
                parent = app.org.parent or app.org
                app.escalated_at, app.supervisor, app.supervisor_path = now, parent, parent.path
                app.save(update_fields=["escalated_at", "supervisor", "supervisor_path"])
                rollups.rollup_add(app.org_path, {OVERDUE: 1})
                audit_log(actor=None, action="membership.escalate", obj=app, org=app.org,
                          after={"supervisor_id": parent.pk, "due_at": app.due_at})
                _notify_org(parent, "escalation", "入会申请超时督办",
                            f"「{app.org.name}」收到的入会申请（{app.name_masked}）已超过办理时限，请督促办理。",
                            f"/console/membership/applications/{app.pk}/")
                _notify(app.user_id, "您的入会申请已提请督办",
                        f"「{app.org.name}」未在时限内办理您的入会申请，已提请上级「{parent.name}」督办，请耐心等待。",
                        "/membership/")
            transfers = list(Transfer.objects.select_for_update(skip_locked=True, of=("self",))
                             .select_related("to_org__parent", "member")
                             .filter(status=Transfer.Status.PENDING, escalated_at__isnull=True, due_at__lt=now)
                             .order_by("due_at")[:batch])
            for tr in transfers:
                parent = tr.to_org.parent or tr.to_org
                tr.escalated_at = now
                tr.save(update_fields=["escalated_at"])
                audit_log(actor=None, action="membership.transfer_escalate", obj=tr, org=tr.to_org,
                          object_repr=f"{tr.member.name_masked}的会员关系接转")
                _notify_org(parent, "escalation", "会员关系接转超时督办",
                            f"「{tr.to_org.name}」未在时限内接收转入会员（{tr.member.name_masked}），请督促办理。",
                            f"/console/membership/transfers/{tr.pk}/")
                _notify(tr.member.user_id, "您的会员关系接转已提请督办",
                        f"「{tr.to_org.name}」未在时限内办理接收，已提请上级「{parent.name}」督办。", "/membership/")
        done += len(apps) + len(transfers)
        if len(apps) < batch and len(transfers) < batch:
            return done


# --- Member status --------------------------------------------------------------------------------


def _lock_member(member: Member) -> Member:
    return Member.objects.select_for_update(of=("self",)).select_related("org", "employer").get(pk=member.pk)


def member_retain(*, actor, member: Member, reason: str) -> Member:
    """保留会籍: retired or unemployed members stay where they are; when the employer closed, the
    membership is held by the higher union (the parent of the employer's union)."""
    require_rank(actor, member.org_path, Role.STAFF)
    if reason not in Member.RetainReason.values:
        raise ValidationFailed("retain_reason_invalid", "请选择保留会籍的原因：退休、失业或用人单位关闭", "reason")
    with transaction.atomic():
        m = _lock_member(member)
        org = None
        if reason == Member.RetainReason.EMPLOYER_CLOSED and m.org.kind in LEAF_KINDS and m.org.parent_id:
            org = m.org.parent
        old = m.org
        m.retain_reason = reason
        _transition(m, MemberStatus.RETAINED, actor=actor, action="retain", reason=Member.RetainReason(reason).label,
                    org=org)
        if org is not None:
            _restint(m, org, "transferred", "retained_by_higher")
        audit_log(actor=actor, action="membership.retain", obj=m, org=old,
                  after={"reason": reason, "org_id": m.org_id})
    return m


def _restint(member: Member, org: OrgUnit, how_ended: str, how_started: str) -> None:
    today = timezone.localdate()
    Stint.objects.filter(member=member, status=Stint.Status.CURRENT).update(
        status=Stint.Status.TRANSFERRED if how_ended == "transferred" else Stint.Status.ENDED,
        ended_on=today, how_ended=how_ended)
    Stint.objects.create(member=member, org=org, org_path=org.path, started_on=today, how_started=how_started)


def member_set_status(*, actor, member: Member, status: str, reason: str = "") -> Member:
    """Staff: suspend, reinstate (suspended/retained → active), record a death, or a withdrawal."""
    allowed = {MemberStatus.SUSPENDED: "suspend", MemberStatus.ACTIVE: "reinstate",
               MemberStatus.DECEASED: "deceased", MemberStatus.WITHDRAWN: "withdraw"}
    if status not in allowed:
        raise ValidationFailed("status_invalid", "不能直接设置为该状态（保留会籍与接转请使用对应功能）", "status")
    require_rank(actor, member.org_path, Role.STAFF)
    reason = _one_line(reason, field="reason", label="原因")
    if status in (MemberStatus.SUSPENDED, MemberStatus.WITHDRAWN) and len(reason) < 2:
        raise ValidationFailed("reason_required", "请填写原因", "reason")
    with transaction.atomic():
        m = _lock_member(member)
        if m.status == status:
            return m
        if status == MemberStatus.ACTIVE and m.status == MemberStatus.TRANSFERRING:
            raise Conflict("bad_transition", "接转中的会员由接收工会办理接收后恢复正常", "status")
        if status == MemberStatus.ACTIVE and m.status == MemberStatus.WITHDRAWN:
            raise Conflict("bad_transition", "已退会的职工需本人重新申请入会（须本人同意个人信息处理）", "status")
        if status == MemberStatus.ACTIVE and m.status == MemberStatus.WITHDRAWN:
            raise Conflict("bad_transition", "已退会的人员重新入会须本人提交入会申请，不能直接恢复会籍", "status")
        before = m.status
        if status == MemberStatus.ACTIVE:
            m.retain_reason = ""
        _transition(m, status, actor=actor, action=allowed[status], reason=reason)
        if status in (MemberStatus.WITHDRAWN, MemberStatus.DECEASED):
            _end_membership(m, allowed[status])
        audit_log(actor=actor, action=f"membership.{allowed[status]}", obj=m, org=m.org,
                  before={"status": before}, after={"status": status, "reason": reason})
        if status != MemberStatus.DECEASED:
            _notify(m.user_id, "会籍状态变更", f"您的会籍状态已变更为「{MemberStatus(status).label}」。{reason}",
                    "/membership/")
    return m


def _end_membership(m: Member, how: str) -> None:
    Stint.objects.filter(member=m, status=Stint.Status.CURRENT).update(
        status=Stint.Status.ENDED, ended_on=timezone.localdate(), how_ended=how)
    m.card_key = secrets.token_urlsafe(16)  # every card QR issued so far stops working
    m.save(update_fields=["card_key"])
    for tr in Transfer.objects.filter(member=m, status=Transfer.Status.PENDING):
        tr.status = Transfer.Status.CANCELLED
        tr.save(update_fields=["status"])
        rollups.rollup_add(tr.to_path, {TRANSFERS_PENDING: -1})


def member_withdraw_self(*, actor, member: Member, reason: str = "") -> Member:
    """A member leaves the union (退会) on their own request."""
    if member.user_id != getattr(actor, "pk", None):
        raise NotFound("会员")
    with transaction.atomic():
        m = _lock_member(member)
        if m.status == MemberStatus.WITHDRAWN:
            return m
        before = m.status
        _transition(m, MemberStatus.WITHDRAWN, actor=actor, action="withdraw", reason=reason or "本人申请退会")
        _end_membership(m, "withdraw")
        audit_log(actor=actor, action="membership.withdraw", obj=m, org=m.org, before={"status": before},
                  after={"status": MemberStatus.WITHDRAWN})
        _notify_org(m.org, "withdrawal", "会员退会", f"会员 {m.name_masked}（{m.member_no_display}）已申请退会。",
                    f"/console/membership/members/{m.pk}/")
    return m


# --- Transfers ------------------------------------------------------------------------------------


def transfer_request(*, actor, member: Member, employment_form: str, employer_id=None, employer: dict | None = None,
                     platform_id=None, platform_role: str = "", job_title: str = "",
                     division_code: str | None = None, residence_code: str | None = None) -> tuple[Transfer, bool]:
    """会员关系接转 on a job change: routing picks the receiving union; the member stays a member of
    the old union until the receiving union registers them. The old union is told and cannot block.
    `division_code`: where an unlisted new employer is (or, without an employer, where the member
    works); `residence_code`: where the member lives — the union there holds the membership when
    the new employer has no union (defaults to the place of work)."""
    is_self = member.user_id == getattr(actor, "pk", None)
    if not is_self:
        require_rank(actor, member.org_path, Role.STAFF)
    job = clean_job(employer_id=employer_id, employer=employer, employment_form=employment_form,
                    platform_id=platform_id, platform_role=platform_role, job_title=job_title,
                    division_code=division_code)
    residence = _division(residence_code, "residence_code")
    found = routing.route_residence(job.place(), residence=residence)
    with transaction.atomic():
        m = _lock_member(member)
        pending = Transfer.objects.filter(member=m, status=Transfer.Status.PENDING).first()
        if pending is not None:
            if pending.to_org_id == found.org.pk:
                return pending, False
            raise Conflict("transfer_pending", f"已有一项转往「{pending.to_org.name}」的接转正在办理，请先取消后再申请",
                           "employer_id")
        if m.status not in (MemberStatus.ACTIVE, MemberStatus.RETAINED):
            raise Conflict("bad_transition", f"会籍状态为「{m.get_status_display()}」，不能办理接转", "status")
        if found.org.pk == m.org_id:
            raise ValidationFailed("same_union", f"新单位仍由「{m.org.name}」管理，无需接转；如需更新单位信息，请提交信息更正",
                                   "employer_id")
        days = settings.GONGHUI_TRANSFER_DAYS
        tr = Transfer(member=m, from_org=m.org, from_path=m.org_path, to_org=found.org, to_path=found.org.path,
                      province_code=found.org.province_code, route_rule=found.rule, route_reason=found.reason[:300],
                      employment_form=job.employment_form, employer=job.employer, employer_name=job.employer_name,
                      employer_uscc=job.employer_uscc,
                      work_division=job.division or (job.employer.division if job.employer else None),
                      platform=job.platform, platform_role=job.platform_role, job_title=job.job_title,
                      requested_by=actor, due_at=workdays.deadline(timezone.now(), days))
        tr.save()
        _transition(m, MemberStatus.TRANSFERRING, actor=actor, action="transfer_request",
                    reason=f"申请转入「{found.org.name}」")
        rollups.rollup_add(found.org.path, {TRANSFERS_PENDING: 1})
        audit_log(actor=actor, action="membership.transfer_request", obj=tr, object_repr=f"{m.name_masked}的会员关系接转",
                  org=m.org, after={"to_org_id": found.org.pk, "rule": found.rule})
        _notify_org(m.org, "transfer_out", "会员转出告知",
                    f"会员 {m.name_masked}（{m.member_no_display}）因工作变动申请转入「{found.org.name}」，由接收工会办理，无需原工会审批。",
                    f"/console/membership/members/{m.pk}/")
        _notify_org(found.org, "transfer_in", "待接收的转入会员",
                    f"会员 {m.name_masked} 申请转入本会，请在{days}个工作日内办理接收。",
                    f"/console/membership/transfers/{tr.pk}/")
    return tr, True


def transfer_accept(*, actor, transfer: Transfer) -> Member:
    require_rank(actor, transfer.to_path, Role.STAFF, "只有接收工会的工作人员可以办理接收")
    with transaction.atomic():
        tr = Transfer.objects.select_for_update(of=("self",)).select_related("to_org", "from_org").get(pk=transfer.pk)
        if tr.status == Transfer.Status.DONE:
            return tr.member
        if tr.status != Transfer.Status.PENDING:
            raise Conflict("not_pending", "该接转已取消", "status")
        # The receiving union may have moved since the caller read the transfer: check the fresh path.
        require_rank(actor, tr.to_path, Role.STAFF, "只有接收工会的工作人员可以办理接收")
        m = _lock_member(tr.member)
        _member_rollup(m, -1)
        for field in ("employer", "employer_name", "employer_uscc", "work_division", "employment_form", "platform",
                      "platform_role", "job_title"):
            setattr(m, field, getattr(tr, field))
        m.retain_reason = ""
        m.save()
        _member_rollup(m, 1)
        _transition(m, MemberStatus.ACTIVE, actor=actor, action="transfer_in", org=tr.to_org,
                    reason=f"由「{tr.from_org.name}」转入")
        _restint(m, tr.to_org, "transferred", "transfer")
        tr.status, tr.completed_at, tr.completed_by = Transfer.Status.DONE, timezone.now(), actor
        tr.save(update_fields=["status", "completed_at", "completed_by"])
        rollups.rollup_add(tr.to_path, {TRANSFERS_PENDING: -1})
        audit_log(actor=actor, action="membership.transfer_accept", obj=tr, object_repr=f"{m.name_masked}的会员关系接转",
                  org=tr.to_org, after={"from_org_id": tr.from_org_id, "to_org_id": tr.to_org_id})
        _notify(m.user_id, "会员关系接转完成", f"您的会员关系已转入「{tr.to_org.name}」，会员编号不变。", "/membership/")
        _notify_org(tr.from_org, "transfer_done", "会员已转出", f"会员 {m.name_masked} 已转入「{tr.to_org.name}」。")
    return m


def transfer_cancel(*, actor, transfer: Transfer) -> Transfer:
    if transfer.member.user_id != getattr(actor, "pk", None):
        require_rank(actor, transfer.to_path, Role.STAFF)
    with transaction.atomic():
        tr = Transfer.objects.select_for_update().get(pk=transfer.pk)
        if tr.status == Transfer.Status.CANCELLED:
            return tr
        if tr.status != Transfer.Status.PENDING:
            raise Conflict("not_pending", "该接转已办结，不能取消", "status")
        m = _lock_member(tr.member)
        tr.status = Transfer.Status.CANCELLED
        tr.save(update_fields=["status"])
        back = MemberStatus.RETAINED if m.retain_reason else MemberStatus.ACTIVE
        _transition(m, back, actor=actor, action="transfer_cancel", reason="取消接转")
        rollups.rollup_add(tr.to_path, {TRANSFERS_PENDING: -1})
        audit_log(actor=actor, action="membership.transfer_cancel", obj=tr, object_repr=f"{m.name_masked}的会员关系接转",
                  org=m.org)
    return tr


# --- Corrections ---------------------------------------------------------------------------------

CHANGE_FIELDS = {"name": "姓名", "phone": "手机号", "employer_name": "单位名称", "employer_id": "所在单位",
                 "job_title": "岗位", "id_number": "身份证号"}
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
EVIDENCE_TYPES = {b"%PDF": "pdf", b"\x89PNG": "png", b"\xff\xd8\xff": "jpg"}


def change_request_submit(*, actor, member: Member, changes: dict, reason: str = "", evidence=None) -> ChangeRequest:
    """A member asks to correct their data; staff of their union review it. An ID number change
    needs evidence (a photo or scan of the ID card) and is only kept encrypted until decided."""
    if member.user_id != getattr(actor, "pk", None):
        raise NotFound("会员")
    unknown = set(changes) - set(CHANGE_FIELDS)
    if unknown:
        raise ValidationFailed("change_field_invalid", f"不能更正这些项目：{'、'.join(sorted(unknown))}", "changes")
    clean: dict = {}
    sensitive: dict = {}  # new ID number / phone: kept encrypted until decided, shown masked
    if "name" in changes:
        clean["name"] = normalize_name(changes["name"], field="name")
    if "phone" in changes:
        phone = normalize_phone(changes["phone"])
        if phone != member.phone:
            sensitive["phone"] = phone
            clean["phone"] = pii.mask_phone(phone)
    if "employer_id" in changes:
        employer = Employer.objects.filter(pk=changes["employer_id"]).first() if str(changes["employer_id"]).isdigit() else None
        if employer is None:
            raise ValidationFailed("employer_unknown", "所选单位不存在，请重新搜索选择", "employer_id")
        clean["employer_id"] = employer.pk
        clean["employer_label"] = employer.name
    if "employer_name" in changes:
        value = _one_line(changes["employer_name"], field="employer_name", label="单位名称")
        if not 2 <= len(value) <= 200:
            raise ValidationFailed("employer_name_required", "单位名称应为2至200个字", "employer_name")
        clean["employer_name"] = value
    if "job_title" in changes:
        value = _one_line(changes["job_title"], field="job_title", label="岗位名称")
        if len(value) > 100:
            raise ValidationFailed("job_title_too_long", "岗位名称过长（最多100个字）", "job_title")
        clean["job_title"] = value
    if "id_number" in changes:
        identity = parse_id_number(changes["id_number"])
        if identity.number == member.id_number:
            raise ValidationFailed("no_change", "新的身份证号与现有的相同", "id_number")
        if evidence is None:
            raise ValidationFailed("evidence_required", "更正身份证号需要上传身份证照片或扫描件作为证明", "evidence")
        sensitive["id_number"] = identity.number
        clean["id_number"] = pii.mask_id_number(identity.number)
    clean = {k: v for k, v in clean.items() if k in ("employer_label", "id_number", "phone")
             or str(getattr(member, k, "")) != str(v)}
    secret = pii.encrypt(json.dumps(sensitive)) if sensitive else ""
    if not [k for k in clean if k != "employer_label"]:
        raise ValidationFailed("no_change", "没有需要更正的内容", "changes")
    evidence_name = ""
    if evidence is not None:
        evidence_name = _check_evidence(evidence)
    reason = _one_line(reason, field="reason", label="说明")[:500]
    with transaction.atomic():
        m = _lock_member(member)
        if ChangeRequest.objects.filter(member=m, status=ChangeRequest.Status.PENDING).exists():
            raise Conflict("change_pending", "您已有一份信息更正正在审核，请等待审核结果后再提交", "changes")
        cr = ChangeRequest(member=m, org=m.org, org_path=m.org_path, changes=clean, changes_encrypted=secret,
                           reason=reason, requested_by=actor, evidence_name=evidence_name)
        if evidence is not None:
            cr.evidence.save(f"{secrets.token_hex(12)}.{evidence_name.rsplit('.', 1)[-1]}", evidence, save=False)
        cr.save()
        audit_log(actor=actor, action="membership.change_request", obj=cr, object_repr=f"{m.name_masked}的信息更正",
                  org=m.org, after={"fields": sorted(k for k in clean if k != "employer_label")})
    return cr


def _check_evidence(upload) -> str:
    size = getattr(upload, "size", None) or 0
    if size <= 0:
        raise ValidationFailed("evidence_empty", "证明材料是空文件，请重新选择", "evidence")
    if size > EVIDENCE_MAX_BYTES:
        raise ValidationFailed("evidence_too_large", "证明材料不能超过10MB", "evidence")
    head = upload.read(8)
    upload.seek(0)
    for magic, ext in EVIDENCE_TYPES.items():
        if head.startswith(magic):
            return f"证明材料.{ext}"
    raise ValidationFailed("evidence_type", "证明材料只能是 JPG、PNG 图片或 PDF 文件", "evidence")


def change_request_decide(*, actor, change_request: ChangeRequest, approve: bool, reason: str = "") -> ChangeRequest:
    require_rank(actor, change_request.org_path, Role.STAFF, "只有会员所在工会的工作人员可以审核信息更正")
    reason = _one_line(reason, field="reason", label="原因")
    if not approve and not 2 <= len(reason) <= 500:
        raise ValidationFailed("reason_required", "请填写不予更正的原因（2至500个字）", "reason")
    with transaction.atomic():
        cr = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
        if cr.status != ChangeRequest.Status.PENDING:
            if (cr.status == ChangeRequest.Status.APPROVED) == approve:
                return cr
            raise Conflict("not_pending", f"该更正申请已{cr.get_status_display()}", "status")
        m = _lock_member(cr.member)
        before: dict = {}
        after: dict = {}
        if approve:
            changes = cr.changes
            if "name" in changes:
                before["name"], after["name"] = m.name, changes["name"]
                m.name = changes["name"]
            sensitive = json.loads(pii.decrypt(cr.changes_encrypted) or "{}") if cr.changes_encrypted else {}
            if "phone" in changes and sensitive.get("phone"):
                before["phone"], after["phone"] = m.phone_masked, pii.mask_phone(sensitive["phone"])
                m.set_phone(sensitive["phone"])
            if "employer_id" in changes:
                employer = Employer.objects.filter(pk=changes["employer_id"]).first()
                if employer is not None:
                    _member_rollup(m, -1)
                    before["employer_id"], after["employer_id"] = m.employer_id, employer.pk
                    m.employer, m.employer_name, m.employer_uscc = employer, "", ""
                    m.save()
                    _member_rollup(m, 1)
            if "employer_name" in changes:
                before["employer_name"], after["employer_name"] = m.employer_name, changes["employer_name"]
                m.employer_name = changes["employer_name"]
            if "job_title" in changes:
                before["job_title"], after["job_title"] = m.job_title, changes["job_title"]
                m.job_title = changes["job_title"]
            if "id_number" in changes and sensitive.get("id_number"):
                identity = parse_id_number(sensitive["id_number"])
                new_hash = pii.lookup_hash("id", identity.number)
                if Member.objects.filter(id_hash=new_hash).exclude(pk=m.pk).exists():
                    raise Conflict("id_taken", "新的身份证号已属于另一位会员，请核实后处理", "id_number")
                before["id_number"], after["id_number"] = m.id_masked, pii.mask_id_number(identity.number)
                m.set_id_number(identity.number)
                m.gender, m.birth_date = identity.gender, identity.birth_date
            m.save()
            cr.status = ChangeRequest.Status.APPROVED
        else:
            cr.status = ChangeRequest.Status.REJECTED
            cr.reject_reason = reason
        cr.changes_encrypted = ""  # the new ID number / phone now live only on the member (or nowhere)
        cr.decided_at, cr.decided_by = timezone.now(), actor
        cr.save()
        audit_log(actor=actor, action="membership.change_approve" if approve else "membership.change_reject", obj=cr,
                  object_repr=f"{m.name_masked}的信息更正", org=m.org, before=before or None,
                  after=after or {"reason": reason})
        _notify(m.user_id, "信息更正" + ("已通过" if approve else "未通过"),
                "您提交的信息更正已审核通过。" if approve else f"您提交的信息更正未通过：{reason}", "/membership/")
    return cr


# --- Personal information -------------------------------------------------------------------------


def member_reveal(*, actor, member: Member, field: str) -> str:
    """Show one member's full ID number or phone to authorised staff, with an audit entry. Limited
    per staff member per day so that revealing cannot become a bulk export."""
    if field not in ("id_number", "phone"):
        raise ValidationFailed("field_invalid", "只能查看身份证号或手机号", "field")
    require_rank(actor, member.org_path, Role.STAFF, "只有会员所在工会的工作人员可以查看完整信息")
    ratelimit.check("pii_reveal_day", str(actor.pk), "今日查看完整个人信息的次数已达上限，如确需查看请联系上级管理员")
    with transaction.atomic():
        audit_log(actor=actor, action="membership.reveal", obj=member, org=member.org,
                  object_repr=f"{member.name}（{member.member_no}）", after={"field": field})
    return member.id_number if field == "id_number" else member.phone


# --- Worker account link --------------------------------------------------------------------------


def member_claimable(user: User) -> bool:
    """A roster listed this worker's phone for a membership no account holds yet."""
    if user is None or not user.is_authenticated or user.kind != User.Kind.WORKER or not user.phone_hash:
        return False
    if Member.objects.filter(user=user).exists():
        return False
    return Member.objects.filter(phone_hash=user.phone_hash, user__isnull=True,
                                 status__in=list(HOLDING_STATUSES)).exists()


def member_claim(*, actor: User, id_number: str) -> Member:
    """认领会籍: a worker takes up the membership a roster created for them by confirming their ID
    number. Both the login phone and the ID number must match the record: phone numbers are
    recycled, so the phone alone never links an account to someone's membership."""
    if actor is None or not actor.is_authenticated or actor.kind != User.Kind.WORKER:
        raise PermissionDenied("请使用职工账户登录")
    if Member.objects.filter(user=actor).exists():
        raise Conflict("already_linked", "您的账户已关联会员信息", "id_number")
    identity = parse_id_number(id_number)
    mismatch = ValidationFailed("claim_mismatch", "没有找到与您的手机号和身份证号都相符的会员记录。请核对身份证号，"
                                "或联系所在工会、拨打12351职工服务热线。", "id_number")
    with transaction.atomic():
        member = (Member.objects.select_for_update(of=("self",)).select_related("org")
                  .filter(id_hash=pii.lookup_hash("id", identity.number), user__isnull=True).first())
        if member is None or not actor.phone_hash or member.phone_hash != actor.phone_hash:
            raise mismatch
        member.user = actor
        member.save(update_fields=["user", "updated_at"])
        audit_log(actor=actor, action="membership.link_account", obj=member, org=member.org)
    return member


def notices_mark_read(*, actor) -> int:
    """The worker has seen their notices (the hub page lists them)."""
    return Notice.objects.filter(user=actor, read_at__isnull=True).update(read_at=timezone.now())


def card_statuses() -> set[str]:
    return set(CARD_STATUSES)
