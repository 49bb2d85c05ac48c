"""The worker's 12351 pages (维权诉求): my cases, filing one on a phone, the case with its timeline,
adding material, withdrawing, and the no-login satisfaction page behind the callback link.

Every write goes through gonghui.casedesk.services and every read through its selectors; a
ServiceError becomes a Chinese message next to the field it names. The filing form works as plain
POSTs like the membership forms (the employer and category searches and the place picker are steps
of the same form, re-rendered with what was typed kept); htmx, when it loads, fetches those parts in
place. A hidden per-form key sent as the case's external id makes a second tap return the case the
first one filed.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.casedesk import selectors, services
from gonghui.casedesk.models import Case, CaseEvent, CaseStatus
from gonghui.core import ratelimit
from gonghui.core.context import client_ip
from gonghui.core.errors import NotFound, ServiceError, ValidationFailed
from gonghui.core.files import private_file
from gonghui.membership.models import Member
from gonghui.orgs.models import Division, Employer, OrgKind, OrgUnit
from gonghui.orgs.paths import STEP

from . import lookups
from .membership_views import _place_context, _search
from .views import worker_required

Action = CaseEvent.Action
PAGE_SIZE = 20
DESCRIPTION_MIN = 10  # as case_create asks
WORKERS_MAX = 100000
CONTACT_CHOICES = [
    ("phone", "电话联系"),
    ("sms", "短信联系"),
    ("online", "只在网上答复"),
]
CONTACT_LABELS = dict(CONTACT_CHOICES)
# Service error fields -> the form slot whose message shows it.
FIELD_SLOTS = {
    "employer_id": "employer",
    "employer": "employer_name",
    "employer.name": "employer_name",
    "division_code": "place",
    "contact_preference": "contact_time",
}
CASE_SLOTS = ("category", "description", "employer", "employer_name", "place", "workers_affected",
              "amount_claimed", "attachments", "name", "contact_time")
SLOT_LABELS = {
    "category": "诉求分类", "description": "发生了什么", "employer": "用人单位", "employer_name": "单位名称",
    "place": "工作地", "workers_affected": "涉及人数", "amount_claimed": "涉及金额", "attachments": "证据材料",
    "name": "姓名", "contact_time": "方便联系的时间", "text": "补充内容", "reason": "撤回原因", "score": "满意度",
    "comment": "评价内容", "form": "提交",
}
# Worker-facing names of the steps the worker sees (the console keeps the staff wording).
STEP_LABELS = {
    Action.CONSULT: "当场答复",
    Action.ACCEPT: "已受理",
    Action.DISPATCH: "转交办理",
    Action.REPLY: "工会答复",
    Action.REQUEST_INFO: "请您补充材料",
    Action.WORKER_INFO: "您补充了材料",
    Action.RESOLVE: "已办结",
    Action.RATE: "您的评价",
    Action.CLOSE: "已结案",
    Action.REOPEN: "重新办理",
    Action.MERGE: "合并办理",
    Action.WITHDRAW: "您撤回了诉求",
    Action.REFER_LEGAL_AID: "转法律援助",
}
STARS = [(5, "非常满意"), (4, "满意"), (3, "一般"), (2, "不满意"), (1, "非常不满意")]
_NONCE = re.compile(r"^[0-9a-f]{32}$")
RATE_MESSAGE = "提交过于频繁，请一分钟后再试；也可以拨打12351职工服务热线评价"


def _slot(error: ServiceError, known: tuple[str, ...]) -> str:
    name = FIELD_SLOTS.get(error.field or "", error.field or "")
    return name if name in known else "form"


def _error_list(errors: dict, order: tuple[str, ...]) -> list[tuple[str, str, str]]:
    return [(slot, SLOT_LABELS.get(slot, slot), errors[slot]) for slot in (*order, "form") if slot in errors]


def _text(request: HttpRequest, name: str, limit: int = 300) -> str:
    return (request.POST.get(name) or "")[:limit]


def _upload_limit() -> int:
    """The largest request body a form with attachments may send: every file at its limit plus the
    text around them. A bigger one is refused before it is read."""
    return settings.GONGHUI_CASE_ATTACHMENTS_MAX * settings.GONGHUI_CASE_ATTACHMENT_MAX_BYTES + 1024 * 1024


def _too_big(request: HttpRequest) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > _upload_limit()
    except ValueError:
        return False


def _too_big_message() -> str:
    return (f"附件总共太大：最多{settings.GONGHUI_CASE_ATTACHMENTS_MAX}个、每个不超过"
            f"{settings.GONGHUI_CASE_ATTACHMENT_MAX_BYTES // (1024 * 1024)}MB。请压缩后重新选择"
            "（已填写的内容需要重新填写）")


def _attachment_rules() -> dict:
    return {"attachments_max": settings.GONGHUI_CASE_ATTACHMENTS_MAX,
            "attachment_mb": settings.GONGHUI_CASE_ATTACHMENT_MAX_BYTES // (1024 * 1024)}


def _error_page(request: HttpRequest, error: ServiceError, *, back: str = "") -> HttpResponse:
    return render(request, "portal/cases/error.html", {"message": error.message, "back": back or reverse("portal:cases")},
                  status=error.status)


def _my_case(request: HttpRequest, case_id) -> Case:
    """The worker's own case; anyone else's is NotFound (the same as one that does not exist)."""
    return selectors.case_get(actor=request.user, case_id=case_id)


# --- My cases ------------------------------------------------------------------------------------


@never_cache
@worker_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    try:
        cases, next_cursor = selectors.my_cases(actor=request.user, cursor=request.GET.get("cursor"), limit=PAGE_SIZE)
    except ServiceError as error:
        return _error_page(request, error)
    context = {"cases": cases, "next_cursor": next_cursor}
    if request.htmx and request.GET.get("cursor"):
        return render(request, "portal/cases/_case_rows.html", context)
    return render(request, "portal/cases/list.html", context)


# --- Filing a case -------------------------------------------------------------------------------


@dataclass
class Intake:
    """What the filing form holds, read back from the POST."""

    nonce: str = ""
    category: str = ""
    category_q: str = ""
    category_results: list | None = None
    description: str = ""
    employer_id: str = ""
    employer: Employer | None = None
    employer_q: str = ""
    employer_results: list | None = None
    employer_search_error: str = ""
    employer_name: str = ""
    place_chain: list[Division] = field(default_factory=list)
    workers_affected: str = ""
    amount_claimed: str = ""
    contact: str = "phone"
    contact_time: str = ""
    protect_identity: bool = False
    name: str = ""
    files_sent: bool = False

    @property
    def manual_open(self) -> bool:
        return bool(self.employer_name)

    @property
    def place_code(self) -> str:
        return lookups.place_code(self.place_chain)

    @property
    def contact_preference(self) -> str:
        label = CONTACT_LABELS.get(self.contact, "")
        time = " ".join(self.contact_time.split())
        return f"{label}；{time}" if label and time else (label or time)

    def employer_args(self) -> dict:
        """employer_id, or the name given with the place; a listed employer brings its own place."""
        if self.employer_id:
            return {"employer_id": self.employer_id, "employer": None, "division_code": None}
        if self.employer_name:
            return {"employer_id": None, "employer": {"name": self.employer_name}, "division_code": self.place_code or None}
        return {"employer_id": None, "employer": None, "division_code": self.place_code or None}


def _read_intake(request: HttpRequest, action: str) -> Intake:
    post = request.POST
    intake = Intake(
        nonce=(post.get("nonce") or "")[:40],
        category=(post.get("category_pick") or post.get("category") or "").strip()[:40],
        category_q=_text(request, "category_q", 50).strip(),
        # Not cut: a description over the limit gets the service's message with its length.
        description=post.get("description") or "",
        employer_q=_text(request, "employer_q", 100).strip(),
        employer_name=" ".join(_text(request, "employer_name", 250).split()),
        place_chain=lookups.place_chain(post.getlist("place")[:6]),
        workers_affected=_text(request, "workers_affected", 20).strip(),
        amount_claimed=_text(request, "amount_claimed", 30).strip(),
        contact=post.get("contact") if post.get("contact") in CONTACT_LABELS else "",
        contact_time=_text(request, "contact_time", 150),
        protect_identity=post.get("protect_identity") == "yes",
        name=_text(request, "name", 60),
        files_sent=bool(request.FILES.getlist("attachments")),
    )
    if action != "employer_clear":
        intake.employer_id = (post.get("employer_id") or "").strip()[:20]
        intake.employer = lookups.employer_public_get(intake.employer_id)
    searching = action in ("employer_search", "category_search")
    if intake.employer is None and intake.employer_q and (action == "employer_search" or not searching):
        intake.employer_results, intake.employer_search_error = _search(lookups.employer_find, intake.employer_q,
                                                                        actor=request.user)
    if intake.category_q and action in ("category_search", "refresh"):
        intake.category_results = selectors.category_search(intake.category_q, _province_path(request.user, intake))
    return intake


def _province_path(user, intake: Intake | None = None) -> str:
    """Whose provincial categories to offer besides the national ones: the province of the employer or
    place chosen, else of the worker's union (the routing decides at submit)."""
    if intake is not None and intake.employer is not None:
        return intake.employer.org_path[: 2 * STEP]
    if intake is not None and intake.place_chain:
        province = (OrgUnit.objects.filter(division_id=intake.place_chain[0].code, kind=OrgKind.PROVINCE)
                    .values_list("path", flat=True).first())
        if province:
            return province
    member_path = Member.objects.filter(user=user).values_list("org_path", flat=True).first()
    return (member_path or "")[: 2 * STEP]


def _needs_name(user) -> bool:
    """case_create takes the name from the membership or the profile; only without both it is asked."""
    return not user.display_name and not Member.objects.filter(user=user).exclude(name="").exists()


def _new_page(request: HttpRequest, *, intake: Intake, errors: dict | None = None, status: int = 200) -> HttpResponse:
    errors = errors or {}
    user = request.user
    context = {
        "intake": intake, "errors": errors, "error_list": _error_list(errors, CASE_SLOTS),
        "groups": selectors.categories(_province_path(user, intake)),
        "place": _place_context(intake.place_chain, "work", errors.get("place", "")),
        "contact_choices": CONTACT_CHOICES, "needs_name": _needs_name(user),
        "description_max": settings.GONGHUI_CASE_DESCRIPTION_MAX, "description_min": DESCRIPTION_MIN,
        **_attachment_rules(),
    }
    return render(request, "portal/cases/new.html", context, status=status)


def _precheck(request: HttpRequest, intake: Intake, files: list) -> dict:
    """Every part of the form checked with the validators case_create uses, so the worker sees all
    that needs fixing at once instead of one message per submit. The service stays the judge: it
    checks everything again."""
    errors: dict = {}

    def check(fn):
        try:
            return fn()
        except ServiceError as error:
            errors.setdefault(_slot(error, CASE_SLOTS), error.message)
            return None

    check(lambda: services.clean_text(intake.description, field="description", label="诉求内容",
                                      min_len=DESCRIPTION_MIN, max_len=settings.GONGHUI_CASE_DESCRIPTION_MAX))
    args = intake.employer_args()
    where = check(lambda: services._employer_and_place(args["employer_id"], args["employer"], args["division_code"]))
    route = None
    if where is not None:
        employer, employer_name, division = where
        route = check(lambda: services.case_route(employer=employer, employer_name=employer_name, division=division))
    province = route.org.path[: 2 * STEP] if route is not None else _province_path(request.user, intake)
    check(lambda: services.category_for(intake.category, province))
    check(lambda: services._count(intake.workers_affected, field="workers_affected", label="涉及人数", low=1,
                                  high=WORKERS_MAX, default=1))
    check(lambda: services._amount(intake.amount_claimed, field="amount_claimed", label="涉及金额"))
    check(lambda: services.clean_text(intake.contact_preference, field="contact_preference", label="联系方式偏好",
                                      max_len=100))
    check(lambda: services._check_attachments(files))
    if _needs_name(request.user):
        name = check(lambda: services.clean_text(intake.name, field="name", label="姓名", max_len=50))
        if name is not None and not name.strip():
            errors.setdefault("name", "请填写您的姓名，便于工会与您联系")
    return errors


@never_cache
@worker_required
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "GET":
        # A question asked in the legal-affairs cloud comes along (?question=…) as the description.
        carried = (request.GET.get("question") or "").replace("\x00", "").strip()[:2000]
        # The legal answer's guide preselects a category (?category=wage_arrears); the form checks it.
        category = (request.GET.get("category") or "")[:40]
        known = category in {item.code for group in selectors.categories(_province_path(user)) for item in group.items}
        return _new_page(request, intake=Intake(nonce=secrets.token_hex(16), description=carried,
                                                category=category if known else ""))
    if _too_big(request):
        # Refused before the upload is read; what was typed is lost with it, so say so.
        return _new_page(request, intake=Intake(nonce=secrets.token_hex(16)), status=400,
                         errors={"attachments": _too_big_message()})
    action = request.POST.get("action", "refresh")
    intake = _read_intake(request, action)
    if not _NONCE.match(intake.nonce):
        intake.nonce = secrets.token_hex(16)
    if action != "submit":
        return _new_page(request, intake=intake)
    files = request.FILES.getlist("attachments")
    errors = _precheck(request, intake, files)
    if errors:
        return _new_page(request, intake=intake, errors=errors, status=400)
    try:
        case, created = services.case_create(
            actor=user, channel="portal", category=intake.category, description=intake.description,
            workers_affected=intake.workers_affected or None, amount_claimed=intake.amount_claimed or None,
            contact_preference=intake.contact_preference, protect_identity=intake.protect_identity,
            attachments=files, name=intake.name or None, external_id=f"portal-{user.pk}-{intake.nonce}",
            **intake.employer_args(),
        )
    except ServiceError as error:
        return _new_page(request, intake=intake, errors={_slot(error, CASE_SLOTS): error.message}, status=error.status)
    if created:
        messages.success(request, f"诉求已提交，编号 {case.number}。")
    else:
        messages.info(request, f"这份诉求已经提交过（编号 {case.number}），无需重复提交。")
    return redirect("portal:case_detail", case_id=case.pk)


@never_cache
@worker_required
@require_GET
def category_lookup(request: HttpRequest) -> HttpResponse:
    """Category search results as radio buttons, swapped under the search box."""
    q = (request.GET.get("category_q") or "")[:50].strip()
    results = selectors.category_search(q, _province_path(request.user)) if q else None
    return render(request, "portal/cases/_category_results.html", {"results": results, "q": q})


# --- One case ------------------------------------------------------------------------------------


def _timeline(request: HttpRequest, case: Case, attachments: list) -> list[dict]:
    """The steps the worker sees, the filing first, each with the union that held the case then and
    the files added with it."""
    events = selectors.case_timeline(actor=request.user, case=case)
    shown = {e.pk for e in events}
    by_event: dict[int | None, list] = {}
    for attachment in attachments:
        by_event.setdefault(attachment.event_id if attachment.event_id in shown else None, []).append(attachment)
    names = dict(OrgUnit.objects.filter(path__in={e.org_path for e in events} | {case.org_path})
                 .values_list("path", "name"))
    steps = [{"label": "提交诉求", "at": case.created_at, "text": case.route_reason, "union": case.intake_org.name,
              "files": by_event.get(None, []), "mine": True}]
    for e in events:
        label = STEP_LABELS.get(e.action, e.get_action_display())
        if e.action == Action.DISPATCH and e.to_org_id:
            label = f"转交「{e.to_org.name}」办理"
        steps.append({"label": label, "at": e.created_at, "text": e.text, "union": names.get(e.org_path, ""),
                      "files": by_event.get(e.pk, []),
                      "mine": e.action in (Action.WORKER_INFO, Action.WITHDRAW, Action.RATE),
                      "ask": e.action == Action.REQUEST_INFO})
    return steps


def _detail_page(request: HttpRequest, case: Case, *, errors: dict | None = None, form: dict | None = None,
                 status: int = 200) -> HttpResponse:
    errors = errors or {}
    attachments = selectors.case_attachments(actor=request.user, case=case)
    steps = _timeline(request, case, attachments)
    context = {
        "case": case, "steps": steps, "attachments": attachments,
        "asked": next((s for s in reversed(steps) if s.get("ask")), None),
        "errors": errors, "form": form or {}, "waiting": case.status == CaseStatus.WAITING_WORKER,
        "can_rate": case.status == CaseStatus.RESOLVED and case.satisfaction is None,
        "escalated": bool(case.supervisor_id) and case.is_open, **_attachment_rules(),
    }
    return render(request, "portal/cases/detail.html", context, status=status)


@never_cache
@worker_required
@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    try:
        case = _my_case(request, case_id)
    except NotFound as error:
        return _error_page(request, error)
    return _detail_page(request, case)


@never_cache
@worker_required
@require_GET
def case_attachment(request: HttpRequest, case_id: int, attachment_id: int) -> HttpResponse:
    """A file of the worker's own case, only through this view (never a public media URL)."""
    try:
        case = _my_case(request, case_id)
    except NotFound as error:
        return _error_page(request, error)
    found = next((a for a in selectors.case_attachments(actor=request.user, case=case) if a.pk == attachment_id), None)
    if found is None:
        return _error_page(request, NotFound("附件"), back=reverse("portal:case_detail", args=[case.pk]))
    try:
        handle = found.file.open("rb")
    except OSError:
        return _error_page(request, NotFound("附件"), back=reverse("portal:case_detail", args=[case.pk]))
    # Photos open in the phone's viewer; a PDF is downloaded. The type was read from the file's bytes.
    return private_file(handle, filename=found.name, content_type=found.content_type, inline_images=True)


@never_cache
@worker_required
@require_POST
def case_supplement(request: HttpRequest, case_id: int) -> HttpResponse:
    """补充材料: text and files; a case waiting for the worker resumes."""
    try:
        case = _my_case(request, case_id)
    except NotFound as error:
        return _error_page(request, error)
    if _too_big(request):
        return _detail_page(request, case, errors={"attachments": _too_big_message()}, status=400)
    text = request.POST.get("text") or ""
    files = request.FILES.getlist("attachments")
    errors: dict = {}
    for check in (lambda: services.clean_text(text, field="text", label="补充内容", min_len=2, max_len=5000),
                  lambda: services._check_attachments(files)):
        try:
            check()
        except ServiceError as error:
            errors.setdefault(error.field if error.field in ("text", "attachments") else "form", error.message)
    was_waiting = case.status == CaseStatus.WAITING_WORKER
    if not errors:
        try:
            services.case_worker_add(actor=request.user, case=case, text=text, attachments=files)
        except ServiceError as error:
            if error.field == "status":  # finished meanwhile: the page no longer offers the form
                messages.error(request, error.message)
                return redirect("portal:case_detail", case_id=case.pk)
            errors[error.field if error.field in ("text", "attachments") else "form"] = error.message
    if errors:
        return _detail_page(request, case, errors=errors, form={"text": text[:6000], "files_sent": bool(files)},
                            status=400)
    messages.success(request, "补充材料已提交，工会将继续办理。" if was_waiting else "补充材料已提交。")
    return redirect("portal:case_detail", case_id=case.pk)


@worker_required
@require_POST
def case_withdraw(request: HttpRequest, case_id: int) -> HttpResponse:
    try:
        case = _my_case(request, case_id)
    except NotFound as error:
        return _error_page(request, error)
    reason = (request.POST.get("reason") or "")[:1000]
    try:
        services.case_withdraw(actor=request.user, case=case, reason=reason)
    except ServiceError as error:
        if error.field == "reason":
            return _detail_page(request, case, errors={"reason": error.message}, form={"reason": reason},
                                status=error.status)
        messages.error(request, error.message)
        return redirect("portal:case_detail", case_id=case.pk)
    messages.success(request, "诉求已撤回，工会不再办理。如有新情况，可以重新提交诉求。")
    return redirect("portal:case_detail", case_id=case.pk)


@worker_required
@require_POST
def case_rate(request: HttpRequest, case_id: int) -> HttpResponse:
    """The worker rates from the case page: a fresh callback link (the one sent before stops working,
    so a case is rated once) and on to the same page the link opens."""
    try:
        case = _my_case(request, case_id)
    except NotFound as error:
        return _error_page(request, error)
    if case.status != CaseStatus.RESOLVED or case.satisfaction is not None:
        messages.info(request, "这件诉求已评价过或不在回访阶段。")
        return redirect("portal:case_detail", case_id=case.pk)
    with transaction.atomic():
        token = services.callback_link_issue(case)
    return redirect("portal:callback", token=token)


# --- The callback page (no login) ----------------------------------------------------------------


def _callback_refusal(request: HttpRequest, error: ServiceError) -> HttpResponse:
    """A link that does not work: tampered or unknown (404), expired (400), used (200: the rating
    went in; nothing is wrong)."""
    kind = {"callback_expired": "expired", "callback_used": "used"}.get(error.code, "invalid")
    status = {"expired": 400, "used": 200}.get(kind, 404)
    return render(request, "portal/cases/callback_closed.html", {"kind": kind, "message": error.message},
                  status=status)


def _callback_page(request: HttpRequest, link, *, form: dict | None = None, errors: dict | None = None,
                   status: int = 200) -> HttpResponse:
    errors = errors or {}
    context = {"case": link.case, "link": link, "token": request.resolver_match.kwargs["token"], "stars": STARS, "form": form or {}, "errors": errors,
               "error_list": _error_list(errors, ("score", "comment"))}
    return render(request, "portal/cases/callback.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def callback(request: HttpRequest, token: str) -> HttpResponse:
    """回访: the satisfaction page the SMS link opens; single use, expiring, no login."""
    if request.method == "POST":
        try:
            ratelimit.check("callback_ip_min", client_ip(request), RATE_MESSAGE)
        except ServiceError as error:
            return render(request, "portal/cases/callback_closed.html", {"kind": "busy", "message": error.message},
                          status=error.status)
    try:
        link = services.callback_open(token)
    except ServiceError as error:
        return _callback_refusal(request, error)
    if request.method == "GET":
        return _callback_page(request, link)
    score = request.POST.get("score") or ""
    comment = request.POST.get("comment") or ""
    form = {"score": score, "comment": comment[:600]}
    errors: dict = {}
    if score not in {"1", "2", "3", "4", "5"}:
        errors["score"] = "请选择1至5星的满意度"
    try:
        services.clean_text(comment, field="comment", label="评价内容", max_len=500)
    except ServiceError as error:
        errors["comment"] = error.message
    if errors:
        return _callback_page(request, link, form=form, errors=errors, status=400)
    try:
        case = services.callback_rate(token=token, score=score, comment=comment)
    except ValidationFailed as error:
        if error.field in ("score", "comment"):
            return _callback_page(request, link, form=form, errors={error.field: error.message}, status=400)
        return _callback_refusal(request, error)
    except ServiceError as error:
        return _callback_refusal(request, error)
    reopened = case.status == CaseStatus.IN_PROGRESS
    return render(request, "portal/cases/callback_done.html", {"case": case, "score": int(score), "reopened": reopened,
                                                               "rated_at": timezone.localtime(case.rated_at)})
