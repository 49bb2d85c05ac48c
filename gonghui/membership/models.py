"""Membership (会籍): applications, members, their union stints, transfers, corrections, roster imports.

Every row that belongs to a union carries that union's path (`org_path`) so a subtree is one prefix
condition, and the province code so partitioning by province is configuration. Personal
identifiers (ID number, phone) are stored as a keyed hash for lookup plus Fernet ciphertext.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from gonghui.core import pii
from gonghui.orgs.models import Division, Employer, Occupation, OrgUnit
from gonghui.orgs.paths import PATH_MAX_LENGTH


class EmploymentForm(models.TextChoices):
    LABOR_CONTRACT = "labor_contract", "劳动合同"
    DISPATCH = "dispatch", "劳务派遣"
    FLEXIBLE = "flexible", "灵活就业"
    PLATFORM = "platform", "平台网约"


class PlatformRole(models.TextChoices):
    """What a platform (平台网约) worker does; decides which industry federation fits."""

    COURIER = "courier", "快递员"
    RIDER = "rider", "外卖骑手"
    RIDE_HAILING = "ride_hailing", "网约车司机"
    TRUCK = "truck", "货车司机"
    HOUSEKEEPING = "housekeeping", "网约家政"
    OTHER = "other", "其他平台工作"


class Gender(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class PersonFields(models.Model):
    """Real-name fields shared by applications, members and roster rows."""

    name = models.CharField("姓名", max_length=50)
    id_hash = models.CharField(max_length=64)
    id_encrypted = models.TextField()
    id_masked = models.CharField("身份证号", max_length=18)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices)
    birth_date = models.DateField("出生日期")
    phone_hash = models.CharField(max_length=64, blank=True)
    phone_encrypted = models.TextField(blank=True)
    phone_masked = models.CharField("手机号", max_length=11, blank=True)

    class Meta:
        abstract = True

    @property
    def id_number(self) -> str:
        return pii.decrypt(self.id_encrypted)

    @property
    def phone(self) -> str:
        return pii.decrypt(self.phone_encrypted)

    def set_id_number(self, value: str) -> None:
        self.id_hash = pii.lookup_hash("id", value)
        self.id_encrypted = pii.encrypt(value)
        self.id_masked = pii.mask_id_number(value)

    def set_phone(self, value: str) -> None:
        self.phone_hash = pii.lookup_hash("phone", value) if value else ""
        self.phone_encrypted = pii.encrypt(value)
        self.phone_masked = pii.mask_phone(value) if value else ""

    @property
    def name_masked(self) -> str:
        return pii.mask_name(self.name)


class JobFields(models.Model):
    """Where and how the person works."""

    employer = models.ForeignKey(Employer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 verbose_name="用人单位", db_index=False)
    # For an employer that is not registered ("not listed"): what the worker told us.
    employer_name = models.CharField("单位名称", max_length=200, blank=True)
    employer_uscc = models.CharField("统一社会信用代码", max_length=18, blank=True)
    # Where the employer is, or (without one) where the worker lives or works.
    work_division = models.ForeignKey(Division, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                      verbose_name="工作/居住地")
    job_title = models.CharField("岗位", max_length=100, blank=True)
    occupation = models.ForeignKey(Occupation, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="职业")
    employment_form = models.CharField("用工形式", max_length=16, choices=EmploymentForm.choices)
    platform = models.ForeignKey(Employer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 verbose_name="所在平台", db_index=False)
    platform_role = models.CharField("平台工作类型", max_length=16, choices=PlatformRole.choices, blank=True)

    class Meta:
        abstract = True

    @property
    def is_gig(self) -> bool:
        return self.employment_form == EmploymentForm.PLATFORM

    @property
    def employer_label(self) -> str:
        if self.employer_id:
            return self.employer.name
        return self.employer_name or "无固定单位"


class MembershipPolicy(models.Model):
    """Per-node settings; the nearest ancestor-or-self that sets a value wins, then settings."""

    org = models.OneToOneField(OrgUnit, on_delete=models.CASCADE, related_name="membership_policy")
    auto_approve = models.BooleanField("自动批准入会申请", null=True, blank=True)
    decide_within_days = models.PositiveSmallIntegerField("审批时限（工作日）", null=True, blank=True)
    routing = models.JSONField("受理规则顺序", default=list, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "入会政策"
        verbose_name_plural = "入会政策"

    def __str__(self) -> str:
        return f"{self.org}入会政策"


class Application(PersonFields, JobFields):
    """An application to join (入会申请). One pending application per person (ID number)."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审批"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "未通过"
        WITHDRAWN = "withdrawn", "已撤回"

    class Source(models.TextChoices):
        ONLINE = "online", "线上申请"
        ROSTER = "roster", "集体登记"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="membership_applications")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.ONLINE)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.PENDING)
    # The receiving union and why it was chosen.
    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="受理工会", db_index=False)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)
    province_code = models.CharField(max_length=2, blank=True)
    route_rule = models.CharField(max_length=32)
    route_reason = models.CharField("受理说明", max_length=300)
    consent_version = models.CharField(max_length=32)
    consented_at = models.DateTimeField()
    submitted_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField("办理时限")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    reject_reason = models.CharField("未通过原因", max_length=500, blank=True)
    # Supervision (督办): set when the deadline passed undecided; the parent node's board lists it.
    escalated_at = models.DateTimeField(null=True, blank=True)
    supervisor = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   db_index=False)
    supervisor_path = models.CharField(max_length=PATH_MAX_LENGTH, blank=True)
    member = models.ForeignKey("Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "入会申请"
        verbose_name_plural = "入会申请"
        constraints = [
            models.UniqueConstraint(fields=["id_hash"], condition=Q(status="pending"), name="application_one_pending"),
        ]
        indexes = [
            # The approval queue: a subtree's pending applications by due time.
            models.Index(fields=["org_path", "status", "due_at"], name="application_queue",
                         opclasses=["varchar_pattern_ops", "", ""]),
            models.Index(fields=["supervisor_path", "status", "due_at"], name="application_board",
                         condition=Q(escalated_at__isnull=False), opclasses=["varchar_pattern_ops", "", ""]),
            models.Index(fields=["status", "due_at"], name="application_due", condition=Q(status="pending")),
            models.Index(fields=["user", "-id"], name="application_user"),
            models.Index(fields=["id_hash"], name="application_id_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.name_masked}的入会申请（{self.get_status_display()}）"


class MemberStatus(models.TextChoices):
    ACTIVE = "active", "正常"
    RETAINED = "retained", "保留会籍"
    TRANSFERRING = "transferring", "接转中"
    SUSPENDED = "suspended", "暂停"
    WITHDRAWN = "withdrawn", "已退会"
    DECEASED = "deceased", "已故"


# Statuses in which the person holds membership (counts as "one active membership").
HOLDING_STATUSES = {MemberStatus.ACTIVE, MemberStatus.RETAINED, MemberStatus.TRANSFERRING, MemberStatus.SUSPENDED}
# Statuses in which the card is valid.
CARD_STATUSES = {MemberStatus.ACTIVE, MemberStatus.RETAINED, MemberStatus.TRANSFERRING}


class Member(PersonFields, JobFields):
    """A person's membership. One row per person (ID number) for life: the member number stays when
    they move, withdraw and rejoin; `org` is where the membership is held now."""

    class RetainReason(models.TextChoices):
        RETIRED = "retired", "退休"
        UNEMPLOYED = "unemployed", "失业"
        EMPLOYER_CLOSED = "employer_closed", "用人单位关闭"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="member")
    member_no = models.CharField("会员编号", max_length=16, unique=True)
    status = models.CharField("会籍状态", max_length=16, choices=MemberStatus.choices, default=MemberStatus.ACTIVE)
    retain_reason = models.CharField(max_length=20, choices=RetainReason.choices, blank=True)
    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="所在工会", db_index=False)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)
    province_code = models.CharField(max_length=2, blank=True)
    joined_on = models.DateField("入会日期")
    status_changed_at = models.DateTimeField(auto_now_add=True)
    # Rotated to revoke every card QR issued so far.
    card_key = models.CharField(max_length=32, unique=True)
    source = models.CharField(max_length=16, choices=Application.Source.choices, default=Application.Source.ONLINE)
    roster_import = models.ForeignKey("RosterImport", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "会员"
        verbose_name_plural = "会员"
        constraints = [models.UniqueConstraint(fields=["id_hash"], name="member_one_per_person")]
        indexes = [
            models.Index(fields=["org_path", "id"], name="member_path_id", opclasses=["varchar_pattern_ops", ""]),
            models.Index(fields=["org", "status", "id"], name="member_org_status"),
            models.Index(fields=["phone_hash"], name="member_phone_hash"),
            models.Index(fields=["roster_import"], name="member_import",
                         condition=Q(roster_import__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.name_masked}（{self.member_no}）"

    @property
    def holds_membership(self) -> bool:
        return self.status in HOLDING_STATUSES

    @property
    def member_no_display(self) -> str:
        from .numbers import format_member_no

        return format_member_no(self.member_no)


class Stint(models.Model):
    """One period of a membership at one union: how it began and how it ended."""

    class Status(models.TextChoices):
        CURRENT = "current", "在册"
        TRANSFERRED = "transferred", "已转出"
        ENDED = "ended", "已结束"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="stints")
    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", db_index=False)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CURRENT)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    how_started = models.CharField(max_length=32)  # application / roster / transfer / retained_by_higher
    how_ended = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member"], condition=Q(status="current"),
                                               name="stint_one_current")]
        indexes = [models.Index(fields=["org_path"], name="stint_path", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return f"{self.member_id}@{self.org_id} {self.get_status_display()}"


class MemberEvent(models.Model):
    """The status history: every transition, by a service, with actor, time and reason."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    action = models.CharField(max_length=32)
    reason = models.CharField(max_length=300, blank=True)
    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", db_index=False)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    # A default rather than auto_now_add, so bulk loads (rosters, the demo) can give the real time.
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["member", "id"], name="memberevent_member")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.from_status}→{self.to_status} ({self.action})"


class Transfer(models.Model):
    """会员关系接转: the receiving union registers the member; the old union is told, cannot block."""

    class Status(models.TextChoices):
        PENDING = "pending", "待接收"
        DONE = "done", "已接收"
        CANCELLED = "cancelled", "已取消"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="transfers")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    from_org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", db_index=False)
    from_path = models.CharField(max_length=PATH_MAX_LENGTH)
    to_org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", db_index=False)
    to_path = models.CharField(max_length=PATH_MAX_LENGTH)
    province_code = models.CharField(max_length=2, blank=True)
    route_rule = models.CharField(max_length=32)
    route_reason = models.CharField(max_length=300)
    # The new job.
    employer = models.ForeignKey(Employer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 db_index=False)
    employer_name = models.CharField(max_length=200, blank=True)
    employer_uscc = models.CharField(max_length=18, blank=True)
    work_division = models.ForeignKey(Division, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    employment_form = models.CharField(max_length=16, choices=EmploymentForm.choices)
    platform = models.ForeignKey(Employer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 db_index=False)
    platform_role = models.CharField(max_length=16, choices=PlatformRole.choices, blank=True)
    job_title = models.CharField(max_length=100, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField()
    escalated_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        verbose_name = "会员关系接转"
        verbose_name_plural = "会员关系接转"
        constraints = [models.UniqueConstraint(fields=["member"], condition=Q(status="pending"),
                                               name="transfer_one_pending")]
        indexes = [
            models.Index(fields=["to_path", "status", "due_at"], name="transfer_in",
                         opclasses=["varchar_pattern_ops", "", ""]),
            models.Index(fields=["from_path", "-id"], name="transfer_out", opclasses=["varchar_pattern_ops", ""]),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.from_org_id}→{self.to_org_id}（{self.get_status_display()}）"


class ChangeRequest(models.Model):
    """A member's correction of their own data, reviewed by their union's staff."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已通过"
        REJECTED = "rejected", "未通过"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="change_requests")
    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", db_index=False)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Field -> new value. An ID number is kept encrypted in `changes_encrypted`, never in clear.
    changes = models.JSONField()
    changes_encrypted = models.TextField(blank=True)
    reason = models.CharField("说明", max_length=500, blank=True)
    evidence = models.FileField(upload_to="membership/evidence/%Y/%m/", blank=True)
    evidence_name = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    reject_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = "信息更正申请"
        verbose_name_plural = "信息更正申请"
        constraints = [models.UniqueConstraint(fields=["member"], condition=Q(status="pending"),
                                               name="changerequest_one_pending")]
        indexes = [models.Index(fields=["org_path", "status", "id"], name="changerequest_queue",
                                opclasses=["varchar_pattern_ops", "", ""])]

    def __str__(self) -> str:
        return f"{self.member_id}的信息更正（{self.get_status_display()}）"


class Notice(models.Model):
    """A message to a worker, shown in the portal (application decided, escalated, transferred…)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    title = models.CharField(max_length=100)
    body = models.CharField(max_length=500)
    link = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-id"], name="notice_user")]

    def __str__(self) -> str:
        return self.title


class OrgNotice(models.Model):
    """A message to a union's staff (a member transferred out, an escalation to supervise)."""

    # No database foreign key, as for rollups: the deadline sweep writes thousands per batch, and each
    # check would lock a union row (Django still deletes a union's notices with it).
    org = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)
    kind = models.CharField(max_length=32)
    title = models.CharField(max_length=100)
    body = models.CharField(max_length=500)
    link = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["org", "-id"], name="orgnotice_org")]

    def __str__(self) -> str:
        return self.title


class RosterImport(models.Model):
    """集体登记入会: a roster file validated into staging rows, then committed in batches."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        VALIDATING = "validating", "校验中"
        VALIDATED = "validated", "校验完成"
        COMMITTING = "committing", "入库中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"
        CANCELLED = "cancelled", "已取消"

    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", db_index=False)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)
    province_code = models.CharField(max_length=2, blank=True)
    employer = models.ForeignKey(Employer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 db_index=False)
    file = models.FileField(upload_to="membership/imports/%Y/%m/")
    original_name = models.CharField(max_length=200)
    file_format = models.CharField(max_length=8)  # csv / xlsx
    encoding = models.CharField(max_length=16, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    error = models.CharField(max_length=500, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    error_rows = models.PositiveIntegerField(default=0)
    committed_rows = models.PositiveIntegerField(default=0)
    skipped_rows = models.PositiveIntegerField(default=0)
    # Progress of the running phase, 0..total_rows; committing resumes after `committed_upto`.
    processed_rows = models.PositiveIntegerField(default=0)
    committed_upto = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "花名册导入"
        verbose_name_plural = "花名册导入"
        indexes = [models.Index(fields=["org_path", "-id"], name="rosterimport_path",
                                opclasses=["varchar_pattern_ops", ""])]

    def __str__(self) -> str:
        return f"{self.original_name}（{self.get_status_display()}）"


class RosterRow(models.Model):
    """One validated roster row. Errors are Chinese messages; valid rows carry ready-to-insert values."""

    roster_import = models.ForeignKey(RosterImport, on_delete=models.CASCADE, related_name="rows", db_index=False)
    row_no = models.PositiveIntegerField()  # as the spreadsheet numbers it (header is row 1)
    ok = models.BooleanField(default=False)
    errors = models.TextField(blank=True)
    raw = models.JSONField(default=dict)  # only for rows with errors, to write the report
    name = models.CharField(max_length=50, blank=True)
    id_hash = models.CharField(max_length=64, blank=True)
    id_encrypted = models.TextField(blank=True)
    id_masked = models.CharField(max_length=18, blank=True)
    gender = models.CharField(max_length=1, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    phone_hash = models.CharField(max_length=64, blank=True)
    phone_encrypted = models.TextField(blank=True)
    phone_masked = models.CharField(max_length=11, blank=True)
    employment_form = models.CharField(max_length=16, blank=True)
    job_title = models.CharField(max_length=100, blank=True)
    occupation_code = models.CharField(max_length=16, blank=True)
    # Filled when committed: the member created, or why it was skipped.
    outcome = models.CharField(max_length=16, blank=True)  # created / skipped

    class Meta:
        constraints = [models.UniqueConstraint(fields=["roster_import", "row_no"], name="rosterrow_import_row")]

    def __str__(self) -> str:
        return f"{self.roster_import_id}#{self.row_no}"


class MemberNoCounter(models.Model):
    """The member-number sequence on SQLite (PostgreSQL uses a real sequence, see numbers.py)."""

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.value)
