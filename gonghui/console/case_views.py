"""The staff console's case pages (诉求办理): a node's case board, one case with its handling
actions, the private attachments, and the 12351 hotline desk.

Thin views over gonghui.casedesk's services and selectors, like membership_views.py: every id from a
request is looked up through a selector (unknown and out-of-scope ids are both the console's 404),
every write is one service call, and a ServiceError becomes a Chinese message on the page.

Case content is personal: only staff holding a case role (Grant.case_role) over the union handling a
case see it; an admin without one is refused. The caller's phone is always masked, except once at a
time through "查看完整号码" (services.case_reveal_phone, audited and rate limited); where the worker
asked for protection and the actor works only at the employer-level union, name and phone are not
shown at all (selectors.identity_hidden), and every view of such a case is audited. Searches by
phone are POSTed so they never end up in a URL, a log line or the browser history.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.accounts.models import User
from gonghui.analytics.rollups import rollup_read
from gonghui.casedesk import selectors, services
from gonghui.casedesk.models import OPEN_STATUSES, Case, CaseKind, CaseStatus, Channel, Difficulty
from gonghui.core.audit import audit_log
from gonghui.core.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from gonghui.core.files import private_file
from gonghui.orgs import selectors as org_selectors
from gonghui.orgs.models import OrgUnit
from gonghui.portal import lookups as places

from .access import (
    FORM_TOKEN_FIELD,
    case_home_id,
    claim_form_token,
    console_render,
    console_view,
    new_form_token,
    remember_form_result,
)
from .access import (
    form_token_context as _token,
)
from .membership_views import _choice

PAGE = 30
SEARCH_PER_STATUS = 20
DISPATCH_CHILDREN = 200
DISPATCH_SEARCH = 20
EMPLOYER_SEARCH = 10

# The board's tabs, in the order a case moves through them.
STATUS_TABS = {
    CaseStatus.PENDING.value: "待受理",
    CaseStatus.IN_PROGRESS.value: "办理中",
    CaseStatus.WAITING_WORKER.value: "待补充",
    CaseStatus.RESOLVED.value: "已办结",
    CaseStatus.CLOSED.value: "已结案",
    CaseStatus.MERGED.value: "已合并",
    CaseStatus.WITHDRAWN.value: "已撤回",
}
DEADLINE_STATUSES = (CaseStatus.PENDING, CaseStatus.IN_PROGRESS)

# The hotline desk's quick category buttons: what most calls are about.
QUICK_CATEGORIES = ["wage_arrears", "overtime_pay", "no_contract", "dismissal", "severance", "no_insurance",
                    "injury_recognition", "platform_pay", "probation", "join"]

ATTACHMENT_TYPES = {"image/jpeg", "image/png", "application/pdf"}
_CASE_NO = re.compile(r"^WQ\d{8}(\d{6,})$")


# --- Helpers ----------------------------------------------------------------------------------------


def _case_rank(user, path: str) -> int:
    return org_selectors.actor_scope(user).case_rank_at(path)


def _require_case_node(user, org: OrgUnit) -> None:
    if not _case_rank(user, org.path):
        raise PermissionDenied("只有有诉求办理权限的工作人员可以查看职工诉求")


def _home(user) -> OrgUnit:
    """The node the actor's case work starts from (the nav's board, the hotline's intake union)."""
    home_id = case_home_id(user)
    if home_id is None:
        raise PermissionDenied("只有有诉求办理权限的工作人员可以办理职工诉求")
    return OrgUnit.objects.select_related("division").get(pk=home_id)


def _case_node_render(request, org, tab: str, template: str, context: dict, status: int = 200):
    base = {"org": org, "case_tab": tab, "now": timezone.now()}
    return console_render(request, template, {**base, **context}, status=status)


def _mark(case: Case, now, user=None) -> Case:
    """Deadline flags for the lists and the case page (the sweep may not have run yet)."""
    pending, working = case.status == CaseStatus.PENDING, case.status == CaseStatus.IN_PROGRESS
    case.is_overdue = bool(
        (pending and (case.accept_overdue_at or (case.accept_due_at and case.accept_due_at < now)))
        or (working and (case.complete_overdue_at or (case.complete_due_at and case.complete_due_at < now)))
    )
    case.is_warned = not case.is_overdue and bool(
        (pending and case.accept_warn_at and case.accept_warn_at <= now)
        or (working and case.complete_warn_at and case.complete_warn_at <= now)
    )
    case.was_overdue = bool(case.accept_overdue_at or case.complete_overdue_at)
    if user is not None:
        case.hidden_identity = selectors.identity_hidden(user, case)
    return case


def _case_url(case) -> str:
    return reverse("console:case_detail", args=[case.pk])


# --- 1. The board -----------------------------------------------------------------------------------


@require_GET
@console_view
def case_home(request):
    """/console/cases/ (the link in deadline notices): the board of the actor's own case node, with
    the notice's filters (?overdue=1, ?supervising=1)."""
    home = _home(request.user)
    query = urlencode({k: "1" for k in ("overdue", "supervising") if request.GET.get(k) == "1"})
    url = reverse("console:case_board", args=[home.pk])
    return redirect(f"{url}?{query}" if query else url)


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def case_board(request, org_id):
    """GET: a status's cases, the soonest deadline first, with the filters in the URL. POST: a search
    (case number, phone or words), posted so that a phone number is never part of a URL; it looks
    through every status at once."""
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    _require_case_node(user, org)
    data = request.POST if request.method == "POST" else request.GET
    status = _choice(data.get("status"), STATUS_TABS, CaseStatus.PENDING.value)
    overdue = data.get("overdue") == "1"
    supervising = data.get("supervising") == "1"
    groups = selectors.categories(org.path)
    codes = {g.code for g in groups} | {item.code for g in groups for item in g.items}
    category = _choice(data.get("category", ""), codes)
    q = (request.POST.get("q", "") if request.method == "POST" else "").strip()[:60]
    cursor = data.get("cursor")
    now = timezone.now()
    filters = {"status": status, "overdue": "1" if overdue else "", "supervising": "1" if supervising else "",
               "category": category}
    context = {
        "status": status,
        "tabs": [(key, label, None) for key, label in STATUS_TABS.items()],
        "status_label": STATUS_TABS[status],
        "overdue": overdue,
        "supervising": supervising,
        "category": category,
        "groups": groups,
        "q": q,
        "filters": filters,
        "deadline_status": status in DEADLINE_STATUSES,
    }
    if q:
        context.update(_search_all(user, org, q, overdue, supervising, category, now))
        return _case_node_render(request, org, "board", "console/cases/board.html", context)
    cases, next_cursor = selectors.case_board(actor=user, node=org, status=status, overdue=overdue,
                                              supervising=supervising, category=category, cursor=cursor, limit=PAGE)
    for case in cases:
        _mark(case, now, user)
    more_url = ""
    if next_cursor:
        query = urlencode({**{k: v for k, v in filters.items() if v}, "cursor": next_cursor})
        more_url = f"{reverse('console:case_board', args=[org.pk])}?{query}"
    context.update(cases=cases, more_url=more_url)
    if request.htmx and cursor:
        return render(request, "console/cases/_board_rows.html", {"org": org, **context})
    # Subtree totals per status, from the rollups: only for a role over the whole subtree, and only
    # while no filter narrows the list (the numbers would not match it).
    if org_selectors.actor_scope(user).case_subtree_rank(org.path) and not (overdue or supervising or category):
        totals = rollup_read(org.pk)
        context["tabs"] = [(key, label, totals.get(f"cases.status.{key}", 0)) for key, label in STATUS_TABS.items()]
    return _case_node_render(request, org, "board", "console/cases/board.html", context)


def _search_all(user, org, q: str, overdue: bool, supervising: bool, category: str, now) -> dict:
    found, more = [], False
    for status in STATUS_TABS:
        rows, next_cursor = selectors.case_board(actor=user, node=org, status=status, overdue=overdue,
                                                 supervising=supervising, category=category, q=q,
                                                 limit=SEARCH_PER_STATUS)
        found += [_mark(case, now, user) for case in rows]
        more = more or bool(next_cursor)
    return {"cases": found, "search_more": more, "more_url": ""}


# --- 2. One case ------------------------------------------------------------------------------------


# Service field names that the page's forms call differently.
FIELD_ALIASES = {"into_id": "into"}


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def case_detail(request, case_id):
    user = request.user
    case = selectors.case_get(actor=user, case_id=case_id)
    url = _case_url(case)
    err = None
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        action = request.POST.get("action", "")
        try:
            note = _case_action(user, case, action, request.POST, request.FILES)
        except ServiceError as exc:
            field = FIELD_ALIASES.get(exc.field or "", exc.field or "")
            err = {"action": action, "field": field, "message": exc.message}
            case = selectors.case_get(actor=user, case_id=case.pk)
        else:
            # A case returned up (or dispatched out of a node-only grant) may be out of sight now.
            target = url if selectors.cases_visible(user).filter(pk=case.pk).exists() else \
                reverse("console:case_board", args=[case_home_id(user)])
            remember_form_result(request, target)
            messages.success(request, note)
            return redirect(target)
    services.case_viewed(actor=user, case=case)
    context = _detail_context(request, case)
    context.update(err=err, posted=request.POST if err else {})
    return console_render(request, "console/cases/detail.html", context)


def _case_action(user, case: Case, action: str, post, files) -> str:
    """Carry out one action of the case page; returns the message shown after the redirect."""
    if action == "accept":
        case = services.case_accept(actor=user, case=case)
        return f"已受理，办结期限 {timezone.localtime(case.complete_due_at):%Y-%m-%d %H:%M}"
    if action == "dispatch":
        to_org = _dispatch_target(user, post.get("to_org_id", ""))
        services.case_dispatch(actor=user, case=case, to_org=to_org, note=post.get("note", ""))
        return f"已转办「{to_org.name}」，对方会收到通知，受理期限重新计算"
    if action == "return":
        case = services.case_return(actor=user, case=case, reason=post.get("reason", ""))
        return f"已退回上级「{case.org.name}」"
    if action == "note":
        services.case_note(actor=user, case=case, text=post.get("text", ""), attachments=files.getlist("attachments"))
        return "已添加内部备注（职工看不到）"
    if action == "reply":
        services.case_reply(actor=user, case=case, text=post.get("text", ""), attachments=files.getlist("attachments"))
        return "已答复职工，职工会收到通知"
    if action == "request_info":
        services.case_request_info(actor=user, case=case, text=post.get("text", ""))
        return "已请职工补充材料，办结时限暂停计算，职工补充后恢复"
    if action == "difficulty":
        case = services.case_set_difficulty(actor=user, case=case, difficulty=post.get("difficulty", ""),
                                             reason=post.get("reason", ""))
        return f"难度已调整为「{case.get_difficulty_display()}」"
    if action == "resolve":
        services.case_resolve(actor=user, case=case, result=post.get("result", ""),
                              money_recovered=post.get("money_recovered", ""),
                              workers_helped=post.get("workers_helped", ""))
        return "已办结，职工会收到办理结果和评价链接"
    if action == "rate":
        case = services.case_rate_by_phone(actor=user, case=case, score=post.get("score", ""),
                                           comment=post.get("comment", ""))
        if case.status == CaseStatus.IN_PROGRESS:
            return f"已记录电话回访：{case.satisfaction}分。职工不满意，诉求已重新办理"
        return f"已记录电话回访：{case.satisfaction}分"
    if action == "close":
        passed = post.get("passed", "")
        if passed not in ("1", "0"):
            raise ValidationFailed("passed_invalid", "请选择“质检通过，结案”或“质检不通过，重新办理”", "passed")
        services.case_close(actor=user, case=case, passed=passed == "1", note=post.get("note", ""))
        return "质检通过，已结案" if passed == "1" else "质检未通过，诉求已退回重新办理"
    if action == "reopen":
        services.case_reopen(actor=user, case=case, reason=post.get("reason", ""))
        return "诉求已重新办理，办结期限重新计算"
    if action == "merge":
        into = _merge_target(user, post.get("into", ""))
        services.case_merge(actor=user, case=case, into=into, note=post.get("note", ""))
        return f"已合并到 {into.number}，职工会收到通知"
    if action == "legal_aid":
        services.case_refer_legal_aid(actor=user, case=case, note=post.get("note", ""))
        return "已转介法律援助"
    raise ValidationFailed("action_invalid", "请选择要办理的事项", "action")


def _dispatch_target(user, value: str) -> OrgUnit:
    if not str(value).strip():
        raise ValidationFailed("to_org_required", "请选择要转办的下级工会", "to_org_id")
    try:
        return org_selectors.org_get(actor=user, org_id=value)
    except NotFound:
        raise ValidationFailed("dispatch_outside", "所选工会不在您的管辖范围内，只能转办给本级工会的下级工会",
                               "to_org_id") from None


def _merge_target(user, value: str) -> Case:
    number = re.sub(r"\s", "", value or "").upper()
    if not number:
        raise ValidationFailed("into_required", "请填写要合并到的诉求编号（如 WQ20260101000123）", "into_id")
    found = _CASE_NO.match(number)
    try:
        if not found:
            raise NotFound("诉求")
        into = selectors.case_get(actor=user, case_id=found.group(1))
        if into.number != number:
            raise NotFound("诉求")
    except NotFound:
        raise ValidationFailed("into_unknown", f"没有找到编号为 {number} 的诉求，请核对编号（须是您有权办理的诉求）",
                               "into_id") from None
    return into


def _detail_context(request, case: Case, revealed: str = "", reveal_error: str = "") -> dict:
    user = request.user
    now = timezone.now()
    _mark(case, now, user)
    rank = _case_rank(user, case.org_path)
    events = selectors.case_timeline(actor=user, case=case)
    attachments = selectors.case_attachments(actor=user, case=case)
    by_event: dict[int, list] = {}
    for attachment in attachments:
        if attachment.event_id:
            by_event.setdefault(attachment.event_id, []).append(attachment)
    for event in events:
        event.files = by_event.get(event.pk, [])
        if event.actor is None:
            event.actor_label = "系统"
        elif event.actor.kind == User.Kind.WORKER:
            event.actor_label = "职工本人"
        else:
            event.actor_label = event.actor.display_name or event.actor.username
        event.status_changed = event.from_status != event.to_status and event.to_status in CaseStatus.values
        event.to_label = CaseStatus(event.to_status).label if event.to_status in CaseStatus.values else ""
    home_id = case_home_id(user)
    context = {
        "case": case,
        "org": case.org,
        "home_id": home_id,
        "events": events,
        "attachments": attachments,
        "loose_attachments": [a for a in attachments if not a.event_id],
        "hidden": case.hidden_identity,
        "can": _case_actions(case, rank),
        "difficulties": Difficulty.choices,
        "revealed": revealed,
        "reveal_error": reveal_error,
        "now": now,
        "member_visible": bool(case.member_id and not case.hidden_identity
                               and org_selectors.actor_scope(user).covers(case.member.org_path)),
        **_token(),
    }
    if context["can"].get("dispatch"):
        context.update(_dispatch_choices(request, user, case))
        if not context["dispatch_targets"] and not context["dispatch_q"]:  # nothing below to send it to
            del context["can"]["dispatch"]
    return context


def _case_actions(case: Case, rank: int) -> dict:
    """Which forms the case page shows: by status and the actor's case role (the services check again)."""
    status = case.status
    handler = rank >= services.HANDLER
    supervisor = rank >= services.SUPERVISOR
    working = status in (CaseStatus.PENDING, CaseStatus.IN_PROGRESS)
    actions = {
        "accept": handler and status == CaseStatus.PENDING,
        "dispatch": handler and working,
        "return": handler and working and case.org.parent_id is not None,
        "reply": handler and status not in (CaseStatus.MERGED, CaseStatus.WITHDRAWN),
        "request_info": handler and status == CaseStatus.IN_PROGRESS,
        "resolve": handler and status in (CaseStatus.IN_PROGRESS, CaseStatus.WAITING_WORKER),
        "rate": handler and status == CaseStatus.RESOLVED,
        "close": supervisor and status == CaseStatus.RESOLVED,
        "reopen": supervisor and status in (CaseStatus.RESOLVED, CaseStatus.CLOSED),
        "difficulty": handler and status in OPEN_STATUSES,
        "merge": handler and status in OPEN_STATUSES,
        "legal_aid": handler and status in OPEN_STATUSES and not case.legal_aid_ref,
        "note": handler,
    }
    return {key: on for key, on in actions.items() if on}


def _dispatch_choices(request, user, case: Case) -> dict:
    """The unions a case may be sent down to: the handling union's children, or the descendants a
    search finds (GET dispatch_q, swapped in by htmx)."""
    q = request.GET.get("dispatch_q", "").strip()[:60] if request.method == "GET" else ""
    error = ""
    if q:
        try:
            found = org_selectors.org_search(actor=user, q=q, limit=DISPATCH_SEARCH, within=case.org)
        except ValidationFailed as exc:
            found, error = [], exc.message
        targets = [o for o in found if o.pk != case.org_id and o.is_active and not o.is_placeholder]
    else:
        targets = list(org_selectors.org_visible(user).filter(parent_id=case.org_id, is_active=True,
                                                              is_placeholder=False).order_by("path")
                       [:DISPATCH_CHILDREN])
    return {"dispatch_q": q, "dispatch_targets": targets, "dispatch_error": error}


@never_cache
@require_GET
@console_view
def case_dispatch_targets(request, case_id):
    """The dispatch select, for the search box beside it (htmx)."""
    user = request.user
    case = selectors.case_get(actor=user, case_id=case_id)
    context = {"case": case, **_dispatch_choices(request, user, case)}
    return render(request, "console/cases/_dispatch_targets.html", context)


@never_cache
@require_POST
@console_view
def case_reveal(request, case_id):
    """The caller's full phone number, swapped in by htmx (or shown on the case page without JS)."""
    user = request.user
    case = selectors.case_get(actor=user, case_id=case_id)
    value = error = ""
    status = 200
    try:
        value = services.case_reveal_phone(actor=user, case=case)
    except ServiceError as exc:
        error, status = exc.message, exc.status
    if request.htmx:
        # htmx swaps only 2xx answers: the refusal is said in place of the button.
        response = render(request, "console/cases/_reveal.html", {"value": value, "error": error})
    else:
        services.case_viewed(actor=user, case=case)
        context = _detail_context(request, case, revealed=value, reveal_error=error)
        context.update(err=None, posted={})
        response = console_render(request, "console/cases/detail.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


# --- 3. Attachments ---------------------------------------------------------------------------------


@never_cache
@require_GET
@console_view
def case_attachment(request, case_id, attachment_id):
    """A case's photo or PDF, only through this view (never a public media URL): the case through the
    actor's scope, as an attachment the browser may not sniff into something else. Audited."""
    user = request.user
    case = selectors.case_get(actor=user, case_id=case_id)
    try:
        pk = int(attachment_id)
    except (TypeError, ValueError):
        raise NotFound("附件") from None
    attachment = next((a for a in selectors.case_attachments(actor=user, case=case) if a.pk == pk), None)
    if attachment is None:
        raise NotFound("附件")
    try:
        handle = attachment.file.open("rb")
    except (OSError, ValueError):
        raise NotFound("附件") from None
    with transaction.atomic():
        audit_log(actor=user, action="case.attachment_view", obj=case, org=case.org,
                  object_repr=f"{case.number} 附件：{attachment.name}", after={"attachment_id": attachment.pk})
    content_type = attachment.content_type if attachment.content_type in ATTACHMENT_TYPES else \
        "application/octet-stream"
    return private_file(handle, filename=attachment.name, content_type=content_type)


# --- 4. The hotline desk ----------------------------------------------------------------------------

HOTLINE_FIELDS = ("phone", "name", "category", "kind", "description", "answer", "employer_id", "employer_name",
                  "workers_affected", "amount_claimed", "contact_preference", "protect_identity")
# Service field names -> the desk's fields (one text box serves as the question and the description).
HOTLINE_ALIASES = {"question": "description", "employer.name": "employer_name", "division_code": "place",
                   "external_id": "form", "channel": "form", "org_id": "form", "difficulty": "form"}


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def hotline(request):
    """One screen for a 12351 call: who is calling, what about, then either the answer given on the
    spot (a closed consultation) or a case for the responsible union."""
    user = request.user
    home = _home(user)
    errors: dict[str, str] = {}
    posted = {key: "" for key in HOTLINE_FIELDS}
    employers, employer_error = None, ""
    if request.method == "POST":
        posted = {key: request.POST.get(key, "").strip() if key not in ("description", "answer")
                  else request.POST.get(key, "") for key in HOTLINE_FIELDS}
        chain = places.place_chain(request.POST.getlist("place")[:6])
        outcome = request.POST.get("outcome", "")
        if outcome in ("consult", "case"):
            duplicate = claim_form_token(request)
            if duplicate:
                return duplicate
            try:
                case = _hotline_save(user, outcome, posted, chain)
            except ServiceError as exc:
                key = HOTLINE_ALIASES.get(exc.field or "", exc.field or "form")
                errors[key if key in HOTLINE_FIELDS or key == "place" else "form"] = exc.message
            else:
                return _hotline_done(request, user, outcome, case)
        elif outcome == "find_employer":  # the search without JavaScript
            employers, employer_error = _employer_find(user, request.POST.get("employer_q", ""))
        elif outcome != "place":
            errors["form"] = "请选择“当场解答”或“登记为诉求”"
        if employers is None and request.POST.get("employer_q", "").strip():  # keep the results on the page
            employers, employer_error = _employer_find(user, request.POST.get("employer_q", ""))
    else:
        chain = places.place_chain_of(home.division_id) if home.division_id else []
    groups = selectors.categories(home.path)
    items = {item.code: item for g in groups for item in g.items}
    caller = _caller(user, posted["phone"]) if posted["phone"] else None
    chosen_employer = None
    if posted["employer_id"]:
        try:
            chosen_employer = org_selectors.employer_get(actor=user, employer_id=posted["employer_id"])
        except NotFound:
            posted["employer_id"] = ""
    context = {
        "org": home,
        "case_tab": "hotline",
        "groups": groups,
        "quick": [items[code] for code in QUICK_CATEGORIES if code in items],
        "kinds": CaseKind.choices,
        "posted": posted,
        "errors": errors,
        "caller": caller,
        "employers": employers,
        "employer_error": employer_error,
        "employer_q": request.POST.get("employer_q", "") if request.method == "POST" else "",
        "chosen_employer": chosen_employer,
        "place": _place_context(chain, errors.get("place", "")),
        # A search or a place step does not use up the form's one-time token; a submission does.
        "form_token": (request.POST.get(FORM_TOKEN_FIELD) if request.POST.get("outcome") in ("find_employer", "place")
                       else "") or new_form_token(),
        "token_field": FORM_TOKEN_FIELD,
    }
    return console_render(request, "console/cases/hotline.html", context)


def _hotline_save(user, outcome: str, posted: dict, chain) -> Case:
    employer_id = posted["employer_id"] or None
    # The place picker starts at the agent's own city: it tells where the caller works only when no
    # registered employer was chosen (which knows its own place).
    division_code = chain[-1].code if chain and not employer_id else ""
    employer = {"name": posted["employer_name"], "division_code": division_code} if (
        not employer_id and posted["employer_name"]) else None
    if outcome == "consult":
        return services.consultation_close(
            actor=user, category=posted["category"], question=posted["description"], answer=posted["answer"],
            name=posted["name"], phone=posted["phone"], employer_id=employer_id, employer=employer,
            division_code=division_code or None)
    if posted["kind"] and posted["kind"] not in CaseKind.values:
        raise ValidationFailed("kind_invalid", "诉求类型无效，请重新选择", "kind")
    case, _created = services.case_create(
        actor=user, channel=Channel.HOTLINE, category=posted["category"], description=posted["description"],
        kind=posted["kind"] or None, employer_id=employer_id, employer=employer, division_code=division_code or None,
        workers_affected=posted["workers_affected"], amount_claimed=posted["amount_claimed"],
        contact_preference=posted["contact_preference"], protect_identity=posted["protect_identity"] == "1",
        name=posted["name"], phone=posted["phone"])
    return case


def _hotline_done(request, user, outcome: str, case: Case):
    if outcome == "consult":
        url = reverse("console:case_hotline")
        messages.success(request, f"已记录当场解答（{case.number}），可以接听下一个来电")
    elif selectors.cases_visible(user).filter(pk=case.pk).exists():
        url = _case_url(case)
        messages.success(request, f"已登记诉求 {case.number}，由「{case.org.name}」办理。请告知来电人诉求编号")
    else:  # routed to a union outside the agent's case role: it is theirs now
        url = reverse("console:case_hotline")
        messages.success(request, f"已登记诉求 {case.number}，已转「{case.org.name}」办理，请告知来电人诉求编号")
    remember_form_result(request, url)
    return redirect(url)


def _place_context(chain, error: str = "") -> dict:
    code = chain[-1].code if chain else ""
    return {"selects": places.place_selects(chain), "code": code, "path": " ".join(d.name for d in chain),
            "error": error}


def _caller(user, phone: str) -> dict:
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) < 11:
        return {"waiting": True}
    try:
        found = selectors.caller_lookup(actor=user, phone=phone)
    except ValidationFailed as exc:
        return {"error": exc.message}
    now = timezone.now()
    for case in found["cases"]:
        _mark(case, now, user)
    return found


def _employer_find(user, q: str):
    q = (q or "").strip()
    if not q:
        return None, ""
    try:
        return org_selectors.employer_search(actor=user, q=q, limit=EMPLOYER_SEARCH), ""
    except ValidationFailed as exc:
        return [], exc.message


@never_cache
@require_POST
@console_view
def hotline_caller(request):
    """Who is calling (htmx, as the phone is typed): the member masked, and the earlier cases the agent
    may see. POSTed so the number never ends up in a URL."""
    _home(request.user)
    caller = _caller(request.user, request.POST.get("phone", ""))
    response = render(request, "console/cases/_caller.html", {"caller": caller})
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_GET
@console_view
def hotline_employers(request):
    """Employers matching what the agent typed (htmx): radio buttons inside the desk's form."""
    _home(request.user)
    employers, error = _employer_find(request.user, request.GET.get("employer_q", ""))
    return render(request, "console/cases/_employer_results.html",
                  {"employers": employers, "employer_error": error, "posted": {"employer_id": ""}})


@never_cache
@require_GET
@console_view
def hotline_places(request):
    """The cascading place picker, fetched again when a level changes (htmx)."""
    _home(request.user)
    chain = places.place_chain(request.GET.getlist("place")[:6])
    return render(request, "console/cases/_place_picker.html", {"place": _place_context(chain)})

