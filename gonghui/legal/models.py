"""The legal-affairs cloud (法务云): the law library, legal aid and labour-law supervision (一函两书).

A Law is one text as shipped in data/laws (loaded by `manage.py load_laws`), cut into divisions
(编/章/节) and articles (条); an article keeps its paragraphs (款) and items (项) as a list, so the
text prints exactly as published. Each article also carries a plain-language summary and the
words workers use for it (data/legal/summaries), its text cut into words by jieba for search
(`search_text`, `search_head`: words separated by spaces), and the articles it cites.

On PostgreSQL the migration adds a generated `search_vector` column (the two segmented texts,
weighted A and B) with a GIN index; Django does not see it, the search selector queries it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from gonghui.core import pii
from gonghui.orgs.paths import PATH_MAX_LENGTH


class LawKind(models.TextChoices):
    LAW = "law", "法律"
    REGULATION = "regulation", "行政法规"
    RULE = "rule", "部门规章"


class Law(models.Model):
    slug = models.SlugField(max_length=80, unique=True, allow_unicode=False)
    title = models.CharField("名称", max_length=120, unique=True)
    short_title = models.CharField("简称", max_length=60, unique=True)
    kind = models.CharField("效力级别", max_length=20, choices=LawKind.choices, default=LawKind.LAW)
    revised = models.DateField("文本版本日期", null=True, blank=True)
    history = models.JSONField("制定和修改经过", default=list, blank=True)
    appendix = models.TextField("附件", blank=True)
    source_file = models.CharField(max_length=200)
    source_sha256 = models.CharField(max_length=64)
    article_count = models.PositiveIntegerField(default=0)
    sort = models.IntegerField(default=100)
    loaded_at = models.DateTimeField()

    class Meta:
        ordering = ["sort", "id"]
        verbose_name = "法律法规"
        verbose_name_plural = "法律法规"

    def __str__(self) -> str:
        return self.title


class LawDivision(models.Model):
    """编, 章 or 节, in order; a 节 names its 章 as parent."""

    law = models.ForeignKey(Law, on_delete=models.CASCADE, related_name="divisions")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    level = models.CharField(max_length=10)  # part | chapter | section
    number = models.PositiveIntegerField()
    label = models.CharField(max_length=20)  # 第一章
    title = models.CharField(max_length=120, blank=True)
    order = models.PositiveIntegerField()

    class Meta:
        ordering = ["law", "order"]
        constraints = [models.UniqueConstraint(fields=["law", "order"], name="legal_division_order")]

    def __str__(self) -> str:
        return f"{self.label} {self.title}".strip()


class Article(models.Model):
    law = models.ForeignKey(Law, on_delete=models.CASCADE, related_name="articles")
    number = models.PositiveIntegerField()
    label = models.CharField(max_length=20)  # 第八十二条
    division = models.ForeignKey(LawDivision, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles")
    # [{"text": "...", "items": [{"label": "（一）", "text": "..."}]}]: 款 and 项 as published.
    paragraphs = models.JSONField(default=list)
    text = models.TextField()  # the paragraphs and items on their own lines, without the label
    summary = models.CharField("白话要点", max_length=200, blank=True)
    keywords = models.CharField("常用说法", max_length=400, blank=True)
    search_text = models.TextField(blank=True)  # the text, segmented
    search_head = models.TextField(blank=True)  # law short title, division, summary, keywords, segmented

    class Meta:
        ordering = ["law", "number"]
        constraints = [models.UniqueConstraint(fields=["law", "number"], name="legal_article_number")]

    def __str__(self) -> str:
        return f"{self.law.short_title}{self.label}"


class ArticleReference(models.Model):
    """One article citing another ("依照本法第三十九条", "依照劳动合同法第八十二条"); `start`/`end`
    is the span of 第X条 in the citing article's `text`, which the article page turns into a link."""

    source = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="references")
    target = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="cited_by")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()

    class Meta:
        ordering = ["source", "start"]
        constraints = [models.UniqueConstraint(fields=["source", "start"], name="legal_reference_span")]

    def __str__(self) -> str:
        return f"{self.source_id} → {self.target_id}"


# --- Legal aid (工会法律援助) ----------------------------------------------------------------------
# An AidApplication is handled by a county-level or higher union (its legal-aid centre), found from
# the worker's employer or place like a case and then up the tree. The union decides within a
# number of working days (LegalPolicy, national default in settings), the clock pausing while the
# worker supplies missing documents; an approved file gets a lawyer or volunteer (AidProvider), goes
# through stages (AidStage) with hearings and statutory time limits (AidDeadline), ends with an
# outcome and a closing report, and is archived. Every change is an AidEvent (the timeline).
# Content is personal: staff read it with a case role (Grant.case_role) on the handling union or
# above, the assigned provider reads the files assigned to them, the worker their own.


class LegalPolicy(models.Model):
    """A union's own legal-affairs settings; unset values come from the nearest ancestor's, then
    settings.GONGHUI_LEGAL_DEFAULTS."""

    org = models.OneToOneField("orgs.OrgUnit", on_delete=models.CASCADE, related_name="legal_policy")
    aid_decide_days = models.PositiveSmallIntegerField("法律援助审查时限（工作日）", null=True, blank=True)
    opinion_reply_days = models.PositiveSmallIntegerField("意见书回复期限（工作日）", null=True, blank=True)
    suggestion_reply_days = models.PositiveSmallIntegerField("建议书回复期限（工作日）", null=True, blank=True)
    reminder_reply_days = models.PositiveSmallIntegerField("提示函回复期限（工作日）", null=True, blank=True)
    letter_prefix = models.CharField("文号机关代字", max_length=20, blank=True)  # e.g. 深南工
    # Printed on the union's own letters (not inherited: a county's letters carry its own contact).
    letter_contact = models.CharField("文书联系人及电话", max_length=100, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "法务设置"
        verbose_name_plural = "法务设置"

    def __str__(self) -> str:
        return f"{self.org} 法务设置"


class Expertise(models.TextChoices):
    WAGES = "wages", "劳动报酬"
    CONTRACT = "contract", "劳动合同"
    DISMISSAL = "dismissal", "解除劳动关系与经济补偿"
    SOCIAL_INSURANCE = "social_insurance", "社会保险"
    INJURY = "injury", "工伤与职业病"
    HOURS = "hours", "工时与休假"
    WOMEN = "women", "女职工权益"
    PLATFORM = "platform", "新就业形态"
    COLLECTIVE = "collective", "集体劳动争议"
    OTHER = "other", "其他劳动争议"


class AidProvider(pii.PhoneFields, models.Model):
    """A lawyer, legal worker or volunteer on a union's legal-aid roster."""

    class Kind(models.TextChoices):
        LAWYER = "lawyer", "律师"
        LEGAL_WORKER = "legal_worker", "基层法律服务工作者"
        UNION_STAFF = "union_staff", "工会法律工作者"
        VOLUNTEER = "volunteer", "法律志愿者"

    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+", db_index=False)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)
    kind = models.CharField("类别", max_length=16, choices=Kind.choices)
    name = models.CharField("姓名", max_length=50)
    firm = models.CharField("执业机构", max_length=100, blank=True)
    licence_no = models.CharField("执业证号", max_length=30, blank=True)
    phone_hash = models.CharField(max_length=64, blank=True)
    phone_encrypted = models.TextField(blank=True)
    phone_masked = models.CharField("联系电话", max_length=11, blank=True)
    expertise = models.JSONField("擅长领域", default=list, blank=True)  # Expertise values
    region = models.ForeignKey("orgs.Division", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               db_index=False, verbose_name="服务地区")
    region_code = models.CharField(max_length=12, blank=True)
    max_active = models.PositiveSmallIntegerField("同时承办上限", default=10)
    active_count = models.PositiveIntegerField("在办件数", default=0)  # kept by the services
    closed_count = models.PositiveIntegerField("结案件数", default=0)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="aid_provider")
    is_active = models.BooleanField("在册", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "法律援助律师/志愿者"
        verbose_name_plural = "法律援助律师/志愿者"
        indexes = [models.Index(fields=["org_path", "is_active", "name"], name="aidprovider_path",
                                opclasses=["varchar_pattern_ops", "", ""])]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_kind_display()}）"

    @property
    def expertise_labels(self) -> list[str]:
        return [Expertise(value).label for value in self.expertise if value in Expertise.values]


class AidStatus(models.TextChoices):
    SUBMITTED = "submitted", "待审查"
    NEEDS_DOCS = "needs_docs", "待补充材料"
    APPROVED = "approved", "已批准待指派"
    REJECTED = "rejected", "不予援助"
    ASSIGNED = "assigned", "承办中"
    CONCLUDED = "concluded", "已结案"
    ARCHIVED = "archived", "已归档"
    WITHDRAWN = "withdrawn", "已撤回"


AID_OPEN_STATUSES = (AidStatus.SUBMITTED, AidStatus.NEEDS_DOCS, AidStatus.APPROVED, AidStatus.ASSIGNED)


class AidApplication(pii.PhoneFields, models.Model):
    class Source(models.TextChoices):
        DIRECT = "direct", "直接申请"
        QUESTION = "question", "法律问答"
        CASE = "case", "12351诉求转介"

    class Outcome(models.TextChoices):
        MEDIATED = "mediated", "调解成功"
        SETTLED = "settled", "和解"
        AWARD_WON = "award_won", "仲裁支持"
        AWARD_PARTIAL = "award_partial", "仲裁部分支持"
        AWARD_LOST = "award_lost", "仲裁未支持"
        JUDGMENT_WON = "judgment_won", "判决支持"
        JUDGMENT_PARTIAL = "judgment_partial", "判决部分支持"
        JUDGMENT_LOST = "judgment_lost", "判决未支持"
        WITHDRAWN = "withdrawn", "申请人撤回"
        ADVICE_ONLY = "advice_only", "咨询代书完毕"

    source = models.CharField("申请来源", max_length=16, choices=Source.choices, default=Source.DIRECT)
    case = models.ForeignKey("casedesk.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             db_index=False)
    question = models.TextField("法律问答中的问题", blank=True)

    # The applicant.
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="aid_applications", db_index=False)
    member = models.ForeignKey("membership.Member", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", db_index=False)
    name = models.CharField("申请人", max_length=50)
    phone_hash = models.CharField(max_length=64, blank=True)
    phone_encrypted = models.TextField(blank=True)
    phone_masked = models.CharField("联系电话", max_length=11, blank=True)
    # Membership proof filled in from the member record at submission (会员证明): number, union, since.
    membership_proof = models.JSONField("会员证明", default=dict, blank=True)

    # The dispute.
    category = models.CharField("争议类型", max_length=20, choices=Expertise.choices)
    facts = models.TextField("案情及请求")
    employer = models.ForeignKey("orgs.Employer", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", db_index=False)
    employer_name = models.CharField("用人单位", max_length=200)
    work_division = models.ForeignKey("orgs.Division", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+", db_index=False)
    workers_involved = models.PositiveIntegerField("涉及人数", default=1)
    amount_claimed = models.DecimalField("请求金额（元）", max_digits=14, decimal_places=2, null=True, blank=True)
    hardship = models.BooleanField("申请人经济困难", default=False)

    # The union handling it (the row's scope).
    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+", db_index=False)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)
    province_code = models.CharField(max_length=2, blank=True)
    route_reason = models.CharField(max_length=300, blank=True)

    status = models.CharField("状态", max_length=16, choices=AidStatus.choices, default=AidStatus.SUBMITTED)
    submitted_at = models.DateTimeField(auto_now_add=True)
    decide_due_at = models.DateTimeField("审查期限")
    paused_at = models.DateTimeField(null=True, blank=True)  # waiting for the worker's documents
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_on_time = models.BooleanField(null=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.CharField("不予援助理由", max_length=500, blank=True)

    provider = models.ForeignKey(AidProvider, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="applications", db_index=False)
    assigned_at = models.DateTimeField(null=True, blank=True)

    outcome = models.CharField("结果", max_length=20, choices=Outcome.choices, blank=True)
    amount_awarded = models.DecimalField("裁判/调解确定金额（元）", max_digits=14, decimal_places=2, null=True,
                                         blank=True)
    amount_recovered = models.DecimalField("实际追回金额（元）", max_digits=14, decimal_places=2, null=True,
                                           blank=True)
    closing_report = models.TextField("结案报告", blank=True)
    concluded_at = models.DateTimeField(null=True, blank=True)
    archive_no = models.CharField("档案号", max_length=40, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "法律援助申请"
        verbose_name_plural = "法律援助申请"
        indexes = [
            models.Index(fields=["org_path", "status", "id"], name="aid_board", opclasses=["varchar_pattern_ops", "", ""]),
            models.Index(fields=["applicant", "-id"], name="aid_applicant", condition=models.Q(applicant__isnull=False)),
            models.Index(fields=["provider", "status"], name="aid_provider", condition=models.Q(provider__isnull=False)),
            models.Index(fields=["decide_due_at"], name="aid_decide_due",
                         condition=models.Q(status="submitted", overdue_notified_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        """What the worker quotes: FY + the day it came in + the id."""
        day = timezone.localtime(self.submitted_at).strftime("%Y%m%d") if self.submitted_at else "00000000"
        return f"FY{day}{self.pk or 0:06d}"

    @property
    def name_masked(self) -> str:
        return pii.mask_name(self.name)

    @property
    def is_open(self) -> bool:
        return self.status in AID_OPEN_STATUSES


class AidDocument(models.Model):
    """One item of the checklist: an uploaded file (stored outside the web root, served through an
    access check) or, for membership, the proof generated from the member record."""

    class Kind(models.TextChoices):
        MEMBERSHIP = "membership", "会员身份证明"
        IDENTITY = "identity", "身份证件"
        HARDSHIP = "hardship", "经济困难证明"
        EVIDENCE = "evidence", "证据材料"
        AUTHORISATION = "authorisation", "授权委托书"
        AWARD = "award", "调解书/裁决书/判决书"
        OTHER = "other", "其他材料"

    application = models.ForeignKey(AidApplication, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    file = models.FileField(upload_to="legal/aid/%Y/%m/", blank=True)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    note = models.CharField("说明", max_length=300, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["application", "id"]

    def __str__(self) -> str:
        return self.name


class AidStage(models.Model):
    class Kind(models.TextChoices):
        CONSULTATION = "consultation", "咨询代书"
        MEDIATION = "mediation", "调解"
        ARBITRATION = "arbitration", "劳动仲裁"
        FIRST_INSTANCE = "first_instance", "一审诉讼"
        SECOND_INSTANCE = "second_instance", "二审诉讼"
        ENFORCEMENT = "enforcement", "强制执行"

    application = models.ForeignKey(AidApplication, on_delete=models.CASCADE, related_name="stages")
    kind = models.CharField("阶段", max_length=16, choices=Kind.choices)
    forum = models.CharField("受理机构", max_length=100, blank=True)  # 仲裁委、法院、调解组织
    docket_no = models.CharField("案号", max_length=60, blank=True)
    started_on = models.DateField("开始日期")
    ended_on = models.DateField("结束日期", null=True, blank=True)
    decision_received_on = models.DateField("文书送达日期", null=True, blank=True)
    result = models.TextField("阶段结果", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["application", "started_on", "id"]

    def __str__(self) -> str:
        return self.get_kind_display()


class AidDeadline(models.Model):
    """A hearing or a statutory time limit, with where the limit comes from; reminded before it."""

    class Kind(models.TextChoices):
        HEARING = "hearing", "开庭/调解日期"
        STATUTORY = "statutory", "法定期限"
        OTHER = "other", "其他期限"

    application = models.ForeignKey(AidApplication, on_delete=models.CASCADE, related_name="deadlines")
    stage = models.ForeignKey(AidStage, null=True, blank=True, on_delete=models.CASCADE, related_name="deadlines")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField("事项", max_length=100)
    due_at = models.DateTimeField("日期")
    basis = models.CharField("依据", max_length=200, blank=True)  # 《劳动争议调解仲裁法》第五十条
    rule = models.CharField(max_length=40, blank=True)  # the statutory rule that made it, for recomputation
    place = models.CharField("地点", max_length=200, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["due_at"], name="aiddeadline_remind",
                                condition=models.Q(done_at__isnull=True, reminded_at__isnull=True))]

    def __str__(self) -> str:
        return self.title


class AidEvent(models.Model):
    class Action(models.TextChoices):
        SUBMIT = "submit", "提交申请"
        REQUEST_DOCS = "request_docs", "通知补充材料"
        SUPPLY_DOCS = "supply_docs", "补充材料"
        APPROVE = "approve", "批准援助"
        REJECT = "reject", "不予援助"
        ASSIGN = "assign", "指派承办人"
        STAGE = "stage", "办理阶段"
        DEADLINE = "deadline", "期限"
        NOTE = "note", "办理记录"
        CONCLUDE = "conclude", "结案"
        ARCHIVE = "archive", "归档"
        WITHDRAW = "withdraw", "撤回"
        OVERDUE = "overdue", "审查超期督办"

    application = models.ForeignKey(AidApplication, on_delete=models.CASCADE, related_name="events", db_index=False)
    action = models.CharField(max_length=16, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", db_index=False)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    text = models.TextField(blank=True)
    worker_visible = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["application", "id"], name="aidevent_application")]

    def __str__(self) -> str:
        return f"{self.application_id} {self.get_action_display()}"


# --- Labour-law supervision: 一函两书 -------------------------------------------------------------
# A SupervisionRecord is what two monitors found at an employer (with the articles violated, from
# the library); it leads to letters: 提示函 and 意见书 to the employer, 建议书 from a county-level or
# higher union to the labour inspection authority, and a referral (移送) of a lead to the
# procuratorate. A letter gets its serial number when issued (per issuing union, kind and year, from
# LetterSerial under a row lock, so numbers have no gaps and no repeats), then is delivered,
# answered and followed until the employer rectifies or the union escalates.


class SupervisionRecord(models.Model):
    class Trigger(models.TextChoices):
        INSPECTION = "inspection", "日常监督检查"
        CASE = "case", "职工诉求"
        CLUSTER = "cluster", "风险预警"
        REPORT = "report", "举报线索"
        OTHER = "other", "其他"

    class Status(models.TextChoices):
        OPEN = "open", "跟踪中"
        RECTIFIED = "rectified", "已整改"
        CLOSED = "closed", "已结束"

    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+", db_index=False)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)
    province_code = models.CharField(max_length=2, blank=True)
    trigger = models.CharField("监督来源", max_length=16, choices=Trigger.choices)
    case = models.ForeignKey("casedesk.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             db_index=False)
    cluster = models.ForeignKey("casedesk.ClusterAlert", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", db_index=False)
    employer = models.ForeignKey("orgs.Employer", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", db_index=False)
    employer_name = models.CharField("用人单位", max_length=200)
    employer_address = models.CharField("单位地址", max_length=200, blank=True)
    inspected_on = models.DateField("检查日期")
    monitors = models.JSONField("劳动法律监督员", default=list)  # [{"name":…, "cert_no":…}], at least two
    findings = models.TextField("发现的问题")
    articles = models.ManyToManyField(Article, related_name="+", blank=True, verbose_name="违反的条款")
    workers_affected = models.PositiveIntegerField("涉及职工人数", default=0)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.OPEN)
    rectified_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "劳动法律监督记录"
        verbose_name_plural = "劳动法律监督记录"
        indexes = [models.Index(fields=["org_path", "-id"], name="supervision_path",
                                opclasses=["varchar_pattern_ops", ""])]

    def __str__(self) -> str:
        return f"JD{self.pk or 0:06d} {self.employer_name}"


class LetterKind(models.TextChoices):
    REMINDER = "reminder", "劳动法律监督提示函"
    OPINION = "opinion", "劳动法律监督意见书"
    SUGGESTION = "suggestion", "劳动法律监督建议书"
    REFERRAL = "referral", "移送检察机关线索函"


class LetterStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    ISSUED = "issued", "已签发"
    DELIVERED = "delivered", "已送达"
    REPLIED = "replied", "已回复"
    RECTIFIED = "rectified", "已整改"
    UNRESOLVED = "unresolved", "逾期未整改"
    ESCALATED = "escalated", "已升级"
    VOID = "void", "已作废"


class SupervisionLetter(models.Model):
    record = models.ForeignKey(SupervisionRecord, on_delete=models.PROTECT, related_name="letters")
    kind = models.CharField("文书类型", max_length=16, choices=LetterKind.choices)
    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+", db_index=False)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)
    province_code = models.CharField(max_length=2, blank=True)
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="next_letters",
                                 db_index=False)
    recipient = models.CharField("主送", max_length=200)
    recipient_address = models.CharField("送达地址", max_length=200, blank=True)
    body = models.TextField("正文")
    demands = models.TextField("整改要求/建议事项", blank=True)
    articles = models.ManyToManyField(Article, related_name="+", blank=True, verbose_name="引用条款")
    referral_ground = models.CharField("移送事由", max_length=30, blank=True)
    reply_days = models.PositiveSmallIntegerField("回复期限（工作日）", null=True, blank=True)

    status = models.CharField("状态", max_length=16, choices=LetterStatus.choices, default=LetterStatus.DRAFT)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    serial = models.PositiveIntegerField(null=True, blank=True)
    serial_label = models.CharField("文号", max_length=60, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivery_method = models.CharField("送达方式", max_length=30, blank=True)
    received_by = models.CharField("签收人", max_length=50, blank=True)
    reply_due_at = models.DateTimeField("回复期限", null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    reply_text = models.TextField("回复内容", blank=True)
    rectified_at = models.DateTimeField(null=True, blank=True)
    rectification = models.TextField("整改情况", blank=True)
    void_reason = models.CharField("作废原因", max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "一函两书"
        verbose_name_plural = "一函两书"
        constraints = [models.UniqueConstraint(fields=["org", "kind", "year", "serial"], name="letter_serial",
                                               condition=models.Q(serial__isnull=False))]
        indexes = [
            models.Index(fields=["org_path", "kind", "status"], name="letter_path",
                         opclasses=["varchar_pattern_ops", "", ""]),
            models.Index(fields=["reply_due_at"], name="letter_reply_due",
                         condition=models.Q(status="delivered", overdue_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.serial_label or f"{self.get_kind_display()}（草稿）"


class LetterSerial(models.Model):
    """The last number used per issuing union, kind and year; locked while a letter is issued."""

    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=LetterKind.choices)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "kind", "year"], name="letter_serial_counter")]

    def __str__(self) -> str:
        return f"{self.org_id} {self.kind} {self.year}: {self.last}"


class LetterEvent(models.Model):
    class Action(models.TextChoices):
        DRAFT = "draft", "起草"
        EDIT = "edit", "修改"
        ISSUE = "issue", "签发"
        DELIVER = "deliver", "送达"
        REMIND = "remind", "临期提醒"
        OVERDUE = "overdue", "逾期未回复"
        REPLY = "reply", "收到回复"
        RECTIFY = "rectify", "整改完成"
        UNRESOLVED = "unresolved", "未整改"
        ESCALATE = "escalate", "升级"
        VOID = "void", "作废"

    letter = models.ForeignKey(SupervisionLetter, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=16, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["letter", "id"]

    def __str__(self) -> str:
        return f"{self.letter_id} {self.get_action_display()}"
