"""The staff console's legal-aid pages (法律援助): a union's ledger of applications with its numbers,
one application with every handling step, the private documents, the roster of lawyers and
volunteers, and the legal-affairs settings (decision days, letters' reply days and issuer code).

Thin views over gonghui.legal.aid, like case_views.py: ids are resolved through the selectors
(unknown and out-of-scope ids are both the console's 404), each POST is one service call, a
ServiceError is shown on the page, and a form token makes a double submit land once.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from gonghui.core.errors import NotFound, PermissionDenied, ServiceError
from gonghui.core.files import private_file
from gonghui.legal import aid
from gonghui.legal.models import (
    AidApplication,
    AidDeadline,
    AidProvider,
    AidStage,
    AidStatus,
    Expertise,
    LegalPolicy,
)
from gonghui.orgs import selectors as org_selectors
from gonghui.orgs.models import CASE_ROLE_RANK, ROLE_RANK, CaseRole, Role

from .access import (
    claim_form_token,
    console_render,
    console_view,
    remember_form_result,
)
from .access import (
    form_token_context as _token,
)

PAGE = 30
TABS = [("", "全部")] + [(s.value, s.label) for s in AidStatus]


def _require_case_node(user, org) -> None:
    if org_selectors.actor_scope(user).case_rank_at(org.path) < CASE_ROLE_RANK[CaseRole.HANDLER]:
        raise PermissionDenied("只有有诉求办理权限的工作人员可以查看法律援助")


def _render(request, org, tab: str, template: str, context: dict, status: int = 200):
    return console_render(request, template, {"org": org, "aid_tab": tab, "now": timezone.now(), **context},
                          status=status)


@never_cache
@require_GET
@console_view
def aid_home(request):
    """/console/legal/aid/ (the link in notices): the ledger of the actor's highest case node."""
    nodes = aid.nodes_with_rank(request.user)
    if not nodes:
        raise PermissionDenied("只有有诉求办理权限的工作人员可以办理法律援助")
    return redirect("console:aid_board", org_id=nodes[0].pk)


@never_cache
@require_GET
@console_view
def aid_board(request, org_id):
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    _require_case_node(user, org)
    status = request.GET.get("status", "")
    status = status if status in AidStatus.values else ""
    overdue = request.GET.get("overdue") == "1"
    rows, cursor = aid.aid_board(actor=user, node=org, status=status, overdue=overdue,
                                 cursor=request.GET.get("cursor"), limit=PAGE)
    now = timezone.now()
    for row in rows:
        row.is_overdue = row.status == AidStatus.SUBMITTED and row.decide_due_at < now
    more = ""
    if cursor:
        more = "?" + urlencode({k: v for k, v in {"status": status, "overdue": "1" if overdue else "",
                                                  "cursor": cursor}.items() if v})
    stats = aid.aid_stats(actor=user, node=org)
    return _render(request, org, "board", "console/legal/aid_board.html", {
        "rows": rows, "status": status, "overdue": overdue, "tabs": TABS, "more": more, "stats": stats})


@never_cache
@require_GET
@console_view
def aid_stats(request, org_id):
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    _require_case_node(user, org)
    stats = aid.aid_stats(actor=user, node=org)
    outcomes = [(AidApplication.Outcome(key).label, n) for key, n in stats["outcomes"].items() if n]
    statuses = [(AidStatus(key).label, n) for key, n in stats["by_status"].items()]
    children = aid.aid_stats_by_child(actor=user, node=org)
    return _render(request, org, "stats", "console/legal/aid_stats.html", {
        "stats": stats, "outcomes": outcomes, "statuses": statuses, "children": children})


def _detail_context(request, application: AidApplication) -> dict:
    user = request.user
    scope = org_selectors.actor_scope(user)
    staff = aid.role_of(user, application) == "staff"
    status = application.status
    can = set()
    if staff:
        if status == AidStatus.SUBMITTED:
            can |= {"request_documents", "approve", "reject"}
        if status == AidStatus.NEEDS_DOCS:
            can |= {"reject"}
        if status in (AidStatus.APPROVED, AidStatus.ASSIGNED):
            can |= {"assign"}
        if status == AidStatus.ASSIGNED:
            can |= {"stage", "decision", "hearing", "conclude"}
        if status == AidStatus.CONCLUDED and scope.case_rank_at(application.org_path) >= CASE_ROLE_RANK[
                CaseRole.SUPERVISOR]:
            can |= {"archive"}
        if status not in (AidStatus.ARCHIVED, AidStatus.WITHDRAWN, AidStatus.REJECTED):
            can |= {"note"}
    return {
        "a": application, "checklist": aid.checklist(application), "missing": aid.missing_items(application),
        "documents": list(application.documents.exclude(file="")), "stages": list(application.stages.all()),
        "deadlines": list(application.deadlines.all()),
        "events": list(application.events.select_related("actor").order_by("id")),
        "suggestions": aid.provider_suggestions(actor=user, application=application) if "assign" in can else [],
        "can": can, "stage_kinds": AidStage.Kind.choices, "outcomes": AidApplication.Outcome.choices,
        "today": timezone.localdate(), "now": timezone.now(), "org": application.org,
        "overdue": status == AidStatus.SUBMITTED and application.decide_due_at < timezone.now(),
        **_token(),
    }


def _act(user, application: AidApplication, action: str, post) -> str:
    if action == "request_documents":
        aid.aid_request_documents(actor=user, application=application, text=post.get("text", ""))
        return "已通知申请人补充材料，审查期限暂停"
    if action == "approve":
        aid.aid_approve(actor=user, application=application, note=post.get("note", ""))
        return "已批准援助，请指派承办人"
    if action == "reject":
        aid.aid_reject(actor=user, application=application, reason=post.get("reason", ""))
        return "已决定不予援助，申请人会收到通知"
    if action == "assign":
        application = aid.aid_assign(actor=user, application=application, provider_id=post.get("provider_id"),
                                     note=post.get("note", ""))
        return f"已指派{application.provider.name}"
    if action == "stage":
        aid.aid_stage_add(actor=user, application=application, kind=post.get("kind", ""),
                          started_on=post.get("started_on", ""), forum=post.get("forum", ""),
                          docket_no=post.get("docket_no", ""), note=post.get("note", ""))
        return "已记录办理阶段，法定期限已列入"
    if action == "decision":
        aid.aid_stage_decision(actor=user, application=application, stage_id=post.get("stage_id"),
                               received_on=post.get("received_on", ""), result=post.get("result", ""))
        return "已记录阶段结果"
    if action == "hearing":
        aid.aid_deadline_add(actor=user, application=application, title=post.get("title", ""),
                             due_at=post.get("due_at", ""), place=post.get("place", ""),
                             kind=post.get("kind") or AidDeadline.Kind.HEARING)
        return "已登记"
    if action == "deadline_done":
        aid.aid_deadline_done(actor=user, application=application, deadline_id=post.get("deadline_id"))
        return "已标记办理"
    if action == "note":
        aid.aid_note(actor=user, application=application, text=post.get("text", ""),
                     worker_visible=post.get("worker_visible") == "yes")
        return "已记录"
    if action == "conclude":
        aid.aid_conclude(actor=user, application=application, outcome=post.get("outcome", ""),
                         closing_report=post.get("closing_report", ""),
                         amount_awarded=post.get("amount_awarded") or None,
                         amount_recovered=post.get("amount_recovered") or None)
        return "已结案，待归档"
    if action == "archive":
        application = aid.aid_archive(actor=user, application=application)
        return f"已归档，档案号 {application.archive_no}"
    raise NotFound("操作")


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def aid_detail(request, application_id):
    user = request.user
    application = aid.aid_get(actor=user, application_id=application_id)
    if aid.role_of(user, application) != "staff":
        raise NotFound("法律援助申请")
    url = reverse("console:aid_detail", args=[application.pk])
    err = None
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        action = request.POST.get("action", "")
        try:
            note = _act(user, application, action, request.POST)
        except ServiceError as exc:
            err = {"action": action, "field": exc.field or "", "message": exc.message}
            application = aid.aid_get(actor=user, application_id=application.pk)
        else:
            remember_form_result(request, url)
            messages.success(request, note)
            return redirect(url)
    context = _detail_context(request, application)
    context.update(err=err, posted=request.POST if err else {})
    return console_render(request, "console/legal/aid_detail.html", context, status=400 if err else 200)


@never_cache
@require_GET
@console_view
def aid_document(request, application_id, document_id):
    user = request.user
    application = aid.aid_get(actor=user, application_id=application_id)
    if aid.role_of(user, application) != "staff":
        raise NotFound("法律援助申请")
    document = aid.aid_document_get(actor=user, application=application, document_id=document_id)
    try:
        handle = document.file.open("rb")
    except OSError:
        raise NotFound("材料") from None
    return private_file(handle, filename=document.name, content_type=document.content_type, inline_images=True)


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def aid_providers(request, org_id):
    """The roster of the union (and below): add a lawyer or volunteer, change caseload or take one off."""
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    scope = org_selectors.actor_scope(user)
    may_edit = scope.rank_at(org.path) >= ROLE_RANK[Role.STAFF]
    err, posted = None, {}
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        post = request.POST
        try:
            if post.get("provider_id"):
                provider = aid.provider_get(actor=user, provider_id=post["provider_id"])
                data = {"max_active": post.get("max_active")} if post.get("max_active") else {}
                if post.get("is_active") in ("0", "1"):
                    data["is_active"] = post["is_active"] == "1"
                aid.provider_save(actor=user, provider=provider, data=data)
                note = f"已更新{provider.name}"
            else:
                data = {"kind": post.get("kind", ""), "name": post.get("name", ""), "firm": post.get("firm", ""),
                        "licence_no": post.get("licence_no", ""), "phone": post.get("phone", ""),
                        "expertise": post.getlist("expertise"), "region_code": post.get("region_code", ""),
                        "max_active": post.get("max_active") or None}
                provider = aid.provider_save(actor=user, org=org, data=data)
                note = f"已登记{provider.name}"
        except ServiceError as exc:
            err = {"field": exc.field or "", "message": exc.message}
            posted = post
        else:
            url = reverse("console:aid_providers", args=[org.pk])
            remember_form_result(request, url)
            messages.success(request, note)
            return redirect(url)
    providers = list(aid.providers_visible(user).filter(org_path__startswith=org.path)
                     .select_related("org", "region").order_by("-is_active", "org_path", "name")[:500])
    return _render(request, org, "providers", "console/legal/aid_providers.html", {
        "providers": providers, "kinds": AidProvider.Kind.choices, "expertise": Expertise.choices,
        "may_edit": may_edit, "err": err, "posted": posted, **_token()}, status=400 if err else 200)


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def legal_settings(request, org_id):
    """A union's legal-affairs settings; empty fields inherit from above."""
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    may_edit = org_selectors.actor_scope(user).rank_at(org.path) >= ROLE_RANK[Role.ADMIN]
    err = None
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        data = {name: request.POST.get(name, "") for name in (*aid.POLICY_FIELDS, "letter_prefix", "letter_contact")}
        try:
            aid.policy_set(actor=user, org=org, data=data)
        except ServiceError as exc:
            err = {"field": exc.field or "", "message": exc.message}
        else:
            url = reverse("console:legal_settings", args=[org.pk])
            remember_form_result(request, url)
            messages.success(request, "法务设置已保存")
            return redirect(url)
    own = LegalPolicy.objects.filter(org=org).first()
    fields = [(name, label, getattr(own, name, None) if own else None, aid.policy_value(org, name), low, high)
              for name, (label, low, high) in aid.POLICY_FIELDS.items()]
    return _render(request, org, "settings", "console/legal/settings.html", {
        "fields": fields, "prefix_own": own.letter_prefix if own else "", "contact_own": own.letter_contact if own else "",
        "prefix_effective": aid.policy_value(org, "letter_prefix"), "may_edit": may_edit, "err": err,
        **_token()}, status=400 if err else 200)
