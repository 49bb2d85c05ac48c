"""The worker's mobile pages: phone + SMS login, home with the profile, profile edit.

Views are thin: every write goes through gonghui.accounts.services; a ServiceError becomes an
inline Chinese message next to the field it names. Every form works as a plain POST; htmx only
swaps the phone block after "获取验证码" so the page does not reload.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.accounts.services import normalize_phone, sms_code_send, worker_login, worker_profile_update
from gonghui.core import pii
from gonghui.core.context import client_ip
from gonghui.core.errors import ServiceError

SMS_RESEND_SECONDS = 60


def _is_worker(user) -> bool:
    return user.is_authenticated and user.is_worker and not (user.is_staff or user.is_superuser)


def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return reverse("portal:home")


def worker_required(view):
    """Anonymous visitors go to the login page (and come back); staff get the note on the home page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        if not _is_worker(request.user):
            return redirect("portal:home")
        return view(request, *args, **kwargs)

    return wrapper


def _login_page(request: HttpRequest, *, status: int = 200, **context) -> HttpResponse:
    context.setdefault("phone", request.POST.get("phone", ""))
    context.setdefault("next", request.POST.get("next") or request.GET.get("next", ""))
    context.setdefault("resend_seconds", SMS_RESEND_SECONDS)
    return render(request, "portal/login.html", context, status=status)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return _login_page(request)
    if not _is_worker(user):
        return render(request, "portal/staff_note.html")
    return render(request, "portal/home.html", {"profile": user})


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        if request.user.is_authenticated:
            return redirect("portal:home")
        return _login_page(request)
    phone = request.POST.get("phone", "")
    try:
        user = worker_login(phone=phone, code=request.POST.get("code", ""), ip=client_ip(request))
    except ServiceError as error:
        errors = {(error.field if error.field in ("phone", "code") else "form"): error.message}
        return _login_page(request, status=error.status, errors=errors)
    login(request, user)
    request.session.set_expiry(settings.GONGHUI_WORKER_SESSION_SECONDS)
    return redirect(_safe_next(request, request.POST.get("next")))


@require_POST
def sms_code_view(request: HttpRequest) -> HttpResponse:
    """Send a login code. htmx gets the phone block back; a plain POST gets the whole page."""
    phone = request.POST.get("phone", "")
    context: dict = {"phone": phone, "resend_seconds": SMS_RESEND_SECONDS}
    status = 200
    try:
        sms_code_send(phone=phone, ip=client_ip(request))
    except ServiceError as error:
        context["errors"] = {"phone": error.message}
        status = error.status
    else:
        # Only the masked number is echoed in our own text; the code itself never leaves the service.
        context["sent_to"] = pii.mask_phone(normalize_phone(phone))
    if request.htmx:
        # htmx does not swap 4xx answers by default: the message is the content, so answer 200.
        return render(request, "portal/_phone_block.html", context)
    return _login_page(request, status=status, **context)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("portal:home")


@worker_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "GET":
        return render(request, "portal/profile_edit.html", {"display_name": user.display_name})
    display_name = request.POST.get("display_name", "")
    try:
        worker_profile_update(actor=user, display_name=display_name)
    except ServiceError as error:
        user.refresh_from_db(fields=["display_name"])
        return render(
            request,
            "portal/profile_edit.html",
            {"display_name": display_name, "errors": {"display_name": error.message}},
            status=error.status,
        )
    messages.success(request, "资料已保存")
    return redirect("portal:home")


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/privacy.html", {"code_ttl_minutes": settings.GONGHUI_SMS_CODE_TTL_SECONDS // 60})
