"""The employment-help cloud (就业帮扶云): jobs, seekers, matching, applications, help and job fairs.

- A **Recruiter** is a person who hires for an employer: a phone-login user whose claim to act for
  the employer (found or registered by its 统一社会信用代码) is verified by union staff whose subtree
  holds the employer. Staff in that subtree may also post for the employer themselves.
- A **JobPosting** belongs to an employer and, through it, to the employer's union (`org_path`,
  copied, so every staff list is one prefix condition). Its occupation (2022 classification) and
  place (division) are copied as code prefixes (`occ_minor`, `occ_middle`, `county_code`,
  `city_code`, `province_code`) so that candidate queries for matching are index ranges. It is
  moderated before it goes live and expires on its date.
- A **SeekerProfile** is a worker's job-seeking card; its wishes (occupations × places) are
  expanded into **SeekerWish** rows keyed the same way, for the reverse query (seekers for a job).
- A **JobApplication** moves submitted → viewed → interview → offer → hired / declined (or withdrawn
  by the worker); each step is an ApplicationEvent the worker sees.
- A **HelpRequest** (就业帮扶申请) goes to the union where the worker wants to work, gets a staff
  member, logs each service (HelpService) and closes with the placement; the union's ledger
  (帮扶台账) is the list of them.
- A **JobFair** (online or on site) has employers' booths with postings, worker registrations with
  a QR check-in code, and results counted from the applications made at the fair.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from gonghui.core.pii import PhoneFields
from gonghui.orgs.paths import PATH_MAX_LENGTH


class Education(models.TextChoices):
    NONE = "none", "不限"
    JUNIOR = "junior", "初中"
    SENIOR = "senior", "高中/中专/技校"
    ASSOCIATE = "associate", "大专"
    BACHELOR = "bachelor", "本科"
    MASTER = "master", "硕士及以上"


EDUCATION_RANK = {e.value: i for i, e in enumerate(Education)}


class HelpGroup(models.TextChoices):
    NONE = "none", "无"
    JOBLESS = "jobless", "失业人员"
    BETWEEN_JOBS = "between_jobs", "待岗/转岗职工"
    HARDSHIP = "hardship", "困难职工家庭"
    GRADUATE = "graduate", "高校毕业生"
    FLEXIBLE = "flexible", "灵活就业人员"
    MIGRANT = "migrant", "农民工"


class Recruiter(PhoneFields, models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "待核验"
        VERIFIED = "verified", "已核验"
        REJECTED = "rejected", "未通过"
        REVOKED = "revoked", "已停用"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recruiter_roles")
    # Found by its USCC; or, for an employer the union has not registered yet, what the claimant gave
    # (the staff member who verifies the claim registers the employer).
    employer = models.ForeignKey("orgs.Employer", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="recruiters")
    uscc = models.CharField("统一社会信用代码", max_length=18)
    employer_name = models.CharField("单位名称", max_length=200)
    division = models.ForeignKey("orgs.Division", on_delete=models.PROTECT, related_name="+", verbose_name="所在地")
    address = models.CharField("地址", max_length=300, blank=True)
    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+", db_index=False)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)
    province_code = models.CharField(max_length=2, blank=True)
    name = models.CharField("联系人姓名", max_length=50)
    title = models.CharField("职务", max_length=50, blank=True)
    phone_hash = models.CharField(max_length=64, blank=True)
    phone_encrypted = models.TextField(blank=True)
    phone_masked = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField("说明", max_length=300, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "招聘方"
        verbose_name_plural = "招聘方"
        constraints = [models.UniqueConstraint(fields=["user", "uscc"], name="recruiter_user_uscc")]
        indexes = [models.Index(fields=["org_path", "status", "id"], name="recruiter_path_status",
                                opclasses=["varchar_pattern_ops", "", ""])]

    def __str__(self) -> str:
        return f"{self.name}（{self.employer_name}）"


class PostingStatus(models.TextChoices):
    PENDING = "pending", "待审核"
    LIVE = "live", "招聘中"
    REJECTED = "rejected", "未通过审核"
    CLOSED = "closed", "已关闭"
    EXPIRED = "expired", "已过期"


# Who may move a posting where (services check the actor; this is the shape of the workflow).
POSTING_TRANSITIONS: dict[str, set[str]] = {
    PostingStatus.PENDING: {PostingStatus.LIVE, PostingStatus.REJECTED, PostingStatus.CLOSED},
    PostingStatus.LIVE: {PostingStatus.CLOSED, PostingStatus.EXPIRED, PostingStatus.PENDING},  # edited: reviewed again
    PostingStatus.REJECTED: {PostingStatus.PENDING, PostingStatus.CLOSED},  # corrected and sent again
    PostingStatus.CLOSED: {PostingStatus.PENDING, PostingStatus.LIVE},  # renewed
    PostingStatus.EXPIRED: {PostingStatus.PENDING, PostingStatus.LIVE},  # renewed
}


class JobPosting(PhoneFields, models.Model):
    employer = models.ForeignKey("orgs.Employer", on_delete=models.PROTECT, related_name="postings")
    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+", db_index=False)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)
    province_code = models.CharField(max_length=2, blank=True)
    title = models.CharField("岗位名称", max_length=60)
    occupation = models.ForeignKey("orgs.Occupation", on_delete=models.PROTECT, related_name="+", verbose_name="职业")
    occ_minor = models.CharField(max_length=16)  # 小类, e.g. 4-02-07
    occ_middle = models.CharField(max_length=16)  # 中类, e.g. 4-02
    division = models.ForeignKey("orgs.Division", on_delete=models.PROTECT, related_name="+", verbose_name="工作地点")
    county_code = models.CharField(max_length=6)
    city_code = models.CharField(max_length=4)
    address = models.CharField("详细地址", max_length=200, blank=True)
    salary_min = models.PositiveIntegerField("月薪下限（元）")
    salary_max = models.PositiveIntegerField("月薪上限（元）")
    headcount = models.PositiveIntegerField("招聘人数", default=1)
    education = models.CharField("学历要求", max_length=16, choices=Education.choices, default=Education.NONE)
    experience_years = models.PositiveSmallIntegerField("经验要求（年）", default=0)
    skills = models.JSONField("技能要求", default=list, blank=True)
    benefits = models.JSONField("福利待遇", default=list, blank=True)
    description = models.TextField("岗位描述", blank=True)
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    phone_hash = models.CharField(max_length=64, blank=True)
    phone_encrypted = models.TextField(blank=True)
    phone_masked = models.CharField(max_length=20, blank=True)
    expires_on = models.DateField("截止日期")
    status = models.CharField(max_length=16, choices=PostingStatus.choices, default=PostingStatus.PENDING)
    reject_reason = models.CharField("未通过原因", max_length=300, blank=True)
    moderated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    moderated_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)  # last time it went live (freshness)
    # Whether the content as it stands was approved (by a moderator, or posted by staff): a rejection or
    # a recruiter's edit clears it, and only an approved posting may go live again on renewal.
    approved = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Words for keyword search: character bigrams of the title, occupation, skills and employer
    # (weighted A on PostgreSQL) and of the description (B), plus facet words for the filters
    # (o:4-02-07, p:440305, …), so that keyword, occupation and place meet in one GIN index. On
    # PostgreSQL the generated `search_vector` adds words derived from the row (recency blocks of
    # published_at, salary steps, the exact place: textindex), and migration 0004 adds the B-tree
    # `posting_live_fresh` (live postings newest first) that SQLite cannot build.
    search_head = models.TextField(blank=True)
    search_text = models.TextField(blank=True)

    class Meta:
        verbose_name = "招聘岗位"
        verbose_name_plural = "招聘岗位"
        indexes = [
            # Candidates for a seeker: live postings of an occupation group near a place, newest first.
            models.Index(fields=["occ_minor", "city_code", "-published_at"], name="posting_minor_city",
                         condition=models.Q(status="live")),
            models.Index(fields=["occ_middle", "province_code", "-published_at"], name="posting_middle_prov",
                         condition=models.Q(status="live")),
            models.Index(fields=["city_code", "-published_at"], name="posting_city_fresh",
                         condition=models.Q(status="live")),
            models.Index(fields=["org_path", "status", "id"], name="posting_path_status",
                         opclasses=["varchar_pattern_ops", "", ""]),
            models.Index(fields=["employer", "status"], name="posting_employer_status"),
            models.Index(fields=["status", "expires_on"], name="posting_status_expiry"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(salary_min__lte=models.F("salary_max")),
                                   name="posting_salary_range"),
            # One open posting per employer, title and place (a double submit is one posting).
            models.UniqueConstraint(fields=["employer", "title", "division"], name="posting_open_once",
                                    condition=models.Q(status__in=["pending", "live"])),
        ]

    def __str__(self) -> str:
        return self.title


class SeekerProfile(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "正在找工作"
        PAUSED = "paused", "暂不找工作"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="seeker_profile")
    member = models.ForeignKey("membership.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The union that counts this seeker: the member's union, else the territorial union of the first place.
    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+", db_index=False)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)
    province_code = models.CharField(max_length=2, blank=True)
    name = models.CharField("姓名", max_length=50)
    education = models.CharField("学历", max_length=16, choices=Education.choices, default=Education.NONE)
    experience_years = models.PositiveSmallIntegerField("工作年限", default=0)
    salary_expected = models.PositiveIntegerField("期望月薪（元）", default=0)
    skills = models.JSONField("技能", default=list, blank=True)
    about = models.TextField("自我介绍", blank=True)
    available_from = models.DateField("可到岗日期", null=True, blank=True)  # empty: at once
    help_group = models.CharField("帮扶类别", max_length=16, choices=HelpGroup.choices, default=HelpGroup.NONE)
    visible_to_employers = models.BooleanField("允许用人单位查看", default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "求职档案"
        verbose_name_plural = "求职档案"
        indexes = [models.Index(fields=["org_path", "status", "help_group"], name="seeker_path_status",
                                opclasses=["varchar_pattern_ops", "", ""])]

    def __str__(self) -> str:
        return self.name


class SeekerWish(models.Model):
    """One wanted occupation at one wanted place (the profile's occupations × places)."""

    seeker = models.ForeignKey(SeekerProfile, on_delete=models.CASCADE, related_name="wishes")
    occupation = models.ForeignKey("orgs.Occupation", on_delete=models.PROTECT, related_name="+")
    occ_minor = models.CharField(max_length=16)
    occ_middle = models.CharField(max_length=16)
    division = models.ForeignKey("orgs.Division", on_delete=models.PROTECT, related_name="+")
    county_code = models.CharField(max_length=6)
    city_code = models.CharField(max_length=4)
    province_code = models.CharField(max_length=2)
    # Copied from the profile: only seekers who are looking and let employers see them are candidates.
    open = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["occ_minor", "city_code", "-updated_at"], name="wish_minor_city",
                         condition=models.Q(open=True)),
            models.Index(fields=["occ_middle", "province_code", "-updated_at"], name="wish_middle_prov",
                         condition=models.Q(open=True)),
        ]
        constraints = [models.UniqueConstraint(fields=["seeker", "occupation", "division"], name="wish_unique")]

    def __str__(self) -> str:
        return f"{self.occupation_id}@{self.division_id}"


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", "已投递"
    VIEWED = "viewed", "已查看"
    INTERVIEW = "interview", "邀请面试"
    OFFER = "offer", "拟录用"
    HIRED = "hired", "已入职"
    DECLINED = "declined", "不合适"
    WITHDRAWN = "withdrawn", "已撤回"


APPLICATION_TRANSITIONS: dict[str, set[str]] = {
    ApplicationStatus.SUBMITTED: {ApplicationStatus.VIEWED, ApplicationStatus.INTERVIEW, ApplicationStatus.DECLINED,
                                  ApplicationStatus.WITHDRAWN},
    ApplicationStatus.VIEWED: {ApplicationStatus.INTERVIEW, ApplicationStatus.OFFER, ApplicationStatus.DECLINED,
                               ApplicationStatus.WITHDRAWN},
    ApplicationStatus.INTERVIEW: {ApplicationStatus.OFFER, ApplicationStatus.DECLINED, ApplicationStatus.WITHDRAWN},
    ApplicationStatus.OFFER: {ApplicationStatus.HIRED, ApplicationStatus.DECLINED, ApplicationStatus.WITHDRAWN},
    ApplicationStatus.HIRED: set(),
    ApplicationStatus.DECLINED: set(),
    ApplicationStatus.WITHDRAWN: set(),
}
OPEN_APPLICATION = {ApplicationStatus.SUBMITTED, ApplicationStatus.VIEWED, ApplicationStatus.INTERVIEW,
                    ApplicationStatus.OFFER}


class JobApplication(models.Model):
    posting = models.ForeignKey(JobPosting, on_delete=models.PROTECT, related_name="applications")
    seeker = models.ForeignKey(SeekerProfile, on_delete=models.PROTECT, related_name="applications")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="job_applications")
    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+", db_index=False)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)  # the posting's union
    province_code = models.CharField(max_length=2, blank=True)
    fair = models.ForeignKey("JobFair", null=True, blank=True, on_delete=models.SET_NULL, related_name="applications")
    status = models.CharField(max_length=16, choices=ApplicationStatus.choices, default=ApplicationStatus.SUBMITTED)
    score = models.FloatField(default=0)  # the match score when the worker applied
    note = models.CharField("留言", max_length=300, blank=True)
    interview_at = models.DateTimeField(null=True, blank=True)
    interview_place = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    hired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "求职申请"
        verbose_name_plural = "求职申请"
        constraints = [models.UniqueConstraint(fields=["posting", "user"], name="jobapplication_once")]
        indexes = [models.Index(fields=["posting", "status", "-created_at"], name="jobapplication_posting"),
                   models.Index(fields=["user", "-created_at"], name="jobapplication_user"),
                   models.Index(fields=["org_path", "status"], name="jobapplication_path",
                                opclasses=["varchar_pattern_ops", ""])]

    def __str__(self) -> str:
        return f"申请{self.pk}（{self.get_status_display()}）"


class ApplicationEvent(models.Model):
    application = models.ForeignKey(JobApplication, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status}→{self.to_status}"


class HelpRequest(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "待分派"
        ASSIGNED = "assigned", "帮扶中"
        PLACED = "placed", "已就业"
        CLOSED = "closed", "已结束（未就业）"

    number = models.CharField("编号", max_length=24, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="help_requests")
    seeker = models.ForeignKey(SeekerProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+", db_index=False)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)
    province_code = models.CharField(max_length=2, blank=True)
    division = models.ForeignKey("orgs.Division", on_delete=models.PROTECT, related_name="+", verbose_name="意向工作地")
    route_reason = models.CharField(max_length=200, blank=True)
    name = models.CharField("姓名", max_length=50)
    help_group = models.CharField("帮扶类别", max_length=16, choices=HelpGroup.choices)
    needs = models.TextField("需求")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    assigned_at = models.DateTimeField(null=True, blank=True)
    placed_employer = models.CharField("就业单位", max_length=200, blank=True)
    placed_posting = models.ForeignKey(JobPosting, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    placed_on = models.DateField("就业日期", null=True, blank=True)
    placed_salary = models.PositiveIntegerField("月薪（元）", null=True, blank=True)
    close_reason = models.CharField("结束说明", max_length=300, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "就业帮扶"
        verbose_name_plural = "就业帮扶"
        indexes = [models.Index(fields=["org_path", "status", "-created_at"], name="help_path_status",
                                opclasses=["varchar_pattern_ops", "", ""]),
                   models.Index(fields=["user", "-created_at"], name="help_user")]
        constraints = [models.UniqueConstraint(fields=["user"], condition=models.Q(status__in=["open", "assigned"]),
                                               name="help_one_open")]

    def __str__(self) -> str:
        return self.number


class HelpService(models.Model):
    class Kind(models.TextChoices):
        POLICY = "policy", "政策咨询"
        GUIDANCE = "guidance", "职业指导"
        REFERRAL = "referral", "岗位推荐"
        TRAINING = "training", "技能培训"
        INTERNSHIP = "internship", "见习岗位"
        OTHER = "other", "其他服务"

    request = models.ForeignKey(HelpRequest, on_delete=models.CASCADE, related_name="services")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    note = models.CharField("服务内容", max_length=500)
    posting = models.ForeignKey(JobPosting, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    served_on = models.DateField(default=timezone.localdate)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["served_on", "id"]

    def __str__(self) -> str:
        return self.get_kind_display()


class JobFair(models.Model):
    class Mode(models.TextChoices):
        ONSITE = "onsite", "现场招聘会"
        ONLINE = "online", "线上招聘会"

    class Status(models.TextChoices):
        OPEN = "open", "报名中"
        CANCELLED = "cancelled", "已取消"

    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+", db_index=False)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)
    province_code = models.CharField(max_length=2, blank=True)
    title = models.CharField("名称", max_length=100)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.ONSITE)
    division = models.ForeignKey("orgs.Division", on_delete=models.PROTECT, related_name="+")
    venue = models.CharField("地点", max_length=200, blank=True)
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    description = models.TextField("介绍", blank=True)
    capacity = models.PositiveIntegerField("人数上限", null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "招聘会"
        verbose_name_plural = "招聘会"
        indexes = [models.Index(fields=["org_path", "-starts_at"], name="fair_path_start",
                                opclasses=["varchar_pattern_ops", ""]),
                   models.Index(fields=["province_code", "-starts_at"], name="fair_province_start")]

    def __str__(self) -> str:
        return self.title


class FairBooth(models.Model):
    fair = models.ForeignKey(JobFair, on_delete=models.CASCADE, related_name="booths")
    employer = models.ForeignKey("orgs.Employer", on_delete=models.PROTECT, related_name="+")
    booth_no = models.CharField("展位号", max_length=20, blank=True)
    postings = models.ManyToManyField(JobPosting, related_name="booths", blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["fair", "employer"], name="booth_once")]

    def __str__(self) -> str:
        return f"{self.fair_id}/{self.employer_id}"


def checkin_code() -> str:
    return secrets.token_urlsafe(12)


class FairRegistration(models.Model):
    fair = models.ForeignKey(JobFair, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="fair_registrations")
    code = models.CharField(max_length=32, unique=True, default=checkin_code)  # shown as a QR code
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["fair", "user"], name="registration_once")]

    def __str__(self) -> str:
        return f"{self.fair_id}/{self.user_id}"
