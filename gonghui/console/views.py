"""The staff console (工作台): thin views over the orgs and accounts services and selectors.

Every id from a request is looked up through a selector (unknown and forbidden ids are both 404);
every write is one service call; service errors are shown next to the field they name.
"""

from __future__ import annotations

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.db.models import prefetch_related_objects
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login

from gonghui.accounts import services as account_services
from gonghui.core.context import client_ip
from gonghui.core.errors import NotFound, ServiceError, ValidationFailed
from gonghui.orgs import selectors, services
from gonghui.orgs.models import CREATABLE_CHILD_KINDS, ROLE_RANK, TERRITORIAL_KINDS, OrgKind, Role

from . import display
from .access import (
    FORM_TOKEN_FIELD,
    claim_form_token,
    console_render,
    console_view,
    form_error,
    new_form_token,
    remember_form_result,
    role_label,
)
from .forms import (
    EmployerForm,
    GrantForm,
    LoginForm,
    OtpConfirmForm,
    StaffCreateForm,
    UnionCreateForm,
    UnionEditForm,
    role_choices,
)

CHILDREN_PAGE = 50
EMPLOYERS_PAGE = 20
AUDIT_PAGE = 50
SEARCH_LIMIT = 20
COVERABLE_EMPLOYERS = 100

ADMIN = ROLE_RANK[Role.ADMIN]
STAFF = ROLE_RANK[Role.STAFF]


def _org_url(org_id, anchor: str = "") -> str:
    return reverse("console:org_detail", args=[org_id]) + (f"#{anchor}" if anchor else "")


# --- Login, logout, two-factor ----------------------------------------------------------------


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/console/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@never_cache
@sensitive_post_parameters("password", "otp")
@require_http_methods(["GET", "POST"])
def login_view(request):
    next_url = _safe_next(request)
    user = request.user
    if request.method == "GET" and user.is_authenticated and user.kind == user.Kind.STAFF:
        return redirect(next_url or "console:home")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = account_services.staff_authenticate(
                username=data["username"],
                password=data["password"],
                otp=data["otp"].strip() or None,
                ip=client_ip(request),
                request=request,
            )
        except ServiceError as exc:
            form_error(form, exc)
        else:
            auth_login(request, user)
            request.session.set_expiry(settings.GONGHUI_STAFF_SESSION_SECONDS)
            device = getattr(user, "otp_device", None)
            if device is not None:
                otp_login(request, device)
            return redirect(next_url or "console:home")
    return render(request, "console/login.html", {"form": form, "next": next_url})


@require_POST
def logout_view(request):
    auth_logout(request)
    messages.info(request, "您已安全退出工作台")
    return redirect("console:login")


def _qr_svg(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    # Size it with CSS rather than the library's millimetres.
    return mark_safe(svg.replace("<svg ", '<svg class="qr" role="img" aria-label="动态口令二维码" ', 1))


def _otpauth_uri(device) -> str:
    """The otpauth:// URI the authenticator app scans (labelled by settings.OTP_TOTP_ISSUER)."""
    return device.config_url


@never_cache
@sensitive_post_parameters("otp")
@console_view(enrol_ok=True, scope_required=False)
def security(request):
    user = request.user
    form = OtpConfirmForm(request.POST or None)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "begin":
                account_services.staff_totp_enrol_begin(user=user)
                return redirect("console:security")
            if action == "confirm" and form.is_valid():
                device = account_services.staff_totp_confirm(user=user, otp=form.cleaned_data["otp"])
                otp_login(request, device)
                messages.success(request, "动态口令已绑定。今后登录工作台时，请输入验证器上的6位数字")
                return redirect("console:security")
        except ServiceError as exc:
            form_error(form, exc)
    device = account_services.staff_totp_device(user)
    pending = None if device else account_services.staff_totp_pending(user)
    context = {
        "form": form,
        "device": device,
        "pending": pending,
        "required": settings.GONGHUI_STAFF_2FA_REQUIRED,
    }
    if pending is not None:
        uri = _otpauth_uri(pending)
        context.update(otpauth_uri=uri, qr_svg=_qr_svg(uri), secret=uri.split("secret=", 1)[1].split("&", 1)[0])
    return console_render(request, "console/security.html", context)


# --- Home and the node page -------------------------------------------------------------------


@require_GET
@console_view(scope_required=False)
def home(request):
    scope = selectors.actor_scope(request.user)
    if scope.is_empty:
        return console_render(request, "console/no_role.html")
    return redirect("console:org_detail", scope.roots[0])


def _actions(request, org, rank: int) -> dict:
    scope = selectors.actor_scope(request.user)
    return {
        "can_create_union": rank >= STAFF and bool(CREATABLE_CHILD_KINDS[OrgKind(org.kind)]),
        "can_create_employer": rank >= STAFF and org.kind != OrgKind.NATIONAL,
        "can_edit": rank >= STAFF,
        "can_move": rank >= ADMIN
        and org.kind not in TERRITORIAL_KINDS
        and org.parent_id is not None
        and org.pk not in scope.roots,
        "can_grant": rank >= ADMIN,
    }


@require_GET
@console_view
def org_detail(request, org_id):
    user = request.user
    org = selectors.org_get(actor=user, org_id=org_id)
    scope = selectors.actor_scope(user)
    rank = scope.rank_at(org.path)
    direct = request.GET.get("direct") == "1"
    children, children_cursor = selectors.org_children(
        actor=user, org=org, cursor=request.GET.get("children_cursor"), limit=CHILDREN_PAGE
    )
    employers, employers_cursor = selectors.employer_list(
        actor=user, org=org, cursor=request.GET.get("employers_cursor"), limit=EMPLOYERS_PAGE, direct_only=direct
    )
    grants = selectors.grant_list(actor=user, org=org)
    audit_entries, audit_more = selectors.audit_list(actor=user, org=org, limit=8)
    stats = selectors.org_stats(actor=user, org=org)
    members = display.member_stats(stats["members"])
    # 入会率 as the membership statistics define it: members at employers whose headcount is known,
    # over those employers' workers (the same figure as the membership stats page).
    at_counted = stats["members"].get("at_counted_employers")
    context = {
        "org": org,
        "rank": rank,
        "role_label": role_label(rank),
        "ancestors": [(a, scope.covers(a.path)) for a in selectors.org_ancestors(org)],
        "stats": stats,
        "members": members,
        "join_rate": (f"{at_counted * 100 / stats['workers']:.1f}%" if at_counted is not None and stats["workers"]
                      else None),
        "children": children,
        "children_cursor": children_cursor,
        "show_tree": bool(children) or not org.is_leaf_kind,
        "parent": org,
        "employers": employers,
        "employers_cursor": employers_cursor,
        "direct": direct,
        "grants": [(g, rank >= ADMIN and g.rank <= rank and g.user_id != user.pk) for g in grants],
        "audit_rows": display.audit_rows(audit_entries, {org.pk: org.name}),
        "audit_more": audit_more,
        "pending_move": selectors.org_move_pending(actor=user, org=org),
        **_actions(request, org, rank),
    }
    return console_render(request, "console/org_detail.html", context)


@require_GET
@console_view
def org_children(request, org_id):
    org = selectors.org_get(actor=request.user, org_id=org_id)
    children, next_cursor = selectors.org_children(
        actor=request.user, org=org, cursor=request.GET.get("cursor"), limit=CHILDREN_PAGE
    )
    return render(
        request,
        "console/_tree_rows.html",
        {"children": children, "children_cursor": next_cursor, "parent": org, "paged": bool(request.GET.get("cursor"))},
    )


@require_GET
@console_view
def org_employers(request, org_id):
    org = selectors.org_get(actor=request.user, org_id=org_id)
    direct = request.GET.get("direct") == "1"
    cursor = request.GET.get("cursor")
    employers, next_cursor = selectors.employer_list(
        actor=request.user, org=org, cursor=cursor, limit=EMPLOYERS_PAGE, direct_only=direct
    )
    context = {"org": org, "employers": employers, "employers_cursor": next_cursor, "direct": direct}
    template = "console/_employer_rows.html" if cursor else "console/_employer_section.html"
    if not request.htmx:
        return redirect(_org_url(org.pk) + ("?direct=1" if direct else "") + "#employers")
    return render(request, template, context)


# --- Search -----------------------------------------------------------------------------------


@require_GET
@console_view
def search(request):
    q = request.GET.get("q", "").strip()
    context = {"q": q, "unions": [], "employers": [], "error": ""}
    if q:
        try:
            context["unions"] = selectors.org_search(actor=request.user, q=q, limit=SEARCH_LIMIT)
            context["employers"] = selectors.employer_search(actor=request.user, q=q, limit=SEARCH_LIMIT)
        except ValidationFailed as exc:
            context["error"] = exc.message
    if request.htmx and request.htmx.target == "search-results":
        return render(request, "console/_search_results.html", context)
    return console_render(request, "console/search.html", context)


# --- Unions -----------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def union_create(request, org_id):
    user = request.user
    parent = selectors.org_get(actor=user, org_id=org_id)
    selectors.require_rank(user, parent.path, Role.STAFF, "没有在该组织下新建工会的权限")
    kinds = CREATABLE_CHILD_KINDS[OrgKind(parent.kind)]
    coverable, more_coverable = selectors.employer_list(
        actor=user, org=parent, direct_only=True, limit=COVERABLE_EMPLOYERS
    )
    selected = request.POST.getlist("employer_ids") if request.method == "POST" else []
    employer_error = ""
    if request.method == "POST" and kinds:
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        form = UnionCreateForm(request.POST, kinds=kinds)
        form.is_valid()
        data = form.cleaned_data
        try:
            org = services.union_create(
                actor=user,
                parent=parent,
                name=data["name"],
                kind=data["kind"],
                division_code=data["division_code"].strip() or None,
                industry=data["industry"],
                chair_name=data["chair_name"],
                founded_on=data["founded_on"] or None,
                employer_ids=selected,
            )
        except ServiceError as exc:
            if exc.field == "employer_ids":
                employer_error = exc.message
            else:
                form_error(form, exc)
        else:
            url = _org_url(org.pk)
            remember_form_result(request, url)
            messages.success(request, f"已新建{org.kind_label}：{org.name}")
            return redirect(url)
    else:
        form = UnionCreateForm(kinds=kinds, initial={"kind": kinds[0].value if len(kinds) == 1 else ""})
    return console_render(
        request,
        "console/union_form.html",
        {
            "form": form,
            "parent": parent,
            "kinds": kinds,
            "coverable": coverable,
            "more_coverable": bool(more_coverable),
            "selected": set(selected),
            "employer_error": employer_error,
            "form_token": new_form_token(),
            "token_field": FORM_TOKEN_FIELD,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def union_edit(request, org_id):
    user = request.user
    org = selectors.org_get(actor=user, org_id=org_id)
    selectors.require_rank(user, org.path, Role.STAFF, "没有修改该工会的权限")
    territorial = org.kind in TERRITORIAL_KINDS
    if request.method == "POST":
        form = UnionEditForm(request.POST, territorial=territorial)
        form.is_valid()
        data = {key: value for key, value in form.cleaned_data.items()}
        try:
            services.union_update(actor=user, org=org, data=data)
        except ServiceError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "工会信息已保存")
            return redirect(_org_url(org.pk))
    else:
        form = UnionEditForm(
            territorial=territorial,
            initial={
                "name": org.name,
                "division_code": org.division_id or "",
                "industry": org.industry,
                "chair_name": org.chair_name,
                "founded_on": org.founded_on.isoformat() if org.founded_on else "",
                "term_ends_on": org.term_ends_on.isoformat() if org.term_ends_on else "",
            },
        )
    return console_render(request, "console/union_edit.html", {"form": form, "org": org})


# --- Employers --------------------------------------------------------------------------------


def _employer_data(form) -> dict:
    data = dict(form.cleaned_data)
    data["employee_count"] = (data.get("employee_count") or "").strip()
    return data


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def employer_create(request, org_id):
    user = request.user
    org = selectors.org_get(actor=user, org_id=org_id)
    selectors.require_rank(user, org.path, Role.STAFF, "没有在该组织下登记用人单位的权限")
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        form = EmployerForm(request.POST)
        form.is_valid()
        data = _employer_data(form)
        try:
            employer = services.employer_create(
                actor=user,
                org=org,
                name=data["name"],
                uscc=data["uscc"],
                division_code=data["division_code"],
                address=data["address"],
                industry=data["industry"],
                employee_count=data["employee_count"],
                is_platform=data["is_platform"],
            )
        except ServiceError as exc:
            form_error(form, exc)
        else:
            url = reverse("console:employer_detail", args=[employer.pk])
            remember_form_result(request, url)
            messages.success(request, f"已登记用人单位：{employer.name}")
            return redirect(url)
    else:
        form = EmployerForm(initial={"division_code": org.division_id or ""})
    return console_render(
        request,
        "console/employer_form.html",
        {"form": form, "org": org, "form_token": new_form_token(), "token_field": FORM_TOKEN_FIELD},
    )


@require_GET
@console_view
def employer_detail(request, employer_id):
    user = request.user
    employer = selectors.employer_get(actor=user, employer_id=employer_id)
    rank = selectors.actor_scope(user).rank_at(employer.org_path)
    return console_render(request, "console/employer_detail.html", {"employer": employer, "can_edit": rank >= STAFF})


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def employer_edit(request, employer_id):
    user = request.user
    employer = selectors.employer_get(actor=user, employer_id=employer_id)
    selectors.require_rank(user, employer.org_path, Role.STAFF, "没有修改该用人单位的权限")
    if request.method == "POST":
        form = EmployerForm(request.POST)
        form.is_valid()
        try:
            services.employer_update(actor=user, employer=employer, data=_employer_data(form))
        except ServiceError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "用人单位信息已保存")
            return redirect("console:employer_detail", employer.pk)
    else:
        form = EmployerForm(
            initial={
                "name": employer.name,
                "uscc": employer.uscc or "",
                "division_code": employer.division_id,
                "address": employer.address,
                "industry": employer.industry,
                "employee_count": employer.employee_count,
                "is_platform": employer.is_platform,
            }
        )
    return console_render(request, "console/employer_edit.html", {"form": form, "employer": employer})


# --- Moving a node ----------------------------------------------------------------------------


def _move_reason(user, node, candidate) -> str:
    """Why a search result cannot be the new parent (empty when it can): the service's own rules."""
    if candidate.pk == node.parent_id:
        return "当前上级"
    try:
        services.org_move_check(actor=user, node=node, new_parent=candidate)
    except ServiceError as exc:
        return exc.message
    return ""


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def org_move(request, org_id):
    user = request.user
    node = selectors.org_get(actor=user, org_id=org_id)
    selectors.require_rank(user, node.path, Role.ADMIN, "只有管理员可以调整组织隶属关系")
    error = ""
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        try:
            new_parent = selectors.org_get(actor=user, org_id=request.POST.get("new_parent_id"))
            services.org_move_request(actor=user, node=node, new_parent=new_parent)
        except ServiceError as exc:
            error = exc.message
        else:
            remember_form_result(request, _org_url(node.pk))
            messages.success(
                request,
                f"已提交调整隶属：{node.name} 将移到 {new_parent.name} 之下。后台任务会同步更新其下级组织、"
                "用人单位、授权和记录，完成前页面显示“迁移处理中”。",
            )
            return redirect(_org_url(node.pk))
    q = request.GET.get("q", "").strip()
    candidates = []
    if q:
        try:
            found = selectors.org_search(actor=user, q=q, limit=SEARCH_LIMIT)
            prefetch_related_objects(found, "division")  # the territory rule reads each one's division
            candidates = [(c, _move_reason(user, node, c)) for c in found]
        except ValidationFailed as exc:
            error = error or exc.message
    context = {
        "node": node,
        "q": q,
        "candidates": candidates,
        "error": error,
        "pending_move": selectors.org_move_pending(actor=user, org=node),
        "form_token": new_form_token(),
        "token_field": FORM_TOKEN_FIELD,
    }
    if request.htmx and request.htmx.target == "move-candidates":
        return render(request, "console/_move_candidates.html", context)
    return console_render(request, "console/org_move.html", context)


# --- Staff and roles --------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def grant_create(request, org_id):
    user = request.user
    org = selectors.org_get(actor=user, org_id=org_id)
    selectors.require_rank(user, org.path, Role.ADMIN, "只有管理员可以授予角色")
    scope = selectors.actor_scope(user)
    rank, case_rank = scope.rank_at(org.path), scope.case_rank_at(org.path)
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        form = GrantForm(request.POST, actor_rank=rank, actor_case_rank=case_rank)
        form.is_valid()
        data = form.cleaned_data
        try:
            grant = services.grant_role(
                actor=user,
                org=org,
                username=data["username"],
                role=data["role"],
                include_descendants=data["include_descendants"],
                # A form without the field (an older page) leaves an existing case role as it is.
                case_role=data["case_role"] if "case_role" in request.POST else None,
            )
        except ServiceError as exc:
            form_error(form, exc)
        else:
            url = _org_url(org.pk, "staff")
            remember_form_result(request, url)
            case_note = f"，诉求办理角色：{grant.get_case_role_display()}" if grant.case_role else ""
            messages.success(request, f"已授予 {grant.user.username} {grant.get_role_display()}角色{case_note}")
            return redirect(url)
    else:
        form = GrantForm(
            actor_rank=rank,
            actor_case_rank=case_rank,
            initial={"include_descendants": True, "role": Role.STAFF.value, "case_role": ""},
        )
    return console_render(
        request,
        "console/grant_form.html",
        {"form": form, "org": org, "form_token": new_form_token(), "token_field": FORM_TOKEN_FIELD},
    )


@never_cache
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
@console_view
def staff_create(request, org_id):
    user = request.user
    org = selectors.org_get(actor=user, org_id=org_id)
    selectors.require_rank(user, org.path, Role.ADMIN, "只有管理员可以新建工作人员账户")
    rank = selectors.actor_scope(user).rank_at(org.path)
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        form = StaffCreateForm(request.POST, actor_rank=rank)
        form.is_valid()
        data = form.cleaned_data
        if data["role"] not in dict(role_choices(rank)):
            form.add_error("role", "请选择要授予的角色")
        else:
            try:
                staff, password = services.staff_user_create(
                    actor=user, org=org, username=data["username"], display_name=data["display_name"]
                )
            except ServiceError as exc:
                form_error(form, exc)
            else:
                remember_form_result(request, _org_url(org.pk, "staff"))
                grant_error = ""
                try:
                    services.grant_role(
                        actor=user,
                        org=org,
                        username=staff.username,
                        role=data["role"],
                        include_descendants=data["include_descendants"],
                    )
                except ServiceError as exc:
                    grant_error = exc.message
                response = console_render(
                    request,
                    "console/staff_created.html",
                    {
                        "org": org,
                        "staff": staff,
                        "password": password,
                        "role": Role(data["role"]).label,
                        "grant_error": grant_error,
                    },
                )
                response["Cache-Control"] = "no-store"
                return response
    else:
        form = StaffCreateForm(actor_rank=rank, initial={"include_descendants": True, "role": Role.STAFF.value})
    return console_render(
        request,
        "console/staff_form.html",
        {"form": form, "org": org, "form_token": new_form_token(), "token_field": FORM_TOKEN_FIELD},
    )


@require_POST
@console_view
def grant_revoke(request, grant_id):
    user = request.user
    try:
        grant = selectors.grant_get(actor=user, grant_id=grant_id)
    except NotFound:
        # A second click on the same button: say so on the node page the form came from.
        org = selectors.org_get(actor=user, org_id=request.POST.get("org_id"))
        messages.info(request, "该授权已不存在（可能已经撤销）")
        return redirect(_org_url(org.pk, "staff"))
    org = grant.org
    try:
        services.grant_revoke(actor=user, grant=grant)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已撤销 {grant.user.username} 在{org.name}的{grant.get_role_display()}角色")
    return redirect(_org_url(org.pk, "staff"))


# --- Audit ------------------------------------------------------------------------------------


@require_GET
@console_view
def audit(request):
    user = request.user
    org = selectors.org_get(actor=user, org_id=request.GET["org"]) if request.GET.get("org") else None
    cursor = request.GET.get("cursor")
    entries, next_cursor = selectors.audit_list(actor=user, org=org, cursor=cursor, limit=AUDIT_PAGE)
    org_ids = {e.org_id for e in entries if e.org_id}
    names = dict(selectors.org_visible(user).filter(pk__in=org_ids).values_list("pk", "name")) if org_ids else {}
    context = {"org": org, "rows": display.audit_rows(entries, names), "next_cursor": next_cursor}
    if request.htmx and cursor:
        return render(request, "console/_audit_rows.html", context)
    return console_render(request, "console/audit.html", context)
