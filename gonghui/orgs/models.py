from __future__ import annotations

from django.conf import settings
from django.db import models

from .paths import PATH_MAX_LENGTH


class Division(models.Model):
    """Administrative divisions (国家统计局 2023 statistical codes), reference data from data/divisions."""

    class Level(models.IntegerChoices):
        PROVINCE = 1, "省级"
        PREFECTURE = 2, "地级"
        COUNTY = 3, "县级"
        TOWNSHIP = 4, "乡级"

    code = models.CharField(primary_key=True, max_length=12)
    name = models.CharField(max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    # 市辖区 / 县 / 省直辖县级行政区划 rows: statistical placeholders, not administrative units.
    is_placeholder = models.BooleanField(default=False)

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class Occupation(models.Model):
    """The 2022 occupational classification (职业分类大典), reference data from data/occupations."""

    code = models.CharField(primary_key=True, max_length=16)  # 4-04-05-13
    name = models.CharField(max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    level = models.PositiveSmallIntegerField()  # 1 大类, 2 中类, 3 小类, 4 细类 (an occupation)
    source = models.CharField(max_length=32, blank=True)
    name_initials = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "职业"
        verbose_name_plural = "职业"
        indexes = [models.Index(fields=["name_initials"], name="occupation_initials",
                                opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class OrgKind(models.TextChoices):
    NATIONAL = "national", "全国总工会"
    PROVINCE = "province", "省级总工会"
    CITY = "city", "市级总工会"
    COUNTY = "county", "县级总工会"
    TOWNSHIP = "township", "乡镇（街道）工会"
    INDUSTRY = "industry", "产业/行业工会联合会"
    AREA = "area", "区域性工会联合会"
    JOINT = "joint", "联合基层工会"
    PLATFORM = "platform", "平台企业工会"
    GRASSROOTS = "grassroots", "基层工会"


TERRITORIAL_KINDS = {OrgKind.NATIONAL, OrgKind.PROVINCE, OrgKind.CITY, OrgKind.COUNTY, OrgKind.TOWNSHIP}
# Unions at employers: they hold members, not further union nodes.
LEAF_KINDS = {OrgKind.GRASSROOTS, OrgKind.JOINT, OrgKind.PLATFORM}
# What staff may create under a node of each kind.
CREATABLE_CHILD_KINDS = {
    OrgKind.NATIONAL: [OrgKind.INDUSTRY, OrgKind.PLATFORM],
    OrgKind.PROVINCE: [OrgKind.INDUSTRY, OrgKind.AREA, OrgKind.PLATFORM, OrgKind.GRASSROOTS],
    OrgKind.CITY: [OrgKind.INDUSTRY, OrgKind.AREA, OrgKind.PLATFORM, OrgKind.GRASSROOTS, OrgKind.JOINT],
    OrgKind.COUNTY: [OrgKind.INDUSTRY, OrgKind.AREA, OrgKind.PLATFORM, OrgKind.GRASSROOTS, OrgKind.JOINT],
    OrgKind.TOWNSHIP: [OrgKind.AREA, OrgKind.GRASSROOTS, OrgKind.JOINT],
    OrgKind.INDUSTRY: [OrgKind.GRASSROOTS, OrgKind.JOINT, OrgKind.PLATFORM],
    OrgKind.AREA: [OrgKind.GRASSROOTS, OrgKind.JOINT],
    OrgKind.JOINT: [],
    OrgKind.PLATFORM: [],
    OrgKind.GRASSROOTS: [],
}


class OrgUnit(models.Model):
    """A union node. `path` is the materialised path; every scoped row copies it."""

    name = models.CharField("名称", max_length=200)
    kind = models.CharField("类型", max_length=16, choices=OrgKind.choices)
    # Indexed by orgunit_children (parent, path); unique `path` also gets Django's varchar_pattern_ops
    # "_like" index on PostgreSQL, which serves every subtree prefix condition.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", db_index=False
    )
    path = models.CharField(max_length=PATH_MAX_LENGTH, unique=True)
    depth = models.PositiveSmallIntegerField()
    # Last child index handed out; bumped under a row lock so concurrent creates never collide.
    child_seq = models.PositiveIntegerField(default=0)
    division = models.ForeignKey(
        Division, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="行政区划"
    )
    province_code = models.CharField(max_length=2, blank=True)  # the partition key, not a filter
    is_placeholder = models.BooleanField("统计用虚设节点", default=False)
    industry = models.CharField("行业", max_length=100, blank=True)
    chair_name = models.CharField("主席", max_length=100, blank=True)
    founded_on = models.DateField("成立日期", null=True, blank=True)
    term_ends_on = models.DateField("届期届满", null=True, blank=True)
    name_initials = models.CharField(max_length=64, blank=True)
    name_bigrams = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "工会组织"
        verbose_name_plural = "工会组织"
        indexes = [
            models.Index(fields=["parent", "path"], name="orgunit_children"),
            models.Index(fields=["name_initials"], name="orgunit_initials", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_leaf_kind(self) -> bool:
        return self.kind in LEAF_KINDS

    @property
    def kind_label(self) -> str:
        return OrgKind(self.kind).label


class Employer(models.Model):
    """An employer (用人单位). `org` is the union responsible for it: its own union if it has one,
    otherwise the territorial union where it is; `org_path` is copied from that union."""

    name = models.CharField("单位名称", max_length=200)
    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True, null=True, blank=True)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name="所在行政区划")
    address = models.CharField("地址", max_length=300, blank=True)
    industry = models.CharField("行业", max_length=100, blank=True)
    employee_count = models.PositiveIntegerField("职工人数", default=0)
    is_platform = models.BooleanField("平台企业", default=False)
    org = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="employers", verbose_name="所属工会", db_index=False
    )  # indexed by employer_org_id (org, id)
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)
    province_code = models.CharField(max_length=2, blank=True)
    name_initials = models.CharField(max_length=64, blank=True)
    name_bigrams = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "用人单位"
        verbose_name_plural = "用人单位"
        indexes = [
            models.Index(fields=["org_path", "id"], name="employer_path_id", opclasses=["varchar_pattern_ops", ""]),
            models.Index(fields=["org", "id"], name="employer_org_id"),
            models.Index(fields=["name_initials"], name="employer_initials", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_own_union(self) -> bool:
        return self.org.kind in LEAF_KINDS


class Role(models.TextChoices):
    VIEWER = "viewer", "查看员"
    STAFF = "staff", "工作人员"
    ADMIN = "admin", "管理员"


ROLE_RANK = {Role.VIEWER: 10, Role.STAFF: 20, Role.ADMIN: 30}


class CaseRole(models.TextChoices):
    """Who may read and work worker cases (12351 维权诉求) on a node, beside the general role: case
    content is personal and sensitive, so an admin or viewer without a case role does not see it."""

    NONE = "", "无"
    HANDLER = "handler", "诉求办理"  # agents and handlers: intake, accept, dispatch, reply, resolve
    SUPERVISOR = "supervisor", "诉求督办质检"  # also quality checks, closes and reopens


CASE_ROLE_RANK = {CaseRole.NONE: 0, CaseRole.HANDLER: 10, CaseRole.SUPERVISOR: 20}


class Grant(models.Model):
    """A role held by a staff member on a node, and (explicitly) on its descendants."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants")
    org = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="grants")
    org_path = models.CharField(max_length=PATH_MAX_LENGTH)
    role = models.CharField(max_length=16, choices=Role.choices)
    include_descendants = models.BooleanField("含下级组织", default=True)
    case_role = models.CharField("诉求办理角色", max_length=16, choices=CaseRole.choices, default="", blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "角色授权"
        verbose_name_plural = "角色授权"
        constraints = [models.UniqueConstraint(fields=["user", "org"], name="grant_user_org")]
        indexes = [models.Index(fields=["org_path"], name="grant_path", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return f"{self.user} {self.get_role_display()} @ {self.org}"

    @property
    def rank(self) -> int:
        return ROLE_RANK[Role(self.role)]


class OrgMove(models.Model):
    """A request to move a node under another parent, carried out by a background job."""

    class Status(models.TextChoices):
        PENDING = "pending", "待处理"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    node = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="moves")
    old_parent = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    new_parent = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    old_path = models.CharField(max_length=PATH_MAX_LENGTH)
    new_path = models.CharField(max_length=PATH_MAX_LENGTH, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "组织迁移"
        verbose_name_plural = "组织迁移"
        constraints = [
            models.UniqueConstraint(
                fields=["node"], condition=models.Q(status="pending"), name="orgmove_one_pending_per_node"
            )
        ]

    def __str__(self) -> str:
        return f"{self.node} → {self.new_parent}（{self.get_status_display()}）"
