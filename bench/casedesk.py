"""The 12351 case desk benchmark (`make bench`, or `make bench BENCH_ARGS="--only casedesk"`).

Called by bench/run.py after Django is set up, against the national dataset (unions and employers
from gen_national) on the throwaway PostgreSQL cluster. Every figure is measured beside its raw
database equivalent in the same run:

1. the deadline sweep over 1,000,000 open cases: cases are generated with set-based SQL (INSERT …
   SELECT over generate_series, indexes dropped and rebuilt, then the case rollups rebuilt from the
   casedesk rebuild sources and VACUUM ANALYZE), spread over the grassroots-level unions weighted like members (by the headcount of the
   employers each covers), with a share of them due for a warning or past a deadline at the sweep
   moment; `services.deadline_sweep(now=…)` is timed end to end while a handler in another process
   (bench/casedesk_accept.py) accepts cases — some the sweep is about to touch — and each accept's
   latency is recorded;
2. the case board of a county holding 100,000 open cases (`GET /api/v1/cases` as the county's
   handler: first and deep cursor pages, each open status, the overdue filter), beside the same
   query written by hand;
3. dashboard numbers from the rollups (`case_stats` and `case_child_breakdown`, the data of the
   console's statistics page) at six levels, beside the raw rollup reads;
4. case creation through HTTP (`POST /api/v1/cases` as 12351 agents, granian, closed loop), beside
   pgbench's single-row durable INSERT of a row as wide as a case.

Not a test: it reports, it does not fail on a missed target.
"""

from __future__ import annotations

import collections
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import psycopg
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from bench import report
from bench.membership import (
    Server,
    WaitSampler,
    bearer,
    pg_settings,
    run_load,
    run_pgbench,
    sample_employers,
    stats,
    time_calls,
)
from gonghui.accounts.models import User
from gonghui.analytics.rollups import STAFF, rollup_add, rollup_fold
from gonghui.casedesk import selectors, services
from gonghui.casedesk.models import Case, CaseCategory
from gonghui.core import cursors, pii
from gonghui.core.bulk import indexes_deferred
from gonghui.orgs.models import LEAF_KINDS, CaseRole, Grant, OrgKind, OrgUnit, Role
from gonghui.orgs.national_members import Numbers
from gonghui.orgs.paths import STEP

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CASES = 1_000_000
DEFAULT_COUNTY_CASES = 100_000
COUNTY_DIVISION = "440305"  # 深圳市南山区
PAGE = 50
TARGETS = {"sweep_seconds": 5.0, "accept_p99_ms": 200.0, "board_p95_ms": 100.0, "stats_p95_ms": 50.0}
# Generated open cases. Shares of the statuses, and where a case sits: its grassroots union (85 %),
# the township above it (10 %, e.g. no union at the employer) or the county (5 %).
STATUS_SHARES = (("pending", 0.30), ("in_progress", 0.55), ("waiting_worker", 0.15))
HOLDER_SHARES = (0.85, 0.10, 0.05)
# Of the pending and in-progress cases: a warning due now (the deadline still ahead), newly past the
# deadline, and escalated earlier (warned and escalated before; they count as overdue). The sweep
# last acted BACKLOG_HOURS before the sweep moment, so these fall within that window.
P_WARN, P_OVERDUE, P_ESCALATED = 0.02, 0.015, 0.03
BACKLOG_HOURS = 2.0
CALENDAR_PER_WORKDAY = 1.4  # working days to calendar time (weekends), for generated clocks
PERSON_BASE = 2_000_000_000  # phone numbers of the benchmark's callers: far above the members'
TEXTS = [
    "公司已经三个月没有发工资了，老板说等回款再发，我们班组十几个人都没拿到，房租都交不起了。",
    "入职半年公司一直不签劳动合同，现在说要辞退我，也不给任何补偿，想问怎么维权。",
    "每天加班到晚上十点，周末也要上班，加班费一分没有，找主管反映被骂了一顿。",
    "公司没有给我们缴社保，说是自愿放弃，可是我们从来没有签过放弃的字，现在看病报不了。",
    "上个月在车间操作时手被机器压伤，公司不给申请工伤认定，只给了两千块让我回家休息。",
    "怀孕四个月了，公司突然通知我调岗到外地，不去就算自动离职，请问这样合法吗。",
    "外卖平台这个月改了派单规则，超时一次罚五十元，很多骑手一天白干，站长说是总部规定。",
    "工厂要搬到外省，通知我们下周起不用来了，工龄十年的老员工也没有经济补偿。",
    "试用期延长到了一年，工资只有当地最低工资的一半，公司说试用期就是这个标准。",
    "劳务派遣到这个单位五年了，同样的岗位正式工工资比我们高一倍，福利也没有。",
    "公司拖欠去年的年终奖和绩效工资，离职的时候说要扣押三个月工资作为保证金。",
    "工地包工头跑路了，二十多个工人的工资没有结，总包单位说不归他们管，我们不知道找谁。",
]


def add_arguments(parser) -> None:
    group = parser.add_argument_group("casedesk")
    group.add_argument("--cases", type=int, default=None,
                       help=f"open cases to generate nationally (default {DEFAULT_CASES:,} × --scale)")
    group.add_argument("--county-cases", type=int, default=None,
                       help=f"of those, open cases in 南山区 (default {DEFAULT_COUNTY_CASES:,} × --scale)")
    group.add_argument("--case-concurrency", type=int, default=16, help="agents posting cases at once (and pgbench -c)")
    group.add_argument("--case-seconds", type=int, default=30, help="length of the creation run and of pgbench -T")
    group.add_argument("--create-service-calls", type=int, default=300,
                       help="case_create calls timed in-process, one after another")
    group.add_argument("--sweep-at", default=None,
                       help="ISO moment to sweep at when reusing generated cases (their generation's moment)")
    group.add_argument("--sweep-batch", type=int, default=1000, help="deadline_sweep batch size (the service's default)")
    group.add_argument("--casedesk-skip", default="", help="comma-separated parts to leave out: sweep,board,stats,create")


def log(line: str) -> None:
    print(line, flush=True)


# --- Data ------------------------------------------------------------------------------------------


def _limits() -> dict[str, tuple[float, float, float, float]]:
    """Per difficulty, in calendar hours: (accept limit, accept warning lead, complete limit, complete
    warning lead), from the national default working-day limits."""
    from django.conf import settings

    out = {}
    for difficulty, d in settings.GONGHUI_CASE_TIME_LIMITS.items():
        hours = 24 * CALENDAR_PER_WORKDAY
        accept_lead = min(d["warn_days"], d["accept_days"] - 1) if d["accept_days"] > 1 else 0
        out[difficulty] = (d["accept_days"] * hours, accept_lead * hours, d["complete_days"] * hours,
                           d["warn_days"] * hours)
    return out


def _case_sql(anchor_param: str = "%(anchor)s") -> str:
    """INSERT … SELECT of the generated cases from the plan table (one row per case, its randoms)."""
    limits = _limits()

    def by_difficulty(i: int) -> str:
        return ("CASE difficulty " + " ".join(f"WHEN '{d}' THEN {v[i]:.4f}" for d, v in limits.items())
                + " END")

    (s1, p1), (s2, p2), _ = STATUS_SHARES
    w = BACKLOG_HOURS
    return f"""
WITH s AS (
  SELECT p.*,
    CASE WHEN r_status < {p1} THEN '{s1}' WHEN r_status < {p1 + p2} THEN '{s2}' ELSE 'waiting_worker' END AS status,
    CASE WHEN r_diff < 0.80 THEN 'normal' WHEN r_diff < 0.95 THEN 'difficult' ELSE 'complex' END AS difficulty,
    CASE WHEN r_shift < {HOLDER_SHARES[0]} THEN 0 WHEN r_shift < {HOLDER_SHARES[0] + HOLDER_SHARES[1]} THEN 1
         ELSE 2 END AS shift
  FROM bench_cd_plan p
), l AS (
  SELECT s.*,
    CASE WHEN status = 'pending' THEN {by_difficulty(0)} ELSE {by_difficulty(2)} END AS limit_h,
    CASE WHEN status = 'pending' THEN {by_difficulty(1)} ELSE {by_difficulty(3)} END AS lead_h,
    CASE WHEN status = 'waiting_worker' THEN 'paused'
         WHEN r_stage < {P_WARN} THEN 'warn'
         WHEN r_stage < {P_WARN + P_OVERDUE} THEN 'overdue'
         WHEN r_stage < {P_WARN + P_OVERDUE + P_ESCALATED} THEN 'escalated'
         ELSE 'fresh' END AS stage
  FROM s
), t AS (
  SELECT l.*,
    CASE stage
      WHEN 'fresh' THEN r_when * (limit_h - lead_h) * 0.999
      WHEN 'warn' THEN CASE WHEN lead_h > 0 THEN limit_h - lead_h + r_when * LEAST({w}, lead_h * 0.99)
                            ELSE limit_h + r_when * {w} END
      WHEN 'overdue' THEN limit_h + r_when * {w}
      WHEN 'escalated' THEN limit_h + {w} + 0.01 + r_when * 120
      ELSE r_when * limit_h * 0.9 END AS age_h
  FROM l
), c AS (
  SELECT t.*, {anchor_param}::timestamptz - make_interval(secs => age_h * 3600) AS start_at FROM t
), d AS (
  SELECT c.*,
    start_at + make_interval(secs => limit_h * 3600) AS due,
    start_at + make_interval(secs => (limit_h - lead_h) * 3600) AS warn,
    CASE WHEN status = 'pending' THEN start_at ELSE start_at - make_interval(secs => r_misc * 20 * 3600) END
      AS created,
    {anchor_param}::timestamptz - make_interval(secs => {w} * 3600) AS cutoff
  FROM c
), f AS (
  SELECT d.*, h.id AS org_id, h.path AS org_path, h.province_code, h.parent_id,
    CASE WHEN due <= cutoff AND status <> 'waiting_worker' THEN due END AS overdue_mark,
    CASE WHEN warn <= cutoff THEN warn END AS warn_mark
  FROM d JOIN orgs_orgunit h ON h.path = LEFT(d.union_path, GREATEST(LENGTH(d.union_path) - {STEP} * d.shift,
                                                                     d.min_len))
)
INSERT INTO casedesk_case (
  external_id, kind, category_id, difficulty, channel, title, description, worker_id, member_id, name,
  phone_hash, phone_encrypted, phone_masked, protect_identity, contact_preference, employer_id, employer_name,
  work_division_id, workers_affected, amount_claimed, org_id, org_path, province_code, intake_org_id, route_reason,
  created_by_id, status, created_at, accepted_at, resolved_at, closed_at, accept_due_at, accept_warn_at,
  complete_due_at, complete_warn_at, due_at, accept_warned_at, complete_warned_at, accept_overdue_at,
  complete_overdue_at, accepted_on_time, completed_on_time, paused_at, supervisor_id, supervisor_path, answer,
  result, money_recovered, workers_helped, satisfaction, satisfaction_comment, rated_at, rated_via, qc_by_id,
  qc_at, qc_note, reopen_count, merged_into_id, cluster_id, legal_aid_ref, updated_at)
SELECT
  NULL,
  CASE WHEN r_kind < 0.60 THEN 'problem' WHEN r_kind < 0.75 THEN 'complaint' WHEN r_kind < 0.85 THEN 'legal_aid'
       WHEN r_kind < 0.95 THEN 'help' ELSE 'suggestion' END,
  (%(categories)s::int[])[1 + FLOOR(r_cat * CARDINALITY(%(categories)s::int[]))::int],
  difficulty,
  CASE WHEN r_chan < 0.50 THEN 'hotline' WHEN r_chan < 0.85 THEN 'portal' WHEN r_chan < 0.95 THEN 'api'
       ELSE 'visit' END,
  LEFT((%(texts)s::text[])[1 + FLOOR(r_text * CARDINALITY(%(texts)s::text[]))::int], 40),
  (%(texts)s::text[])[1 + FLOOR(r_text * CARDINALITY(%(texts)s::text[]))::int],
  NULL, NULL,
  (%(names)s::text[])[1 + FLOOR(r_name * CARDINALITY(%(names)s::text[]))::int],
  MD5(r_name::text || r_misc::text) || MD5(r_misc::text || r_name::text), %(phone_encrypted)s,
  '13' || FLOOR(r_name * 10)::int || '****' || LPAD(FLOOR(r_misc * 10000)::int::text, 4, '0'),
  r_flag < 0.05, '',
  f.employer_id, COALESCE(e.name, ''), COALESCE(e.division_id, f.division_id),
  CASE WHEN r_flag > 0.92 THEN 2 + FLOOR((r_flag - 0.92) * 400)::int ELSE 1 END,
  CASE WHEN r_cat < 0.5 THEN ROUND((500 + r_misc * 80000)::numeric, 2) END,
  f.org_id, f.org_path, f.province_code, f.org_id, '按用人单位所在工会办理',
  NULL, status, created,
  CASE WHEN status <> 'pending' THEN start_at END, NULL, NULL,
  CASE WHEN status = 'pending' THEN due ELSE created + make_interval(secs => {limits['normal'][0]} * 3600) END,
  CASE WHEN status = 'pending' THEN warn ELSE created + make_interval(secs => {limits['normal'][0]} * 3600) END,
  CASE WHEN status <> 'pending' THEN due END,
  CASE WHEN status <> 'pending' THEN warn END,
  CASE WHEN status <> 'waiting_worker' THEN due END,
  CASE WHEN status = 'pending' THEN warn_mark END,
  CASE WHEN status <> 'pending' THEN warn_mark END,
  CASE WHEN status = 'pending' THEN overdue_mark END,
  CASE WHEN status <> 'pending' THEN overdue_mark END,
  CASE WHEN status <> 'pending' THEN TRUE END, NULL,
  CASE WHEN status = 'waiting_worker' THEN {anchor_param}::timestamptz
       - make_interval(secs => r_misc * LEAST(age_h, 120) * 3600) END,
  CASE WHEN overdue_mark IS NOT NULL THEN f.parent_id END,
  LEFT(f.org_path, LENGTH(f.org_path) - {STEP}),
  '', '', 0, 0, NULL, '', NULL, '', NULL, NULL, '', 0, NULL, NULL, '', {anchor_param}::timestamptz
FROM f LEFT JOIN orgs_employer e ON e.id = f.employer_id
ORDER BY created
"""


EVENT_SQL = """
INSERT INTO casedesk_caseevent (case_id, action, actor_id, from_status, to_status, from_org_id, to_org_id, org_path,
                                text, worker_visible, created_at)
SELECT id, 'create', NULL::bigint, '', 'pending', NULL::bigint, org_id, org_path, route_reason, FALSE, created_at
FROM casedesk_case WHERE id > %(after)s
UNION ALL
SELECT id, 'accept', NULL, 'pending', 'in_progress', NULL, NULL, org_path, '已受理您的诉求', TRUE, accepted_at
FROM casedesk_case WHERE id > %(after)s AND accepted_at IS NOT NULL
UNION ALL
SELECT id, 'escalate', NULL, status, status, NULL, NULL, org_path, '超过期限，已提请上级督办', FALSE,
       COALESCE(accept_overdue_at, complete_overdue_at)
FROM casedesk_case WHERE id > %(after)s AND COALESCE(accept_overdue_at, complete_overdue_at) IS NOT NULL
"""


def rebuild_case_rollups() -> None:
    """`rollup_rebuild` for the case metrics alone: the casedesk rebuild sources (gonghui/casedesk/
    rebuild.py), folded up the tree level by level as `rollup_rebuild` does on PostgreSQL. The full
    rebuild would recount every other source too (10 M members: two minutes); the case rows of the
    rollup tables are deleted first, so the result is what `rollup_rebuild` gives for them."""
    from gonghui.casedesk import rebuild as case_rebuild

    plain, daily = case_rebuild._plain(connection.vendor), case_rebuild._daily(connection.vendor)
    with transaction.atomic(), connection.cursor() as cursor:
        rollup_fold()  # deltas of other metrics into the totals; the case ones are recounted below
        cursor.execute("DELETE FROM analytics_rollupdelta WHERE metric LIKE 'cases.%'")
        cursor.execute("SELECT COALESCE(MAX(depth), 0) FROM orgs_orgunit")
        max_depth = cursor.fetchone()[0]
        for table, source, day in (("analytics_rollup", plain, ""), ("analytics_dailyrollup", daily, ", day")):
            cursor.execute(f"DELETE FROM {table} WHERE metric LIKE 'cases.%'")
            cursor.execute("DROP TABLE IF EXISTS bench_cd_fold")
            cursor.execute(
                f"CREATE TEMP TABLE bench_cd_fold ON COMMIT DROP AS SELECT o.id AS org_id, o.parent_id, o.depth, "
                f"s.metric{day}, s.value FROM (SELECT org_id, metric{day}, SUM(value) AS value FROM ({source}) x "
                f"GROUP BY org_id, metric{day}) s JOIN orgs_orgunit o ON o.id = s.org_id")
            cursor.execute("ANALYZE bench_cd_fold")
            for depth in range(max_depth, 1, -1):
                cursor.execute(
                    f"INSERT INTO bench_cd_fold (org_id, parent_id, depth, metric{day}, value) "
                    f"SELECT p.id, p.parent_id, p.depth, f.metric{day.replace(', ', ', f.')}, SUM(f.value) "
                    f"FROM bench_cd_fold f JOIN orgs_orgunit p ON p.id = f.parent_id WHERE f.depth = %s AND p.depth = %s "
                    f"GROUP BY p.id, p.parent_id, p.depth, f.metric{day.replace(', ', ', f.')}", [depth, depth - 1])
            cursor.execute(f"INSERT INTO {table} (org_id, metric{day}, value) SELECT org_id, metric{day}, SUM(value) "
                           f"FROM bench_cd_fold GROUP BY org_id, metric{day}")
            cursor.execute("DROP TABLE bench_cd_fold")


def generate_cases(args, count: int, county_count: int, anchor, raw) -> dict:
    """`count` open cases over the national tree, `county_count` of them in the county, with
    set-based SQL (see the module docstring); then the rollups are rebuilt and the tables analysed."""
    from gonghui.orgs.national import Parts

    county = OrgUnit.objects.get(division_id=COUNTY_DIVISION, kind=OrgKind.COUNTY)
    categories = list(CaseCategory.objects.filter(parent__isnull=False, is_active=True, owner__isnull=True)
                      .order_by("id").values_list("id", flat=True))
    phases: dict[str, float] = {}
    total_started = time.perf_counter()
    kinds = [k.value for k in LEAF_KINDS]
    county_len = len(county.path)
    with transaction.atomic(), connection.cursor() as cursor:
        t0 = time.perf_counter()
        cursor.execute("SELECT setseed(%s)", [((args.seed * 7919) % 1000) / 1000])
        cursor.execute("DROP TABLE IF EXISTS bench_cd_unions")
        cursor.execute(
            "CREATE TEMP TABLE bench_cd_unions ON COMMIT DROP AS "
            "SELECT o.id, o.path, o.division_id, MIN(e.id) AS employer_id, "
            "  (COALESCE(SUM(e.employee_count), 0) + 1)::float8 AS weight, o.path LIKE %s AS in_county "
            "FROM orgs_orgunit o JOIN orgs_employer e ON e.org_id = o.id "
            "WHERE o.kind = ANY(%s) AND o.is_active GROUP BY o.id",
            [county.path + "%", kinds])
        cursor.execute("SELECT COUNT(*) FILTER (WHERE in_county), COUNT(*) FROM bench_cd_unions")
        in_county, unions = cursor.fetchone()
        if not in_county:  # a small dataset may have no union with employers there: the townships hold them
            cursor.execute(
                "INSERT INTO bench_cd_unions SELECT id, path, division_id, NULL, 1, TRUE FROM orgs_orgunit "
                "WHERE parent_id = %s AND kind = 'township'", [county.pk])
        rest = max(0, count - county_count)
        cursor.execute(
            "CREATE TEMP TABLE bench_cd_alloc ON COMMIT DROP AS "
            "WITH q AS (SELECT id, in_county, (CASE WHEN in_county THEN %(nc)s ELSE %(nr)s END)::float8 * weight "
            "  / SUM(weight) OVER (PARTITION BY in_county) AS quota, "
            "  CASE WHEN in_county THEN %(nc)s ELSE %(nr)s END AS wanted FROM bench_cd_unions), "
            "f AS (SELECT id, in_county, wanted, FLOOR(quota)::int AS base, quota - FLOOR(quota) AS frac FROM q), "
            "r AS (SELECT id, base + CASE WHEN ROW_NUMBER() OVER (PARTITION BY in_county ORDER BY frac DESC, id) "
            "  <= wanted - SUM(base) OVER (PARTITION BY in_county) THEN 1 ELSE 0 END AS n FROM f) "
            "SELECT id, n FROM r WHERE n > 0",
            {"nc": county_count, "nr": rest})
        cursor.execute(
            "CREATE TEMP TABLE bench_cd_plan ON COMMIT DROP AS "
            "SELECT u.path AS union_path, u.division_id, u.employer_id, "
            "  CASE WHEN u.in_county THEN %(county_len)s ELSE %(min_len)s END AS min_len, "
            "  random() AS r_status, random() AS r_stage, random() AS r_when, random() AS r_diff, "
            "  random() AS r_kind, random() AS r_cat, random() AS r_shift, random() AS r_misc, random() AS r_text, "
            "  random() AS r_chan, random() AS r_name, random() AS r_flag "
            "FROM bench_cd_alloc a JOIN bench_cd_unions u ON u.id = a.id CROSS JOIN LATERAL generate_series(1, a.n) g",
            {"county_len": county_len, "min_len": 4 * STEP})
        planned = cursor.rowcount
        phases["plan"] = time.perf_counter() - t0
        log(f"  planned {planned:,} cases over {unions:,} grassroots-level unions ({in_county:,} in the county): "
            f"{phases['plan']:.1f} s")
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM casedesk_case")
        after = cursor.fetchone()[0]
        t0 = time.perf_counter()
        with indexes_deferred(cursor, "casedesk_case", "casedesk_caseevent"):
            cursor.execute(_case_sql(), {"anchor": anchor, "categories": categories, "texts": TEXTS,
                                         "names": Parts().people[:500],
                                         "phone_encrypted": pii.encrypt("00000000000")})
            inserted = cursor.rowcount
            phases["insert_cases"] = time.perf_counter() - t0
            log(f"  INSERT … SELECT {inserted:,} cases: {phases['insert_cases']:.1f} s")
            t0 = time.perf_counter()
            cursor.execute(EVENT_SQL, {"after": after})
            events = cursor.rowcount
            phases["insert_events"] = time.perf_counter() - t0
            log(f"  INSERT … SELECT {events:,} case events: {phases['insert_events']:.1f} s")
            t0 = time.perf_counter()
        phases["indexes_and_constraints"] = time.perf_counter() - t0
        log(f"  indexes and constraints recreated: {phases['indexes_and_constraints']:.1f} s")
    t0 = time.perf_counter()
    rebuild_case_rollups()
    phases["rollup_rebuild"] = time.perf_counter() - t0
    log(f"  case rollups rebuilt: {phases['rollup_rebuild']:.1f} s")
    t0 = time.perf_counter()
    for table in ("casedesk_case", "casedesk_caseevent", "analytics_rollup", "analytics_dailyrollup"):
        raw.execute(f"VACUUM ANALYZE {table}")
    phases["vacuum_analyze"] = time.perf_counter() - t0
    log(f"  VACUUM ANALYZE: {phases['vacuum_analyze']:.1f} s")
    return {"reused": False, "cases": inserted, "events": events, "unions_weighted": unions,
            "county_unions": in_county, "phases": {k: round(v, 1) for k, v in phases.items()},
            "total_seconds": round(time.perf_counter() - total_started, 1)}


def prepare_cases(args, raw) -> tuple[dict, object]:
    """Generate the open cases unless the database already has cases; returns (record, sweep moment)."""
    count = args.cases if args.cases is not None else round(DEFAULT_CASES * args.scale)
    county_count = args.county_cases if args.county_cases is not None else round(DEFAULT_COUNTY_CASES * args.scale)
    county_count = min(county_count, count)
    existing = Case.objects.count()
    if existing:
        moment = datetime.datetime.fromisoformat(args.sweep_at) if args.sweep_at else timezone.now()
        log(f"bench: the database already holds {existing:,} cases; reusing them (generation not timed), "
            f"sweep moment {moment.isoformat()}.")
        return {"reused": True, "cases": existing}, moment
    anchor = timezone.now().replace(microsecond=0)
    log(f"bench: generating {count:,} open cases ({county_count:,} in 南山区), sweep moment {anchor.isoformat()}")
    return generate_cases(args, count, county_count, anchor, raw), anchor


# --- Nodes and people ------------------------------------------------------------------------------


def find_nodes() -> list[tuple[str, OrgUnit]]:
    """National, 广东, 深圳, 南山区, its township with the most open cases, and that township's
    grassroots-level union with the most open cases (by the rollups)."""
    from gonghui.analytics.models import Rollup

    def division(code: str) -> OrgUnit:
        return OrgUnit.objects.get(division_id=code, kind__in=[OrgKind.PROVINCE, OrgKind.CITY, OrgKind.COUNTY])

    def busiest(parent: OrgUnit, kinds) -> OrgUnit | None:
        children = OrgUnit.objects.filter(parent=parent, kind__in=kinds)
        top = (Rollup.objects.filter(org__in=children, metric="cases.open").order_by("-value", "org_id")
               .values_list("org_id", flat=True).first())
        return OrgUnit.objects.get(pk=top) if top else children.order_by("path").first()

    rollup_fold()  # the ranking below reads the folded totals
    county = division(COUNTY_DIVISION)
    township = busiest(county, [OrgKind.TOWNSHIP])
    nodes = [("national", OrgUnit.objects.get(kind=OrgKind.NATIONAL)), ("province", division("440000")),
             ("city", division("440300")), ("county", county), ("township", township)]
    grassroots = busiest(township, list(LEAF_KINDS)) if township else None
    if grassroots is not None:
        nodes.append(("grassroots", grassroots))
    return nodes


def case_staff(org: OrgUnit, username: str, case_role: str = CaseRole.HANDLER) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create(username=username, display_name=username, kind=User.Kind.STAFF)
        Grant.objects.create(user=user, org=org, org_path=org.path, role=Role.STAFF, include_descendants=True,
                             case_role=case_role)
        rollup_add(org.path, {STAFF: 1})
    return user


def api_routes() -> set[str]:
    """The case desk API's paths, if the app has one registered (it was being written alongside)."""
    try:
        from django.urls import Resolver404, resolve

        from gonghui.casedesk.api import router
    except ImportError:
        return set()
    try:
        resolve("/api/v1/cases")
    except Resolver404:
        return set()
    return set(router.path_operations)


# --- 1. The deadline sweep -------------------------------------------------------------------------

DUE_SQL = {
    "accept_warn": "status = 'pending' AND accept_warned_at IS NULL AND accept_warn_at <= %(now)s",
    "accept_overdue": "status = 'pending' AND accept_overdue_at IS NULL AND accept_due_at <= %(now)s",
    "complete_warn": "status = 'in_progress' AND complete_warned_at IS NULL AND complete_warn_at <= %(now)s",
    "complete_overdue": "status = 'in_progress' AND complete_overdue_at IS NULL AND complete_due_at <= %(now)s",
}
ANY_DUE = " OR ".join(f"({where})" for where in DUE_SQL.values())


def due_counts(raw, now) -> dict:
    row = raw.execute(
        "SELECT " + ", ".join(f"COUNT(*) FILTER (WHERE {w})" for w in DUE_SQL.values())
        + f", COUNT(*) FILTER (WHERE {ANY_DUE}), COUNT(*) FILTER (WHERE status IN "
        "('pending', 'in_progress', 'waiting_worker')) FROM casedesk_case", {"now": now}).fetchone()
    return {**dict(zip(DUE_SQL, row[:4], strict=True)), "cases": row[4], "open": row[5]}


SQL_ROLLUP_METRICS = (  # what rollups.rollup_values runs: the folded totals plus the deltas not folded yet
    "SELECT metric, SUM(value) FROM (SELECT metric, value FROM analytics_rollup WHERE org_id = %(org)s "
    "AND metric = ANY(%(metrics)s) UNION ALL SELECT metric, value FROM analytics_rollupdelta WHERE org_id = %(org)s "
    "AND metric = ANY(%(metrics)s)) s GROUP BY metric")


def rollup_check(raw, org: OrgUnit) -> dict:
    """The node's case rollups beside a recount of its subtree's cases."""
    rollup = {metric: int(value) for metric, value in raw.execute(
        SQL_ROLLUP_METRICS, {"org": org.pk, "metrics": ["cases.open", "cases.overdue_open", "cases.status.pending",
                                                        "cases.status.in_progress", "cases.status.waiting_worker"]})}
    counted = raw.execute(
        "SELECT COUNT(*) FILTER (WHERE status IN ('pending', 'in_progress', 'waiting_worker')), "
        "COUNT(*) FILTER (WHERE status IN ('pending', 'in_progress', 'waiting_worker') AND "
        "  (accept_overdue_at IS NOT NULL OR complete_overdue_at IS NOT NULL)), "
        "COUNT(*) FILTER (WHERE status = 'pending'), COUNT(*) FILTER (WHERE status = 'in_progress'), "
        "COUNT(*) FILTER (WHERE status = 'waiting_worker') FROM casedesk_case WHERE org_path LIKE %s",
        [org.path + "%"]).fetchone()
    names = ["cases.open", "cases.overdue_open", "cases.status.pending", "cases.status.in_progress",
             "cases.status.waiting_worker"]
    out = {name: {"rollup": rollup.get(name, 0), "count": n} for name, n in zip(names, counted, strict=True)}
    return {"metrics": out, "consistent": all(v["rollup"] == v["count"] for v in out.values())}


def table_updates(raw) -> tuple[int, int]:
    """(row updates, of them HOT) on the case table so far: the sweep's should all be HOT."""
    return raw.execute("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'casedesk_case'"
                       ).fetchone()


def raw_rewrite(raw, ids: list[int]) -> dict:
    """The raw database's floor for the sweep: one hand-written UPDATE that rewrites the same rows
    once (their four marks), nothing else (no events, notices, rollups), rolled back. Run after the
    sweep, so it changes the same indexed columns the sweep changed."""
    t0 = time.perf_counter()
    rows = 0
    try:
        with raw.transaction(force_rollback=True):
            cursor = raw.execute(
                "UPDATE casedesk_case SET accept_warned_at = NULL, accept_overdue_at = NULL, "
                "complete_warned_at = NULL, complete_overdue_at = NULL WHERE id = ANY(%s)", [ids])
            rows = cursor.rowcount
            seconds = time.perf_counter() - t0
    except psycopg.Error as exc:  # reported, not fatal: the benchmark's other figures stand
        return {"error": str(exc)}
    return {"rows": rows, "seconds": round(seconds, 3)}


def measure_sweep(args, raw, national: OrgUnit, now, workdir: Path) -> dict:
    before = due_counts(raw, now)
    log(f"  due at the sweep moment: {before['cases']:,} of {before['open']:,} open cases "
        f"({before['cases'] / max(1, before['open']):.1%}); by step {[before[k] for k in DUE_SQL]}")
    handler = case_staff(national, "bench-cd-handler")
    due_ids = [r[0] for r in raw.execute(f"SELECT id FROM casedesk_case WHERE {ANY_DUE}", {"now": now}).fetchall()]
    rng = random.Random(args.seed + 23)
    # Cases for the handler: pending ones the sweep will not touch, and pending ones it is due to
    # warn or escalate (random picks, so some sit in the batch the sweep holds at that moment).
    other = [r[0] for r in raw.execute(
        f"SELECT id FROM casedesk_case WHERE status = 'pending' AND NOT ({DUE_SQL['accept_warn']}) "
        f"AND NOT ({DUE_SQL['accept_overdue']}) ORDER BY md5(id::text) LIMIT 3050", {"now": now}).fetchall()]
    swept = [r[0] for r in raw.execute(
        f"SELECT id FROM casedesk_case WHERE ({DUE_SQL['accept_warn']}) OR ({DUE_SQL['accept_overdue']}) "
        "ORDER BY md5(id::text) LIMIT 3000", {"now": now}).fetchall()]
    rng.shuffle(other)
    rng.shuffle(swept)
    warm, other = other[:50], other[50:]
    files = {name: workdir / f"sweep-{name}" for name in ("started", "done", "stop")}
    job = {"other": other, "swept": swept, "warm": warm, **{f"{k}_file": str(v) for k, v in files.items()}}
    job_path, out_path = workdir / "sweep-job.json", workdir / "sweep-accepts.json"
    job_path.write_text(json.dumps(job), encoding="utf-8")
    upd0 = table_updates(raw)
    raw.execute("CHECKPOINT")
    child = subprocess.Popen([sys.executable, str(ROOT / "bench" / "casedesk_accept.py"), "--actor", handler.username,
                              "--job", str(job_path), "--out", str(out_path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError("the handler process did not start")
        child.stdin.write("go\n")
        child.stdin.flush()
        time.sleep(1.0)  # accepts without the sweep, for comparison
        batches: list[dict] = []
        original = services._sweep_step_sql

        def timed_step(name, *step_args, **step_kwargs):
            t0 = time.perf_counter()
            n, last = original(name, *step_args, **step_kwargs)
            batches.append({"step": name, "rows": n, "ms": round((time.perf_counter() - t0) * 1000, 1),
                            "at": round(time.time(), 4)})
            return n, last

        services._sweep_step_sql = timed_step
        try:
            with WaitSampler() as waits:
                files["started"].touch()
                wall0, t0 = time.time(), time.perf_counter()
                done = services.deadline_sweep(now=now, batch=args.sweep_batch)
                seconds = time.perf_counter() - t0
                wall1 = time.time()
                files["done"].touch()
        finally:
            services._sweep_step_sql = original
        time.sleep(0.5)
        files["stop"].touch()
        child.wait(120)
    finally:
        if child.poll() is None:
            child.kill()  # the handler process started above
            child.wait()
    accepts = json.loads(out_path.read_text(encoding="utf-8")) if out_path.exists() else []
    after = due_counts(raw, now)
    # A second sweep right away: what a sweep costs when (almost) nothing is due.
    t0 = time.perf_counter()
    again = services.deadline_sweep(now=now, batch=args.sweep_batch)
    again_s = time.perf_counter() - t0
    # The deltas the sweep (and the handler's accepts) appended, folded into the totals by the job
    # that runs behind it (rollups.rollup_fold); the national numbers are checked before and after.
    national_before_fold = rollup_check(raw, national)
    pending = raw.execute("SELECT COUNT(*) FROM analytics_rollupdelta").fetchone()[0]
    t0 = time.perf_counter()
    folded = rollup_fold()
    fold = {"pending_rows": pending, "folded_rows": folded, "seconds": round(time.perf_counter() - t0, 3)}
    log(f"  fold behind the sweep: {folded:,} delta rows into the totals in {fold['seconds']:.2f} s")

    time.sleep(1.2)  # backends publish their table statistics at most once a second
    upd1 = table_updates(raw)
    hot = {"updates": upd1[0] - upd0[0], "hot": upd1[1] - upd0[1]}
    floor = raw_rewrite(raw, due_ids)

    def lat(rows):
        return stats([r["ms"] for r in rows])

    during = [r for r in accepts if r["phase"] == "during"]
    # An accept that started before the sweep but was still running when it began counts as during.
    result = {
        "now": now.isoformat(), "batch": args.sweep_batch,
        "due_before": before, "done": done, "seconds": round(seconds, 3),
        "rows_per_s": round(sum(done.values()) / seconds) if seconds else None,
        "left_due_after": after, "second_sweep": {"done": again, "seconds": round(again_s, 3)},
        "raw_rewrite": floor,
        "batches": [{k: v for k, v in b.items() if k != "at"} for b in batches],
        "longest_batch_ms": max((b["ms"] for b in batches), default=0),
        "hot_updates": hot,
        "db_waits": waits.result(),
        "accepts": {
            "before": lat([r for r in accepts if r["phase"] == "before" and "error" not in r]),
            "during": lat([r for r in during if "error" not in r]),
            "during_other": lat([r for r in during if r["group"] == "other" and "error" not in r]),
            "during_swept": lat([r for r in during if r["group"] == "swept" and "error" not in r]),
            "errors": [r["error"] for r in accepts if "error" in r][:20],
            "error_count": sum(1 for r in accepts if "error" in r),
            "overlapping_sweep": sum(1 for r in accepts if r["at"] < wall1 and r["at"] + r["ms"] / 1000 > wall0),
        },
        "fold": fold,
        "rollups_national_before_fold": national_before_fold,
        "rollups_national": rollup_check(raw, national),
    }
    acc = result["accepts"]
    result["pass_seconds"] = seconds <= TARGETS["sweep_seconds"]
    result["pass_handlers"] = bool(acc["during"].get("n")) and not acc["error_count"] and \
        (acc["during"].get("p99") or 1e9) <= TARGETS["accept_p99_ms"]
    log(f"  sweep: {seconds:.2f} s, {done} ({result['rows_per_s']} rows/s), {len(batches)} batches, longest "
        f"{result['longest_batch_ms']} ms, HOT updates {hot}; left due: {after['cases']}; second sweep "
        f"{again_s * 1000:.0f} ms; the same rows rewritten by one raw UPDATE: {floor}")
    d = acc["during"]
    log(f"  handler accepts during the sweep: n {d.get('n')}, p50 {d.get('p50')} p99 {d.get('p99')} max {d.get('max')} ms "
        f"(swept cases: p99 {acc['during_swept'].get('p99')} max {acc['during_swept'].get('max')}; before the sweep: "
        f"p50 {acc['before'].get('p50')} p99 {acc['before'].get('p99')}); errors {acc['error_count']}")
    if not (result["rollups_national"]["consistent"] and national_before_fold["consistent"]):
        log(f"  WARNING: national rollups differ from a recount: {result['rollups_national']['metrics']}")
    return result


# --- 2. The county's case board --------------------------------------------------------------------

SQL_BOARD = (
    "SELECT c.*, o.*, k.*, p.* FROM casedesk_case c JOIN orgs_orgunit o ON o.id = c.org_id "
    "JOIN casedesk_casecategory k ON k.id = c.category_id LEFT JOIN casedesk_casecategory p ON p.id = k.parent_id "
    "WHERE c.org_path LIKE %s AND c.status = %s{overdue}{after} ORDER BY {order} LIMIT 51"
)
OVERDUE = " AND (c.accept_overdue_at IS NOT NULL OR c.complete_overdue_at IS NOT NULL)"


def board_cases(county: OrgUnit) -> list[dict]:
    """First and deep pages of each open status, and the overdue filter, with their raw SQL."""
    out = []
    prefix = county.path + "%"
    for status, overdue in [("pending", False), ("in_progress", False), ("waiting_worker", False),
                            ("pending", True), ("in_progress", True)]:
        deadline = status in ("pending", "in_progress")
        base = Case.objects.filter(org_path__startswith=county.path, status=status)
        if overdue:
            base = base.exclude(accept_overdue_at__isnull=True, complete_overdue_at__isnull=True)
        total = base.count()
        order = "c.due_at, c.id" if deadline else "c.id DESC"
        url = f"/api/v1/cases?node={county.pk}&status={status}&limit={PAGE}" + ("&overdue=true" if overdue else "")
        label = f"{status}{' overdue' if overdue else ''}"
        sql = SQL_BOARD.format(overdue=OVERDUE if overdue else "", after="", order=order)
        out.append({"key": f"{label.replace(' ', '_')}_first", "label": f"{label}, page 1", "status": status,
                    "overdue": overdue, "total": total, "url": url, "cursor": None, "sql": sql,
                    "params": [prefix, status]})
        if total > PAGE + 1 and not overdue:
            if deadline:
                due, pk = base.order_by("due_at", "id").values_list("due_at", "id")[total - PAGE - 1]
                cursor, after_sql, params = [due.isoformat(), pk], " AND (c.due_at, c.id) > (%s, %s)", [due, pk]
            else:
                pk = base.order_by("-id").values_list("id", flat=True)[total - PAGE - 1]
                cursor, after_sql, params = [None, pk], " AND c.id < %s", [pk]
            encoded = cursors.encode(cursor)
            out.append({"key": f"{label}_last", "label": f"{label}, last page ({(total + PAGE - 1) // PAGE})",
                        "status": status, "overdue": overdue, "total": total,
                        "url": url + "&cursor=" + encoded, "cursor": encoded,
                        "sql": SQL_BOARD.format(overdue="", after=after_sql, order=order),
                        "params": [prefix, status, *params]})
    return out


def measure_board(args, raw, county: OrgUnit) -> dict:
    handler = case_staff(county, "bench-cd-county")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {bearer(handler)}")
    open_cases = raw.execute("SELECT COUNT(*) FROM casedesk_case WHERE org_path LIKE %s AND status IN "
                             "('pending', 'in_progress', 'waiting_worker')", [county.path + "%"]).fetchone()[0]
    log(f"  {county.name}: {open_cases:,} open cases")
    has_api = "/cases" in api_routes()
    out = []
    for case in board_cases(county):
        queries: list[tuple[str, tuple]] = []

        def capture(execute, sql, params, many, context, queries=queries):
            queries.append((sql, params))
            return execute(sql, params, many, context)

        def api(_=None, url=case["url"]):
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: HTTP {response.status_code} {response.content[:300]!r}")
            return response

        def selector(_=None, case=case):
            items, _next = selectors.case_board(actor=handler, node=county, status=case["status"],
                                                overdue=case["overdue"], cursor=case["cursor"], limit=PAGE)
            return items

        def raw_sql(_=None, case=case):
            return raw.execute(case["sql"], case["params"]).fetchall()

        result = {"key": case["key"], "label": case["label"], "total": case["total"], "url": case["url"]}
        if has_api:
            with connection.execute_wrapper(capture):
                body = api().json()
            result["items"] = len(body["items"])
            result["api"] = stats(time_calls(api, range(args.iterations), range(args.warmup)))
            result["queries"] = len(queries)
        else:
            with connection.execute_wrapper(capture):
                result["items"] = len(selector())
            result["queries"] = len(queries)
        # The selector alone (what the API adds is the difference): a quarter of the samples, unless it is
        # what is judged.
        share = args.iterations if not has_api else max(20, args.iterations // 4)
        result["selector"] = stats(time_calls(selector, range(share), range(min(args.warmup, share))))
        result["raw"] = stats(time_calls(raw_sql, range(args.iterations), range(args.warmup)))
        result["raw_rows"] = len(raw_sql())
        board_query = next(((sql, params) for sql, params in queries
                            if 'FROM "casedesk_case"' in sql and "LIMIT" in sql), None)
        with connection.cursor() as cursor:
            if board_query:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + board_query[0], board_query[1])
                result["orm_sql"] = board_query[0]
                result["orm_plan"] = [line for (line,) in cursor.fetchall()]
        result["raw_sql"] = case["sql"]
        result["raw_plan"] = [line for (line,) in raw.execute("EXPLAIN (ANALYZE, BUFFERS) " + case["sql"],
                                                              case["params"]).fetchall()]
        measured = result.get("api") or result["selector"]
        result["pass"] = measured["p95"] <= TARGETS["board_p95_ms"]
        out.append(result)
        log(f"  board {case['label']:<32} ({case['total']:>7,}) "
            + (f"API p50 {result['api']['p50']:6.2f} p95 {result['api']['p95']:6.2f} | " if has_api else "")
            + f"selector p95 {result['selector']['p95']:6.2f} | raw p50 {result['raw']['p50']:6.2f} "
            f"p95 {result['raw']['p95']:6.2f} | {result['queries']} q  {'ok' if result['pass'] else 'MISSED'}")
    return {"org": {"id": county.pk, "name": county.name, "path": county.path}, "open_cases": open_cases,
            "measured_through": "api" if has_api else "selector", "cases": out}


# --- 3. Dashboard numbers ----------------------------------------------------------------------------

# The statements the dashboard runs, by hand: each total is the folded row plus the unfolded deltas.
SQL_ROLLUP = ("SELECT metric, SUM(value) FROM (SELECT metric, value FROM analytics_rollup WHERE org_id = %(org)s "
              "UNION ALL SELECT metric, value FROM analytics_rollupdelta WHERE org_id = %(org)s) s GROUP BY metric")
SQL_DAILY = ("SELECT metric, day, value FROM analytics_dailyrollup WHERE org_id = %s AND metric = ANY(%s) "
             "AND day BETWEEN %s AND %s")
SQL_TOP_CHILDREN = (
    "SELECT s.org_id FROM (SELECT r.org_id, r.value FROM analytics_rollup r JOIN orgs_orgunit o ON o.id = r.org_id "
    "WHERE o.parent_id = %(org)s AND r.metric = 'cases.total' UNION ALL SELECT d.org_id, d.value FROM "
    "analytics_rollupdelta d JOIN orgs_orgunit o ON o.id = d.org_id WHERE o.parent_id = %(org)s AND "
    "d.metric = 'cases.total') s GROUP BY s.org_id HAVING SUM(s.value) > 0 ORDER BY SUM(s.value) DESC, s.org_id LIMIT 50")
SQL_CHILD_ROLLUPS = (
    "SELECT org_id, metric, SUM(value) FROM (SELECT org_id, metric, value FROM analytics_rollup "
    "WHERE org_id = ANY(%(ids)s) AND metric = ANY(%(metrics)s) UNION ALL SELECT org_id, metric, value "
    "FROM analytics_rollupdelta WHERE org_id = ANY(%(ids)s) AND metric = ANY(%(metrics)s)) s GROUP BY org_id, metric")
CHILD_METRICS = ["cases.total", "cases.open", "cases.overdue_open", "cases.accepted", "cases.accepted_on_time",
                 "cases.completed", "cases.completed_on_time", "cases.money_fen"]


def measure_stats(args, raw, nodes: list[tuple[str, OrgUnit]]) -> list[dict]:
    import datetime

    today = timezone.localdate()
    since = today - datetime.timedelta(days=29)
    routes = api_routes()
    stats_path = next((p for p in sorted(routes) if "stats" in p), None)
    client = None
    if stats_path:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {bearer(case_staff(nodes[0][1], 'bench-cd-national'))}")
    out = []
    for level, org in nodes:
        numbers = selectors.case_stats(org)

        def dashboard(_=None, org=org):
            selectors.case_stats(org)
            selectors.case_child_breakdown(org)

        def raw_read(_=None, org_id=org.pk):
            raw.execute(SQL_ROLLUP, {"org": org_id}).fetchall()
            raw.execute(SQL_DAILY, [org_id, ["cases.new", "cases.closed"], since, today]).fetchall()
            ids = [r[0] for r in raw.execute(SQL_TOP_CHILDREN, {"org": org_id})]
            raw.execute("SELECT id, name, kind, path FROM orgs_orgunit WHERE id = ANY(%s)", [ids]).fetchall()
            raw.execute(SQL_CHILD_ROLLUPS, {"ids": ids, "metrics": CHILD_METRICS}).fetchall()

        page = stats(time_calls(dashboard, range(args.iterations), range(args.warmup)))
        only_stats = stats(time_calls(lambda _=None, org=org: selectors.case_stats(org), range(args.iterations),
                                      range(args.warmup)))
        breakdown = stats(time_calls(lambda _=None, org=org: selectors.case_child_breakdown(org),
                                     range(args.iterations), range(args.warmup)))
        raw_s = stats(time_calls(raw_read, range(args.iterations), range(args.warmup)))
        case = {"level": level, "org_id": org.pk, "name": org.name, "open": numbers["open"],
                "overdue_open": numbers["overdue_open"], "children": OrgUnit.objects.filter(parent=org).count(),
                "page": page, "case_stats": only_stats, "child_breakdown": breakdown, "raw": raw_s}
        if stats_path:
            url = "/api/v1" + stats_path.replace("{node}", str(org.pk)) + f"?node={org.pk}"

            def call(_=None, url=url):
                response = client.get(url)
                if response.status_code != 200:
                    raise RuntimeError(f"{url}: HTTP {response.status_code} {response.content[:200]!r}")

            case["api_url"] = url
            case["api"] = stats(time_calls(call, range(args.iterations), range(args.warmup)))
        t0 = time.perf_counter()
        counted = raw.execute("SELECT COUNT(*) FROM casedesk_case WHERE org_path LIKE %s AND status IN "
                              "('pending', 'in_progress', 'waiting_worker')", [org.path + "%"]).fetchone()[0]
        case["count_query_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        case["counted_open"] = counted
        case["pass"] = (case.get("api") or page)["p95"] <= TARGETS["stats_p95_ms"]
        out.append(case)
        log(f"  stats {level:<10} {org.name:<20} open {numbers['open']:>9,} | page data p50 {page['p50']:6.2f} "
            f"p95 {page['p95']:6.2f} (case_stats p95 {only_stats['p95']:.2f}, children p95 {breakdown['p95']:.2f}) | "
            f"raw p95 {raw_s['p95']:5.2f} | COUNT(*) {case['count_query_ms']:8.1f} ms")
        if counted != numbers["open"]:
            log(f"  WARNING: rollup says {numbers['open']:,} open cases, COUNT(*) says {counted:,}")
    return out


# --- 4. Creation through HTTP ------------------------------------------------------------------------


def case_bodies(count: int, start: int, run: str, employers: list[int], categories: list[str],
                names: list[str]) -> list[dict]:
    out = []
    for i in range(start, start + count):
        out.append({"channel": "hotline", "category": categories[i % len(categories)],
                    "description": TEXTS[i % len(TEXTS)] + f"（来电登记{i}）", "employer_id": employers[i % len(employers)],
                    "name": names[i % len(names)], "phone": Numbers.phone(PERSON_BASE + i),
                    "external_id": f"bench-{run}-{i:07d}"})
    return out


def measure_create(args, raw, national: OrgUnit, workdir: Path) -> dict:
    from gonghui.orgs.national import Parts

    c, seconds = args.case_concurrency, args.case_seconds
    rng = random.Random(args.seed + 31)
    employers = sample_employers(5000, rng)
    categories = list(CaseCategory.objects.filter(parent__isnull=False, is_active=True,
                                                            owner__isnull=True).values_list("code", flat=True))
    names = Parts().people
    run = f"{int(time.time()) % 10**8}"
    agents = [case_staff(national, f"bench-cd-agent-{i:02d}") for i in range(c)]
    tokens = [bearer(agent) for agent in agents]
    result: dict = {"concurrency": c, "agents_at": national.name}
    # In-process, one after another: the service alone (no HTTP, no concurrency).
    n = args.create_service_calls
    bodies = case_bodies(n + 20, 0, run + "s", employers, categories, names)
    samples = time_calls(lambda b: services.case_create(actor=agents[0], **b), bodies[20:], bodies[:20])
    result["service"] = {**stats(samples), "per_s": round(1000 * len(samples) / sum(samples), 1)}
    log(f"  case_create in-process: p50 {result['service']['p50']} ms, p99 {result['service']['p99']} ms "
        f"({result['service']['per_s']} cases/s in one thread)")
    if "/cases" not in api_routes():
        log("  POST /api/v1/cases is not there: HTTP creation skipped")
        result["http"] = None
    else:
        pool = case_bodies(max(3000, 250 * seconds), 100_000, run, employers, categories, names)
        warm = case_bodies(max(200, 10 * c), 900_000, run, employers, categories, names)

        def requests(bodies):
            return [{"token": tokens[i % len(tokens)], "body": json.dumps(b, ensure_ascii=False)}
                    for i, b in enumerate(bodies)]

        with Server(args.server_workers, args.server_threads, workdir) as server:
            result["server"] = {"workers": args.server_workers, "threads": args.server_threads}
            log(f"  create: warm-up, then {c} concurrent agents for {seconds} s")
            run_load({"mode": "closed", "host": "127.0.0.1", "port": server.port, "path": "/api/v1/cases",
                      "concurrency": c, "duration": 60, "requests": requests(warm)}, workdir, "create-warmup")
            before = Case.objects.count()
            load_before = os.getloadavg()
            out = run_load({"mode": "closed", "host": "127.0.0.1", "port": server.port, "path": "/api/v1/cases",
                            "concurrency": c, "duration": seconds, "requests": requests(pool)}, workdir, "create")
            records = out["records"]
            created = [r for r in records if r.get("status") == 201]
            window = max(r["t"] + r["ms"] / 1000 for r in records) if records else out["elapsed"]
            stored = Case.objects.count() - before
            # The same external ids again: the API must answer with the same cases and store nothing.
            again_n = min(100, len(created))
            again_bodies = [pool[r["i"]] for r in created[:again_n]]
            again = run_load({"mode": "closed", "host": "127.0.0.1", "port": server.port, "path": "/api/v1/cases",
                              "concurrency": min(4, c), "duration": 60, "requests": requests(again_bodies)},
                             workdir, "create-again")
            same = sum(1 for r in again["records"]
                       if r.get("status") == 200 and r.get("application_id") == created[r["i"]].get("application_id"))
            stored_after_again = Case.objects.count() - before
        per_s = len(created) / window if window else 0
        result["http"] = {
            "seconds": round(window, 2), "requests": len(records), "created": len(created),
            "statuses": dict(collections.Counter(str(r.get("status")) for r in records)),
            "errors": [r.get("body") or r.get("error") for r in records if r.get("status") != 201][:5],
            "stored_rows": stored, "ran_out_of_requests": len(records) >= len(pool),
            "cases_per_s": round(per_s, 1), "latency": stats([r["ms"] for r in records]),
            "repeat": {"sent": again_n, "same_case": same, "new_rows": stored_after_again - stored},
            "load_average_before": " ".join(f"{x:.2f}" for x in load_before),
            "load_average_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "db_waits": out["db_waits"],
        }
        log(f"  create: {per_s:.1f} cases/s (p50 {result['http']['latency']['p50']} ms, p99 "
            f"{result['http']['latency']['p99']} ms, statuses {result['http']['statuses']}); repeats answered with "
            f"the same case {same}/{again_n}, new rows {stored_after_again - stored}")
    width = raw.execute("SELECT AVG(pg_column_size(c.*))::int FROM (SELECT * FROM casedesk_case ORDER BY id DESC "
                        "LIMIT 5000) c").fetchone()[0] or 800
    result["case_row_bytes"] = width
    result["pgbench"] = run_pgbench(types.SimpleNamespace(join_concurrency=c, join_seconds=seconds), raw, width)
    tps = result["pgbench"].get("tps") or 0
    http = result.get("http")
    result["ratio"] = round(http["cases_per_s"] / tps, 3) if http and tps else None
    log(f"  pgbench INSERT ({width} B rows, -c {c}): {tps:.0f} TPS | ratio {result['ratio']}")
    return result


# --- The run ---------------------------------------------------------------------------------------


def main(args, started) -> dict:
    import datetime

    skip = {s.strip() for s in args.casedesk_skip.split(",") if s.strip()}
    raw = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, prepare_threshold=None)
    generation, now = prepare_cases(args, raw)
    nodes = find_nodes()
    by_level = dict(nodes)
    connection.close()
    raw.execute("ANALYZE")
    routes = api_routes()
    result: dict = {
        "benchmark": "casedesk",
        "command": "make bench" + (f' BENCH_ARGS="{" ".join(sys.argv[1:])}"' if sys.argv[1:] else ""),
        "started_at": started.isoformat(timespec="seconds"),
        "targets": TARGETS,
        "generation": generation,
        "shares": {"statuses": dict(STATUS_SHARES), "holders": HOLDER_SHARES, "warn": P_WARN, "overdue": P_OVERDUE,
                   "escalated": P_ESCALATED, "backlog_hours": BACKLOG_HOURS},
        "api": sorted(routes),
        "nodes": {level: {"id": org.pk, "name": org.name, "path": org.path} for level, org in nodes},
        "load_average_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "durability": pg_settings(raw),
    }
    workdir = Path(tempfile.mkdtemp(prefix="gonghui-bench-casedesk-"))
    try:
        if "sweep" not in skip:
            log("bench: the deadline sweep, with a handler accepting cases meanwhile")
            result["sweep"] = measure_sweep(args, raw, by_level["national"], now, workdir)
        if "board" not in skip:
            log("bench: the county's case board")
            result["board"] = measure_board(args, raw, by_level["county"])
        if "stats" not in skip:
            log("bench: dashboard numbers from the rollups")
            result["stats"] = measure_stats(args, raw, nodes)
        if "create" not in skip:
            log("bench: case creation (granian + loadgen) beside pgbench")
            result["create"] = measure_create(args, raw, by_level["national"], workdir)
    finally:
        for leftover in workdir.iterdir():
            leftover.unlink()
        workdir.rmdir()
    finished = datetime.datetime.now(datetime.UTC)
    result["finished_at"] = finished.strftime("%Y-%m-%d %H:%M")
    result["file"] = f"casedesk-{finished.strftime('%Y%m%dT%H%M%SZ')}.json"
    result["load_average_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    with connection.cursor() as cursor:
        result["machine"] = report.machine(cursor)
        sizes = {}
        for table in ("casedesk_case", "casedesk_caseevent"):
            cursor.execute("SELECT COUNT(*), pg_table_size(%s::regclass), pg_indexes_size(%s::regclass) FROM " + table,
                           [table, table])
            rows, table_bytes, index_bytes = cursor.fetchone()
            sizes[table] = {"rows": rows, "table_mb": table_bytes // 2**20, "indexes_mb": index_bytes // 2**20}
        cursor.execute("SELECT COUNT(*) FROM casedesk_case WHERE status IN ('pending', 'in_progress', 'waiting_worker')")
        open_cases = cursor.fetchone()[0]
        cursor.execute("SELECT pg_database_size(current_database())")
        db_bytes = cursor.fetchone()[0]
    result["data"] = {"open_cases": open_cases, "tables": sizes, "database_gb": round(db_bytes / 2**30, 2)}
    raw.close()
    return result

