"""Employment-help cloud API (就业帮扶云). Job search and job pages are public; a signed-in worker
also gets the reasons a job suits them. Recruiters (verified for their employer) and union staff over
the employer post and move applications; staff over the union where help was asked work the help
ledger; staff over a fair's union run it. Every id is resolved inside what the caller may see (404
otherwise) and every write goes through a service in services.py."""

from __future__ import annotations

import datetime

from django.http import StreamingHttpResponse
from ninja import Field, Query, Router, Schema, Status

from gonghui.accounts.api import ErrorOut
from gonghui.accounts.models import User
from gonghui.analytics.rollups import rollup_read
from gonghui.casedesk.api import UnionRef
from gonghui.core.api import BearerAuth
from gonghui.core.errors import NotFound, PermissionDenied, ValidationFailed
from gonghui.core.pii import mask_name
from gonghui.orgs.models import ROLE_RANK, OrgUnit, Role
from gonghui.orgs.selectors import actor_scope, org_get

from . import exports, selectors, services
from .models import (
    ApplicationStatus,
    FairRegistration,
    HelpGroup,
    HelpRequest,
    JobApplication,
    JobFair,
    JobPosting,
    PostingStatus,
    Recruiter,
    SeekerProfile,
)

router = Router(tags=["就业帮扶云"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 429: ErrorOut}


def _anyone(request):
    """Public pages: a signed-in caller is known (for their match reasons), an anonymous one passes."""
    return True


PUBLIC = [BearerAuth(), _anyone]


# --- Schemas --------------------------------------------------------------------------------------


class EmployerRef(Schema):
    id: int
    name: str


class PlaceRef(Schema):
    code: str
    name: str


class OccupationRef(Schema):
    code: str
    name: str


class JobOut(Schema):
    id: int
    title: str
    employer: EmployerRef
    occupation: OccupationRef
    place: PlaceRef
    address: str
    salary_min: int = Field(..., description="月薪下限（元）")
    salary_max: int = Field(..., description="月薪上限（元）")
    headcount: int
    education: str
    education_label: str
    experience_years: int
    skills: list[str]
    benefits: list[str]
    status: str
    status_label: str
    expires_on: datetime.date
    published_at: datetime.datetime | None

    @staticmethod
    def resolve_employer(obj: JobPosting) -> dict:
        return {"id": obj.employer_id, "name": obj.employer.name}

    @staticmethod
    def resolve_occupation(obj: JobPosting) -> dict:
        return {"code": obj.occupation_id, "name": obj.occupation.name}

    @staticmethod
    def resolve_place(obj: JobPosting) -> dict:
        return {"code": obj.division_id, "name": obj.division.name}

    @staticmethod
    def resolve_education_label(obj: JobPosting) -> str:
        return obj.get_education_display()

    @staticmethod
    def resolve_status_label(obj: JobPosting) -> str:
        return obj.get_status_display()


class MatchOut(Schema):
    score: float = Field(..., description="匹配度 0–1（职业、地点、薪资、技能、新鲜度加权）")
    parts: dict[str, float]
    reasons: list[str]


class JobDetailOut(JobOut):
    description: str
    contact_name: str
    contact_phone_masked: str
    union: UnionRef
    reject_reason: str
    match: MatchOut | None = Field(None, description="登录职工：为什么适合您")
    applied: bool = False

    @staticmethod
    def resolve_contact_phone_masked(obj: JobPosting) -> str:
        return obj.phone_masked

    @staticmethod
    def resolve_union(obj: JobPosting) -> dict:
        return {"id": obj.org_id, "name": obj.org.name}


class JobPage(Schema):
    items: list[JobOut]
    next_offset: int | None


class JobIn(Schema):
    employer_id: int
    title: str
    occupation: str = Field(..., description="职业代码（细类），如 4-02-07-08 快递员")
    division_code: str = Field(..., description="工作地点：区县或乡镇街道代码")
    address: str = ""
    salary_min: int | str | None = None
    salary_max: int | str | None = None
    headcount: int | str | None = 1
    education: str | None = None
    experience_years: int | str | None = 0
    skills: list[str] | str | None = None
    benefits: list[str] | str | None = None
    description: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    expires_on: str | None = Field(None, description="截止日期，默认30天后，最长180天")


class JobPatch(Schema):
    title: str | None = None
    occupation: str | None = None
    division_code: str | None = None
    address: str | None = None
    salary_min: int | str | None = None
    salary_max: int | str | None = None
    headcount: int | str | None = None
    education: str | None = None
    experience_years: int | str | None = None
    skills: list[str] | str | None = None
    benefits: list[str] | str | None = None
    description: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    expires_on: str | None = None


class ModerateIn(Schema):
    approve: bool
    reason: str = ""


class ReasonIn(Schema):
    reason: str = ""


class RenewIn(Schema):
    expires_on: str


class RecommendationOut(Schema):
    job: JobOut
    score: float
    reasons: list[str]


class SeekerBrief(Schema):
    id: int
    name: str
    education_label: str
    experience_years: int
    salary_expected: int
    skills: list[str]
    about: str


class CandidateOut(Schema):
    seeker: SeekerBrief
    score: float
    reasons: list[str]


class ApplyIn(Schema):
    note: str = ""
    fair_id: int | None = None


class EventOut(Schema):
    from_status: str
    to_status: str
    to_label: str
    note: str
    created_at: datetime.datetime

    @staticmethod
    def resolve_to_label(obj) -> str:
        return ApplicationStatus(obj.to_status).label


class ApplicationOut(Schema):
    id: int
    job: JobOut
    status: str
    status_label: str
    score: float
    note: str
    interview_at: datetime.datetime | None
    interview_place: str
    created_at: datetime.datetime
    events: list[EventOut]

    @staticmethod
    def resolve_job(obj: JobApplication) -> JobPosting:
        return obj.posting

    @staticmethod
    def resolve_status_label(obj: JobApplication) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_events(obj: JobApplication) -> list:
        return list(obj.events.all())


class ApplicantOut(Schema):
    id: int
    seeker: SeekerBrief = Field(..., description="投递者本人信息（已投递，不脱敏）")
    status: str
    status_label: str
    score: float
    note: str
    created_at: datetime.datetime

    @staticmethod
    def resolve_status_label(obj: JobApplication) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_seeker(obj: JobApplication) -> dict:
        return _seeker_brief(obj.seeker, masked=False)


class MoveIn(Schema):
    status: str = Field(..., description="viewed / interview / offer / hired / declined")
    note: str = ""
    interview_at: str | None = None
    interview_place: str = ""


class SeekerIn(Schema):
    name: str | None = None
    occupations: list[str] = Field(..., description="想做的职业（细类代码，最多5个）")
    places: list[str] = Field(..., description="想去的地点（区县或街道代码，最多5个）")
    salary_expected: int | str | None = None
    skills: list[str] | str | None = None
    education: str | None = None
    experience_years: int | str | None = None
    about: str = ""
    available_from: str | None = None
    help_group: str | None = None
    visible_to_employers: bool = False
    status: str | None = None


class SeekerOut(Schema):
    id: int
    name: str
    occupations: list[OccupationRef]
    places: list[PlaceRef]
    salary_expected: int
    skills: list[str]
    education: str
    experience_years: int
    about: str
    available_from: datetime.date | None
    help_group: str
    help_group_label: str
    visible_to_employers: bool
    status: str

    @staticmethod
    def resolve_occupations(obj: SeekerProfile) -> list[dict]:
        seen = {}
        for w in obj.wishes.select_related("occupation"):
            seen.setdefault(w.occupation_id, {"code": w.occupation_id, "name": w.occupation.name})
        return list(seen.values())

    @staticmethod
    def resolve_places(obj: SeekerProfile) -> list[dict]:
        seen = {}
        for w in obj.wishes.select_related("division"):
            seen.setdefault(w.division_id, {"code": w.division_id, "name": w.division.name})
        return list(seen.values())

    @staticmethod
    def resolve_help_group_label(obj: SeekerProfile) -> str:
        return obj.get_help_group_display()


class RecruiterIn(Schema):
    uscc: str
    name: str
    title: str = ""
    employer_name: str = Field("", description="单位尚未在工会登记时填写")
    division_code: str | None = Field(None, description="单位尚未登记时：所在区县或街道")
    address: str = ""


class RecruiterOut(Schema):
    id: int
    uscc: str
    employer_name: str
    employer_id: int | None
    name: str
    title: str
    phone_masked: str
    status: str
    status_label: str
    reason: str
    union: UnionRef
    created_at: datetime.datetime

    @staticmethod
    def resolve_status_label(obj: Recruiter) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_union(obj: Recruiter) -> dict:
        return {"id": obj.org_id, "name": obj.org.name}


class DecideIn(Schema):
    approve: bool
    reason: str = ""


class HelpIn(Schema):
    division_code: str = Field(..., description="想在哪里就业（区县或街道），由当地工会受理")
    help_group: str = Field(..., description="jobless / between_jobs / hardship / graduate / flexible / migrant")
    needs: str
    name: str = ""


class ServiceOut(Schema):
    kind: str
    kind_label: str
    note: str
    served_on: datetime.date
    posting_id: int | None

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return obj.get_kind_display()


class HelpOut(Schema):
    id: int
    number: str
    name: str
    help_group: str
    help_group_label: str
    needs: str
    status: str
    status_label: str
    union: UnionRef
    route_reason: str
    assigned_to: str | None
    placed_employer: str
    placed_on: datetime.date | None
    placed_salary: int | None
    close_reason: str
    created_at: datetime.datetime
    services: list[ServiceOut]

    @staticmethod
    def resolve_help_group_label(obj: HelpRequest) -> str:
        return obj.get_help_group_display()

    @staticmethod
    def resolve_status_label(obj: HelpRequest) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_union(obj: HelpRequest) -> dict:
        return {"id": obj.org_id, "name": obj.org.name}

    @staticmethod
    def resolve_assigned_to(obj: HelpRequest) -> str | None:
        return (obj.assigned_to.display_name or obj.assigned_to.username) if obj.assigned_to_id else None

    @staticmethod
    def resolve_services(obj: HelpRequest) -> list:
        return list(obj.services.all())


class HelpPage(Schema):
    items: list[HelpOut]
    next_offset: int | None


class RecruiterPage(Schema):
    items: list[RecruiterOut]
    next_offset: int | None


class PostingPage(Schema):
    items: list[JobOut]
    next_offset: int | None


def _page(qs, offset: int, limit: int) -> dict:
    limit, offset = max(1, min(int(limit), 100)), max(0, int(offset))
    rows = list(qs[offset:offset + limit + 1])
    return {"items": rows[:limit], "next_offset": offset + limit if len(rows) > limit else None}


class AssignIn(Schema):
    staff_id: int


class ServiceIn(Schema):
    kind: str = Field(..., description="policy / guidance / referral / training / internship / other")
    note: str
    posting_id: int | None = None
    served_on: str | None = None


class HelpCloseIn(Schema):
    placed: bool
    employer: str = ""
    posting_id: int | None = None
    placed_on: str | None = None
    salary: int | str | None = None
    reason: str = ""


class FairIn(Schema):
    org_id: int
    title: str
    mode: str = "onsite"
    division_code: str
    venue: str = ""
    starts_at: str
    ends_at: str
    capacity: int | str | None = None
    description: str = ""


class FairOut(Schema):
    id: int
    title: str
    mode: str
    mode_label: str
    place: PlaceRef
    venue: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    capacity: int | None
    status: str
    union: UnionRef
    description: str

    @staticmethod
    def resolve_mode_label(obj: JobFair) -> str:
        return obj.get_mode_display()

    @staticmethod
    def resolve_place(obj: JobFair) -> dict:
        return {"code": obj.division_id, "name": obj.division.name}

    @staticmethod
    def resolve_union(obj: JobFair) -> dict:
        return {"id": obj.org_id, "name": obj.org.name}


class BoothIn(Schema):
    employer_id: int
    posting_ids: list[int] = []
    booth_no: str = ""


class BoothOut(Schema):
    employer: EmployerRef
    booth_no: str
    jobs: list[JobOut]


class FairDetailOut(FairOut):
    booths: list[BoothOut]

    @staticmethod
    def resolve_booths(obj: JobFair) -> list[dict]:
        return [{"employer": {"id": b.employer_id, "name": b.employer.name}, "booth_no": b.booth_no,
                 "jobs": [p for p in b.postings.select_related("employer", "occupation", "division")
                          if p.status == PostingStatus.LIVE]}
                for b in obj.booths.select_related("employer").order_by("booth_no", "id")]


class RegistrationOut(Schema):
    fair_id: int
    code: str = Field(..., description="签到码（在手机上显示为二维码）")
    checked_in_at: datetime.datetime | None


class CheckinIn(Schema):
    code: str


class CheckinOut(Schema):
    name: str
    checked_in_at: datetime.datetime


class FairResultsOut(Schema):
    booths: int
    postings: int
    registered: int
    checked_in: int
    applications: int
    interviews: int
    offers: int
    hires: int


class StatsOut(Schema):
    node: UnionRef
    jobs_live: int
    openings_live: int
    jobs_pending: int
    seekers_active: int
    seekers_by_group: dict[str, int]
    applications: int
    hires: int
    help_total: int
    help_open: int
    help_placed: int
    days_to_placement_avg: float | None


# --- Helpers --------------------------------------------------------------------------------------


def _worker(request) -> User:
    if not request.user.is_authenticated or request.user.kind != User.Kind.WORKER:
        raise PermissionDenied("该功能仅限职工本人使用")
    return request.user


def _staff(request) -> User:
    if request.user.kind == User.Kind.WORKER:
        raise PermissionDenied("仅限工会工作人员使用")
    return request.user


def _job_for_manager(request, job_id) -> JobPosting:
    posting = selectors.posting_get(actor=request.user, posting_id=job_id)
    if not services.can_manage_employer(request.user, posting.employer):
        raise NotFound("岗位")
    return posting


def _seeker_brief(seeker: SeekerProfile, masked: bool) -> dict:
    return {"id": seeker.pk, "name": mask_name(seeker.name) if masked else seeker.name,
            "education_label": seeker.get_education_display(), "experience_years": seeker.experience_years,
            "salary_expected": seeker.salary_expected, "skills": seeker.skills, "about": seeker.about}


def _detail(request, posting: JobPosting) -> JobPosting:
    """The posting, with what the signed-in worker reading it gets: why it suits them, and whether
    they have applied (attributes read by JobDetailOut)."""
    posting.match, posting.applied = None, False
    user = request.user
    if getattr(user, "is_authenticated", False) and user.kind == User.Kind.WORKER:
        profile = SeekerProfile.objects.filter(user=user).prefetch_related("wishes").first()
        match = selectors.match_for(profile=profile, posting=posting)
        if match is not None:
            posting.match = {"score": match.score, "parts": match.parts, "reasons": match.reasons}
        posting.applied = JobApplication.objects.filter(posting=posting, user=user).exists()
    return posting


def _help_get(request, request_id) -> HelpRequest:
    return selectors.help_get(actor=request.user, request_id=request_id)


def _fair(request, fair_id) -> JobFair:
    return selectors.fair_get(fair_id)


def _staff_fair(request, fair_id) -> JobFair:
    """A fair of the caller's subtree (404 otherwise, as for any id outside it)."""
    fair = selectors.fair_get(fair_id)
    if actor_scope(_staff(request)).rank_at(fair.org_path) < ROLE_RANK[Role.VIEWER]:
        raise NotFound("招聘会")
    return fair


def _staff_posting(request, job_id) -> JobPosting:
    """A posting of an employer in the caller's subtree (404 otherwise, live or not)."""
    posting = selectors.posting_get(actor=_staff(request), posting_id=job_id)
    if actor_scope(request.user).rank_at(posting.org_path) < ROLE_RANK[Role.VIEWER]:
        raise NotFound("岗位")
    return posting


def _staff_help(request, request_id) -> HelpRequest:
    help_request = selectors.help_get(actor=_staff(request), request_id=request_id)
    if actor_scope(request.user).rank_at(help_request.org_path) < ROLE_RANK[Role.VIEWER]:
        raise NotFound("帮扶申请")
    return help_request


# --- Jobs -----------------------------------------------------------------------------------------


@router.get("/jobs/search", auth=PUBLIC, response={200: JobPage, **ERRORS},
            summary="搜索岗位（关键词中文分词；职业、地点任一级；最低月薪；离所选地点近的在前，新发布的在前）")
def job_search(request, q: str = "", occupation: str = "", division: str = "", salary_min: int | None = None,
               near: str = Query("", description="按离这个地点的远近排序（默认同 division）"),
               offset: int = 0, limit: int = 20):
    offset, limit = max(0, min(int(offset), 1000)), max(1, min(int(limit), 49))
    rows = selectors.job_search(q=q, occupation=occupation, division=division, salary_min=salary_min, near=near,
                                limit=limit + 1, offset=offset)
    more = len(rows) > limit
    return {"items": rows[:limit], "next_offset": offset + limit if more else None}


@router.get("/jobs/{job_id}", auth=PUBLIC, response={200: JobDetailOut, **ERRORS},
            summary="岗位详情（登录职工另有“为什么适合您”）")
def job_detail(request, job_id: str):
    user = request.user if getattr(request.user, "is_authenticated", False) else None
    posting = selectors.posting_get(actor=user, posting_id=job_id) if user else \
        selectors.posting_public_get(job_id)
    if posting.status != PostingStatus.LIVE and not (user and services.can_manage_employer(user, posting.employer)):
        raise NotFound("岗位")
    return _detail(request, posting)


@router.post("/jobs", response={201: JobDetailOut, **ERRORS},
             summary="发布岗位（招聘方：待工会审核；单位所属工会的工作人员：直接发布）")
def job_create(request, payload: JobIn):
    data = payload.dict(exclude={"employer_id"})
    posting = services.posting_create(actor=request.user, employer_id=payload.employer_id, data=data)
    return Status(201, _detail(request, selectors.posting_get(actor=request.user, posting_id=posting.pk)))


@router.patch("/jobs/{job_id}", response={200: JobDetailOut, **ERRORS}, summary="修改岗位（招聘方修改后重新审核）")
def job_update(request, job_id: str, payload: JobPatch):
    posting = _job_for_manager(request, job_id)
    services.posting_update(actor=request.user, posting=posting, data=payload.dict(exclude_unset=True))
    return _detail(request, selectors.posting_get(actor=request.user, posting_id=posting.pk))


@router.post("/jobs/{job_id}/moderate", response={200: JobDetailOut, **ERRORS},
             summary="审核岗位（单位所属工会及上级的工作人员；不通过须说明原因）")
def job_moderate(request, job_id: str, payload: ModerateIn):
    posting = _staff_posting(request, job_id)
    services.posting_moderate(actor=request.user, posting=posting, approve=payload.approve, reason=payload.reason)
    return _detail(request, selectors.posting_get(actor=request.user, posting_id=posting.pk))


@router.post("/jobs/{job_id}/close", response={200: JobOut, **ERRORS}, summary="关闭岗位（招满或不再招聘）")
def job_close(request, job_id: str, payload: ReasonIn):
    return services.posting_close(actor=request.user, posting=_job_for_manager(request, job_id), reason=payload.reason)


@router.post("/jobs/{job_id}/renew", response={200: JobOut, **ERRORS}, summary="续期（已关闭或过期的岗位重新招聘）")
def job_renew(request, job_id: str, payload: RenewIn):
    return services.posting_renew(actor=request.user, posting=_job_for_manager(request, job_id),
                                  expires_on=payload.expires_on)


@router.post("/jobs/{job_id}/apply", response={201: ApplicationOut, **ERRORS}, summary="一键投递（用求职档案）")
def job_apply(request, job_id: str, payload: ApplyIn):
    user = _worker(request)
    posting = selectors.posting_public_get(job_id)
    fair = selectors.fair_get(payload.fair_id) if payload.fair_id else None
    application = services.application_submit(actor=user, posting=posting, note=payload.note, fair=fair)
    return Status(201, application)


@router.get("/jobs/{job_id}/candidates", response={200: list[CandidateOut], **ERRORS},
            summary="为岗位推荐求职者（只含同意用人单位查看的求职者；姓名脱敏）")
def job_candidates(request, job_id: str, limit: int = 20):
    posting = _job_for_manager(request, job_id)
    if posting.status != PostingStatus.LIVE:  # seekers are shown for jobs that are really open
        raise ValidationFailed("posting_not_live", "岗位审核通过、正在招聘时才能查看推荐的求职者", "job_id")
    ranked = selectors.recommend_seekers(posting=posting, limit=max(1, min(limit, 50)))
    return [{"seeker": _seeker_brief(s, masked=True), "score": m.score, "reasons": m.reasons} for s, m in ranked]


@router.get("/jobs/{job_id}/applications", response={200: list[ApplicantOut], **ERRORS},
            summary="岗位收到的申请（匹配度高的在前）")
def job_applications(request, job_id: str):
    posting = _job_for_manager(request, job_id)
    return list(selectors.applications_for_posting(actor=request.user, posting=posting)[:500])


@router.post("/job-applications/{application_id}/move", response={200: ApplicationOut, **ERRORS},
             summary="处理申请：已查看 → 邀请面试 → 拟录用 → 已入职 / 不合适")
def application_move(request, application_id: str, payload: MoveIn):
    application = selectors.application_get(actor=request.user, application_id=application_id)
    return services.application_move(actor=request.user, application=application, to=payload.status,
                                     note=payload.note, interview_at=payload.interview_at,
                                     interview_place=payload.interview_place)


@router.get("/me/job-applications", response={200: list[ApplicationOut], **ERRORS}, summary="我的投递及进度")
def my_applications(request):
    return list(selectors.my_applications(actor=_worker(request)).prefetch_related("events")[:200])


@router.post("/me/job-applications/{application_id}/withdraw", response={200: ApplicationOut, **ERRORS},
             summary="撤回投递")
def application_withdraw(request, application_id: str):
    user = _worker(request)
    application = selectors.application_get(actor=user, application_id=application_id)
    return services.application_withdraw(actor=user, application=application)


@router.get("/me/job-recommendations", response={200: list[RecommendationOut], **ERRORS},
            summary="为我推荐的岗位 [{job, score, reasons}]")
def my_recommendations(request, limit: int = 20):
    user = _worker(request)
    profile = SeekerProfile.objects.filter(user=user).prefetch_related("wishes").first()
    if profile is None:
        return []
    ranked = selectors.recommend_jobs(profile=profile, limit=max(1, min(limit, 50)))
    return [{"job": p, "score": m.score, "reasons": m.reasons} for p, m in ranked]


@router.get("/me/seeker-profile", response={200: SeekerOut, **ERRORS}, summary="我的求职档案")
def my_seeker(request):
    profile = SeekerProfile.objects.filter(user=_worker(request)).first()
    if profile is None:
        raise NotFound("求职档案")
    return profile


@router.put("/me/seeker-profile", response={200: SeekerOut, **ERRORS}, summary="填写或修改求职档案")
def my_seeker_save(request, payload: SeekerIn):
    return services.seeker_save(actor=_worker(request), data=payload.dict())


# --- Recruiters -----------------------------------------------------------------------------------


@router.post("/employment/recruiters", response={201: RecruiterOut, **ERRORS},
             summary="申请成为单位的招聘方（按统一社会信用代码；由单位所属工会核验）")
def recruiter_claim(request, payload: RecruiterIn):
    recruiter = services.recruiter_claim(actor=_worker(request), **payload.dict())
    return Status(201, recruiter)


@router.get("/me/recruiter-roles", response={200: list[RecruiterOut], **ERRORS}, summary="我的招聘方认证")
def my_recruiter_roles(request):
    return list(Recruiter.objects.filter(user=_worker(request)).select_related("org").order_by("-id"))


@router.get("/employment/recruiters", response={200: RecruiterPage, **ERRORS},
            summary="招聘方认证申请（本级及下级；status=pending 为待核验）")
def recruiters(request, status: str | None = None, offset: int = 0, limit: int = 50):
    return _page(selectors.recruiters_for_staff(actor=_staff(request), status=status), offset, limit)


@router.post("/employment/recruiters/{recruiter_id}/decide", response={200: RecruiterOut, **ERRORS},
             summary="核验招聘方（通过时单位尚未登记的，同时登记该单位）")
def recruiter_decide(request, recruiter_id: str, payload: DecideIn):
    recruiter = selectors.recruiter_get(actor=_staff(request), recruiter_id=recruiter_id)
    return services.recruiter_decide(actor=request.user, recruiter=recruiter, approve=payload.approve,
                                     reason=payload.reason)


@router.get("/employment/postings", response={200: PostingPage, **ERRORS},
            summary="辖区内的岗位（本级及下级；status=pending 为待审核）")
def staff_postings(request, status: str | None = None, offset: int = 0, limit: int = 50):
    return _page(selectors.postings_for_staff(actor=_staff(request), status=status), offset, limit)


# --- Employment help ------------------------------------------------------------------------------


@router.post("/employment/help-requests", response={201: HelpOut, **ERRORS},
             summary="申请就业帮扶（由想去就业地的工会受理）")
def help_submit(request, payload: HelpIn):
    return Status(201, services.help_request_submit(actor=_worker(request), **payload.dict()))


@router.get("/me/help-requests", response={200: list[HelpOut], **ERRORS}, summary="我的就业帮扶申请")
def my_help(request):
    return list(HelpRequest.objects.filter(user=_worker(request)).select_related("org", "assigned_to")
                .order_by("-created_at")[:50])


@router.get("/employment/help-requests", response={200: HelpPage, **ERRORS},
            summary="就业帮扶台账（本级及下级）")
def help_ledger(request, status: str | None = None, group: str | None = None, offset: int = 0, limit: int = 50):
    return _page(selectors.help_ledger(actor=_staff(request), status=status, group=group)
                 .prefetch_related("services"), offset, limit)


@router.get("/employment/help-requests/export", response={200: None, **ERRORS},
            summary="导出一个工会及其下级的就业帮扶台账（CSV）")
def help_export(request, node: int, status: str | None = None, group: str | None = None):
    user = _staff(request)
    org = org_get(actor=user, org_id=node)
    response = StreamingHttpResponse(exports.help_ledger_csv(actor=user, org=org, status=status, group=group),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="employment-help-ledger-{org.pk}.csv"'
    return response


@router.get("/employment/help-requests/{request_id}", response={200: HelpOut, **ERRORS},
            summary="帮扶申请详情（申请人本人，或受理工会及上级的工作人员）")
def help_detail(request, request_id: str):
    return _help_get(request, request_id)


@router.post("/employment/help-requests/{request_id}/assign", response={200: HelpOut, **ERRORS},
             summary="分派帮扶责任人")
def help_assign(request, request_id: str, payload: AssignIn):
    help_request = _staff_help(request, request_id)
    staff = User.objects.filter(pk=payload.staff_id, kind=User.Kind.STAFF).first()
    return services.help_assign(actor=request.user, request=help_request, staff=staff)


@router.post("/employment/help-requests/{request_id}/services", response={200: HelpOut, **ERRORS},
             summary="登记一次帮扶服务（政策咨询、职业指导、岗位推荐、技能培训、见习岗位）")
def help_service(request, request_id: str, payload: ServiceIn):
    help_request = _staff_help(request, request_id)
    services.help_service_log(actor=request.user, request=help_request, **payload.dict())
    return _help_get(request, request_id)


@router.post("/employment/help-requests/{request_id}/close", response={200: HelpOut, **ERRORS},
             summary="结束帮扶：已就业（单位、日期、月薪）或未就业（原因）")
def help_close(request, request_id: str, payload: HelpCloseIn):
    help_request = _staff_help(request, request_id)
    return services.help_close(actor=request.user, request=help_request, **payload.dict())


@router.get("/employment/stats", response={200: StatsOut, **ERRORS},
            summary="就业帮扶数字（汇总表：在招岗位、求职者、投递、就业、帮扶时长）")
def employment_stats(request, node: int | None = None):
    user = _staff(request)
    org = org_get(actor=user, org_id=node) if node else OrgUnit.objects.get(pk=actor_scope(user).roots[0]) \
        if actor_scope(user).roots else None
    if org is None:
        raise NotFound("工会组织")
    if not actor_scope(user).subtree_rank(org.path):  # subtree totals would tell what lies below
        raise PermissionDenied("就业帮扶统计需要对本级及下级的查看权限")
    r = rollup_read(org.pk)
    placed = r.get(services.HELP_PLACED, 0)
    return {"node": {"id": org.pk, "name": org.name}, "jobs_live": r.get(services.JOBS_LIVE, 0),
            "openings_live": r.get(services.OPENINGS_LIVE, 0), "jobs_pending": r.get(services.JOBS_PENDING, 0),
            "seekers_active": r.get(services.SEEKERS_ACTIVE, 0),
            "seekers_by_group": {g.value: r.get(services.seeker_group_metric(g.value), 0) for g in HelpGroup},
            "applications": r.get(services.APPLICATIONS, 0), "hires": r.get(services.HIRES, 0),
            "help_total": r.get(services.HELP_TOTAL, 0), "help_open": r.get(services.HELP_OPEN, 0),
            "help_placed": placed,
            "days_to_placement_avg": round(r.get(services.HELP_PLACED_DAYS, 0) / placed, 1) if placed else None}


# --- Job fairs ------------------------------------------------------------------------------------


@router.get("/job-fairs", auth=PUBLIC, response={200: list[FairOut], **ERRORS}, summary="近期招聘会")
def fairs(request, province: str | None = None):
    return list(selectors.fairs_visible(province=province).select_related("org")[:100])


@router.post("/job-fairs", response={201: FairOut, **ERRORS}, summary="举办招聘会（工会工作人员）")
def fair_create(request, payload: FairIn):
    user = _staff(request)
    org = org_get(actor=user, org_id=payload.org_id)
    return Status(201, services.fair_create(actor=user, org=org, data=payload.dict(exclude={"org_id"})))


@router.get("/job-fairs/{fair_id}", auth=PUBLIC, response={200: FairDetailOut, **ERRORS},
            summary="招聘会详情：参会单位展位及岗位")
def fair_detail(request, fair_id: str):
    return _fair(request, fair_id)


@router.post("/job-fairs/{fair_id}/booths", response={200: FairDetailOut, **ERRORS},
             summary="增加参会单位展位及岗位（举办工会工作人员，或该单位的招聘方）")
def fair_booth(request, fair_id: str, payload: BoothIn):
    fair = _staff_fair(request, fair_id) if request.user.kind != User.Kind.WORKER else _fair(request, fair_id)
    services.fair_booth_add(actor=request.user, fair=fair, **payload.dict())
    return fair


@router.post("/job-fairs/{fair_id}/register", response={200: RegistrationOut, **ERRORS},
             summary="职工报名，得到签到二维码（重复报名返回同一个）")
def fair_register(request, fair_id: str):
    registration = services.fair_register(actor=_worker(request), fair=_fair(request, fair_id))
    return {"fair_id": registration.fair_id, "code": registration.code, "checked_in_at": registration.checked_in_at}


@router.post("/job-fairs/{fair_id}/checkin", response={200: CheckinOut, **ERRORS},
             summary="现场扫码签到（举办工会工作人员）")
def fair_checkin(request, fair_id: str, payload: CheckinIn):
    registration: FairRegistration = services.fair_checkin(actor=request.user, fair=_staff_fair(request, fair_id),
                                                           code=payload.code)
    return {"name": mask_name(registration.user.display_name or "职工"), "checked_in_at": registration.checked_in_at}


@router.get("/job-fairs/{fair_id}/results", response={200: FairResultsOut, **ERRORS},
            summary="招聘会成效：报名、签到、投递、面试、录用、入职")
def fair_results(request, fair_id: str):
    return selectors.fair_results(_staff_fair(request, fair_id))


@router.post("/job-fairs/{fair_id}/cancel", response={200: FairOut, **ERRORS}, summary="取消招聘会（通知已报名职工）")
def fair_cancel(request, fair_id: str, payload: ReasonIn):
    return services.fair_cancel(actor=request.user, fair=_staff_fair(request, fair_id), reason=payload.reason)
