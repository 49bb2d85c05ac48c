"""Members at national scale for benchmarks (`gen_national --members N`, bench/membership.py).

Members are spread over the grassroots-level unions that gen_national made, in proportion to the
headcount of the employers each union covers (a union of 8,000 staff gets far more members than
one of 28), and written with COPY after the secondary indexes and the unique and foreign-key
constraints of `membership_member` were dropped; they are recreated afterwards under their names.

Every member has a valid resident ID number (GB 11643 check character), distinct by construction:
member n's number comes from an affine bijection of n over (birth region, birth date, sequence), so
`id_number(n)` gives back the real number of any generated member and lookups by number can be
timed. The keyed hashes (`id_hash`, `phone_hash`) are the real `pii.lookup_hash` values (HMAC-SHA256,
computed from the precomputed inner and outer SHA-256 states: ~2 µs a hash instead of ~6 µs).

Placeholders, documented as such: `id_encrypted` and `phone_encrypted` are one constant Fernet
ciphertext each (of "000000000000000000" and "00000000000"), so rows have the real width but
revealing a generated member's number shows zeros; bulk members have no stint or status-event rows
and no user account. Their member numbers are valid (province, year joined, national sequence, ISO
7064 MOD 11-2 check) and the sequence is moved past them.
"""

from __future__ import annotations

import bisect
import datetime
import hashlib
import math
import multiprocessing
import os
import random
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import connection

DEFAULT_MEMBERS = 10_000_000
TABLE = "membership_member"
CHUNK = 50_000  # members generated per chunk (a worker process's unit when several are used)

BIRTH_FIRST = datetime.date(1961, 1, 1)  # members aged 19 to 65 in 2026
BIRTH_LAST = datetime.date(2007, 6, 30)
JOINED_FIRST = datetime.date(1995, 1, 1)
_ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # GB 11643 = ISO 7064 MOD 11-2 over 17 digits
_NO_WEIGHTS = [pow(2, 13 - i, 11) for i in range(13)]  # member numbers: the same scheme over 13 digits
_CHECK = "10X98765432"  # check character for (weighted sum mod 11)
_A_ID, _B_ID = 2_654_435_761, 97_531  # ID bijection: k = (n * A + B) mod M, A prime and coprime to M
_A_PHONE, _B_PHONE = 7_368_787, 1_234_567  # phones: bijection mod 10**9 (A odd, not a multiple of 5)
_PHONE_PREFIXES = ("13", "15", "18", "17", "19", "16", "14")
JOB_TITLES = ("操作工", "技术员", "销售代表", "会计", "司机", "仓管员", "工程师", "行政专员", "质检员", "厨师", "保洁员",
              "保安", "护工", "快递员", "店员", "教师")
PLATFORM_ROLES = ("courier", "rider", "ride_hailing", "truck", "housekeeping")
COLUMNS = (
    "id, name, id_hash, id_encrypted, id_masked, gender, birth_date, phone_hash, phone_encrypted, phone_masked, "
    "employer_id, employer_name, employer_uscc, work_division_id, job_title, employment_form, platform_role, "
    "member_no, status, retain_reason, org_id, org_path, province_code, joined_on, status_changed_at, card_key, "
    "source, created_at, updated_at"
)


class MembersRefused(Exception):
    """A clear reason (in Chinese) why members will not be generated on this database."""


def _digit_sums(width: int, weights: list[int]) -> list[int]:
    """Weighted digit sums of every `width`-digit string."""
    return [sum(int(c) * w for c, w in zip(f"{i:0{width}d}", weights, strict=True)) for i in range(10**width)]


class _Hasher:
    """pii.lookup_hash with the HMAC key schedule done once (checked against it by check_numbers;
    falls back to calling it if pii's key derivation is not the one expected here)."""

    def __init__(self):
        from django.conf import settings

        from gonghui.core import pii

        self.inner = self.outer = None
        derive = getattr(pii, "_derive", None)
        if derive is not None:
            key = derive("lookup", settings.GONGHUI_PII_KEY)
            if len(key) <= 64:
                key = key.ljust(64, b"\0")
                self.inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
                self.outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
                if self("id", "0") != pii.lookup_hash("id", "0"):
                    self.inner = self.outer = None
        self.slow = pii.lookup_hash

    def __call__(self, kind: str, value: str) -> str:
        if self.inner is None:
            return self.slow(kind, value)
        inner = self.inner.copy()
        inner.update(f"{kind}:{value}".encode())
        outer = self.outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


class Numbers:
    """Valid, distinct resident ID numbers and phone numbers from an integer n (a bijection)."""

    def __init__(self, regions: list[str]):
        if not regions:
            raise MembersRefused("没有可用于身份证号的县级行政区划代码：请先载入行政区划（load_divisions）")
        self.regions = regions
        self.region_sums = [sum(int(c) * w for c, w in zip(r, _ID_WEIGHTS[:6], strict=True)) for r in regions]
        first, last = BIRTH_FIRST.toordinal(), BIRTH_LAST.toordinal()
        self.days = [datetime.date.fromordinal(d) for d in range(first, last + 1)]
        self.day_strings = [d.strftime("%Y%m%d") for d in self.days]
        self.day_sums = [sum(int(c) * w for c, w in zip(s, _ID_WEIGHTS[6:14], strict=True)) for s in self.day_strings]
        self.seq_sums = _digit_sums(3, _ID_WEIGHTS[14:17])
        self.space = len(regions) * len(self.days) * 1000
        if math.gcd(_A_ID, self.space) != 1:  # cannot happen for a prime A above the space's factors
            raise RuntimeError("ID bijection multiplier is not coprime to the number space")

    def parts(self, n: int) -> tuple[str, int, int]:
        """(ID number, birth-day index, sequence) of person n."""
        k = (n * _A_ID + _B_ID) % self.space
        r = k % len(self.regions)
        rest = k // len(self.regions)
        day, seq = rest % len(self.days), rest // len(self.days)
        total = self.region_sums[r] + self.day_sums[day] + self.seq_sums[seq]
        return f"{self.regions[r]}{self.day_strings[day]}{seq:03d}{_CHECK[total % 11]}", day, seq

    def id_number(self, n: int) -> str:
        return self.parts(n)[0]

    @staticmethod
    def phone(n: int) -> str:
        q = (n * _A_PHONE + _B_PHONE) % 1_000_000_000
        return f"{_PHONE_PREFIXES[q % len(_PHONE_PREFIXES)]}{q:09d}"


def load_regions() -> list[str]:
    """County-level codes of the division table that python-stdnum accepts as a birth place for
    every birth year generated (a district created in 1990 is no birth place for 1961: ~350 codes)."""
    from stdnum.cn import ric

    with connection.cursor() as cursor:
        cursor.execute("SELECT code FROM orgs_division WHERE level = 3 AND LENGTH(code) = 6 ORDER BY code")
        codes = [code for (code,) in cursor]
    regions = []
    for code in codes:
        try:
            for year in range(BIRTH_FIRST.year, BIRTH_LAST.year + 1):
                ric.get_birth_place(f"{code}{year}0101001X")
        except Exception:  # noqa: BLE001 - stdnum raises its own errors for unknown places
            continue
        regions.append(code)
    return regions


def numbers() -> Numbers:
    """The ID-number scheme of generated members (depends only on the division table)."""
    return Numbers(load_regions())


class MemberNumbers:
    """Member numbers PP YY NNNNNNNNN C with the check character from digit-sum tables."""

    def __init__(self):
        self.head = _digit_sums(4, _NO_WEIGHTS[:4])
        self.mid = _digit_sums(5, _NO_WEIGHTS[4:9])
        self.tail = _digit_sums(4, _NO_WEIGHTS[9:13])

    def __call__(self, province: str, year: int, seq: int) -> str:
        head = f"{province}{year % 100:02d}"
        total = self.head[int(head)] + self.mid[seq // 10_000] + self.tail[seq % 10_000]
        return f"{head}{seq:09d}{_CHECK[total % 11]}"


def check_numbers(scheme: Numbers, member_no: MemberNumbers, rng: random.Random, sample: int = 300) -> None:
    """The fast check characters and hashes must equal what the product computes."""
    from stdnum.cn import ric
    from stdnum.iso7064 import mod_11_2

    from gonghui.core import pii
    from gonghui.membership.identity import parse_id_number
    from gonghui.membership.numbers import make_member_no

    hasher = _Hasher()
    for _ in range(sample):
        number = scheme.id_number(rng.randrange(scheme.space))
        if ric.validate(number) != number or parse_id_number(number).number != number:
            raise RuntimeError(f"generated ID number {number} is not valid")
        if hasher("id", number) != pii.lookup_hash("id", number):
            raise RuntimeError("fast lookup hash differs from pii.lookup_hash")
        province, year, seq = f"{rng.randint(11, 65)}", rng.randint(1995, 2026), rng.randrange(10**9)
        fast = member_no(province, year, seq)
        if fast != make_member_no(province, year, seq) or not mod_11_2.is_valid(fast):
            raise RuntimeError(f"member number {fast} differs from numbers.make_member_no")


@dataclass
class Unions:
    """The grassroots-level unions members go to, in compact arrays."""

    org_ids: array
    employer_ids: array
    paths: list[str]
    divisions: list[str]
    cumulative: array  # cumulative member counts: union u holds positions [cum[u-1], cum[u])


def load_unions(total: int, log: Callable[[str], None]) -> Unions:
    from gonghui.orgs.models import LEAF_KINDS

    kinds = [k.value for k in LEAF_KINDS]
    org_ids, employer_ids, weights = array("q"), array("q"), []
    paths: list[str] = []
    divisions: list[str] = []
    interned: dict[str, str] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT o.id, o.path, o.division_id, MIN(e.id), COALESCE(SUM(e.employee_count), 0) "
            "FROM orgs_orgunit o JOIN orgs_employer e ON e.org_id = o.id "
            "WHERE o.kind = ANY(%s) AND o.is_active GROUP BY o.id ORDER BY o.id",
            [kinds],
        )
        while rows := cursor.fetchmany(100_000):
            for org_id, path, division, employer_id, headcount in rows:
                org_ids.append(org_id)
                employer_ids.append(employer_id)
                paths.append(path)
                divisions.append(interned.setdefault(division, division))
                weights.append(float(headcount) + 1.0)
    if not org_ids:
        raise MembersRefused("库里没有带用人单位的基层工会：请先生成全国数据（gen_national --grassroots … --employers …）")
    from .national import allocate

    counts = allocate(total, weights)
    cumulative = array("q")
    running = 0
    for count in counts:
        running += count
        cumulative.append(running)
    log(f"  会员分布到 {len(org_ids):,} 个基层工会（按所覆盖单位的职工人数加权）")
    return Unions(org_ids, employer_ids, paths, divisions, cumulative)


@dataclass
class Plan:
    count: int
    seed: int
    first_id: int
    first_seq: int
    now: str
    today: int  # ordinal
    unions: Unions
    scheme: Numbers
    names: list[str]
    id_placeholder: str
    phone_placeholder: str


_PLAN: Plan | None = None  # for worker processes (fork): set before the pool starts


def _chunk(plan: Plan, start: int, stop: int) -> str:
    """COPY text for members start..stop-1 (deterministic for a seed, whatever the chunking)."""
    rng = random.Random(plan.seed * 1_000_003 + start // CHUNK)
    scheme, unions, names = plan.scheme, plan.unions, plan.names
    hasher, member_no = _hasher(), _member_numbers()
    regions, day_strings, days = scheme.regions, scheme.day_strings, scheme.days
    region_sums, day_sums, seq_sums = scheme.region_sums, scheme.day_sums, scheme.seq_sums
    n_regions, n_days, space = len(regions), len(days), scheme.space
    cum, count = unions.cumulative, plan.count
    now, today, first_id, first_seq = plan.now, plan.today, plan.first_id, plan.first_seq
    id_ph, phone_ph = plan.id_placeholder, plan.phone_placeholder
    position_a = _position_multiplier(count)
    out = []
    for n in range(start, stop):
        # Which union: a bijection of n over the positions, so ids are unrelated to place.
        u = bisect.bisect_right(cum, (n * position_a + 12_345) % count)
        k = (n * _A_ID + _B_ID) % space
        r = k % n_regions
        rest = k // n_regions
        day, seq = rest % n_days, rest // n_days
        number = f"{regions[r]}{day_strings[day]}{seq:03d}{_CHECK[(region_sums[r] + day_sums[day] + seq_sums[seq]) % 11]}"
        q = (n * _A_PHONE + _B_PHONE) % 1_000_000_000
        phone = f"{_PHONE_PREFIXES[q % 7]}{q:09d}"
        birth = days[day]
        low = max(JOINED_FIRST.toordinal(), birth.toordinal() + 6575)  # joined at 18 or later
        joined = datetime.date.fromordinal(low + rng.randrange(max(1, today - low)))
        h = rng.getrandbits(32)
        roll = h % 1000
        if roll < 920:
            status, retain = "active", ""
        elif roll < 960:
            status, retain = "retained", "retired" if birth.year < 1968 else "unemployed"
        elif roll < 965:
            status, retain = "suspended", ""
        elif roll < 995:
            status, retain = "withdrawn", ""
        else:
            status, retain = "deceased", ""
        form_roll = (h >> 10) % 100
        if form_roll < 85:
            form, role = "labor_contract", ""
        elif form_roll < 91:
            form, role = "dispatch", ""
        elif form_roll < 95:
            form, role = "flexible", ""
        else:
            form, role = "platform", PLATFORM_ROLES[(h >> 17) % 5]
        path = unions.paths[u]
        out.append(
            f"{first_id + n}\t{names[(h >> 20) % len(names)]}\t{hasher('id', number)}\t{id_ph}\t"
            f"{number[:6]}********{number[-4:]}\t{'M' if seq % 2 else 'F'}\t{birth.isoformat()}\t"
            f"{hasher('phone', phone)}\t{phone_ph}\t{phone[:3]}****{phone[-4:]}\t{unions.employer_ids[u]}\t\t\t"
            f"{unions.divisions[u]}\t{JOB_TITLES[(h >> 24) % len(JOB_TITLES)]}\t{form}\t{role}\t"
            f"{member_no(unions.divisions[u][:2], joined.year, first_seq + n)}\t{status}\t{retain}\t{unions.org_ids[u]}\t"
            f"{path}\t{unions.divisions[u][:2]}\t{joined.isoformat()}\t{now}\t{rng.getrandbits(128):032x}\t"
            f"{'roster' if h % 3 == 0 else 'online'}\t{now}\t{now}\n"
        )
    return "".join(out)


_HASHER: _Hasher | None = None
_MEMBER_NUMBERS: MemberNumbers | None = None


def _hasher() -> _Hasher:
    global _HASHER
    if _HASHER is None:
        _HASHER = _Hasher()
    return _HASHER


def _member_numbers() -> MemberNumbers:
    global _MEMBER_NUMBERS
    if _MEMBER_NUMBERS is None:
        _MEMBER_NUMBERS = MemberNumbers()
    return _MEMBER_NUMBERS


def _position_multiplier(count: int) -> int:
    a = 1_000_003
    while math.gcd(a, count) != 1:
        a += 2
    return a


def _worker_chunk(bounds: tuple[int, int]) -> str:
    return _chunk(_PLAN, *bounds)


def _chunks(plan: Plan, processes: int) -> Iterator[str]:
    bounds = [(s, min(s + CHUNK, plan.count)) for s in range(0, plan.count, CHUNK)]
    if processes <= 1:
        for start, stop in bounds:
            yield _chunk(plan, start, stop)
        return
    global _PLAN
    _PLAN = plan
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            yield from pool.imap(_worker_chunk, bounds)
    finally:
        _PLAN = None


def default_processes() -> int:
    """Generator processes besides the one writing COPY: the rest of the machine after PostgreSQL's
    COPY backend and the writer (none on a 2-core machine: the writer generates too)."""
    return max(0, (os.cpu_count() or 1) - 2)


def refuse_reason() -> str | None:
    if connection.vendor != "postgresql":
        return "生成会员只能在 PostgreSQL 上运行（它用 COPY 批量写入）：请设置 DATABASE_URL=postgres://…"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {TABLE})")
        if cursor.fetchone()[0]:
            return "数据库里已有会员：批量生成只在没有会员的库上运行，不会重复生成。请换一个空库。"
    return None


def load_members(cursor, *, count: int, seed: int, log: Callable[[str], None],
                 phase: Callable[[str, float], None], processes: int | None = None) -> int:
    """COPY `count` members inside the caller's transaction (indexes dropped and rebuilt around it).
    Rollups are the caller's job (rollup_rebuild)."""
    from gonghui.core import pii
    from gonghui.core.bulk import indexes_deferred

    started = time.monotonic()
    unions = load_unions(count, log)
    scheme = numbers()
    check_numbers(scheme, _member_numbers(), random.Random(seed + 2))
    if count > scheme.space:
        raise MembersRefused(f"会员数量超过了可生成的身份证号数量（{scheme.space:,}）")
    from .national import Parts

    cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {TABLE}")
    first_id = cursor.fetchone()[0] + 1
    cursor.execute("SELECT nextval('membership_member_no_seq')")
    first_seq = cursor.fetchone()[0]
    now = datetime.datetime.now(datetime.UTC).isoformat()
    plan = Plan(count=count, seed=seed, first_id=first_id, first_seq=first_seq, now=now,
                today=datetime.date.today().toordinal(), unions=unions, scheme=scheme, names=Parts().people,
                id_placeholder=pii.encrypt("0" * 18), phone_placeholder=pii.encrypt("0" * 11))
    phase("规划会员（分配到基层工会、校验身份证号和哈希）", started)
    processes = default_processes() if processes is None else processes
    started = time.monotonic()
    with indexes_deferred(cursor, TABLE):
        phase("删除会员表的二级索引和约束", started)
        started = time.monotonic()
        with cursor.copy(f"COPY {TABLE} ({COLUMNS}) FROM STDIN") as copy:
            for text in _chunks(plan, processes):
                copy.write(text)
        phase(f"COPY 会员 {count:,} 名", started)
        started = time.monotonic()
    phase("重建会员表的索引和约束", started)
    started = time.monotonic()
    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), (SELECT MAX(id) FROM {TABLE}))")
    cursor.execute("SELECT setval('membership_member_no_seq', %s)", [first_seq + count - 1])
    phase("更新会员序列", started)
    return first_id


def member_number_of(n: int, scheme: Numbers | None = None) -> str:
    """The real ID number of generated member n (0-based), e.g. to time lookups by number."""
    return (scheme or numbers()).id_number(n)
