"""Legal aid (工会法律援助): services and selectors.

A worker applies (directly, from an answered legal question, or through a 12351 case referred by
its handler); the application goes to the county-level or higher union responsible for the
worker's employer or place (union legal-aid centres sit at county level and above). That union
checks the documents (membership proof filled in from the member record, identity, hardship proof
when claimed, evidence), decides within its working-day limit (the clock pauses while the worker
supplies documents), assigns a lawyer or volunteer from its roster (or an ancestor's), follows the
stages with their hearings and statutory time limits, records the outcome and the closing report,
and archives the file.

Who may do what:
- the applicant: apply, add documents, answer a request for documents, withdraw, read their file;
- staff with a case role (Grant.case_role) on the handling union or above: read and handle; the
  supervisor case role archives; rosters of providers need the general STAFF role on the union;
- the assigned provider (AidProvider.user): read the files assigned to them, record stages,
  hearings, notes and the outcome.
Unknown and forbidden ids both raise NotFound.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Avg, Count, F, Q, QuerySet, Sum
from django.db.models.functions import Substr
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.accounts.services import normalize_phone
from gonghui.casedesk import services as casedesk
from gonghui.casedesk.models import Case
from gonghui.core import cursors, ratelimit, workdays
from gonghui.core.audit import audit_log
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.text import normalize_name
from gonghui.membership.models import Member, MemberStatus, Notice, OrgNotice
from gonghui.orgs.models import CASE_ROLE_RANK, CaseRole, Division, OrgKind, OrgUnit, Role
from gonghui.orgs.paths import STEP, ancestor_paths
from gonghui.orgs.selectors import actor_scope, require_rank

from .models import (
    AID_OPEN_STATUSES,
    AidApplication,
    AidDeadline,
    AidDocument,
    AidEvent,
    AidProvider,
    AidStage,
    AidStatus,
    Expertise,
    LegalPolicy,
)

HANDLER = CASE_ROLE_RANK[CaseRole.HANDLER]
SUPERVISOR = CASE_ROLE_RANK[CaseRole.SUPERVISOR]
Action = AidEvent.Action
PAGE_MAX = 100
AID_LEVELS = (OrgKind.NATIONAL, OrgKind.PROVINCE, OrgKind.CITY, OrgKind.COUNTY)

TRANSITIONS: dict[str, set[str]] = {
    AidStatus.SUBMITTED: {AidStatus.NEEDS_DOCS, AidStatus.APPROVED, AidStatus.REJECTED, AidStatus.WITHDRAWN},
    AidStatus.NEEDS_DOCS: {AidStatus.SUBMITTED, AidStatus.REJECTED, AidStatus.WITHDRAWN},
    AidStatus.APPROVED: {AidStatus.ASSIGNED, AidStatus.WITHDRAWN},
    AidStatus.ASSIGNED: {AidStatus.ASSIGNED, AidStatus.CONCLUDED},
    AidStatus.CONCLUDED: {AidStatus.ARCHIVED},
    AidStatus.REJECTED: set(),
    AidStatus.ARCHIVED: set(),
    AidStatus.WITHDRAWN: set(),
}

# The case desk's category groups, as a legal-aid dispute type.
CASE_GROUP_EXPERTISE = {
    "wages": Expertise.WAGES, "contract": Expertise.CONTRACT, "termination": Expertise.DISMISSAL,
    "insurance": Expertise.SOCIAL_INSURANCE, "injury": Expertise.INJURY, "hours": Expertise.HOURS,
    "women": Expertise.WOMEN, "platform": Expertise.PLATFORM,
}

clean_text = casedesk.clean_text
DOCUMENTS_MAX = 20  # files on one application


# Audit actions written here, with the console's label for each (gonghui/console/display.py).
AUDIT_LABELS = {
    "legal_aid.apply": "申请法律援助",
    "legal_aid.approve": "批准法律援助",
    "legal_aid.archive": "法律援助归档",
    "legal_aid.assign": "指派法律援助承办人",
    "legal_aid.conclude": "法律援助结案",
    "legal_aid.deadline": "登记开庭/期限",
    "legal_aid.document_view": "查看法律援助材料",
    "legal_aid.documents": "上传法律援助材料",
    "legal_aid.note": "法律援助办理记录",
    "legal_aid.refer": "诉求转法律援助",
    "legal_aid.reject": "不予法律援助",
    "legal_aid.request_documents": "通知补充法律援助材料",
    "legal_aid.stage": "记录法律援助办理阶段",
    "legal_aid.stage_decision": "记录法律援助阶段结果",
    "legal_aid.supply": "补充法律援助材料",
    "legal_aid.withdraw": "撤回法律援助申请",
    "legal_aid.provider": "维护法律援助承办人名册",
    "legal.policy": "修改法务设置",
}


# --- Policy ---------------------------------------------------------------------------------------


def policy_value(org: OrgUnit, name: str) -> int | str:
    """A legal-affairs setting for `org`: its own, else the nearest ancestor's, else the national default."""
    paths = ancestor_paths(org.path) + [org.path]
    policies = {p.org.path: p for p in LegalPolicy.objects.select_related("org").filter(org__path__in=paths)}
    for path in reversed(paths):
        value = getattr(policies.get(path), name, None)
        if value not in (None, ""):
            return value
    return settings.GONGHUI_LEGAL_DEFAULTS.get(name, "")


POLICY_FIELDS = {"aid_decide_days": ("法律援助审查时限", 1, 60), "opinion_reply_days": ("意见书回复期限", 1, 90),
                 "suggestion_reply_days": ("建议书回复期限", 1, 60), "reminder_reply_days": ("提示函回复期限", 0, 90)}


def policy_set(*, actor, org: OrgUnit, data: dict) -> LegalPolicy:
    """A union's admin sets its legal-affairs limits (None: inherit) and its letters' issuer code."""
    require_rank(actor, org.path, Role.ADMIN, "只有本级工会管理员可以修改法务设置")
    values = {}
    for name, (label, low, high) in POLICY_FIELDS.items():
        if name in data:
            raw = data[name]
            values[name] = None if raw in (None, "") else casedesk._count(raw, field=name, label=label, low=low,
                                                                          high=high, default=0)
    if "letter_prefix" in data:
        prefix = clean_text(data["letter_prefix"], field="letter_prefix", label="文号机关代字", max_len=20)
        if any(ch in prefix for ch in "〔〕[]第号"):
            raise ValidationFailed("letter_prefix_invalid", "文号机关代字只填代字本身，如「深南工」，年份和序号自动生成",
                                   "letter_prefix")
        values["letter_prefix"] = prefix
    if "letter_contact" in data:
        values["letter_contact"] = clean_text(data["letter_contact"], field="letter_contact", label="文书联系人及电话",
                                              max_len=100)
    with transaction.atomic():
        policy, _ = LegalPolicy.objects.select_for_update().get_or_create(org=org)
        before = {name: getattr(policy, name) for name in values}
        for name, value in values.items():
            setattr(policy, name, value)
        policy.updated_by = actor
        policy.save()
        audit_log(actor=actor, action="legal.policy", obj=policy, object_repr=str(policy), org=org, before=before,
                  after=values)
    return policy


# --- Where an application goes -------------------------------------------------------------------


def aid_union_for(org: OrgUnit) -> OrgUnit:
    """The union that gives legal aid for a case held at `org`: itself when county-level or higher,
    else its nearest such ancestor."""
    if org.kind in AID_LEVELS:
        return org
    paths = ancestor_paths(org.path)
    found = (OrgUnit.objects.filter(path__in=paths, kind__in=AID_LEVELS, is_active=True)
             .order_by("-path").first())
    if found is None:  # a tree without a county above (never in a real deployment): the top node
        found = OrgUnit.objects.filter(path__in=paths or [org.path]).order_by("path").first() or org
    return found


def _decide_due(org: OrgUnit, start: datetime.datetime) -> datetime.datetime:
    return workdays.deadline(start, int(policy_value(org, "aid_decide_days")))


# --- Access ---------------------------------------------------------------------------------------


def _is_worker(actor) -> bool:
    return getattr(actor, "kind", None) == User.Kind.WORKER


def _provider_of(actor) -> AidProvider | None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    cached = getattr(actor, "_gonghui_aid_provider", False)
    if cached is False:
        cached = AidProvider.objects.filter(user=actor, is_active=True).first()
        if cached is None and getattr(actor, "phone_hash", None):
            # Registered by a union before this account existed: the phone, proven by the SMS code at
            # sign-in, links them.
            cached = AidProvider.objects.filter(phone_hash=actor.phone_hash, user__isnull=True, is_active=True).first()
            if cached is not None:
                AidProvider.objects.filter(pk=cached.pk, user__isnull=True).update(user=actor)
                cached.user = actor
        actor._gonghui_aid_provider = cached
    return cached


def aid_visible(actor) -> QuerySet[AidApplication]:
    """Every application the actor may read: staff by case role over the handling union, the assigned
    provider theirs, the applicant their own."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return AidApplication.objects.none()
    condition = Q(applicant=actor)
    provider = _provider_of(actor)
    if provider is not None:
        condition |= Q(provider=provider, status__in=[AidStatus.ASSIGNED, AidStatus.CONCLUDED, AidStatus.ARCHIVED])
    if not _is_worker(actor):
        condition |= actor_scope(actor).case_q("org_path")
    return AidApplication.objects.filter(condition)


def aid_get(*, actor, application_id) -> AidApplication:
    try:
        pk = int(application_id)
    except (TypeError, ValueError):
        raise NotFound("法律援助申请") from None
    application = (aid_visible(actor).select_related("org", "provider", "employer", "work_division", "member", "case")
                   .filter(pk=pk).first())
    if application is None:
        raise NotFound("法律援助申请")
    return application


def role_of(actor, application: AidApplication) -> str:
    """'staff' (case role over the union), 'provider' (assigned to it), 'applicant', or ''."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return ""
    if not _is_worker(actor) and actor_scope(actor).case_rank_at(application.org_path) >= HANDLER:
        return "staff"
    provider = _provider_of(actor)
    if provider is not None and application.provider_id == provider.pk:
        return "provider"
    if application.applicant_id == actor.pk:
        return "applicant"
    return ""


def _require_staff(actor, application: AidApplication, rank: int = HANDLER) -> None:
    if _is_worker(actor) or actor_scope(actor).case_rank_at(application.org_path) < rank:
        raise PermissionDenied("只有有诉求督办质检权限的人员可以执行此操作" if rank >= SUPERVISOR
                               else "只有承办工会有诉求办理权限的人员可以办理法律援助")


def _require_handler_or_provider(actor, application: AidApplication) -> str:
    role = role_of(actor, application)
    if role not in ("staff", "provider"):
        raise PermissionDenied("只有承办工会的工作人员或指派的承办律师可以执行此操作")
    return role


def _lock(application: AidApplication) -> AidApplication:
    return (AidApplication.objects.select_for_update(of=("self",)).select_related("org", "provider")
            .get(pk=application.pk))


def _move(application: AidApplication, to_status: str) -> str:
    if to_status not in TRANSITIONS[application.status]:
        raise Conflict("status_invalid", f"法律援助申请当前为「{application.get_status_display()}」，不能"
                       f"{'改为' + AidStatus(to_status).label}", "status")
    was = application.status
    application.status = to_status
    return was


def _event(application: AidApplication, action: str, actor, *, was: str = "", text: str = "",
           worker_visible: bool = True) -> AidEvent:
    return AidEvent.objects.create(application=application, action=action,
                                   actor=actor if getattr(actor, "pk", None) else None,
                                   from_status=was or application.status, to_status=application.status,
                                   text=text, worker_visible=worker_visible)


def _audit(actor, action: str, application: AidApplication, **kwargs) -> None:
    audit_log(actor=actor if getattr(actor, "pk", None) else None, action=f"legal_aid.{action}", obj=application,
              object_repr=application.number, org=application.org, **kwargs)


def _notify_applicant(application: AidApplication, title: str, body: str) -> None:
    if application.applicant_id:
        Notice.objects.create(user_id=application.applicant_id, title=title[:100], body=body[:500],
                              link=f"/legal/aid/{application.pk}/")


def _notify_org(org: OrgUnit, title: str, body: str, link: str) -> None:
    OrgNotice.objects.create(org=org, org_path=org.path, kind="legal_aid", title=title[:100], body=body[:500],
                             link=link)


def _notify_provider(provider: AidProvider | None, title: str, body: str, link: str) -> None:
    if provider is not None and provider.user_id:
        Notice.objects.create(user_id=provider.user_id, title=title[:100], body=body[:500], link=link)


# --- Documents and the checklist ------------------------------------------------------------------


def membership_proof(member: Member | None) -> dict:
    """The proof of membership a union legal-aid centre asks for, from the member record."""
    if member is None or member.status not in (MemberStatus.ACTIVE, MemberStatus.RETAINED):
        return {}
    return {"member_no": member.member_no, "union": member.org.name, "joined_on": member.joined_on.isoformat(),
            "status": member.get_status_display(), "checked_at": timezone.now().isoformat(timespec="seconds")}


def _check_documents(documents) -> list[tuple]:
    """[(kind, upload)] → [(kind, upload, ext, content type)], sniffed like case attachments."""
    checked = []
    documents = list(documents or [])
    if len(documents) > DOCUMENTS_MAX:
        raise ValidationFailed("documents_too_many", f"一次最多上传{DOCUMENTS_MAX}个材料", "documents")
    for index, (kind, upload) in enumerate(documents):
        if kind not in AidDocument.Kind.values or kind == AidDocument.Kind.MEMBERSHIP:
            raise ValidationFailed("document_kind_invalid", f"第{index + 1}个材料的类型无效，请选择身份证件、"
                                   "经济困难证明、证据材料等", "documents")
        ext, content_type = casedesk.check_attachment(upload, index)
        checked.append((kind, upload, ext, content_type))
    return checked


def _save_documents(application: AidApplication, checked: list[tuple], actor) -> list[AidDocument]:
    saved = []
    for kind, upload, ext, content_type in checked:
        original = (getattr(upload, "name", "") or f"材料.{ext}").rsplit("/", 1)[-1][:150]
        stem = original.rsplit(".", 1)[0] if "." in original else original
        document = AidDocument(application=application, kind=kind, name=f"{stem}.{ext}", content_type=content_type,
                               size=upload.size, uploaded_by=actor if getattr(actor, "pk", None) else None)
        document.file.save(f"{secrets.token_hex(16)}.{ext}", upload, save=False)
        document.save()
        saved.append(document)
    return saved


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    required: bool
    done: bool
    detail: str


def checklist(application: AidApplication) -> list[ChecklistItem]:
    kinds = {}
    for document in application.documents.all():
        kinds[document.kind] = kinds.get(document.kind, 0) + 1
    proof = application.membership_proof or {}
    member_verified = bool(proof)
    return [
        ChecklistItem("membership", "会员身份证明", False, member_verified,
                      f"会员编号{proof['member_no']}，{proof['union']}，{proof['joined_on']}入会（系统自动核验）"
                      if member_verified else "未查到有效会籍；非会员的申请由工会酌情审查"),
        ChecklistItem("identity", "身份证件", True, member_verified or kinds.get("identity", 0) > 0,
                      "会籍已实名核验" if member_verified and not kinds.get("identity")
                      else f"已上传{kinds.get('identity', 0)}份" if kinds.get("identity") else "请上传身份证正反面照片"),
        ChecklistItem("hardship", "经济困难证明", application.hardship, kinds.get("hardship", 0) > 0,
                      f"已上传{kinds['hardship']}份" if kinds.get("hardship")
                      else "申请时说明经济困难的，请上传困难职工证、低保证明或收入证明" if application.hardship
                      else "未申请困难认定，可不提供"),
        ChecklistItem("evidence", "证据材料", True, kinds.get("evidence", 0) > 0,
                      f"已上传{kinds['evidence']}份" if kinds.get("evidence")
                      else "请上传劳动合同、工资条、考勤记录、聊天记录、欠条等能证明争议的材料"),
    ]


def missing_items(application: AidApplication) -> list[str]:
    return [item.label for item in checklist(application) if item.required and not item.done]


# --- Applying -------------------------------------------------------------------------------------


def _dispute(category, facts, employer_id, employer, division_code, workers_involved, amount_claimed):
    if category not in Expertise.values:
        raise ValidationFailed("category_invalid", "请选择争议类型（劳动报酬、劳动合同、工伤等）", "category")
    facts = clean_text(facts, field="facts", label="案情及请求", min_len=20, max_len=settings.GONGHUI_LEGAL_AID_FACTS_MAX)
    found, name, division = casedesk._employer_and_place(employer_id, employer, division_code)
    workers = casedesk._count(workers_involved, field="workers_involved", label="涉及人数", low=1, high=100000,
                              default=1)
    amount = casedesk._amount(amount_claimed, field="amount_claimed", label="请求金额")
    return facts, found, name, division, workers, amount


def aid_apply(*, actor, category: str, facts: str, employer_id=None, employer: dict | None = None,
              division_code=None, workers_involved=None, amount_claimed=None, hardship: bool = False,
              question: str = "", documents=None, phone: str = "") -> AidApplication:
    """A worker applies for legal aid (directly, or from an answered legal question)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("请先登录")
    if not _is_worker(actor):
        raise PermissionDenied("法律援助由职工本人申请；工作人员请从12351诉求转介")
    facts, found, employer_name, division, workers, amount = _dispute(
        category, facts, employer_id, employer, division_code, workers_involved, amount_claimed)
    question = clean_text(question, field="question", label="咨询的问题", max_len=500)
    checked = _check_documents(documents)
    phone_value = actor.phone or (normalize_phone(phone) if phone else "")
    member = Member.objects.select_related("org").filter(user=actor).first()
    name = (member.name if member else "") or actor.display_name
    if not name:
        raise ValidationFailed("name_required", "请先在“我的”中填写姓名，或先申请入会", "name")
    route = casedesk.case_route(employer=found, employer_name=employer_name, division=division)
    org = aid_union_for(route.org)
    ratelimit.check("legal_aid_user_day", str(actor.pk), "今天提交的法律援助申请过多，请明天再试，紧急情况请拨打12351")
    now = timezone.now()
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=actor.pk).first()  # one submit at a time per worker
        _refuse_duplicate(actor, found, employer_name, category)
        application = AidApplication(
            source=AidApplication.Source.QUESTION if question else AidApplication.Source.DIRECT, question=question,
            applicant=actor, member=member, name=name, membership_proof=membership_proof(member),
            category=category, facts=facts, employer=found,
            employer_name=(found.name if found else employer_name), work_division=division or (
                found.division if found else None), workers_involved=workers, amount_claimed=amount,
            hardship=bool(hardship), org=org, org_path=org.path, province_code=org.province_code,
            route_reason=_route_reason(route.org, org), decide_due_at=_decide_due(org, now))
        application.set_phone(phone_value)
        application.save()
        _save_documents(application, checked, actor)
        _event(application, Action.SUBMIT, actor, was="", text=application.route_reason)
        _audit(actor, "apply", application, after={"org_id": org.pk, "category": category})
        _notify_org(org, "新的法律援助申请", f"{application.number}：{Expertise(category).label}，请在审查期限内作出决定。",
                    f"/console/legal/aid/{application.pk}/")
    return application


def _route_reason(routed: OrgUnit, org: OrgUnit) -> str:
    if routed.pk == org.pk:
        return f"由{org.name}审查（用人单位或工作地所属工会）"
    return f"由{org.name}审查（{routed.name}的上级工会，法律援助由县级以上工会提供）"


def _refuse_duplicate(actor, employer, employer_name: str, category: str) -> None:
    open_ones = AidApplication.objects.filter(applicant=actor, status__in=AID_OPEN_STATUSES, category=category)
    same = open_ones.filter(employer=employer) if employer else open_ones.filter(employer_name=employer_name)
    existing = same.first()
    if existing is not None:
        raise Conflict("aid_duplicate", f"您已就该单位的同类问题申请了法律援助（{existing.number}），"
                       "请在原申请中补充材料", "category")


def aid_from_case(*, case: Case, actor, note: str) -> str:
    """The case desk's legal-aid hook: a handler refers a 12351 case; the worker's details, the
    dispute and the membership proof are carried over. Runs inside the referral's transaction."""
    group = case.category.parent.code if case.category.parent_id else case.category.code
    org = aid_union_for(case.org)
    member = case.member
    application = AidApplication(
        source=AidApplication.Source.CASE, case=case, applicant=case.worker, member=member, name=case.name,
        phone_hash=case.phone_hash, phone_encrypted=case.phone_encrypted, phone_masked=case.phone_masked,
        membership_proof=membership_proof(member), category=CASE_GROUP_EXPERTISE.get(group, Expertise.OTHER),
        facts=f"{case.description}\n\n转介说明：{note}"[:settings.GONGHUI_LEGAL_AID_FACTS_MAX],
        employer=case.employer, employer_name=case.employer_label if case.employer_id or case.employer_name else "",
        work_division=case.work_division, workers_involved=case.workers_affected, amount_claimed=case.amount_claimed,
        org=org, org_path=org.path, province_code=org.province_code,
        route_reason=f"由12351诉求{case.number}转介，{_route_reason(case.org, org)}",
        decide_due_at=_decide_due(org, timezone.now()))
    application.save()
    _event(application, Action.SUBMIT, actor, was="", text=application.route_reason)
    _audit(actor, "refer", application, after={"case": case.number, "org_id": org.pk})
    _notify_org(org, "12351诉求转介法律援助", f"{application.number}（诉求{case.number}），请在审查期限内作出决定。",
                f"/console/legal/aid/{application.pk}/")
    return application.number


def aid_add_documents(*, actor, application: AidApplication, documents, note: str = "") -> list[AidDocument]:
    """The applicant, the handling staff or the assigned provider add files to an open file."""
    role = role_of(actor, application)
    if not role:
        raise NotFound("法律援助申请")
    checked = _check_documents(documents)
    if not checked:
        raise ValidationFailed("documents_required", "请选择要上传的材料", "documents")
    note = clean_text(note, field="note", label="说明", max_len=300)
    if role == "applicant":
        ratelimit.check("case_info_user_day", str(actor.pk), "今天上传的材料过多，请明天再试")
    with transaction.atomic():
        application = _lock(application)
        if application.status not in AID_OPEN_STATUSES:
            raise Conflict("status_invalid", "该法律援助已结束，不能再补充材料", "status")
        if application.documents.count() + len(checked) > DOCUMENTS_MAX * 3:
            raise ValidationFailed("documents_too_many", "该申请的材料已达上限，请合并后上传", "documents")
        saved = _save_documents(application, checked, actor)
        for document in saved:
            document.note = note
            document.save(update_fields=["note"])
        labels = "、".join(sorted({AidDocument.Kind(kind).label for kind, *_ in checked}))
        _event(application, Action.SUPPLY_DOCS, actor, text=f"上传材料：{labels}。{note}".strip("。") + "。")
        _audit(actor, "documents", application, after={"count": len(saved)})
    return saved


def aid_document_get(*, actor, application: AidApplication, document_id) -> AidDocument:
    try:
        pk = int(document_id)
    except (TypeError, ValueError):
        raise NotFound("材料") from None
    document = application.documents.filter(pk=pk).exclude(file="").first()
    if document is None:
        raise NotFound("材料")
    if not _is_worker(actor) or role_of(actor, application) == "provider":
        with transaction.atomic():
            _audit(actor, "document_view", application, after={"document": document.pk})
    return document


# --- Deciding -------------------------------------------------------------------------------------


def aid_request_documents(*, actor, application: AidApplication, text: str) -> AidApplication:
    _require_staff(actor, application)
    text = clean_text(text, field="text", label="需补充的材料", min_len=4, max_len=1000)
    with transaction.atomic():
        application = _lock(application)
        was = _move(application, AidStatus.NEEDS_DOCS)
        application.paused_at = timezone.now()
        application.save(update_fields=["status", "paused_at", "updated_at"])
        _event(application, Action.REQUEST_DOCS, actor, was=was, text=text)
        _audit(actor, "request_documents", application)
        _notify_applicant(application, "法律援助申请需要补充材料", f"{application.number}：{text}")
    return application


def aid_supply(*, actor, application: AidApplication, text: str, documents=None) -> AidApplication:
    """The applicant answers a request for documents: the decision clock runs again, moved on by the
    working days it waited."""
    if role_of(actor, application) != "applicant":
        raise NotFound("法律援助申请")
    text = clean_text(text, field="text", label="补充说明", min_len=2, max_len=2000)
    checked = _check_documents(documents)
    ratelimit.check("case_info_user_day", str(actor.pk), "今天补充的次数过多，请明天再试")
    with transaction.atomic():
        application = _lock(application)
        if application.status != AidStatus.NEEDS_DOCS:
            raise Conflict("status_invalid", "该申请目前不需要补充材料；如需上传其他材料请使用“补充材料”", "status")
        was = _move(application, AidStatus.SUBMITTED)
        now = timezone.now()
        waited = workdays.workdays_between(application.paused_at, now) if application.paused_at else 0
        if waited:
            application.decide_due_at = workdays.deadline(application.decide_due_at, waited)
        application.paused_at = None
        application.save(update_fields=["status", "paused_at", "decide_due_at", "updated_at"])
        _save_documents(application, checked, actor)
        _event(application, Action.SUPPLY_DOCS, actor, was=was, text=text)
        _audit(actor, "supply", application, after={"documents": len(checked)})
        _notify_org(application.org, "法律援助申请已补充材料", f"{application.number}：申请人已补充材料，请继续审查。",
                    f"/console/legal/aid/{application.pk}/")
    return application


def aid_approve(*, actor, application: AidApplication, note: str = "") -> AidApplication:
    _require_staff(actor, application)
    note = clean_text(note, field="note", label="审查意见", max_len=1000)
    with transaction.atomic():
        application = _lock(application)
        missing = missing_items(application)
        if missing and application.status == AidStatus.SUBMITTED:
            raise ValidationFailed("documents_missing", f"材料不全：缺少{'、'.join(missing)}。请先通知申请人补充材料",
                                   "documents")
        was = _move(application, AidStatus.APPROVED)
        now = timezone.now()
        application.decided_at = now
        application.decided_on_time = now <= application.decide_due_at
        application.save(update_fields=["status", "decided_at", "decided_on_time", "updated_at"])
        _event(application, Action.APPROVE, actor, was=was, text=note or "经审查，符合工会法律援助条件，予以援助。")
        _audit(actor, "approve", application)
        _notify_applicant(application, "法律援助申请已批准", f"{application.number}：工会将为您指派承办律师，请保持电话畅通。")
    return application


def aid_reject(*, actor, application: AidApplication, reason: str) -> AidApplication:
    _require_staff(actor, application)
    reason = clean_text(reason, field="reason", label="不予援助的理由", min_len=4, max_len=500)
    with transaction.atomic():
        application = _lock(application)
        was = _move(application, AidStatus.REJECTED)
        now = timezone.now()
        application.decided_at = now
        application.decided_on_time = now <= application.decide_due_at
        application.reject_reason = reason
        application.paused_at = None
        application.save(update_fields=["status", "decided_at", "decided_on_time", "reject_reason", "paused_at",
                                        "updated_at"])
        _event(application, Action.REJECT, actor, was=was, text=reason)
        _audit(actor, "reject", application, after={"reason": reason})
        _notify_applicant(application, "法律援助申请未获批准",
                          f"{application.number}：{reason}。如有疑问可拨打12351或向上级工会反映。")
    return application


# --- Providers and assignment --------------------------------------------------------------------


def providers_visible(actor) -> QuerySet[AidProvider]:
    if actor is None or _is_worker(actor):
        return AidProvider.objects.none()
    return AidProvider.objects.filter(actor_scope(actor).q("org_path"))


def provider_get(*, actor, provider_id) -> AidProvider:
    try:
        pk = int(provider_id)
    except (TypeError, ValueError):
        raise NotFound("承办人") from None
    provider = providers_visible(actor).select_related("org", "region").filter(pk=pk).first()
    if provider is None:
        raise NotFound("承办人")
    return provider


def _clean_provider(data: dict, partial: bool) -> dict:
    values: dict = {}
    if "kind" in data or not partial:
        if data.get("kind") not in AidProvider.Kind.values:
            raise ValidationFailed("kind_invalid", "请选择类别：律师、基层法律服务工作者、工会法律工作者或法律志愿者", "kind")
        values["kind"] = data["kind"]
    if "name" in data or not partial:
        values["name"] = normalize_name(clean_text(data.get("name"), field="name", label="姓名", min_len=2,
                                                   max_len=50))
    for field, label, size in (("firm", "执业机构", 100),):
        if field in data:
            values[field] = clean_text(data.get(field), field=field, label=label, max_len=size)
    if "licence_no" in data:
        licence = clean_text(data.get("licence_no"), field="licence_no", label="执业证号", max_len=30).replace(" ", "")
        if licence and not (licence.isdigit() and len(licence) == 17):
            raise ValidationFailed("licence_no_invalid", "执业证号应为17位数字（律师执业证）", "licence_no")
        values["licence_no"] = licence
    if "phone" in data or not partial:
        phone = normalize_phone(data.get("phone") or "") if data.get("phone") else ""
        if not phone:
            raise ValidationFailed("phone_required", "请填写承办人的手机号，便于职工和工会联系", "phone")
        values["phone"] = phone
    if "expertise" in data or not partial:
        expertise = data.get("expertise") or []
        if not isinstance(expertise, list) or not expertise or any(e not in Expertise.values for e in expertise):
            raise ValidationFailed("expertise_invalid", "请至少选择一个擅长领域", "expertise")
        values["expertise"] = sorted(set(expertise), key=Expertise.values.index)
    if "region_code" in data:
        code = str(data.get("region_code") or "").strip()
        region = Division.objects.filter(code=code).first() if code else None
        if code and region is None:
            raise ValidationFailed("region_unknown", "服务地区代码不存在，请从列表中选择", "region_code")
        values["region"] = region
    if "max_active" in data:
        values["max_active"] = casedesk._count(data.get("max_active"), field="max_active", label="同时承办上限",
                                               low=1, high=200, default=10)
    if "is_active" in data:
        values["is_active"] = bool(data.get("is_active"))
    return values


def provider_save(*, actor, org: OrgUnit | None = None, provider: AidProvider | None = None,
                  data: dict) -> AidProvider:
    """Add a lawyer or volunteer to a union's roster, or change one. The provider signs in with the
    phone given here (SMS login); their account is linked when it exists."""
    target_org = provider.org if provider else org
    require_rank(actor, target_org.path, Role.STAFF, "只有本级工会的工作人员可以维护法律援助承办人名册")
    values = _clean_provider(data, partial=provider is not None)
    phone = values.pop("phone", None)
    with transaction.atomic():
        if provider is None:
            provider = AidProvider(org=target_org, org_path=target_org.path)
            before = None
        else:
            provider = AidProvider.objects.select_for_update().get(pk=provider.pk)
            before = {"name": provider.name, "kind": provider.kind, "is_active": provider.is_active}
        for field, value in values.items():
            setattr(provider, field, value)
        if "region" in values:
            provider.region_code = provider.region.code if provider.region else ""
        if phone is not None:
            provider.set_phone(phone)
            account = User.objects.filter(phone_hash=provider.phone_hash).first()
            if account is not None and AidProvider.objects.filter(user=account).exclude(pk=provider.pk).exists():
                raise Conflict("provider_phone_taken", "该手机号已登记为其他承办人", "phone")
            provider.user = account
        provider.save()
        audit_log(actor=actor, action="legal_aid.provider", obj=provider, object_repr=provider.name,
                  org=provider.org, before=before, after={"name": provider.name, "kind": provider.kind,
                                                           "is_active": provider.is_active})
    return provider


@dataclass(frozen=True)
class ProviderMatch:
    provider: AidProvider
    score: float
    reasons: list[str]


def provider_suggestions(*, actor, application: AidApplication, limit: int = 10) -> list[ProviderMatch]:
    """Roster members who may take the file, best first: expertise in the dispute type, serving the
    place, room in their caseload (full ones last, marked)."""
    _require_staff(actor, application)
    paths = ancestor_paths(application.org_path) + [application.org_path]
    candidates = (AidProvider.objects.filter(is_active=True)
                  .filter(Q(org_path__in=paths) | Q(org_path__startswith=application.org_path))
                  .select_related("org", "region"))
    place = application.work_division.code if application.work_division_id else ""
    matches = []
    for provider in candidates[:500]:
        score, reasons = 0.0, []
        if application.category in provider.expertise:
            score += 3
            reasons.append(f"擅长{Expertise(application.category).label}")
        if provider.region_code and place and place.startswith(provider.region_code.rstrip("0")[:6] or "-"):
            score += 2
            reasons.append(f"服务地区：{provider.region.name}")
        room = provider.max_active - provider.active_count
        if room <= 0:
            score -= 10
            reasons.append(f"在办已满（{provider.active_count}/{provider.max_active}件）")
        else:
            score += room / provider.max_active
            reasons.append(f"在办{provider.active_count}件，上限{provider.max_active}件")
        if provider.kind == AidProvider.Kind.LAWYER and application.status == AidStatus.APPROVED:
            score += 0.5
        matches.append(ProviderMatch(provider, round(score, 2), reasons))
    matches.sort(key=lambda m: (-m.score, m.provider.active_count, m.provider.pk))
    return matches[:limit]


def aid_assign(*, actor, application: AidApplication, provider_id, note: str = "") -> AidApplication:
    _require_staff(actor, application)
    note = clean_text(note, field="note", label="指派说明", max_len=500)
    try:
        pk = int(provider_id)
    except (TypeError, ValueError):
        raise ValidationFailed("provider_required", "请选择承办人", "provider_id") from None
    with transaction.atomic():
        application = _lock(application)
        paths = ancestor_paths(application.org_path) + [application.org_path]
        provider = (AidProvider.objects.select_for_update()
                    .filter(Q(org_path__in=paths) | Q(org_path__startswith=application.org_path), pk=pk).first())
        if provider is None:
            raise ValidationFailed("provider_unknown", "承办人不在本工会或上级工会的名册中", "provider_id")
        if not provider.is_active:
            raise ValidationFailed("provider_inactive", f"{provider.name}已不在册，请选择其他承办人", "provider_id")
        if provider.pk == application.provider_id:
            return application
        if provider.active_count >= provider.max_active:
            raise Conflict("provider_full", f"{provider.name}在办案件已达上限（{provider.max_active}件），"
                           "请选择其他承办人", "provider_id")
        was = _move(application, AidStatus.ASSIGNED)
        previous = application.provider
        if previous is not None:
            AidProvider.objects.filter(pk=previous.pk).update(active_count=F("active_count") - 1)
        AidProvider.objects.filter(pk=provider.pk).update(active_count=F("active_count") + 1)
        application.provider = provider
        application.assigned_at = timezone.now()
        application.save(update_fields=["status", "provider", "assigned_at", "updated_at"])
        text = f"指派{provider.get_kind_display()}{provider.name}" + (f"（{provider.firm}）" if provider.firm else "")
        if previous is not None:
            text = f"改派：{previous.name} → {provider.name}"
        _event(application, Action.ASSIGN, actor, was=was, text=f"{text}。{note}".rstrip("。") + "。")
        _audit(actor, "assign", application, after={"provider": provider.pk})
        _notify_applicant(application, "已为您指派法律援助承办人",
                          f"{application.number}：{provider.name}（{provider.get_kind_display()}）将与您联系，"
                          f"电话{provider.phone_masked}。")
        _notify_provider(provider, "新的法律援助指派", f"{application.number}：{Expertise(application.category).label}，"
                         f"申请人{application.name_masked}。", f"/legal/aid/{application.pk}/")
    return application


# --- Stages, hearings and statutory time limits ------------------------------------------------------

# What recording a stage, or receiving its decision, starts: (rule, title, days, basis). Calendar days
# counted from the day after; a limit ending on a rest day or holiday moves to the next working day
# (the rule for periods in civil procedure).
STAGE_START_LIMITS = {
    AidStage.Kind.MEDIATION: [("mediation_15", "调解期限届满（未达成协议可申请仲裁）", 15,
                               "《中华人民共和国劳动争议调解仲裁法》第十四条")],
    AidStage.Kind.ARBITRATION: [
        ("arbitration_accept_5", "仲裁委决定是否受理", 5, "《中华人民共和国劳动争议调解仲裁法》第二十九条"),
        ("arbitration_award_45", "仲裁庭应当作出裁决（可延长十五日）", 45, "《中华人民共和国劳动争议调解仲裁法》第四十三条"),
    ],
}
STAGE_DECISION_LIMITS = {
    AidStage.Kind.ARBITRATION: [("sue_after_award_15", "不服仲裁裁决向人民法院起诉的期限", 15,
                                 "《中华人民共和国劳动争议调解仲裁法》第四十八条、第五十条")],
    AidStage.Kind.FIRST_INSTANCE: [("appeal_judgment_15", "不服一审判决提起上诉的期限", 15,
                                    "《中华人民共和国民事诉讼法》（判决上诉期）")],
    AidStage.Kind.SECOND_INSTANCE: [("enforce_2y", "申请强制执行的期限（二年）", 730,
                                     "《中华人民共和国民事诉讼法》（申请执行期间）")],
    AidStage.Kind.MEDIATION: [("enforce_2y", "调解书生效后申请强制执行的期限（二年）", 730,
                               "《中华人民共和国民事诉讼法》（申请执行期间）")],
}


def statutory_end(start: datetime.date, days: int) -> datetime.date:
    """The last day of a period of `days` days beginning the day after `start`; moved past rest days."""
    end = start + datetime.timedelta(days=days)
    while not workdays.is_workday(end):
        end += datetime.timedelta(days=1)
    return end


def _end_of_day(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(17, 0)))


def _add_limits(application: AidApplication, stage: AidStage, rules, start: datetime.date) -> list[AidDeadline]:
    made = []
    for rule, title, days, basis in rules:
        deadline, _ = AidDeadline.objects.update_or_create(
            application=application, stage=stage, rule=rule,
            defaults={"kind": AidDeadline.Kind.STATUTORY, "title": title, "basis": basis,
                      "due_at": _end_of_day(statutory_end(start, days)), "reminded_at": None})
        made.append(deadline)
    return made


def _date(value, *, field: str, label: str, required: bool = True) -> datetime.date | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed(f"{field}_required", f"请填写{label}", field)
        return None
    if isinstance(value, datetime.datetime):
        value = value.date()
    if not isinstance(value, datetime.date):
        try:
            value = datetime.date.fromisoformat(str(value))
        except ValueError:
            raise ValidationFailed(f"{field}_invalid", f"{label}格式应为2026-11-26", field) from None
    today = timezone.localdate()
    if value > today:
        raise ValidationFailed(f"{field}_future", f"{label}不能晚于今天", field)
    if value < today - datetime.timedelta(days=3660):
        raise ValidationFailed(f"{field}_invalid", f"{label}过早，请检查", field)
    return value


def aid_stage_add(*, actor, application: AidApplication, kind: str, started_on, forum: str = "",
                  docket_no: str = "", note: str = "") -> AidStage:
    """The file enters a stage (mediation, arbitration, a court instance, enforcement); the time
    limits the law sets from its start are added to the file's deadlines."""
    _require_handler_or_provider(actor, application)
    if kind not in AidStage.Kind.values:
        raise ValidationFailed("kind_invalid", "请选择阶段：咨询代书、调解、劳动仲裁、一审、二审或强制执行", "kind")
    started = _date(started_on, field="started_on", label="开始日期")
    forum = clean_text(forum, field="forum", label="受理机构", max_len=100)
    docket_no = clean_text(docket_no, field="docket_no", label="案号", max_len=60)
    note = clean_text(note, field="note", label="说明", max_len=1000)
    with transaction.atomic():
        application = _lock(application)
        if application.status != AidStatus.ASSIGNED:
            raise Conflict("status_invalid", "指派承办人后才能记录办理阶段", "status")
        open_stage = application.stages.filter(ended_on__isnull=True).exclude(kind=AidStage.Kind.CONSULTATION).first()
        if open_stage is not None and kind != AidStage.Kind.CONSULTATION:
            open_stage.ended_on = started
            open_stage.save(update_fields=["ended_on"])
        stage = AidStage.objects.create(application=application, kind=kind, started_on=started, forum=forum,
                                        docket_no=docket_no, result=note, created_by=actor)
        limits = _add_limits(application, stage, STAGE_START_LIMITS.get(kind, []), started)
        text = f"进入{stage.get_kind_display()}阶段" + (f"（{forum}" + (f"，{docket_no}" if docket_no else "") + "）"
                                                         if forum else "")
        if limits:
            text += "；法定期限：" + "；".join(f"{d.title} {timezone.localtime(d.due_at):%Y-%m-%d}" for d in limits)
        _event(application, Action.STAGE, actor, text=text)
        _audit(actor, "stage", application, after={"stage": kind, "started_on": started.isoformat()})
    return stage


def aid_stage_decision(*, actor, application: AidApplication, stage_id, received_on, result: str) -> AidStage:
    """The stage's decision (agreement, award, judgment) was received: the limits that run from
    receipt (suing after an award, appealing a judgment, applying for enforcement) are added."""
    _require_handler_or_provider(actor, application)
    received = _date(received_on, field="received_on", label="文书送达日期")
    result = clean_text(result, field="result", label="阶段结果", min_len=4, max_len=2000)
    with transaction.atomic():
        application = _lock(application)
        stage = application.stages.filter(pk=_pk(stage_id)).first()
        if stage is None:
            raise NotFound("办理阶段", "stage_id")
        if application.status != AidStatus.ASSIGNED:
            raise Conflict("status_invalid", "该法律援助已结案，不能再修改阶段", "status")
        if received < stage.started_on:
            raise ValidationFailed("received_on_invalid", "文书送达日期不能早于阶段开始日期", "received_on")
        stage.decision_received_on = received
        stage.ended_on = stage.ended_on or received
        stage.result = result
        stage.save(update_fields=["decision_received_on", "ended_on", "result"])
        AidDeadline.objects.filter(stage=stage, done_at__isnull=True, rule__in=[
            r[0] for r in STAGE_START_LIMITS.get(stage.kind, [])]).update(done_at=timezone.now())
        limits = _add_limits(application, stage, STAGE_DECISION_LIMITS.get(stage.kind, []), received)
        text = f"{stage.get_kind_display()}结果：{result}"
        if limits:
            text += "；法定期限：" + "；".join(f"{d.title} {timezone.localtime(d.due_at):%Y-%m-%d}" for d in limits)
        _event(application, Action.STAGE, actor, text=text)
        _audit(actor, "stage_decision", application, after={"stage": stage.pk, "received_on": received.isoformat()})
    return stage


def _pk(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def aid_deadline_add(*, actor, application: AidApplication, title: str, due_at, kind: str = AidDeadline.Kind.HEARING,
                     place: str = "", stage_id=None) -> AidDeadline:
    """A hearing (开庭、调解) or another date to keep; the applicant is told of hearings."""
    _require_handler_or_provider(actor, application)
    if kind not in (AidDeadline.Kind.HEARING, AidDeadline.Kind.OTHER):
        raise ValidationFailed("kind_invalid", "只能添加开庭/调解日期或其他期限；法定期限由系统根据办理阶段计算", "kind")
    title = clean_text(title, field="title", label="事项", min_len=2, max_len=100)
    place = clean_text(place, field="place", label="地点", max_len=200)
    if isinstance(due_at, str):
        try:
            due_at = datetime.datetime.fromisoformat(due_at.strip())
        except ValueError:
            raise ValidationFailed("due_at_invalid", "日期时间格式应为2026-12-01T09:30", "due_at") from None
    if not isinstance(due_at, datetime.datetime):
        raise ValidationFailed("due_at_required", "请填写日期和时间", "due_at")
    if timezone.is_naive(due_at):
        due_at = timezone.make_aware(due_at)
    now = timezone.now()
    if due_at < now - datetime.timedelta(days=1) or due_at > now + datetime.timedelta(days=3 * 365):
        raise ValidationFailed("due_at_invalid", "日期应在今天到三年之内", "due_at")
    with transaction.atomic():
        application = _lock(application)
        if application.status != AidStatus.ASSIGNED:
            raise Conflict("status_invalid", "指派承办人后才能登记开庭日期和期限", "status")
        stage = application.stages.filter(pk=_pk(stage_id)).first() if stage_id not in (None, "") else None
        if stage_id not in (None, "") and stage is None:
            raise NotFound("办理阶段", "stage_id")
        deadline = AidDeadline.objects.create(application=application, stage=stage, kind=kind, title=title,
                                              due_at=due_at, place=place)
        _event(application, Action.DEADLINE, actor,
               text=f"{title}：{timezone.localtime(due_at):%Y-%m-%d %H:%M}" + (f"，{place}" if place else ""))
        _audit(actor, "deadline", application, after={"title": title})
        if kind == AidDeadline.Kind.HEARING:
            _notify_applicant(application, "法律援助案件开庭/调解通知",
                              f"{application.number}：{title}，{timezone.localtime(due_at):%Y年%m月%d日 %H:%M}"
                              + (f"，地点：{place}" if place else "") + "。请按时到场，携带身份证和证据原件。")
    return deadline


def aid_deadline_done(*, actor, application: AidApplication, deadline_id, note: str = "") -> AidDeadline:
    _require_handler_or_provider(actor, application)
    note = clean_text(note, field="note", label="说明", max_len=300)
    with transaction.atomic():
        application = _lock(application)
        deadline = application.deadlines.filter(pk=_pk(deadline_id)).first()
        if deadline is None:
            raise NotFound("期限", "deadline_id")
        if deadline.done_at is None:
            deadline.done_at = timezone.now()
            deadline.save(update_fields=["done_at"])
            _event(application, Action.DEADLINE, actor, text=f"{deadline.title}：已办理。{note}".rstrip("。") + "。",
                   worker_visible=deadline.kind == AidDeadline.Kind.HEARING)
    return deadline


def aid_note(*, actor, application: AidApplication, text: str, worker_visible: bool = False) -> AidEvent:
    role = _require_handler_or_provider(actor, application)
    text = clean_text(text, field="text", label="办理记录", min_len=2, max_len=2000)
    with transaction.atomic():
        application = _lock(application)
        if application.status in (AidStatus.ARCHIVED, AidStatus.WITHDRAWN, AidStatus.REJECTED):
            raise Conflict("status_invalid", "该法律援助已结束，不能再添加记录", "status")
        event = _event(application, Action.NOTE, actor, text=text, worker_visible=bool(worker_visible))
        _audit(actor, "note", application, after={"by": role})
        if worker_visible:
            _notify_applicant(application, "法律援助办理进展", f"{application.number}：{text}")
    return event


# --- Ending ---------------------------------------------------------------------------------------


def aid_conclude(*, actor, application: AidApplication, outcome: str, closing_report: str, amount_awarded=None,
                 amount_recovered=None) -> AidApplication:
    """The provider (or the union) records the outcome and the closing report (结案报告)."""
    _require_handler_or_provider(actor, application)
    if outcome not in AidApplication.Outcome.values:
        raise ValidationFailed("outcome_invalid", "请选择办理结果", "outcome")
    report = clean_text(closing_report, field="closing_report", label="结案报告", min_len=20, max_len=10000)
    awarded = casedesk._amount(amount_awarded, field="amount_awarded", label="裁判/调解确定金额")
    recovered = casedesk._amount(amount_recovered, field="amount_recovered", label="实际追回金额")
    if awarded is not None and recovered is not None and recovered > awarded * 2:
        raise ValidationFailed("amount_recovered_invalid", "实际追回金额远大于确定金额，请核对", "amount_recovered")
    with transaction.atomic():
        application = _lock(application)
        was = _move(application, AidStatus.CONCLUDED)
        open_deadlines = application.deadlines.filter(done_at__isnull=True, due_at__gt=timezone.now(),
                                                      kind=AidDeadline.Kind.HEARING)
        if open_deadlines.exists():
            raise Conflict("hearing_pending", f"还有未完成的开庭/调解（{open_deadlines.first().title}），"
                           "请先标记办理或删除", "status")
        application.outcome = outcome
        application.closing_report = report
        application.amount_awarded = awarded
        application.amount_recovered = recovered
        application.concluded_at = timezone.now()
        application.save(update_fields=["status", "outcome", "closing_report", "amount_awarded", "amount_recovered",
                                        "concluded_at", "updated_at"])
        application.stages.filter(ended_on__isnull=True).update(ended_on=timezone.localdate())
        application.deadlines.filter(done_at__isnull=True).update(done_at=timezone.now())
        if application.provider_id:
            AidProvider.objects.filter(pk=application.provider_id).update(
                active_count=F("active_count") - 1, closed_count=F("closed_count") + 1)
        label = AidApplication.Outcome(outcome).label
        money = "".join([f"，确定金额{awarded}元" if awarded is not None else "",
                         f"，实际追回{recovered}元" if recovered is not None else ""])
        _event(application, Action.CONCLUDE, actor, was=was, text=f"结案：{label}{money}。")
        _audit(actor, "conclude", application, after={"outcome": outcome, "awarded": awarded, "recovered": recovered})
        _notify_applicant(application, "您的法律援助已结案", f"{application.number}：{label}{money}。")
        _notify_org(application.org, "法律援助已结案，待归档", f"{application.number}：{label}{money}。",
                    f"/console/legal/aid/{application.pk}/")
    return application


def aid_archive(*, actor, application: AidApplication) -> AidApplication:
    """A supervisor checks the closing report and archives the file under an archive number."""
    _require_staff(actor, application, SUPERVISOR)
    with transaction.atomic():
        application = _lock(application)
        was = _move(application, AidStatus.ARCHIVED)
        now = timezone.now()
        application.archived_at = now
        application.archive_no = f"FYDA{timezone.localtime(now):%Y}-{application.pk:06d}"
        application.save(update_fields=["status", "archived_at", "archive_no", "updated_at"])
        _event(application, Action.ARCHIVE, actor, was=was, text=f"归档，档案号{application.archive_no}。")
        _audit(actor, "archive", application, after={"archive_no": application.archive_no})
    return application


def aid_withdraw(*, actor, application: AidApplication, reason: str = "") -> AidApplication:
    if role_of(actor, application) != "applicant":
        raise NotFound("法律援助申请")
    reason = clean_text(reason, field="reason", label="撤回原因", max_len=300)
    with transaction.atomic():
        application = _lock(application)
        if application.status == AidStatus.ASSIGNED:
            raise Conflict("status_invalid", "已指派承办人的案件请与承办人联系办理撤回（以结案方式记录）", "status")
        was = _move(application, AidStatus.WITHDRAWN)
        application.paused_at = None
        application.save(update_fields=["status", "paused_at", "updated_at"])
        _event(application, Action.WITHDRAW, actor, was=was, text=reason or "申请人撤回申请。")
        _audit(actor, "withdraw", application)
        _notify_org(application.org, "法律援助申请已撤回", f"{application.number}：{reason or '未说明原因'}",
                    f"/console/legal/aid/{application.pk}/")
    return application


# --- The clock ------------------------------------------------------------------------------------


def aid_sweep(now: datetime.datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Decisions past their limit go on the parent union's board (督办); hearings and statutory
    limits are reminded a few working days before. Idempotent; rows locked with SKIP LOCKED."""
    now = now or timezone.now()
    counts = {"overdue": 0, "reminded": 0}
    with transaction.atomic():
        late = list(AidApplication.objects.select_for_update(skip_locked=True).select_related("org")
                    .filter(status=AidStatus.SUBMITTED, overdue_notified_at__isnull=True, decide_due_at__lt=now)
                    .order_by("decide_due_at")[:batch])
        for application in late:
            application.overdue_notified_at = now
            application.save(update_fields=["overdue_notified_at"])
            _event(application, Action.OVERDUE, None, text="审查超过期限，已提请上级工会督办。", worker_visible=False)
            parent = application.org.parent
            body = f"{application.number}：{application.org.name}未在期限内作出是否援助的决定。"
            _notify_org(application.org, "法律援助审查已超期", body, f"/console/legal/aid/{application.pk}/")
            if parent is not None:
                _notify_org(parent, "下级工会法律援助审查超期（督办）", body, f"/console/legal/aid/{application.pk}/")
        counts["overdue"] = len(late)
    horizon = workdays.deadline(now, int(settings.GONGHUI_LEGAL_REMIND_WORKDAYS))
    with transaction.atomic():
        due = list(AidDeadline.objects.select_for_update(skip_locked=True, of=("self",))
                   .select_related("application__org", "application__provider")
                   .filter(done_at__isnull=True, reminded_at__isnull=True, due_at__lte=horizon, due_at__gte=now)
                   .order_by("due_at")[:batch])
        for deadline in due:
            application = deadline.application
            deadline.reminded_at = now
            deadline.save(update_fields=["reminded_at"])
            when = f"{timezone.localtime(deadline.due_at):%Y-%m-%d %H:%M}"
            body = f"{application.number}：{deadline.title}（{when}）" + (f"，依据{deadline.basis}" if deadline.basis else "")
            _notify_org(application.org, "法律援助期限临近", body, f"/console/legal/aid/{application.pk}/")
            _notify_provider(application.provider, "法律援助期限临近", body, f"/legal/aid/{application.pk}/")
            if deadline.kind == AidDeadline.Kind.HEARING:
                _notify_applicant(application, "开庭/调解提醒", f"{application.number}：{deadline.title}，{when}"
                                  + (f"，地点：{deadline.place}" if deadline.place else "") + "。")
        counts["reminded"] = len(due)
    return counts


# --- Reads ----------------------------------------------------------------------------------------


def aid_board(*, actor, node: OrgUnit | None = None, status: str = "", overdue: bool = False,
              cursor: str | None = None, limit: int = 50) -> tuple[list[AidApplication], str | None]:
    """A subtree's applications (staff with a case role), newest first; `overdue`: decisions late."""
    if _is_worker(actor):
        raise PermissionDenied("没有权限查看法律援助台账")
    qs = AidApplication.objects.filter(actor_scope(actor).case_q("org_path"))
    if node is not None:
        if actor_scope(actor).case_rank_at(node.path) < HANDLER and not actor_scope(actor).covers(node.path):
            raise NotFound("组织")
        qs = qs.filter(org_path__startswith=node.path)
    if status:
        if status not in AidStatus.values:
            raise ValidationFailed("status_invalid", "状态参数无效", "status")
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(status=AidStatus.SUBMITTED, decide_due_at__lt=timezone.now())
    limit = max(1, min(int(limit or 50), PAGE_MAX))
    after = cursors.decode(cursor, int) if cursor else None
    if after:
        qs = qs.filter(pk__lt=after)
    rows = list(qs.select_related("org", "provider").order_by("-pk")[:limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (cursors.encode(rows[-1].pk) if more and rows else None)


def my_applications(actor) -> QuerySet[AidApplication]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return AidApplication.objects.none()
    return AidApplication.objects.filter(applicant=actor).select_related("org", "provider").order_by("-pk")


def assigned_to_me(actor) -> QuerySet[AidApplication]:
    provider = _provider_of(actor)
    if provider is None:
        return AidApplication.objects.none()
    return (AidApplication.objects.filter(provider=provider, status__in=[AidStatus.ASSIGNED, AidStatus.CONCLUDED,
                                                                          AidStatus.ARCHIVED])
            .select_related("org").order_by("status", "-pk"))


def timeline(*, actor, application: AidApplication) -> list[AidEvent]:
    events = application.events.select_related("actor").order_by("id")
    if role_of(actor, application) == "applicant":
        events = events.filter(worker_visible=True)
    return list(events)


def aid_stats(*, actor, node: OrgUnit) -> dict:
    """Caseload and results for a subtree. Legal-aid files are few beside cases (tens of thousands a
    year in a province), so one aggregate over the org_path prefix index answers."""
    scope = actor_scope(actor)
    if _is_worker(actor) or scope.case_subtree_rank(node.path) < HANDLER:
        raise NotFound("组织")
    qs = AidApplication.objects.filter(org_path__startswith=node.path)
    by_status = dict(qs.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    decided = qs.filter(decided_at__isnull=False)
    totals = decided.aggregate(on_time=Count("id", filter=Q(decided_on_time=True)), all=Count("id"))
    concluded = qs.filter(concluded_at__isnull=False)
    money = concluded.aggregate(awarded=Sum("amount_awarded"), recovered=Sum("amount_recovered"),
                                workers=Sum("workers_involved"))
    outcomes = dict(concluded.values_list("outcome").annotate(n=Count("id")).values_list("outcome", "n"))
    won = sum(n for key, n in outcomes.items() if key in {"mediated", "settled", "award_won", "award_partial",
                                                          "judgment_won", "judgment_partial"})
    days = decided.aggregate(avg=Avg(F("decided_at") - F("submitted_at")))["avg"]
    return {
        "node": {"id": node.pk, "name": node.name},
        "by_status": {status: by_status.get(status, 0) for status in AidStatus.values},
        "open": sum(by_status.get(s, 0) for s in AID_OPEN_STATUSES),
        "decided": totals["all"], "decided_on_time_rate": round(totals["on_time"] / totals["all"], 4)
        if totals["all"] else None,
        "avg_days_to_decision": round(days.total_seconds() / 86400, 1) if days else None,
        "concluded": sum(outcomes.values()),
        "outcomes": {key: outcomes.get(key, 0) for key in AidApplication.Outcome.values},
        "success_rate": round(won / sum(outcomes.values()), 4) if outcomes else None,
        "amount_awarded": money["awarded"] or Decimal("0"), "amount_recovered": money["recovered"] or Decimal("0"),
        "workers_helped": money["workers"] or 0,
        "overdue_decisions": qs.filter(status=AidStatus.SUBMITTED, decide_due_at__lt=timezone.now()).count(),
    }


def aid_stats_by_child(*, actor, node: OrgUnit) -> list[tuple[OrgUnit, dict]]:
    """The node's child unions that have legal-aid files, each with its open, concluded and recovered
    figures, from one grouped query over the subtree (not one per child)."""
    scope = actor_scope(actor)
    if _is_worker(actor) or scope.case_subtree_rank(node.path) < HANDLER:
        raise NotFound("组织")
    width = len(node.path) + STEP
    rows = (AidApplication.objects.filter(org_path__startswith=node.path).exclude(org_path=node.path)
            .annotate(child_path=Substr("org_path", 1, width)).values("child_path")
            .annotate(open=Count("id", filter=Q(status__in=AID_OPEN_STATUSES)),
                      concluded=Count("id", filter=Q(concluded_at__isnull=False)),
                      amount_recovered=Sum("amount_recovered")))
    figures = {row["child_path"]: row for row in rows}
    children = OrgUnit.objects.filter(path__in=figures).order_by("path")
    return [(child, {**figures[child.path], "amount_recovered": figures[child.path]["amount_recovered"] or Decimal("0")})
            for child in children]


def nodes_with_rank(actor) -> list[OrgUnit]:
    """The unions where the actor handles legal aid (for the console's node picker)."""
    ids = [org_id for _p, _d, rank, org_id in actor_scope(actor).case_grants if rank >= HANDLER]
    return list(OrgUnit.objects.filter(pk__in=ids).order_by("path"))

