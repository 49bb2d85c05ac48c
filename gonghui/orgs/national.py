"""National-scale synthetic data for benchmarks (`manage.py gen_national`, bench/run.py).

Grassroots unions are spread over the 41,352 real townships (streets get more than towns, towns
more than 乡), every 25th one a joint union; each grassroots union covers one employer, each joint
union several, and the remaining employers belong to their township union. Rows are generated in a
shuffled order, so ids are unrelated to place, as in a database that grew over the years.

Everything is written with COPY after the secondary indexes and the unique and foreign-key
constraints of the two tables have been dropped; they are recreated afterwards from their saved
definitions, with the same names. The whole load is one transaction: a failure leaves nothing.

With `members`, members are generated too (gonghui/orgs/national_members.py): spread over the
grassroots-level unions, with valid ID numbers and the real keyed hashes, written with COPY the same
way. `generate_members` adds them to a database that already holds the unions and employers.

Names are assembled from parts (place + brand + industry word + suffix) whose pinyin initials were
computed once: pypinyin costs ~0.2 ms a name, which would be half an hour at this size. A sample
of the assembled names is checked against gonghui.core.text before anything is written.
"""

from __future__ import annotations

import operator
import random
import re
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from gonghui.core.bulk import indexes_deferred
from gonghui.core.text import name_bigrams, name_initials

from .models import Employer, OrgKind, OrgUnit
from .paths import MAX_CHILDREN, encode_step

DEFAULT_GRASSROOTS = 2_500_000
DEFAULT_EMPLOYERS = 6_000_000
JOINT_EVERY = 25  # every 25th union below a township is a joint union (4 %)
TABLES = ("orgs_orgunit", "orgs_employer")

BRANDS = "华创瑞泰鑫源盛达恒兴宏宇嘉信安康通联博远智诚汇丰新科明德腾飞金鹏天海川佳和美锦东方星辉祥福润泽正弘振威凯旭光启航卓越"
INDUSTRIES = [
    ("科技", "科学研究和技术服务业"),
    ("电子", "制造业"),
    ("精密制造", "制造业"),
    ("物流", "交通运输、仓储和邮政业"),
    ("建筑工程", "建筑业"),
    ("餐饮管理", "住宿和餐饮业"),
    ("物业服务", "房地产业"),
    ("医药", "制造业"),
    ("商贸", "批发和零售业"),
    ("供应链管理", "租赁和商务服务业"),
    ("环保科技", "水利、环境和公共设施管理业"),
    ("文化传媒", "文化、体育和娱乐业"),
    ("机械", "制造业"),
    ("新材料", "制造业"),
    ("汽车零部件", "制造业"),
    ("纺织", "制造业"),
    ("服装", "制造业"),
    ("食品", "制造业"),
    ("家具", "制造业"),
    ("塑胶制品", "制造业"),
    ("五金", "制造业"),
    ("化工", "制造业"),
    ("建材", "制造业"),
    ("印刷", "制造业"),
    ("网络科技", "信息传输、软件和信息技术服务业"),
    ("信息技术", "信息传输、软件和信息技术服务业"),
    ("软件", "信息传输、软件和信息技术服务业"),
    ("电气", "制造业"),
    ("光电", "制造业"),
    ("能源", "电力、热力、燃气及水生产和供应业"),
    ("农业发展", "农、林、牧、渔业"),
    ("酒店管理", "住宿和餐饮业"),
    ("人力资源", "租赁和商务服务业"),
    ("装饰工程", "建筑业"),
    ("包装", "制造业"),
    ("贸易", "批发和零售业"),
    ("实业", "制造业"),
    ("运输", "交通运输、仓储和邮政业"),
    ("生物科技", "科学研究和技术服务业"),
    ("健康管理", "卫生和社会工作"),
]
# Weighted: most employers are 有限公司.
SUFFIXES = ["有限公司"] * 6 + ["有限责任公司"] * 2 + ["股份有限公司", "集团有限公司"]
UNION_SUFFIX = "工会委员会"
JOINT_SUFFIX = "联合工会委员会"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国海燕志红玉萍辉鹏飞丹晶婷雪琳宁波斌凯浩然思雨欣怡佳宇子轩梓涵诗"
SMALL_STAFF = (3, 5, 8, 12, 20, 35, 60)
UNION_STAFF = (28, 45, 80, 120, 200, 350, 600, 1200, 3000, 8000)

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_PLAIN = re.compile(r"^[\u4e00-\u9fff0-9]*$")  # parts whose bigrams and initials concatenate


class GenerationRefused(Exception):
    """A clear reason (in Chinese) why gen_national will not run on this database."""


@dataclass
class Town:
    id: int
    path: str
    code: str
    depth: int
    seq0: int
    base: str  # 南头街道 (the union name without 工会)
    place: str  # what employer names start with: 深圳市, 昆山市, 北京市
    county: str
    weight: float
    joint_offset: int = 0  # child numbers c with (c + joint_offset) % JOINT_EVERY == 0 are joint unions
    uscc_head: int = 0  # weighted sum of the first 8 USCC characters ("91" + county code)


@dataclass
class Report:
    grassroots: int = 0
    joint: int = 0
    employers: int = 0
    covered_employers: int = 0
    members: int = 0
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.phases.values())


# --- Names --------------------------------------------------------------------------------------


class Parts:
    """Name parts with their initials, computed once."""

    def __init__(self):
        self._initials: dict[str, str] = {}
        pairs = [(a, b) for a in BRANDS for b in BRANDS if a != b]
        self.pairs = [(a + b, self.initials(a) + self.initials(b)) for a, b in pairs]
        self.words = [(w, self.initials(w), label) for w, label in INDUSTRIES]
        self.suffixes = [(s, self.initials(s)) for s in SUFFIXES]
        self.union_suffix = self.initials(UNION_SUFFIX)
        self.joint_suffix = self.initials(JOINT_SUFFIX)
        rng = random.Random(11)
        self.people = [rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
                       for _ in range(4000)]

    def initials(self, part: str) -> str:
        value = self._initials.get(part)
        if value is None:
            value = self._initials[part] = name_initials(part)
        return value

    def employer(self, town: Town, h: int) -> tuple[str, str, str, int]:
        """(name, initials, industry, rest of h) for the random number h."""
        pair, pair_init = self.pairs[h % len(self.pairs)]
        h //= len(self.pairs)
        word, word_init, industry = self.words[h % len(self.words)]
        h //= len(self.words)
        suffix, suffix_init = self.suffixes[h % len(self.suffixes)]
        h //= len(self.suffixes)
        return (town.place + pair + word + suffix, self.initials(town.place) + pair_init + word_init + suffix_init,
                industry, h)

    def joint(self, town: Town, ordinal: int) -> tuple[str, str]:
        name = f"{town.base}第{ordinal}{JOINT_SUFFIX}"
        if not _PLAIN.match(town.base):
            return name, name_initials(name)
        return name, self.initials(town.base) + f"d{ordinal}" + self.joint_suffix


def plain_bigrams(name: str) -> str:
    """name_bigrams() for a name of CJK characters and digits only (checked on a sample)."""
    return " ".join(dict.fromkeys(map(operator.add, name, name[1:])))


def bigrams_of(name: str) -> str:
    return plain_bigrams(name) if _PLAIN.match(name) else name_bigrams(name)


def check_names(parts: Parts, towns: list[Town], rng: random.Random, sample: int = 400) -> None:
    """Assembled initials and bigrams must equal what gonghui.core.text computes."""
    for _ in range(sample):
        town = rng.choice(towns)
        name, initials, _industry, _h = parts.employer(town, rng.getrandbits(48))
        candidates = [(name, initials), (name + UNION_SUFFIX, initials + parts.union_suffix),
                      parts.joint(town, rng.randint(1, 40))]
        for text, fast in candidates:
            if fast[:64] != name_initials(text) or bigrams_of(text) != name_bigrams(text):
                raise RuntimeError(f"name parts do not concatenate for {text!r}: {fast!r} != {name_initials(text)!r}")
        for text in (name, name + UNION_SUFFIX):
            if plain_bigrams(text) != name_bigrams(text):
                raise RuntimeError(f"bigrams differ for {text!r}: {plain_bigrams(text)!r} != {name_bigrams(text)!r}")


# --- USCC ---------------------------------------------------------------------------------------


def uscc_head(county_code: str) -> int:
    return sum(_USCC_VALUE[c] * w for c, w in zip("91" + county_code, _USCC_WEIGHTS[:8], strict=True))


def _half_sums(weights: tuple[int, ...]) -> list[int]:
    """Weighted digit sums of every 4-digit string 0000..9999."""
    return [sum(int(c) * w for c, w in zip(f"{i:04d}", weights, strict=True)) for i in range(10_000)]


_ORG_HI, _ORG_LO = _half_sums(_ORG_WEIGHTS[:4]), _half_sums(_ORG_WEIGHTS[4:])
_USCC_HI, _USCC_LO = _half_sums(_USCC_WEIGHTS[8:12]), _half_sums(_USCC_WEIGHTS[12:16])
_ORG_CHECK = {c: ("X" if c == 10 else "0" if c == 11 else str(c)) for c in range(1, 12)}


def uscc_for(town: Town, n: int) -> str:
    """The n-th code (n < 10**8): '91' + county code + a 9-character organisation code derived from
    a bijection of n (so unique without a lookup) + the GB 32100 check character."""
    body = (n * 48271 + 13_572_468) % 100_000_000
    hi, lo = divmod(body, 10_000)
    check = _ORG_CHECK[11 - (_ORG_HI[hi] + _ORG_LO[lo]) % 11]
    total = town.uscc_head + _USCC_HI[hi] + _USCC_LO[lo] + _USCC_VALUE[check] * _USCC_WEIGHTS[16]
    return f"91{town.code[:6]}{body:08d}{check}{_USCC_ALPHABET[(31 - total) % 31]}"


# --- Plan ---------------------------------------------------------------------------------------


def load_towns(rng: random.Random) -> list[Town]:
    """Every township union with its place names and a skewed weight (streets > towns > 乡)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT code, name, parent_id, level, is_placeholder FROM orgs_division")
        divisions = {code: (name, parent, level, placeholder) for code, name, parent, level, placeholder in cursor}
        cursor.execute(
            "SELECT id, path, division_id, child_seq FROM orgs_orgunit WHERE kind = %s ORDER BY path",
            [OrgKind.TOWNSHIP.value],
        )
        rows = cursor.fetchall()
    towns = []
    for org_id, path, code, child_seq in rows:
        name, parent, _level, _ph = divisions[code]
        chain = {}
        while parent:
            pname, grand, plevel, placeholder = divisions[parent]
            chain[plevel] = (pname, placeholder)
            parent = grand
        province = chain[1][0]
        city, city_placeholder = chain.get(2, (province, True))
        county = chain.get(3, (city, False))[0]
        if county.endswith(("市", "县")) and 3 in chain:
            place = county
        elif city_placeholder:
            place = province if province.endswith("市") else county
        else:
            place = city
        base = name.removesuffix("办事处")
        if base.endswith(("街道", "街道办事处")):
            weight = 4.0
        elif base.endswith("镇"):
            weight = 1.0
        elif base.endswith("乡"):
            weight = 0.3
        else:
            weight = 0.6
        if county.endswith("区"):
            weight *= 1.5
        weight *= rng.lognormvariate(0, 0.6)
        if not _PLAIN.match(place):
            place = re.sub(r"[^\u4e00-\u9fff]", "", place)
        towns.append(Town(org_id, path, code, len(path) // 4, child_seq, base, place, county, weight,
                          rng.randrange(JOINT_EVERY), uscc_head(code[:6])))
    return towns


def allocate(total: int, weights: list[float]) -> list[int]:
    """Integers proportional to weights that add up to total (largest remainders)."""
    weight_sum = sum(weights)
    quotas = [total * w / weight_sum for w in weights]
    counts = [int(q) for q in quotas]
    by_remainder = sorted(range(len(weights)), key=lambda i: quotas[i] - counts[i], reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def joint_ordinal(town: Town, child: int) -> int:
    """1, 2, … when child number `child` below `town` is a joint union, else 0."""
    shifted = child + town.joint_offset
    return 0 if shifted % JOINT_EVERY else shifted // JOINT_EVERY


def covered_children(town: Town, unions: int) -> array:
    """For each employer with its own union, the child number of that union: a grassroots union covers
    one employer, a joint union two to five."""
    out = array("I")
    for child in range(1, unions + 1):
        ordinal = joint_ordinal(town, child)
        out.extend([child] * (2 + ordinal % 4 if ordinal else 1))
    return out


def index_names(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        return {name for (name,) in cursor}


# --- Generation ---------------------------------------------------------------------------------


def _copy(cursor, table: str, columns: str, lines: Iterator[str], batch: int = 4000) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buffer: list[str] = []
        for line in lines:
            buffer.append(line)
            if len(buffer) >= batch:
                copy.write("".join(buffer))
                buffer.clear()
        if buffer:
            copy.write("".join(buffer))


ORG_COLUMNS = (
    "id, name, kind, parent_id, path, depth, child_seq, division_id, province_code, is_placeholder, industry, "
    "chair_name, founded_on, term_ends_on, name_initials, name_bigrams, is_active, created_at, updated_at"
)
EMPLOYER_COLUMNS = (
    "id, name, uscc, division_id, address, industry, employee_count, is_platform, org_id, org_path, "
    "province_code, name_initials, name_bigrams, created_at, updated_at"
)


class Generator:
    def __init__(self, *, grassroots: int, employers: int, seed: int, log: Callable[[str], None], members: int = 0):
        self.grassroots, self.employers, self.seed, self.log = grassroots, employers, seed, log
        self.members = members
        self.rng = random.Random(seed)
        self.report = Report()
        self.now = timezone.now().isoformat()

    def phase(self, label: str, started: float) -> None:
        seconds = time.monotonic() - started
        self.report.phases[label] = seconds
        self.log(f"  {label}：{seconds:.1f} 秒")

    def plan(self) -> None:
        self.parts = Parts()
        self.towns = load_towns(self.rng)
        check_names(self.parts, self.towns, random.Random(self.seed + 1))
        self.unions = allocate(self.grassroots, [t.weight for t in self.towns])
        last_child = max(t.seq0 + n for t, n in zip(self.towns, self.unions, strict=True))
        if last_child >= MAX_CHILDREN:
            raise GenerationRefused("单个乡镇（街道）下的基层工会数量超出路径编码上限，请减少 --grassroots")
        self.covered = [covered_children(t, n) for t, n in zip(self.towns, self.unions, strict=True)]
        covered = sum(len(c) for c in self.covered)
        if self.employers < covered:
            raise GenerationRefused(
                f"用人单位数量（{self.employers}）少于有工会的单位数（{covered}）：请把 --employers 设为至少 {covered}"
            )
        self.others = allocate(self.employers - covered, [t.weight for t in self.towns])
        self.report.covered_employers = covered
        self.steps = [""] + [encode_step(i) for i in range(1, last_child + 1)]
        with connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM orgs_orgunit")
            self.first_org_id = cursor.fetchone()[0] + 1
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM orgs_employer")
            self.first_employer_id = cursor.fetchone()[0] + 1

    def union_lines(self) -> Iterator[str]:
        parts, rng, now, steps = self.parts, self.rng, self.now, self.steps
        order = [i for i, n in enumerate(self.unions) for _ in range(n)]
        rng.shuffle(order)
        self.ids = [array("q", bytes(8 * n)) for n in self.unions]
        self.draws = [array("Q", bytes(8 * n)) for n in self.unions]
        next_child = [0] * len(self.towns)
        people = parts.people
        org_id = self.first_org_id
        joint = 0
        for t in order:
            town = self.towns[t]
            child = next_child[t] = next_child[t] + 1
            h = rng.getrandbits(62)
            self.ids[t][child - 1] = org_id
            self.draws[t][child - 1] = h
            ordinal = joint_ordinal(town, child)
            if not ordinal:
                name, initials, industry, rest = parts.employer(town, h)
                name, initials, kind = name + UNION_SUFFIX, initials + parts.union_suffix, "grassroots"
            else:
                name, initials = parts.joint(town, ordinal)
                industry, rest, kind = "", h, "joint"
                joint += 1
            year = 1995 + rest % 30
            founded = f"{year}-{rest // 30 % 12 + 1:02d}-{rest // 360 % 28 + 1:02d}"
            term_ends = f"{year + 5 * ((2026 - year) // 5 + 1)}-{rest // 30 % 12 + 1:02d}-01"
            yield (
                f"{org_id}\t{name}\t{kind}\t{town.id}\t{town.path}{steps[town.seq0 + child]}\t{town.depth + 1}\t0\t"
                f"{town.code}\t{town.code[:2]}\tf\t{industry}\t{people[rest % len(people)]}\t{founded}\t{term_ends}\t"
                f"{initials[:64]}\t{bigrams_of(name) if kind == 'joint' else plain_bigrams(name)}\tt\t{now}\t{now}\n"
            )
            org_id += 1
        self.report.grassroots = len(order)
        self.report.joint = joint

    def employer_lines(self) -> Iterator[str]:
        parts, rng, now, steps = self.parts, self.rng, self.now, self.steps
        totals = [len(c) + n for c, n in zip(self.covered, self.others, strict=True)]
        order = [i for i, n in enumerate(totals) for _ in range(n)]
        rng.shuffle(order)
        slot = [0] * len(self.towns)
        employer_id = self.first_employer_id
        for n, t in enumerate(order):
            town = self.towns[t]
            k = slot[t]
            slot[t] = k + 1
            covered = self.covered[t]
            if k < len(covered):
                child = covered[k]
                org_id, org_path = self.ids[t][child - 1], town.path + steps[town.seq0 + child]
                h = rng.getrandbits(62) if joint_ordinal(town, child) else self.draws[t][child - 1]
                staff = UNION_STAFF
            else:
                org_id, org_path, h, staff = town.id, town.path, rng.getrandbits(62), SMALL_STAFF
            name, initials, industry, rest = parts.employer(town, h)
            yield (
                f"{employer_id}\t{name}\t{uscc_for(town, n)}\t{town.code}\t{town.county}{town.base}{rest % 999 + 1}号\t"
                f"{industry}\t{staff[rest // 1000 % len(staff)]}\tf\t{org_id}\t{org_path}\t{town.code[:2]}\t"
                f"{initials[:64]}\t{plain_bigrams(name)}\t{now}\t{now}\n"
            )
            employer_id += 1
        self.report.employers = len(order)

    def load(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            started = time.monotonic()
            with indexes_deferred(cursor, *TABLES):
                self.phase("删除二级索引和约束", started)
                started = time.monotonic()
                _copy(cursor, "orgs_orgunit", ORG_COLUMNS, self.union_lines())
                self.phase(f"COPY 基层工会 {self.report.grassroots:,} 个", started)
                started = time.monotonic()
                _copy(cursor, "orgs_employer", EMPLOYER_COLUMNS, self.employer_lines())
                self.phase(f"COPY 用人单位 {self.report.employers:,} 家", started)
                started = time.monotonic()
            self.phase("重建索引和约束", started)

            started = time.monotonic()
            cursor.execute("DROP TABLE IF EXISTS gen_child_seq")
            cursor.execute("CREATE TEMP TABLE gen_child_seq (id bigint, child_seq integer) ON COMMIT DROP")
            _copy(cursor, "gen_child_seq", "id, child_seq",
                  (f"{t.id}\t{t.seq0 + n}\n" for t, n in zip(self.towns, self.unions, strict=True) if n))
            cursor.execute("UPDATE orgs_orgunit o SET child_seq = s.child_seq FROM gen_child_seq s WHERE o.id = s.id")
            for table in TABLES:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                )
            self.phase("更新乡镇子节点计数和序列", started)
            if self.members:
                from .national_members import load_members

                load_members(cursor, count=self.members, seed=self.seed, log=self.log, phase=self.phase)
                self.report.members = self.members

        from gonghui.analytics.rollups import rollup_rebuild

        started = time.monotonic()
        rollup_rebuild()
        self.phase("重算汇总表（rollup_rebuild）", started)

    def finish(self, tables: str = "orgs_orgunit, orgs_employer, analytics_rollup") -> None:
        if self.members:
            tables += ", membership_member"
        started = time.monotonic()
        with connection.cursor() as cursor:
            if connection.in_atomic_block:
                cursor.execute(f"ANALYZE {tables}")
            else:
                cursor.execute(f"VACUUM (ANALYZE) {tables}")
        self.phase("VACUUM ANALYZE", started)


def refuse_reason() -> str | None:
    if connection.vendor != "postgresql":
        return "gen_national 只能在 PostgreSQL 上运行（它用 COPY 批量写入）：请设置 DATABASE_URL=postgres://…"
    if OrgUnit.objects.filter(kind__in=[OrgKind.GRASSROOTS, OrgKind.JOINT]).exists() or Employer.objects.exists():
        return (
            "数据库里已有基层工会或用人单位（已生成过，或已载入演示数据）：gen_national 只在只有区划树的库上运行，"
            "不会重复生成。请换一个空库（例如 scripts/with_pg.py 启动的临时库）。"
        )
    return None


def generate_national(
    *,
    grassroots: int = DEFAULT_GRASSROOTS,
    employers: int = DEFAULT_EMPLOYERS,
    seed: int = 2026,
    log: Callable[[str], None] = print,
    members: int = 0,
) -> Report:
    """Build the national dataset; raises GenerationRefused (with a Chinese reason) when it cannot."""
    if grassroots < 0 or employers < 0 or members < 0:
        raise GenerationRefused("--grassroots、--employers 和 --members 不能为负数")
    if employers >= 100_000_000:
        raise GenerationRefused("--employers 不能超过 99,999,999（组织机构代码按序号生成）")
    if members and not grassroots:
        raise GenerationRefused("生成会员需要基层工会：--members 大于 0 时 --grassroots 也要大于 0")
    reason = refuse_reason() or (members_refuse_reason() if members else None)
    if reason:
        raise GenerationRefused(reason)
    divisions_seconds = None
    if not OrgUnit.objects.filter(kind=OrgKind.NATIONAL).exists():
        from .divisions import load_divisions

        started = time.monotonic()
        load_divisions()
        divisions_seconds = time.monotonic() - started
        log(f"  载入行政区划和区划工会树：{divisions_seconds:.1f} 秒")
    generator = Generator(grassroots=grassroots, employers=employers, seed=seed, log=log, members=members)
    if divisions_seconds is not None:
        generator.report.phases["载入行政区划和区划工会树"] = divisions_seconds
    started = time.monotonic()
    generator.plan()
    generator.phase("规划（分配到乡镇、校验名称拼音）", started)
    from .national_members import MembersRefused

    try:
        with transaction.atomic():
            generator.load()
    except MembersRefused as exc:
        raise GenerationRefused(str(exc)) from None
    generator.finish()
    return generator.report


def members_refuse_reason() -> str | None:
    from .national_members import refuse_reason as reason

    return reason()


def generate_members(*, members: int, seed: int = 2026, log: Callable[[str], None] = print,
                     processes: int | None = None) -> Report:
    """Add `members` members to a database that already holds the national unions and employers
    (and no members), then rebuild the rollups. Raises GenerationRefused when it cannot."""
    from .national_members import MembersRefused, load_members

    if members <= 0:
        raise GenerationRefused("--members 应大于 0")
    reason = members_refuse_reason()
    if reason:
        raise GenerationRefused(reason)
    generator = Generator(grassroots=0, employers=0, seed=seed, log=log, members=members)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            load_members(cursor, count=members, seed=seed, log=log, phase=generator.phase, processes=processes)
            from gonghui.analytics.rollups import rollup_rebuild

            started = time.monotonic()
            rollup_rebuild()
            generator.phase("重算汇总表（rollup_rebuild）", started)
    except MembersRefused as exc:
        raise GenerationRefused(str(exc)) from None
    generator.report.members = members
    generator.finish("analytics_rollup")
    return generator.report
