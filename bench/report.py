"""Figures, machine facts and the backbone section of docs/benchmarks.md (used by bench/run.py)."""

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
    section = markdown(result)
    if DOCS.exists():
        text = DOCS.read_text(encoding="utf-8")
        if START in text and END in text:
            text = text[: text.index(START)] + section + text[text.index(END) + len(END):]
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
    else:
        text = (
            "# Benchmarks\n\n"
            "Measured by `make bench` (bench/run.py) on a throwaway PostgreSQL cluster; see bench/README.md.\n"
            "Each section is rewritten by the run that measures it.\n\n" + section + "\n"
        )
    DOCS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    # Rewrite the docs section from a saved result: python bench/report.py bench/results/backbone-….json
    import json
    import sys

    write_docs(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")))
