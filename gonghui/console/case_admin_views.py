"""The staff console's case administration for the 12351 case desk (维权服务): numbers, cluster
alerts (群体性诉求预警), the case taxonomy and the time limits.

Thin views over gonghui.casedesk's services and selectors, like membership_views.py: every id from
a request is looked up through a selector (unknown and out-of-scope ids are both the console's 404),
every write is one service call, and a ServiceError becomes a Chinese message on the page.

Who sees what:
- Numbers (stats page and its CSV): whoever's grants cover the node, with or without a case role,
  as for the membership numbers: they are rollup totals without personal data. A node's rollups
  are subtree totals, so they need a grant that covers the subtree (with descendants), unless the
  node has no unions below it; a grant on a node alone sees no totals there (the case table is not
  counted per request).
- Cluster alerts name employers and lead to cases: a case role (Grant.case_role) over the node.
- The taxonomy and the time limits: readable by whoever's grants cover the node; changed by the
  admins of the national or a provincial union, as the services decide.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from gonghui.casedesk import selectors, services
from gonghui.casedesk.models import CaseKind, CaseStatus, CaseTimeLimit, ClusterAlert, Difficulty
from gonghui.core.audit import audit_log
from gonghui.core.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from gonghui.orgs import selectors as org_selectors
from gonghui.orgs.exports import _csv_line as csv_line
from gonghui.orgs.models import CASE_ROLE_RANK, ROLE_RANK, CaseRole, OrgKind, OrgUnit, Role
from gonghui.orgs.paths import STEP, ancestor_paths

from .access import (
    claim_form_token,
    console_render,
    console_view,
    remember_form_result,
)
from .access import (
    form_token_context as _token,
)
from .membership_views import _csv_response, _percent

ADMIN = ROLE_RANK[Role.ADMIN]
HANDLER = CASE_ROLE_RANK[CaseRole.HANDLER]
STATS_DAYS = (7, 30, 90)
CLUSTER_CASES = 100
TAXONOMY_KINDS = (OrgKind.NATIONAL, OrgKind.PROVINCE)
CLUSTER_STATUSES = {s.value: s.label for s in ClusterAlert.Status}


# --- Helpers ----------------------------------------------------------------------------------------


def _scope(user):
    return org_selectors.actor_scope(user)


def _url(name: str, *args) -> str:
    """A URL of the case pages another module may or may not provide yet ("" when it does not)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def case_url(case_id) -> str:
    return _url("console:case_detail", case_id) or f"/console/cases/{case_id}/"


def _node_render(request, org, tab: str, template: str, context: dict, status: int = 200):
    scope = _scope(request.user)
    base = {
        "org": org,
        "case_tab": tab,  # console/cases/_tabs.html
        "rank": scope.rank_at(org.path),
        "case_rank": scope.case_rank_at(org.path),
        "now": timezone.now(),
    }
    return console_render(request, template, {**base, **context}, status=status)


def _money(value) -> str:
    return f"{value:,.2f}"


def _days(request) -> int:
    try:
        days = int(request.GET.get("days", 30))
    except (TypeError, ValueError):
        days = 30
    return days if days in STATS_DAYS else 30


def _sees_totals(user, org: OrgUnit) -> bool:
    """A node's rollups are subtree totals: shown to a grant covering the subtree, or where the
    subtree is the node alone."""
    return bool(_scope(user).subtree_rank(org.path)) or not OrgUnit.objects.filter(parent_id=org.pk).exists()


def _require_case_role(user, org: OrgUnit, message: str) -> None:
    if _scope(user).case_rank_at(org.path) < HANDLER:
        raise PermissionDenied(message)


def _province_path(org: OrgUnit) -> str:
    """Whose own categories and time limits apply at the node: its province's (none at the root)."""
    return org.path[: 2 * STEP] if len(org.path) >= 2 * STEP else ""


def _can_administer(user, org: OrgUnit) -> bool:
    """The taxonomy and the time limits are set on the national or a provincial union by its admin."""
    return org.kind in TAXONOMY_KINDS and _scope(user).rank_at(org.path) >= ADMIN


def _province_link(user, org: OrgUnit, name: str) -> tuple[str, str]:
    """(name, url) of the province page where the node's settings are made, if the user may open it."""
    path = _province_path(org)
    if not path or path == org.path:
        return "", ""
    province = OrgUnit.objects.filter(path=path, kind=OrgKind.PROVINCE).only("pk", "name", "path").first()
    if province is None or not _scope(user).covers(province.path):
        return (province.name if province else ""), ""
    return province.name, reverse(name, args=[province.pk])


# --- 1. Numbers -------------------------------------------------------------------------------------


@never_cache
@require_GET
@console_view
def stats(request, org_id):
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    days = _days(request)
    context = {"days": days, "day_choices": STATS_DAYS, "numbers": None, "children": []}
    if _sees_totals(user, org):
        context.update(_stats_context(org, days))
    board = _url("console:case_board", org.pk)
    context["overdue_url"] = f"{board}?overdue=1" if board and _scope(user).case_rank_at(org.path) else ""
    return _node_render(request, org, "stats", "console/cases/admin/stats.html", context)


def _stats_context(org: OrgUnit, days: int) -> dict:
    numbers = selectors.case_stats(org, days=days)
    children = selectors.case_child_breakdown(org)
    by_category = [(numbers["category_names"][code], n) for code, n in numbers["by_category"].items()]
    unlisted = numbers["total"] - sum(n for _name, n in by_category)
    if unlisted > 0:  # cases under a group since deactivated
        by_category.append(("已停用的分类", unlisted))
    for row in children:
        row["accept_label"] = _percent(row["accept_on_time_rate"])
        row["complete_label"] = _percent(row["complete_on_time_rate"])
        row["money_label"] = _money(row["money_recovered"])
    trend = numbers["trend"]
    chart = {
        "trend": trend,
        "children": [
            {
                "name": row["org"].name,
                "overdue": row["overdue_open"],
                "open": row["open"] - row["overdue_open"],
                "done": row["total"] - row["open"],
            }
            for row in children
        ],
    }
    return {
        "numbers": numbers,
        "by_status": [(CaseStatus(s).label, n) for s, n in numbers["by_status"].items()],
        "by_kind": [(CaseKind(k).label, n) for k, n in numbers["by_kind"].items()],
        "by_category": by_category,
        "accept_rate": _percent(numbers["accept_on_time_rate"]),
        "complete_rate": _percent(numbers["complete_on_time_rate"]),
        "satisfied_rate": _percent(numbers["satisfied_rate"]),
        "satisfaction": "—" if numbers["satisfaction_avg"] is None else f"{numbers['satisfaction_avg']:.2f}",
        "money": _money(numbers["money_recovered"]),
        "new_total": sum(d["new"] for d in trend),
        "closed_total": sum(d["closed"] for d in trend),
        "children": children,
        "chart": chart,
    }


CHILD_COLUMNS = ["下级组织", "组织类型", "诉求总数", "办理中", "超时未办结", "按时受理率", "按时办结率", "追回金额（元）"]


@require_GET
@console_view
def stats_export(request, org_id):
    """The child breakdown as CSV (UTF-8 with BOM for Excel, formula-safe cells), audited first."""
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    children = selectors.case_child_breakdown(org) if _sees_totals(user, org) else []
    with transaction.atomic():
        audit_log(
            actor=user,
            action="case.stats_export",
            org=org,
            object_type="orgs.orgunit",
            object_id=str(org.pk),
            object_repr=f"{org.name} 下级组织诉求统计",
        )

    def rows():
        yield "\ufeff" + csv_line(CHILD_COLUMNS)
        for row in children:
            yield csv_line(
                [
                    row["org"].name,
                    row["org"].kind_label,
                    row["total"],
                    row["open"],
                    row["overdue_open"],
                    _percent(row["accept_on_time_rate"]),
                    _percent(row["complete_on_time_rate"]),
                    f"{row['money_recovered']:.2f}",
                ]
            )

    return _csv_response(rows(), f"cases-children-{org.pk}.csv")


# --- 2. Cluster alerts (群体性诉求预警) ----------------------------------------------------------------

CLUSTER_ROLE_MESSAGE = "只有有诉求办理权限的人员可以查看群体性诉求预警"


@never_cache
@require_GET
@console_view
def cluster_list(request, org_id):
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    _require_case_role(user, org, CLUSTER_ROLE_MESSAGE)
    status = request.GET.get("status")
    status = status if status in CLUSTER_STATUSES else ClusterAlert.Status.OPEN
    alerts = selectors.clusters(actor=user, node=org, status=status)
    for alert in alerts:
        alert.amount_label = _money(alert.amount)
    context = {
        "alerts": alerts,
        "status": status,
        "statuses": CLUSTER_STATUSES,
        "rule": settings.GONGHUI_CASE_CLUSTER,
    }
    return _node_render(request, org, "clusters", "console/cases/admin/clusters.html", context)


def _cluster_cases(user, alert: ClusterAlert) -> list:
    """The alert's cases the actor may read, found through an index on the employer (or the place)."""
    qs = selectors.cases_visible(user).filter(cluster=alert, category_id=alert.category_id)
    if alert.employer_id:
        qs = qs.filter(employer_id=alert.employer_id)
    else:
        kind, _sep, rest = alert.employer_key.partition(":")
        division = rest.partition(":")[0]
        if kind == "name" and division:
            qs = qs.filter(employer__isnull=True, work_division_id=division)
    cases = list(qs.select_related("org", "category__parent").order_by("-id")[:CLUSTER_CASES])
    for case in cases:
        case.url = case_url(case.pk)
    return cases


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def cluster_detail(request, alert_id):
    user = request.user
    alert = selectors.cluster_get(actor=user, alert_id=alert_id)
    url = reverse("console:case_cluster", args=[alert.pk])
    error = ""
    note = ""
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        note = request.POST.get("note", "")
        if alert.status == ClusterAlert.Status.HANDLED:
            messages.info(request, "该预警已经处置过，没有重复记录")
            return redirect(url)
        try:
            if request.POST.get("action") != "handle":
                raise ValidationFailed("action_invalid", "请填写处置情况后点击“处置完毕”", "action")
            services.cluster_handle(actor=user, alert=alert, note=note)
        except ServiceError as exc:
            error = exc.message
            alert = selectors.cluster_get(actor=user, alert_id=alert.pk)
        else:
            remember_form_result(request, url)
            messages.success(request, "已记录处置情况，该预警已关闭")
            return redirect(url)
    cases = _cluster_cases(user, alert)
    alert.amount_label = _money(alert.amount)
    context = {
        "alert": alert,
        "org": alert.org,
        "cases": cases,
        "hidden_cases": max(0, alert.case_count - len(cases)) if len(cases) < CLUSTER_CASES else 0,
        "can_handle": alert.status == ClusterAlert.Status.OPEN and _scope(user).case_rank_at(alert.org_path) >= HANDLER,
        "list_url": reverse("console:case_clusters", args=[alert.org_id]),
        "error": error,
        "note": note,
        **_token(),
    }
    return console_render(request, "console/cases/admin/cluster.html", context)


# --- 3. Taxonomy (诉求分类) ---------------------------------------------------------------------------

KIND_CHOICES = [("", "（不指定）")] + [(k.value, k.label) for k in CaseKind]
DIFFICULTY_CHOICES = [(d.value, d.label) for d in Difficulty]
CATEGORY_FIELDS = ("code", "name", "parent_id", "description", "keywords", "default_kind", "default_difficulty", "sort")


def _owner_path(org: OrgUnit) -> str:
    """The owner_path of the categories this node's admins edit ("" for national entries)."""
    return "" if org.kind == OrgKind.NATIONAL else org.path


def _taxonomy(org: OrgUnit) -> list:
    return selectors.categories(_province_path(org), include_inactive=True)


def _category_in(groups: list, category_id):
    for group in groups:
        for category in [group, *group.items]:
            if str(category.pk) == str(category_id):
                return category
    raise NotFound("诉求分类")


def _category_values(category) -> dict:
    return {
        "name": category.name,
        "parent_id": category.parent_id or "",
        "description": category.description,
        "keywords": category.keywords,
        "default_kind": category.default_kind,
        "default_difficulty": category.default_difficulty,
        "sort": category.sort,
        "is_active": category.is_active,
    }


def _posted_category(post) -> dict:
    values = {name: post.get(name, "") for name in CATEGORY_FIELDS}
    values["default_difficulty"] = values["default_difficulty"] or Difficulty.NORMAL.value
    values["is_active"] = post.get("is_active") == "1"
    return values


def _taxonomy_context(request, org: OrgUnit, groups: list) -> dict:
    can_edit = _can_administer(request.user, org)
    owner_path = _owner_path(org)
    for group in groups:
        for category in [group, *group.items]:
            category.editable = can_edit and category.owner_path == owner_path
            category.own_province = bool(category.owner_path)
    province_name, province_url = _province_link(request.user, org, "console:case_categories")
    return {
        "groups": groups,
        "can_edit": can_edit,
        "national": org.kind == OrgKind.NATIONAL,
        "parents": [g for g in groups if g.owner_path == ""],
        "kind_choices": KIND_CHOICES,
        "difficulty_choices": DIFFICULTY_CHOICES,
        "province_name": province_name,
        "province_url": province_url,
    }


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def category_list(request, org_id):
    """The taxonomy in force at the node. POST: add a category, or switch one on or off."""
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    url = reverse("console:case_categories", args=[org.pk])
    errors: dict[str, str] = {}
    posted = {}
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        action = request.POST.get("action")
        try:
            if action == "create":
                posted = _posted_category(request.POST)
                posted["is_active"] = True
                category = services.category_save(actor=user, owner=org, **posted)
                note = f"已添加诉求分类“{category.label}”"
            elif action in ("activate", "deactivate"):
                category = _category_in(_taxonomy(org), request.POST.get("category_id"))
                values = {**_category_values(category), "is_active": action == "activate"}
                services.category_save(actor=user, owner=org, category=category, **values)
                note = f"已{'启用' if action == 'activate' else '停用'}“{category.label}”"
            else:
                raise ValidationFailed("action_invalid", "请选择要办理的事项", "action")
        except ServiceError as exc:
            if isinstance(exc, NotFound) and action != "create":
                raise
            errors[exc.field if exc.field in CATEGORY_FIELDS and action == "create" else "form"] = exc.message
        else:
            remember_form_result(request, url)
            messages.success(request, note)
            return redirect(url)
    context = {
        **_taxonomy_context(request, org, _taxonomy(org)),
        "errors": errors,
        "posted": posted,
        "create_open": bool(posted),
        **_token(),
    }
    return _node_render(request, org, "categories", "console/cases/admin/categories.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def category_edit(request, org_id, category_id):
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    groups = _taxonomy(org)
    category = _category_in(groups, category_id)
    context = _taxonomy_context(request, org, groups)
    if not category.editable:
        raise PermissionDenied(
            "只有全国总工会或省级总工会的管理员可以维护诉求分类，且只能修改本级添加的分类"
        )
    list_url = reverse("console:case_categories", args=[org.pk])
    errors: dict[str, str] = {}
    values = _category_values(category)
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        values = _posted_category(request.POST)
        values.pop("code")
        if category.parent_id is None:
            values["parent_id"] = ""  # a group stays a group
        try:
            saved = services.category_save(actor=user, owner=org, category=category, **values)
        except ServiceError as exc:
            errors[exc.field if exc.field in CATEGORY_FIELDS else "form"] = exc.message
        else:
            remember_form_result(request, list_url)
            messages.success(request, f"已保存诉求分类“{saved.label}”")
            return redirect(list_url)
    context.update(
        {
            "org": org,
            "category": category,
            "values": values,
            "errors": errors,
            "list_url": list_url,
            "parents": [g for g in context["parents"] if g.pk != category.pk],
            **_token(),
        }
    )
    return console_render(request, "console/cases/admin/category_edit.html", context)


# --- 4. Time limits (办理时限) ------------------------------------------------------------------------

LIMIT_FIELDS = ("accept_days", "complete_days", "warn_days")


def _limit_rows(org: OrgUnit) -> list[dict]:
    """Per difficulty: the limits in force at the node (services.limits_for) and where they are set."""
    set_on = {}
    rows = CaseTimeLimit.objects.filter(org__path__in=ancestor_paths(org.path)).select_related("org", "updated_by")
    for row in sorted(rows, key=lambda r: len(r.org.path)):
        set_on[row.difficulty] = row  # the nearest one wins, as in limits_for
    out = []
    for difficulty in Difficulty:
        limits = services.limits_for(org, difficulty)
        row = set_on.get(difficulty)
        if row is None:
            source = "全国默认（系统设置）"
        elif row.org.kind == OrgKind.NATIONAL:
            source = f"{row.org.name}设置"
        else:
            source = f"{row.org.name}设置（本省）"
        out.append(
            {
                "difficulty": difficulty.value,
                "label": difficulty.label,
                "limits": limits,
                "source": source,
                "own": row if row is not None and row.org_id == org.pk else None,
            }
        )
    return out


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def limits(request, org_id):
    """The working-day limits in force at the node; the national or a provincial union's admin sets
    them there, one difficulty at a time (a form per difficulty, so a refusal changes nothing)."""
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    url = reverse("console:case_limits", args=[org.pk])
    failed = {}
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        difficulty = request.POST.get("difficulty", "")
        values = {name: request.POST.get(name, "").strip() for name in LIMIT_FIELDS}
        try:
            services.time_limit_set(actor=user, org=org, difficulty=difficulty, **values)
        except ServiceError as exc:
            failed = {"difficulty": difficulty, "field": exc.field, "message": exc.message, "values": values}
        else:
            remember_form_result(request, url)
            messages.success(
                request, f"已保存“{Difficulty(difficulty).label}”诉求的办理时限，新登记和新受理的诉求按新时限计算"
            )
            return redirect(url)
    rows = _limit_rows(org)
    for row in rows:
        current = row["own"] or row["limits"]
        row["values"] = {name: getattr(current, name) for name in LIMIT_FIELDS}
        if failed.get("difficulty") == row["difficulty"]:
            row["values"], row["error"], row["error_field"] = failed["values"], failed["message"], failed["field"]
    province_name, province_url = _province_link(user, org, "console:case_limits")
    can_edit = _can_administer(user, org)
    context = {
        "rows": rows,
        "can_edit": can_edit,
        # Shown above the forms when it belongs to none of them (or there are none).
        "form_error": failed["message"] if failed and (not can_edit or failed["difficulty"] not in Difficulty.values)
        else "",
        "province_name": province_name,
        "province_url": province_url,
        **_token(),
    }
    return _node_render(request, org, "limits", "console/cases/admin/limits.html", context)
