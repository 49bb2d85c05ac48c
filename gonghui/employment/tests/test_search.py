"""Job search on PostgreSQL: every way the search may take (all matches at once, a walk of the newest
postings, windows of recency words, the rest at once) gives exactly the answer of the plain
definition — live, unexpired postings holding every word, nearest ring first, newest first within a
ring, then highest id — page by page; the words the database derives from a row follow the row."""

from __future__ import annotations

import datetime
import importlib
import random

import pytest
from django.db import connection, transaction
from django.utils import timezone

from gonghui.employment import selectors, services, textindex
from gonghui.employment.models import JobPosting, PostingStatus
from gonghui.employment.textindex import query_terms
from gonghui.orgs.models import Division, Occupation

pytestmark = pytest.mark.django_db

NOW = timezone.now()
TITLES = ["快递收派员", "电工", "仓库管理员", "中式烹调师", "快递分拣员", "维修电工", "保洁员", "网约配送员"]


def _place(prefix: str, level: int) -> str:
    return Division.objects.filter(code__startswith=prefix, level=level, is_placeholder=False).order_by("code") \
        .values_list("code", flat=True)[0]


@pytest.fixture
def places(tree):
    """Townships and counties at every distance from 南头街道 (440305001)."""
    return {
        "nantou": "440305001", "yuehai": "440305007", "nanshan": "440305", "futian": "440304004",
        "baoan": _place("440306", 4), "guangzhou": _place("4401", 4), "guangzhou_county": _place("4401", 3),
        "beijing": _place("1101", 4), "shanghai": _place("3101", 3),
    }


def _occupations() -> list[str]:
    wanted = ["4-02-07-08", "4-02-07-09", "6-31-01-03", "4-10-01-05", "6-29-01-03"]
    found = list(Occupation.objects.filter(code__in=wanted).values_list("code", flat=True))
    return found + list(Occupation.objects.filter(level=4, code__startswith="4-03").values_list("code", flat=True)[:2])


def _posting(tree, n: int, *, title: str, occupation: str, division: str, published_at, salary_max: int,
             status: str = PostingStatus.LIVE, expires_in: int = 30) -> JobPosting:
    from gonghui.employment import matching

    occ = Occupation.objects.get(code=occupation)
    place = Division.objects.get(code=division)
    employer = tree.nantou_employer
    posting = JobPosting(
        employer=employer, org=employer.org, org_path=employer.org_path, province_code=place.code[:2],
        title=f"{title}{n}", occupation=occ, occ_minor=matching.minor(occ.code), occ_middle=matching.middle(occ.code),
        division=place, county_code=place.code[:6], city_code=place.code[:4], salary_min=min(3000, salary_max),
        salary_max=salary_max, expires_on=timezone.localdate() + datetime.timedelta(days=expires_in), status=status,
        published_at=published_at, approved=True, description=f"招聘{title}，待遇从优。")
    services._search_fields(posting)
    posting.save()
    return posting


@pytest.fixture
def world(tree, places):
    """~220 postings: every place, a few occupations and keywords, salaries 3,000–25,000, published from
    now to 200 days ago with ties; some not live or expired; then one published 5 minutes ahead (a clock
    a little fast) and one live but never published."""
    rng = random.Random(7)
    occupations = _occupations()
    spots = list(places.values())
    spots += [places["nantou"]] * 6 + [places["nanshan"]] * 3 + [places["baoan"]] * 4 + [places["guangzhou"]] * 4
    made = []
    for n in range(220):
        minutes = rng.choice([rng.randint(0, 300), rng.randint(0, 60 * 24 * 10), rng.randint(0, 60 * 24 * 200)])
        published = NOW - datetime.timedelta(minutes=minutes, seconds=rng.choice([0, 0, 17]))
        if n % 23 == 0 and made:  # the same moment as another posting: the id decides
            published = made[-1].published_at
        status = PostingStatus.LIVE if n % 17 else rng.choice([PostingStatus.CLOSED, PostingStatus.PENDING])
        made.append(_posting(tree, n, title=rng.choice(TITLES), occupation=rng.choice(occupations),
                             division=rng.choice(spots), published_at=published, status=status,
                             salary_max=rng.choice([3500, 5000, 6000, 6500, 8000, 9000, 12000, 25000]),
                             expires_in=-1 if n % 31 == 5 else 30))
    made.append(_posting(tree, 998, title="快递收派员", occupation=occupations[0], division=places["yuehai"],
                         published_at=NOW + datetime.timedelta(minutes=5), salary_max=8000))
    made.append(_posting(tree, 999, title="快递收派员", occupation=occupations[0], division=places["nantou"],
                         published_at=None, salary_max=8000))
    return made


def reference(*, q="", occupation="", division="", salary_min=None, near=""):
    """The plain definition, in Python over every posting."""
    words = query_terms(q) if q else []
    if occupation:
        words.append("o" + occupation.replace("-", ""))
    place = Division.objects.get(code=division) if division else None
    if place is not None:
        words.append("p" + place.code[:{1: 2, 2: 4, 3: 6, 4: 9}[place.level]])
    origin = Division.objects.get(code=near) if near else place
    today = timezone.localdate()
    rows = []
    for p in JobPosting.objects.filter(status=PostingStatus.LIVE, expires_on__gte=today):
        held = set(p.search_head.split()) | set(p.search_text.split())
        if not set(words) <= held or (salary_min and p.salary_max < salary_min):
            continue
        ring = 0
        if origin is not None:
            code = origin.code
            ring = (0 if p.division_id == code else 1 if p.county_code == code[:6] else 2 if p.city_code == code[:4]
                    else 3 if p.division_id.startswith(code[:2]) else 4)
        fresh = p.published_at.timestamp() if p.published_at else float("-inf")
        rows.append(((ring, -fresh, -p.pk), p.pk))
    return [pk for _key, pk in sorted(rows)]


def _stats(**kw):
    def fake(cursor):
        oldest = JobPosting.objects.filter(status=PostingStatus.LIVE).order_by("published_at") \
            .values_list("published_at", flat=True).first()
        return {"share": {}, "rest": None, "rows": 220.0, "oldest": textindex.quarter(oldest), **kw}
    return fake


# The ways, forced at this small scale: patches of selectors' constants and statistics.
WAYS = {
    "no statistics: windows": ({"SEARCH_FIRST_WINDOW": 1, "SEARCH_ALL_AT_ONCE": 2}, {}),
    "windows, rest at once early": ({"SEARCH_FIRST_WINDOW": 4}, {"rest": 0.01, "rows": 1e6}),
    "windows all the way": ({"SEARCH_FIRST_WINDOW": 1, "SEARCH_ALL_AT_ONCE": 0}, {"rest": 0.01, "rows": 1e4}),
    "few: all at once, rings merged": ({}, {"rest": 0.001, "rows": 1e4}),
    "few, over the cap": ({"SEARCH_ALL_AT_ONCE": 3}, {"rest": 0.001, "rows": 1e4}),
    "common: walks": ({}, {"rest": 0.5, "rows": 1e6}),
    "common, walks too short": ({"SEARCH_SCAN_ROWS": 3, "SEARCH_FIRST_WINDOW": 2}, {"rest": 0.5, "rows": 1e6}),
    "common words checked on rows": ({"SEARCH_FIRST_WINDOW": 2}, {"rest": 0.04, "rows": 1e6,
                                                                  "share": {"p44": 0.5, "s5": 0.9, "快递": 0.31}}),
}
SEARCHES = [
    {}, {"q": "快递"}, {"q": "电工", "salary_min": 6000, "near": "440305001"}, {"near": "440305001"},
    {"occupation": "4-02-07", "division": "440305"}, {"division": "440000"}, {"q": "快递", "division": "440300"},
    {"salary_min": 9000}, {"near": "440305"}, {"near": "440300", "salary_min": 5000}, {"q": "仓库管理", "near": "440305001"},
    {"occupation": "4", "near": "440304004"}, {"division": "440300", "near": "440305001"}, {"q": "不存在的词"},
]


@pytest.mark.parametrize("way", list(WAYS))
def test_every_way_gives_the_plain_answer_page_by_page(world, monkeypatch, way):
    constants, stats = WAYS[way]
    for name, value in constants.items():
        monkeypatch.setattr(selectors, name, value)
    monkeypatch.setattr(selectors, "_word_stats", _stats(**stats))
    for search in SEARCHES:
        want = reference(**search)
        got = [p.pk for p in selectors.job_search(**search, limit=50)]
        assert got == want[:50], search
        pages = []  # pages of 7 cross windows, rings and the end of the matches
        offsets = range(0, min(len(want), 40) + 1, 7)
        for offset in offsets:
            pages += [p.pk for p in selectors.job_search(**search, limit=7, offset=offset)]
        assert pages == want[:offsets[-1] + 7], search


def test_the_real_statistics_choose_the_same_answer(world, monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE employment_jobposting")
    monkeypatch.setitem(selectors._stats, "at", -1e9)
    for search in SEARCHES:
        assert [p.pk for p in selectors.job_search(**search, limit=30)] == reference(**search)[:30], search
        assert [p.pk for p in selectors.job_search(**search, limit=10, offset=10)] == reference(**search)[10:20]


def test_nearest_ring_first_then_newest(world, places):
    rows, offset = [], 0
    while page := selectors.job_search(near=places["nantou"], limit=50, offset=offset):
        rows += page
        offset += 50
    assert len(rows) == len(reference(near=places["nantou"])) > 100
    rings = []
    for p in rows:
        code = p.division_id
        rings.append(0 if code == places["nantou"] else 1 if code.startswith("440305") else
                     2 if code.startswith("4403") else 3 if code.startswith("44") else 4)
    assert rings == sorted(rings) and rings[0] == 0
    for ring in set(rings):
        stamps = [p.published_at for p, r in zip(rows, rings, strict=True) if r == ring and p.published_at]
        assert stamps == sorted(stamps, reverse=True)
    # The one never published comes last in its ring; one from a clock a little fast stays first.
    never, ahead = world[-1], world[-2]
    nantou = [p.pk for p, r in zip(rows, rings, strict=True) if r == 0]
    assert nantou[-1] == never.pk
    assert selectors.job_search(limit=1)[0].pk == ahead.pk
    assert [p.pk for p in selectors.job_search(near=places["yuehai"], limit=1)] == [ahead.pk]


def test_filters_combine_and_rows_carry_the_list_fields(world, places):
    rows = selectors.job_search(q="快递", salary_min=6000, division="440300", near=places["nantou"], limit=50)
    assert [p.pk for p in rows] == reference(q="快递", salary_min=6000, division="440300", near=places["nantou"])
    assert rows, "the world has such postings"
    for p in rows:
        assert p.salary_max >= 6000 and p.division_id.startswith("4403") and p.status == PostingStatus.LIVE
        assert p.employer.name == "深圳市南头精密制造有限公司" and p.occupation.name and p.division.name
        assert isinstance(p.skills, list) and isinstance(p.benefits, list)
    full = JobPosting.objects.get(pk=rows[0].pk)
    assert rows[0].description == full.description  # a field outside the list still loads (deferred)


def test_a_renewed_or_approved_posting_moves_to_its_new_window(tree, world, places):
    old = min((p for p in world if p.status == PostingStatus.LIVE and p.published_at and p.expires_on >= timezone.localdate()
               and p.division_id == places["nantou"]), key=lambda p: p.published_at)
    assert selectors.job_search(limit=1)[0].pk != old.pk
    services.posting_close(actor=tree.root_admin, posting=old)
    assert old.pk not in [p.pk for p in selectors.job_search(near=places["nantou"], limit=50)]
    services.posting_renew(actor=tree.root_admin, posting=JobPosting.objects.get(pk=old.pk), expires_on="")
    renewed = JobPosting.objects.get(pk=old.pk)
    assert renewed.status == PostingStatus.LIVE and renewed.published_at > NOW
    assert _vector_words(renewed.pk) >= set(textindex.derived_words(
        published_at=renewed.published_at, salary_max=renewed.salary_max, division_id=renewed.division_id))
    ahead = world[-2]  # published 5 minutes ahead
    assert [p.pk for p in selectors.job_search(limit=2)] == [ahead.pk, old.pk]
    assert selectors.job_search(near=places["nantou"], limit=1)[0].pk == old.pk
    # A pending posting approved goes live now: right after the renewed one.
    pending = next(p for p in world if p.status == PostingStatus.PENDING)
    services.posting_moderate(actor=tree.root_admin, posting=pending, approve=True)
    assert [p.pk for p in selectors.job_search(limit=3)] == [ahead.pk, pending.pk, old.pk]
    assert [p.pk for p in selectors.job_search(limit=50)] == reference()[:50]


def _vector_words(pk: int) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tsvector_to_array(search_vector) FROM employment_jobposting WHERE id = %s", [pk])
        return set(cursor.fetchone()[0])


def test_the_database_derives_the_same_words_as_textindex(world):
    for p in world[:40]:
        derived = {w for w in _vector_words(p.pk) if w[0] in "rsd" and w[1:2].isdigit()}
        assert derived == set(textindex.derived_words(published_at=p.published_at, salary_max=p.salary_max,
                                                      division_id=p.division_id)), p.pk
    migration = importlib.import_module("gonghui.employment.migrations.0004_search_recency_salary")
    assert (migration.RECENCY_SECONDS, migration.RECENCY_LEVELS, migration.SALARY_LADDER) == \
        (textindex.RECENCY_SECONDS, textindex.RECENCY_LEVELS, textindex.SALARY_LADDER)
    # An edit of the salary or the place moves the words with it.
    p = next(p for p in world if p.division_id != "440304004" and p.salary_max < 30000)
    JobPosting.objects.filter(pk=p.pk).update(salary_max=30000, division_id="440304004")
    words = _vector_words(p.pk)
    assert {"s15", "d440304004"} <= words and f"d{p.division_id}" not in words


def test_window_words_cover_exactly_the_quarters_asked():
    rng = random.Random(3)
    for _ in range(300):
        lo = rng.randint(1_990_000, 2_000_000)
        hi = lo + rng.choice([0, 1, 3, 4, 15, 16, 17, 255, 4096, 70_000, 200_000])
        covered = []
        for word in textindex.window_words(lo, hi):
            level, block = (int(x) for x in word[1:].split("x"))
            covered += range(block << (2 * level), (block + 1) << (2 * level))
        assert covered == list(range(lo, hi))
    assert textindex.salary_floor_word(500) is None and textindex.salary_floor_word(6500) == "s6"
    assert textindex.quarter(datetime.datetime(1970, 1, 1, 0, 15, tzinfo=datetime.UTC)) == 1


def test_planner_settings_are_put_back_inside_a_transaction(world):
    with transaction.atomic():
        selectors.job_search(q="快递")
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('enable_seqscan'), current_setting('jit')")
            settings = cursor.fetchone()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan'), current_setting('jit')")
        assert settings == cursor.fetchone()
    assert settings[0] == "on"


def test_the_api_pages_through_the_same_order(world, places):
    from gonghui.testing.fixtures import api_as

    want = reference(q="快递", near=places["nantou"])
    got, offset = [], 0
    while offset is not None:
        page = api_as(None).get("/api/v1/jobs/search", q="快递", near=places["nantou"], limit=6, offset=offset).json()
        got += [item["id"] for item in page["items"]]
        assert all(item["employer"]["name"] and item["place"]["name"] for item in page["items"])
        offset = page["next_offset"]
    assert got == want


def test_search_reads_where_the_router_sends_reads(world, monkeypatch):
    """The search's raw statements go to the router's read database (a replica when configured), like
    the ORM's reads, not to the primary by default."""
    asked = []
    real = selectors.router.db_for_read

    def db_for_read(model, **hints):
        asked.append(model)
        return real(model, **hints)

    monkeypatch.setattr(selectors.router, "db_for_read", db_for_read)
    assert [p.pk for p in selectors.job_search(q="快递", limit=5)] == reference(q="快递")[:5]
    assert JobPosting in asked
