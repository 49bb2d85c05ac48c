"""The employment-help cloud benchmark (`make bench BENCH_ARGS="--only employment"`).

Against the national dataset (unions and employers from gen_national) it generates, with set-based
SQL (INSERT … SELECT over generate_series; indexes dropped and rebuilt; VACUUM ANALYZE):

- 1,000,000 live postings at employers drawn uniformly from the 6,000,000, each with an occupation
  drawn from ~900 level-4 codes of the service and production majors (a Zipf-like share: the 60
  commonest take ~70 %), a salary range, skills, and a publication time in the last 60 days; the
  search words are the jieba bigrams of the occupation's name and the posting's title (computed once
  per occupation in Python), the employer's name bigrams, and the facet words, as the service writes;
- 1,000,000 seekers (worker accounts) living at an employer's township, each wanting two occupations
  (the second in the same 小类 half of the time) at two places (their township and their county):
  4,000,000 wish rows; 60 % let employers see them.

Then, each beside the same candidate statements run raw through psycopg in the same run:

1. top-20 recommendations for a seeker (`selectors.recommend_jobs`, and `GET /api/v1/me/job-recommendations`
   as that worker) for 200 seekers;
2. top-20 seekers for a posting (`selectors.recommend_seekers`, and `GET /api/v1/jobs/{id}/candidates`
   as the employer's union staff) for 200 postings;
3. search (`GET /api/v1/jobs/search`): keyword alone, keyword in a city, occupation in a county, keyword
   + lowest salary nearest a township first, occupation group in a province, and the wide ones (no
   filter, nearest a township with no filter, a province, a major group, a salary alone, a deep page);
   beside each, the app's own statements replayed raw, and the whole search as one hand-written
   statement (every match fetched and sorted, as the app did before).

Targets (issue 6): recommendations p95 ≤ 100 ms both ways, search p95 ≤ 50 ms. Not a test.
"""

from __future__ import annotations

import datetime
import random
import time
from pathlib import Path

import psycopg
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from bench.membership import bearer, stats, time_calls
from gonghui.accounts.models import User
from gonghui.core.bulk import indexes_deferred
from gonghui.employment import selectors
from gonghui.employment.models import JobPosting, SeekerProfile
from gonghui.employment.textindex import words_bigrams
from gonghui.orgs.models import Grant, Occupation, OrgUnit, Role

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTINGS = 1_000_000
DEFAULT_SEEKERS = 1_000_000
TARGETS = {"recommend_p95_ms": 100.0, "search_p95_ms": 50.0}
SKILLS = ["电动车驾驶", "C1驾照", "叉车证", "电工证", "焊工证", "健康证", "普通话", "Excel", "收银", "仓储管理",
          "客户服务", "智能手机操作", "吃苦耐劳", "驾驶证A2", "英语四级"]


def log(line: str) -> None:
    print(line, flush=True)


def add_arguments(parser) -> None:
    group = parser.add_argument_group("employment")
    group.add_argument("--postings", type=int, default=None, help=f"live postings (default {DEFAULT_POSTINGS:,} × --scale)")
    group.add_argument("--seekers", type=int, default=None, help=f"seekers (default {DEFAULT_SEEKERS:,} × --scale)")
    group.add_argument("--employment-samples", type=int, default=200, help="seekers / postings timed")


def _occupations(rng: random.Random) -> list[tuple[str, str, float]]:
    codes = list(Occupation.objects.filter(level=4).filter(code__regex=r"^(4|6)-").order_by("code")
                 .values_list("code", "name"))
    rng.shuffle(codes)
    # Zipf-like: the k-th commonest weighs 1/(k+5)
    return [(code, name, 1.0 / (k + 5)) for k, (code, name) in enumerate(codes)]


def generate(args, raw) -> dict:
    rng = random.Random(args.seed + 61)
    postings = args.postings if args.postings is not None else round(DEFAULT_POSTINGS * args.scale)
    seekers = args.seekers if args.seekers is not None else round(DEFAULT_SEEKERS * args.scale)
    existing = JobPosting.objects.count()
    if existing:
        log(f"bench: the database already holds {existing:,} postings; reusing them (generation not timed)")
        return {"reused": True, "postings": existing, "seekers": SeekerProfile.objects.count()}
    if not Occupation.objects.exists():  # the backbone's dataset has the divisions, not the classification
        from gonghui.orgs.occupations import load_occupations

        log(f"  loaded the occupational classification: {load_occupations():,} rows")
    occupations = _occupations(rng)
    total = sum(w for _c, _n, w in occupations)
    # A table of occupations with cumulative weights, so SQL picks one per row by a hash in [0, 1).
    cumulative, acc = [], 0.0
    for code, name, weight in occupations:
        acc += weight / total
        title = name.removesuffix("人员")
        head = words_bigrams(f"{title} {name}")
        text = words_bigrams(f"招聘{title}，{name}，工作认真负责，待遇从优，欢迎有相关经验者加入。")
        cumulative.append((code, title[:60], head, text, acc))
    phases: dict[str, float] = {}
    t_all = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_occ (code text, title text, head text, body text, upto float8) "
                       "ON COMMIT DROP")
        with cursor.copy("COPY bench_occ FROM STDIN") as copy:
            for row in cumulative:
                copy.write_row(row)
        cursor.execute("CREATE INDEX ON bench_occ (upto)")
        cursor.execute("ANALYZE bench_occ")
        cursor.execute("SELECT max(id) FROM orgs_employer")
        max_employer = cursor.fetchone()[0]
        now = timezone.now()
        t0 = time.perf_counter()
        with indexes_deferred(cursor, JobPosting._meta.db_table):
            cursor.execute("""
                INSERT INTO employment_jobposting (
                    employer_id, org_id, org_path, province_code, title, occupation_id, occ_minor, occ_middle,
                    division_id, county_code, city_code, address, salary_min, salary_max, headcount, education,
                    experience_years, skills, benefits, description, contact_name, phone_hash, phone_encrypted,
                    phone_masked, expires_on, status, reject_reason, moderated_at, published_at, approved,
                    created_at, updated_at, search_head, search_text)
                SELECT e.id, e.org_id, e.org_path, e.province_code, o.title, o.code,
                       split_part(o.code, '-', 1) || '-' || split_part(o.code, '-', 2) || '-' || split_part(o.code, '-', 3),
                       split_part(o.code, '-', 1) || '-' || split_part(o.code, '-', 2),
                       e.division_id, left(e.division_id, 6), left(e.division_id, 4), '', s.low, s.low + s.span,
                       1 + (g %% 10), (ARRAY['none','junior','senior','associate','bachelor'])[1 + g %% 5], g %% 4,
                       jsonb_build_array((%(skills)s::text[])[1 + g %% 15], (%(skills)s::text[])[1 + (g / 15) %% 15]),
                       '["五险一金"]'::jsonb, '', '', '', '', '', %(today)s::date + 30, 'live', '', %(now)s,
                       %(now)s - make_interval(secs => (g * 7919 %% 5184000)), true, %(now)s, %(now)s,
                       o.head || ' ' || e.name_bigrams || ' o' || replace(o.code, '-', '')
                           || ' o' || replace(split_part(o.code, '-', 1) || split_part(o.code, '-', 2)
                           || split_part(o.code, '-', 3), '-', '')
                           || ' o' || split_part(o.code, '-', 1) || split_part(o.code, '-', 2)
                           || ' o' || split_part(o.code, '-', 1)
                           || ' p' || e.division_id || ' p' || left(e.division_id, 6) || ' p' || left(e.division_id, 4)
                           || ' p' || e.province_code,
                       o.body
                FROM generate_series(1, %(n)s::bigint) g
                JOIN orgs_employer e ON e.id = 1 + (hashint4(g::int) & 2147483647) %% %(max_employer)s
                CROSS JOIN LATERAL (SELECT * FROM bench_occ WHERE upto >= ((hashint4(g::int + 7) & 2147483647) / 2147483648.0)
                                    ORDER BY upto LIMIT 1) o
                CROSS JOIN LATERAL (SELECT (3000 + (g * 31 %% 90) * 100) AS low, (1000 + (g * 17 %% 40) * 100) AS span) s
            """, {"n": postings, "max_employer": max_employer, "now": now, "today": timezone.localdate(),
                  "skills": SKILLS})
            # One open posting per employer, title and place (the service's constraint): drop the few
            # random repeats before the unique index comes back.
            cursor.execute("DELETE FROM employment_jobposting a USING employment_jobposting b WHERE a.id > b.id "
                           "AND a.employer_id = b.employer_id AND a.title = b.title AND a.division_id = b.division_id")
            phases["postings_insert"] = time.perf_counter() - t0
            log(f"  INSERT … SELECT {postings:,} postings ({cursor.rowcount:,} repeats dropped): "
                f"{phases['postings_insert']:.1f} s")
            t0 = time.perf_counter()
        phases["postings_indexes"] = time.perf_counter() - t0
        log(f"  posting indexes recreated: {phases['postings_indexes']:.1f} s")
        # Seekers: worker accounts, profiles, and 2 occupations × 2 places each.
        t0 = time.perf_counter()
        cursor.execute("""
            INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                                       is_active, date_joined, kind, display_name, phone_encrypted)
            SELECT '!', false, 'bench-seeker-' || g, '', '', '', false, true, %(now)s, 'worker', '求职者' || g, ''
            FROM generate_series(1, %(n)s::bigint) g
            ON CONFLICT (username) DO NOTHING""", {"n": seekers, "now": now})  # kept from an earlier run
        cursor.execute("SELECT min(id) FROM accounts_user WHERE username LIKE 'bench-seeker-%%'")
        first_user = cursor.fetchone()[0]
        cursor.execute("""
            INSERT INTO employment_seekerprofile (user_id, org_id, org_path, province_code, name, education,
                experience_years, salary_expected, skills, about, help_group, visible_to_employers, status,
                created_at, updated_at)
            SELECT %(first)s + g - 1, e.org_id, e.org_path, e.province_code, '求职者' || g,
                   (ARRAY['none','junior','senior','associate','bachelor'])[1 + g %% 5], g %% 12,
                   3000 + (g * 13 %% 80) * 100,
                   jsonb_build_array((%(skills)s::text[])[1 + g %% 15], (%(skills)s::text[])[1 + (g / 7) %% 15]), '',
                   (ARRAY['none','jobless','between_jobs','hardship','graduate','flexible','migrant'])[1 + g %% 7],
                   g %% 5 < 3, 'active', %(now)s, %(now)s - make_interval(secs => (g * 104729 %% 5184000))
            FROM generate_series(1, %(n)s::bigint) g
            JOIN orgs_employer e ON e.id = 1 + (hashint4(g::int + 1000003) & 2147483647) %% %(max_employer)s
        """, {"n": seekers, "first": first_user, "now": now, "skills": SKILLS, "max_employer": max_employer})
        phases["seekers_insert"] = time.perf_counter() - t0
        log(f"  {seekers:,} worker accounts and seeker profiles: {phases['seekers_insert']:.1f} s")
        t0 = time.perf_counter()
        with indexes_deferred(cursor, "employment_seekerwish"):
            cursor.execute("""
                INSERT INTO employment_seekerwish (seeker_id, occupation_id, occ_minor, occ_middle, division_id,
                    county_code, city_code, province_code, open, updated_at)
                SELECT s.id, w.code,
                       split_part(w.code, '-', 1) || '-' || split_part(w.code, '-', 2) || '-' || split_part(w.code, '-', 3),
                       split_part(w.code, '-', 1) || '-' || split_part(w.code, '-', 2),
                       p.division, left(p.division, 6), left(p.division, 4), left(p.division, 2),
                       s.visible_to_employers, s.updated_at
                FROM employment_seekerprofile s
                JOIN orgs_employer e ON e.id = 1 + (hashint4(s.id::int + 1000003) & 2147483647) %% %(max_employer)s
                CROSS JOIN LATERAL (
                    SELECT DISTINCT code FROM (
                        (SELECT code FROM bench_occ WHERE upto >= ((hashint4(s.id::int * 3) & 2147483647) / 2147483648.0)
                         ORDER BY upto LIMIT 1)
                        UNION ALL
                        (SELECT code FROM bench_occ WHERE upto >= ((hashint4(s.id::int * 5) & 2147483647) / 2147483648.0)
                         ORDER BY upto LIMIT 1)) x) w
                CROSS JOIN LATERAL (SELECT DISTINCT d AS division FROM unnest(ARRAY[
                    (SELECT code FROM orgs_division WHERE code = e.division_id),
                    (SELECT code FROM orgs_division WHERE code = left(e.division_id, 6))]) d WHERE d IS NOT NULL) p
            """, {"max_employer": max_employer})
        phases["wishes"] = time.perf_counter() - t0
        log(f"  seeker wishes: {phases['wishes']:.1f} s")
    t0 = time.perf_counter()
    for table in ("employment_jobposting", "employment_seekerprofile", "employment_seekerwish", "accounts_user"):
        raw.execute(f"VACUUM ANALYZE {table}")
    phases["vacuum_analyze"] = time.perf_counter() - t0
    log(f"  VACUUM ANALYZE: {phases['vacuum_analyze']:.1f} s")
    return {"reused": False, "postings": postings, "seekers": seekers,
            "phases": {k: round(v, 1) for k, v in phases.items()}, "seconds": round(time.perf_counter() - t_all, 1)}


# --- Raw equivalents ----------------------------------------------------------------------------------

SQL_JOB_CANDIDATES = (
    "SELECT id FROM employment_jobposting WHERE status = 'live' AND expires_on >= %(today)s "
    "AND occ_minor = %(minor)s AND city_code = %(city)s ORDER BY published_at DESC LIMIT 200")
SQL_JOB_ROWS = ("SELECT p.*, e.name, o.name, d.name FROM employment_jobposting p JOIN orgs_employer e ON e.id = p.employer_id "
                "JOIN orgs_occupation o ON o.code = p.occupation_id JOIN orgs_division d ON d.code = p.division_id "
                "WHERE p.id = ANY(%(ids)s)")
SQL_SEEKER_CANDIDATES = (
    "SELECT seeker_id FROM employment_seekerwish WHERE open AND occ_minor = %(minor)s AND city_code = %(city)s "
    "ORDER BY updated_at DESC LIMIT 400")
SQL_SEEKER_ROWS = ("SELECT s.*, w.* FROM employment_seekerprofile s JOIN employment_seekerwish w ON w.seeker_id = s.id "
                   "WHERE s.id = ANY(%(ids)s) AND s.status = 'active' AND s.visible_to_employers")


def raw_recommend_jobs(raw, profile: SeekerProfile) -> int:
    ids: dict[int, None] = {}
    today = timezone.localdate()
    for minor, city in sorted({(w.occ_minor, w.city_code) for w in profile.wishes.all()}):
        for (pk,) in raw.execute(SQL_JOB_CANDIDATES, {"today": today, "minor": minor, "city": city}):
            ids.setdefault(pk, None)
    return len(raw.execute(SQL_JOB_ROWS, {"ids": list(ids)}).fetchall())


def raw_recommend_seekers(raw, posting: JobPosting) -> int:
    ids = [pk for (pk,) in raw.execute(SQL_SEEKER_CANDIDATES, {"minor": posting.occ_minor, "city": posting.city_code})]
    return len(raw.execute(SQL_SEEKER_ROWS, {"ids": ids}).fetchall())


def main(args, started) -> dict:
    raw = psycopg.connect(_dsn(), autocommit=True)
    log(f"bench: employment — {args.postings or DEFAULT_POSTINGS:,} postings, {args.seekers or DEFAULT_SEEKERS:,} seekers")
    generation = generate(args, raw)
    if not JobPosting.objects.exists() or not SeekerProfile.objects.exists():
        raise SystemExit("bench: no postings or seekers were generated; nothing to measure")
    rng = random.Random(args.seed + 67)
    n = args.employment_samples
    result: dict = {"benchmark": "employment", "started_at": started.isoformat(), "targets": TARGETS,
                    "generation": generation}
    # 1. Recommendations for seekers.
    max_seeker = SeekerProfile.objects.order_by("-id").values_list("id", flat=True).first()
    min_seeker = SeekerProfile.objects.order_by("id").values_list("id", flat=True).first()
    seeker_ids = rng.sample(range(min_seeker, max_seeker + 1), n + 20)
    profiles = {p.pk: p for p in SeekerProfile.objects.filter(pk__in=seeker_ids).prefetch_related("wishes")}
    seeker_ids = [i for i in seeker_ids if i in profiles]
    warm, timed = seeker_ids[:20], seeker_ids[20:]
    sizes = []

    def rec(pk):
        sizes.append(len(selectors.recommend_jobs(profile=profiles[pk])))

    selector_s = stats(time_calls(rec, timed, warm))
    raw_s = stats(time_calls(lambda pk: raw_recommend_jobs(raw, profiles[pk]), timed, warm))
    tokens = {pk: bearer(profiles[pk].user) for pk in timed[:100] + warm[:10]}
    client = Client()

    def api_rec(pk):
        response = client.get("/api/v1/me/job-recommendations", HTTP_AUTHORIZATION=f"Bearer {tokens[pk]}")
        if response.status_code != 200:
            raise RuntimeError(response.content[:300])

    api_s = stats(time_calls(api_rec, timed[:100], warm[:10]))
    result["recommend_jobs"] = {"selector": selector_s, "api": api_s, "raw": raw_s,
                                "results_avg": round(sum(sizes) / max(1, len(sizes)), 1),
                                "pass": max(api_s["p95"], selector_s["p95"]) <= TARGETS["recommend_p95_ms"]}
    log(f"  recommendations for a seeker: API p50 {api_s['p50']:.1f} p95 {api_s['p95']:.1f} | selector p95 "
        f"{selector_s['p95']:.1f} | raw candidate SQL p50 {raw_s['p50']:.1f} p95 {raw_s['p95']:.1f} ms "
        f"(avg {result['recommend_jobs']['results_avg']} results)")
    # 2. Candidates for postings, as the employer union's staff.
    max_posting = JobPosting.objects.order_by("-id").values_list("id", flat=True).first()
    posting_ids = rng.sample(range(1, max_posting + 1), n + 20)
    postings = {p.pk: p for p in JobPosting.objects.filter(pk__in=posting_ids).select_related("employer", "occupation")}
    posting_ids = [i for i in posting_ids if i in postings]
    warm, timed = posting_ids[:20], posting_ids[20:]
    national = OrgUnit.objects.get(kind="national")
    staff = User.objects.filter(username="bench-emp-staff").first()
    if staff is None:
        staff = User.objects.create(username="bench-emp-staff", kind=User.Kind.STAFF, display_name="就业帮扶")
        Grant.objects.create(user=staff, org=national, org_path=national.path, role=Role.STAFF, include_descendants=True)
    staff_client = Client(HTTP_AUTHORIZATION=f"Bearer {bearer(staff)}")
    sizes = []
    selector_s = stats(time_calls(lambda pk: sizes.append(len(selectors.recommend_seekers(posting=postings[pk]))),
                                  timed, warm))
    raw_s = stats(time_calls(lambda pk: raw_recommend_seekers(raw, postings[pk]), timed, warm))

    def api_cand(pk):
        response = staff_client.get(f"/api/v1/jobs/{pk}/candidates")
        if response.status_code != 200:
            raise RuntimeError(response.content[:300])

    api_s = stats(time_calls(api_cand, timed[:100], warm[:10]))
    result["recommend_seekers"] = {"selector": selector_s, "api": api_s, "raw": raw_s,
                                   "results_avg": round(sum(sizes) / max(1, len(sizes)), 1),
                                   "pass": max(api_s["p95"], selector_s["p95"]) <= TARGETS["recommend_p95_ms"]}
    log(f"  candidates for a posting: API p50 {api_s['p50']:.1f} p95 {api_s['p95']:.1f} | selector p95 "
        f"{selector_s['p95']:.1f} | raw candidate SQL p50 {raw_s['p50']:.1f} p95 {raw_s['p95']:.1f} ms "
        f"(avg {result['recommend_seekers']['results_avg']} results)")
    # 3. Search: the API, the app's own statements replayed raw (captured from one call: the same SQL
    # in the same transaction), and the whole search as one statement written by hand (what the app
    # ran before it walked windows: every match fetched and sorted).
    township = "440305001"
    cases = [
        ("keyword 快递", {"q": "快递"}),
        ("keyword 快递 in 深圳 (4403)", {"q": "快递", "division": "440300"}),
        ("occupation 4-02-07 in 南山区", {"occupation": "4-02-07", "division": "440305"}),
        ("keyword 电工 ≥ 6000 yuan nearest 南头街道", {"q": "电工", "salary_min": 6000, "near": township}),
        ("occupation group 4-03 in 广东", {"occupation": "4-03", "division": "440000"}),
        ("keyword 仓库管理 nearest 南头街道", {"q": "仓库管理", "near": township}),
        ("no filter (browse)", {}),
        ("nearest 南头街道, no filter", {"near": township}),
        ("all of 广东", {"division": "440000"}),
        ("major group 4 nationwide", {"occupation": "4"}),
        ("salary ≥ 9000 yuan", {"salary_min": 9000}),
        ("keyword 快递, page 10 (offset 180)", {"q": "快递", "offset": 180}),
    ]
    search = []
    anon = Client()
    single_iterations = min(args.iterations, 30)  # the one-statement version is slow on the widest cases
    for label, params in cases:
        def call(_=None, params=params):
            response = anon.get("/api/v1/jobs/search", params)
            if response.status_code != 200:
                raise RuntimeError(response.content[:300])
            return response

        found = len(call().json()["items"])
        api_s = stats(time_calls(call, range(args.iterations), range(args.warmup)))
        statements = _app_statements(call)
        raw_s = stats(time_calls(lambda _=None, st=statements: _replay(raw, st), range(args.iterations),
                                 range(args.warmup)))
        sql, sql_params = _raw_search(params)
        single_s = stats(time_calls(lambda _=None, sql=sql, p=sql_params: raw.execute(sql, p, prepare=False).fetchall(),
                                    range(single_iterations), range(min(args.warmup, 3))))
        matches = raw.execute(f"SELECT count(*) FROM ({sql.split(' ORDER BY ')[0]}) x", sql_params).fetchone()[0]
        search.append({"label": label, "params": params, "api": api_s, "raw": raw_s, "raw_one_statement": single_s,
                       "statements": len(statements), "results": found, "matches": matches,
                       "pass": api_s["p95"] <= TARGETS["search_p95_ms"]})
        log(f"  search {label:<44} API p50 {api_s['p50']:6.2f} p95 {api_s['p95']:6.2f} | same SQL raw p95 "
            f"{raw_s['p95']:6.2f} ms ({len(statements)} statements) | one statement p95 {single_s['p95']:7.2f} ms "
            f"| {matches:,} matches")
    result["search"] = search
    result["data"] = {t: raw.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                      for t in ("employment_jobposting", "employment_seekerprofile", "employment_seekerwish")}
    result["finished_at"] = datetime.datetime.now(datetime.UTC).isoformat()
    result["file"] = f"employment-{started:%Y%m%dT%H%M%SZ}.json"
    raw.close()
    return result


def _app_statements(call) -> list[str]:
    """The SQL one API call runs on the database, as sent (psycopg binds on the client)."""
    statements: list[str] = []

    def capture(execute, sql, params, many, context):
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append(connection.ops.last_executed_query(context["cursor"].cursor, sql, params))

    with connection.execute_wrapper(capture):
        call()
    return statements


def _replay(raw, statements: list[str]) -> None:
    """The statements again, in one transaction (the search's own run in one, its SET LOCAL needs it)."""
    with raw.transaction():
        for sql in statements:
            cursor = raw.execute(sql, prepare=False)
            if cursor.description:
                cursor.fetchall()


def _raw_search(params: dict) -> tuple[str, dict]:
    """The whole search as one statement by hand: every match, nearest ring first, newest first."""
    from gonghui.employment.textindex import query_terms

    words = query_terms(params.get("q", "")) if params.get("q") else []
    if params.get("occupation"):
        words.append("o" + params["occupation"].replace("-", ""))
    division = params.get("division")
    if division:
        digits = 2 if division.endswith("0000") else 4 if division.endswith("00") else len(division)
        words.append("p" + division[:digits])
    where = ["p.status = 'live'", "p.expires_on >= %(today)s"]
    if words:
        where.append("p.search_vector @@ to_tsquery('simple', %(tsq)s)")
    if params.get("salary_min"):
        where.append("p.salary_max >= %(salary)s")
    origin = params.get("near") or division
    order = "p.published_at DESC NULLS LAST, p.id DESC"
    if origin:
        order = ("CASE WHEN p.division_id = %(o)s THEN 0 WHEN p.county_code = %(o6)s THEN 1 WHEN p.city_code = %(o4)s "
                 "THEN 2 WHEN p.division_id LIKE %(o2)s THEN 3 ELSE 4 END, " + order)
    sql = (f"SELECT p.*, e.name FROM employment_jobposting p JOIN orgs_employer e ON e.id = p.employer_id "
           f"WHERE {' AND '.join(where)} ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s")
    origin = origin or ""
    return sql, {"today": timezone.localdate(), "tsq": " & ".join(words), "salary": params.get("salary_min"),
                 "o": origin, "o6": origin[:6], "o4": origin[:4], "o2": origin[:2] + "%",
                 "limit": 21, "offset": params.get("offset", 0)}


def _dsn() -> str:
    s = connection.settings_dict
    return f"host={s['HOST']} port={s['PORT']} dbname={s['NAME']} user={s['USER']}"
