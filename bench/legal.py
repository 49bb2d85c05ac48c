"""The legal-affairs cloud benchmark (法务云, issue 5): `make bench BENCH_ARGS="--only legal"`.

Called by bench/run.py after Django is set up. The law library is small (~850 articles), so this
part needs no national dataset: on an empty database it runs `load_laws` (after the migrations
bench/run.py applies) and measures, in one run:

1. article search: a fixed list of worker search queries (some with a law filter) through
   `GET /api/v1/laws/search` (django.test.Client, the whole stack, JSON decoded), beside the
   selector in-process and beside the exact statements the request sent to the database (captured
   with an execute wrapper) replayed raw through psycopg on their own connection;
2. asking a question: `POST /api/v1/legal/ask` over every question of the evaluation set (each call
   from its own address, so the per-address limit of 30 a minute counts as in production and never
   refuses), beside `selectors.ask` in-process, the ranking alone (`ranking.rank` on the built
   index: no database) and the request's statements replayed raw; the first call of a fresh process
   (the in-memory index built) is reported on its own, as is the first search (jieba's dictionary);
3. ranking quality on data/legal/ask_eval.json (gonghui/legal/evaluation.py): recall@5 and MRR on
   the dev, test and all questions, ours beside the plain BM25 baseline;
4. letters: `documents.render_pdf` and `render_docx` of a realistic 劳动法律监督意见书 quoting three
   articles from the library, the first render of the process (fonts) and then warm renders.

Not a test: it reports, it does not fail on a missed target.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from django.core.management import call_command
from django.db import connection
from django.test import Client

from bench import report
from bench.membership import stats

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"search_p95_ms": 50.0}
SEARCH_URL = "/api/v1/laws/search"
ASK_URL = "/api/v1/legal/ask"
# What workers type into the law search: one to three words, colloquial or the law's own terms; the
# last ones narrowed to one law (by its short title, as the page's law picker sends it, or its slug).
SEARCHES: list[tuple[str, str]] = [
    ("加班费", ""),
    ("试用期工资", ""),
    ("经济补偿 计算", ""),
    ("工伤认定 期限", ""),
    ("拖欠工资", ""),
    ("年休假", ""),
    ("女职工 孕期 解除", ""),
    ("社会保险 补缴", ""),
    ("劳务派遣", ""),
    ("竞业限制", ""),
    ("未签劳动合同 双倍工资", ""),
    ("最低工资", ""),
    ("违约金", ""),
    ("解除劳动合同 提前通知", ""),
    ("医疗期", ""),
    ("产假", ""),
    ("劳动仲裁 时效", ""),
    ("工资支付 凭证", ""),
    ("农民工 工资保证金", ""),
    ("休息日 加班", ""),
    ("调岗 降薪", ""),
    ("职业病", ""),
    ("欠薪", ""),
    ("开除 赔偿", ""),
    ("五险一金", ""),
    ("无固定期限劳动合同", ""),
    ("集体合同", ""),
    ("工会经费", ""),
    ("加班", "劳动法"),
    ("经济补偿", "labour-contract-law"),
    ("认定 申请", "工伤保险条例"),
    ("年休假 天数", "职工带薪年休假条例"),
    ("工资 清偿", "保障农民工工资支付条例"),
    ("安全生产 培训", "安全生产法"),
]
# The letter's quoted articles: (law slug, article number).
LETTER_ARTICLES = [("labour-contract-law", 10), ("labour-contract-law", 82), ("labour-contract-law", 30)]


def add_arguments(parser) -> None:
    group = parser.add_argument_group("legal")
    group.add_argument("--legal-rounds", type=int, default=20,
                       help="timed rounds over the search queries (each query once a round)")
    group.add_argument("--legal-ask-rounds", type=int, default=3,
                       help="timed rounds over the evaluation questions for /legal/ask")
    group.add_argument("--pdf-renders", type=int, default=20, help="warm renders of the letter per format")
    group.add_argument("--legal-skip", default="", help="comma-separated parts to leave out: search,ask,quality,pdf")


def log(line: str) -> None:
    print(line, flush=True)


def ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


# --- Data ------------------------------------------------------------------------------------------


def prepare_laws() -> dict:
    """Load the law library unless it is there (the legal tables do not depend on the national data)."""
    from gonghui.legal.models import Article, Law

    existing = Article.objects.count()
    if existing:
        log(f"bench: the law library is loaded ({Law.objects.count()} laws, {existing} articles); reusing it.")
        return {"loaded_in_run": False, "laws": Law.objects.count(), "articles": existing}
    t0 = time.perf_counter()
    call_command("load_laws", verbosity=0, stdout=io.StringIO())
    seconds = (time.perf_counter() - t0)
    log(f"bench: load_laws: {Law.objects.count()} laws, {Article.objects.count()} articles in {seconds:.1f} s")
    return {"loaded_in_run": True, "seconds": round(seconds, 1), "laws": Law.objects.count(),
            "articles": Article.objects.count()}


def capture(fn):
    """Run fn() and return (its result, the statements it sent: [(sql, params)])."""
    statements: list[tuple[str, list]] = []

    def wrapper(execute, sql, params, many, context):
        statements.append((sql, list(params) if params is not None else []))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        out = fn()
    return out, statements


def statement_kind(sql: str, seen_fulltext: int) -> str:
    if "search_vector @@" in sql:
        return "full-text, any word" if seen_fulltext else "full-text, every word"
    if 'FROM "legal_law"' in sql:
        return "law lookup" if "slug" in sql else "library version"
    if 'FROM "legal_article"' in sql:
        return "articles by id"
    if "ratecounter" in sql:
        return "rate-limit upsert"
    return sql.split()[0].lower()


def kinds(statements) -> list[str]:
    out, fulltext = [], 0
    for sql, _params in statements:
        out.append(statement_kind(sql, fulltext))
        fulltext += "search_vector @@" in sql
    return out


def replay(raw, statements) -> int:
    rows = 0
    for sql, params in statements:
        cur = raw.execute(sql, params)
        if cur.description is not None:
            rows += len(cur.fetchall())
    return rows


def timed_rounds(fn, items: list, rounds: int, seed: int) -> tuple[list[float], dict[int, list[float]]]:
    """fn(item) for every item, `rounds` times, each round in a shuffled order; all samples, and the
    samples of each item by its index."""
    rng = random.Random(seed)
    pooled: list[float] = []
    by_item: dict[int, list[float]] = {i: [] for i in range(len(items))}
    order = list(range(len(items)))
    for _ in range(rounds):
        rng.shuffle(order)
        for i in order:
            t0 = time.perf_counter()
            fn(items[i])
            elapsed = ms(t0)
            pooled.append(elapsed)
            by_item[i].append(elapsed)
    return pooled, by_item


# --- 1. Search -------------------------------------------------------------------------------------


def search_url(q: str, law: str) -> str:
    from urllib.parse import urlencode

    return SEARCH_URL + "?" + urlencode({"q": q, **({"law": law} if law else {})})


def measure_search(args, raw, client: Client) -> dict:
    from gonghui.legal import selectors, textindex

    def api(item) -> dict:
        response = client.get(search_url(*item))
        if response.status_code != 200:
            raise RuntimeError(f"{search_url(*item)}: HTTP {response.status_code} {response.content[:300]!r}")
        return response.json()

    # A fresh web process: jieba's dictionary is loaded by the first request that cuts words.
    textindex.tokenizer.cache_clear()
    t0 = time.perf_counter()
    api(SEARCHES[0])
    cold = round(ms(t0), 1)
    log(f"  first search of a fresh process (jieba's dictionary loaded): {cold:,.0f} ms")
    queries = []
    for q, law in SEARCHES:
        body, statements = capture(lambda q=q, law=law: api((q, law)))
        queries.append({"q": q, "law": law, "url": search_url(q, law), "total": body["total"],
                        "matched_all": body["matched_all"], "returned": len(body["results"]),
                        "top": [f"{r['law_title']}{r['label']}" for r in body["results"][:3]],
                        "statements": statements,
                        "fulltext": [s for s in statements if "search_vector @@" in s[0]]})
    for item in SEARCHES:  # warm-up pass, not timed
        api(item)
        replay(raw, queries[SEARCHES.index(item)]["statements"])
        selectors.search_articles(item[0], law=item[1] or None)
    rounds = args.legal_rounds
    api_all, api_by = timed_rounds(api, SEARCHES, rounds, args.seed)
    sel_all, _ = timed_rounds(lambda item: selectors.search_articles(item[0], law=item[1] or None), SEARCHES,
                              rounds, args.seed + 1)
    raw_all, raw_by = timed_rounds(lambda i: replay(raw, queries[i]["statements"]), list(range(len(SEARCHES))),
                                   rounds, args.seed + 2)
    tsq_all, _ = timed_rounds(lambda i: replay(raw, queries[i]["fulltext"]), list(range(len(SEARCHES))),
                              rounds, args.seed + 3)
    words_all, _ = timed_rounds(lambda item: selectors._query_groups(selectors.clean_query(item[0])), SEARCHES,
                                rounds, args.seed + 4)
    out_queries = []
    for i, q in enumerate(queries):
        # Each statement on its own: where the database's share goes.
        per_statement = []
        for kind, statement in zip(kinds(q["statements"]), q["statements"], strict=True):
            samples, _ = timed_rounds(lambda st: replay(raw, [st]), [statement], rounds, args.seed + 5)
            per_statement.append({"kind": kind, **stats(samples)})
        plans = [[line for (line,) in raw.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()]
                 for sql, params in q["fulltext"]]
        out_queries.append({
            "q": q["q"], "law": q["law"], "url": q["url"], "total": q["total"], "matched_all": q["matched_all"],
            "returned": q["returned"], "top": q["top"], "queries": len(q["statements"]),
            "api": stats(api_by[i]), "raw": stats(raw_by[i]), "statements": per_statement,
            "raw_sql": [{"sql": s, "params": [str(p) for p in p_]} for s, p_ in q["statements"]],
            "fulltext_plans": plans,
        })
    api_s = stats(api_all)
    result = {
        "queries_n": len(SEARCHES), "with_law_filter": sum(1 for _q, law in SEARCHES if law), "rounds": rounds,
        "cold_first_ms": cold, "api": api_s, "selector": stats(sel_all), "raw": stats(raw_all),
        "raw_search_statement": stats(tsq_all), "query_words": stats(words_all),
        "statements_per_request": sorted({len(q["statements"]) for q in queries}),
        "fallback_to_any_word": [q["q"] for q in queries if not q["matched_all"]],
        "no_hits": [q["q"] for q in queries if not q["total"]],
        "queries": out_queries,
        "pass": api_s["p95"] <= TARGETS["search_p95_ms"],
    }
    by_kind: dict[str, list[float]] = {}
    for c in out_queries:
        for st in c["statements"]:
            by_kind.setdefault(st["kind"], []).append(st["p50"])
    result["statement_p50_median"] = {k: sorted(v)[len(v) // 2] for k, v in by_kind.items()}
    worst = max(out_queries, key=lambda c: c["api"]["p95"])
    result["worst"] = {"q": worst["q"], "law": worst["law"], "total": worst["total"],
                       "matched_all": worst["matched_all"], "api": worst["api"], "raw": worst["raw"],
                       "statements": worst["statements"]}
    result["queries_over_target"] = [c["q"] for c in out_queries if c["api"]["p95"] > TARGETS["search_p95_ms"]]
    log(f"  search ({len(SEARCHES)} queries × {rounds}): API p50 {api_s['p50']:.2f} p95 {api_s['p95']:.2f} "
        f"p99 {api_s['p99']:.2f} | selector p95 {result['selector']['p95']:.2f} | raw p50 {result['raw']['p50']:.2f} "
        f"p95 {result['raw']['p95']:.2f} p99 {result['raw']['p99']:.2f} (the full-text statements alone p95 "
        f"{result['raw_search_statement']['p95']:.2f}) | {'ok' if result['pass'] else 'MISSED'}")
    log("  statements, median of the queries' p50: " + ", ".join(
        f"{k} {v:.2f}" for k, v in result["statement_p50_median"].items()))
    log(f"  slowest query: {worst['q']} {worst['law']} ({worst['total']} matches) API p95 {worst['api']['p95']:.2f}, "
        f"raw p95 {worst['raw']['p95']:.2f} (" + ", ".join(f"{st['kind']} p50 {st['p50']:.2f}"
                                                           for st in worst["statements"]) + ")")
    log(f"  fell back to any word: {result['fallback_to_any_word'] or 'none'}; no hits: {result['no_hits'] or 'none'}")
    return result


# --- 2. Asking -------------------------------------------------------------------------------------


class Addresses:
    """A distinct client address for each call: the limit is per address (30 a minute), so every
    call counts against it as in production and none is refused."""

    def __init__(self, seed: int):
        self.n = random.Random(seed).randrange(1 << 20)

    def next(self) -> str:
        self.n += 1
        n = self.n % (1 << 24)
        return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def measure_ask(args, raw, client: Client) -> dict:
    from gonghui.legal import evaluation, ranking, selectors

    items = evaluation.questions()
    addresses = Addresses(args.seed)

    def api(q: dict) -> dict:
        response = client.post(ASK_URL, data=json.dumps({"question": q["question"]}, ensure_ascii=False),
                               content_type="application/json", REMOTE_ADDR=addresses.next())
        if response.status_code != 200:
            raise RuntimeError(f"{ASK_URL} {q['id']}: HTTP {response.status_code} {response.content[:300]!r}")
        return response.json()

    # A fresh web process: the first question builds the in-memory index of the library.
    ranking._cache.clear()
    t0 = time.perf_counter()
    api(items[0])
    cold = round(ms(t0), 1)
    ranking._cache.clear()
    t0 = time.perf_counter()
    index = ranking.library_index()
    build = round(ms(t0), 1)
    log(f"  first question of a fresh process: {cold:,.0f} ms (of which the index build alone {build:,.0f} ms, "
        f"{len(index.docs)} articles, {len(index.postings):,} terms)")
    body, statements = capture(lambda: api(items[0]))
    # The API answers what the ranking answers (top 20, in order).
    same = 0
    for q in items:
        got = [(a["law"], a["article"]) for a in api(q)["articles"]]
        same += got == evaluation.ours(q["question"])
    rounds = args.legal_ask_rounds
    api_all, _ = timed_rounds(api, items, rounds, args.seed + 5)
    ask_all, _ = timed_rounds(lambda q: selectors.ask(q["question"]), items, rounds, args.seed + 6)
    rank_all, _ = timed_rounds(lambda q: ranking.rank(q["question"], index=index), items, rounds, args.seed + 7)
    analyse_all, _ = timed_rounds(lambda q: ranking.analyse(q["question"]), items, rounds, args.seed + 8)
    for _ in range(20):
        replay(raw, statements)
    raw_all, _ = timed_rounds(lambda _i: replay(raw, statements), list(range(len(items))), rounds, args.seed + 9)
    api_s = stats(api_all)
    result = {
        "questions": len(items), "rounds": rounds, "cold_first_ms": cold, "index_build_ms": build,
        "index": {"articles": len(index.docs), "terms": len(index.postings)},
        "api": api_s, "selector": stats(ask_all), "ranking": stats(rank_all), "analyse": stats(analyse_all),
        "raw": stats(raw_all), "queries": len(statements),
        "raw_sql": [{"sql": s, "params": [str(p) for p in p_]} for s, p_ in statements],
        "api_matches_ranking": same, "answer_articles": len(body["articles"]),
        "rate_limit": "each call from its own address (REMOTE_ADDR): the per-address limit's upsert runs, none refused",
    }
    log(f"  ask ({len(items)} questions × {rounds}): API p50 {api_s['p50']:.2f} p95 {api_s['p95']:.2f} "
        f"p99 {api_s['p99']:.2f} | selectors.ask p95 {result['selector']['p95']:.2f} | ranking alone p50 "
        f"{result['ranking']['p50']:.2f} p95 {result['ranking']['p95']:.2f} | its {len(statements)} statements raw "
        f"p95 {result['raw']['p95']:.2f} | API = ranking for {same}/{len(items)}")
    return result


# --- 3. Quality ------------------------------------------------------------------------------------


def measure_quality() -> dict:
    from gonghui.legal import evaluation

    out = {}
    for subset in ("dev", "test", None):
        items = evaluation.questions(subset)
        t0 = time.perf_counter()
        ours = evaluation.score(items, evaluation.ours)
        ours_s = time.perf_counter() - t0
        base = evaluation.score(items, evaluation.baseline)
        key = subset or "all"
        out[key] = {
            "n": ours.n,
            "ours": {"recall_at_5": round(ours.recall_at_5, 3), "mrr": round(ours.mrr, 3), "misses": ours.misses},
            "bm25": {"recall_at_5": round(base.recall_at_5, 3), "mrr": round(base.mrr, 3), "misses": base.misses},
            "seconds_ours": round(ours_s, 2),
        }
        log(f"  quality {key:<4} (n {ours.n:>3}): recall@5 {ours.recall_at_5:.3f} vs BM25 {base.recall_at_5:.3f}; "
            f"MRR {ours.mrr:.3f} vs BM25 {base.mrr:.3f}; nothing in the top 20: {len(ours.misses)} vs "
            f"{len(base.misses)}")
    return out


# --- 4. Letters ------------------------------------------------------------------------------------


def letter_document():
    from gonghui.legal.documents import CitedArticle, LetterDocument
    from gonghui.legal.models import Article

    cited = []
    for slug, number in LETTER_ARTICLES:
        a = Article.objects.select_related("law").get(law__slug=slug, number=number)
        cited.append(CitedArticle(law_title=a.law.title, label=a.label, text=a.text))
    return LetterDocument(
        issuer="深圳市南山区总工会",
        kind_title="劳动法律监督意见书",
        serial_label="深南工监意〔2026〕第3号",
        recipient="深圳市南头精密制造有限公司",
        paragraphs=[
            "2026年10月，本会接到你单位职工反映，你单位冲压车间、装配车间部分职工自入职以来未与单位订立书面劳动合同，"
            "且2026年8月、9月工资至今未足额发放。",
            "本会于2026年10月21日会同南头街道总工会到你单位进行了调查，查阅了2026年1月至9月的职工花名册、考勤记录和工资发放"
            "记录，并与人事部门负责人及职工代表进行了座谈。经查，你单位现有在岗职工312人，其中47人入职已超过一个月仍未订立书面"
            "劳动合同；2026年8月、9月应发工资合计约186万元，实发约102万元，拖欠约84万元，涉及职工208人。",
            "上述行为违反了《中华人民共和国劳动合同法》第十条、第三十条的规定。依照《中华人民共和国工会法》和《中华人民共和国"
            "劳动合同法》的有关规定，本会对你单位提出如下监督意见：",
        ],
        demands=[
            "自收到本意见书之日起一个月内，与尚未订立书面劳动合同的47名职工依法订立书面劳动合同，并依照《中华人民共和国劳动合同法》"
            "第八十二条的规定，向自用工之日起超过一个月不满一年未订立书面劳动合同的职工每月支付二倍的工资；",
            "自收到本意见书之日起十五日内，足额支付拖欠的2026年8月、9月工资，并将工资支付明细向职工公示；",
            "建立健全劳动合同管理和工资支付制度，按月以货币形式足额支付劳动报酬，不得无故拖欠或者克扣；",
            "依法建立工会组织，支持职工通过工会依法维护合法权益。",
        ],
        articles=cited,
        reply_clause="请于收到本意见书之日起15个工作日内将整改情况书面回复本会。逾期不整改的，本会将提请劳动行政部门依法处理。",
        issued_on=datetime.date(2026, 10, 28),
        contact="联系人：李明　联系电话：0755-26660000",
        cc="抄送：深圳市南山区人力资源局，南头街道总工会",
    )


def pdf_pages(data: bytes) -> int | None:
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo:
        with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
            fh.write(data)
            fh.flush()
            out = subprocess.run([pdfinfo, fh.name], capture_output=True, text=True, check=False).stdout
        found = re.search(r"^Pages:\s+(\d+)", out, re.M)
        if found:
            return int(found.group(1))
    count = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    return count or None


def measure_pdf(args) -> dict:
    from gonghui.legal import documents

    letter = letter_document()
    out: dict = {"letter": {"kind": letter.kind_title, "paragraphs": len(letter.paragraphs),
                            "demands": len(letter.demands), "articles": [f"{a.law_title}{a.label}" for a in
                                                                         letter.articles],
                            "article_chars": sum(len(a.text) for a in letter.articles)}}
    for name, render, magic in (("pdf", documents.render_pdf, b"%PDF"), ("docx", documents.render_docx, b"PK")):
        try:
            t0 = time.perf_counter()
            data = render(letter)
            first = round(ms(t0), 1)
        except NotImplementedError:
            out[name] = {"error": f"documents.render_{name} raises NotImplementedError: re-run `--only legal` "
                                  "once it is written"}
            log(f"  {name}: not implemented yet (NotImplementedError); re-run when it is")
            continue
        samples = []
        for _ in range(args.pdf_renders):
            t0 = time.perf_counter()
            again = render(letter)
            samples.append(ms(t0))
        result = {"first_ms": first, "warm": stats(samples), "bytes": len(data), "valid": data[:4].startswith(magic),
                  "stable_size": len(again) == len(data)}
        if name == "pdf":
            result["pages"] = pdf_pages(data)
        out[name] = result
        log(f"  {name}: first {first:,.0f} ms, warm p50 {result['warm']['p50']:.1f} p95 {result['warm']['p95']:.1f} ms "
            f"({args.pdf_renders} renders); {len(data):,} bytes"
            + (f", {result['pages']} pages" if name == "pdf" else ""))
    return out


# --- The run ---------------------------------------------------------------------------------------


def main(args, started) -> dict:
    skip = {s.strip() for s in args.legal_skip.split(",") if s.strip()}
    library = prepare_laws()
    raw = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, prepare_threshold=None)
    raw.execute("ANALYZE legal_article")
    raw.execute("ANALYZE legal_law")
    connection.close()  # the next request opens a fresh, persistent connection
    client = Client()
    result: dict = {
        "benchmark": "legal",
        "command": "make bench" + (f' BENCH_ARGS="{" ".join(sys.argv[1:])}"' if sys.argv[1:] else ""),
        "started_at": started.isoformat(timespec="seconds"),
        "targets": TARGETS,
        "library": library,
        "load_average_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    if "search" not in skip:
        log("bench: law search through the API, beside its statements raw")
        result["search"] = measure_search(args, raw, client)
    if "ask" not in skip:
        log("bench: asking a question through the API, beside the ranking alone and its statements raw")
        result["ask"] = measure_ask(args, raw, client)
    if "quality" not in skip:
        log("bench: ranking quality on data/legal/ask_eval.json, ours beside BM25")
        result["quality"] = measure_quality()
    if "pdf" not in skip:
        log("bench: rendering a 劳动法律监督意见书 (PDF, DOCX)")
        result["pdf"] = measure_pdf(args)
    finished = datetime.datetime.now(datetime.UTC)
    result["finished_at"] = finished.strftime("%Y-%m-%d %H:%M")
    result["file"] = f"legal-{finished.strftime('%Y%m%dT%H%M%SZ')}.json"
    result["load_average_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    with connection.cursor() as cursor:
        result["machine"] = report.machine(cursor)
        cursor.execute("SELECT pg_table_size('legal_article'), pg_indexes_size('legal_article'), "
                       "pg_relation_size('legal_article_search')")
        table_bytes, index_bytes, gin_bytes = cursor.fetchone()
    result["data"] = {**library, "article_table_kb": table_bytes // 1024, "article_indexes_kb": index_bytes // 1024,
                      "search_index_kb": gin_bytes // 1024}
    raw.close()
    return result
