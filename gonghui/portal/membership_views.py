"""The worker's membership pages: status hub, one-click join, the electronic card, transfer on a job
change, corrections, leaving.

Every write goes through gonghui.membership.services; a ServiceError becomes a Chinese message next
to the field it names. Every page works as plain GET/POST forms: the employer, platform and
occupation searches and the place picker are steps of the same form (the server re-renders it with
what was typed kept). htmx, when it loads, only fetches those parts in place and refreshes the card's
QR code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import select_template
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.core import ratelimit
from gonghui.core.errors import Conflict, NotFound, ServiceError
from gonghui.membership import cards, routing, selectors, services
from gonghui.membership.identity import normalize_name, parse_id_number
from gonghui.membership.models import (
    CARD_STATUSES,
    Application,
    ChangeRequest,
    EmploymentForm,
    Member,
    MemberStatus,
    PlatformRole,
)
from gonghui.orgs.models import Division, Employer, Occupation

from . import lookups
from .views import worker_required

RATE_MESSAGE = "提交过于频繁，请一小时后再试；如有急事请拨打12351职工服务热线"
# Service error fields -> the form slot whose message shows it.
FIELD_SLOTS = {
    "employer_id": "employer",
    "employer.name": "employer_name",
    "employer.uscc": "employer_uscc",
    "employer.division_code": "place",
    "division_code": "place",
    "occupation_code": "occupation",
    "platform_id": "platform",
    "residence_code": "home",
}
JOIN_SLOTS = ("name", "id_number", "employment_form", "platform_role", "platform", "employer", "employer_name",
              "employer_uscc", "place", "job_title", "occupation", "consent")
TRANSFER_SLOTS = ("employment_form", "platform_role", "platform", "employer", "employer_name", "employer_uscc",
                  "place", "home", "job_title")
CORRECT_SLOTS = ("name", "phone", "employer_id", "employer_name", "job_title", "id_number", "evidence", "reason")
SLOT_LABELS = {
    "name": "姓名", "id_number": "身份证号", "employment_form": "用工形式", "platform_role": "平台工作类型",
    "platform": "所在平台", "employer": "所在单位", "employer_name": "单位名称", "employer_uscc": "统一社会信用代码",
    "place": "所在地", "home": "居住地", "job_title": "岗位", "occupation": "职业", "consent": "同意个人信息处理规则",
    "phone": "手机号", "employer_id": "所在单位", "evidence": "证明材料", "reason": "说明", "form": "提交",
}
# The place pickers: purpose -> (field name, label, hint).
PLACES = {
    "join": ("place", "所在地", "选择了列表中的单位时无需填写。手动填写单位的，请选单位所在地；"
                               "没有固定单位的，请选您工作或居住的乡镇（街道）。"),
    "work": ("place", "工作地", "选择了列表中的单位时无需填写。手动填写单位的，请选单位所在地；"
                               "没有固定单位的，请选您工作的乡镇（街道）。"),
    "home": ("home", "您住在哪里（选填）", "新单位没有工会时，会籍转到居住地的乡镇（街道）工会；不填则按工作地。"),
}


def _slot(error: ServiceError, known: tuple[str, ...]) -> str:
    name = FIELD_SLOTS.get(error.field or "", error.field or "")
    return name if name in known else "form"


def _error_list(errors: dict, order: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(slot, label, message) in the order of the form, for the summary at the top."""
    return [(slot, SLOT_LABELS.get(slot, slot), errors[slot]) for slot in (*order, "form") if slot in errors]


def _text(request: HttpRequest, name: str, limit: int = 300) -> str:
    return (request.POST.get(name) or "")[:limit]


def _error_page(request: HttpRequest, error: ServiceError) -> HttpResponse:
    return render(request, "portal/membership/error.html", {"message": error.message}, status=error.status)


# --- The job part shared by join and transfer ----------------------------------------------------


@dataclass
class Job:
    """What the job part of the join / transfer form holds, read back from the POST."""

    employment_form: str = ""
    employer: Employer | None = None
    employer_q: str = ""
    employer_results: list | None = None
    employer_search_error: str = ""
    employer_name: str = ""
    employer_uscc: str = ""
    platform_role: str = ""
    platform: Employer | None = None
    platform_q: str = ""
    platform_results: list | None = None
    platform_search_error: str = ""
    job_title: str = ""
    occupation: Occupation | None = None
    occupation_q: str = ""
    occupation_results: list | None = None
    occupation_search_error: str = ""
    place_chain: list[Division] = field(default_factory=list)
    # What was posted, passed on as is: an id that no longer exists gets the service's message.
    employer_id: str = ""
    platform_id: str = ""
    occupation_code: str = ""

    @property
    def manual_open(self) -> bool:
        return bool(self.employer_name or self.employer_uscc)

    @property
    def place_code(self) -> str:
        return lookups.place_code(self.place_chain)

    def service_args(self) -> dict:
        """Arguments for clean_job / application_submit / transfer_request. A listed employer brings
        its own place, so a place left in the picker is not sent with it."""
        args: dict = {"employment_form": self.employment_form, "platform_role": self.platform_role,
                      "platform_id": self.platform_id or None, "job_title": self.job_title}
        place = self.place_code or None
        if self.employer_id:
            args["employer_id"] = self.employer_id
            args["division_code"] = None
        elif self.employer_name or self.employer_uscc:
            args["employer"] = {"name": self.employer_name, "uscc": self.employer_uscc}
            args["division_code"] = place
        else:
            args["division_code"] = place
        return args


def _search(finder, q: str, **kwargs) -> tuple[list | None, str]:
    try:
        return finder(q=q, **kwargs), ""
    except ServiceError as error:
        return None, error.message


def _read_job(request: HttpRequest, action: str) -> Job:
    post = request.POST
    job = Job(
        employment_form=_text(request, "employment_form", 20),
        employer_q=_text(request, "employer_q", 100).strip(),
        employer_name=" ".join(_text(request, "employer_name", 250).split()),
        employer_uscc=_text(request, "employer_uscc", 30).strip(),
        platform_role=_text(request, "platform_role", 20),
        platform_q=_text(request, "platform_q", 100).strip(),
        job_title=_text(request, "job_title", 150).strip(),
        occupation_q=_text(request, "occupation_q", 60).strip(),
        place_chain=lookups.place_chain(post.getlist("place")[:6]),
    )
    if action != "employer_clear":
        job.employer_id = (post.get("employer_id") or "").strip()[:20]
        job.employer = lookups.employer_public_get(job.employer_id)
    if action != "platform_clear":
        job.platform_id = (post.get("platform_id") or "").strip()[:20]
        job.platform = lookups.employer_public_get(job.platform_id, platform=True)
    if action != "occupation_clear":
        job.occupation_code = (post.get("occupation_code") or "").strip()[:20]
        job.occupation = lookups.occupation_get(job.occupation_code)
    # A search runs when its button was pressed, or on Enter (the form's default "refresh") with a query typed.
    searching = action in ("employer_search", "platform_search", "occupation_search")
    if job.employer is None and job.employer_q and (action == "employer_search" or not searching):
        job.employer_results, job.employer_search_error = _search(lookups.employer_find, job.employer_q,
                                                                  actor=request.user)
    if job.platform is None and job.platform_q and (action == "platform_search" or not searching):
        job.platform_results, job.platform_search_error = _search(lookups.platform_find, job.platform_q,
                                                                  actor=request.user)
    if job.occupation is None and job.occupation_q and (action == "occupation_search" or not searching):
        job.occupation_results, job.occupation_search_error = _search(lookups.occupation_search, job.occupation_q)
    return job


def _place_context(chain: list[Division], purpose: str, error: str = "") -> dict:
    name, label, hint = PLACES[purpose]
    code = lookups.place_code(chain)
    return {"selects": lookups.place_selects(chain), "code": code, "chain": chain, "purpose": purpose, "name": name,
            "label": label, "hint": hint, "error": error, "path": " ".join(d.name for d in chain) if code else ""}


def _job_context(job: Job, purpose: str, errors: dict) -> dict:
    return {
        "job": job,
        "place": _place_context(job.place_chain, purpose, errors.get("place", "")),
        "employment_forms": EmploymentForm.choices,
        "platform_roles": PlatformRole.choices,
    }


# --- Hub -----------------------------------------------------------------------------------------


def _safe_link(link: str) -> str:
    return link if link.startswith("/") and not link.startswith("//") else ""


@never_cache
@worker_required
@require_GET
def hub(request: HttpRequest) -> HttpResponse:
    user = request.user
    member = selectors.my_member(user)
    applications = selectors.my_applications(user)
    latest = applications[0] if applications else None
    context: dict = {"member": member, "application": latest}
    if member is not None and member.holds_membership:
        context.update(
            state="member",
            card_ok=member.status in CARD_STATUSES,
            transfer=selectors.member_pending_transfer(member),
            change=selectors.member_latest_change_request(member),
        )
    elif latest is not None and latest.status == Application.Status.PENDING:
        context["state"] = "pending"
    elif latest is not None and latest.status == Application.Status.REJECTED:
        context["state"] = "rejected"
    else:
        context["state"] = "none"
    if member is None:
        context["claimable"] = services.member_claimable(user)
    context["notices"] = [{"notice": n, "link": _safe_link(n.link)} for n in selectors.my_notices(user)]
    response = render(request, "portal/membership/hub.html", context)
    services.notices_mark_read(actor=user)  # after rendering: this visit still shows which are new
    return response


@worker_required
@require_POST
def application_withdraw(request: HttpRequest) -> HttpResponse:
    try:
        app = selectors.my_application_get(request.user, request.POST.get("application_id"))
        services.application_withdraw(actor=request.user, application=app)
    except NotFound as error:
        return _error_page(request, error)
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("portal:membership")
    messages.success(request, "入会申请已撤回。如需入会，可以重新申请。")
    return redirect("portal:membership")


@never_cache
@worker_required
@require_POST
def claim(request: HttpRequest) -> HttpResponse:
    """认领会籍: confirm the ID number of the membership a roster created with this phone."""
    try:
        ratelimit.check("join_user_hour", str(request.user.pk), "尝试过于频繁，请稍后再试")
        member = services.member_claim(actor=request.user, id_number=request.POST.get("id_number", ""))
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("portal:membership")
    messages.success(request, f"已关联您在「{member.org.name}」的会籍，电子会员卡已开通。")
    return redirect("portal:membership")


# --- Join ----------------------------------------------------------------------------------------


def _join_page(request, *, form: dict, job: Job, errors: dict | None = None, status: int = 200) -> HttpResponse:
    errors = errors or {}
    context = {"form": form, "errors": errors, "error_list": _error_list(errors, JOIN_SLOTS),
               "consent_version": settings.GONGHUI_CONSENT_VERSION, **_job_context(job, "join", errors)}
    return render(request, "portal/membership/join.html", context, status=status)


def _already_in(request: HttpRequest) -> HttpResponse | None:
    """Members and workers with an application pending see the hub instead of a second join form."""
    member = selectors.my_member(request.user)
    if member is not None and member.holds_membership:
        messages.info(request, f"您已是「{member.org.name}」的会员，无需重复入会。")
        return redirect("portal:membership")
    latest = next(iter(selectors.my_applications(request.user)), None)
    if latest is not None and latest.status == Application.Status.PENDING:
        messages.info(request, "您的入会申请正在审批中，请勿重复提交。")
        return redirect("portal:membership")
    return None


CONSENT_MESSAGE = "请阅读并同意《个人信息处理规则》后再提交"  # as application_submit says it


def _join_precheck(form: dict, job: Job) -> dict:
    """Every part of the form checked with the validators application_submit uses, so a worker sees
    all that needs fixing at once instead of one message per submit. The service stays the judge:
    it validates everything again."""
    errors: dict = {}
    checks = [
        lambda: normalize_name(form["name"]),
        lambda: parse_id_number(form["id_number"]),
        lambda: services.clean_job(occupation_code=job.occupation_code or None,
                                   **job.service_args()),
    ]
    for check in checks:
        try:
            check()
        except ServiceError as error:
            errors.setdefault(_slot(error, JOIN_SLOTS), error.message)
    if errors and not form["consent"]:
        errors["consent"] = CONSENT_MESSAGE
    return errors


@never_cache
@worker_required
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "GET":
        already = _already_in(request)
        if already is not None:
            return already
        return _join_page(request, form={"name": user.display_name}, job=Job())
    action = request.POST.get("action", "refresh")
    form = {"name": _text(request, "name", 60), "id_number": _text(request, "id_number", 30),
            "consent": request.POST.get("consent") == "yes"}
    job = _read_job(request, action)
    if action != "submit":
        return _join_page(request, form=form, job=job)
    try:
        ratelimit.check("join_user_hour", str(user.pk), RATE_MESSAGE)
    except ServiceError as error:
        return _join_page(request, form=form, job=job, errors={"form": error.message}, status=error.status)
    errors = _join_precheck(form, job)
    if errors:
        return _join_page(request, form=form, job=job, errors=errors, status=400)
    try:
        app, created = services.application_submit(
            actor=user, name=form["name"], id_number=form["id_number"], consent=form["consent"],
            occupation_code=job.occupation_code or None,
            **job.service_args(),
        )
    except Conflict as error:
        # A second tap after an auto-approved join: the worker is a member now; show that, not an error.
        member = selectors.my_member(user) if error.code == "already_member" else None
        if member is not None and member.holds_membership:
            messages.info(request, f"您已是「{member.org.name}」的会员，会员编号 {member.member_no_display}。")
            return redirect("portal:membership")
        return _join_page(request, form=form, job=job, errors={_slot(error, JOIN_SLOTS): error.message},
                          status=error.status)
    except ServiceError as error:
        return _join_page(request, form=form, job=job, errors={_slot(error, JOIN_SLOTS): error.message},
                          status=error.status)
    if app.status == Application.Status.APPROVED:
        messages.success(request, f"入会成功！您已成为「{app.org.name}」的会员，电子会员卡已开通。")
    elif created:
        messages.success(request, "入会申请已提交。")
    else:
        messages.info(request, "您的入会申请已提交过，正在审批中，无需重复提交。")
    return redirect("portal:membership")


@require_GET
def consent(request: HttpRequest) -> HttpResponse:
    version = settings.GONGHUI_CONSENT_VERSION
    template = select_template([f"portal/consent_{version}.html"])
    return HttpResponse(template.render({"version": version}, request))


# --- Lookups (htmx parts of the forms) -----------------------------------------------------------


@never_cache
@worker_required
@require_GET
def lookup_pick(request: HttpRequest, kind: str) -> HttpResponse:
    """Search results as radio buttons, swapped under the search box."""
    q = (request.GET.get(f"{kind}_q") or "")[:100].strip()
    if kind == "employer":
        results, error = _search(lookups.employer_find, q, actor=request.user)
    elif kind == "platform":
        results, error = _search(lookups.platform_find, q, actor=request.user)
    else:
        results, error = _search(lookups.occupation_search, q[:60])
    return render(request, "portal/membership/_pick_results.html",
                  {"kind": kind, "results": results, "search_error": error, "q": q})


@never_cache
@worker_required
@require_GET
def lookup_places(request: HttpRequest) -> HttpResponse:
    purpose = request.GET.get("purpose") if request.GET.get("purpose") in PLACES else "join"
    chain = lookups.place_chain(request.GET.getlist(PLACES[purpose][0])[:6])
    return render(request, "portal/membership/_place_picker.html", {"place": _place_context(chain, purpose)})


# --- Card ----------------------------------------------------------------------------------------


def _qr_svg(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    return mark_safe(svg.replace("<svg ", '<svg class="qr" role="img" aria-label="会员卡二维码" ', 1))


def _card_member(request: HttpRequest) -> Member | None:
    member = selectors.my_member(request.user)
    return member if member is not None and member.status in CARD_STATUSES else None


def _qr_context(member: Member) -> dict:
    token, expires_at = cards.card_token_issue(member)
    seconds = max(0, int((expires_at - timezone.now()).total_seconds()))
    return {"qr_svg": _qr_svg(token), "expires_at": expires_at, "seconds": seconds,
            "poll_seconds": max(10, min(60, settings.GONGHUI_CARD_TOKEN_SECONDS // 2))}


@never_cache
@worker_required
@require_GET
def card(request: HttpRequest) -> HttpResponse:
    member = _card_member(request)
    if member is None:
        found = selectors.my_member(request.user)
        if found is not None and found.holds_membership:
            messages.info(request, f"会籍状态为「{found.get_status_display()}」，电子会员卡暂不可用。")
        return redirect("portal:membership")
    return render(request, "portal/membership/card.html", {"member": member, **_qr_context(member)})


@never_cache
@worker_required
@require_GET
def card_qr(request: HttpRequest) -> HttpResponse:
    """The QR block alone, fetched by htmx every half token lifetime."""
    member = _card_member(request)
    if member is None:
        return render(request, "portal/membership/_card_qr.html", {"invalid": True})
    return render(request, "portal/membership/_card_qr.html", _qr_context(member))


@worker_required
@require_POST
def card_revoke(request: HttpRequest) -> HttpResponse:
    member = _card_member(request)
    if member is None:
        return redirect("portal:membership")
    cards.card_revoke(actor=request.user, member=member)
    messages.success(request, "之前显示过的二维码（包括截图）已全部作废，请使用下方的新二维码。")
    return redirect("portal:membership_card")


# --- Transfer ------------------------------------------------------------------------------------


def _holding_member(request: HttpRequest) -> Member | None:
    member = selectors.my_member(request.user)
    return member if member is not None and member.holds_membership else None


def _transfer_page(request, *, member: Member, job: Job, home: list[Division], errors: dict | None = None,
                   status: int = 200, template: str = "portal/membership/transfer.html", **extra) -> HttpResponse:
    errors = errors or {}
    context = {"member": member, "errors": errors, "error_list": _error_list(errors, TRANSFER_SLOTS),
               "transfer_days": settings.GONGHUI_TRANSFER_DAYS, **_job_context(job, "work", errors),
               "home": _place_context(home, "home", errors.get("home", "")), **extra}
    return render(request, template, context, status=status)


@never_cache
@worker_required
@require_http_methods(["GET", "POST"])
def transfer(request: HttpRequest) -> HttpResponse:
    member = _holding_member(request)
    if member is None:
        messages.info(request, "会员才能办理会员关系接转。")
        return redirect("portal:membership")
    pending = selectors.member_pending_transfer(member)
    if pending is not None:
        return render(request, "portal/membership/transfer_pending.html", {"member": member, "transfer": pending})
    if member.status not in (MemberStatus.ACTIVE, MemberStatus.RETAINED):
        messages.info(request, f"会籍状态为「{member.get_status_display()}」，暂不能办理接转。")
        return redirect("portal:membership")
    if request.method == "GET":
        return _transfer_page(request, member=member, job=Job(employment_form=member.employment_form), home=[])
    action = request.POST.get("action", "refresh")
    job = _read_job(request, action)
    home = lookups.place_chain(request.POST.getlist("home")[:6])
    page = partial(_transfer_page, request, member=member, job=job, home=home)
    if action not in ("preview", "submit"):
        return page()
    residence = lookups.place_code(home)
    if home and not residence:
        return page(errors={"home": "请把居住地选到乡镇（街道），不确定可以不填"}, status=400)
    args = {**job.service_args(), "residence_code": residence or None}
    if action == "preview":
        try:
            route = _transfer_route(args)
        except ServiceError as error:
            return page(errors={_slot(error, TRANSFER_SLOTS): error.message}, status=error.status)
        return page(template="portal/membership/transfer_confirm.html", route=route,
                    same_union=route.org.pk == member.org_id)
    try:
        ratelimit.check("join_user_hour", str(request.user.pk), RATE_MESSAGE)
        tr, created = services.transfer_request(actor=request.user, member=member, **args)
    except ServiceError as error:
        return page(errors={_slot(error, TRANSFER_SLOTS): error.message}, status=error.status)
    messages.success(request, f"接转申请已提交，由「{tr.to_org.name}」办理接收。" if created
                     else "接转申请已提交过，正在办理中。")
    return redirect("portal:membership")


def _transfer_route(args: dict) -> routing.Route:
    """Which union transfer_request will pick, for the confirm step: the same validation and routing
    it runs, without writing anything."""
    args = dict(args)
    residence_code = args.pop("residence_code")
    job = services.clean_job(**args)
    residence = Division.objects.filter(code=residence_code).first() if residence_code else None
    return routing.route_residence(job.place(), residence=residence)


@worker_required
@require_POST
def transfer_cancel(request: HttpRequest) -> HttpResponse:
    try:
        tr = selectors.my_transfer_get(request.user, request.POST.get("transfer_id"))
        services.transfer_cancel(actor=request.user, transfer=tr)
    except NotFound as error:
        return _error_page(request, error)
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("portal:membership")
    messages.success(request, "接转申请已取消，会员关系仍在原工会。")
    return redirect("portal:membership")


# --- Corrections ---------------------------------------------------------------------------------

UPLOAD_LIMIT = services.EVIDENCE_MAX_BYTES + 512 * 1024  # the file plus the form around it


def _correct_page(request, *, member: Member, form: dict | None = None, errors: dict | None = None,
                  status: int = 200, employer: Employer | None = None, employer_results=None,
                  employer_search_error: str = "") -> HttpResponse:
    errors = errors or {}
    context = {"member": member, "form": form or {}, "errors": errors, "error_list": _error_list(errors, CORRECT_SLOTS),
               "change": selectors.member_latest_change_request(member), "pending_status": ChangeRequest.Status.PENDING,
               "employer": employer, "employer_results": employer_results,
               "employer_search_error": employer_search_error, "field_labels": services.CHANGE_FIELDS}
    return render(request, "portal/membership/correct.html", context, status=status)


@never_cache
@worker_required
@require_http_methods(["GET", "POST"])
def correct(request: HttpRequest) -> HttpResponse:
    member = _holding_member(request)
    if member is None:
        messages.info(request, "会员才能提交信息更正。")
        return redirect("portal:membership")
    if request.method == "GET":
        return _correct_page(request, member=member)
    if int(request.META.get("CONTENT_LENGTH") or 0) > UPLOAD_LIMIT:
        # Refused before the upload is read; what was typed is lost with it, so say so.
        return _correct_page(request, member=member, status=400,
                             errors={"evidence": "证明材料不能超过10MB，请压缩或重新拍摄后再上传（已填写的内容需要重新填写）"})
    action = request.POST.get("action", "refresh")
    form = {key: _text(request, key, 600 if key == "reason" else 250)
            for key in ("name", "phone", "employer_name", "job_title", "id_number", "reason", "employer_q")}
    employer_id = "" if action == "employer_clear" else (request.POST.get("employer_id") or "").strip()[:20]
    employer = lookups.employer_public_get(employer_id)
    results, search_error = None, ""
    if employer is None and form["employer_q"].strip() and action != "submit":
        results, search_error = _search(lookups.employer_find, form["employer_q"].strip(), actor=request.user)
    if action != "submit":
        return _correct_page(request, member=member, form=form, employer=employer, employer_results=results,
                             employer_search_error=search_error)
    changes = {key: form[key] for key in ("name", "phone", "employer_name", "job_title", "id_number")
               if form[key].strip()}
    if employer_id:
        changes["employer_id"] = employer_id  # one that no longer exists gets the service's message
    evidence = request.FILES.get("evidence")
    try:
        ratelimit.check("join_user_hour", str(request.user.pk), RATE_MESSAGE)
        services.change_request_submit(actor=request.user, member=member, changes=changes, reason=form["reason"],
                                       evidence=evidence)
    except ServiceError as error:
        slot = error.field if error.field in CORRECT_SLOTS else "form"
        return _correct_page(request, member=member, form=form, errors={slot: error.message}, status=error.status,
                             employer=employer)
    messages.success(request, "信息更正已提交，所在工会审核后会通知您。")
    return redirect("portal:membership_correct")


# --- Leaving -------------------------------------------------------------------------------------


@never_cache
@worker_required
@require_http_methods(["GET", "POST"])
def leave(request: HttpRequest) -> HttpResponse:
    member = _holding_member(request)
    if member is None:
        return redirect("portal:membership")
    if request.method == "GET":
        return render(request, "portal/membership/leave.html", {"member": member})
    reason = " ".join(_text(request, "reason", 300).split())
    try:
        services.member_withdraw_self(actor=request.user, member=member, reason=reason)
    except ServiceError as error:
        return render(request, "portal/membership/leave.html", {"member": member, "error": error.message},
                      status=error.status)
    messages.success(request, "您已退会，电子会员卡已停用。会员编号为您保留，今后可以重新申请入会。")
    return redirect("portal:membership")
