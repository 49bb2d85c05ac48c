"""The membership benchmark (`make bench`, or `make bench BENCH_ARGS="--only membership"`).

Called by bench/run.py after Django is set up, against the national dataset (unions and employers
from gen_national) on the throwaway PostgreSQL cluster. Every figure is measured beside its raw
database equivalent in the same run:

1. lookups at national scale: members are added with gonghui/orgs/national_members.py (COPY,
   real keyed hashes), then a member by ID number (the selector, the API and the raw index probe,
   each on its own sample of real numbers) and subtree member counts at six levels (the API as a
   national admin, and the raw rollup read);
2. join: the HTTP join flow served by granian (WSGI, one worker per core) under a closed loop of
   concurrent workers (bench/loadgen.py, one fresh worker and ID number per request), beside
   pgbench's single-row durable INSERT into a table of the same row width;
3. flash crowd: 10,000 distinct workers submit within 60 seconds (open loop, retries like a
   browser's "submit again"); every acknowledgement is checked against the Application rows;
4. roster import: a 1,000,000-row CSV through import_create / roster_validate / roster_commit in a
   fresh process (bench/roster_import.py, peak RSS from getrusage), beside COPY of the same rows.

Not a test: it reports, it does not fail on a missed target.
"""

from __future__ import annotations

import collections
import datetime
import hashlib
import json
import math
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.db import connection
from django.test import Client
from django.utils import timezone

from bench import report
from gonghui.accounts.models import ApiToken, User
from gonghui.analytics.rollups import STAFF, rollup_add
from gonghui.core import pii
from gonghui.membership.models import Application, Member
from gonghui.orgs.models import Grant, OrgKind, OrgUnit, Role
from gonghui.orgs.national import GenerationRefused, generate_members
from gonghui.orgs.national_members import DEFAULT_MEMBERS, Numbers, numbers

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# Person numbers of the simulated workers and roster rows: far above the generated members' (n <
# their count), so none of them is a member already; a run-specific offset keeps runs on a reused
# database apart.
PERSON_BASE = 1_000_000_000
TARGETS = {"join_ratio": 0.15, "join_p99_ms": 200.0, "flash_losses": 0, "roster_ratio": 0.25,
           "roster_rss_mb": 300.0, "lookup_p99_ms": 5.0, "stats_p95_ms": 50.0}
SQL_MEMBER_BY_HASH = "SELECT * FROM membership_member WHERE id_hash = %s"
SQL_ROLLUP = ("SELECT metric, SUM(value) FROM (SELECT metric, value FROM analytics_rollup WHERE org_id = %(org)s "
              "UNION ALL SELECT metric, value FROM analytics_rollupdelta WHERE org_id = %(org)s) s GROUP BY metric")
SQL_DAILY = ("SELECT metric, day, value FROM analytics_dailyrollup WHERE org_id = %s AND metric = ANY(%s) "
             "AND day BETWEEN %s AND %s")
HOLDING = ("active", "retained", "transferring", "suspended")


def add_arguments(parser) -> None:
    group = parser.add_argument_group("membership")
    group.add_argument("--members", type=int, default=None,
                       help=f"members to generate (default {DEFAULT_MEMBERS:,} × --scale)")
    group.add_argument("--join-concurrency", type=int, default=16, help="simulated workers at once (and pgbench -c)")
    group.add_argument("--join-seconds", type=int, default=30, help="length of the join run and of pgbench -T")
    group.add_argument("--flash-workers", type=int, default=10_000)
    group.add_argument("--flash-seconds", type=int, default=60)
    group.add_argument("--roster-rows", type=int, default=1_000_000)
    group.add_argument("--lookups", type=int, default=1000, help="ID numbers looked up per method")
    group.add_argument("--server-workers", type=int, default=os.cpu_count() or 1, help="granian worker processes")
    group.add_argument("--server-threads", type=int, default=8, help="granian blocking threads per worker")
    group.add_argument("--skip", default="", help="comma-separated parts to leave out: lookups,join,flash,roster")


def log(line: str) -> None:
    print(line, flush=True)


def pct(samples: list[float], q: float) -> float | None:
    """Nearest-rank percentile."""
    if not samples:
        return None
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))], 2)


def stats(samples: list[float]) -> dict:
    """p50/p95/p99/max in milliseconds (nearest rank)."""
    if not samples:
        return {"n": 0}
    return {"n": len(samples), "p50": pct(samples, 50), "p95": pct(samples, 95), "p99": pct(samples, 99),
            "max": round(max(samples), 2), "mean": round(sum(samples) / len(samples), 2)}


# --- Data ------------------------------------------------------------------------------------------


def prepare_members(args) -> dict:
    count = args.members if args.members is not None else round(DEFAULT_MEMBERS * args.scale)
    existing = Member.objects.count()
    if existing:
        log(f"bench: the database already holds {existing:,} members; reusing them (generation not timed).")
        return {"reused": True, "members": existing}
    log(f"bench: generating {count:,} members (gonghui.orgs.national.generate_members)")
    try:
        generated = generate_members(members=count, seed=args.seed, log=log)
    except GenerationRefused as exc:
        sys.exit(f"bench: {exc}")
    return {"reused": False, "members": generated.members,
            "phases": {name: round(seconds, 1) for name, seconds in generated.phases.items()},
            "total_seconds": round(generated.total_seconds, 1)}


def staff_actor(org: OrgUnit, username: str, role: str = Role.ADMIN) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create(username=username, display_name=username, kind=User.Kind.STAFF)
        Grant.objects.create(user=user, org=org, org_path=org.path, role=role, include_descendants=True)
        rollup_add(org.path, {STAFF: 1})
    return user


def bearer(user: User) -> str:
    from gonghui.accounts.services import token_issue

    return token_issue(user=user)


def make_workers(count: int, prefix: str, first_person: int, scheme: Numbers) -> list[tuple[int, str]]:
    """`count` worker accounts with a phone and a fresh bearer token (as after an SMS login), in
    bulk; returns (user id, raw token). Tokens are stored hashed as token_issue stores them."""
    now = timezone.now()
    expires = now + datetime.timedelta(days=7)
    out: list[tuple[int, str]] = []
    for start in range(0, count, 2000):
        users = []
        for i in range(start, min(count, start + 2000)):
            user = User(username=f"{prefix}-{i:06d}", kind=User.Kind.WORKER, password="!", display_name="")
            user.set_phone(scheme.phone(first_person + i))
            users.append(user)
        User.objects.bulk_create(users)
        raws = [secrets.token_urlsafe(32) for _ in users]
        ApiToken.objects.bulk_create([
            ApiToken(user_id=u.pk, key_hash=hashlib.sha256(raw.encode()).hexdigest(), expires_at=expires,
                     last_used_at=now) for u, raw in zip(users, raws, strict=True)])
        out += [(u.pk, raw) for u, raw in zip(users, raws, strict=True)]
    return out


def sample_employers(count: int, rng: random.Random) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM orgs_employer")
        low, high = cursor.fetchone()
        ids = sorted(rng.sample(range(low, high + 1), min(count * 2, high - low + 1)))
        cursor.execute("SELECT id FROM orgs_employer WHERE id = ANY(%s)", [ids])
        found = [row[0] for row in cursor.fetchall()]
    rng.shuffle(found)
    return found[:count]


# --- Lookups -------------------------------------------------------------------------------------


@dataclass
class Nodes:
    national: OrgUnit
    province: OrgUnit
    city: OrgUnit
    county: OrgUnit
    township: OrgUnit
    grassroots: OrgUnit

    def items(self):
        return [("national", self.national), ("province", self.province), ("city", self.city),
                ("county", self.county), ("township", self.township), ("grassroots", self.grassroots)]


def find_nodes() -> Nodes:
    def division(code: str) -> OrgUnit:
        return OrgUnit.objects.get(division_id=code, kind__in=[OrgKind.PROVINCE, OrgKind.CITY, OrgKind.COUNTY])

    county = division("440305")  # 深圳市南山区
    township = OrgUnit.objects.filter(parent=county).order_by("-child_seq", "path").first()
    grassroots = (OrgUnit.objects.filter(path__startswith=township.path, kind__in=[OrgKind.GRASSROOTS, OrgKind.JOINT])
                  .extra(where=["EXISTS (SELECT 1 FROM membership_member m WHERE m.org_id = orgs_orgunit.id)"])
                  .order_by("path").first())
    if grassroots is None:
        sys.exit("bench: no grassroots union with members under the busiest township of 南山区: generate more data")
    return Nodes(OrgUnit.objects.get(kind=OrgKind.NATIONAL), division("440000"), division("440300"), county,
                 township, grassroots)


def time_calls(fn, args_list, warmup_args) -> list[float]:
    for a in warmup_args:
        fn(a)
    samples = []
    for a in args_list:
        t0 = time.perf_counter()
        fn(a)
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def measure_lookups(args, nodes: Nodes, raw, admin: User, client: Client, scheme: Numbers, member_count: int,
                    first_id: int) -> dict:
    from gonghui.membership.selectors import member_find_by_id_number

    rng = random.Random(args.seed + 7)
    per = args.lookups
    picks = rng.sample(range(member_count), min(member_count, 3 * per + 150))
    warm, picks = picks[:150], picks[150:]
    service_n, api_n, raw_n = picks[:per], picks[per:2 * per], picks[2 * per:3 * per]
    numbers_of = {n: scheme.id_number(n) for n in picks + warm}
    # The numbers must find their members (checked on the warm-up sample, outside the timing).
    misses = [n for n in warm if member_find_by_id_number(actor=admin, id_number=numbers_of[n]).pk != first_id + n]
    if misses:
        raise RuntimeError(f"lookup by ID number found the wrong member for n={misses[:5]}")

    service = time_calls(lambda n: member_find_by_id_number(actor=admin, id_number=numbers_of[n]),
                         service_n, warm[:50])
    node = nodes.national.pk

    def api(n):
        response = client.get(f"/api/v1/membership/members?node={node}&q={numbers_of[n]}")
        if response.status_code != 200 or len(response.json()["items"]) != 1:
            raise RuntimeError(f"member search by ID number: HTTP {response.status_code} {response.content[:200]!r}")

    api_samples = time_calls(api, api_n, warm[50:100])
    hashes = {n: pii.lookup_hash("id", numbers_of[n]) for n in raw_n + warm[100:]}

    def probe(n):
        if len(raw.execute(SQL_MEMBER_BY_HASH, [hashes[n]]).fetchall()) != 1:
            raise RuntimeError("raw probe did not find the member")

    raw_samples = time_calls(probe, raw_n, warm[100:])
    hash_samples = time_calls(lambda n: pii.lookup_hash("id", numbers_of[n]), service_n, [])
    plan = [line for (line,) in raw.execute("EXPLAIN (ANALYZE, BUFFERS) " + SQL_MEMBER_BY_HASH,
                                            [hashes[raw_n[0]]]).fetchall()]
    result = {
        "samples_per_method": per,
        "service": stats(service), "api": stats(api_samples), "raw": stats(raw_samples),
        "hash_only": stats(hash_samples),
        "raw_sql": SQL_MEMBER_BY_HASH, "raw_plan": plan,
        "pass": (stats(service).get("p99") or 1e9) <= TARGETS["lookup_p99_ms"],
    }
    log(f"  member by ID number: service p50 {result['service']['p50']} p99 {result['service']['p99']} ms | "
        f"API p50 {result['api']['p50']} p99 {result['api']['p99']} | raw p50 {result['raw']['p50']} "
        f"p99 {result['raw']['p99']} ms")
    return result


def measure_stats(args, nodes: Nodes, raw, client: Client) -> list[dict]:
    today = timezone.localdate()
    since = today - datetime.timedelta(days=29)
    out = []
    for level, org in nodes.items():
        url = f"/api/v1/membership/stats?node={org.pk}"
        first = client.get(url)
        if first.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {first.status_code} {first.content[:300]!r}")
        body = first.json()

        def call(url=url):
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: HTTP {response.status_code}")

        def raw_read(org_id=org.pk):
            raw.execute(SQL_ROLLUP, {"org": org_id}).fetchall()
            raw.execute(SQL_DAILY, [org_id, ["members.new", "applications.approved"], since, today]).fetchall()

        api_samples = time_calls(lambda _: call(), range(args.iterations), range(args.warmup))
        raw_samples = time_calls(lambda _: raw_read(), range(args.iterations), range(args.warmup))
        # What the rollup saves: counting the subtree's members (once, not part of the target).
        t0 = time.perf_counter()
        counted = raw.execute("SELECT COUNT(*) FROM membership_member WHERE org_path LIKE %s AND status = ANY(%s)",
                              [org.path + "%", list(HOLDING)]).fetchone()[0]
        count_ms = (time.perf_counter() - t0) * 1000
        api_s, raw_s = stats(api_samples), stats(raw_samples)
        case = {"level": level, "org_id": org.pk, "name": org.name, "url": url, "members": body["members"],
                "counted_members": counted, "count_query_ms": round(count_ms, 1), "api": api_s, "raw": raw_s,
                "pass": api_s["p95"] <= TARGETS["stats_p95_ms"]}
        out.append(case)
        log(f"  stats {level:<10} {org.name:<24} members {body['members']:>10,} | API p50 {api_s['p50']:6.2f} "
            f"p95 {api_s['p95']:6.2f} | raw p50 {raw_s['p50']:5.2f} p95 {raw_s['p95']:5.2f} | "
            f"COUNT(*) {count_ms:8.1f} ms")
        if counted != body["members"]:
            log(f"  WARNING: rollup says {body['members']:,} members, COUNT(*) says {counted:,}")
    return out


# --- The server and the load generator --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """granian serving config.wsgi with the bench settings, as scripts/serve.sh serves the product."""

    def __init__(self, workers: int, threads: int, logdir: Path):
        self.workers, self.threads, self.port = workers, threads, free_port()
        self.log_path = logdir / "granian.log"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.bench", PYTHONWARNINGS="ignore")
        self.log_file = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(self.workers), "--blocking-threads", str(self.threads), "--no-access-log",
             "config.wsgi:application"],
            cwd=ROOT, env=env, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"granian exited: {self.log_path.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/membership/stats", timeout=5)
            except urllib.error.HTTPError:
                return self  # 401: the app answers
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("granian did not answer within 120 s")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the server and its worker processes, started above
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log_file.close()


class WaitSampler:
    """What the server's backends are doing while the load runs: pg_stat_activity sampled every
    100 ms on its own connection (CPU = active without a wait event)."""

    def __init__(self):
        self.counts: collections.Counter = collections.Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
            while not self._stop.is_set():
                rows = conn.execute(
                    "SELECT COALESCE(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity "
                    "WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
                ).fetchall()
                self.counts.update(row[0] for row in rows)
                self.samples += 1
                self._stop.wait(0.1)

    def __enter__(self) -> WaitSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def result(self) -> dict:
        """Average number of active backends in each state."""
        return {state: round(n / max(1, self.samples), 2) for state, n in self.counts.most_common(8)}


def run_load(job: dict, workdir: Path, name: str) -> dict:
    job_path, out_path = workdir / f"{name}-job.json", workdir / f"{name}-out.json"
    job_path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    with WaitSampler() as waits:
        subprocess.run([sys.executable, str(ROOT / "bench" / "loadgen.py"), str(job_path), str(out_path)], check=True)
    out = json.loads(out_path.read_text(encoding="utf-8"))
    out["db_waits"] = waits.result()
    return out


def join_requests(workers: list[tuple[int, str]], first_person: int, employers: list[int], scheme: Numbers,
                  names: list[str]) -> tuple[list[dict], list[str]]:
    requests, numbers_used = [], []
    for i, (_user_id, token) in enumerate(workers):
        number = scheme.id_number(first_person + i)
        body = {"name": names[i % len(names)], "id_number": number, "employment_form": "labor_contract",
                "employer_id": employers[i % len(employers)], "consent": True}
        requests.append({"token": token, "body": json.dumps(body, ensure_ascii=False)})
        numbers_used.append(number)
    return requests, numbers_used


def pg_settings(raw) -> dict:
    return {name: raw.execute(f"SHOW {name}").fetchone()[0]
            for name in ("fsync", "synchronous_commit", "full_page_writes", "wal_sync_method")}


# --- Join ------------------------------------------------------------------------------------------


def measure_join(args, server: Server, raw, workdir: Path, people: People) -> dict:
    c = args.join_concurrency
    log(f"  join: warm-up, then {c} concurrent workers for {args.join_seconds} s")
    warm = people.take(max(200, 10 * c))
    run_load({"mode": "closed", "host": "127.0.0.1", "port": server.port, "path": "/api/v1/membership/applications",
              "concurrency": c, "duration": 60, "requests": warm[0]}, workdir, "join-warmup")
    pool = people.take(max(3000, 250 * args.join_seconds))
    before = Application.objects.count()
    load_before = os.getloadavg()
    out = run_load({"mode": "closed", "host": "127.0.0.1", "port": server.port,
                    "path": "/api/v1/membership/applications", "concurrency": c, "duration": args.join_seconds,
                    "requests": pool[0]}, workdir, "join")
    records = out["records"]
    created = [r for r in records if r.get("status") == 201]
    statuses = collections.Counter(str(r.get("status")) for r in records)
    window = max(r["t"] + r["ms"] / 1000 for r in records) if records else out["elapsed"]
    stored = Application.objects.count() - before
    joins_per_s = len(created) / window if window else 0
    result = {
        "concurrency": c, "seconds": round(window, 2), "requests": len(records), "created": len(created),
        "statuses": dict(statuses), "stored_rows": stored, "ran_out_of_workers": len(records) >= len(pool[0]),
        "joins_per_s": round(joins_per_s, 1), "latency": stats([r["ms"] for r in records]),
        "latency_created": stats([r["ms"] for r in created]),
        "load_average_before": " ".join(f"{x:.2f}" for x in load_before),
        "load_average_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "db_waits": out["db_waits"],
    }
    width = raw.execute("SELECT AVG(pg_column_size(a.*))::int FROM membership_application a").fetchone()[0] or 600
    result["application_row_bytes"] = width
    result["pgbench"] = run_pgbench(args, raw, width)
    tps = result["pgbench"].get("tps") or 0
    result["ratio"] = round(joins_per_s / tps, 3) if tps else None
    result["pass_ratio"] = bool(result["ratio"] is not None and result["ratio"] >= TARGETS["join_ratio"])
    result["pass_p99"] = (result["latency"].get("p99") or 1e9) <= TARGETS["join_p99_ms"]
    log(f"  join: {joins_per_s:.1f} joins/s (p50 {result['latency']['p50']} ms, p99 {result['latency']['p99']} ms, "
        f"statuses {dict(statuses)}) | pgbench INSERT {tps:.0f} TPS | ratio {result['ratio']}")
    return result


def run_pgbench(args, raw, width: int) -> dict:
    """Single-row durable INSERTs of the application's row width: a bigserial key, a unique 64-hex
    hash (like id_hash) and a payload that makes up the rest of the width."""
    raw.execute("DROP TABLE IF EXISTS bench_raw_insert")
    raw.execute("CREATE TABLE bench_raw_insert (id bigserial PRIMARY KEY, id_hash varchar(64) NOT NULL UNIQUE, "
                "org_path varchar(64) NOT NULL, payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())")
    payload = max(0, width - 24 - 8 - 65 - 17 - 8 - 4)
    script = Path(tempfile.mkdtemp(prefix="gonghui-pgbench-")) / "insert.sql"
    script.write_text(
        "INSERT INTO bench_raw_insert (id_hash, org_path, payload) VALUES "
        f"(md5(random()::text) || md5(random()::text), '0001000200030004', repeat('x', {payload}));\n")
    raw.execute("CHECKPOINT")
    bindir = os.environ.get("GONGHUI_PG_BINDIR") or "/usr/lib/postgresql/15/bin"
    info = raw.info
    c = args.join_concurrency
    jobs = max(1, min(c, os.cpu_count() or 1))
    cmd = [f"{bindir}/pgbench", "-n", "-c", str(c), "-j", str(jobs), "-T", str(args.join_seconds), "-f", str(script),
           "-h", info.host, "-p", str(info.port), "-U", info.user, info.dbname]
    env = dict(os.environ, PGOPTIONS="-c synchronous_commit=on")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    text = done.stdout + done.stderr
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", text)
    latency = re.search(r"latency average = ([\d.]+) ms", text)
    row = raw.execute("SELECT AVG(pg_column_size(b.*))::int, COUNT(*) FROM bench_raw_insert b").fetchone()
    result = {"command": " ".join(cmd[:12]) + " …", "script": script.read_text().strip(),
              "tps": float(tps.group(1)) if tps else None,
              "latency_avg_ms": float(latency.group(1)) if latency else None,
              "row_bytes": row[0], "rows": row[1], "settings": pg_settings(raw)}
    if done.returncode or not tps:
        result["output"] = text[-2000:]
    raw.execute("DROP TABLE bench_raw_insert")
    script.unlink()
    script.parent.rmdir()
    return result


# --- Flash crowd -----------------------------------------------------------------------------------


def measure_flash(args, server: Server, workdir: Path, people: People) -> dict:
    n, spread = args.flash_workers, args.flash_seconds
    requests, numbers_used = people.take(n)
    log(f"  flash crowd: {n:,} distinct workers submit within {spread} s")
    out = run_load({"mode": "open", "host": "127.0.0.1", "port": server.port,
                    "path": "/api/v1/membership/applications", "spread": spread, "max_connections": 512,
                    "timeout": 60, "attempts": 5, "deadline": 1500, "requests": requests}, workdir, "flash")
    records = out["records"]
    hashes = [pii.lookup_hash("id", number) for number in numbers_used]
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_hash, COUNT(*), MIN(id) FROM membership_application WHERE id_hash = ANY(%s) "
                       "GROUP BY id_hash", [hashes])
        rows = {h: (count, first) for h, count, first in cursor.fetchall()}
    acknowledged = {i for i, r in enumerate(records) if r.get("status") in (200, 201)}
    stored = {i for i, h in enumerate(hashes) if h in rows}
    duplicates = sum(count - 1 for count, _ in rows.values())
    mismatched = [i for i in acknowledged if i in stored and records[i].get("application_id") != rows[hashes[i]][1]]
    first_statuses = collections.Counter(str(r["statuses"][0]) if r["statuses"] else "none" for r in records)
    all_statuses = collections.Counter(str(s) for r in records for s in r["statuses"])
    final_statuses = collections.Counter(str(r.get("status")) for r in records)
    errors = collections.Counter(e for r in records for e in r["errors"])
    done_times = [r["done"] for r in records if r.get("status") in (200, 201)]
    result = {
        "workers": n, "spread_seconds": spread, "elapsed_seconds": round(out["elapsed"], 1),
        "acknowledged": len(acknowledged), "stored_distinct": len(stored), "duplicate_rows": duplicates,
        "lost": n - len(stored), "acknowledged_not_stored": len(acknowledged - stored),
        "stored_not_acknowledged": len(stored - acknowledged), "ack_id_mismatch": len(mismatched),
        "first_attempt_statuses": dict(first_statuses), "all_attempt_statuses": dict(all_statuses),
        "final_statuses": dict(final_statuses), "client_errors": dict(errors),
        "retried_workers": sum(1 for r in records if r["attempts"] > 1),
        "last_acknowledged_at_s": round(max(done_times), 1) if done_times else None,
        "throughput_per_s": round(len(acknowledged) / max(done_times), 1) if done_times else None,
        "latency_from_submit": stats([r["ms"] for r in records if r.get("status") in (200, 201)]),
        "first_attempt_latency": stats([r["first_ms"] for r in records if "first_ms" in r]),
        "db_waits": out["db_waits"],
    }
    result["pass"] = result["lost"] == 0 and duplicates == 0 and not mismatched and not result["acknowledged_not_stored"]
    log(f"  flash crowd: acknowledged {len(acknowledged):,}, stored {len(stored):,}, lost {result['lost']}, "
        f"duplicates {duplicates}, first attempts {dict(first_statuses)}, last answer at "
        f"{result['last_acknowledged_at_s']} s, p99 {result['latency_from_submit'].get('p99')} ms")
    return result


# --- Roster import ---------------------------------------------------------------------------------


def write_roster(path: Path, rows: int, first_person: int, scheme: Numbers, names: list[str],
                 occupations: list[str]) -> None:
    forms = ("劳动合同", "劳动合同", "劳动合同", "劳务派遣", "灵活就业")
    titles = ("操作工", "技术员", "质检员", "仓管员", "班组长", "工程师", "文员", "司机")
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("姓名,身份证号,手机号,用工形式,岗位,职业代码\n")
        buf = []
        for i in range(rows):
            n = first_person + i
            occupation = occupations[i % len(occupations)] if occupations and i % 3 == 0 else ""
            buf.append(f"{names[i % len(names)]},{scheme.id_number(n)},{scheme.phone(n)},{forms[i % 5]},"
                       f"{titles[i % 8]},{occupation}\n")
            if len(buf) >= 10_000:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))


def measure_roster(args, raw, workdir: Path, people: People, org: OrgUnit) -> dict:
    rows = args.roster_rows
    path = workdir / "roster.csv"
    first = people.reserve(rows)
    with connection.cursor() as cursor:
        cursor.execute("SELECT code FROM orgs_occupation WHERE level = 4 ORDER BY code LIMIT 40")
        occupations = [code for (code,) in cursor.fetchall()]
    t0 = time.perf_counter()
    write_roster(path, rows, first, people.scheme, people.names, occupations)
    log(f"  roster: wrote {rows:,} rows ({path.stat().st_size / 2**20:.0f} MB) in {time.perf_counter() - t0:.1f} s")
    # Raw: COPY of the same file into a plain table.
    raw.execute("DROP TABLE IF EXISTS bench_roster_copy")
    raw.execute("CREATE TABLE bench_roster_copy (name text, id_number text, phone text, employment_form text, "
                "job_title text, occupation_code text)")
    t0 = time.perf_counter()
    with raw.transaction(), raw.cursor() as cursor:
        with cursor.copy("COPY bench_roster_copy FROM STDIN (FORMAT csv, HEADER true)") as copy, \
                path.open("rb") as f:
            while chunk := f.read(1 << 20):
                copy.write(chunk)
    copy_s = time.perf_counter() - t0
    copied = raw.execute("SELECT COUNT(*) FROM bench_roster_copy").fetchone()[0]
    raw.execute("DROP TABLE bench_roster_copy")
    log(f"  roster: COPY {copied:,} rows in {copy_s:.2f} s ({copied / copy_s:,.0f} rows/s)")
    actor = staff_actor(org, "bench-m-roster", Role.STAFF)
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "roster_import.py"), "--org", str(org.pk),
                           "--actor", actor.username, "--file", str(path)], capture_output=True, text=True)
    path.unlink()
    if done.returncode:
        log(done.stderr[-3000:])
        return {"rows": rows, "error": done.stderr[-3000:], "copy": {"rows": copied, "seconds": round(copy_s, 2)}}
    child = json.loads(done.stdout.strip().splitlines()[-1])
    pipeline_s = child["create_s"] + child["validate_s"] + child["commit_s"]
    result = {
        "rows": rows, "file_mb": round(child["file_bytes"] / 2**20, 1), "org": org.name,
        "copy": {"rows": copied, "seconds": round(copy_s, 2), "rows_per_s": round(copied / copy_s)},
        "import": {"create_s": round(child["create_s"], 2), "validate_s": round(child["validate_s"], 2),
                   "commit_s": round(child["commit_s"], 2), "total_s": round(pipeline_s, 2),
                   "rows_per_s": round(rows / pipeline_s), "validated": child["validated"],
                   "committed": child["committed"]},
        "maxrss_mb": child["maxrss_mb"],
    }
    result["ratio"] = round(result["import"]["rows_per_s"] / result["copy"]["rows_per_s"], 4)
    result["pass_ratio"] = result["ratio"] >= TARGETS["roster_ratio"]
    result["pass_rss"] = child["maxrss_mb"]["peak"] <= TARGETS["roster_rss_mb"]
    log(f"  roster: import {result['import']['rows_per_s']:,} rows/s (create {child['create_s']:.1f} s, validate "
        f"{child['validate_s']:.1f} s, commit {child['commit_s']:.1f} s), peak RSS {child['maxrss_mb']['peak']} MB, "
        f"{result['ratio']:.1%} of COPY; committed {child['committed']}")
    return result


class People:
    """Hands out distinct person numbers (hence valid, distinct ID numbers and phones) to the run."""

    def __init__(self, scheme: Numbers, names: list[str], employers: list[int]):
        self.scheme, self.names, self.employers = scheme, names, employers
        self.next = PERSON_BASE + (int(time.time()) % 1000) * 3_000_000
        self.batch = 0

    def reserve(self, count: int) -> int:
        first = self.next
        self.next += count
        return first

    def take(self, count: int) -> tuple[list[dict], list[str]]:
        """`count` new worker accounts with tokens, and a join request for each."""
        first = self.reserve(count)
        self.batch += 1
        # Named after the first person number: unique across runs on a reused database.
        workers = make_workers(count, f"bench-m{first}-{self.batch}", first, self.scheme)
        return join_requests(workers, first, self.employers, self.scheme, self.names)


# --- The run ---------------------------------------------------------------------------------------


def main(args, started: datetime.datetime) -> dict:
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    generation = prepare_members(args)
    member_count = Member.objects.count()
    first_id = Member.objects.order_by("id").values_list("id", flat=True).first()
    nodes = find_nodes()
    admin = staff_actor(nodes.national, "bench-m-national")
    scheme = numbers()
    from gonghui.orgs.national import Parts

    names = Parts().people
    rng = random.Random(args.seed + 11)
    connection.close()
    raw = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, prepare_threshold=None)
    raw.execute("ANALYZE")
    result: dict = {
        "benchmark": "membership",
        "command": "make bench" + (f' BENCH_ARGS="{" ".join(sys.argv[1:])}"' if sys.argv[1:] else ""),
        "started_at": started.isoformat(timespec="seconds"),
        "targets": TARGETS,
        "generation": generation,
        "members": member_count,
        "nodes": {level: {"id": org.pk, "name": org.name, "path": org.path} for level, org in nodes.items()},
        "load_average_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    if "lookups" not in skip:
        log("bench: membership lookups")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {bearer(admin)}")
        result["lookup_by_id"] = measure_lookups(args, nodes, raw, admin, client, scheme, member_count, first_id)
        result["stats"] = measure_stats(args, nodes, raw, client)
    result["durability"] = pg_settings(raw)
    if result["durability"]["fsync"] != "on":
        log("bench: WARNING: fsync is off on this server: the join and pgbench figures are not durable writes "
            "(make bench sets -c fsync=on in BENCH_PG_OPTS)")
    workdir = Path(tempfile.mkdtemp(prefix="gonghui-bench-membership-"))
    try:
        people = People(scheme, names, sample_employers(5000, rng))
        if not {"join", "flash"} <= skip:
            with Server(args.server_workers, args.server_threads, workdir) as server:
                result["server"] = {"workers": args.server_workers, "threads": args.server_threads,
                                    "settings": "config.settings.bench"}
                if "join" not in skip:
                    log("bench: join throughput (granian + loadgen) beside pgbench")
                    result["join"] = measure_join(args, server, raw, workdir, people)
                if "flash" not in skip:
                    log("bench: flash crowd")
                    result["flash"] = measure_flash(args, server, workdir, people)
        if "roster" not in skip:
            log("bench: roster import beside COPY")
            result["roster"] = measure_roster(args, raw, workdir, people, nodes.grassroots)
    finally:
        for leftover in workdir.iterdir():
            leftover.unlink()
        workdir.rmdir()
    finished = datetime.datetime.now(datetime.UTC)
    stamp = finished.strftime("%Y%m%dT%H%M%SZ")
    result["finished_at"] = finished.strftime("%Y-%m-%d %H:%M")
    result["file"] = f"membership-{stamp}.json"
    result["load_average_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    with connection.cursor() as cursor:
        result["machine"] = report.machine(cursor)
        cursor.execute("SELECT pg_table_size('membership_member'), pg_indexes_size('membership_member'), "
                       "pg_database_size(current_database())")
        table_bytes, index_bytes, db_bytes = cursor.fetchone()
    result["data"] = {"members": member_count, "member_table_mb": table_bytes // 2**20,
                      "member_indexes_mb": index_bytes // 2**20, "database_gb": round(db_bytes / 2**30, 2)}
    raw.close()
    return result
