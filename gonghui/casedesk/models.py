"""The 12351 case desk (维权服务): workers' requests, routed to the responsible union and answered
on time ("分级负责、归口办理、属地管理").

A Case belongs to the union handling it now (`org_path`, the row's scope); every step is a
CaseEvent (the log the timeline, the handling chain and the SLA clocks are read from). Deadlines
are kept on the case (`accept_due_at`, `complete_due_at`) so the deadline sweep is an index range
scan; they are computed from the time limits of the case's province (CaseTimeLimit, national
defaults in settings) in Chinese working days, and shifted by the working days the case waited for
the worker. Case content is personal: only staff with a case role (Grant.case_role) on the
handling chain or above it read it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from gonghui.core import pii
from gonghui.orgs.models import Division, Employer, OrgUnit
from gonghui.orgs.paths import PATH_MAX_LENGTH, STEP


class CaseKind(models.TextChoices):
    """诉求类型."""

    CONSULTATION = "consultation", "咨询"
    PROBLEM = "problem", "求决"
    COMPLAINT = "complaint", "投诉"
    LEGAL_AID = "legal_aid", "法律援助"
    HELP = "help", "帮扶"
    SUGGESTION = "suggestion", "建议"


class Difficulty(models.TextChoices):
    NORMAL = "normal", "一般"
    DIFFICULT = "difficult", "难点"
    COMPLEX = "complex", "特别复杂"


class Channel(models.TextChoices):
    HOTLINE = "hotline", "12351热线"
    PORTAL = "portal", "网上（职工端）"
    API = "api", "其他系统"
    VISIT = "visit", "来访"


class CaseStatus(models.TextChoices):
    PENDING = "pending", "待受理"
    IN_PROGRESS = "in_progress", "办理中"
    WAITING_WORKER = "waiting_worker", "待职工补充"
    RESOLVED = "resolved", "已办结待回访"
    CLOSED = "closed", "已结案"
    MERGED = "merged", "已合并"
    WITHDRAWN = "withdrawn", "已撤回"


OPEN_STATUSES = (CaseStatus.PENDING, CaseStatus.IN_PROGRESS, CaseStatus.WAITING_WORKER)
FINAL_STATUSES = (CaseStatus.CLOSED, CaseStatus.MERGED, CaseStatus.WITHDRAWN)


class CaseCategory(models.Model):
    """Two-level taxonomy of what a case is about (劳动报酬 → 欠薪). National entries have no owner;
    a province may add its own (owner = the province's union), seen only for its cases."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=40)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name="上级分类")
    description = models.CharField("说明", max_length=200, blank=True)
    keywords = models.CharField("检索词", max_length=200, blank=True, help_text="同义词、口语说法，空格分隔")
    default_kind = models.CharField("常见诉求类型", max_length=16, choices=CaseKind.choices, blank=True)
    default_difficulty = models.CharField("默认难度", max_length=16, choices=Difficulty.choices,
                                          default=Difficulty.NORMAL)
    sort = models.PositiveSmallIntegerField("排序", default=100)
    is_active = models.BooleanField("启用", default=True)
    owner = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                              verbose_name="添加单位（空为全国）")
    owner_path = models.CharField(max_length=PATH_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "诉求分类"
        verbose_name_plural = "诉求分类"
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name


class CaseTimeLimit(models.Model):
    """Working-day limits per difficulty, set on the national root or a province (nearest wins,
    then settings.GONGHUI_CASE_TIME_LIMITS)."""

    org = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    difficulty = models.CharField("难度", max_length=16, choices=Difficulty.choices)
    accept_days = models.PositiveSmallIntegerField("受理时限（工作日）")
    complete_days = models.PositiveSmallIntegerField("办结时限（工作日）")
    warn_days = models.PositiveSmallIntegerField("提前预警（工作日）", default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "办理时限"
        verbose_name_plural = "办理时限"
        constraints = [models.UniqueConstraint(fields=["org", "difficulty"], name="case_limit_org_difficulty")]

    def __str__(self) -> str:
        return f"{self.org_id} {self.get_difficulty_display()}：受理{self.accept_days}日，办结{self.complete_days}日"


class ClusterAlert(models.Model):
    """Several workers of one employer with the same problem in a short time (e.g. wage arrears):
    a labour-relations risk the responsible union and its parent must see."""

    class Status(models.TextChoices):
        OPEN = "open", "待处置"
        HANDLED = "handled", "已处置"

    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", db_index=False)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)
    employer = models.ForeignKey(Employer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    employer_key = models.CharField(max_length=220)  # employer id, or the normalised name given
    employer_name = models.CharField("用人单位", max_length=200)
    category = models.ForeignKey(CaseCategory, on_delete=models.PROTECT, related_name="+")
    first_case_at = models.DateTimeField()
    last_case_at = models.DateTimeField()
    case_count = models.PositiveIntegerField("诉求件数", default=0)
    workers = models.PositiveIntegerField("涉及人数", default=0)
    amount = models.DecimalField("涉及金额（元）", max_digits=14, decimal_places=2, default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "群体性诉求预警"
        verbose_name_plural = "群体性诉求预警"
        constraints = [models.UniqueConstraint(fields=["employer_key", "category"], condition=Q(status="open"),
                                               name="cluster_one_open")]
        indexes = [models.Index(fields=["org_path", "status", "-last_case_at"], name="cluster_path",
                                opclasses=["varchar_pattern_ops", "", ""])]

    def __str__(self) -> str:
        return f"{self.employer_name}：{self.category}（{self.case_count}件）"


class Case(pii.PhoneFields, models.Model):
    # Unique through a constraint (Meta), not unique=True: that adds a LIKE index nobody uses.
    external_id = models.CharField("外部编号", max_length=64, null=True, blank=True)  # noqa: DJ001 (NULL: many cases have none)
    kind = models.CharField("诉求类型", max_length=16, choices=CaseKind.choices)
    # Foreign keys without their own index where no query starts from them: every index costs each
    # write that changes an indexed column. Categories, divisions and users are deactivated, not
    # deleted; the worker's cases use case_worker.
    category = models.ForeignKey(CaseCategory, on_delete=models.PROTECT, related_name="+", verbose_name="诉求分类",
                                 db_index=False)
    difficulty = models.CharField("难度", max_length=16, choices=Difficulty.choices, default=Difficulty.NORMAL)
    channel = models.CharField("来源渠道", max_length=16, choices=Channel.choices)
    title = models.CharField("标题", max_length=60)
    description = models.TextField("诉求内容")

    # The worker. A caller without an account is known by name and phone only.
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="cases", db_index=False)
    member = models.ForeignKey("membership.Member", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="cases", db_index=False)
    name = models.CharField("姓名", max_length=50)
    phone_hash = models.CharField(max_length=64, blank=True)
    phone_encrypted = models.TextField(blank=True)
    phone_masked = models.CharField("联系电话", max_length=11, blank=True)
    protect_identity = models.BooleanField("对单位工会保密身份", default=False)
    contact_preference = models.CharField("联系方式偏好", max_length=100, blank=True)

    employer = models.ForeignKey(Employer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 db_index=False)
    employer_name = models.CharField("用人单位", max_length=200, blank=True)
    work_division = models.ForeignKey(Division, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                      db_index=False)
    workers_affected = models.PositiveIntegerField("涉及人数", default=1)
    amount_claimed = models.DecimalField("涉及金额（元）", max_digits=14, decimal_places=2, null=True, blank=True)

    # Where it is now (the row's scope), and where it came in.
    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", db_index=False)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)
    province_code = models.CharField(max_length=2, blank=True)
    intake_org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", db_index=False)
    route_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", db_index=False)

    status = models.CharField("状态", max_length=16, choices=CaseStatus.choices, default=CaseStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    # SLA clocks (see the module docstring). *_warned_at and *_overdue_at make the sweep idempotent.
    # The sweep writes only the marks and `supervisor`, which no index covers (not even in a partial
    # index's condition), so its updates are HOT: the new row version stays on its page (the table
    # keeps 30 % free, migration 0005) and none of the indexes is touched.
    accept_due_at = models.DateTimeField("受理期限", null=True, blank=True)
    accept_warn_at = models.DateTimeField(null=True, blank=True)
    complete_due_at = models.DateTimeField("办结期限", null=True, blank=True)
    complete_warn_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField("当前期限", null=True, blank=True)  # the deadline the status runs against
    accept_warned_at = models.DateTimeField(null=True, blank=True)
    complete_warned_at = models.DateTimeField(null=True, blank=True)
    accept_overdue_at = models.DateTimeField(null=True, blank=True)
    complete_overdue_at = models.DateTimeField(null=True, blank=True)
    accepted_on_time = models.BooleanField(null=True)
    completed_on_time = models.BooleanField(null=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    # 督办: the union above the one holding the case. `supervisor_path` is kept with the holder (save());
    # an overdue case is on that union's board. `supervisor` is set when the case is escalated.
    supervisor = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   db_index=False)
    supervisor_path = models.CharField(max_length=PATH_MAX_LENGTH, blank=True)

    # Outcome
    answer = models.TextField("答复", blank=True)  # a consultation answered during the call
    result = models.TextField("办理结果", blank=True)
    money_recovered = models.DecimalField("追回金额（元）", max_digits=14, decimal_places=2, default=0)
    workers_helped = models.PositiveIntegerField("帮助人数", default=0)
    satisfaction = models.PositiveSmallIntegerField("满意度", null=True, blank=True)
    satisfaction_comment = models.CharField("评价", max_length=500, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    rated_via = models.CharField(max_length=16, blank=True)  # link | phone
    qc_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", db_index=False)
    qc_at = models.DateTimeField(null=True, blank=True)
    qc_note = models.CharField("质检意见", max_length=500, blank=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged",
                                    db_index=False)
    cluster = models.ForeignKey(ClusterAlert, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases",
                                db_index=False)
    legal_aid_ref = models.CharField("法律援助申请", max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "维权诉求"
        verbose_name_plural = "维权诉求"
        constraints = [models.UniqueConstraint(fields=["external_id"], name="case_external_id",
                                               condition=Q(external_id__isnull=False))]
        indexes = [
            # The board: a subtree's cases by status, soonest deadline first.
            models.Index(fields=["org_path", "status", "due_at", "id"], name="case_board",
                         opclasses=["varchar_pattern_ops", "", "", ""]),
            # The deadline sweep walks each clock in time order. The marks it sets are deliberately not
            # in these conditions: a mark in any index would make every sweep update a new index entry
            # in every index of this wide table. Cases already acted on are skipped by reading the row.
            models.Index(fields=["accept_warn_at"], name="case_sweep_accept_warn", condition=Q(status="pending")),
            models.Index(fields=["accept_due_at"], name="case_sweep_accept_due", condition=Q(status="pending")),
            models.Index(fields=["complete_warn_at"], name="case_sweep_complete_warn",
                         condition=Q(status="in_progress")),
            models.Index(fields=["complete_due_at"], name="case_sweep_complete_due",
                         condition=Q(status="in_progress")),
            models.Index(fields=["worker", "-id"], name="case_worker", condition=Q(worker__isnull=False)),
            models.Index(fields=["phone_hash", "-id"], name="case_phone"),
            # The supervising board: cases held by a union's children, soonest deadline first (the
            # overdue ones, which it shows, come first).
            models.Index(fields=["supervisor_path", "status", "due_at", "id"], name="case_supervisor",
                         condition=~Q(supervisor_path="")),
            models.Index(fields=["employer", "category", "created_at"], name="case_employer_cat",
                         condition=Q(employer__isnull=False)),
            # The board's first pages across a big subtree: due order first, the path checked in the index.
            models.Index(fields=["status", "due_at", "id", "org_path"], name="case_board_due",
                         opclasses=["", "", "", "varchar_pattern_ops"],
                         condition=Q(status__in=["pending", "in_progress"])),
            # Cluster check for employers not in the register: the same name and place.
            models.Index(fields=["work_division", "category", "created_at"], name="case_place_cat",
                         condition=Q(employer__isnull=True)),
            # A cluster alert's cases (few cases belong to one).
            models.Index(fields=["cluster"], name="case_cluster", condition=Q(cluster__isnull=False)),
        ]

    def __str__(self) -> str:
        # The number only: the title is case content, and str() ends up in logs and admin pages.
        return self.number

    def save(self, *args, **kwargs):
        self.due_at = (self.accept_due_at if self.status == CaseStatus.PENDING
                       else self.complete_due_at if self.status == CaseStatus.IN_PROGRESS else None)
        self.supervisor_path = self.org_path[:-STEP] if len(self.org_path or "") > STEP else ""
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "due_at", "supervisor_path"}
        super().save(*args, **kwargs)

    @property
    def number(self) -> str:
        """What a worker quotes on the phone: WQ + the day it came in + the id."""
        day = timezone.localtime(self.created_at).strftime("%Y%m%d") if self.created_at else "00000000"
        return f"WQ{day}{self.pk or 0:06d}"

    @property
    def name_masked(self) -> str:
        return pii.mask_name(self.name)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def employer_label(self) -> str:
        if self.employer_id:
            return self.employer.name
        return self.employer_name or "未填写"


class CaseEvent(models.Model):
    """One step of a case: who did what, from which status and union to which, with the text."""

    class Action(models.TextChoices):
        CREATE = "create", "登记"
        CONSULT = "consult", "当场答复"
        ACCEPT = "accept", "受理"
        DISPATCH = "dispatch", "转办下级"
        RETURN = "return", "退回上级"
        NOTE = "note", "内部备注"
        REPLY = "reply", "答复职工"
        REQUEST_INFO = "request_info", "请职工补充"
        WORKER_INFO = "worker_info", "职工补充"
        RESOLVE = "resolve", "办结"
        RATE = "rate", "回访评价"
        CLOSE = "close", "质检结案"
        REOPEN = "reopen", "重新办理"
        MERGE = "merge", "合并"
        WITHDRAW = "withdraw", "撤回"
        REFER_LEGAL_AID = "legal_aid", "转法律援助"
        WARN = "warn", "临期预警"
        ESCALATE = "escalate", "超时督办"
        DIFFICULTY = "difficulty", "调整难度"

    # No single-column indexes: caseevent_case (case, id) serves a case's timeline, and nothing reads
    # events by actor (deleting a user, which staff never do, scans them once). Every index here is
    # written for each of the deadline sweep's events.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", db_index=False)
    action = models.CharField(max_length=16, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", db_index=False)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    from_org = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 db_index=False)
    to_org = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               db_index=False)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)  # the union that held the case at this step
    text = models.TextField(blank=True)
    worker_visible = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["case", "id"], name="caseevent_case")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_action_display()}"


class CaseAttachment(models.Model):
    """A photo or PDF, stored outside the web root, served only through an access-checked view."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    file = models.FileField(upload_to="casedesk/%Y/%m/")
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class CallbackLink(models.Model):
    """A signed, single-use, expiring link for the worker's satisfaction rating (no login)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="callback_links")
    nonce = models.CharField(max_length=32, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.case_id} callback"
