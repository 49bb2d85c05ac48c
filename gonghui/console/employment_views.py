"""The staff console's employment-help pages (就业帮扶云): the moderation queue and the postings of a
union's subtree, one posting (approve, reject with a reason, close; the seekers recommended for it
and the applications it received), recruiter claims (verify, reject, revoke), the help ledger
(帮扶台账) with its CSV, one help request (assign, log services, close placed or not placed), job
fairs (create, booths, check-in by the registration code, results, cancel) and the numbers.

Thin views over gonghui.employment, like aid_views.py and membership_views.py: every id from a
request is looked up through the employment selectors and then checked against the actor's scope
(unknown and out-of-scope ids are both the console's 404), every write is one service call, a
ServiceError is shown on the page next to the form it came from, and a form token makes a double
submit land once.

Personal data: workers' names are masked (mask_name) on every page, phones are the masked copies; the
help ledger's CSV is the export of exports.help_ledger_csv (audited there, as the member roster is).
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from gonghui.accounts.models import User
from gonghui.analytics.rollups import rollup_top_children, rollup_values
from gonghui.core import cursors
from gonghui.core.audit import audit_log
from gonghui.core.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from gonghui.core.models import AuditEntry
from gonghui.core.pii import mask_name
from gonghui.employment import exports, selectors, services
from gonghui.employment.models import (
    FairRegistration,
    HelpGroup,
    HelpRequest,
    HelpService,
    JobFair,
    JobPosting,
    PostingStatus,
    Recruiter,
)
from gonghui.orgs import selectors as org_selectors
from gonghui.orgs.exports import _csv_line as csv_line
from gonghui.orgs.models import ROLE_RANK, Division, Grant, OrgUnit, Role
from gonghui.orgs.paths import ancestor_paths

from . import display
from .access import (
    claim_form_token,
    console_render,
    console_view,
    form_error,
    remember_form_result,
)
from .access import (
    form_token_context as _token,
)
from .case_admin_views import _sees_totals
from .membership_views import _csv_response

VIEWER = ROLE_RANK[Role.VIEWER]
STAFF = ROLE_RANK[Role.STAFF]
PAGE = 30
CANDIDATES = 10
RECOMMENDED_JOBS = 5
FAIR_EMPLOYERS = 200
FAIR_PLACES = 400
STATS_CHILDREN = 50

POSTING_TABS = [(PostingStatus.PENDING.value, "待审核")] + [
    (s.value, s.label) for s in PostingStatus if s != PostingStatus.PENDING] + [("all", "全部")]
RECRUITER_TABS = [(s.value, s.label) for s in Recruiter.Status] + [("all", "全部")]
HELP_STATUSES = [("", "全部")] + [(s.value, s.label) for s in HelpRequest.Status]
HELP_GROUPS = [(g.value, g.label) for g in HelpGroup if g != HelpGroup.NONE]
STAFF_ROLES = [role.value for role, rank in ROLE_RANK.items() if rank >= STAFF]


# --- Helpers ----------------------------------------------------------------------------------------


def _scope(user):
    return org_selectors.actor_scope(user)


def _rank(user, path: str) -> int:
    return _scope(user).rank_at(path)


def _choice(value, allowed, default=""):
    return value if value in allowed else default


def _tabs(org) -> list[tuple[str, str, str]]:
    names = [
        ("postings", "岗位审核", "console:jobs_postings"),
        ("recruiters", "招聘方认证", "console:jobs_recruiters"),
        ("help", "帮扶台账", "console:jobs_help"),
        ("fairs", "招聘会", "console:jobs_fairs"),
        ("stats", "统计", "console:jobs_stats"),
    ]
    return [(key, label, reverse(name, args=[org.pk])) for key, label, name in names]


def _node_render(request, org, tab: str, template: str, context: dict, status: int = 200):
    rank = _rank(request.user, org.path)
    base = {"org": org, "tab": tab, "tabs": _tabs(org), "rank": rank, "is_staff_rank": rank >= STAFF,
            "now": timezone.now()}
    return console_render(request, template, {**base, **context}, status=status)


def _int(value, what: str) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise NotFound(what) from None


def _in_scope(user, obj, what: str):
    """Objects found by an unscoped selector are the actor's only inside their subtree."""
    if _rank(user, obj.org_path) < VIEWER:
        raise NotFound(what)
    return obj


def _posting(user, posting_id) -> JobPosting:
    posting = selectors.postings_for_staff(actor=user).select_related("org").filter(
        pk=_int(posting_id, "岗位")).first()
    if posting is None:
        raise NotFound("岗位")
    return posting


def _help(user, request_id) -> HelpRequest:
    return _in_scope(user, selectors.help_get(actor=user, request_id=request_id), "帮扶申请")


def _fair(user, fair_id) -> JobFair:
    return _in_scope(user, selectors.fair_get(fair_id), "招聘会")


def _keyset(qs, cursor: str | None, field: str):
    """Newest first by (field, id), `PAGE` rows and the cursor of the next page."""
    after = cursors.decode(cursor, list)
    if after is not None:
        try:
            moment, pk = datetime.datetime.fromisoformat(after[0]), int(after[1])
        except (IndexError, TypeError, ValueError):
            raise ValidationFailed("invalid_cursor", "翻页参数无效，请从第一页重新开始", "cursor") from None
        qs = qs.filter(Q(**{f"{field}__lt": moment}) | Q(**{field: moment, "id__lt": pk}))
    rows = list(qs.order_by(f"-{field}", "-id")[:PAGE + 1])
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return rows, (cursors.encode([getattr(rows[-1], field).isoformat(), rows[-1].pk]) if more else None)


def _more_url(name: str, org, cursor: str | None, **params) -> str:
    if not cursor:
        return ""
    return f"{reverse(name, args=[org.pk])}?{urlencode({**{k: v for k, v in params.items() if v}, 'cursor': cursor})}"


def _history(obj, worker_label: str) -> list[dict]:
    """The audit entries about one object (it was fetched in scope), oldest first, as lines to show:
    staff by name, the worker or recruiter by their part (their account name is not shown)."""
    entries = (AuditEntry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
               .select_related("actor").order_by("id")[:100])
    lines = []
    for e in entries:
        if e.actor is None:
            who = "系统"
        elif e.actor.kind == User.Kind.STAFF:
            who = e.actor.display_name or e.actor.username
        else:
            who = worker_label
        lines.append({"label": display.ACTION_LABELS.get(e.action, e.action), "at": e.created_at, "who": who,
                      "reason": str((e.after or {}).get("reason", "") or "")})
    return lines


# The fields each action's form shows: a service error naming one of them is shown next to it, any
# other error above the form.
ACTION_FIELDS = {
    "reject": {"reason"}, "close": {"reason"}, "revoke": {"reason"}, "verify": set(),
    "assign": {"staff_id"}, "service": {"kind", "note", "posting_id", "served_on"},
    "placed": {"employer", "posting_id", "placed_on", "salary", "reason"}, "not_placed": {"reason"},
    "booth": {"employer_id", "posting_ids", "booth_no"}, "cancel": {"reason"}, "checkin": {"code"},
}


def _error(exc: ServiceError, action: str = "") -> dict:
    field = exc.field if exc.field in ACTION_FIELDS.get(action, ()) else ""
    return {"action": action, "field": field, "message": exc.message}


def _done(request, url: str, note: str):
    """After a successful POST: remember where it led (a resubmitted form goes there) and show the note."""
    remember_form_result(request, url)
    messages.success(request, note)
    return redirect(url)


# --- Home -------------------------------------------------------------------------------------------


@never_cache
@require_GET
@console_view
def home(request):
    """/console/jobs/: the moderation queue of the highest union the actor works for."""
    roots = list(org_selectors.org_visible(request.user).filter(pk__in=_scope(request.user).roots).order_by("path")[:1])
    if not roots:
        raise PermissionDenied("没有可查看的工会组织")
    return redirect("console:jobs_postings", roots[0].pk)


# --- Postings ---------------------------------------------------------------------------------------


@never_cache
@require_GET
@console_view
def postings(request, org_id):
    """The moderation queue (待审核, oldest waiting first) and the other statuses, newest first."""
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    status = _choice(request.GET.get("status"), {key for key, _label in POSTING_TABS}, PostingStatus.PENDING)
    qs = selectors.postings_for_staff(actor=user, status=None if status == "all" else status).filter(
        org_path__startswith=org.path).select_related("org")
    cursor = request.GET.get("cursor")
    after = cursors.decode(cursor, int)
    if status == PostingStatus.PENDING:  # a queue: the longest waiting first
        qs = qs.order_by("id").filter(id__gt=after) if after else qs.order_by("id")
    elif after:
        qs = qs.filter(id__lt=after)
    rows = list(qs[:PAGE + 1])
    next_cursor = cursors.encode(rows[PAGE - 1].pk) if len(rows) > PAGE else None
    rows = rows[:PAGE]
    counts = dict(selectors.postings_for_staff(actor=user).filter(org_path__startswith=org.path)
                  .order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    context = {
        "rows": rows, "status": status, "status_tabs": [(k, label, counts.get(k) if k != "all" else None)
                                                 for k, label in POSTING_TABS],
        "more_url": _more_url("console:jobs_postings", org, next_cursor, status=status),
    }
    if request.htmx and cursor:
        return render(request, "console/employment/_posting_rows.html", {"org": org, **context})
    return _node_render(request, org, "postings", "console/employment/postings.html", context)


def _posting_action(user, posting: JobPosting, action: str, post) -> str:
    if action == "approve":
        services.posting_moderate(actor=user, posting=posting, approve=True)
        return f"已审核通过，“{posting.title}”已发布"
    if action == "reject":
        services.posting_moderate(actor=user, posting=posting, approve=False, reason=post.get("reason", ""))
        return "已退回，招聘方会收到未通过的原因"
    if action == "close":
        services.posting_close(actor=user, posting=posting, reason=post.get("reason", ""))
        return "岗位已关闭"
    raise ValidationFailed("action_invalid", "请选择要办理的事项", "action")


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def posting_detail(request, posting_id):
    user = request.user
    posting = _posting(user, posting_id)
    url = reverse("console:jobs_posting", args=[posting.pk])
    err, posted = None, {}
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        action = request.POST.get("action", "")
        try:
            note = _posting_action(user, posting, action, request.POST)
        except ServiceError as exc:
            err, posted = _error(exc, action), request.POST
            posting = _posting(user, posting.pk)
        else:
            return _done(request, url, note)
    staff = _rank(user, posting.org_path) >= STAFF
    candidates, applications = [], []
    if staff and posting.status == PostingStatus.LIVE:
        for seeker, match in selectors.recommend_seekers(posting=posting, limit=CANDIDATES):
            candidates.append({"name": mask_name(seeker.name), "seeker": seeker, "score": round(match.score * 100),
                               "reasons": match.reasons})
    if staff:
        applications = list(selectors.applications_for_posting(actor=user, posting=posting)[:200])
        for application in applications:
            application.name_masked = mask_name(application.seeker.name)
    can = set()
    if staff:
        if posting.status == PostingStatus.PENDING:
            can |= {"approve", "reject"}
        if PostingStatus.CLOSED in services.POSTING_TRANSITIONS[posting.status]:
            can.add("close")
    context = {
        "p": posting, "org": posting.org, "staff": staff, "can": can, "candidates": candidates,
        "applications": applications, "history": _history(posting, "招聘方"), "err": err, "posted": posted, **_token(),
    }
    return console_render(request, "console/employment/posting.html", context, status=400 if err else 200)


# --- Recruiters -------------------------------------------------------------------------------------


def _recruiter_action(user, recruiter: Recruiter, action: str, post) -> str:
    if action == "verify":
        services.recruiter_decide(actor=user, recruiter=recruiter, approve=True, reason=post.get("reason", ""))
        return f"已核验通过：{recruiter.employer_name}的招聘方，现在可以发布岗位"
    if action == "reject":
        services.recruiter_decide(actor=user, recruiter=recruiter, approve=False, reason=post.get("reason", ""))
        return "已作出核验不通过的决定，申请人会收到原因"
    if action == "revoke":
        services.recruiter_revoke(actor=user, recruiter=recruiter, reason=post.get("reason", ""))
        return f"已停用{recruiter.employer_name}的这位招聘方"
    raise ValidationFailed("action_invalid", "请选择要办理的事项", "action")


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def recruiters(request, org_id):
    """Claims to recruit for an employer of the subtree: pending first; verify, reject or revoke."""
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    data = request.POST if request.method == "POST" else request.GET
    status = _choice(data.get("status"), {key for key, _label in RECRUITER_TABS}, Recruiter.Status.PENDING)
    err, posted = None, {}
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        action = request.POST.get("action", "")
        recruiter = selectors.recruiter_get(actor=user, recruiter_id=request.POST.get("recruiter_id"))
        if not recruiter.org_path.startswith(org.path):
            raise NotFound("招聘方")
        try:
            note = _recruiter_action(user, recruiter, action, request.POST)
        except ServiceError as exc:
            err, posted = {**_error(exc, action), "recruiter_id": recruiter.pk}, request.POST
        else:
            url = f"{reverse('console:jobs_recruiters', args=[org.pk])}?status={status}"
            return _done(request, url, note)
    qs = selectors.recruiters_for_staff(actor=user, status=None if status == "all" else status).filter(
        org_path__startswith=org.path)
    cursor = data.get("cursor") if request.method == "GET" else None
    after = cursors.decode(cursor, int)
    if after:
        qs = qs.filter(id__lt=after)
    rows = list(qs[:PAGE + 1])
    next_cursor = cursors.encode(rows[PAGE - 1].pk) if len(rows) > PAGE else None
    rows = rows[:PAGE]
    for row in rows:
        row.name_shown = row.name if _rank(user, row.org_path) >= STAFF else mask_name(row.name)
        row.may_decide = _rank(user, row.org_path) >= STAFF
    context = {"rows": rows, "status": status, "status_tabs": RECRUITER_TABS, "err": err, "posted": posted,
               "more_url": _more_url("console:jobs_recruiters", org, next_cursor, status=status), **_token()}
    if request.htmx and cursor:
        return render(request, "console/employment/_recruiter_rows.html", {"org": org, **context})
    return _node_render(request, org, "recruiters", "console/employment/recruiters.html", context,
                        status=400 if err else 200)


# --- Help ledger (帮扶台账) ---------------------------------------------------------------------------


def _help_filters(request) -> tuple[str, str]:
    status = _choice(request.GET.get("status"), HelpRequest.Status.values)
    group = _choice(request.GET.get("group"), {g for g, _label in HELP_GROUPS})
    return status, group


@never_cache
@require_GET
@console_view
def help_ledger(request, org_id):
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    status, group = _help_filters(request)
    qs = selectors.help_ledger(actor=user, status=status or None, group=group or None).filter(
        org_path__startswith=org.path).annotate(service_count=Count("services"))
    cursor = request.GET.get("cursor")
    rows, next_cursor = _keyset(qs, cursor, "created_at")
    for row in rows:
        row.name_masked = mask_name(row.name)
    filters = {"status": status, "group": group}
    counts = dict(selectors.help_ledger(actor=user).filter(org_path__startswith=org.path).order_by()
                  .values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    context = {
        "rows": rows, "status": status, "group": group, "statuses": HELP_STATUSES, "groups": HELP_GROUPS,
        "counts": counts, "total": sum(counts.values()),
        "export_url": f"{reverse('console:jobs_help_export', args=[org.pk])}"
                      + (f"?{urlencode({k: v for k, v in filters.items() if v})}" if any(filters.values()) else ""),
        "more_url": _more_url("console:jobs_help", org, next_cursor, **filters),
    }
    if request.htmx and cursor:
        return render(request, "console/employment/_help_rows.html", {"org": org, **context})
    return _node_render(request, org, "help", "console/employment/help_ledger.html", context)


@require_GET
@console_view
def help_export(request, org_id):
    """The ledger of the node's subtree as CSV (streamed; the export is audited before the first row)."""
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    status, group = _help_filters(request)
    rows = exports.help_ledger_csv(actor=user, org=org, status=status or None, group=group or None)
    return _csv_response(rows, f"employment-help-ledger-{org.pk}.csv")


def _assignees(user, request: HelpRequest) -> list[User]:
    """Who may be given the request: staff (工作人员 or above) over its union, among the grants the actor
    can see (their own subtree), the closest union first; the actor first of all if they qualify."""
    grants = (Grant.objects.filter(_scope(user).q("org_path"), org_path__in=ancestor_paths(request.org_path),
                                   role__in=STAFF_ROLES, user__is_active=True, user__kind=User.Kind.STAFF)
              .filter(Q(include_descendants=True) | Q(org_path=request.org_path))
              .select_related("user", "org").order_by("-org_path", "user__display_name", "user_id")[:200])
    people: dict[int, User] = {}
    for grant in grants:
        if grant.user_id not in people:
            grant.user.union_name = grant.org.name
            people[grant.user_id] = grant.user
    ordered = sorted(people.values(), key=lambda u: u.pk != user.pk)
    return ordered


def _help_action(user, request: HelpRequest, action: str, post) -> str:
    if action == "assign":
        chosen = str(post.get("staff_id", "")).strip()
        staff = next((u for u in _assignees(user, request) if str(u.pk) == chosen), None)
        request = services.help_assign(actor=user, request=request, staff=staff)
        return f"已分派给{request.assigned_to.display_name or request.assigned_to.username}"
    if action == "service":
        posting_id = str(post.get("posting_id", "")).strip()
        if posting_id and not (posting_id.isascii() and posting_id.isdigit()):
            raise ValidationFailed("posting_unknown", "岗位编号应为数字（岗位页面地址中的数字）", "posting_id")
        services.help_service_log(actor=user, request=request, kind=post.get("kind", ""), note=post.get("note", ""),
                                  posting_id=posting_id or None, served_on=post.get("served_on") or None)
        return "已登记帮扶服务"
    if action == "placed":
        services.help_close(actor=user, request=request, placed=True, employer=post.get("employer", ""),
                            posting_id=str(post.get("posting_id", "")).strip() or None,
                            placed_on=post.get("placed_on") or None, salary=post.get("salary") or None,
                            reason=post.get("reason", ""))
        return "已登记就业，帮扶结束"
    if action == "not_placed":
        services.help_close(actor=user, request=request, placed=False, reason=post.get("reason", ""))
        return "帮扶已结束（未就业）"
    raise ValidationFailed("action_invalid", "请选择要办理的事项", "action")


@never_cache
@require_http_methods(["POST"])
@console_view
def help_reveal(request, request_id):
    """The applicant's full name and phone (audited by the service), so the assigned staff member can
    call; htmx swaps them in place of the button, without JS the page comes back with them."""
    user = request.user
    help_request = _help(user, request_id)
    value, error = None, ""
    try:
        value = services.help_reveal(actor=user, request=help_request)
    except ServiceError as exc:
        error = exc.message
    if request.htmx:
        response = render(request, "console/employment/_reveal.html", {"value": value, "error": error})
    else:
        response = help_detail(request, request_id, revealed=value, reveal_error=error)
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def help_detail(request, request_id, revealed=None, reveal_error=""):
    user = request.user
    help_request = _help(user, request_id)
    url = reverse("console:jobs_help_request", args=[help_request.pk])
    err, posted = None, {}
    if request.method == "POST" and revealed is None and not reveal_error:
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        action = request.POST.get("action", "")
        try:
            note = _help_action(user, help_request, action, request.POST)
        except ServiceError as exc:
            err, posted = _error(exc, action), request.POST
            help_request = _help(user, help_request.pk)
        else:
            return _done(request, url, note)
    staff = _rank(user, help_request.org_path) >= STAFF
    working = help_request.status in (HelpRequest.Status.OPEN, HelpRequest.Status.ASSIGNED)
    seeker = help_request.seeker
    recommended = []
    if staff and working and seeker is not None:
        recommended = [{"p": p, "score": round(m.score * 100), "reasons": m.reasons}
                       for p, m in selectors.recommend_jobs(profile=seeker, limit=RECOMMENDED_JOBS)]
    context = {
        "h": help_request, "org": help_request.org, "name_masked": mask_name(help_request.name),
        "phone_masked": help_request.user.phone_masked, "seeker": seeker,
        "services": list(help_request.services.select_related("posting", "staff")),
        "staff": staff, "can_work": staff and working, "assignees": _assignees(user, help_request) if staff and working
        else [], "kinds": HelpService.Kind.choices, "recommended": recommended,
        "days": (help_request.placed_on - timezone.localtime(help_request.created_at).date()).days
        if help_request.placed_on else None,
        "history": _history(help_request, "申请人"), "today": timezone.localdate(), "err": err, "posted": posted, **_token(),
        "revealed": revealed, "reveal_error": reveal_error,
    }
    return console_render(request, "console/employment/help.html", context, status=400 if err else 200)


# --- Job fairs --------------------------------------------------------------------------------------


class FairForm(forms.Form):
    """The fields of services.fair_create; the service checks them and says what to fix."""

    title = forms.CharField(label="招聘会名称", required=False, max_length=100,
                            widget=forms.TextInput(attrs={"autocomplete": "off"}))
    mode = forms.ChoiceField(label="形式", required=False, choices=JobFair.Mode.choices)
    division_code = forms.CharField(label="举办地（区县或乡镇街道代码）", required=False,
                                    widget=forms.TextInput(attrs={"list": "fair-places", "inputmode": "numeric",
                                                                  "autocomplete": "off"}),
                                    help_text="从列表中选择，或输入6位/9位行政区划代码")
    venue = forms.CharField(label="地点", required=False, max_length=200, help_text="现场招聘会必填",
                            widget=forms.TextInput(attrs={"autocomplete": "off"}))
    starts_at = forms.CharField(label="开始时间", required=False,
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.CharField(label="结束时间", required=False,
                              widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    capacity = forms.CharField(label="人数上限", required=False, help_text="不填则不限",
                               widget=forms.NumberInput(attrs={"min": "1", "inputmode": "numeric"}))
    description = forms.CharField(label="介绍", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("title", "division_code", "starts_at", "ends_at"):
            self.fields[name].marked_required = True


def _fair_places(org: OrgUnit) -> list[Division]:
    """Places a fair of the union can be held: its own division (if a county or township) and the
    counties and townships inside it."""
    division = org.division
    if division is None:
        return []
    prefix = division.code[:{1: 2, 2: 4, 3: 6, 4: 9}[division.level]]
    return list(Division.objects.filter(code__startswith=prefix, level__gte=Division.Level.COUNTY,
                                        is_placeholder=False).order_by("code")[:FAIR_PLACES])


def _fairs_of(user, org: OrgUnit):
    return JobFair.objects.filter(_scope(user).q("org_path"), org_path__startswith=org.path).select_related(
        "org", "division").annotate(registered=Count("registrations"))


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def fairs(request, org_id):
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    may_create = _rank(user, org.path) >= STAFF
    if request.method == "POST":
        if not may_create:
            raise PermissionDenied("没有在该工会举办招聘会的权限")
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        form = FairForm(request.POST)
        form.is_valid()
        data = {name: request.POST.get(name, "") for name in FairForm.base_fields}
        try:
            fair = services.fair_create(actor=user, org=org, data=data)
        except ServiceError as exc:
            form_error(form, exc)
        else:
            return _done(request, reverse("console:jobs_fair", args=[fair.pk]), f"已创建招聘会：{fair.title}")
    else:
        start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + datetime.timedelta(days=7)
        form = FairForm(initial={"division_code": org.division_id if org.division_id and org.division.level >= 3
                                 else "", "mode": JobFair.Mode.ONSITE,
                                 "starts_at": start.replace(hour=9).strftime("%Y-%m-%dT%H:%M"),
                                 "ends_at": start.replace(hour=16).strftime("%Y-%m-%dT%H:%M")})
    cursor = request.GET.get("cursor")
    rows, next_cursor = _keyset(_fairs_of(user, org), cursor, "starts_at")
    context = {"rows": rows, "form": form, "may_create": may_create, "places": _fair_places(org) if may_create else [],
               "more_url": _more_url("console:jobs_fairs", org, next_cursor), "open_form": form.is_bound,
               **_token()}
    return _node_render(request, org, "fairs", "console/employment/fairs.html", context,
                        status=400 if form.is_bound else 200)


def _fair_employers(user, fair: JobFair) -> list[dict]:
    """Employers that may get a booth: those with live postings in the fair's subtree (within the
    actor's scope), each with those postings."""
    live = (selectors.live_postings().filter(_scope(user).q("org_path"), org_path__startswith=fair.org_path)
            .select_related("employer").only("id", "title", "employer__id", "employer__name", "headcount")
            .order_by("employer__name", "employer_id", "title")[:FAIR_EMPLOYERS * 5])
    employers: dict[int, dict] = {}
    for posting in live:
        entry = employers.setdefault(posting.employer_id, {"employer": posting.employer, "postings": []})
        entry["postings"].append(posting)
    return list(employers.values())[:FAIR_EMPLOYERS]


def _fair_action(user, fair: JobFair, action: str, post) -> str:
    if action == "booth":
        employer_id = str(post.get("employer_id", "")).strip()
        allowed = {str(e["employer"].pk): e for e in _fair_employers(user, fair)}
        if employer_id not in allowed:
            raise ValidationFailed("employer_required", "请选择参会单位（辖区内有在招岗位的单位）", "employer_id")
        ids = [str(x).strip() for x in post.getlist("posting_ids") if str(x).strip()]
        if any(not (x.isascii() and x.isdigit()) for x in ids):
            raise ValidationFailed("posting_unknown", "所选岗位不属于该单位", "posting_ids")
        booth = services.fair_booth_add(actor=user, fair=fair, employer_id=int(employer_id),
                                        posting_ids=sorted({int(x) for x in ids}), booth_no=post.get("booth_no", ""))
        return f"已为{allowed[employer_id]['employer'].name}安排展位{booth.booth_no or ''}"
    if action == "cancel":
        services.fair_cancel(actor=user, fair=fair, reason=post.get("reason", ""))
        return "招聘会已取消，已报名的职工会收到通知"
    raise ValidationFailed("action_invalid", "请选择要办理的事项", "action")


def _checked_in(fair: JobFair) -> list[FairRegistration]:
    """The latest check-ins, names masked."""
    checked = list(FairRegistration.objects.filter(fair=fair, checked_in_at__isnull=False)
                   .select_related("user").order_by("-checked_in_at")[:20])
    for registration in checked:
        registration.name_masked = mask_name(registration.user.display_name or "职工")
    return checked


def _fair_context(user, fair: JobFair) -> dict:
    staff = _rank(user, fair.org_path) >= STAFF
    running = fair.status == JobFair.Status.OPEN and fair.ends_at > timezone.now()
    booths = list(fair.booths.select_related("employer").prefetch_related("postings").order_by("booth_no", "id"))
    return {
        "fair": fair, "org": fair.org, "staff": staff, "running": running, "booths": booths, "now": timezone.now(),
        "results": selectors.fair_results(fair), "checked": _checked_in(fair),
        "employers": _fair_employers(user, fair) if staff and running else [],
    }


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def fair_detail(request, fair_id):
    user = request.user
    fair = _fair(user, fair_id)
    url = reverse("console:jobs_fair", args=[fair.pk])
    err, posted = None, {}
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        action = request.POST.get("action", "")
        try:
            note = _fair_action(user, fair, action, request.POST)
        except ServiceError as exc:
            err, posted = _error(exc, action), request.POST
            fair = _fair(user, fair.pk)
        else:
            return _done(request, url, note)
    context = {**_fair_context(user, fair), "err": err, "posted": posted, **_token()}
    return console_render(request, "console/employment/fair.html", context, status=400 if err else 200)


@never_cache
@require_http_methods(["POST"])
@console_view
def fair_checkin(request, fair_id):
    """Check one registration in by its code (typed, or read by a scanner that types it). With htmx the
    check-in box is swapped in place, ready for the next code; without, the fair page is shown again."""
    user = request.user
    fair = _fair(user, fair_id)
    url = reverse("console:jobs_fair", args=[fair.pk])
    duplicate = claim_form_token(request)
    if duplicate:
        return duplicate
    result, err = None, None
    try:
        registration = services.fair_checkin(actor=user, fair=fair, code=request.POST.get("code", ""))
    except ServiceError as exc:
        err = _error(exc, "checkin")
    else:
        result = {"name": mask_name(registration.user.display_name or "职工"), "at": registration.checked_in_at}
    if request.htmx:
        # htmx swaps only 2xx answers: a refused code is said in place of the box.
        return render(request, "console/employment/_checkin.html",
                      {"fair": fair, "result": result, "err": err, "oob": True, "results": selectors.fair_results(fair),
                       "checked": _checked_in(fair), **_token()})
    if err is None:
        return _done(request, url, f"签到成功：{result['name']}")
    context = {**_fair_context(user, fair), "err": err, "posted": {}, **_token()}
    return console_render(request, "console/employment/fair.html", context, status=400)


# --- Numbers ----------------------------------------------------------------------------------------

STAT_METRICS = [services.JOBS_LIVE, services.OPENINGS_LIVE, services.JOBS_PENDING, services.SEEKERS_ACTIVE,
                *[services.seeker_group_metric(g.value) for g in HelpGroup], services.APPLICATIONS, services.HIRES,
                services.HELP_TOTAL, services.HELP_OPEN, services.HELP_PLACED, services.HELP_PLACED_DAYS]


def _figures(values: dict[str, int]) -> dict:
    placed = values.get(services.HELP_PLACED, 0)
    return {
        "jobs_live": values.get(services.JOBS_LIVE, 0), "openings_live": values.get(services.OPENINGS_LIVE, 0),
        "jobs_pending": values.get(services.JOBS_PENDING, 0), "seekers": values.get(services.SEEKERS_ACTIVE, 0),
        "by_group": [(g.label, values.get(services.seeker_group_metric(g.value), 0)) for g in HelpGroup],
        "applications": values.get(services.APPLICATIONS, 0), "hires": values.get(services.HIRES, 0),
        "help_total": values.get(services.HELP_TOTAL, 0), "help_open": values.get(services.HELP_OPEN, 0),
        "help_placed": placed,
        "help_closed": values.get(services.HELP_TOTAL, 0) - values.get(services.HELP_OPEN, 0) - placed,
        "days_avg": round(values.get(services.HELP_PLACED_DAYS, 0) / placed, 1) if placed else None,
    }


def _stats(org: OrgUnit) -> tuple[dict, list[dict]]:
    """The node's figures and its busiest children's (from rollups: each a subtree total)."""
    ids: list[int] = []
    for metric in (services.JOBS_LIVE, services.HELP_TOTAL, services.SEEKERS_ACTIVE, services.APPLICATIONS,
                   services.JOBS_PENDING):
        for org_id in rollup_top_children(org.pk, metric, STATS_CHILDREN):
            if org_id not in ids:
                ids.append(org_id)
    values = rollup_values([org.pk, *ids], STAT_METRICS)
    children = {c.pk: c for c in OrgUnit.objects.filter(pk__in=ids).only("id", "name", "kind", "path")}
    rows = [{"org": children[i], **_figures(values.get(i, {}))} for i in ids if i in children]
    rows.sort(key=lambda r: (-r["jobs_live"], -r["help_total"], -r["seekers"], r["org"].path))
    return _figures(values.get(org.pk, {})), rows[:STATS_CHILDREN]


@never_cache
@require_GET
@console_view
def stats(request, org_id):
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    context: dict = {"numbers": None, "children": []}
    if _sees_totals(user, org):
        numbers, children = _stats(org)
        context.update(numbers=numbers, children=children, chart={
            "groups": [{"name": label, "n": n} for label, n in numbers["by_group"]],
            "children": [{"name": r["org"].name, "jobs": r["jobs_live"], "open": r["help_open"],
                          "placed": r["help_placed"]} for r in children],
        })
    return _node_render(request, org, "stats", "console/employment/stats.html", context)


STATS_COLUMNS = ["组织", "组织类型", "在招岗位", "在招人数", "待审核岗位", "求职者",
                 *[f"求职者：{g.label}" for g in HelpGroup], "投递", "入职", "帮扶申请", "帮扶中", "帮扶已就业",
                 "平均就业天数"]


def _stats_line(org: OrgUnit, f: dict) -> str:
    return csv_line([org.name, org.kind_label, f["jobs_live"], f["openings_live"], f["jobs_pending"], f["seekers"],
                     *[n for _label, n in f["by_group"]], f["applications"], f["hires"], f["help_total"],
                     f["help_open"], f["help_placed"], "" if f["days_avg"] is None else f["days_avg"]])


@require_GET
@console_view
def stats_export(request, org_id):
    """The node and its children's figures as CSV (the same numbers as the page), audited first."""
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    numbers, children = _stats(org) if _sees_totals(user, org) else (None, [])
    with transaction.atomic():
        audit_log(actor=user, action="job.stats_export", org=org, object_type="orgs.orgunit", object_id=str(org.pk),
                  object_repr=f"{org.name} 就业帮扶统计")

    def rows():
        yield "\ufeff" + csv_line(STATS_COLUMNS)
        if numbers is not None:
            yield _stats_line(org, numbers)
        for row in children:
            yield _stats_line(row["org"], row)

    return _csv_response(rows(), f"employment-stats-{org.pk}.csv")

