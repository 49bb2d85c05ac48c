"""The demo dataset: employers with valid USCC, their unions, federations, staff and workers.

Deterministic (fixed seed), built on top of the real territorial tree from load_divisions.
The demo staff accounts exist only here; production settings refuse to start with them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from stdnum.cn import uscc as stdnum_uscc

from gonghui.accounts.models import User
from gonghui.analytics.rollups import rollup_rebuild
from gonghui.core.text import name_bigrams, name_initials

from .models import CaseRole, Division, Employer, Grant, OrgKind, OrgUnit, Role
from .paths import child_path

_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# Counties whose townships get employers, and how many employers each.
DEMO_COUNTIES = {
    "440305": 900,  # 深圳市南山区
    "440304": 500,  # 深圳市福田区
    "440106": 350,  # 广州市天河区
    "110108": 400,  # 北京市海淀区
    "330106": 300,  # 杭州市西湖区
    "510107": 250,  # 成都市武侯区
    "320505": 200,  # 苏州市虎丘区
}
BRAND_CHARS = "华创瑞泰鑫源盛达恒兴宏宇嘉信安康通联博远智诚汇丰新科明德腾飞金鹏中天海川佳和美锦"
INDUSTRIES = [
    ("科技", "信息传输、软件和信息技术服务业"),
    ("电子", "制造业"),
    ("精密制造", "制造业"),
    ("物流", "交通运输、仓储和邮政业"),
    ("建筑工程", "建筑业"),
    ("餐饮管理", "住宿和餐饮业"),
    ("物业服务", "租赁和商务服务业"),
    ("医药", "制造业"),
    ("商贸", "批发和零售业"),
    ("供应链管理", "租赁和商务服务业"),
    ("环保科技", "水利、环境和公共设施管理业"),
    ("文化传媒", "文化、体育和娱乐业"),
]
SUFFIXES = ["有限公司", "股份有限公司", "有限责任公司"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国海燕志红"


def org_code(rng: random.Random) -> str:
    """A 9-character organisation code with its GB 11714 check character."""
    body = "".join(rng.choice("0123456789") for _ in range(8))
    total = sum(int(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def make_uscc(rng: random.Random, division_code: str, kind: str = "91") -> str:
    """A valid 18-character 统一社会信用代码: registration kind, division, organisation code, check."""
    code = org_code(rng).replace("X", "0")
    first17 = f"{kind}{division_code[:6]}{code}"
    return stdnum_uscc.validate(first17 + stdnum_uscc.calc_check_digit(first17))


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


@dataclass
class DemoLogin:
    username: str
    org: str
    role: str


class DemoBuilder:
    def __init__(self, seed: int = 2026):
        self.rng = random.Random(seed)
        self.used_uscc: set[str] = set()
        self.used_names: set[str] = set()
        self.paths = dict(OrgUnit.objects.values_list("division_id", "path").exclude(division_id=None).filter(
            kind__in=[OrgKind.PROVINCE, OrgKind.CITY, OrgKind.COUNTY, OrgKind.TOWNSHIP]))
        self.seq = dict(OrgUnit.objects.values_list("path", "child_seq"))
        self.unsaved: list[OrgUnit] = []  # made with save=False, inserted together by save_new_unions()
        self.grown: dict[int, str] = {}  # their parents: pk -> path (whose child_seq then changes)

    # -- helpers ------------------------------------------------------------------------------
    def by_division(self, code: str) -> OrgUnit:
        return OrgUnit.objects.get(path=self.paths[code])

    def new_union(self, parent: OrgUnit, name: str, kind: str, division_id: str | None, industry: str = "",
                  *, save: bool = True) -> OrgUnit:
        """A union under `parent`, saved at once, or with save=False kept (path set, no pk yet) until
        save_new_unions() inserts all such unions in a few statements (two thousand of them otherwise
        cost two round trips each)."""
        self.seq[parent.path] = self.seq.get(parent.path, 0) + 1
        path = child_path(parent.path, self.seq[parent.path])
        unit = OrgUnit(
            name=name, kind=kind, parent=parent, path=path, depth=len(path) // 4, division_id=division_id,
            province_code=(division_id or parent.province_code or "")[:2], industry=industry,
            chair_name=person_name(self.rng), founded_on=f"{self.rng.randint(2005, 2024)}-{self.rng.randint(1, 12):02d}-01",
            name_initials=name_initials(name), name_bigrams=name_bigrams(name),
        )
        if not save:
            self.unsaved.append(unit)
            self.grown[parent.pk] = parent.path
            return unit
        unit.save(force_insert=True)
        OrgUnit.objects.filter(pk=parent.pk).update(child_seq=self.seq[parent.path])
        return unit

    def save_new_unions(self) -> None:
        """Insert the unions made with save=False, in the order they were made, and their parents'
        child counters."""
        if connection.features.can_return_rows_from_bulk_insert:
            OrgUnit.objects.bulk_create(self.unsaved, batch_size=1000)  # sets each unit's pk
        else:
            for unit in self.unsaved:
                unit.save(force_insert=True)
        OrgUnit.objects.bulk_update([OrgUnit(pk=pk, child_seq=self.seq[path]) for pk, path in self.grown.items()],
                                    ["child_seq"], batch_size=500)
        self.unsaved, self.grown = [], {}

    def employer_name(self, city: str) -> tuple[str, str]:
        while True:
            brand = "".join(self.rng.sample(BRAND_CHARS, 2))
            word, industry = self.rng.choice(INDUSTRIES)
            name = f"{city}{brand}{word}{self.rng.choice(SUFFIXES)}"
            if name not in self.used_names:
                self.used_names.add(name)
                return name, industry

    def uscc(self, division_code: str) -> str:
        while True:
            code = make_uscc(self.rng, division_code)
            if code not in self.used_uscc:
                self.used_uscc.add(code)
                return code

    # -- the dataset ----------------------------------------------------------------------------
    def build(self) -> list[DemoLogin]:
        employers: list[Employer] = []
        for county_code, count in DEMO_COUNTIES.items():
            county = Division.objects.get(code=county_code)
            city = county.parent
            city_short = city.name.removesuffix("市") + ("市" if city.name.endswith("市") else "")
            townships = list(Division.objects.filter(parent=county).order_by("code"))
            for i in range(count):
                town = townships[i % len(townships)]
                name, industry = self.employer_name(city_short)
                employers.append(
                    Employer(
                        name=name, uscc=self.uscc(town.code), division=town,
                        address=f"{city.name}{county.name}{town.name.removesuffix('办事处')}{self.rng.randint(1, 399)}号",
                        industry=industry, employee_count=self.rng.choice([8, 15, 30, 60, 120, 300, 800, 2500]),
                        org_id=0, org_path="", province_code=town.code[:2],
                        name_initials=name_initials(name), name_bigrams=name_bigrams(name),
                    )
                )
        township_units = {
            code: unit for code, unit in ((u.division_id, u) for u in OrgUnit.objects.filter(
                kind=OrgKind.TOWNSHIP, division_id__in={e.division_id for e in employers}))
        }
        # Most employers with 25+ workers have their own union; small ones join a joint union or none.
        # The new unions are inserted together once all are known (save_new_unions), then the employers.
        union_of: list[OrgUnit] = []  # each employer's union, by position in `employers`
        small_by_town: dict[str, list[int]] = {}
        for i, employer in enumerate(employers):
            town_unit = township_units[employer.division_id]
            if employer.employee_count >= 25 and self.rng.random() < 0.85:
                union_of.append(self.new_union(town_unit, f"{employer.name}工会委员会", OrgKind.GRASSROOTS,
                                               employer.division_id, employer.industry, save=False))
            else:
                union_of.append(town_unit)
                small_by_town.setdefault(employer.division_id, []).append(i)
        for town_code, smalls in small_by_town.items():
            if len(smalls) >= 4:
                town_unit = township_units[town_code]
                joint = self.new_union(town_unit, f"{town_unit.name.removesuffix('工会')}第一联合工会委员会",
                                       OrgKind.JOINT, town_code, save=False)
                for i in smalls[: self.rng.randint(3, 5)]:
                    union_of[i] = joint
        self.save_new_unions()
        for employer, union in zip(employers, union_of, strict=True):
            employer.org_id, employer.org_path = union.pk, union.path
        Employer.objects.bulk_create(employers, batch_size=1000)

        # Federations beside the territorial line.
        nanshan, shenzhen = self.by_division("440305"), self.by_division("440300")
        yuehai = self.by_division("440305007")
        self.new_union(nanshan, "南山区快递行业工会联合会", OrgKind.INDUSTRY, "440305", "交通运输、仓储和邮政业")
        self.new_union(shenzhen, "深圳市网约车司机行业工会联合会", OrgKind.INDUSTRY, "440300", "交通运输、仓储和邮政业")
        self.new_union(yuehai, "深圳湾科技生态园区域性工会联合会", OrgKind.AREA, "440305007")
        self.new_union(self.by_division("110108"), "中关村软件园区域性工会联合会", OrgKind.AREA, "110108")
        self.new_union(self.by_division("440106"), "天河区建筑业工会联合会", OrgKind.INDUSTRY, "440106", "建筑业")
        # Two platform companies and their unions (gig workers: riders and ride-hailing drivers).
        for name, division, parent, industry in [
            ("深圳鹏城优送网络科技有限公司", "440305007", shenzhen, "交通运输、仓储和邮政业"),
            ("深圳粤行出行科技有限公司", "440304011", shenzhen, "交通运输、仓储和邮政业"),
        ]:
            union = self.new_union(parent, f"{name}工会委员会", OrgKind.PLATFORM, division, industry)
            Employer.objects.create(
                name=name, uscc=self.uscc(division), division_id=division, address="深圳市", industry=industry,
                employee_count=3000, is_platform=True, org=union, org_path=union.path, province_code="44",
                name_initials=name_initials(name), name_bigrams=name_bigrams(name),
            )

        logins = self.staff()
        self.workers()
        from gonghui.membership.demo import seed_membership

        seed_membership()
        from gonghui.casedesk.demo import Cast, seed_cases

        staff = {u.username: u for u in User.objects.filter(username__in=[
            "demo-12351", "demo-shenzhen", "demo-nanshan", "demo-nantou", "demo-grassroots", "demo-futian"])}
        seed_cases(Cast(hotline=staff["demo-12351"], supervisor=staff["demo-shenzhen"], county=staff["demo-nanshan"],
                        township=staff["demo-nantou"], grassroots=staff["demo-grassroots"],
                        futian=staff["demo-futian"]))
        from gonghui.legal.demo import seed_legal

        seed_legal(county=staff["demo-nanshan"], futian=staff["demo-futian"], grassroots=staff["demo-grassroots"],
                   supervisor=staff["demo-shenzhen"])
        from gonghui.employment.demo import seed_employment

        jobs = seed_employment(county=staff["demo-nanshan"], futian=staff["demo-futian"], city=staff["demo-shenzhen"])
        rollup_rebuild()
        return logins + jobs["logins"]  # and a job seeker's and a recruiter's phone logins

    def staff(self) -> list[DemoLogin]:
        nantou = self.by_division("440305001")
        grassroots = OrgUnit.objects.filter(parent=nantou, kind=OrgKind.GRASSROOTS).order_by("path").first()
        shenzhen = self.by_division("440300")
        # (username, node, display name, staff role, case role: 督办质检 at county and above, 承办 below)
        plan = [
            ("demo-national", OrgUnit.objects.get(kind=OrgKind.NATIONAL), "全国总工会管理员", Role.ADMIN,
             CaseRole.SUPERVISOR),
            ("demo-guangdong", self.by_division("440000"), "广东省总工会管理员", Role.ADMIN, CaseRole.SUPERVISOR),
            ("demo-shenzhen", shenzhen, "深圳市总工会管理员", Role.ADMIN, CaseRole.SUPERVISOR),
            ("demo-12351", shenzhen, "12351热线坐席", Role.STAFF, CaseRole.HANDLER),
            ("demo-nanshan", self.by_division("440305"), "南山区总工会管理员", Role.ADMIN, CaseRole.SUPERVISOR),
            ("demo-nantou", nantou, "南头街道工会管理员", Role.ADMIN, CaseRole.HANDLER),
            ("demo-futian", self.by_division("440304"), "福田区总工会管理员", Role.ADMIN, CaseRole.SUPERVISOR),
            ("demo-grassroots", grassroots, "基层工会管理员", Role.ADMIN, CaseRole.HANDLER),
        ]
        logins = []
        for username, org, display, role, case_role in plan:
            user = User(username=username, display_name=display, kind=User.Kind.STAFF, home_org=org)
            user.set_password(settings.GONGHUI_DEMO_PASSWORD)
            user.save()
            Grant.objects.create(user=user, org=org, org_path=org.path, role=role, include_descendants=True,
                                 case_role=case_role)
            logins.append(DemoLogin(username, org.name, f"{role.label}·{case_role.label}"))
        return logins

    def workers(self, count: int = 60) -> None:
        for i in range(count):
            user = User(username=f"demo-worker-{i + 1:03d}", kind=User.Kind.WORKER, display_name=person_name(self.rng))
            user.set_phone(f"1380013{8000 + i:04d}")
            user.set_unusable_password()
            user.save()


def seed_demo() -> list[DemoLogin] | None:
    """Build the demo layer once; returns None when it is already there."""
    if User.objects.filter(username="demo-national").exists():
        return None
    with transaction.atomic():
        return DemoBuilder().build()
