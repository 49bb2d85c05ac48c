"""Figures, machine facts and the backbone, membership, case desk and legal-affairs sections of
docs/benchmarks.md (used by bench/run.py)."""

from __future__ import annotations

import os
import platform
import re
import statistics
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
START, END = "<!-- backbone:start -->", "<!-- backbone:end -->"
TARGET_MS = 50.0
NOTES = [
    "What keeps these flat at national size:",
    "",
    "- **Stats** read one rollup row per metric (`analytics_rollup`, kept by `rollup_add` in the writing "
    "transaction), so the national root costs what a grassroots union costs.",
    "- **Children** are read through the parent index; the scope check is the node's path prefix. The paths carry a "
    "1,000-bucket histogram (migration 0003): with the default 100 buckets every subtree below a province "
    "was estimated at 255 rows and a city admin's listing scanned the whole city.",
    "- **Name search** is an exact-name probe (b-tree on `name`, migration 0003; it was a 0.6 s sequential "
    "scan) plus the bigram GIN index; the candidates are not sorted in SQL (sorting 13,000 matches for "
    "深圳 was the cost) and a two-character query skips the redundant LIKE that wrecked the row estimate. "
    "Pinyin initials and USCC prefixes use `varchar_pattern_ops` b-trees; employer results are joined "
    "after the first ids are chosen.",
    "- **Employer lists** are keyset pages by id over the subtree's path prefix: page 1,000 and the last page "
    "cost what page 1 costs. When the admin's grant covers the listed node, the scope's copy of the same "
    "prefix is left out (it squared the planner's estimate: 0.1–1.9 s for a city's list before).",
    "- *API/SQL* is the price of the stack per request (bearer token lookup, scope, ORM, JSON); it does not "
    "grow with the data.",
]


def summary(samples: list[float]) -> dict:
    """p50/p95/max in milliseconds."""
    if not samples:
        return {"n": 0}
    cuts = statistics.quantiles(samples, n=100, method="inclusive") if len(samples) > 1 else samples * 99
    return {"n": len(samples), "p50": round(cuts[49], 2), "p95": round(cuts[94], 2), "max": round(max(samples), 2)}


def machine(cursor) -> dict:
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    ram = re.search(r"MemTotal:\s+(\d+) kB", meminfo)
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    cursor.execute("SHOW server_version")
    version = cursor.fetchone()[0]
    settings = {}
    for name in ("shared_buffers", "work_mem", "maintenance_work_mem", "effective_cache_size", "random_page_cost",
                 "jit", "max_parallel_workers_per_gather", "fsync", "synchronous_commit"):
        cursor.execute(f"SHOW {name}")
        settings[name] = cursor.fetchone()[0]
    return {
        "nproc": os.cpu_count(),
        "ram_gb": round(int(ram.group(1)) / 1024 / 1024, 1) if ram else None,
        "cpu": model.group(1).strip() if model else platform.processor(),
        "python": platform.python_version(),
        "postgresql": version,
        "postgresql_settings": settings,
    }


def data_size(cursor) -> dict:
    cursor.execute("SELECT kind, COUNT(*) FROM orgs_orgunit GROUP BY kind ORDER BY kind")
    kinds = dict(cursor.fetchall())
    sizes = {}
    for table in ("orgs_orgunit", "orgs_employer", "analytics_rollup"):
        cursor.execute(
            "SELECT (SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass), "
            "pg_table_size(%s::regclass), pg_indexes_size(%s::regclass)",
            [table, table, table],
        )
        rows, table_bytes, index_bytes = cursor.fetchone()
        sizes[table] = {"rows": rows, "table_mb": table_bytes // 2**20, "indexes_mb": index_bytes // 2**20}
    cursor.execute("SELECT COUNT(*) FROM orgs_employer")
    employers = cursor.fetchone()[0]
    cursor.execute("SELECT pg_database_size(current_database())")
    db_bytes = cursor.fetchone()[0]
    return {
        "orgunits_by_kind": kinds,
        "orgunits": sum(kinds.values()),
        "grassroots_level_unions": kinds.get("grassroots", 0) + kinds.get("joint", 0) + kinds.get("platform", 0),
        "employers": employers,
        "tables": sizes,
        "database_gb": round(db_bytes / 2**30, 2),
    }


def _ms(value) -> str:
    return "–" if value is None else f"{value:.1f}"


def markdown(result: dict) -> str:
    m, d, g = result["machine"], result["data"], result["generation"]
    lines = [
        START,
        "## Backbone: the union tree at national size",
        "",
        f"Run `{result['command']}` on {result['finished_at']} (UTC); raw figures in "
        f"`bench/results/{result['file']}`.",
        "",
        f"**Machine:** {m['nproc']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, PostgreSQL {m['postgresql']} "
        f"(shared_buffers {m['postgresql_settings']['shared_buffers']}, work_mem "
        f"{m['postgresql_settings']['work_mem']}, random_page_cost {m['postgresql_settings']['random_page_cost']}, "
        f"jit {m['postgresql_settings']['jit']}), Python {m['python']}.",
        "",
        f"**Data:** {d['orgunits']:,} union nodes, of which {d['grassroots_level_unions']:,} grassroots-level "
        f"({d['orgunits_by_kind'].get('grassroots', 0):,} grassroots, {d['orgunits_by_kind'].get('joint', 0):,} joint) "
        f"under {d['orgunits_by_kind'].get('township', 0):,} township unions; {d['employers']:,} employers; "
        f"{d['tables']['analytics_rollup']['rows']:,} rollup rows; database {d['database_gb']} GB.",
        "",
    ]
    if g.get("reused"):
        lines.append("**Generation:** reused an existing dataset (not timed in this run).")
    else:
        phases = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in g["phases"].items())
        lines.append(
            f"**Generation** (`manage.py gen_national`, COPY): {g['total_seconds'] / 60:.1f} min in total ({phases})."
        )
    lines += [
        "",
        f"Each figure: {result['iterations']} timed requests after {result['warmup']} warm-up ones, in one process. "
        "*API* is the whole Django request (bearer token, scope, query, JSON) through `django.test.Client`; "
        "*SQL* is the equivalent hand-written query run raw with psycopg on its own connection in the same run "
        "(the queries are in the JSON). Target: API p95 ≤ 50 ms.",
        "",
        "| measurement | as | API p50 | API p95 | API max | SQL p50 | SQL p95 | API/SQL p95 | queries | ≤ 50 ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |",
    ]
    for case in result["cases"]:
        api, raw = case["api"], case.get("raw") or {}
        ratio = f"{case['ratio_p95']:.1f}×" if case.get("ratio_p95") else "–"
        lines.append(
            f"| {case['label']} | {case['actor']} | {_ms(api.get('p50'))} | {_ms(api.get('p95'))} | "
            f"{_ms(api.get('max'))} | {_ms(raw.get('p50'))} | {_ms(raw.get('p95'))} | {ratio} | "
            f"{case.get('queries', '–')} | {'✅' if case['pass'] else '❌'} |"
        )
    walk = result.get("walk")
    if walk:
        lines += [
            "",
            f"Walking the employer list of {walk['org']} with the cursor, pages 1 to {walk['pages']} "
            f"({walk['page_size']} a page, {walk['total']:,} employers in the subtree), each page fetched once "
            f"without warm-up: API p50 {walk['api']['p50']:.1f} ms, p95 {walk['api']['p95']:.1f} ms, max "
            f"{walk['api']['max']:.1f} ms per page. The two page rows in the table are the timed figures.",
        ]
    overhead = sorted(c["api"]["p50"] - c["raw"]["p50"] for c in result["cases"] if c.get("raw"))
    if overhead:
        lines += ["", f"Median of API p50 − SQL p50 over the cases (the stack's own cost): "
                      f"{overhead[len(overhead) // 2]:.1f} ms."]
    load = result.get("load_average")
    if load:
        lines += ["", f"Load average of the machine (shared with other work) before / after measuring: "
                      f"{load['before']} / {load['after']}."]
    lines += ["", *NOTES]
    lines += ["", END]
    return "\n".join(lines)


def write_docs(result: dict) -> None:
    _write_section(markdown(result), START, END)


def _write_section(section: str, start: str, end: str) -> None:
    if DOCS.exists():
        text = DOCS.read_text(encoding="utf-8")
        if start in text and end in text:
            text = text[: text.index(start)] + section + text[text.index(end) + len(end):]
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
    else:
        text = (
            "# Benchmarks\n\n"
            "Measured by `make bench` (bench/run.py) on a throwaway PostgreSQL cluster; see bench/README.md.\n"
            "Each section is rewritten by the run that measures it.\n\n" + section + "\n"
        )
    DOCS.write_text(text, encoding="utf-8")


# --- Membership ------------------------------------------------------------------------------------

M_START, M_END = "<!-- membership:start -->", "<!-- membership:end -->"


def _ok(passed) -> str:
    return "✅" if passed else "❌"


def membership_verdicts(result: dict) -> list[str]:
    """One line per target: met or missed, with the figure."""
    t = result["targets"]
    out = []
    join = result.get("join")
    if join:
        out.append(f"join {join['joins_per_s']} joins/s = {join['ratio']:.1%} of pgbench INSERT "
                   f"({join['pgbench']['tps']:.0f} TPS; target ≥ {t['join_ratio']:.0%}) "
                   f"{'met' if join['pass_ratio'] else 'MISSED'}; p99 {join['latency']['p99']} ms (target ≤ "
                   f"{t['join_p99_ms']:.0f}) {'met' if join['pass_p99'] else 'MISSED'}"
                   if join["pgbench"].get("tps") else "join: pgbench did not report a TPS")
    flash = result.get("flash")
    if flash:
        out.append(f"flash crowd {flash['workers']:,} workers: lost {flash['lost']}, duplicates "
                   f"{flash['duplicate_rows']} {'met' if flash['pass'] else 'MISSED'}")
    roster = result.get("roster")
    if roster and "import" in roster:
        out.append(f"roster import {roster['import']['rows_per_s']:,} rows/s = {roster['ratio']:.1%} of COPY (target ≥ "
                   f"{t['roster_ratio']:.0%}) {'met' if roster['pass_ratio'] else 'MISSED'}; peak RSS "
                   f"{roster['maxrss_mb']['peak']} MB (target ≤ {t['roster_rss_mb']:.0f}) "
                   f"{'met' if roster['pass_rss'] else 'MISSED'}")
    elif roster:
        out.append("roster import FAILED (see the JSON)")
    lookup = result.get("lookup_by_id")
    if lookup:
        out.append(f"member by ID number: service p99 {lookup['service']['p99']} ms (target ≤ {t['lookup_p99_ms']:.0f}) "
                   f"{'met' if lookup['pass'] else 'MISSED'}")
    if result.get("stats"):
        worst = max(result["stats"], key=lambda c: c["api"]["p95"])
        out.append(f"subtree stats: worst API p95 {worst['api']['p95']} ms at {worst['level']} (target ≤ "
                   f"{t['stats_p95_ms']:.0f}) {'met' if all(c['pass'] for c in result['stats']) else 'MISSED'}")
    return out


def membership_markdown(result: dict) -> str:
    m, d, t = result["machine"], result["data"], result["targets"]
    ps = m["postgresql_settings"]
    lines = [
        M_START,
        "## Membership: joins, a flash crowd, roster imports and lookups over members",
        "",
        f"Run `{result['command']}` on {result['finished_at']} (UTC); raw figures in "
        f"`bench/results/{result['file']}`.",
        "",
        f"**Machine:** {m['nproc']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, shared by the server, PostgreSQL, the "
        f"load generator and pgbench; PostgreSQL {m['postgresql']} (shared_buffers {ps['shared_buffers']}, "
        f"fsync {ps['fsync']}, synchronous_commit {ps['synchronous_commit']}), Python {m['python']}. Load average "
        f"before / after: {result['load_average_before']} / {result['load_average_after']}.",
        "",
        f"**Data:** {d['members']:,} members ({d['member_table_mb']:,} MB table, {d['member_indexes_mb']:,} MB "
        f"indexes) in the backbone's national dataset; database {d['database_gb']} GB.",
        "",
    ]
    g = result["generation"]
    if g.get("reused"):
        lines.append("**Generation:** reused existing members (not timed in this run).")
    else:
        phases = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in g["phases"].items())
        lines.append(f"**Generation** (`gonghui.orgs.national.generate_members`, the same as `gen_national "
                     f"--members`): {g['total_seconds'] / 60:.1f} min ({phases}).")
    lines += ["", "| requirement | measured | raw database, same run | ratio | target | met |",
              "| --- | --- | --- | ---: | --- | :---: |"]
    join = result.get("join")
    if join:
        pg = join["pgbench"]
        tps = pg.get("tps")
        lines.append(
            f"| join: HTTP flow, {join['concurrency']} concurrent workers, {join['seconds']:.0f} s | "
            f"{join['joins_per_s']} joins/s, p50 {_ms(join['latency']['p50'])} ms, p99 {_ms(join['latency']['p99'])} ms "
            f"| pgbench single-row INSERT ({pg['row_bytes']} B rows, -c {join['concurrency']}): "
            f"{tps:,.0f} TPS, avg {pg['latency_avg_ms']} ms | {join['ratio']:.1%} | ≥ {t['join_ratio']:.0%} of raw, "
            f"p99 ≤ {t['join_p99_ms']:.0f} ms | {_ok(join['pass_ratio'])} {_ok(join['pass_p99'])} |"
            if tps else "| join | pgbench failed (see JSON) | | | | ❌ |")
    flash = result.get("flash")
    if flash:
        lines.append(
            f"| flash crowd: {flash['workers']:,} distinct workers within {flash['spread_seconds']} s | "
            f"{flash['stored_distinct']:,} stored once, {flash['lost']} lost, {flash['duplicate_rows']} duplicates; "
            f"last answer at {flash['last_acknowledged_at_s']:.0f} s ({flash['throughput_per_s']} joins/s); from submit "
            f"p50 {_dur(flash['latency_from_submit'].get('p50'))}, p99 {_dur(flash['latency_from_submit'].get('p99'))} "
            f"| – | – | 0 lost | {_ok(flash['pass'])} |")
    roster = result.get("roster")
    if roster and "import" in roster:
        imp = roster["import"]
        lines.append(
            f"| roster import: {roster['rows']:,}-row CSV ({roster['file_mb']} MB) | {imp['rows_per_s']:,} rows/s "
            f"({imp['total_s']:.0f} s: store {imp['create_s']:.0f}, validate {imp['validate_s']:.0f}, commit "
            f"{imp['commit_s']:.0f}); peak RSS {roster['maxrss_mb']['peak']:.0f} MB | COPY into a plain table: "
            f"{roster['copy']['rows_per_s']:,} rows/s | {roster['ratio']:.1%} | ≥ {t['roster_ratio']:.0%} of COPY, "
            f"RSS ≤ {t['roster_rss_mb']:.0f} MB | {_ok(roster['pass_ratio'])} {_ok(roster['pass_rss'])} |")
    lookup = result.get("lookup_by_id")
    if lookup:
        s, a, r = lookup["service"], lookup["api"], lookup["raw"]
        lines.append(
            f"| member by ID number ({lookup['samples_per_method']:,} distinct real numbers per method) | selector "
            f"p50 {_ms(s['p50'])} / p99 {_ms(s['p99'])} ms; API search p50 {_ms(a['p50'])} / p99 {_ms(a['p99'])} ms "
            f"| index probe on id_hash: p50 {_ms(r['p50'])} / p99 {_ms(r['p99'])} ms | "
            f"{s['p99'] / r['p99']:.1f}× | selector p99 ≤ {t['lookup_p99_ms']:.0f} ms | {_ok(lookup['pass'])} |")
    for case in result.get("stats", []):
        a, r = case["api"], case["raw"]
        lines.append(
            f"| subtree members: {case['name']} ({case['level']}, {case['members']:,}) | API p50 {_ms(a['p50'])} / "
            f"p95 {_ms(a['p95'])} ms | rollup read p50 {_ms(r['p50'])} / p95 {_ms(r['p95'])} ms "
            f"(COUNT(*) instead: {case['count_query_ms']:,.0f} ms) | {a['p95'] / r['p95']:.1f}× | "
            f"p95 ≤ {t['stats_p95_ms']:.0f} ms | {_ok(case['pass'])} |")
    if flash:
        lines += ["", f"Flash crowd status codes — first attempts: {_codes(flash['first_attempt_statuses'])}; all "
                      f"attempts: {_codes(flash['all_attempt_statuses'])}; final: {_codes(flash['final_statuses'])}; "
                      f"client errors: {_codes(flash['client_errors'])}; {flash['retried_workers']:,} workers "
                      "submitted again. Time on the server's side of the connection (first attempt): p50 "
                      f"{_dur(flash['first_attempt_latency'].get('p50'))}, p99 "
                      f"{_dur(flash['first_attempt_latency'].get('p99'))}; the rest of the wait was for one of the "
                      "512 connections. "
                      f"Acknowledged but not stored: {flash['acknowledged_not_stored']}; stored but not acknowledged: "
                      f"{flash['stored_not_acknowledged']}; acknowledgement naming another row: "
                      f"{flash['ack_id_mismatch']}."]
    if join:
        lines += ["", f"Join status codes: {_codes(join['statuses'])}; {join['stored_rows']:,} applications stored."]
        if join.get("db_waits"):
            lines += ["", "Average number of active PostgreSQL backends by wait event while the joins ran (sampled "
                          f"every 100 ms; CPU = running): {_waits(join['db_waits'])}."]
    if flash and flash.get("db_waits"):
        lines += ["", f"The same during the flash crowd: {_waits(flash['db_waits'])}."]
    lines += ["", "*ratio*: joins/s over pgbench TPS, import rows/s over COPY rows/s; for the lookups and counts, the "
                  "API's (selector's) p99 or p95 over the raw query's.", "", *MEMBERSHIP_NOTES, "", M_END]
    return "\n".join(lines)


def _codes(counts: dict) -> str:
    return ", ".join(f"{code} × {n:,}" for code, n in sorted(counts.items())) or "none"


def _dur(ms) -> str:
    """Milliseconds, or seconds above 10 s."""
    if ms is None:
        return "–"
    return f"{ms / 1000:.0f} s" if ms >= 10_000 else f"{ms:.1f} ms"


def _waits(waits: dict) -> str:
    return ", ".join(f"{state} {value}" for state, value in waits.items()) or "none"


MEMBERSHIP_NOTES = [
    "How it is measured (bench/membership.py):",
    "",
    "- **Join**: granian serves `config.wsgi` (one worker process per core, 8 blocking threads each, the bench "
    "settings: persistent connections) and bench/loadgen.py, an asyncio HTTP/1.1 client in its own process, keeps "
    "N requests in flight. Each request is a different worker account (bearer token issued beforehand, as after "
    "an SMS login) submitting `POST /api/v1/membership/applications` with its own valid ID number and a random "
    "employer from the national dataset: routing, deadline, rate limit, audit entry and rollup deltas all run. "
    "pgbench runs right after on the same server with the same number of clients, `synchronous_commit=on`, "
    "inserting single rows of the applications' average width into a table with a primary key and a unique hash.",
    "- **Flash crowd**: arrivals are spread evenly over the window whatever the server does (open loop, up to 512 "
    "connections); latency counts from the moment a worker submits. A timeout, a lost connection, a 5xx or a 429 "
    "is submitted again with the same body (up to 5 times), which the API answers with the same application. "
    "Afterwards the ID-number hashes of all workers are looked up in `membership_application`.",
    "- **Roster import**: bench/roster_import.py runs `import_create`, then the tasks `roster_validate` and "
    "`roster_commit` in-process, in a fresh process that does nothing else; its peak RSS is `ru_maxrss`. COPY "
    "loads the same file into a plain six-column table.",
    "- **Lookups**: members are generated by `gen_national --members` (gonghui/orgs/national_members.py): real "
    "keyed hashes of valid, distinct ID numbers, so any member's number can be rebuilt and looked up; "
    "`id_encrypted`/`phone_encrypted` of bulk rows are one constant placeholder ciphertext (revealing shows "
    "zeros) and bulk rows have no stint or event history. The selector is `member_find_by_id_number` as a "
    "national admin; the API is the member list searched by the number; each method gets its own sample, so none "
    "reads pages another warmed. Subtree counts are `GET /api/v1/membership/stats?node=` as a national admin.",
    "",
    "What limits these (from the code and the profiles; the figures are in the table):",
    "",
    "- **Join** is CPU-bound in Python. A join is 14 SQL statements in two durable commits (the rate-limit "
    "counter commits on its own; then the application, the `applications.pending` rollup rows of every ancestor up "
    "to the national root, and the audit entry) plus Django, ninja and pydantic work, and the two server processes "
    "share 2 cores with PostgreSQL, the load generator and the rest of the machine. 15 % of pgbench's durable "
    "inserts would leave about 3 ms of CPU per join for all of it. The next limit once cores are added: every join "
    "updates the same national and provincial rollup rows inside its transaction, so concurrent joins queue on "
    "those row locks until each commit's WAL flush (`db_waits` in the JSON samples pg_stat_activity: "
    "`Lock:transactionid`); that caps joins at about one per lock-hold time whatever the cores.",
    "- **Flash crowd**: nothing is lost or doubled (one pending application per ID number, and a repeat is "
    "answered with the same application), but it drains at the join rate, so the last of 10,000 workers who "
    "arrived within a minute waits minutes.",
    "- **Roster import** costs ~0.2 ms a row to validate (parsing the ID number with python-stdnum, whose "
    "birth-place lookup alone is ~50 µs; two Fernet encryptions at ~27 µs; two HMACs; CSV decoding; the staging "
    "COPY) and about as much to commit (a member, a stint, an event and the row's outcome per row, with their "
    "foreign-key checks, 5,000 rows a transaction). COPY takes ~1.3 µs a row, so 25 % of it would leave ~5 µs a "
    "row for everything. Memory stays flat (streamed file, batched writes).",
    "- **Member by ID number**: the index probe reads 5 buffers (~0.3 ms); the selector adds parsing and "
    "checking the number (~75 µs), the actor's grants (a query) and the ORM building the query; its tail is the "
    "Python side, not the database (the raw probe's p99 in the same process is under 1 ms).",
    "- **Subtree counts** read one rollup row set per node, so the national root with ~10 M members costs what a "
    "grassroots union costs; counting the members instead takes seconds at the top of the tree.",
]


def write_membership_docs(result: dict) -> None:
    _write_section(membership_markdown(result), M_START, M_END)


# --- The 12351 case desk ---------------------------------------------------------------------------

C_START, C_END = "<!-- casedesk:start -->", "<!-- casedesk:end -->"


def casedesk_verdicts(result: dict) -> list[str]:
    """One line per target: met or missed, with the figure (creation has no target: it is reported)."""
    t = result["targets"]
    out = []
    sweep = result.get("sweep")
    if sweep:
        acc = sweep["accepts"]["during"]
        out.append(f"deadline sweep over {sweep['due_before']['open']:,} open cases ({sweep['due_before']['cases']:,} "
                   f"due): {sweep['seconds']:.2f} s (target ≤ {t['sweep_seconds']:.0f} s) "
                   f"{'met' if sweep['pass_seconds'] else 'MISSED'}; handler accepts meanwhile: n {acc.get('n', 0)}, "
                   f"p50 {acc.get('p50')} / p99 {acc.get('p99')} / max {acc.get('max')} ms, "
                   f"{sweep['accepts']['error_count']} errors (target p99 ≤ {t['accept_p99_ms']:.0f} ms) "
                   f"{'met' if sweep['pass_handlers'] else 'MISSED'}")
    board = result.get("board")
    if board:
        worst = max(board["cases"], key=lambda c: (c.get("api") or c["selector"])["p95"])
        figure = worst.get("api") or worst["selector"]
        out.append(f"case board of {board['org']['name']} ({board['open_cases']:,} open, through the "
                   f"{board['measured_through']}): worst p95 {figure['p95']} ms ({worst['label']}; target ≤ "
                   f"{t['board_p95_ms']:.0f}) {'met' if all(c['pass'] for c in board['cases']) else 'MISSED'}")
    if result.get("stats"):
        worst = max(result["stats"], key=lambda c: (c.get("api") or c["page"])["p95"])
        figure = worst.get("api") or worst["page"]
        out.append(f"dashboard numbers: worst p95 {figure['p95']} ms at {worst['level']} (target ≤ "
                   f"{t['stats_p95_ms']:.0f}) {'met' if all(c['pass'] for c in result['stats']) else 'MISSED'}")
    create = result.get("create")
    if create:
        http, tps = create.get("http"), create["pgbench"].get("tps")
        if http and tps:
            out.append(f"case creation {http['cases_per_s']} cases/s through HTTP = {create['ratio']:.1%} of pgbench "
                       f"INSERT ({tps:.0f} TPS), p99 {http['latency']['p99']} ms (no target: reported)")
        elif http is None:
            out.append(f"case creation: no HTTP API; in-process {create['service']['per_s']} cases/s (reported)")
        else:
            out.append("case creation: pgbench did not report a TPS")
    return out


def _stat(s: dict, *keys: str) -> str:
    return " / ".join(f"{k} {_ms(s.get(k))}" for k in keys) + " ms" if s.get("n") else "–"


def casedesk_markdown(result: dict) -> str:
    m, d, t, g = result["machine"], result["data"], result["targets"], result["generation"]
    ps = m["postgresql_settings"]
    case_t, event_t = d["tables"]["casedesk_case"], d["tables"]["casedesk_caseevent"]
    lines = [
        C_START,
        "## The 12351 case desk: the deadline sweep, the board, dashboard numbers, creation",
        "",
        f"Run `{result['command']}` on {result['finished_at']} (UTC); raw figures in `bench/results/{result['file']}`.",
        "",
        f"**Machine:** {m['nproc']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, shared by the server, PostgreSQL, the "
        f"load generator and pgbench; PostgreSQL {m['postgresql']} (shared_buffers {ps['shared_buffers']}, fsync "
        f"{ps['fsync']}, synchronous_commit {ps['synchronous_commit']}), Python {m['python']}. Load average before / "
        f"after: {result['load_average_before']} / {result['load_average_after']}.",
        "",
        f"**Data:** {d['open_cases']:,} open cases ({case_t['table_mb']:,} MB table, {case_t['indexes_mb']:,} MB "
        f"indexes; {event_t['rows']:,} case events) in the backbone's national dataset; database "
        f"{d['database_gb']} GB.",
        "",
    ]
    if g.get("reused"):
        lines.append("**Generation:** reused existing cases (not timed in this run).")
    else:
        phases = ", ".join(f"{name.replace('_', ' ')} {seconds:.0f} s" for name, seconds in g["phases"].items())
        sh = result["shares"]
        lines.append(
            f"**Generation** (set-based SQL, bench/casedesk.py): {g['cases']:,} open cases over {g['unions_weighted']:,} "
            f"grassroots-level unions weighted by the headcount of the employers each covers (as members are), "
            f"{result['nodes']['county']['name']} given its own share; statuses "
            + ", ".join(f"{s} {v:.0%}" for s, v in sh["statuses"].items())
            + f"; {g['events']:,} events; {g['total_seconds'] / 60:.1f} min ({phases}).")
    lines += ["", "| requirement | measured | raw database, same run | ratio | target | met |",
              "| --- | --- | --- | ---: | --- | :---: |"]
    sweep = result.get("sweep")
    if sweep:
        b, acc = sweep["due_before"], sweep["accepts"]
        done = sweep["done"]
        lines.append(
            f"| deadline sweep: {b['open']:,} open cases, {b['cases']:,} ({b['cases'] / max(1, b['open']):.1%}) due for "
            f"a warning or past a deadline | {sweep['seconds']:.2f} s end to end ({done['accept_warn']:,} + "
            f"{done['accept_overdue']:,} acceptance warnings / escalations, {done['complete_warn']:,} + "
            f"{done['complete_overdue']:,} completion; {len(sweep['batches'])} batches of ≤ {sweep['batch']:,}, longest "
            f"{sweep['longest_batch_ms']:,.0f} ms) | {_raw_rewrite(sweep)} | {_rewrite_ratio(sweep)} | "
            f"≤ {t['sweep_seconds']:.0f} s | {_ok(sweep['pass_seconds'])} |")
        lines.append(
            f"| handlers during the sweep: `case_get` + `case_accept` in another process, alternating cases the sweep "
            f"is due to touch and others | {acc['during'].get('n', 0)} accepts: {_stat(acc['during'], 'p50', 'p99', 'max')}"
            f" (cases the sweep touches: {_stat(acc['during_swept'], 'p99', 'max')}); {acc['error_count']} errors | "
            f"before the sweep: {_stat(acc['before'], 'p50', 'p99')} | – | p99 ≤ {t['accept_p99_ms']:.0f} ms, no error "
            f"| {_ok(sweep['pass_handlers'])} |")
    board = result.get("board")
    if board:
        for case in board["cases"]:
            a = case.get("api") or case["selector"]
            r = case["raw"]
            through = "API" if case.get("api") else "selector"
            lines.append(
                f"| board of {board['org']['name']} ({board['open_cases']:,} open) as its handler: {case['label']} "
                f"({case['total']:,} cases) | {through} {_stat(a, 'p50', 'p95')} ({case['queries']} queries) | "
                f"hand-written query {_stat(r, 'p50', 'p95')} | {a['p95'] / r['p95']:.1f}× | p95 ≤ "
                f"{t['board_p95_ms']:.0f} ms | {_ok(case['pass'])} |")
    for case in result.get("stats", []):
        a, r = case.get("api") or case["page"], case["raw"]
        what = "API" if case.get("api") else "`case_stats` + `case_child_breakdown`"
        lines.append(
            f"| dashboard numbers: {case['name']} ({case['level']}, {case['open']:,} open, {case['children']:,} "
            f"children) | {what} {_stat(a, 'p50', 'p95')} | rollup reads {_stat(r, 'p50', 'p95')} (COUNT(*) of the "
            f"open cases instead: {case['count_query_ms']:,.0f} ms) | {a['p95'] / r['p95']:.1f}× | p95 ≤ "
            f"{t['stats_p95_ms']:.0f} ms | {_ok(case['pass'])} |")
    create = result.get("create")
    if create:
        pg, http, svc = create["pgbench"], create.get("http"), create["service"]
        tps = pg.get("tps")
        if http and tps:
            lines.append(
                f"| creation: `POST /api/v1/cases`, {create['concurrency']} agents at once, {http['seconds']:.0f} s | "
                f"{http['cases_per_s']} cases/s, {_stat(http['latency'], 'p50', 'p99')} | pgbench single-row INSERT "
                f"({pg['row_bytes']} B rows, -c {create['concurrency']}): {tps:,.0f} TPS, avg {pg['latency_avg_ms']} ms "
                f"| {create['ratio']:.1%} | none: reported | – |")
        lines.append(
            f"| creation in-process (`services.case_create`, one thread, {svc['n']} calls) | {svc['per_s']} cases/s, "
            f"{_stat(svc, 'p50', 'p99')} | – | – | – | – |")
    if sweep:
        rc = sweep["rollups_national"]
        hot = sweep.get("hot_updates") or {}
        lines += ["", f"Sweep details: {len(sweep['batches'])} batches, one SQL statement each; "
                      f"case-row updates meanwhile: {hot.get('updates', 0):,}, of them HOT (no index touched) "
                      f"{hot.get('hot', 0):,}; left due afterwards: {sweep['left_due_after']['cases']:,}; a second sweep right after took "
                      f"{sweep['second_sweep']['seconds'] * 1000:,.0f} ms; national rollups after the sweep and the "
                      f"accepts {'equal' if rc['consistent'] else 'DIFFER FROM'} a recount. Backends by wait event "
                      f"during the sweep: {_waits(sweep['db_waits'])}."]
    if create and create.get("http"):
        http = create["http"]
        lines += ["", f"Creation status codes: {_codes(http['statuses'])}; {http['stored_rows']:,} cases stored; the "
                      f"same external ids sent again: {http['repeat']['same_case']}/{http['repeat']['sent']} answered "
                      f"with the same case, {http['repeat']['new_rows']} new rows. Backends by wait event: "
                      f"{_waits(http['db_waits'])}."]
    lines += ["", *CASEDESK_NOTES, "", C_END]
    return "\n".join(lines)


CASEDESK_NOTES = [
    "How it is measured (bench/casedesk.py):",
    "",
    "- **Cases** are generated with one INSERT … SELECT over `generate_series` (indexes and constraints dropped and "
    "rebuilt, then the case metrics of the rollups rebuilt from the casedesk rebuild sources, as `rollup_rebuild` "
    "does, and VACUUM ANALYZE): 85 % held by the grassroots union, 10 % by its township, "
    "5 % by its county; ids follow the creation time, so a county's cases are scattered through the table. Clocks "
    "follow the national default limits (working days × 1.4 in calendar time); the sweep last acted two hours "
    "before the sweep moment, so 2 % of the pending and in-progress cases are due a warning, 1.5 % are newly "
    "past a deadline and 3 % were escalated before. Waiting-for-the-worker cases have no running deadline.",
    "- **The sweep** is `services.deadline_sweep(now=<the sweep moment>)` called in the benchmark's process (each "
    "batch one SQL statement in its own transaction: `SELECT … FOR UPDATE SKIP LOCKED`, the marks, the events, the "
    "workers' and the boards' notices and the ancestors' rollup deltas), right after a `CHECKPOINT`, so every page "
    "it touches is written to the WAL whole once (as in production, where pages a sweep touches were rarely touched "
    "since the last checkpoint). The raw figure beside it is one hand-written `UPDATE` of the same rows' marks and "
    "nothing else, rolled back. A handler process runs `case_get` + `case_accept` back to back for one second before and all "
    "through the sweep; while the sweep runs it alternates cases the sweep is due to warn or escalate (picked at "
    "random, so some sit in the batch the sweep holds) with cases it does not touch. A handler can wait at most "
    "for the batch holding its case; the sweep never waits for a handler (it skips locked rows, picked up next time).",
    "- **The board** is `GET /api/v1/cases?node=<county>&status=…` through `django.test.Client` with a county "
    "handler's bearer token (the whole Django stack in-process, no HTTP server); the deep page's cursor is built "
    "from the data. The hand-written query reads the same rows with a row comparison for the cursor.",
    "- **Dashboard numbers** are the data of the console's statistics page: `case_stats` (the node's rollup row "
    "set, 30 days of daily rollups, the taxonomy) and `case_child_breakdown` (the children's rollups).",
    "- **Creation** is granian serving `config.wsgi` and bench/loadgen.py keeping N requests in flight, each a "
    "hotline agent's `POST /api/v1/cases` with its own external id, caller and employer (routing, the acceptance "
    "clock, the cluster check, audit, notice and rollup deltas all run), beside pgbench's durable single-row "
    "INSERT of the cases' average width into a table with a primary key and a unique hash.",
]


def _raw_rewrite(sweep: dict) -> str:
    floor = sweep.get("raw_rewrite")
    if not floor or "seconds" not in floor:
        return "–"
    return f"one hand-written `UPDATE` rewriting the same {floor['rows']:,} rows' marks (nothing else): {floor['seconds']:.2f} s"


def _rewrite_ratio(sweep: dict) -> str:
    floor = sweep.get("raw_rewrite") or {}
    return f"{sweep['seconds'] / floor['seconds']:.1f}×" if floor.get("seconds") else "–"


def write_casedesk_docs(result: dict) -> None:
    _write_section(casedesk_markdown(result), C_START, C_END)


# --- The legal-affairs cloud -----------------------------------------------------------------------

L_START, L_END = "<!-- legal:start -->", "<!-- legal:end -->"


def legal_verdicts(result: dict) -> list[str]:
    """One line per target or headline figure."""
    out = []
    search = result.get("search")
    if search:
        a, r = search["api"], search["raw"]
        out.append(f"law search: API p95 {a['p95']} ms over {search['queries_n']} queries (raw statements p95 "
                   f"{r['p95']} ms; target ≤ {result['targets']['search_p95_ms']:.0f}) "
                   f"{'met' if search['pass'] else 'MISSED'}"
                   + (f"; queries whose own p95 is above it: {', '.join(search['queries_over_target'])}"
                      if search.get("queries_over_target") else ""))
    ask = result.get("ask")
    if ask:
        out.append(f"legal ask: API p50 {ask['api']['p50']} / p95 {ask['api']['p95']} ms over {ask['questions']} "
                   f"questions (ranking alone p95 {ask['ranking']['p95']} ms; first call {ask['cold_first_ms']:.0f} ms; "
                   "no target: reported)")
    quality = (result.get("quality") or {}).get("all")
    if quality:
        o, b = quality["ours"], quality["bm25"]
        out.append(f"ranking quality (all {quality['n']}): recall@5 {o['recall_at_5']:.3f} vs BM25 {b['recall_at_5']:.3f}, "
                   f"MRR {o['mrr']:.3f} vs BM25 {b['mrr']:.3f}")
    for name in ("pdf", "docx"):
        doc = (result.get("pdf") or {}).get(name)
        if doc and "error" in doc:
            out.append(f"letter {name}: NOT MEASURED ({doc['error']})")
        elif doc:
            out.append(f"letter {name}: first {doc['first_ms']:.0f} ms, warm p50 {doc['warm']['p50']} / p95 "
                       f"{doc['warm']['p95']} ms, {doc['bytes']:,} bytes"
                       + (f", {doc.get('pages')} pages" if name == "pdf" else ""))
    return out


def _stats3(s: dict) -> str:
    return _stat(s, "p50", "p95", "p99")


def legal_markdown(result: dict) -> str:
    m, d, t = result["machine"], result["data"], result["targets"]
    ps = m["postgresql_settings"]
    lines = [
        L_START,
        "## Legal-affairs cloud (issue 5)",
        "",
        f"Run `{result['command']}` on {result['finished_at']} (UTC); raw figures in `bench/results/{result['file']}`.",
        "",
        f"**Machine:** {m['nproc']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, PostgreSQL {m['postgresql']} "
        f"(shared_buffers {ps['shared_buffers']}, work_mem {ps['work_mem']}, jit {ps['jit']}), Python {m['python']}, "
        f"all in one process (no HTTP server). Load average before / after: {result['load_average_before']} / "
        f"{result['load_average_after']}.",
        "",
        f"**Data:** the law library, {d['laws']} laws and {d['articles']} articles (`legal_article` "
        f"{d['article_table_kb']:,} kB, its indexes {d['article_indexes_kb']:,} kB, of which the full-text GIN index "
        f"{d['search_index_kb']:,} kB), "
        + (f"loaded by `manage.py load_laws` in this run ({d['seconds']} s)" if d.get("loaded_in_run")
           else "already loaded (reused)")
        + ". It does not grow with the national data, so every run rewrites this section.",
        "",
        "| requirement | measured | raw database, same run | ratio | target | met |",
        "| --- | --- | --- | ---: | --- | :---: |",
    ]
    search = result.get("search")
    if search:
        a, r = search["api"], search["raw"]
        lines.append(
            f"| law search: `GET /api/v1/laws/search`, {search['queries_n']} worker queries "
            f"({search['with_law_filter']} with a law filter) × {search['rounds']} rounds, JSON decoded | API "
            f"{_stats3(a)} | the request's own {'/'.join(str(n) for n in search['statements_per_request'])} statements "
            f"replayed through psycopg: {_stats3(r)} (the full-text statements alone: {_stats3(search['raw_search_statement'])}) "
            f"| {a['p95'] / r['p95']:.1f}× | p95 ≤ {t['search_p95_ms']:.0f} ms | {_ok(search['pass'])} |")
        lines.append(
            f"| law search in-process (`selectors.search_articles`) | {_stats3(search['selector'])} (cutting the query "
            f"into words and adding the law's terms: {_stats3(search['query_words'])}) | – | – | – | – |")
        lines.append(
            f"| law search, first request of a process that skipped the start-up load (jieba's dictionary loaded then; web processes load it at start in config/wsgi.py) | {search['cold_first_ms']:,.0f} ms "
            f"| – | – | – | – |")
    ask = result.get("ask")
    if ask:
        a, r = ask["api"], ask["raw"]
        lines.append(
            f"| question: `POST /api/v1/legal/ask`, the {ask['questions']} evaluation questions × {ask['rounds']} "
            f"rounds, JSON decoded | API {_stats3(a)} | its {ask['queries']} statements (rate-limit upsert, the "
            f"library's version) replayed: {_stats3(r)} | {a['p95'] / r['p95']:.1f}× | none: reported | – |")
        lines.append(
            f"| question in-process: `selectors.ask` / the ranking alone (`ranking.rank` on the built index, no "
            f"database) | ask {_stats3(ask['selector'])}; ranking {_stats3(ask['ranking'])} (of which the analysis: "
            f"typos, the law's terms, the guide: {_stats3(ask['analyse'])}) | – | – | – | – |")
        lines.append(
            f"| question, first request of a fresh process (the in-memory index of {ask['index']['articles']} articles "
            f"built) | {ask['cold_first_ms']:,.0f} ms (the build alone {ask['index_build_ms']:,.0f} ms) | – | – | – | – |")
    lines.append("")
    if search:
        w = search["worst"]
        parts = ", ".join(f"{st['kind']} {_ms(st['p50'])}" for st in w["statements"])
        medians = ", ".join(f"{k} {_ms(v)}" for k, v in search["statement_p50_median"].items())
        fallback = ", ".join(search["fallback_to_any_word"]) or "none"
        lines += [
            f"Search statements, the median over the queries of each one's p50 (ms): {medians}. Queries where no "
            f"article has every word, so a second full-text statement asks for any word: {fallback}. The slowest "
            f"query, {w['q']}{' (' + w['law'] + ')' if w['law'] else ''}, {w['total']:,} matches"
            f"{'' if w['matched_all'] else ' on any word'}: API {_stat(w['api'], 'p50', 'p95')}, its statements raw "
            f"{_stat(w['raw'], 'p50', 'p95')} (p50 each: {parts}). Queries whose own API p95 is above "
            f"{t['search_p95_ms']:.0f} ms: {', '.join(search['queries_over_target']) or 'none'}.",
            "",
        ]
    quality = result.get("quality")
    if quality:
        lines += ["Ranking quality on `data/legal/ask_eval.json` (gonghui/legal/evaluation.py; the weights were tuned "
                  "on *dev* only). recall@5: share of a question's cited articles in the top five; MRR: 1 / rank of "
                  "the first cited article in the top 20.", "",
                  "| questions | n | recall@5 ours | recall@5 BM25 | MRR ours | MRR BM25 | nothing in the top 20: ours / BM25 |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for key in ("dev", "test", "all"):
            q = quality.get(key)
            if not q:
                continue
            o, b = q["ours"], q["bm25"]
            lines.append(f"| {key} | {q['n']} | {o['recall_at_5']:.3f} | {b['recall_at_5']:.3f} | {o['mrr']:.3f} | "
                         f"{b['mrr']:.3f} | {len(o['misses'])} / {len(b['misses'])} |")
        lines.append("")
    pdf = result.get("pdf")
    if pdf:
        letter = pdf["letter"]
        lines += [f"Letters: a {letter['kind']} ({letter['paragraphs']} paragraphs, {letter['demands']} demands) quoting "
                  f"{', '.join(letter['articles'])} in full ({letter['article_chars']:,} characters), rendered by "
                  "`gonghui.legal.documents`: the first render of the process, then warm renders.", "",
                  "| format | first render (cold) | warm p50 | warm p95 | renders | pages | bytes |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for name, label in (("pdf", "PDF (`render_pdf`, WeasyPrint)"), ("docx", "DOCX (`render_docx`, python-docx)")):
            doc = pdf.get(name)
            if not doc:
                continue
            if "error" in doc:
                lines.append(f"| {label} | not measured: {doc['error']} | | | | | |")
                continue
            w = doc["warm"]
            lines.append(f"| {label} | {doc['first_ms']:,.0f} ms | {_ms(w.get('p50'))} ms | {_ms(w.get('p95'))} ms | "
                         f"{w['n']} | {doc.get('pages') or '–'} | {doc['bytes']:,} |")
        lines.append("")
    lines += [*LEGAL_NOTES, "", L_END]
    return "\n".join(lines)


LEGAL_NOTES = [
    "How it is measured (bench/legal.py):",
    "",
    "- **Search** goes through `django.test.Client` (the whole Django stack in-process, no HTTP server: URL "
    "resolution, the endpoint, the selector, JSON out and decoded). Each query's statements are captured from "
    "one request with an execute wrapper (the law lookup for a filter, the tsquery over the generated "
    "`search_vector` column with its GIN index, a second one when no article has every word, the articles by "
    "id) and replayed as they are through psycopg on their own connection; rounds run the queries in a "
    "shuffled order.",
    "- **Questions** are ranked in memory (BM25F over the articles' text and head, typo correction, the law's "
    "terms, the practical guides); the database part of a request is the per-address rate-limit upsert and "
    "the library's version stamp. Each request comes from its own address, so the limit (30 a minute per "
    "address) counts as in production and refuses none; production settings are unchanged.",
    "- **Cold** figures clear the process's caches first (jieba's dictionary, the library index), as a freshly "
    "started web process would have them.",
]


def write_legal_docs(result: dict) -> None:
    _write_section(legal_markdown(result), L_START, L_END)


if __name__ == "__main__":
    # Rewrite a docs section from a saved result: python bench/report.py bench/results/backbone-….json
    import json
    import sys

    saved = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    if saved.get("benchmark") == "membership":
        write_membership_docs(saved)
    elif saved.get("benchmark") == "casedesk":
        write_casedesk_docs(saved)
    elif saved.get("benchmark") == "legal":
        write_legal_docs(saved)
    else:
        write_docs(saved)
