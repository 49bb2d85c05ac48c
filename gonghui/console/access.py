"""The one place that decides who may use a console page, and how service errors become pages.

Every console view is wrapped in `console_view`: login required, staff only, two-factor enrolment
enforced, and NotFound / PermissionDenied turned into the console's own 404 / 403 pages.
"""

from __future__ import annotations

import re
import secrets
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect
from django_otp import user_has_device

from gonghui.accounts.models import User
from gonghui.core import ratelimit
from gonghui.core.errors import NotFound, PermissionDenied, ServiceError
from gonghui.orgs import selectors
from gonghui.orgs.models import ROLE_RANK

FORM_TOKEN_FIELD = "form_token"
_FORM_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_DONE_KEY = "console_forms_done"


def console_render(request, template: str, context: dict | None = None, status: int = 200):
    """Render with what the console header needs (the actor's nodes)."""
    context = dict(context or {})
    user = request.user
    if getattr(user, "is_authenticated", False):
        scope = selectors.actor_scope(user)
        roots = list(selectors.org_visible(user).filter(pk__in=scope.roots[:5]).order_by("path"))
        context.setdefault("console_roots", roots)
        context.setdefault("console_root", roots[0] if roots else None)
        context.setdefault("console_role", role_label(scope.rank_at(roots[0].path)) if roots else "")
        context.setdefault("console_case_node_id", case_home_id(user))
    return render(request, template, context, status=status)


def case_home_id(user) -> int | None:
    """The node whose case board the nav links to: the highest one where the user holds a case role."""
    grants = sorted(selectors.actor_scope(user).case_grants, key=lambda g: (len(g[0]), g[0]))
    return grants[0][3] if grants else None


def role_label(rank: int) -> str:
    """The highest role label a rank amounts to."""
    held = [role for role, value in ROLE_RANK.items() if value <= rank]
    return max(held, key=ROLE_RANK.get).label if held else ""


def error_page(request, status: int, message: str, title: str | None = None):
    titles = {403: "无权访问", 404: "页面不存在", 409: "请勿重复提交"}
    return console_render(
        request,
        "console/error.html",
        {"status": status, "title": title or titles.get(status, "请求有误"), "message": message},
        status=status,
    )


def _to_login(request):
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(reverse("console:login"))
    return redirect_to_login(request.get_full_path(), reverse("console:login"))


def console_view(func=None, *, enrol_ok: bool = False, scope_required: bool = True):
    """Decorate every console view: staff only, 2FA enforced, service errors as pages."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return _to_login(request)
            if user.kind != User.Kind.STAFF:
                return error_page(
                    request, 403, "职工账户不能使用工作台。请在手机上打开职工服务页面。", title="工作台仅限工会工作人员"
                )
            if user_has_device(user, confirmed=True):
                if not user.is_verified():
                    # The device was bound in another session: sign in again with the code.
                    logout(request)
                    messages.info(request, "您已绑定动态口令，请重新登录并输入动态口令")
                    return _to_login(request)
            elif settings.GONGHUI_STAFF_2FA_REQUIRED and not enrol_ok:
                if getattr(request, "htmx", False):
                    return HttpResponseClientRedirect(reverse("console:security"))
                messages.warning(request, "请先绑定动态口令（双因素认证），然后才能使用工作台")
                return redirect("console:security")
            if scope_required and selectors.actor_scope(user).is_empty:
                return console_render(request, "console/no_role.html", status=403)
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                return error_page(request, 404, exc.message)
            except PermissionDenied as exc:
                return error_page(request, 403, exc.message)
            except ServiceError as exc:  # e.g. a tampered cursor on a GET
                return error_page(request, exc.status, exc.message)

        return wrapper

    return decorator(func) if func is not None else decorator


def form_error(form, exc: ServiceError, aliases: dict[str, str] | None = None) -> None:
    """Show a service error next to the field it names (or above the form)."""
    field = (aliases or {}).get(exc.field or "", exc.field)
    if field and field in form.fields:
        form.add_error(field, exc.message)
    else:
        form.add_error(None, exc.message)


# --- Double submit ----------------------------------------------------------------------------
# Each create form carries a one-time token. The first POST claims it with an atomic counter
# upsert (shared by every web node); a repeated POST of the same form is not carried out again:
# it is sent to what the first one created.


def form_token_context() -> dict:
    """The context a page's one-time POST forms need (see claim_form_token)."""
    return {"form_token": new_form_token(), "token_field": FORM_TOKEN_FIELD}


def new_form_token() -> str:
    return secrets.token_urlsafe(18)


def claim_form_token(request):
    """None when this POST may go ahead; otherwise the response for a repeated submission."""
    token = request.POST.get(FORM_TOKEN_FIELD, "")
    if not _FORM_TOKEN.match(token):
        return error_page(request, 400, "表单已过期，请返回重新打开页面后再提交", title="表单已过期")
    count, _ = ratelimit.hit(f"console_form:{request.user.pk}:{token}", 1, 86400)
    if count == 1:
        return None
    done = request.session.get(_DONE_KEY, {}).get(token)
    if done:
        messages.info(request, "该表单已经提交过，没有重复保存")
        return redirect(done)
    return error_page(request, 409, "该表单已经提交过或正在处理，没有重复保存。请返回刷新页面查看结果。")


def remember_form_result(request, url: str) -> None:
    token = request.POST.get(FORM_TOKEN_FIELD, "")
    done = request.session.get(_DONE_KEY, {})
    done[token] = url
    request.session[_DONE_KEY] = dict(list(done.items())[-20:])
