"""The worker's employment pages (就业帮扶云) on a phone: search jobs (public), a job's page with why
it suits the signed-in worker and a one-tap application, the seeker profile built from the member's
data, my applications with every step the employer took, employment help (ask the union where one
wants to work, follow it to the placement), and job fairs with a QR check-in code.

Every write goes through gonghui.employment.services; a ServiceError becomes a Chinese message beside
the field it names. The employer's side (recruiters) is in recruit_views.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.accounts.models import User
from gonghui.core.errors import NotFound, ServiceError
from gonghui.employment import selectors, services
from gonghui.employment.models import (
    ApplicationStatus,
    Education,
    FairRegistration,
    HelpGroup,
    HelpRequest,
    JobApplication,
    JobFair,
    JobPosting,
    PostingStatus,
    SeekerProfile,
)
from gonghui.membership.models import Member
from gonghui.orgs.models import Division, Occupation

from . import lookups
from .membership_views import _qr_svg, _search
from .views import _is_worker, worker_required

PAGE = 20
MAX_WISHES = services.MAX_WISHES
# Steps of an application as the worker sees them, in order (declined/withdrawn end it early).
STEPS = [ApplicationStatus.SUBMITTED, ApplicationStatus.VIEWED, ApplicationStatus.INTERVIEW, ApplicationStatus.OFFER,
         ApplicationStatus.HIRED]


def _error_page(request: HttpRequest, error: ServiceError, back: str) -> HttpResponse:
    return render(request, "portal/jobs/error.html", {"message": error.message, "back": back}, status=error.status)


def _worker_or_none(request: HttpRequest) -> User | None:
    return request.user if _is_worker(request.user) else None


def _profile(user) -> SeekerProfile | None:
    if user is None:
        return None
    return SeekerProfile.objects.filter(user=user).prefetch_related("wishes").first()


def place_search_context(chain: list[Division], name: str = "place", label: str = "地点",
                         hint: str = "", error: str = "", deepest: int = 4) -> dict:
    """A cascading place picker in which any level counts (search: 广东 is a fine place; the profile
    and postings want a county or township, and say so)."""
    selects = lookups.place_selects(chain)
    if chain and chain[-1].level >= deepest:
        selects = selects[:len(chain)]
    code = chain[-1].code if chain else ""
    return {"selects": selects, "code": code, "name": name, "label": label, "hint": hint, "error": error,
            "path": " ".join(d.name for d in chain)}


# --- Search (public) ------------------------------------------------------------------------------


def _text(value, limit: int) -> str:
    """A submitted value without NUL bytes (PostgreSQL refuses them in text), cut to a length."""
    return (value or "").replace("\x00", "")[:limit].strip()


def _search_args(request: HttpRequest) -> dict:
    get = request.GET
    chain = lookups.place_chain(get.getlist("place")[:6])
    return {"q": _text(get.get("q"), 60), "chain": chain, "salary_min": _text(get.get("salary_min"), 8),
            "occupation": _text(get.get("occupation"), 16)}


@never_cache
@require_GET
def jobs_home(request: HttpRequest) -> HttpResponse:
    """Search and browse. Without any filter a signed-in worker sees jobs near where they want to
    work (their profile's first place, else their union's) and their recommendations."""
    args = _search_args(request)
    try:
        offset = max(0, min(int(request.GET.get("offset") or 0), 1000))
    except ValueError:
        offset = 0
    user = _worker_or_none(request)
    profile = _profile(user)
    near = ""
    if profile is not None:
        near = next((w.division_id for w in profile.wishes.all()), "")
    elif user is not None:
        member = Member.objects.filter(user=user).select_related("org").first()
        near = member.org.division_id if member is not None and member.org.division_id else ""
    place = args["chain"][-1].code if args["chain"] else ""
    searching = bool(args["q"] or place or args["salary_min"] or args["occupation"])
    error, rows = "", []
    try:
        rows = selectors.job_search(q=args["q"], occupation=args["occupation"], division=place,
                                    salary_min=args["salary_min"] or None, near="" if place else near,
                                    limit=PAGE + 1, offset=offset)
    except ServiceError as exc:
        error = exc.message
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    recommendations = []
    if profile is not None and not searching and offset == 0:
        recommendations = selectors.recommend_jobs(profile=profile, limit=5)
    occupation = lookups.occupation_get(args["occupation"]) if args["occupation"] else None
    query = {k: v for k, v in (("q", args["q"]), ("salary_min", args["salary_min"]),
                               ("occupation", args["occupation"])) if v}
    base = urlencode([*query.items(), *(("place", d.code) for d in args["chain"])])
    context = {
        "args": args, "error": error, "jobs": rows, "offset": offset, "searching": searching,
        "next_url": f"?{base}&offset={offset + PAGE}" if more else "",
        "prev_url": f"?{base}&offset={max(0, offset - PAGE)}" if offset else "",
        "place": place_search_context(args["chain"], label="地点", hint="不选则按离您近的排序"),
        "near_name": Division.objects.filter(code=near).values_list("name", flat=True).first() if near and not place
        else "",
        "occupation": occupation, "user": user, "profile": profile, "recommendations": recommendations,
        "salary_options": [3000, 4000, 5000, 6000, 8000, 10000, 15000],
    }
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "job-results":
        return render(request, "portal/jobs/_results.html", context)
    return render(request, "portal/jobs/home.html", context)


@never_cache
@require_GET
def place_lookup(request: HttpRequest) -> HttpResponse:
    """The search form's place picker again after a change (htmx); public like the search."""
    name = request.GET.get("name") if request.GET.get("name") in ("place", "wish", "work") else "place"
    chain = lookups.place_chain(request.GET.getlist(name)[:6])
    deepest = 4
    ctx = place_search_context(chain, name=name, label=request.GET.get("label", "地点")[:10], deepest=deepest)
    return render(request, "portal/jobs/_places.html", {"place": ctx})


# --- A job's page ---------------------------------------------------------------------------------


def _visible_posting(request: HttpRequest, posting_id: int) -> JobPosting:
    """Live postings for anyone; any status for who manages the employer (a preview), and the
    posting of a worker's own application after it closed (their application links to it)."""
    user = request.user if request.user.is_authenticated else None
    if user is None:
        return selectors.posting_public_get(posting_id)
    try:
        return selectors.posting_get(actor=user, posting_id=posting_id)
    except NotFound:
        # A closed or expired one the worker applied to (content as reviewed); one being edited and
        # re-reviewed is not shown until the union approves the change.
        posting = JobPosting.objects.select_related("employer", "occupation", "division", "org").filter(
            pk=posting_id, applications__user=user, status__in=[PostingStatus.CLOSED, PostingStatus.EXPIRED]).first()
        if posting is None:
            raise
        return posting


@never_cache
@require_GET
def job_detail(request: HttpRequest, posting_id: int) -> HttpResponse:
    try:
        posting = _visible_posting(request, posting_id)
    except NotFound as error:
        return _error_page(request, error, reverse("portal:jobs"))
    user = _worker_or_none(request)
    profile = _profile(user)
    match = selectors.match_for(profile=profile, posting=posting) if profile is not None else None
    application = JobApplication.objects.filter(posting=posting, user=user).first() if user else None
    fair_id = request.GET.get("fair") or ""
    manages = request.user.is_authenticated and bool(services.can_manage_employer(request.user, posting.employer))
    context = {"job": posting, "match": match, "profile": profile, "user": user, "application": application,
               "fair_id": fair_id if fair_id.isascii() and fair_id.isdigit() else "", "manages": manages,
               "live": posting.status == PostingStatus.LIVE and posting.expires_on >= timezone.localdate()}
    return render(request, "portal/jobs/detail.html", context)


@worker_required
@require_POST
def job_apply(request: HttpRequest, posting_id: int) -> HttpResponse:
    back = reverse("portal:job_detail", args=[posting_id])
    try:
        posting = selectors.posting_public_get(posting_id)
    except NotFound as error:
        return _error_page(request, error, reverse("portal:jobs"))
    if not SeekerProfile.objects.filter(user=request.user).exists():
        messages.info(request, "投递前请先填写求职档案（只需一次），保存后回到岗位页一键投递。")
        return redirect(f"{reverse('portal:seeker_profile')}?{urlencode({'next': back})}")
    existing = JobApplication.objects.filter(posting=posting, user=request.user).first()
    if existing is not None and existing.status != ApplicationStatus.WITHDRAWN:  # a double tap: the first one's
        return redirect("portal:job_application", existing.pk)
    fair = None
    fair_id = (request.POST.get("fair_id") or "").strip()
    try:
        if fair_id:
            fair = selectors.fair_get(fair_id)
        application = services.application_submit(actor=request.user, posting=posting,
                                                  note=(request.POST.get("note") or "")[:400], fair=fair)
    except ServiceError as error:
        again = JobApplication.objects.filter(posting=posting, user=request.user).exclude(
            status=ApplicationStatus.WITHDRAWN).first()
        if again is not None:
            return redirect("portal:job_application", again.pk)
        messages.error(request, error.message)
        return redirect(back)
    messages.success(request, f"已投递“{posting.title}”，招聘方处理后您会收到通知。")
    return redirect("portal:job_application", application.pk)


# --- Seeker profile -------------------------------------------------------------------------------


PROFILE_SLOTS = ("name", "occupations", "places", "salary_expected", "skills", "education", "experience_years",
                 "available_from", "help_group", "about", "form")
PROFILE_LABELS = {"name": "姓名", "occupations": "想做的职业", "places": "想去的地方", "salary_expected": "期望月薪",
                  "skills": "技能", "education": "学历", "experience_years": "工作年限", "available_from": "可到岗日期",
                  "help_group": "帮扶类别", "about": "自我介绍", "form": "保存"}


@dataclass
class SeekerForm:
    name: str = ""
    occupations: list[Occupation] = field(default_factory=list)
    places: list[Division] = field(default_factory=list)
    salary_expected: str = ""
    skills: str = ""
    education: str = ""
    experience_years: str = ""
    available_from: str = ""
    help_group: str = ""
    about: str = ""
    visible_to_employers: bool = True
    status: str = SeekerProfile.Status.ACTIVE
    occupation_q: str = ""
    occupation_results: list | None = None
    occupation_search_error: str = ""
    place_chain: list[Division] = field(default_factory=list)
    next: str = ""

    def data(self) -> dict:
        return {"name": self.name, "occupations": [o.code for o in self.occupations],
                "places": [d.code for d in self.places], "salary_expected": self.salary_expected or None,
                "skills": self.skills, "education": self.education or None,
                "experience_years": self.experience_years or None, "available_from": self.available_from or None,
                "help_group": self.help_group or None, "about": self.about,
                "visible_to_employers": self.visible_to_employers, "status": self.status}


def _form_from_profile(user, profile: SeekerProfile | None) -> SeekerForm:
    if profile is not None:
        wishes = list(profile.wishes.select_related("occupation", "division"))
        occ = list({w.occupation_id: w.occupation for w in wishes}.values())
        places = list({w.division_id: w.division for w in wishes}.values())
        return SeekerForm(name=profile.name, occupations=occ, places=places,
                          salary_expected=str(profile.salary_expected or ""), skills="、".join(profile.skills),
                          education=profile.education, experience_years=str(profile.experience_years or ""),
                          available_from=profile.available_from.isoformat() if profile.available_from else "",
                          help_group=profile.help_group, about=profile.about,
                          visible_to_employers=profile.visible_to_employers, status=profile.status)
    # A new profile starts from the member's data: name, occupation, and where they work.
    form = SeekerForm(name=user.display_name or "")
    member = Member.objects.filter(user=user).select_related("occupation", "work_division", "org__division").first()
    if member is not None:
        form.name = member.name or form.name
        if member.occupation_id and member.occupation.level == 4:
            form.occupations = [member.occupation]
        place = member.work_division or member.org.division
        if place is not None and place.level >= Division.Level.COUNTY and not place.is_placeholder:
            form.places = [place]
    return form


def _read_seeker_form(request: HttpRequest, action: str) -> SeekerForm:
    post = request.POST
    codes = [_text(c, 16) for c in post.getlist("occupations")[:MAX_WISHES + 1] if _text(c, 16)]
    occ_by = {o.code: o for o in Occupation.objects.filter(code__in=codes, level=4)}
    places_codes = [_text(c, 12) for c in post.getlist("places")[:MAX_WISHES + 1] if _text(c, 12)]
    place_by = Division.objects.in_bulk(places_codes)
    form = SeekerForm(
        name=(post.get("name") or "")[:60].strip(),
        occupations=[occ_by[c] for c in dict.fromkeys(codes) if c in occ_by],
        places=[place_by[c] for c in dict.fromkeys(places_codes) if c in place_by],
        salary_expected=(post.get("salary_expected") or "")[:10].strip(),
        skills=(post.get("skills") or "")[:500], education=(post.get("education") or "")[:20],
        experience_years=(post.get("experience_years") or "")[:4].strip(),
        available_from=(post.get("available_from") or "")[:10].strip(),
        help_group=(post.get("help_group") or "")[:20], about=(post.get("about") or "")[:1200],
        visible_to_employers=post.get("visible_to_employers") == "yes",
        status=post.get("status") if post.get("status") in SeekerProfile.Status.values else SeekerProfile.Status.ACTIVE,
        occupation_q=_text(post.get("occupation_q"), 60),
        place_chain=lookups.place_chain(post.getlist("wish")[:6]),
        next=_safe_local(post.get("next") or ""),
    )
    if action.startswith("occ_remove:"):
        form.occupations = [o for o in form.occupations if o.code != action.split(":", 1)[1]]
    elif action.startswith("place_remove:"):
        form.places = [d for d in form.places if d.code != action.split(":", 1)[1]]
    elif action == "occupation_add":
        picked = lookups.occupation_get(post.get("occupation_code") or "")
        if picked is not None and picked.code not in {o.code for o in form.occupations}:
            form.occupations.append(picked)
        form.occupation_q = ""
    elif action == "place_add" and form.place_chain:
        deepest = form.place_chain[-1]
        if deepest.level >= Division.Level.COUNTY and deepest.code not in {d.code for d in form.places}:
            form.places.append(deepest)
            form.place_chain = []
    if form.occupation_q and action in ("occupation_search", "refresh"):
        form.occupation_results, form.occupation_search_error = _search(lookups.occupation_search, form.occupation_q)
    return form


def _safe_local(link: str) -> str:
    """A path on this site to go back to (never another host: `//x`, `/\\x` and schemes are dropped)."""
    link = _text(link, 300)
    ok = link.startswith("/") and url_has_allowed_host_and_scheme(link, allowed_hosts=None) and "\\" not in link
    return link if ok else ""


def _seeker_page(request: HttpRequest, form: SeekerForm, errors: dict | None = None, status: int = 200,
                 profile: SeekerProfile | None = None) -> HttpResponse:
    errors = errors or {}
    place_error = errors.get("places", "")
    context = {"form": form, "errors": errors, "profile": profile,
               "error_list": [(s, PROFILE_LABELS[s], errors[s]) for s in PROFILE_SLOTS if s in errors],
               "wish_picker": place_search_context(form.place_chain, name="wish", label="添加地点",
                                                   hint="选到区县或乡镇（街道）后点“添加”", error=place_error),
               "educations": Education.choices, "groups": HelpGroup.choices, "statuses": SeekerProfile.Status.choices,
               "max_wishes": MAX_WISHES,
               "place_ready": bool(form.place_chain) and form.place_chain[-1].level >= Division.Level.COUNTY}
    return render(request, "portal/jobs/profile.html", context, status=status)


@never_cache
@worker_required
@require_http_methods(["GET", "POST"])
def seeker_profile(request: HttpRequest) -> HttpResponse:
    profile = _profile(request.user)
    if request.method == "GET":
        form = _form_from_profile(request.user, profile)
        form.next = _safe_local(request.GET.get("next") or "")
        return _seeker_page(request, form, profile=profile)
    action = request.POST.get("action", "refresh")[:40]
    form = _read_seeker_form(request, action)
    if action != "save":
        return _seeker_page(request, form, profile=profile)
    try:
        services.seeker_save(actor=request.user, data=form.data())
    except ServiceError as error:
        if error.code == "seeker_busy" and SeekerProfile.objects.filter(user=request.user).exists():
            return redirect(form.next or reverse("portal:jobs"))  # a double tap: the first one saved it
        slot = error.field if error.field in PROFILE_SLOTS else "form"
        return _seeker_page(request, form, {slot: error.message}, status=error.status, profile=profile)
    messages.success(request, "求职档案已保存。" + ("用人单位可以看到您的档案并邀请您面试。" if form.visible_to_employers
                                                 else "您的档案不对用人单位公开，只在您投递时发送给对方。"))
    return redirect(form.next or reverse("portal:jobs"))


# --- My applications ------------------------------------------------------------------------------


@never_cache
@worker_required
@require_GET
def my_applications(request: HttpRequest) -> HttpResponse:
    rows = list(selectors.my_applications(actor=request.user).select_related("posting__division")[:200])
    return render(request, "portal/jobs/applications.html", {"applications": rows})


def _steps(application: JobApplication) -> list[dict]:
    reached = {e.to_status: e for e in application.events.all()}
    reached.setdefault(ApplicationStatus.SUBMITTED, None)
    order = [s.value for s in STEPS]
    current = order.index(application.status) if application.status in order else -1
    out = []
    for i, step in enumerate(STEPS):
        event = reached.get(step.value)
        done = step.value in reached or i <= current
        out.append({"label": step.label, "done": done, "at": event.created_at if event else
                    (application.created_at if step == ApplicationStatus.SUBMITTED else None),
                    "note": event.note if event else ""})
    return out


@never_cache
@worker_required
@require_GET
def application_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    try:
        application = selectors.application_get(actor=request.user, application_id=application_id)
    except NotFound as error:
        return _error_page(request, error, reverse("portal:job_applications"))
    if application.user_id != request.user.pk:  # a recruiter's view of it is on their own pages
        return redirect("portal:recruit_posting", application.posting_id)
    events = list(application.events.order_by("created_at", "id"))
    return render(request, "portal/jobs/application.html", {
        "application": application, "job": application.posting, "events": events, "steps": _steps(application),
        "ended": application.status in (ApplicationStatus.DECLINED, ApplicationStatus.WITHDRAWN),
        "can_withdraw": application.status in (ApplicationStatus.SUBMITTED, ApplicationStatus.VIEWED,
                                               ApplicationStatus.INTERVIEW, ApplicationStatus.OFFER)})


@worker_required
@require_POST
def application_withdraw(request: HttpRequest, application_id: int) -> HttpResponse:
    back = reverse("portal:job_application", args=[application_id])
    try:
        application = selectors.application_get(actor=request.user, application_id=application_id)
        if application.user_id != request.user.pk:
            raise NotFound("求职申请")
        if application.status != ApplicationStatus.WITHDRAWN:
            services.application_withdraw(actor=request.user, application=application)
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect(back)
    messages.success(request, "已撤回投递。")
    return redirect(back)


# --- Employment help ------------------------------------------------------------------------------


@never_cache
@worker_required
@require_GET
def help_list(request: HttpRequest) -> HttpResponse:
    rows = list(HelpRequest.objects.filter(user=request.user).select_related("org", "assigned_to")
                .order_by("-created_at")[:50])
    open_one = next((r for r in rows if r.status in (HelpRequest.Status.OPEN, HelpRequest.Status.ASSIGNED)), None)
    return render(request, "portal/jobs/help_list.html", {"requests": rows, "open_one": open_one})


HELP_SLOTS = ("help_group", "division_code", "needs", "name", "form")
HELP_LABELS = {"help_group": "帮扶类别", "division_code": "想在哪里就业", "needs": "需求说明", "name": "姓名",
               "form": "提交"}


def _help_page(request, *, values: dict, chain: list[Division], errors: dict | None = None,
               status: int = 200) -> HttpResponse:
    errors = errors or {}
    context = {"values": values, "errors": errors, "groups": [g for g in HelpGroup.choices if g[0] != "none"],
               "error_list": [(s, HELP_LABELS[s], errors[s]) for s in HELP_SLOTS if s in errors],
               "place": place_search_context(chain, name="work", label="想在哪里就业",
                                             hint="选到区县或乡镇（街道），由当地工会受理", error=errors.get("division_code", ""))}
    return render(request, "portal/jobs/help_new.html", context, status=status)


@never_cache
@worker_required
@require_http_methods(["GET", "POST"])
def help_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        open_one = HelpRequest.objects.filter(user=request.user, status__in=[HelpRequest.Status.OPEN,
                                                                             HelpRequest.Status.ASSIGNED]).first()
        if open_one is not None:
            messages.info(request, "您已有一件正在办理的就业帮扶申请，工会工作人员会继续跟进。")
            return redirect("portal:job_help", open_one.pk)
        profile = _profile(request.user)
        chain: list[Division] = []
        values = {"name": request.user.display_name or "", "help_group": "", "needs": ""}
        if profile is not None:
            values.update(name=profile.name, help_group=profile.help_group if profile.help_group != "none" else "")
            first = next(iter(profile.wishes.all()), None)
            if first is not None:
                chain = lookups.place_chain_of(first.division_id)
        return _help_page(request, values=values, chain=chain)
    post = request.POST
    values = {"name": (post.get("name") or "")[:60].strip(), "help_group": (post.get("help_group") or "")[:20],
              "needs": (post.get("needs") or "")[:2100]}
    chain = lookups.place_chain(post.getlist("work")[:6])
    if post.get("action") != "submit":
        return _help_page(request, values=values, chain=chain)
    code = chain[-1].code if chain else ""
    try:
        help_request = services.help_request_submit(actor=request.user, division_code=code,
                                                    help_group=values["help_group"], needs=values["needs"],
                                                    name=values["name"])
    except ServiceError as error:
        open_one = HelpRequest.objects.filter(user=request.user, status__in=[HelpRequest.Status.OPEN,
                                                                             HelpRequest.Status.ASSIGNED]).first()
        if error.code == "help_open" and open_one is not None:
            messages.info(request, error.message)
            return redirect("portal:job_help", open_one.pk)
        slot = error.field if error.field in HELP_SLOTS else "form"
        return _help_page(request, values=values, chain=chain, errors={slot: error.message}, status=error.status)
    messages.success(request, f"已提交，编号 {help_request.number}。{help_request.org.name}会安排专人与您联系。")
    return redirect("portal:job_help", help_request.pk)


@never_cache
@worker_required
@require_GET
def help_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    help_request = HelpRequest.objects.filter(pk=request_id, user=request.user).select_related(
        "org", "assigned_to", "division", "placed_posting").first()
    if help_request is None:
        return _error_page(request, NotFound("帮扶申请"), reverse("portal:job_help_list"))
    services_done = list(help_request.services.select_related("posting__employer").order_by("served_on", "id"))
    return render(request, "portal/jobs/help_detail.html", {"help": help_request, "services": services_done})


@worker_required
@require_POST
def help_withdraw(request: HttpRequest, request_id: int) -> HttpResponse:
    help_request = HelpRequest.objects.filter(pk=request_id, user=request.user).first()
    if help_request is None:
        return _error_page(request, NotFound("帮扶申请"), reverse("portal:job_help_list"))
    if help_request.status in (HelpRequest.Status.OPEN, HelpRequest.Status.ASSIGNED):
        try:
            services.help_withdraw(actor=request.user, request=help_request,
                                   reason=_text(request.POST.get("reason"), 200))
        except ServiceError as error:
            messages.error(request, error.message)
            return redirect("portal:job_help", help_request.pk)
        messages.success(request, "已撤回帮扶申请。需要时可以重新申请。")
    return redirect("portal:job_help", help_request.pk)


# --- Job fairs ------------------------------------------------------------------------------------


@never_cache
@require_GET
def fair_list(request: HttpRequest) -> HttpResponse:
    user = _worker_or_none(request)
    fairs = list(selectors.fairs_visible().select_related("org")[:50])
    mine = set()
    if user is not None:
        mine = set(FairRegistration.objects.filter(user=user, fair__in=fairs).values_list("fair_id", flat=True))
    return render(request, "portal/jobs/fairs.html", {"fairs": fairs, "mine": mine})


@never_cache
@require_GET
def fair_detail(request: HttpRequest, fair_id: int) -> HttpResponse:
    try:
        fair = selectors.fair_get(fair_id)
    except NotFound as error:
        return _error_page(request, error, reverse("portal:job_fairs"))
    user = _worker_or_none(request)
    registration = FairRegistration.objects.filter(fair=fair, user=user).first() if user else None
    live = JobPosting.objects.filter(status=PostingStatus.LIVE).select_related("employer", "occupation", "division")
    booths = list(fair.booths.select_related("employer").prefetch_related(Prefetch("postings", queryset=live))
                  .order_by("booth_no", "id"))
    context = {"fair": fair, "booths": booths, "registration": registration, "user": user,
               "open": fair.status == JobFair.Status.OPEN and fair.ends_at > timezone.now(),
               "qr_svg": _qr_svg(registration.code) if registration and not registration.checked_in_at else ""}
    return render(request, "portal/jobs/fair.html", context)


@worker_required
@require_POST
def fair_register(request: HttpRequest, fair_id: int) -> HttpResponse:
    back = reverse("portal:job_fair", args=[fair_id])
    try:
        fair = selectors.fair_get(fair_id)
        services.fair_register(actor=request.user, fair=fair)
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect(back)
    messages.success(request, "报名成功。到场时出示下面的签到码。")
    return redirect(back)
