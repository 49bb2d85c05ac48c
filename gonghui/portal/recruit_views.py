"""The employer's side of the employment cloud on the portal (招聘方): a person who hires for an
employer claims it by its USCC (verified by the union above the employer), then posts jobs (they go
live after the union's moderation), sees who applied and moves each application on (viewed →
interview → offer → hired / declined), sees recommended seekers who opted in, and closes or renews
postings. Recruiters sign in as workers do (phone and SMS code); union staff do the same work in the
console.

Every id is resolved through the employment selectors/services, which check the recruiter is verified
for the posting's employer (404 otherwise); every write goes through a service.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass, field

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.core.errors import NotFound, ServiceError
from gonghui.core.pii import mask_name
from gonghui.core.text import normalize_name
from gonghui.employment import selectors, services
from gonghui.employment.models import ApplicationStatus, Education, JobApplication, JobPosting, PostingStatus, Recruiter
from gonghui.orgs.models import Division, Employer, Occupation

from . import lookups
from .job_views import _error_page, place_search_context
from .membership_views import _search
from .views import worker_required

BENEFITS = ["五险一金", "包吃", "包住", "餐补", "交通补贴", "带薪年假", "加班费", "年终奖", "节日福利", "定期体检", "技能培训",
            "商业保险"]
MOVES = {
    ApplicationStatus.SUBMITTED: [ApplicationStatus.VIEWED, ApplicationStatus.INTERVIEW, ApplicationStatus.DECLINED],
    ApplicationStatus.VIEWED: [ApplicationStatus.INTERVIEW, ApplicationStatus.OFFER, ApplicationStatus.DECLINED],
    ApplicationStatus.INTERVIEW: [ApplicationStatus.OFFER, ApplicationStatus.DECLINED],
    ApplicationStatus.OFFER: [ApplicationStatus.HIRED, ApplicationStatus.DECLINED],
}
MOVE_LABELS = {ApplicationStatus.VIEWED: "标记已查看", ApplicationStatus.INTERVIEW: "邀请面试",
               ApplicationStatus.OFFER: "拟录用", ApplicationStatus.HIRED: "确认入职", ApplicationStatus.DECLINED: "不合适"}


def _roles(user) -> list[Recruiter]:
    return list(Recruiter.objects.filter(user=user).select_related("org", "employer").order_by("-id"))


def _managed_posting(request: HttpRequest, posting_id: int) -> JobPosting:
    posting = selectors.posting_get(actor=request.user, posting_id=posting_id)
    if not services.can_manage_employer(request.user, posting.employer):
        raise NotFound("岗位")
    return posting


# --- Home and claims ------------------------------------------------------------------------------


CLAIM_SLOTS = ("uscc", "employer_name", "division_code", "name", "title", "address", "form")
CLAIM_LABELS = {"uscc": "统一社会信用代码", "employer_name": "单位名称", "division_code": "单位所在地",
                "name": "联系人姓名", "title": "职务", "address": "地址", "form": "提交"}


def _home_page(request: HttpRequest, *, claim: dict | None = None, chain: list[Division] | None = None,
               errors: dict | None = None, status: int = 200) -> HttpResponse:
    errors = errors or {}
    roles = _roles(request.user)
    verified = [r for r in roles if r.status == Recruiter.Status.VERIFIED and r.employer_id]
    postings = list(JobPosting.objects.filter(employer_id__in=[r.employer_id for r in verified])
                    .select_related("employer", "division").defer("search_head", "search_text", "description")
                    .order_by("-created_at")[:200])
    counts: dict[int, int] = {}
    for posting_id in JobApplication.objects.filter(posting__in=postings, status=ApplicationStatus.SUBMITTED) \
            .values_list("posting_id", flat=True):
        counts[posting_id] = counts.get(posting_id, 0) + 1
    for p in postings:
        p.new_applications = counts.get(p.pk, 0)
    claim = claim or {"name": request.user.display_name or ""}
    context = {"roles": roles, "verified": verified, "postings": postings, "claim": claim, "errors": errors,
               "error_list": [(s, CLAIM_LABELS[s], errors[s]) for s in CLAIM_SLOTS if s in errors],
               "place": place_search_context(chain or [], name="work", label="单位所在地（单位未在工会登记时填写）",
                                             hint="选到区县或乡镇（街道）", error=errors.get("division_code", "")),
               "show_claim": bool(errors) or not roles or request.GET.get("claim") == "1"}
    return render(request, "portal/jobs/recruit_home.html", context, status=status)


@never_cache
@worker_required
@require_GET
def recruit_home(request: HttpRequest) -> HttpResponse:
    return _home_page(request)


@worker_required
@require_POST
def recruit_claim(request: HttpRequest) -> HttpResponse:
    post = request.POST
    claim = {key: (post.get(key) or "")[:300].strip() for key in ("uscc", "employer_name", "name", "title", "address")}
    chain = lookups.place_chain(post.getlist("work")[:6])
    if post.get("action") != "submit":
        return _home_page(request, claim=claim, chain=chain)
    try:
        recruiter = services.recruiter_claim(actor=request.user, uscc=claim["uscc"], name=claim["name"],
                                             title=claim["title"], employer_name=claim["employer_name"],
                                             division_code=chain[-1].code if chain else None,
                                             address=claim["address"])
    except ServiceError as error:
        recent = Recruiter.objects.filter(user=request.user, status=Recruiter.Status.PENDING,
                                          created_at__gte=timezone.now() - datetime.timedelta(minutes=10)).first()
        if error.code == "recruiter_exists" and recent is not None and recent.uscc == claim["uscc"].upper():
            return redirect("portal:recruit_home")  # a second tap: the first one's claim is listed
        slot = error.field if error.field in CLAIM_SLOTS else "form"
        return _home_page(request, claim=claim, chain=chain, errors={slot: error.message}, status=error.status)
    messages.success(request, f"已提交{recruiter.employer_name}的招聘方认证，由{recruiter.org.name}核验，结果会通知您。")
    return redirect("portal:recruit_home")


# --- Posting form ---------------------------------------------------------------------------------


POST_SLOTS = ("employer_id", "title", "occupation", "division_code", "address", "salary_min", "salary_max",
              "headcount", "education", "experience_years", "skills", "benefits", "description", "contact_name",
              "contact_phone", "expires_on", "form")
POST_LABELS = {"employer_id": "招聘单位", "title": "岗位名称", "occupation": "职业", "division_code": "工作地点",
               "address": "详细地址", "salary_min": "月薪下限", "salary_max": "月薪上限", "headcount": "招聘人数",
               "education": "学历要求", "experience_years": "经验要求", "skills": "技能要求", "benefits": "福利待遇",
               "description": "岗位描述", "contact_name": "联系人", "contact_phone": "联系电话", "expires_on": "截止日期",
               "form": "提交"}
TEXT_FIELDS = ("title", "address", "salary_min", "salary_max", "headcount", "education", "experience_years",
               "skills", "description", "contact_name", "contact_phone", "expires_on", "benefits_other")


@dataclass
class PostingForm:
    nonce: str = ""
    employer: Employer | None = None
    values: dict = field(default_factory=dict)
    benefits: list[str] = field(default_factory=list)
    occupation: Occupation | None = None
    occupation_q: str = ""
    occupation_results: list | None = None
    occupation_search_error: str = ""
    place_chain: list[Division] = field(default_factory=list)

    def data(self) -> dict:
        v = self.values
        others = [b for b in (v.get("benefits_other") or "").replace("，", ",").replace("、", ",").split(",")
                  if b.strip()]
        return {"title": v.get("title", ""), "occupation": self.occupation.code if self.occupation else "",
                "division_code": self.place_chain[-1].code if self.place_chain else "",
                "address": v.get("address", ""), "salary_min": v.get("salary_min") or None,
                "salary_max": v.get("salary_max") or None, "headcount": v.get("headcount") or None,
                "education": v.get("education") or None, "experience_years": v.get("experience_years") or None,
                "skills": v.get("skills", ""), "benefits": [*self.benefits, *others],
                "description": v.get("description", ""), "contact_name": v.get("contact_name", ""),
                "contact_phone": v.get("contact_phone", ""), "expires_on": v.get("expires_on") or None}


def _form_from_posting(posting: JobPosting) -> PostingForm:
    known = [b for b in posting.benefits if b in BENEFITS]
    return PostingForm(
        employer=posting.employer, occupation=posting.occupation, benefits=known,
        place_chain=lookups.place_chain_of(posting.division_id),
        values={"title": posting.title, "address": posting.address, "salary_min": str(posting.salary_min),
                "salary_max": str(posting.salary_max), "headcount": str(posting.headcount),
                "education": posting.education, "experience_years": str(posting.experience_years),
                "skills": "、".join(posting.skills), "description": posting.description,
                "contact_name": posting.contact_name, "contact_phone": "", "expires_on": posting.expires_on.isoformat(),
                "benefits_other": "、".join(b for b in posting.benefits if b not in BENEFITS)})


def _read_posting_form(request: HttpRequest, action: str, employer: Employer | None) -> PostingForm:
    post = request.POST
    form = PostingForm(nonce=(post.get("nonce") or "")[:40], employer=employer,
                       values={k: (post.get(k) or "")[:3000].strip() for k in TEXT_FIELDS},
                       benefits=[b for b in post.getlist("benefit") if b in BENEFITS],
                       occupation_q=(post.get("occupation_q") or "")[:60].strip(),
                       place_chain=lookups.place_chain(post.getlist("work")[:6]))
    if action != "occupation_clear":
        form.occupation = lookups.occupation_get(post.get("occupation_code") or "")
    if form.occupation is None and form.occupation_q and action in ("occupation_search", "refresh"):
        form.occupation_results, form.occupation_search_error = _search(lookups.occupation_search, form.occupation_q)
    return form


def _posting_page(request: HttpRequest, form: PostingForm, *, posting: JobPosting | None = None,
                  errors: dict | None = None, status: int = 200) -> HttpResponse:
    errors = errors or {}
    today = timezone.localdate()
    context = {"form": form, "posting": posting, "errors": errors, "benefit_options": BENEFITS,
               "error_list": [(s, POST_LABELS[s], errors[s]) for s in POST_SLOTS if s in errors],
               "educations": Education.choices,
               "place": place_search_context(form.place_chain, name="work", label="工作地点",
                                             hint="选到区县或乡镇（街道）", error=errors.get("division_code", "")),
               "min_date": (today + datetime.timedelta(days=1)).isoformat(),
               "max_date": (today + datetime.timedelta(days=services.MAX_EXPIRY_DAYS)).isoformat(),
               "default_date": (today + datetime.timedelta(days=30)).isoformat()}
    return render(request, "portal/jobs/recruit_form.html", context, status=status)


def _verified_employer(request: HttpRequest, employer_id) -> Employer | None:
    try:
        pk = int(employer_id)
    except (TypeError, ValueError):
        return None
    recruiter = services.verified_recruiter(request.user, pk)
    return recruiter.employer if recruiter is not None else None


@never_cache
@worker_required
@require_http_methods(["GET", "POST"])
def recruit_new(request: HttpRequest) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    employer = _verified_employer(request, source.get("employer"))
    if employer is None:
        return _error_page(request, NotFound("招聘单位"), reverse("portal:recruit_home"))
    if request.method == "GET":
        return _posting_page(request, PostingForm(
            nonce=secrets.token_hex(16), employer=employer, place_chain=lookups.place_chain_of(employer.division_id),
            values={"headcount": "1", "expires_on": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
                    "contact_name": request.user.display_name or ""}))
    action = request.POST.get("action", "refresh")[:40]
    form = _read_posting_form(request, action, employer)
    if action != "submit":
        return _posting_page(request, form)
    try:
        posting = services.posting_create(actor=request.user, employer_id=employer.pk, data=form.data())
    except ServiceError as error:
        if error.code == "posting_duplicate":  # a second tap of the same form: the first one's posting
            title = normalize_name(form.values.get("title", "").replace("\x00", ""))
            same = JobPosting.objects.filter(employer=employer, title=title, created_by=request.user,
                                             created_at__gte=timezone.now() - datetime.timedelta(minutes=5)).first()
            if same is not None:
                return redirect("portal:recruit_posting", same.pk)
        slot = error.field if error.field in POST_SLOTS else "form"
        return _posting_page(request, form, errors={slot: error.message}, status=error.status)
    messages.success(request, f"“{posting.title}”已提交，{posting.org.name}审核通过后发布。"
                     if posting.status == PostingStatus.PENDING else f"“{posting.title}”已发布。")
    return redirect("portal:recruit_posting", posting.pk)


@never_cache
@worker_required
@require_http_methods(["GET", "POST"])
def recruit_edit(request: HttpRequest, posting_id: int) -> HttpResponse:
    try:
        posting = _managed_posting(request, posting_id)
    except NotFound as error:
        return _error_page(request, error, reverse("portal:recruit_home"))
    if request.method == "GET":
        return _posting_page(request, _form_from_posting(posting), posting=posting)
    action = request.POST.get("action", "refresh")[:40]
    form = _read_posting_form(request, action, posting.employer)
    if action != "submit":
        return _posting_page(request, form, posting=posting)
    data = form.data()
    if not data["contact_phone"]:
        data.pop("contact_phone")  # left empty: keep the stored number (it is shown masked only)
    try:
        posting = services.posting_update(actor=request.user, posting=posting, data=data)
    except ServiceError as error:
        slot = error.field if error.field in POST_SLOTS else "form"
        return _posting_page(request, form, posting=posting, errors={slot: error.message}, status=error.status)
    messages.success(request, "已保存。" + ("修改后的岗位需工会重新审核。" if posting.status == PostingStatus.PENDING else ""))
    return redirect("portal:recruit_posting", posting.pk)


# --- A posting: applications, candidates, close / renew -------------------------------------------


@never_cache
@worker_required
@require_GET
def recruit_posting(request: HttpRequest, posting_id: int) -> HttpResponse:
    try:
        posting = _managed_posting(request, posting_id)
    except NotFound as error:
        return _error_page(request, error, reverse("portal:recruit_home"))
    applications = list(selectors.applications_for_posting(actor=request.user, posting=posting)[:300])
    for a in applications:
        a.moves = [(s.value, MOVE_LABELS[s]) for s in MOVES.get(ApplicationStatus(a.status), [])]
    candidates = []
    if posting.status == PostingStatus.LIVE:
        applied = {a.seeker_id for a in applications}
        candidates = [(s, m) for s, m in selectors.recommend_seekers(posting=posting, limit=10) if s.pk not in applied]
        for seeker, _m in candidates:
            seeker.name_masked = mask_name(seeker.name)
    today = timezone.localdate()
    return render(request, "portal/jobs/recruit_posting.html", {
        "job": posting, "applications": applications, "candidates": candidates,
        "can_renew": posting.status in (PostingStatus.CLOSED, PostingStatus.EXPIRED, PostingStatus.LIVE),
        "renew_default": (max(today, posting.expires_on) + datetime.timedelta(days=30)).isoformat()
        if (posting.expires_on - today).days < services.MAX_EXPIRY_DAYS - 30 else posting.expires_on.isoformat(),
        "max_date": (today + datetime.timedelta(days=services.MAX_EXPIRY_DAYS)).isoformat(),
        "now_local": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "interview_default": (timezone.localtime() + datetime.timedelta(days=1)).replace(
            hour=10, minute=0).strftime("%Y-%m-%dT%H:%M")})


@worker_required
@require_POST
def recruit_move(request: HttpRequest, application_id: int) -> HttpResponse:
    try:
        application = selectors.application_get(actor=request.user, application_id=application_id)
    except NotFound as error:
        return _error_page(request, error, reverse("portal:recruit_home"))
    back = reverse("portal:recruit_posting", args=[application.posting_id]) + f"#a{application.pk}"
    to = (request.POST.get("status") or "")[:20]
    if application.status == to:  # a double tap: already done
        return redirect(back)
    try:
        services.application_move(actor=request.user, application=application, to=to,
                                  note=(request.POST.get("note") or "")[:400],
                                  interview_at=request.POST.get("interview_at") or None,
                                  interview_place=(request.POST.get("interview_place") or "")[:250])
    except ServiceError as error:
        if JobApplication.objects.filter(pk=application.pk, status=to).exists():
            return redirect(back)  # two taps at once: the other one did it
        messages.error(request, f"{application.seeker.name}：{error.message}")
        return redirect(back)
    messages.success(request, f"{application.seeker.name}：{ApplicationStatus(to).label}，已通知求职者。")
    return redirect(back)


@worker_required
@require_POST
def recruit_close(request: HttpRequest, posting_id: int) -> HttpResponse:
    try:
        posting = _managed_posting(request, posting_id)
        if posting.status != PostingStatus.CLOSED:
            services.posting_close(actor=request.user, posting=posting, reason=(request.POST.get("reason") or "")[:300])
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "岗位已关闭，不再接受投递。")
    return redirect("portal:recruit_posting", posting_id)


@worker_required
@require_POST
def recruit_renew(request: HttpRequest, posting_id: int) -> HttpResponse:
    try:
        posting = _managed_posting(request, posting_id)
        posting = services.posting_renew(actor=request.user, posting=posting,
                                         expires_on=(request.POST.get("expires_on") or "")[:10])
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"已续期至{posting.expires_on:%Y年%m月%d日}。" +
                         ("修改过的内容需工会审核后重新发布。" if posting.status == PostingStatus.PENDING else ""))
    return redirect("portal:recruit_posting", posting_id)
