"""Writes of the employment-help cloud. Every service validates first (a Chinese message naming the
field to fix), then changes everything in one transaction with its audit record and rollup deltas.

Who may do what:
- a worker (any signed-in person) keeps their own seeker profile, applies, withdraws, asks for
  employment help, registers for fairs, and may claim to recruit for an employer;
- a verified recruiter posts, edits, closes and renews their employer's postings and moves the
  applications to them;
- union staff (role 工作人员 or above) whose subtree holds the employer verify recruiters, moderate
  and post for the employer; whose subtree holds a help request assign it and log services; whose
  subtree holds a fair run it (booths, check-in).
"""

from __future__ import annotations

import datetime
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone

from gonghui.analytics import rollups
from gonghui.casedesk.services import _count, clean_text
from gonghui.core import ratelimit
from gonghui.core.audit import audit_log
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.text import normalize_name
from gonghui.membership.models import Notice
from gonghui.membership.routing import territorial_union
from gonghui.orgs import validators as v
from gonghui.orgs.models import ROLE_RANK, Division, Employer, Occupation, OrgUnit, Role
from gonghui.orgs.selectors import actor_scope, require_rank

from . import matching
from .models import (
    APPLICATION_TRANSITIONS,
    POSTING_TRANSITIONS,
    ApplicationEvent,
    ApplicationStatus,
    Education,
    FairBooth,
    FairRegistration,
    HelpGroup,
    HelpRequest,
    HelpService,
    JobApplication,
    JobFair,
    JobPosting,
    PostingStatus,
    Recruiter,
    SeekerProfile,
    SeekerWish,
)

SALARY_FLOOR, SALARY_CEILING = 500, 200_000  # yuan a month; outside is a typo (a year, or cents)
SALARY_SPREAD = 5  # the top of a range at most 5× its bottom
MAX_EXPIRY_DAYS = 180
MAX_WISHES = 5

# --- Rollup metrics -------------------------------------------------------------------------------
JOBS_LIVE, OPENINGS_LIVE, JOBS_PENDING = "jobs.live", "jobs.openings_live", "jobs.pending"
SEEKERS_ACTIVE = "seekers.active"
APPLICATIONS, HIRES = "applications.total", "applications.hired"
HELP_OPEN, HELP_PLACED, HELP_PLACED_DAYS, HELP_TOTAL = "help.open", "help.placed", "help.placed_days", "help.total"


def seeker_group_metric(group: str) -> str:
    return f"seekers.group.{group}"


def _posting_counts(posting: JobPosting, sign: int = 1) -> dict[str, int]:
    if posting.status == PostingStatus.LIVE:
        return {JOBS_LIVE: sign, OPENINGS_LIVE: sign * posting.headcount}
    if posting.status == PostingStatus.PENDING:
        return {JOBS_PENDING: sign}
    return {}


def _seeker_counts(seeker: SeekerProfile, sign: int = 1) -> dict[str, int]:
    if seeker.status != SeekerProfile.Status.ACTIVE:
        return {}
    return {SEEKERS_ACTIVE: sign, seeker_group_metric(seeker.help_group): sign}


def _rollup_change(path_before: str, before: dict[str, int], path_after: str, after: dict[str, int]) -> None:
    if path_before == path_after:
        delta = {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)}
        rollups.rollup_add(path_after, delta)
        return
    rollups.rollup_add(path_before, {k: -n for k, n in before.items()})
    rollups.rollup_add(path_after, after)


def _notify(user_id, title: str, body: str, link: str = "") -> None:
    if user_id:
        Notice.objects.create(user_id=user_id, title=title, body=body[:500], link=link)


# --- Cleaning -------------------------------------------------------------------------------------


def clean_occupation(code, *, field: str = "occupation") -> Occupation:
    code = str(code or "").strip()
    if not code:
        raise ValidationFailed(f"{field}_required", "请选择职业（《职业分类大典》2022年版）", field)
    occupation = Occupation.objects.filter(code=code).first()
    if occupation is None:
        raise ValidationFailed("occupation_unknown", f"职业代码 {code} 不存在，请从职业分类中选择", field)
    if occupation.level != 4:
        raise ValidationFailed("occupation_too_broad", f"“{occupation.name}”是职业类别，请选择具体职业（细类）", field)
    return occupation


def clean_place(code, *, field: str = "division_code") -> Division:
    division = v.clean_division(str(code or "").strip(), field=field)
    if division.level < Division.Level.COUNTY or division.is_placeholder:
        raise ValidationFailed("place_too_broad", f"“{division.name}”范围太大，请选择区县或乡镇街道", field)
    return division


def clean_salary(salary_min, salary_max) -> tuple[int, int]:
    values = []
    for value, field, label in ((salary_min, "salary_min", "月薪下限"), (salary_max, "salary_max", "月薪上限")):
        if value in (None, ""):
            raise ValidationFailed(f"{field}_required", f"请填写{label}（元/月）", field)
        try:
            number = int(str(value).replace(",", "").strip())
        except (TypeError, ValueError):
            raise ValidationFailed(f"{field}_invalid", f"{label}应为整数（元/月）", field) from None
        if not SALARY_FLOOR <= number <= SALARY_CEILING:
            raise ValidationFailed(f"{field}_absurd", f"{label}应在{SALARY_FLOOR}至{SALARY_CEILING}元/月之间，"
                                                      "请确认单位是“元/月”", field)
        values.append(number)
    low, high = values
    if low > high:
        raise ValidationFailed("salary_reversed", f"月薪下限（{low}元）高于上限（{high}元），请对调", "salary_min")
    if high > low * SALARY_SPREAD:
        raise ValidationFailed("salary_spread", f"月薪范围过宽（{low}–{high}元），上限不应超过下限的{SALARY_SPREAD}倍",
                               "salary_max")
    return low, high


def clean_choice(value, choices, *, field: str, label: str, default=None) -> str:
    if value in (None, ""):
        if default is not None:
            return default
        raise ValidationFailed(f"{field}_required", f"请选择{label}", field)
    if value not in choices.values:
        raise ValidationFailed(f"{field}_invalid", f"{label}“{value}”不在可选范围内", field)
    return value


def clean_tags(values, *, field: str, label: str, limit: int = 20) -> list[str]:
    if values in (None, ""):
        return []
    if isinstance(values, str):
        values = [p for p in values.replace("，", ",").replace("、", ",").split(",")]
    if not isinstance(values, list):
        raise ValidationFailed(f"{field}_invalid", f"{label}应为列表", field)
    out: list[str] = []
    seen: set[str] = set()
    for raw in values:
        tag = normalize_name(str(raw or ""))
        if not tag:
            continue
        if len(tag) > 20:
            raise ValidationFailed(f"{field}_too_long", f"{label}“{tag[:20]}…”太长，每项不超过20个字", field)
        key = matching.skill_key(tag)
        if key not in seen:
            seen.add(key)
            out.append(tag)
    if len(out) > limit:
        raise ValidationFailed(f"{field}_too_many", f"{label}最多{limit}项（现有{len(out)}项）", field)
    return out


def clean_expiry(value, *, today: datetime.date | None = None) -> datetime.date:
    today = today or timezone.localdate()
    if value in (None, ""):
        return today + datetime.timedelta(days=30)
    day = v.clean_date(value, field="expires_on", label="截止日期")
    if day <= today:
        raise ValidationFailed("expires_on_past", "截止日期应晚于今天", "expires_on")
    if day > today + datetime.timedelta(days=MAX_EXPIRY_DAYS):
        raise ValidationFailed("expires_on_far", f"截止日期最长为{MAX_EXPIRY_DAYS}天后，到期后可续期", "expires_on")
    return day


def _phone(value, *, field: str = "contact_phone") -> str:
    from gonghui.accounts.services import normalize_phone

    if value in (None, ""):
        return ""
    try:
        return normalize_phone(str(value))
    except ValidationFailed:
        raise ValidationFailed(f"{field}_invalid", "联系电话应为11位手机号码（以1开头）", field) from None


# --- Recruiters -----------------------------------------------------------------------------------


def _employer_union(employer: Employer | None, division: Division) -> OrgUnit:
    if employer is not None:
        return employer.org
    org = territorial_union(division)
    if org is None:
        raise ValidationFailed("place_no_union", f"{division.name}暂无工会组织受理，请选择其他地区", "division_code")
    return org


def recruiter_claim(*, actor, uscc, name, title: str = "", employer_name: str = "", division_code=None,
                    address: str = "") -> Recruiter:
    """A person claims to hire for an employer (by its USCC). Union staff above the employer verify it;
    an employer not registered yet is registered by them on verification from what is given here."""
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("请先登录")
    code = v.clean_uscc(uscc, required=True)
    person = clean_text(name, field="name", label="联系人姓名", min_len=2, max_len=50)
    title = clean_text(title, field="title", label="职务", max_len=50)
    employer = Employer.objects.select_related("org", "division").filter(uscc=code).first()
    if employer is not None:
        division, company = employer.division, employer.name
    else:
        company = v.clean_name(employer_name or "", field="employer_name", label="单位名称")
        division = clean_place(division_code)
    org = _employer_union(employer, division)
    address = clean_text(address, field="address", label="地址", max_len=300)
    ratelimit.check("recruiter_claim_user_day", str(actor.pk), "今天提交的招聘方认证申请过多，请明天再试")
    existing = Recruiter.objects.filter(user=actor, uscc=code).first()
    if existing is not None and existing.status in (Recruiter.Status.PENDING, Recruiter.Status.VERIFIED):
        raise Conflict("recruiter_exists", f"您已提交过{existing.employer_name}的认证（{existing.get_status_display()}）",
                       "uscc")
    with transaction.atomic():
        recruiter = existing or Recruiter(user=actor, uscc=code)
        recruiter.employer, recruiter.employer_name, recruiter.division, recruiter.address = \
            employer, company, division, address
        recruiter.org, recruiter.org_path, recruiter.province_code = org, org.path, org.province_code
        recruiter.name, recruiter.title, recruiter.status, recruiter.reason = \
            person, title, Recruiter.Status.PENDING, ""
        recruiter.set_phone(actor.phone if hasattr(actor, "phone") else "")
        try:
            with transaction.atomic():
                recruiter.save()
        except IntegrityError:
            raise Conflict("recruiter_exists", "您已提交过该单位的认证", "uscc") from None
        audit_log(actor=actor, action="recruiter.claim", obj=recruiter, org=org)
    return recruiter


def recruiter_decide(*, actor, recruiter: Recruiter, approve: bool, reason: str = "") -> Recruiter:
    require_rank(actor, recruiter.org_path, Role.STAFF, "没有核验该单位招聘方的权限")
    reason = clean_text(reason, field="reason", label="说明", min_len=0 if approve else 2, max_len=300)
    with transaction.atomic():
        recruiter = Recruiter.objects.select_for_update().get(pk=recruiter.pk)
        if recruiter.status != Recruiter.Status.PENDING:
            raise Conflict("recruiter_decided", f"该申请已处理（{recruiter.get_status_display()}）")
        if approve and recruiter.employer_id is None:
            from gonghui.orgs.services import employer_create

            found = Employer.objects.select_related("org").filter(uscc=recruiter.uscc).first()
            if found is not None and actor_scope(actor).rank_at(found.org_path) < ROLE_RANK[Role.STAFF]:
                raise Conflict("employer_elsewhere", f"该单位已由{found.org.name}登记，请申请人重新提交认证，"
                                                     "由该工会核验")
            if found is not None:
                recruiter.org, recruiter.org_path, recruiter.province_code = \
                    found.org, found.org_path, found.org.province_code
            recruiter.employer = found or employer_create(
                actor=actor, org=recruiter.org, name=recruiter.employer_name, uscc=recruiter.uscc,
                division_code=recruiter.division_id, address=recruiter.address)
        recruiter.status = Recruiter.Status.VERIFIED if approve else Recruiter.Status.REJECTED
        recruiter.reason, recruiter.decided_by, recruiter.decided_at = reason, actor, timezone.now()
        recruiter.save()
        audit_log(actor=actor, action="recruiter.verify" if approve else "recruiter.reject", obj=recruiter,
                  org=recruiter.org, after={"reason": reason})
        _notify(recruiter.user_id, "招聘方认证" + ("已通过" if approve else "未通过"),
                f"{recruiter.employer_name}：" + ("您现在可以发布招聘岗位。" if approve else f"原因：{reason}"),
                "/jobs/recruit/")
    return recruiter


def recruiter_revoke(*, actor, recruiter: Recruiter, reason: str) -> Recruiter:
    require_rank(actor, recruiter.org_path, Role.STAFF, "没有停用该招聘方的权限")
    reason = clean_text(reason, field="reason", label="停用原因", min_len=2, max_len=300)
    with transaction.atomic():
        changed = Recruiter.objects.filter(pk=recruiter.pk, status=Recruiter.Status.VERIFIED).update(
            status=Recruiter.Status.REVOKED, reason=reason, decided_by=actor, decided_at=timezone.now())
        recruiter.refresh_from_db()
        if not changed:
            raise Conflict("recruiter_status", f"只能停用已核验的招聘方（当前：{recruiter.get_status_display()}）")
        audit_log(actor=actor, action="recruiter.revoke", obj=recruiter, org=recruiter.org, after={"reason": reason})
    return recruiter


def verified_recruiter(user, employer_id) -> Recruiter | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Recruiter.objects.filter(user=user, employer_id=employer_id, status=Recruiter.Status.VERIFIED).first()


def can_manage_employer(actor, employer: Employer) -> str:
    """'staff' (a role of 工作人员 or above over the employer's union), 'recruiter' (verified for it)
    or '' (may not post for it or see its postings' applications)."""
    if actor_scope(actor).rank_at(employer.org_path) >= ROLE_RANK[Role.STAFF]:
        return "staff"
    if verified_recruiter(actor, employer.pk) is not None:
        return "recruiter"
    return ""


# --- Postings -------------------------------------------------------------------------------------


def _search_fields(posting: JobPosting) -> None:
    """Bigrams of the words (jieba cuts the text into words first, so bigrams never straddle two
    words) plus facet words for the filters: occupation groups and places at every level."""
    from .textindex import words_bigrams

    head = " ".join([posting.title, posting.occupation.name, " ".join(posting.skills), posting.employer.name])
    facets = [f"o{posting.occupation_id}", f"o{posting.occ_minor}", f"o{posting.occ_middle}",
              f"o{matching.major(posting.occupation_id)}", f"p{posting.division_id}", f"p{posting.county_code}",
              f"p{posting.city_code}", f"p{posting.division_id[:2]}"]
    posting.search_head = " ".join([words_bigrams(head), *[f.replace("-", "") for f in facets]])
    posting.search_text = words_bigrams(" ".join([posting.description, " ".join(posting.benefits),
                                                  posting.address]))


def _posting_fields(data: dict, *, partial: bool = False, current: JobPosting | None = None) -> dict:
    out: dict = {}

    def given(key):
        return not partial or key in data

    if given("title"):
        out["title"] = normalize_name(clean_text(data.get("title"), field="title", label="岗位名称", min_len=2,
                                                 max_len=60))
    if given("occupation"):
        occupation = clean_occupation(data.get("occupation"))
        out.update(occupation=occupation, occ_minor=matching.minor(occupation.code),
                   occ_middle=matching.middle(occupation.code))
    if given("division_code"):
        division = clean_place(data.get("division_code"))
        out.update(division=division, county_code=division.code[:6], city_code=division.code[:4])
    if given("salary_min") or given("salary_max"):
        low, high = clean_salary(data.get("salary_min", current.salary_min if current else None),
                                 data.get("salary_max", current.salary_max if current else None))
        out.update(salary_min=low, salary_max=high)
    if given("headcount"):
        out["headcount"] = _count(data.get("headcount"), field="headcount", label="招聘人数", low=1, high=1000, default=1)
    if given("education"):
        out["education"] = clean_choice(data.get("education"), Education, field="education", label="学历要求",
                                        default=Education.NONE)
    if given("experience_years"):
        out["experience_years"] = _count(data.get("experience_years"), field="experience_years", label="经验要求（年）",
                                       low=0, high=30, default=0)
    if given("skills"):
        out["skills"] = clean_tags(data.get("skills"), field="skills", label="技能要求")
    if given("benefits"):
        out["benefits"] = clean_tags(data.get("benefits"), field="benefits", label="福利待遇")
    if given("description"):
        out["description"] = clean_text(data.get("description"), field="description", label="岗位描述", max_len=3000)
    if given("address"):
        out["address"] = clean_text(data.get("address"), field="address", label="详细地址", max_len=200)
    if given("contact_name"):
        out["contact_name"] = clean_text(data.get("contact_name"), field="contact_name", label="联系人", max_len=50)
    if given("contact_phone"):
        out["contact_phone"] = _phone(data.get("contact_phone"))
    if given("expires_on"):
        out["expires_on"] = clean_expiry(data.get("expires_on"))
    return out


def posting_create(*, actor, employer_id, data: dict) -> JobPosting:
    """A recruiter's posting waits for moderation; staff posting for an employer in their subtree goes
    live at once (they are the moderators)."""
    try:
        employer = Employer.objects.select_related("org").get(pk=int(employer_id))
    except (Employer.DoesNotExist, TypeError, ValueError):
        raise NotFound("用人单位", "employer_id") from None
    who = can_manage_employer(actor, employer)
    if not who:
        raise NotFound("用人单位", "employer_id")  # outside the staff member's subtree, or not their recruiter
    fields = _posting_fields(data)
    phone = fields.pop("contact_phone")
    if JobPosting.objects.filter(employer=employer, title=fields["title"], division=fields["division"],
                                 status__in=[PostingStatus.PENDING, PostingStatus.LIVE]).exists():
        raise Conflict("posting_duplicate", f"该单位在{fields['division'].name}已有同名岗位“{fields['title']}”，"
                                            "请修改原岗位或换一个名称", "title")
    ratelimit.check("job_post_employer_day", str(employer.pk), "该单位今天发布的岗位过多，请明天再试")
    now = timezone.now()
    posting = JobPosting(employer=employer, org=employer.org, org_path=employer.org_path,
                         province_code=employer.org.province_code or employer.province_code, created_by=actor,
                         created_at=now, **fields)
    posting.set_phone(phone)
    if who == "staff":
        posting.status, posting.moderated_by, posting.moderated_at, posting.published_at, posting.approved = \
            PostingStatus.LIVE, actor, now, now, True
    _search_fields(posting)
    try:
        with transaction.atomic():
            posting.save()
            rollups.rollup_add(posting.org_path, _posting_counts(posting))
            audit_log(actor=actor, action="job.create", obj=posting, org=employer.org,
                      after={"status": posting.status, "title": posting.title})
    except IntegrityError:  # a double submit: the first one is kept
        raise Conflict("posting_duplicate", f"该单位在{fields['division'].name}已有同名岗位“{fields['title']}”",
                       "title") from None
    return posting


def _lock_posting(posting: JobPosting) -> JobPosting:
    return JobPosting.objects.select_for_update().select_related("employer", "occupation", "org").get(pk=posting.pk)


def _move_posting(posting: JobPosting, to: str, **changes) -> None:
    if to not in POSTING_TRANSITIONS[posting.status]:
        raise Conflict("posting_status", f"岗位当前为“{posting.get_status_display()}”，不能改为"
                                         f"“{PostingStatus(to).label}”")
    before = _posting_counts(posting)
    posting.status = to
    for key, value in changes.items():
        setattr(posting, key, value)
    posting.save()
    _rollup_change(posting.org_path, before, posting.org_path, _posting_counts(posting))


def posting_moderate(*, actor, posting: JobPosting, approve: bool, reason: str = "") -> JobPosting:
    require_rank(actor, posting.org_path, Role.STAFF, "没有审核该岗位的权限")
    reason = clean_text(reason, field="reason", label="未通过原因", min_len=0 if approve else 2, max_len=300)
    with transaction.atomic():
        posting = _lock_posting(posting)
        if posting.status != PostingStatus.PENDING:
            raise Conflict("posting_not_pending", f"岗位当前为“{posting.get_status_display()}”，无需审核")
        now = timezone.now()
        if approve:
            _move_posting(posting, PostingStatus.LIVE, moderated_by=actor, moderated_at=now, published_at=now,
                          reject_reason="", approved=True)
        else:
            _move_posting(posting, PostingStatus.REJECTED, moderated_by=actor, moderated_at=now, reject_reason=reason,
                          approved=False)
        audit_log(actor=actor, action="job.approve" if approve else "job.reject", obj=posting,
                  org=posting.org, after={"reason": reason})
        for recruiter in Recruiter.objects.filter(employer_id=posting.employer_id, status=Recruiter.Status.VERIFIED):
            _notify(recruiter.user_id, "岗位审核" + ("通过" if approve else "未通过"),
                    f"“{posting.title}”" + ("已发布。" if approve else f"未通过审核：{reason}"),
                    f"/jobs/recruit/{posting.pk}/")
    return posting


def _require_manager(actor, posting: JobPosting) -> str:
    who = can_manage_employer(actor, posting.employer)
    if not who:
        raise NotFound("岗位")
    return who


def posting_update(*, actor, posting: JobPosting, data: dict) -> JobPosting:
    """Edit a posting; a recruiter's edit of a live or rejected posting sends it back to moderation."""
    who = _require_manager(actor, posting)
    fields = _posting_fields(data, partial=True, current=posting)
    if not fields:
        raise ValidationFailed("nothing_to_change", "没有需要修改的内容")
    phone = fields.pop("contact_phone", None)
    with transaction.atomic():
        posting = _lock_posting(posting)
        if posting.status in (PostingStatus.CLOSED, PostingStatus.EXPIRED):
            raise Conflict("posting_status", "岗位已关闭或过期，请先续期再修改")
        before_path, before = posting.org_path, _posting_counts(posting)
        for key, value in fields.items():
            setattr(posting, key, value)
        if phone is not None:
            posting.set_phone(phone)
        if who == "recruiter":  # the changed content is reviewed before it shows again
            posting.approved = False
            if posting.status in (PostingStatus.LIVE, PostingStatus.REJECTED):
                posting.status = PostingStatus.PENDING
        _search_fields(posting)
        posting.save()
        _rollup_change(before_path, before, posting.org_path, _posting_counts(posting))
        audit_log(actor=actor, action="job.update", obj=posting, org=posting.org,
                  after={"fields": sorted(fields), "status": posting.status})
    return posting


def posting_close(*, actor, posting: JobPosting, reason: str = "") -> JobPosting:
    """Close a posting. Closed by the union's staff (a takedown), it goes live again only after a
    moderator's look: its approval is withdrawn, so a recruiter's renewal sends it to moderation."""
    who = _require_manager(actor, posting)
    reason = clean_text(reason, field="reason", label="关闭原因", max_len=300)
    with transaction.atomic():
        posting = _lock_posting(posting)
        _move_posting(posting, PostingStatus.CLOSED, **({"approved": False} if who == "staff" else {}))
        audit_log(actor=actor, action="job.close", obj=posting, org=posting.org, after={"reason": reason})
    return posting


def posting_renew(*, actor, posting: JobPosting, expires_on) -> JobPosting:
    """A closed or expired posting runs again until the new date: live at once, since its content was
    moderated (an edit afterwards is reviewed again); one never approved goes back to moderation."""
    who = _require_manager(actor, posting)
    day = clean_expiry(expires_on)
    with transaction.atomic():
        posting = _lock_posting(posting)
        if posting.status in (PostingStatus.REJECTED, PostingStatus.PENDING):
            raise Conflict("posting_status", "岗位" + ("未通过审核，请按审核意见修改后重新提交" if posting.status ==
                                                  PostingStatus.REJECTED else "正在审核，审核通过后再续期"))
        if posting.status == PostingStatus.LIVE:
            posting.expires_on = day
            posting.save(update_fields=["expires_on", "updated_at"])
        else:
            ratelimit.check("job_post_employer_day", str(posting.employer_id), "该单位今天发布的岗位过多，请明天再试")
            # Staff are the moderators: their renewal is an approval of the content as it stands.
            to = PostingStatus.LIVE if posting.approved or who == "staff" else PostingStatus.PENDING
            _move_posting(posting, to, expires_on=day, approved=posting.approved or who == "staff",
                          published_at=timezone.now() if to == PostingStatus.LIVE else posting.published_at)
        audit_log(actor=actor, action="job.renew", obj=posting, org=posting.org,
                  after={"expires_on": day.isoformat(), "status": posting.status})
    return posting


def postings_expire(*, today: datetime.date | None = None, batch: int = 1000) -> int:
    """Live postings past their date expire (the periodic job); returns how many."""
    today = today or timezone.localdate()
    done = 0
    while True:
        with transaction.atomic():
            rows = list(JobPosting.objects.select_for_update(skip_locked=True)
                        .filter(status=PostingStatus.LIVE, expires_on__lt=today)
                        .only("id", "org_path", "headcount", "status")[:batch])
            if not rows:
                return done
            JobPosting.objects.filter(pk__in=[p.pk for p in rows]).update(status=PostingStatus.EXPIRED)
            rollups.rollup_add_many([(p.org_path, m, -n) for p in rows for m, n in _posting_counts(p).items()])
        done += len(rows)


# --- Seekers --------------------------------------------------------------------------------------


def seeker_save(*, actor, data: dict) -> SeekerProfile:
    """Create or replace the worker's seeker profile (and its wishes: occupations × places)."""
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("请先登录")
    from gonghui.membership.models import Member

    name = normalize_name(clean_text(data.get("name") or actor.display_name, field="name", label="姓名", min_len=2,
                                     max_len=50))
    codes = data.get("occupations") or []
    places = data.get("places") or []
    if not isinstance(codes, list) or not codes:
        raise ValidationFailed("occupations_required", "请至少选择一个想做的职业", "occupations")
    if not isinstance(places, list) or not places:
        raise ValidationFailed("places_required", "请至少选择一个想去的地方（区县或街道）", "places")
    if len(codes) > MAX_WISHES or len(places) > MAX_WISHES:
        raise ValidationFailed("wishes_too_many", f"职业和地点各最多选{MAX_WISHES}个", "occupations")
    occupations = list({o.code: o for o in (clean_occupation(c, field="occupations") for c in codes)}.values())
    divisions = list({d.code: d for d in (clean_place(c, field="places") for c in places)}.values())
    fields = {
        "name": name,
        "education": clean_choice(data.get("education"), Education, field="education", label="学历",
                                  default=Education.NONE),
        "experience_years": _count(data.get("experience_years"), field="experience_years", label="工作年限", low=0,
                                 high=60, default=0),
        "salary_expected": _count(data.get("salary_expected"), field="salary_expected", label="期望月薪", low=0,
                                high=SALARY_CEILING, default=0),
        "skills": clean_tags(data.get("skills"), field="skills", label="技能"),
        "about": clean_text(data.get("about"), field="about", label="自我介绍", max_len=1000),
        "available_from": v.clean_date(data.get("available_from"), field="available_from", label="可到岗日期"),
        "help_group": clean_choice(data.get("help_group"), HelpGroup, field="help_group", label="帮扶类别",
                                   default=HelpGroup.NONE),
        "visible_to_employers": bool(data.get("visible_to_employers", False)),
        "status": clean_choice(data.get("status"), SeekerProfile.Status, field="status", label="求职状态",
                               default=SeekerProfile.Status.ACTIVE),
    }
    member = Member.objects.filter(user=actor, status__in=["active", "retained", "transferring", "suspended"]) \
        .select_related("org").first()
    org = member.org if member is not None else territorial_union(divisions[0])
    if org is None:
        raise ValidationFailed("place_no_union", f"{divisions[0].name}暂无工会组织，请换一个地点", "places")
    now = timezone.now()
    with transaction.atomic():
        profile = SeekerProfile.objects.select_for_update().filter(user=actor).first()
        before_path, before = (profile.org_path, _seeker_counts(profile)) if profile else ("", {})
        profile = profile or SeekerProfile(user=actor)
        for key, value in fields.items():
            setattr(profile, key, value)
        profile.member, profile.org, profile.org_path, profile.province_code = member, org, org.path, org.province_code
        try:
            with transaction.atomic():
                profile.save()
        except IntegrityError:  # a double submit created it meanwhile
            raise Conflict("seeker_busy", "求职档案正在保存，请稍后刷新") from None
        SeekerWish.objects.filter(seeker=profile).delete()
        open_ = profile.status == SeekerProfile.Status.ACTIVE and profile.visible_to_employers
        SeekerWish.objects.bulk_create([
            SeekerWish(seeker=profile, occupation=o, occ_minor=matching.minor(o.code), occ_middle=matching.middle(o.code),
                       division=d, county_code=d.code[:6], city_code=d.code[:4], province_code=d.code[:2], open=open_,
                       updated_at=now)
            for o in occupations for d in divisions])
        if before_path:
            _rollup_change(before_path, before, profile.org_path, _seeker_counts(profile))
        else:
            rollups.rollup_add(profile.org_path, _seeker_counts(profile))
        audit_log(actor=actor, action="seeker.save", obj=profile, org=org,
                  after={"occupations": [o.code for o in occupations], "places": [d.code for d in divisions],
                         "visible": profile.visible_to_employers, "status": profile.status})
    return profile


def seeker_view(profile: SeekerProfile) -> matching.SeekerView:
    wishes = list(profile.wishes.all())
    return matching.SeekerView(
        occupations=sorted({w.occupation_id for w in wishes}), places=sorted({w.division_id for w in wishes}),
        salary_expected=profile.salary_expected, education=profile.education,
        experience_years=profile.experience_years, skills=list(profile.skills))


def posting_view(posting: JobPosting) -> matching.PostingView:
    return matching.PostingView(
        occupation=posting.occupation_id, place=posting.division_id, salary_min=posting.salary_min,
        salary_max=posting.salary_max, education=posting.education, experience_years=posting.experience_years,
        skills=list(posting.skills), published_at=posting.published_at,
        occupation_name=posting.occupation.name if posting.occupation_id else "")


# --- Applications ---------------------------------------------------------------------------------


def application_submit(*, actor, posting: JobPosting, note: str = "", fair: JobFair | None = None) -> JobApplication:
    """One tap: the worker's seeker profile goes to the employer with the match score of the moment."""
    if fair is not None and (fair.status != JobFair.Status.OPEN or
                             not FairBooth.objects.filter(fair=fair, postings=posting).exists()):
        raise ValidationFailed("fair_invalid", "该岗位不在这场招聘会上，或招聘会已取消", "fair_id")
    if fair is not None and fair.ends_at <= timezone.now():  # results count what happened at the fair
        raise ValidationFailed("fair_ended", "招聘会已结束，请直接投递岗位", "fair_id")
    profile = SeekerProfile.objects.filter(user=actor).prefetch_related("wishes").first()
    if profile is None:
        raise ValidationFailed("seeker_required", "请先填写求职档案（想做的工作和地点），再投递", "seeker")
    note = clean_text(note, field="note", label="留言", max_len=300)
    if posting.status != PostingStatus.LIVE or posting.expires_on < timezone.localdate():
        raise Conflict("posting_not_live", "该岗位已停止招聘")
    earlier = JobApplication.objects.filter(posting=posting, user=actor).first()
    if earlier is not None and earlier.status != ApplicationStatus.WITHDRAWN:
        raise Conflict("application_duplicate", "您已投递过该岗位，可在“我的投递”查看进度", "posting")
    if verified_recruiter(actor, posting.employer_id) is not None:
        raise ValidationFailed("own_posting", "不能投递本单位发布的岗位", "posting")
    ratelimit.check("job_apply_user_day", str(actor.pk), "今天投递的岗位过多，请明天再试")
    match = matching.score(seeker_view(profile), posting_view(posting))
    if earlier is not None:
        return _application_resubmit(earlier, actor=actor, profile=profile, note=note, score=match.score, fair=fair)
    try:
        with transaction.atomic():
            if not JobPosting.objects.select_for_update().filter(  # not closed meanwhile
                    pk=posting.pk, status=PostingStatus.LIVE).exists():
                raise Conflict("posting_not_live", "该岗位已停止招聘")
            application = JobApplication.objects.create(
                posting=posting, seeker=profile, user=actor, org=posting.org, org_path=posting.org_path,
                province_code=posting.province_code, fair=fair, note=note, score=match.score)
            ApplicationEvent.objects.create(application=application, to_status=ApplicationStatus.SUBMITTED,
                                            actor=actor, note=note)
            rollups.rollup_add(posting.org_path, {APPLICATIONS: 1})
            audit_log(actor=actor, action="job_application.submit", obj=application, org=posting.org)
            for recruiter in Recruiter.objects.filter(employer_id=posting.employer_id,
                                                      status=Recruiter.Status.VERIFIED):
                _notify(recruiter.user_id, "收到新的求职申请", f"{profile.name}投递了“{posting.title}”",
                        f"/jobs/recruit/{posting.pk}/")
    except IntegrityError:  # a double tap: the first one is kept
        raise Conflict("application_duplicate", "您已投递过该岗位，可在“我的投递”查看进度", "posting") from None
    return application


def _application_resubmit(application: JobApplication, *, actor, profile: SeekerProfile, note: str, score: float,
                          fair: JobFair | None) -> JobApplication:
    """A worker who withdrew applies again: the same application starts over (counted once)."""
    with transaction.atomic():
        application = JobApplication.objects.select_for_update().select_related("posting").get(pk=application.pk)
        if application.status != ApplicationStatus.WITHDRAWN:  # a double tap that waited for the lock
            raise Conflict("application_duplicate", "您已投递过该岗位，可在“我的投递”查看进度", "posting")
        application.status, application.seeker, application.note, application.score = \
            ApplicationStatus.SUBMITTED, profile, note, score
        application.fair = fair or application.fair
        application.interview_at, application.interview_place = None, ""
        application.save()
        ApplicationEvent.objects.create(application=application, from_status=ApplicationStatus.WITHDRAWN,
                                        to_status=ApplicationStatus.SUBMITTED, actor=actor, note=note)
        audit_log(actor=actor, action="job_application.submit", obj=application, org=application.posting.org,
                  after={"again": True})
        for recruiter in Recruiter.objects.filter(employer_id=application.posting.employer_id,
                                                  status=Recruiter.Status.VERIFIED):
            _notify(recruiter.user_id, "求职者重新投递", f"{profile.name}重新投递了“{application.posting.title}”",
                    f"/jobs/recruit/{application.posting_id}/")
    return application


AUDIT_LABELS = {
    "recruiter.claim": "申请成为招聘方", "recruiter.verify": "核验通过招聘方", "recruiter.reject": "核验不通过招聘方",
    "recruiter.revoke": "停用招聘方",
    "job.create": "发布岗位", "job.update": "修改岗位", "job.approve": "审核通过岗位", "job.reject": "审核不通过岗位",
    "job.close": "关闭岗位", "job.renew": "岗位续期",
    "seeker.save": "保存求职档案",
    "job_application.submit": "投递岗位", "job_application.withdraw": "撤回投递",
    "job_application.viewed": "查看求职申请", "job_application.interview": "邀请面试",
    "job_application.offer": "拟录用", "job_application.hired": "确认入职", "job_application.declined": "不予录用",
    "job_help.submit": "申请就业帮扶", "job_help.assign": "分派帮扶责任人", "job_help.service": "登记帮扶服务",
    "job_help.placed": "帮扶对象已就业", "job_help.close": "结束就业帮扶", "job_help.export": "导出就业帮扶台账",
    "job_help.reveal": "查看帮扶对象完整信息",
    "job_fair.create": "举办招聘会", "job_fair.booth": "增加招聘会展位", "job_fair.register": "报名招聘会",
    "job_fair.checkin": "招聘会签到", "job_fair.cancel": "取消招聘会",
}
APPLICATION_ACTIONS = {s: f"job_application.{s}" for s in ("viewed", "interview", "offer", "hired", "declined")}

STEP_NOTICES = {
    ApplicationStatus.VIEWED: "用人单位已查看您的简历",
    ApplicationStatus.INTERVIEW: "用人单位邀请您面试",
    ApplicationStatus.OFFER: "用人单位拟录用您",
    ApplicationStatus.HIRED: "您已入职",
    ApplicationStatus.DECLINED: "用人单位认为暂不合适",
}


def application_move(*, actor, application: JobApplication, to: str, note: str = "", interview_at=None,
                     interview_place: str = "") -> JobApplication:
    """The employer's side moves the application on (viewed → interview → offer → hired / declined)."""
    if to not in ApplicationStatus.values or to == ApplicationStatus.WITHDRAWN:
        raise ValidationFailed("status_invalid", "无效的处理步骤", "status")
    _require_manager(actor, application.posting)
    if application.user_id == getattr(actor, "pk", None):
        raise PermissionDenied("不能处理自己的求职申请")
    note = clean_text(note, field="note", label="说明", max_len=300)
    place = clean_text(interview_place, field="interview_place", label="面试地点", max_len=200)
    when = None
    if to == ApplicationStatus.INTERVIEW:
        if interview_at in (None, ""):
            raise ValidationFailed("interview_at_required", "请填写面试时间", "interview_at")
        when = interview_at if isinstance(interview_at, datetime.datetime) else _parse_moment(interview_at)
        if when < timezone.now() - datetime.timedelta(hours=1):
            raise ValidationFailed("interview_at_past", "面试时间不能早于现在", "interview_at")
    with transaction.atomic():
        application = JobApplication.objects.select_for_update().select_related("posting", "seeker").get(
            pk=application.pk)
        if to not in APPLICATION_TRANSITIONS[application.status]:
            raise Conflict("application_status", f"申请当前为“{application.get_status_display()}”，不能改为"
                                                 f"“{ApplicationStatus(to).label}”")
        previous = application.status
        application.status = to
        if when is not None:
            application.interview_at, application.interview_place = when, place
        if to == ApplicationStatus.HIRED:
            application.hired_at = timezone.now()
        application.save()
        ApplicationEvent.objects.create(application=application, from_status=previous, to_status=to, actor=actor,
                                        note=note)
        if to == ApplicationStatus.HIRED:
            rollups.rollup_add(application.org_path, {HIRES: 1})
            _placement_from_hire(application, actor)
        audit_log(actor=actor, action=APPLICATION_ACTIONS[to], obj=application, org=application.posting.org,
                  after={"from": previous, "note": note})
        body = f"“{application.posting.title}”：{STEP_NOTICES.get(to, '')}"
        if when is not None:
            body += f"，时间{timezone.localtime(when):%m月%d日 %H:%M}" + (f"，地点{place}" if place else "")
        _notify(application.user_id, "求职进展", body + (f"。{note}" if note else ""),
                f"/jobs/applications/{application.pk}/")
    return application


def _moment(value, *, field: str, label: str) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        try:
            moment = datetime.datetime.fromisoformat(str(value or "").strip())
        except ValueError:
            raise ValidationFailed(f"{field}_invalid", f"{label}格式应为 2026-12-01T14:30", field) from None
    if not 2000 <= moment.year <= 2100:
        raise ValidationFailed(f"{field}_invalid", f"{label}超出合理范围", field)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _parse_moment(value) -> datetime.datetime:
    return _moment(value, field="interview_at", label="面试时间")


def application_withdraw(*, actor, application: JobApplication) -> JobApplication:
    if application.user_id != actor.pk:
        raise NotFound("求职申请")
    with transaction.atomic():
        application = JobApplication.objects.select_for_update().get(pk=application.pk)
        if ApplicationStatus.WITHDRAWN not in APPLICATION_TRANSITIONS[application.status]:
            raise Conflict("application_status", f"申请当前为“{application.get_status_display()}”，不能撤回")
        previous = application.status
        application.status = ApplicationStatus.WITHDRAWN
        application.save(update_fields=["status", "updated_at"])
        ApplicationEvent.objects.create(application=application, from_status=previous,
                                        to_status=ApplicationStatus.WITHDRAWN, actor=actor)
        audit_log(actor=actor, action="job_application.withdraw", obj=application)
    return application


def _placement_from_hire(application: JobApplication, actor) -> None:
    """A hire closes the worker's open employment-help request as placed (the ledger shows it)."""
    request = HelpRequest.objects.select_for_update().filter(
        user_id=application.user_id, status__in=[HelpRequest.Status.OPEN, HelpRequest.Status.ASSIGNED]).first()
    if request is None:
        return
    posting = application.posting
    _close_help(request, actor=actor, placed=True, employer=posting.employer.name, posting=posting,
                placed_on=timezone.localdate(), salary=posting.salary_min,
                reason=f"通过岗位“{posting.title}”入职")


# --- Employment help ------------------------------------------------------------------------------


def help_request_submit(*, actor, division_code, help_group, needs, name: str = "") -> HelpRequest:
    """A worker asks for employment help from the union where they want to work."""
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("请先登录")
    division = clean_place(division_code)
    group = clean_choice(help_group, HelpGroup, field="help_group", label="帮扶类别")
    if group == HelpGroup.NONE:
        raise ValidationFailed("help_group_required", "请选择您属于哪类帮扶对象", "help_group")
    needs = clean_text(needs, field="needs", label="需求说明", min_len=5, max_len=2000)
    name = normalize_name(clean_text(name or actor.display_name, field="name", label="姓名", min_len=2, max_len=50))
    org = territorial_union(division)
    if org is None:
        raise ValidationFailed("place_no_union", f"{division.name}暂无工会组织受理，请选择其他地区", "division_code")
    if HelpRequest.objects.filter(user=actor, status__in=[HelpRequest.Status.OPEN, HelpRequest.Status.ASSIGNED]).exists():
        raise Conflict("help_open", "您已有一件正在办理的就业帮扶申请", "help_group")
    ratelimit.check("help_request_user_day", str(actor.pk), "今天提交的帮扶申请过多，请明天再试")
    seeker = SeekerProfile.objects.filter(user=actor).first()
    now = timezone.now()
    try:
        with transaction.atomic():
            request = HelpRequest.objects.create(
                number=f"t{uuid.uuid4().hex[:20]}", user=actor, seeker=seeker, org=org, org_path=org.path,
                province_code=org.province_code, division=division, route_reason=f"您希望在{division.name}就业，由{org.name}受理",
                name=name, help_group=group, needs=needs)
            request.number = f"JY{timezone.localtime(now):%Y%m%d}{request.pk:06d}"
            request.save(update_fields=["number"])
            rollups.rollup_add(org.path, {HELP_OPEN: 1, HELP_TOTAL: 1})
            audit_log(actor=actor, action="job_help.submit", obj=request, org=org)
    except IntegrityError:  # a double submit: one open request per worker
        raise Conflict("help_open", "您已有一件正在办理的就业帮扶申请", "help_group") from None
    return request


def help_assign(*, actor, request: HelpRequest, staff) -> HelpRequest:
    require_rank(actor, request.org_path, Role.STAFF, "没有分派该帮扶申请的权限")
    if staff is None or actor_scope(staff).rank_at(request.org_path) < ROLE_RANK[Role.STAFF]:
        raise ValidationFailed("assignee_invalid", "请选择受理工会的工作人员", "staff_id")
    with transaction.atomic():
        request = HelpRequest.objects.select_for_update().get(pk=request.pk)
        if request.status not in (HelpRequest.Status.OPEN, HelpRequest.Status.ASSIGNED):
            raise Conflict("help_closed", "该帮扶申请已结束")
        request.status, request.assigned_to, request.assigned_at = HelpRequest.Status.ASSIGNED, staff, timezone.now()
        request.save()
        audit_log(actor=actor, action="job_help.assign", obj=request, org=request.org, after={"staff": staff.pk})
        _notify(request.user_id, "就业帮扶已受理", f"{request.org.name}已安排{staff.display_name or '工作人员'}为您服务。",
                f"/jobs/help/{request.pk}/")
    return request


def help_reveal(*, actor, request: HelpRequest) -> tuple[str, str]:
    """The applicant's full name and phone for the staff member who will call them, with an audit
    entry; limited per staff member per day (the same budget as a member's details)."""
    require_rank(actor, request.org_path, Role.STAFF, "只有受理工会的工作人员可以查看完整信息")
    ratelimit.check("pii_reveal_day", str(actor.pk), "今日查看完整个人信息的次数已达上限，如确需查看请联系上级管理员")
    with transaction.atomic():
        audit_log(actor=actor, action="job_help.reveal", obj=request, org=request.org, object_repr=request.number,
                  after={"field": "name_phone"})
    return request.name, request.user.phone or ""


def _can_work_help(actor, request: HelpRequest) -> None:
    require_rank(actor, request.org_path, Role.STAFF, "没有办理该帮扶申请的权限")


def help_service_log(*, actor, request: HelpRequest, kind, note, posting_id=None, served_on=None) -> HelpService:
    _can_work_help(actor, request)
    kind = clean_choice(kind, HelpService.Kind, field="kind", label="服务类型")
    note = clean_text(note, field="note", label="服务内容", min_len=2, max_len=500)
    day = v.clean_date(served_on, field="served_on", label="服务日期") or timezone.localdate()
    if day > timezone.localdate():
        raise ValidationFailed("served_on_future", "服务日期不能晚于今天", "served_on")
    posting = None
    if posting_id not in (None, ""):
        (pk,) = _ids([posting_id], field="posting_id", label="推荐岗位")
        posting = JobPosting.objects.filter(pk=pk, status=PostingStatus.LIVE).first()
        if posting is None:
            raise ValidationFailed("posting_unknown", "推荐的岗位不存在或已停止招聘", "posting_id")
    with transaction.atomic():
        request = HelpRequest.objects.select_for_update().get(pk=request.pk)
        if request.status not in (HelpRequest.Status.OPEN, HelpRequest.Status.ASSIGNED):
            raise Conflict("help_closed", "该帮扶申请已结束，不能再登记服务")
        if request.status == HelpRequest.Status.OPEN:
            request.status, request.assigned_to, request.assigned_at = HelpRequest.Status.ASSIGNED, actor, timezone.now()
            request.save()
        service = HelpService.objects.create(request=request, kind=kind, note=note, posting=posting, served_on=day,
                                             staff=actor)
        audit_log(actor=actor, action="job_help.service", obj=request, org=request.org, after={"kind": kind})
        if posting is not None:
            _notify(request.user_id, "工会为您推荐了岗位", f"{posting.employer.name}：{posting.title}",
                    f"/jobs/{posting.pk}/")
    return service


def _close_help(request: HelpRequest, *, actor, placed: bool, employer: str = "", posting: JobPosting | None = None,
                placed_on=None, salary=None, reason: str = "") -> None:
    now = timezone.now()
    request.status = HelpRequest.Status.PLACED if placed else HelpRequest.Status.CLOSED
    request.placed_employer, request.placed_posting, request.placed_on, request.placed_salary = \
        employer, posting, placed_on, salary
    request.close_reason, request.closed_at = reason, now
    request.save()
    delta = {HELP_OPEN: -1}
    if placed:
        days = max(0, (placed_on - timezone.localtime(request.created_at).date()).days)
        delta.update({HELP_PLACED: 1, HELP_PLACED_DAYS: days})
    rollups.rollup_add(request.org_path, delta)
    audit_log(actor=actor, action="job_help.placed" if placed else "job_help.close", obj=request, org=request.org,
              after={"employer": employer, "placed_on": placed_on.isoformat() if placed_on else None,
                     "salary": salary, "reason": reason})
    _notify(request.user_id, "就业帮扶" + ("：已就业" if placed else "已结束"),
            f"{request.number}：" + (f"{employer}，{placed_on:%Y年%m月%d日}入职。" if placed else reason),
            f"/jobs/help/{request.pk}/")


def help_close(*, actor, request: HelpRequest, placed: bool, employer: str = "", posting_id=None, placed_on=None,
               salary=None, reason: str = "") -> HelpRequest:
    """Close with the outcome: placed (where, when, salary) or not (why)."""
    _can_work_help(actor, request)
    posting = None
    if placed:
        if posting_id not in (None, ""):
            posting = JobPosting.objects.select_related("employer").filter(pk=posting_id).first() \
                if str(posting_id).isascii() and str(posting_id).isdigit() else None
            if posting is None or not (posting.status == PostingStatus.LIVE or posting.approved or
                                       actor_scope(actor).rank_at(posting.org_path) > 0):
                raise ValidationFailed("posting_unknown", "所选岗位不存在", "posting_id")
        employer = normalize_name(clean_text(employer or (posting.employer.name if posting else ""),
                                             field="employer", label="就业单位", min_len=2, max_len=200))
        placed_on = v.clean_date(placed_on, field="placed_on", label="就业日期")
        if placed_on is None:
            raise ValidationFailed("placed_on_required", "请填写就业日期", "placed_on")
        if placed_on > timezone.localdate() + datetime.timedelta(days=60):
            raise ValidationFailed("placed_on_far", "就业日期不能晚于60天后", "placed_on")
        salary = _count(salary, field="salary", label="月薪（元）", low=SALARY_FLOOR, high=SALARY_CEILING, default=0) or None
        reason = clean_text(reason, field="reason", label="说明", max_len=300)
    else:
        reason = clean_text(reason, field="reason", label="结束原因", min_len=2, max_len=300)
        employer, placed_on, salary = "", None, None
    with transaction.atomic():
        request = HelpRequest.objects.select_for_update().select_related("org").get(pk=request.pk)
        if request.status not in (HelpRequest.Status.OPEN, HelpRequest.Status.ASSIGNED):
            raise Conflict("help_closed", "该帮扶申请已结束")
        if placed_on is not None and placed_on < timezone.localtime(request.created_at).date():
            raise ValidationFailed("placed_on_early", "就业日期不能早于申请日期", "placed_on")
        _close_help(request, actor=actor, placed=placed, employer=employer, posting=posting, placed_on=placed_on,
                    salary=salary, reason=reason)
    return request


def help_withdraw(*, actor, request: HelpRequest, reason: str = "") -> HelpRequest:
    """The worker ends their own request (found work themselves, moved away…); the assigned staff
    member is told. Recorded in the ledger as ended without a placement by the union."""
    if request.user_id != getattr(actor, "pk", None):
        raise NotFound("帮扶申请")
    reason = clean_text(reason, field="reason", label="撤回原因", max_len=200)
    with transaction.atomic():
        request = HelpRequest.objects.select_for_update().select_related("org").get(pk=request.pk)
        if request.status not in (HelpRequest.Status.OPEN, HelpRequest.Status.ASSIGNED):
            raise Conflict("help_closed", "该帮扶申请已结束")
        _close_help(request, actor=actor, placed=False, reason="本人撤回" + (f"：{reason}" if reason else ""))
        if request.assigned_to_id:
            _notify(request.assigned_to_id, "帮扶对象撤回申请", f"{request.number}：{request.close_reason}",
                    f"/console/jobs/help/{request.pk}/")
    return request


# --- Job fairs ------------------------------------------------------------------------------------


def fair_create(*, actor, org: OrgUnit, data: dict) -> JobFair:
    require_rank(actor, org.path, Role.STAFF, "没有在该工会举办招聘会的权限")
    title = normalize_name(clean_text(data.get("title"), field="title", label="招聘会名称", min_len=4, max_len=100))
    mode = clean_choice(data.get("mode"), JobFair.Mode, field="mode", label="形式", default=JobFair.Mode.ONSITE)
    division = clean_place(data.get("division_code"))
    if org.division_id and not v.division_within(division.code, org.division):
        raise ValidationFailed("place_outside", f"举办地应在{org.division.name}范围内", "division_code")
    venue = clean_text(data.get("venue"), field="venue", label="地点", min_len=2 if mode == JobFair.Mode.ONSITE else 0,
                       max_len=200)
    starts, ends = (_moment(data.get(k), field=k, label=label)
                    for k, label in (("starts_at", "开始时间"), ("ends_at", "结束时间")))
    if starts < timezone.now() - datetime.timedelta(days=1):
        raise ValidationFailed("starts_past", "开始时间不能早于昨天", "starts_at")
    if ends <= starts:
        raise ValidationFailed("ends_before_start", "结束时间应晚于开始时间", "ends_at")
    if ends - starts > datetime.timedelta(days=31):
        raise ValidationFailed("fair_too_long", "招聘会最长31天", "ends_at")
    capacity = _count(data.get("capacity"), field="capacity", label="人数上限", low=1, high=1_000_000, default=0) or None
    with transaction.atomic():
        fair = JobFair.objects.create(org=org, org_path=org.path, province_code=org.province_code, title=title,
                                      mode=mode, division=division, venue=venue, starts_at=starts, ends_at=ends,
                                      capacity=capacity, created_by=actor,
                                      description=clean_text(data.get("description"), field="description",
                                                             label="介绍", max_len=3000))
        audit_log(actor=actor, action="job_fair.create", obj=fair, org=org)
    return fair


def fair_booth_add(*, actor, fair: JobFair, employer_id, posting_ids=(), booth_no: str = "") -> FairBooth:
    """Staff of the fair's union add an employer's booth; the employer's own recruiter may too."""
    try:
        employer = Employer.objects.select_related("org").get(pk=int(employer_id))
    except (Employer.DoesNotExist, TypeError, ValueError):
        raise NotFound("用人单位", "employer_id") from None
    staff_of_fair = actor_scope(actor).rank_at(fair.org_path) >= ROLE_RANK[Role.STAFF]
    if not staff_of_fair and verified_recruiter(actor, employer.pk) is None:
        raise NotFound("招聘会")
    if fair.status != JobFair.Status.OPEN or fair.ends_at <= timezone.now():
        raise Conflict("fair_closed", "招聘会已结束或取消")
    ids = _ids(posting_ids, field="posting_ids", label="岗位")
    postings = list(JobPosting.objects.filter(pk__in=ids, employer=employer))
    if len(postings) != len(ids):
        raise ValidationFailed("posting_unknown", "所选岗位不属于该单位", "posting_ids")
    if any(p.status != PostingStatus.LIVE for p in postings):
        raise ValidationFailed("posting_not_live", "只能带正在招聘的岗位参会", "posting_ids")
    booth_no = clean_text(booth_no, field="booth_no", label="展位号", max_len=20)
    with transaction.atomic():
        booth, created = FairBooth.objects.get_or_create(fair=fair, employer=employer, defaults={"booth_no": booth_no})
        if booth_no and not created:
            booth.booth_no = booth_no
            booth.save(update_fields=["booth_no"])
        booth.postings.add(*postings)
        audit_log(actor=actor, action="job_fair.booth", obj=fair, org=fair.org,
                  after={"employer": employer.pk, "postings": [p.pk for p in postings]})
    return booth


def _ids(values, *, field: str, label: str) -> set[int]:
    """Ids given by a caller as a list of numbers (or digit strings); anything else names the field."""
    if values in (None, ""):
        return set()
    if not isinstance(values, (list, tuple, set)):
        values = [values]
    out = set()
    for value in values:
        text = str(value).strip()
        if not (text.isascii() and text.isdigit()):  # a huge number is simply not found (Django answers out-of-range lookups empty)
            raise ValidationFailed(f"{field}_invalid", f"{label}编号“{text[:20]}”不正确", field)
        out.add(int(text))
    return out


def fair_register(*, actor, fair: JobFair) -> FairRegistration:
    if fair.status != JobFair.Status.OPEN or fair.ends_at <= timezone.now():
        raise Conflict("fair_closed", "招聘会已结束或取消，不能报名")
    existing = FairRegistration.objects.filter(fair=fair, user=actor).first()
    if existing is not None:
        return existing  # registering twice shows the same QR code
    ratelimit.check("fair_register_user_day", str(actor.pk), "今天报名次数过多，请明天再试")
    with transaction.atomic():
        locked = JobFair.objects.select_for_update().get(pk=fair.pk)  # one at a time while counting the capacity
        mine = FairRegistration.objects.filter(fair=locked, user=actor).first()
        if mine is not None:  # a double submit that waited for the lock
            return mine
        if locked.capacity and FairRegistration.objects.filter(fair=locked).count() >= locked.capacity:
            raise Conflict("fair_full", f"报名人数已满（{locked.capacity}人）")
        registration, _created = FairRegistration.objects.get_or_create(fair=locked, user=actor)
        audit_log(actor=actor, action="job_fair.register", obj=locked, org=locked.org)
    return registration


def fair_checkin(*, actor, fair: JobFair, code) -> FairRegistration:
    """Staff scan a worker's QR code at the entrance."""
    require_rank(actor, fair.org_path, Role.STAFF, "没有为该招聘会签到的权限")
    code = str(code or "").replace("\x00", "").strip()[:64]
    if fair.status != JobFair.Status.OPEN:
        raise Conflict("fair_cancelled", "招聘会已取消，不能签到")
    with transaction.atomic():
        registration = FairRegistration.objects.select_for_update().filter(fair=fair, code=code).first()
        if registration is None:
            raise ValidationFailed("checkin_unknown", "签到码无效或不是本场招聘会的报名", "code")
        if registration.checked_in_at is not None:
            raise Conflict("checkin_twice", f"已于{timezone.localtime(registration.checked_in_at):%H:%M}签到")
        now = timezone.now()
        if now < fair.starts_at - datetime.timedelta(hours=2) or now > fair.ends_at:
            raise Conflict("checkin_closed", "不在招聘会签到时间内")
        registration.checked_in_at, registration.checked_in_by = now, actor
        registration.save(update_fields=["checked_in_at", "checked_in_by"])
        audit_log(actor=actor, action="job_fair.checkin", obj=fair, org=fair.org, after={"user": registration.user_id})
    return registration


def fair_cancel(*, actor, fair: JobFair, reason: str) -> JobFair:
    require_rank(actor, fair.org_path, Role.STAFF, "没有取消该招聘会的权限")
    reason = clean_text(reason, field="reason", label="取消原因", min_len=2, max_len=300)
    with transaction.atomic():
        changed = JobFair.objects.filter(pk=fair.pk, status=JobFair.Status.OPEN).update(status=JobFair.Status.CANCELLED)
        fair.refresh_from_db()
        if not changed:  # already cancelled (a double submit): nobody is told twice
            raise Conflict("fair_cancelled", "招聘会已取消")
        audit_log(actor=actor, action="job_fair.cancel", obj=fair, org=fair.org, after={"reason": reason})
        for user_id in FairRegistration.objects.filter(fair=fair).values_list("user_id", flat=True):
            _notify(user_id, "招聘会取消", f"“{fair.title}”已取消：{reason}", f"/jobs/fairs/{fair.pk}/")
    return fair


def employer_moved(employer: Employer, old_path: str, org: OrgUnit) -> None:
    """An employer moved under another union: its recruiters, postings and applications follow it (and
    the posting and application totals move from the old ancestors to the new)."""
    postings = list(JobPosting.objects.select_for_update().filter(employer=employer).only(
        "id", "status", "headcount", "org_path"))
    for posting in postings:
        _rollup_change(posting.org_path, _posting_counts(posting), org.path, _posting_counts(posting))
    JobPosting.objects.filter(employer=employer).update(org=org, org_path=org.path,
                                                        province_code=org.province_code)
    applications = JobApplication.objects.filter(posting__employer=employer)
    moved = {APPLICATIONS: applications.count(), HIRES: applications.filter(hired_at__isnull=False).count()}
    if any(moved.values()):
        rollups.rollup_add(old_path, {k: -n for k, n in moved.items()})
        rollups.rollup_add(org.path, moved)
    applications.update(org=org, org_path=org.path, province_code=org.province_code)
    Recruiter.objects.filter(employer=employer).update(org=org, org_path=org.path, province_code=org.province_code)
