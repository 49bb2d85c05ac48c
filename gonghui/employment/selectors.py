"""Reads of the employment-help cloud: job search, recommendations both ways, and staff lists cut to
the actor's subtree.

Candidates for matching come from index ranges, not scans: a seeker's wishes (occupation group ×
city) pick live postings through `posting_minor_city` newest first, widened to the 中类 in the
province, or the city alone, when they give too few; a posting picks open seekers through
`wish_minor_city` the same way. Only the candidates are scored (matching.score) in Python.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from gonghui.core.errors import NotFound, ValidationFailed
from gonghui.orgs.models import ROLE_RANK, Division, Occupation, Role
from gonghui.orgs.selectors import actor_scope

from . import matching
from .models import (
    HelpRequest,
    JobApplication,
    JobFair,
    JobPosting,
    PostingStatus,
    Recruiter,
    SeekerProfile,
    SeekerWish,
)
from .services import can_manage_employer, posting_view, seeker_view
from .textindex import query_terms

CANDIDATES_PER_WISH = 80  # newest per (occupation group, city): freshness is part of the score
CANDIDATE_CAP = 600
SCORING_FIELDS = ("id", "occupation_id", "division_id", "salary_min", "salary_max", "education", "experience_years",
                  "skills", "published_at")


def live_postings() -> QuerySet[JobPosting]:
    return JobPosting.objects.filter(status=PostingStatus.LIVE, expires_on__gte=timezone.localdate())


def posting_public_get(posting_id) -> JobPosting:
    """A posting anyone may read: live ones (others only through posting_get)."""
    try:
        return live_postings().select_related("employer", "occupation", "division").get(pk=int(posting_id))
    except (JobPosting.DoesNotExist, TypeError, ValueError):
        raise NotFound("岗位") from None


def posting_get(*, actor, posting_id) -> JobPosting:
    """Any status, for who manages it: staff over the employer's union or its verified recruiter."""
    try:
        posting = JobPosting.objects.select_related("employer", "occupation", "division", "org").get(pk=int(posting_id))
    except (JobPosting.DoesNotExist, TypeError, ValueError):
        raise NotFound("岗位") from None
    if not can_manage_employer(actor, posting.employer):
        if posting.status == PostingStatus.LIVE:
            return posting
        raise NotFound("岗位")
    return posting


def postings_for_staff(*, actor, status: str | None = None) -> QuerySet[JobPosting]:
    qs = JobPosting.objects.filter(actor_scope(actor).q("org_path")).select_related("employer", "occupation",
                                                                                   "division")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def postings_for_recruiter(*, actor) -> QuerySet[JobPosting]:
    employers = Recruiter.objects.filter(user=actor, status=Recruiter.Status.VERIFIED).values("employer_id")
    return JobPosting.objects.filter(employer_id__in=employers).select_related("employer", "occupation",
                                                                              "division").order_by("-id")


def recruiters_for_staff(*, actor, status: str | None = None) -> QuerySet[Recruiter]:
    qs = Recruiter.objects.filter(actor_scope(actor).q("org_path")).select_related("employer", "division", "org")
    return (qs.filter(status=status) if status else qs).order_by("-id")


def recruiter_get(*, actor, recruiter_id) -> Recruiter:
    try:
        return recruiters_for_staff(actor=actor).get(pk=int(recruiter_id))
    except (Recruiter.DoesNotExist, TypeError, ValueError):
        raise NotFound("招聘方") from None


# --- Search ---------------------------------------------------------------------------------------

LIST_DEFER = ("search_head", "search_text", "description")


def job_search(*, q: str = "", occupation: str = "", division: str = "", salary_min=None, near: str = "",
               limit: int = 20, offset: int = 0) -> list[JobPosting]:
    """Live postings matching the keyword (jieba words, as bigrams), occupation (any level of the
    classification), place (any level) and lowest acceptable salary; nearest first by the division
    tree from `near` (or the place filter), then newest."""
    q = (q or "").strip()
    if len(q) > 50:
        raise ValidationFailed("q_too_long", "关键词不能超过50个字", "q")
    terms = query_terms(q) if q else []
    if q and not terms:
        raise ValidationFailed("q_too_short", "关键词至少两个字，例如“快递”“电工”", "q")
    qs = live_postings()
    facets: list[str] = []
    if occupation:
        occ = Occupation.objects.filter(code=str(occupation).strip()).first()
        if occ is None:
            raise ValidationFailed("occupation_unknown", f"职业代码 {occupation} 不存在", "occupation")
        facets.append("o" + occ.code.replace("-", ""))
    place = None
    if division:
        place = Division.objects.filter(code=str(division).strip()).first()
        if place is None:
            raise ValidationFailed("division_unknown", f"行政区划代码 {division} 不存在", "division")
        digits = {1: 2, 2: 4, 3: 6, 4: 9}[place.level]
        facets.append("p" + place.code[:digits])
    if salary_min not in (None, ""):
        try:
            floor = int(salary_min)
        except (TypeError, ValueError):
            raise ValidationFailed("salary_min_invalid", "最低月薪应为整数（元）", "salary_min") from None
        if not 0 <= floor <= 200_000:
            raise ValidationFailed("salary_min_invalid", "最低月薪应在0至200000元之间", "salary_min")
        qs = qs.filter(salary_max__gte=floor)
    words = terms + facets
    if words:
        if connection.vendor == "postgresql":
            qs = qs.extra(where=["search_vector @@ to_tsquery('simple', %s)"],
                          params=[" & ".join(w.replace("'", "") for w in words)])
        else:
            for w in words:
                qs = qs.filter(Q(search_head__contains=w) | Q(search_text__contains=w))
    origin = Division.objects.filter(code=str(near).strip()).first() if near else place
    limit = max(1, min(int(limit), 50))
    wanted = offset + limit
    if origin is None:
        rows = list(qs.select_related("employer", "occupation", "division").defer(*LIST_DEFER)
                    .order_by("-published_at", "-id")[:wanted])
        return rows[offset:]
    # Nearest first in two indexed queries: within the origin's county (its township first), then,
    # if the page is not full and the place filter allows, everywhere else by closeness (the city, the
    # province, then anywhere), newest first within each ring.
    county = origin.code[:6]
    closeness = Case(When(division_id=origin.code, then=Value(0)), When(county_code=county, then=Value(1)),
                     When(city_code=origin.code[:4], then=Value(2)),
                     When(division__code__startswith=origin.code[:2], then=Value(3)), default=Value(4),
                     output_field=IntegerField())
    base = qs.select_related("employer", "occupation", "division").defer(*LIST_DEFER).annotate(closeness=closeness)
    order = ("closeness", "-published_at", "-id")
    found = list(base.filter(county_code=county).order_by(*order)[:wanted]) if len(origin.code) >= 6 else []
    widest = {1: 2, 2: 4, 3: 6, 4: 9}[place.level] if place is not None else 0
    if len(found) < wanted and widest < 6:
        rest = base.exclude(county_code=county) if len(origin.code) >= 6 else base
        found.extend(rest.order_by(*order)[:wanted - len(found)])
    return found[offset:wanted]


# --- Recommendations ------------------------------------------------------------------------------


def _names(codes) -> dict[str, str]:
    codes = set(codes)
    names = dict(Occupation.objects.filter(code__in=codes).values_list("code", "name"))
    places = {c for c in codes if c.isdigit()}
    names.update(Division.objects.filter(code__in=places).values_list("code", "name"))
    return names


def _place_names(place_codes) -> dict[str, str]:
    """Names of the places a reason may mention: the township and its county, city, province."""
    wanted = set()
    for code in place_codes:
        wanted.update({code, code[:6], code[:4].ljust(6, "0"), code[:2].ljust(6, "0")})
    return dict(Division.objects.filter(code__in=wanted).values_list("code", "name"))


def recommend_jobs(*, profile: SeekerProfile, limit: int = 20) -> list[tuple[JobPosting, matching.Match]]:
    """Top postings for a seeker with their score and reasons."""
    view = seeker_view(profile)
    wishes = list(profile.wishes.all())
    if not wishes:
        return []
    base = live_postings()
    ids: dict[int, None] = {}
    pairs = sorted({(w.occ_minor, w.city_code) for w in wishes})
    for minor, city in pairs:
        for pk in base.filter(occ_minor=minor, city_code=city).order_by("-published_at") \
                .values_list("pk", flat=True)[:CANDIDATES_PER_WISH]:
            ids.setdefault(pk, None)
    if len(ids) < limit * 3:  # too few: the 中类 in the province, then anything in the cities
        for middle, province in sorted({(w.occ_middle, w.province_code) for w in wishes}):
            for pk in base.filter(occ_middle=middle, province_code=province).order_by("-published_at") \
                    .values_list("pk", flat=True)[:CANDIDATES_PER_WISH]:
                ids.setdefault(pk, None)
    if len(ids) < limit * 3:
        for city in sorted({w.city_code for w in wishes}):
            for pk in base.filter(city_code=city).order_by("-published_at").values_list("pk", flat=True)[:limit * 3]:
                ids.setdefault(pk, None)
    # Score lean rows (the fields the score reads), then load the winners in full.
    candidates = list(JobPosting.objects.filter(pk__in=list(ids)[:CANDIDATE_CAP]).values(*SCORING_FIELDS))
    names = _names(set(view.occupations) | {c["occupation_id"] for c in candidates})
    names.update(_place_names({c["division_id"] for c in candidates}))
    now = timezone.now()
    scored = []
    for c in candidates:
        posting = matching.PostingView(
            occupation=c["occupation_id"], place=c["division_id"], salary_min=c["salary_min"],
            salary_max=c["salary_max"], education=c["education"], experience_years=c["experience_years"],
            skills=list(c["skills"]), published_at=c["published_at"], occupation_name=names.get(c["occupation_id"], ""))
        scored.append((c, matching.score(view, posting, names=names, now=now)))
    scored.sort(key=lambda cm: (-cm[1].score, -(cm[0]["published_at"].timestamp() if cm[0]["published_at"] else 0),
                                cm[0]["id"]))
    top = scored[:limit]
    rows = JobPosting.objects.select_related("employer", "occupation", "division").defer(
        "search_head", "search_text").in_bulk([c["id"] for c, _m in top])
    return [(rows[c["id"]], m) for c, m in top if c["id"] in rows]


def recommend_seekers(*, posting: JobPosting, limit: int = 20) -> list[tuple[SeekerProfile, matching.Match]]:
    """Top open seekers (looking, and letting employers see them) for a posting."""
    view = posting_view(posting)
    ids: dict[int, None] = {}
    base = SeekerWish.objects.filter(open=True)
    for pk in base.filter(occ_minor=posting.occ_minor, city_code=posting.city_code).order_by("-updated_at") \
            .values_list("seeker_id", flat=True)[:CANDIDATES_PER_WISH * 2]:
        ids.setdefault(pk, None)
    if len(ids) < limit * 3:
        for pk in base.filter(occ_middle=posting.occ_middle, province_code=posting.province_code) \
                .order_by("-updated_at").values_list("seeker_id", flat=True)[:CANDIDATES_PER_WISH * 2]:
            ids.setdefault(pk, None)
    seekers = list(SeekerProfile.objects.filter(pk__in=list(ids)[:CANDIDATE_CAP], status=SeekerProfile.Status.ACTIVE,
                                                visible_to_employers=True)
                   .only("id", "name", "education", "experience_years", "salary_expected", "skills", "about",
                         "updated_at", "status", "help_group")
                   .prefetch_related(Prefetch("wishes", queryset=SeekerWish.objects.only(
                       "id", "seeker_id", "occupation_id", "division_id"))))
    names = _names([posting.occupation_id])
    names.update(_place_names([posting.division_id]))
    scored = []
    now = timezone.now()
    for seeker in seekers:
        match = matching.score(seeker_view(seeker), view, names=names, now=now)
        scored.append((seeker, match))
    scored.sort(key=lambda sm: (-sm[1].score, -sm[0].updated_at.timestamp(), sm[0].pk))
    return scored[:limit]


def match_for(*, profile: SeekerProfile | None, posting: JobPosting) -> matching.Match | None:
    """Why this posting suits the worker reading it (None without a profile)."""
    if profile is None:
        return None
    names = _names(seeker_view(profile).occupations)
    names.update(_place_names([posting.division_id]))
    return matching.score(seeker_view(profile), posting_view(posting), names=names)


# --- Applications, help, fairs --------------------------------------------------------------------


def applications_for_posting(*, actor, posting: JobPosting) -> QuerySet[JobApplication]:
    if not can_manage_employer(actor, posting.employer):
        raise NotFound("岗位")
    return posting.applications.select_related("seeker", "user").order_by("-score", "created_at")


def my_applications(*, actor) -> QuerySet[JobApplication]:
    return JobApplication.objects.filter(user=actor).select_related("posting", "posting__employer") \
        .order_by("-created_at")


def application_get(*, actor, application_id) -> JobApplication:
    """The worker's own, or one to a posting the actor manages."""
    try:
        application = JobApplication.objects.select_related("posting", "posting__employer", "seeker").get(
            pk=int(application_id))
    except (JobApplication.DoesNotExist, TypeError, ValueError):
        raise NotFound("求职申请") from None
    if application.user_id == getattr(actor, "pk", None) or can_manage_employer(actor, application.posting.employer):
        return application
    raise NotFound("求职申请")


def help_ledger(*, actor, status: str | None = None, group: str | None = None) -> QuerySet[HelpRequest]:
    """The union's employment-help ledger (帮扶台账): requests in the actor's subtree."""
    qs = HelpRequest.objects.filter(actor_scope(actor).q("org_path")).select_related("org", "assigned_to",
                                                                                    "division", "placed_posting")
    if status:
        qs = qs.filter(status=status)
    if group:
        qs = qs.filter(help_group=group)
    return qs.order_by("-created_at", "-id")


def help_get(*, actor, request_id) -> HelpRequest:
    try:
        request = HelpRequest.objects.select_related("org", "assigned_to", "division").get(pk=int(request_id))
    except (HelpRequest.DoesNotExist, TypeError, ValueError):
        raise NotFound("帮扶申请") from None
    if request.user_id == getattr(actor, "pk", None) or \
            actor_scope(actor).rank_at(request.org_path) >= ROLE_RANK[Role.VIEWER]:
        return request
    raise NotFound("帮扶申请")


def fairs_visible(*, province: str | None = None) -> QuerySet[JobFair]:
    qs = JobFair.objects.filter(status=JobFair.Status.OPEN, ends_at__gte=timezone.now()).select_related("division")
    if province:
        qs = qs.filter(province_code=province)
    return qs.order_by("starts_at")


def fair_get(fair_id) -> JobFair:
    try:
        return JobFair.objects.select_related("org", "division").get(pk=int(fair_id))
    except (JobFair.DoesNotExist, TypeError, ValueError):
        raise NotFound("招聘会") from None


def fair_results(fair: JobFair) -> dict:
    from django.db.models import Count

    from .models import ApplicationStatus

    apps = dict(fair.applications.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    reached = {s: 0 for s in ("interview", "offer", "hired")}
    # An application that went past a step counts for it too (an offer was interviewed).
    order = [ApplicationStatus.INTERVIEW, ApplicationStatus.OFFER, ApplicationStatus.HIRED]
    for i, step in enumerate(order):
        reached[step.value] = sum(apps.get(s.value, 0) for s in order[i:])
    return {
        "booths": fair.booths.count(),
        "postings": JobPosting.objects.filter(booths__fair=fair).distinct().count(),
        "registered": fair.registrations.count(),
        "checked_in": fair.registrations.filter(checked_in_at__isnull=False).count(),
        "applications": sum(apps.values()),
        "interviews": reached["interview"],
        "offers": reached["offer"],
        "hires": reached["hired"],
    }
