#!/usr/bin/env python3
"""The benchmarks (`make bench`): national-size data, then the API against raw SQL.

Four parts, all by default (`--only backbone`, `--only membership`, `--only casedesk` or `--only legal`
runs one): the backbone (this file), membership (bench/membership.py: lookups over 10 M members, the
HTTP join flow and a flash crowd served by granian beside pgbench, a 1 M-row roster import beside
COPY), the 12351 case desk (bench/casedesk.py: the deadline sweep over 1 M open cases while a handler
works, a county's case board, dashboard numbers, case creation through HTTP beside pgbench) and the
legal-affairs cloud (bench/legal.py: law search and questions through the API beside their SQL raw,
ranking quality against BM25, letter rendering; it needs only the law library, not the national data).

Runs against DATABASE_URL (scripts/with_pg.py starts a throwaway cluster): migrate, generate the
national dataset with `gen_national` (unless it is already there), create admins at the national
root, a province, a county and a grassroots union, then time each API call through the full Django
stack (django.test.Client, bearer token) and the equivalent raw SQL through psycopg, in the same
run. Writes bench/results/backbone-<UTC>.json (and membership-<UTC>.json, casedesk-<UTC>.json) and,
at full size, their sections of docs/benchmarks.md. Not a test: it reports, it does not fail on a missed target.

    make bench                                  # full size (2.5 M unions, 6 M employers)
    make bench BENCH_ARGS="--scale 0.01"        # a quick run
    make bench BENCH_ARGS="--only membership"   # membership alone (still needs the unions and employers)
    make bench BENCH_ARGS="--only casedesk"     # the case desk alone (still needs the unions and employers)
    make bench BENCH_ARGS="--only legal"        # the legal-affairs cloud alone (no national data: ~1.5 min)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")

import warnings  # noqa: E402

import django  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic for an API benchmark

django.setup()

import psycopg  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bench import casedesk, employment, legal, membership, report  # noqa: E402
from gonghui.accounts.models import User  # noqa: E402
from gonghui.accounts.services import token_issue  # noqa: E402
from gonghui.analytics.rollups import STAFF, rollup_add  # noqa: E402
from gonghui.core import cursors  # noqa: E402
from gonghui.core.text import search_tokens  # noqa: E402
from gonghui.orgs.models import Employer, Grant, OrgKind, OrgUnit, Role  # noqa: E402
from gonghui.orgs.national import DEFAULT_EMPLOYERS, DEFAULT_GRASSROOTS, generate_national, refuse_reason  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PAGE = 50

# Raw SQL: the query a person would write by hand for the same answer and the same scope.
SQL_STATS = (  # the folded totals plus the deltas not folded yet (rollups.rollup_values)
    "SELECT s.metric, SUM(s.value) FROM (SELECT r.org_id, r.metric, r.value FROM analytics_rollup r "
    "WHERE r.org_id = %(org)s UNION ALL SELECT d.org_id, d.metric, d.value FROM analytics_rollupdelta d "
    "WHERE d.org_id = %(org)s) s JOIN orgs_orgunit o ON o.id = s.org_id WHERE o.path LIKE %(scope)s GROUP BY s.metric"
)
SQL_CHILDREN = "SELECT o.* FROM orgs_orgunit o WHERE o.parent_id = %s AND o.path LIKE %s ORDER BY o.path LIMIT 51"
SQL_CHILDREN_AFTER = (
    "SELECT o.* FROM orgs_orgunit o WHERE o.parent_id = %s AND o.path LIKE %s AND o.path > %s ORDER BY o.path LIMIT 51"
)
SQL_ORG_EXACT = "SELECT o.* FROM orgs_orgunit o WHERE o.path LIKE %s AND o.name = %s ORDER BY o.path LIMIT 20"
SQL_ORG_NAME = (
    "SELECT o.*, p.* FROM orgs_orgunit o LEFT JOIN orgs_orgunit p ON p.id = o.parent_id "
    "WHERE o.path LIKE %s AND o.name LIKE %s "
    "AND to_tsvector('simple', o.name_bigrams) @@ plainto_tsquery('simple', %s) LIMIT 20"
)
SQL_ORG_INITIALS = (
    "SELECT o.*, p.* FROM orgs_orgunit o LEFT JOIN orgs_orgunit p ON p.id = o.parent_id "
    "WHERE o.path LIKE %s AND o.name_initials LIKE %s ORDER BY o.id LIMIT 20"
)
SQL_EMPLOYER_EXACT = (
    "SELECT e.*, d.* FROM orgs_employer e JOIN orgs_division d ON d.code = e.division_id "
    "WHERE e.org_path LIKE %s AND e.name = %s ORDER BY e.id LIMIT 20"
)
SQL_EMPLOYER_NAME = (
    "SELECT e.*, d.* FROM orgs_employer e JOIN orgs_division d ON d.code = e.division_id "
    "WHERE e.org_path LIKE %s AND e.name LIKE %s "
    "AND to_tsvector('simple', e.name_bigrams) @@ plainto_tsquery('simple', %s) LIMIT 20"
)
SQL_EMPLOYER_PREFIX = (
    "SELECT e.*, d.* FROM orgs_employer e JOIN orgs_division d ON d.code = e.division_id WHERE e.id IN ("
    "SELECT id FROM orgs_employer WHERE org_path LIKE %s AND {column} LIKE %s ORDER BY id LIMIT 20) ORDER BY e.id"
)
SQL_EMPLOYER_PAGE = (
    "SELECT e.*, o.*, d.* FROM orgs_employer e JOIN orgs_orgunit o ON o.id = e.org_id "
    "JOIN orgs_division d ON d.code = e.division_id WHERE e.org_path LIKE %s AND e.id > %s ORDER BY e.id LIMIT 51"
)


@dataclass
class Actor:
    label: str
    org: OrgUnit | None
    client: Client
    scope_path: str  # '' for a worker: the public employer finder sees every employer


@dataclass
class Case:
    key: str
    label: str
    actor: Actor
    url: str
    sql: list[tuple[str, list]]  # the statements a person would write for the same answer
    result: dict = field(default_factory=dict)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the dataset size (default 1: national)")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--pages", type=int, default=1000, help="how deep to walk the employer list")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--docs", choices=["auto", "always", "never"], default="auto",
                        help="rewrite docs/benchmarks.md: auto = only at full size (the legal section: every run)")
    parser.add_argument("--only", choices=["all", "backbone", "membership", "casedesk", "legal", "employment"], default="all",
                        help="run one part (default: all)")
    membership.add_arguments(parser)
    casedesk.add_arguments(parser)
    employment.add_arguments(parser)
    legal.add_arguments(parser)
    return parser.parse_args()


def timed(fn, iterations: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def prepare_data(args) -> dict:
    call_command("migrate", verbosity=0, interactive=False)
    grassroots, employers = round(DEFAULT_GRASSROOTS * args.scale), round(DEFAULT_EMPLOYERS * args.scale)
    if refuse_reason() and Employer.objects.exists():
        print("bench: the database already holds generated data; reusing it (generation not timed).")
        return {"reused": True}
    print(f"bench: gen_national --grassroots {grassroots} --employers {employers} --seed {args.seed}", flush=True)
    generated = generate_national(grassroots=grassroots, employers=employers, seed=args.seed,
                                  log=lambda line: print(line, flush=True))
    return {
        "reused": False,
        "grassroots": generated.grassroots,
        "joint": generated.joint,
        "employers": generated.employers,
        "phases": {name: round(seconds, 1) for name, seconds in generated.phases.items()},
        "total_seconds": round(generated.total_seconds, 1),
    }


def make_actor(label: str, org: OrgUnit | None, username: str) -> Actor:
    user = User.objects.filter(username=username).first()
    if user is None:
        kind = User.Kind.STAFF if org is not None else User.Kind.WORKER
        user = User.objects.create(username=username, display_name=label, kind=kind)
        if org is not None:
            Grant.objects.create(user=user, org=org, org_path=org.path, role=Role.ADMIN, include_descendants=True)
            rollup_add(org.path, {STAFF: 1})
        else:
            user.set_phone("13912345678")
            user.save()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user)}")
    return Actor(label, org, client, org.path if org is not None else "")


def by_division(code: str) -> OrgUnit:
    return OrgUnit.objects.get(division_id=code, kind__in=[OrgKind.PROVINCE, OrgKind.CITY, OrgKind.COUNTY,
                                                          OrgKind.TOWNSHIP])


def api_call(actor: Actor, url: str):
    response = actor.client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} as {actor.label}: HTTP {response.status_code} {response.content[:300]!r}")
    return response


def search_url(path: str, q: str) -> str:
    return f"/api/v1/{path}?{urlencode({'q': q})}"


def build_cases(actors: dict[str, Actor], nodes: dict[str, OrgUnit], raw) -> list[Case]:
    national, province, city, county, grassroots = (
        actors[k] for k in ("national", "province", "city", "county", "grassroots"))
    cases = []
    for key, actor, org in [
        ("stats_national", national, nodes["national"]),
        ("stats_province", province, nodes["province"]),
        ("stats_county", county, nodes["county"]),
        ("stats_grassroots", grassroots, nodes["grassroots"]),
    ]:
        cases.append(Case(key, f"stats: {org.name}", actor, f"/api/v1/orgs/{org.pk}/stats",
                          [(SQL_STATS, {"org": org.pk, "scope": actor.scope_path + "%"})]))
    for key, actor, org in [
        ("children_county", county, nodes["county"]),
        ("children_big_city", province, nodes["big_city"]),
        ("children_township", county, nodes["township"]),
        ("children_township_city", city, nodes["township"]),
    ]:
        cases.append(Case(key, f"children: {org.name}", actor, f"/api/v1/orgs/{org.pk}/children?limit=50",
                          [(SQL_CHILDREN, [org.pk, actor.scope_path + "%"])]))
    # The last page of the busiest township's children.
    township = nodes["township"]
    children = OrgUnit.objects.filter(parent=township).order_by("path").values_list("path", flat=True)
    count = children.count()
    if count > 51:
        after = children[count - 51]
        cases.append(Case("children_township_last", f"children: {township.name}, last page", county,
                          f"/api/v1/orgs/{township.pk}/children?limit=50&cursor={quote(cursors.encode(after))}",
                          [(SQL_CHILDREN_AFTER, [township.pk, county.scope_path + "%", after])]))

    def name_sql(exact: str, rest: str, actor: Actor, q: str) -> list[tuple[str, list]]:
        tokens = search_tokens(q)
        if tokens == [q.lower()]:  # a two-character query is its own bigram: no LIKE (selectors._name_filter)
            rest = rest.replace(" AND o.name LIKE %s", "").replace(" AND e.name LIKE %s", "")
            params = [actor.scope_path + "%", " ".join(tokens)]
        else:
            params = [actor.scope_path + "%", f"%{q}%", " ".join(tokens)]
        return [(exact, [actor.scope_path + "%", q]), (rest, params)]

    def org_name(key, actor, q):
        cases.append(Case(key, f"search unions: {q}", actor, search_url("orgs/search", q),
                          name_sql(SQL_ORG_EXACT, SQL_ORG_NAME, actor, q)))

    def org_initials(key, actor, q):
        cases.append(Case(key, f"search unions: {q}", actor, search_url("orgs/search", q),
                          [(SQL_ORG_INITIALS, [actor.scope_path + "%", q + "%"])]))

    def employer_name(key, actor, q):
        cases.append(Case(key, f"search employers: {q}", actor, search_url("employers/search", q),
                          name_sql(SQL_EMPLOYER_EXACT, SQL_EMPLOYER_NAME, actor, q)))

    def employer_prefix(key, actor, q, column):
        cases.append(Case(key, f"search employers: {q}", actor, search_url("employers/search", q),
                          [(SQL_EMPLOYER_PREFIX.format(column=column), [actor.scope_path + "%", q + "%"])]))

    org_name("search_org_brand", national, "华创科技")
    org_name("search_org_town", national, "南头街道")
    org_name("search_org_2chars", national, "南山")
    org_name("search_org_city", national, "深圳")
    org_initials("search_org_initials", national, "szshc")
    org_initials("search_org_initials_short", national, "sz")
    org_name("search_org_brand_county", county, "华创科技")
    org_name("search_org_common_county", county, "科技")
    org_initials("search_org_initials_county", county, "szs")
    org_name("search_org_brand_city", city, "华创科技")
    org_initials("search_org_initials_city", city, "szshc")
    employer_name("search_employer_brand", national, "华创科技")
    employer_name("search_employer_city", national, "深圳")
    employer_prefix("search_employer_initials", national, "szshc", "name_initials")
    employer_prefix("search_employer_uscc_prefix", national, "91440305", "uscc")
    sample = raw.execute("SELECT uscc FROM orgs_employer WHERE org_path LIKE %s ORDER BY id LIMIT 1",
                         [county.scope_path + "%"]).fetchone()
    if sample:
        employer_prefix("search_employer_uscc_full", national, sample[0], "uscc")
        employer_prefix("search_employer_uscc_county", county, sample[0][:10], "uscc")
    employer_name("search_employer_brand_worker", actors["worker"], "华创科技")
    return cases


def employer_pages(actor: Actor, org: OrgUnit, raw) -> list[Case]:
    """The first and the last page of a subtree's employer list (the cursor built from the data)."""
    base = f"/api/v1/orgs/{org.pk}/employers?limit={PAGE}"
    total = raw.execute("SELECT COUNT(*) FROM orgs_employer WHERE org_path LIKE %s", [org.path + "%"]).fetchone()[0]
    cases = [Case("employers_city_first", f"employers of {org.name}, page 1", actor, base,
                  [(SQL_EMPLOYER_PAGE, [org.path + "%", 0])])]
    if total > PAGE + 1:
        after = raw.execute("SELECT id FROM orgs_employer WHERE org_path LIKE %s ORDER BY id OFFSET %s LIMIT 1",
                            [org.path + "%", total - PAGE - 1]).fetchone()[0]
        cases.append(Case("employers_city_last", f"employers of {org.name}, last page ({(total + PAGE - 1) // PAGE})",
                          actor, base + f"&cursor={quote(cursors.encode(after))}",
                          [(SQL_EMPLOYER_PAGE, [org.path + "%", after])]))
    return cases


def walk_employers(actor: Actor, org: OrgUnit, pages: int, raw) -> tuple[list[Case], dict]:
    """Walk the subtree's employer list with the cursor, then time page `pages` and the last page."""
    base = f"/api/v1/orgs/{org.pk}/employers?limit={PAGE}"
    cursor, samples, page = None, [], 0
    url_of_page = base
    while page < pages:
        url = base + (f"&cursor={quote(cursor)}" if cursor else "")
        started = time.perf_counter()
        body = api_call(actor, url).json()
        samples.append((time.perf_counter() - started) * 1000)
        page += 1
        url_of_page, cursor_of_page = url, cursor
        cursor = body["next_cursor"]
        if not cursor:
            break
    total = raw.execute("SELECT COUNT(*) FROM orgs_employer WHERE org_path LIKE %s", [org.path + "%"]).fetchone()[0]
    after_id = cursors.decode(cursor_of_page, int) if cursor_of_page else 0
    cases = [Case("employers_page_n", f"employers of {org.name}, page {page}", actor, url_of_page,
                  [(SQL_EMPLOYER_PAGE, [actor.scope_path + "%", after_id])])]
    if total > PAGE + 1:
        last_after = raw.execute(
            "SELECT id FROM orgs_employer WHERE org_path LIKE %s ORDER BY id OFFSET %s LIMIT 1",
            [org.path + "%", total - PAGE - 1],
        ).fetchone()[0]
        cases.append(Case("employers_page_last", f"employers of {org.name}, last page ({(total + PAGE - 1) // PAGE})",
                          actor, base + f"&cursor={quote(cursors.encode(last_after))}",
                          [(SQL_EMPLOYER_PAGE, [actor.scope_path + "%", last_after])]))
    walk = {"org": org.name, "pages": page, "page_size": PAGE, "total": total, "api": report.summary(samples)}
    return cases, walk


def measure(case: Case, raw, iterations: int, warmup: int) -> None:
    queries = []  # the request resets connection.queries, so count with a wrapper

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        api_call(case.actor, case.url)
    def run_sql() -> int:
        return sum(len(raw.execute(sql, params).fetchall()) for sql, params in case.sql)

    api = timed(lambda: api_call(case.actor, case.url), iterations, warmup)
    sql = timed(run_sql, iterations, warmup)
    rows = run_sql()
    plans = [[line for (line,) in raw.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()]
             for sql, params in case.sql]
    api_s, sql_s = report.summary(api), report.summary(sql)
    case.result = {
        "key": case.key,
        "label": case.label,
        "actor": case.actor.label,
        "url": case.url,
        "api": api_s,
        "raw": sql_s,
        "ratio_p50": round(api_s["p50"] / sql_s["p50"], 1) if sql_s["p50"] else None,
        "ratio_p95": round(api_s["p95"] / sql_s["p95"], 1) if sql_s["p95"] else None,
        "queries": len(queries),
        "raw_rows": rows,
        "raw_sql": [{"sql": sql, "params": [str(p) for p in params]} for sql, params in case.sql],
        "raw_plans": plans,
        "pass": api_s["p95"] <= report.TARGET_MS,
    }
    print(f"  {case.label:<48} {case.actor.label:<10} API p50 {api_s['p50']:7.2f}  p95 {api_s['p95']:7.2f}  "
          f"max {api_s['max']:7.2f} | SQL p50 {sql_s['p50']:7.2f}  p95 {sql_s['p95']:7.2f} | "
          f"{case.result['queries']} q  {'ok' if case.result['pass'] else 'MISSED'}", flush=True)


def main() -> int:
    args = parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/run.py needs PostgreSQL: run it through `make bench` (scripts/with_pg.py).")
    started = datetime.datetime.now(datetime.UTC)
    if args.only == "legal":  # the law library alone: no national dataset
        call_command("migrate", verbosity=0, interactive=False)
        return run_legal(args)
    generation = prepare_data(args)
    status = 0
    if args.only in ("all", "backbone"):
        status |= run_backbone(args, started, generation)
    if args.only in ("all", "membership"):
        status |= run_membership(args)
    if args.only in ("all", "casedesk"):
        status |= run_casedesk(args)
    if args.only in ("all", "employment"):
        status |= run_employment(args)
    if args.only == "all":
        status |= run_legal(args)
    return status


def run_employment(args) -> int:
    started = datetime.datetime.now(datetime.UTC)
    result = employment.main(args, started)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / result["file"]
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(f"bench: wrote {out.relative_to(ROOT)}")
    for part in ("recommend_jobs", "recommend_seekers"):
        r = result[part]
        print(f"bench: {part}: API p95 {r['api']['p95']} ms, selector p95 {r['selector']['p95']} ms, raw candidate "
              f"SQL p95 {r['raw']['p95']} ms (target ≤ {employment.TARGETS['recommend_p95_ms']:.0f}) "
              f"{'met' if r['pass'] else 'MISSED'}")
    worst = max(result["search"], key=lambda c: c["api"]["p95"])
    print(f"bench: search: worst API p95 {worst['api']['p95']} ms ({worst['label']}; target ≤ "
          f"{employment.TARGETS['search_p95_ms']:.0f}) {'met' if worst['pass'] else 'MISSED'}")
    return 0


def run_legal(args) -> int:
    started = datetime.datetime.now(datetime.UTC)
    result = legal.main(args, started)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / result["file"]
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(f"bench: wrote {out.relative_to(ROOT)}")
    if args.docs != "never":  # the law library is the same size at any scale: every run rewrites its section
        report.write_legal_docs(result)
        print(f"bench: rewrote the legal-affairs section of {report.DOCS.relative_to(ROOT)}")
    for line in report.legal_verdicts(result):
        print(f"bench: {line}")
    return 0


def run_casedesk(args) -> int:
    started = datetime.datetime.now(datetime.UTC)
    result = casedesk.main(args, started)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / result["file"]
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(f"bench: wrote {out.relative_to(ROOT)}")
    full_size = result["data"]["open_cases"] >= casedesk.DEFAULT_CASES
    if args.docs == "always" or (args.docs == "auto" and full_size):
        report.write_casedesk_docs(result)
        print(f"bench: rewrote the case desk section of {report.DOCS.relative_to(ROOT)}")
    for line in report.casedesk_verdicts(result):
        print(f"bench: {line}")
    return 0


def run_membership(args) -> int:
    started = datetime.datetime.now(datetime.UTC)
    result = membership.main(args, started)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / result["file"]
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(f"bench: wrote {out.relative_to(ROOT)}")
    full_size = result["members"] >= membership.DEFAULT_MEMBERS
    if args.docs == "always" or (args.docs == "auto" and full_size):
        report.write_membership_docs(result)
        print(f"bench: rewrote the membership section of {report.DOCS.relative_to(ROOT)}")
    for line in report.membership_verdicts(result):
        print(f"bench: {line}")
    return 0


def run_backbone(args, started, generation) -> int:
    nodes = {
        "national": OrgUnit.objects.get(kind=OrgKind.NATIONAL),
        "province": by_division("440000"),  # 广东省
        "city": by_division("440300"),  # 深圳市
        "big_city": by_division("441900"),  # 东莞市: 30+ towns directly below the city
        "county": by_division("440305"),  # 深圳市南山区
    }
    # The busiest township of the county, and a grassroots union in it.
    nodes["township"] = (OrgUnit.objects.filter(parent=nodes["county"]).order_by("-child_seq", "path").first())
    nodes["grassroots"] = (OrgUnit.objects.filter(parent=nodes["township"], kind=OrgKind.GRASSROOTS)
                           .order_by("path").first())
    if nodes["grassroots"] is None:
        sys.exit("bench: no grassroots union under the busiest township of 南山区: generate more data")
    actors = {
        "national": make_actor("national", nodes["national"], "bench-national"),
        "province": make_actor("province", nodes["province"], "bench-province"),
        "city": make_actor("city", nodes["city"], "bench-city"),
        "county": make_actor("county", nodes["county"], "bench-county"),
        "grassroots": make_actor("grassroots", nodes["grassroots"], "bench-grassroots"),
        "worker": make_actor("worker", None, "bench-worker"),
    }
    connection.close()  # the next request opens a fresh, persistent connection
    raw = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, prepare_threshold=None)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"bench: measuring (load average {load_before})", flush=True)
    cases = build_cases(actors, nodes, raw)
    page_cases, walk = walk_employers(actors["province"], nodes["province"], args.pages, raw)
    cases += page_cases + employer_pages(actors["city"], nodes["city"], raw)
    for case in cases:
        measure(case, raw, args.iterations, args.warmup)

    finished = datetime.datetime.now(datetime.UTC)
    stamp = finished.strftime("%Y%m%dT%H%M%SZ")
    with connection.cursor() as cursor:
        result = {
            "benchmark": "backbone",
            "command": "make bench" + (f' BENCH_ARGS="{" ".join(sys.argv[1:])}"' if sys.argv[1:] else ""),
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": finished.strftime("%Y-%m-%d %H:%M"),
            "file": f"backbone-{stamp}.json",
            "scale": args.scale,
            "iterations": args.iterations,
            "warmup": args.warmup,
            "target_ms": report.TARGET_MS,
            "machine": report.machine(cursor),
            "data": report.data_size(cursor),
            "generation": generation,
            "nodes": {key: {"id": org.pk, "name": org.name, "path": org.path} for key, org in nodes.items()},
            "walk": walk,
            "load_average": {"before": load_before, "after": " ".join(f"{x:.2f}" for x in os.getloadavg())},
            "cases": [case.result for case in cases],
        }
    missed = [case.result["label"] for case in cases if not case.result["pass"]]
    result["all_pass"] = not missed
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / result["file"]
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"bench: wrote {out.relative_to(ROOT)}")
    full_size = result["data"]["grassroots_level_unions"] >= DEFAULT_GRASSROOTS
    if args.docs == "always" or (args.docs == "auto" and full_size):
        report.write_docs(result)
        print(f"bench: rewrote the backbone section of {report.DOCS.relative_to(ROOT)}")
    print("bench: every p95 within 50 ms" if not missed else f"bench: p95 above 50 ms: {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
