"""Reading the law library: laws, articles by permalink, full-text search, and answering a
worker's question. The law is public: none of these need a login or a scope."""

from __future__ import annotations

import dataclasses
import html
import re

from django.db import connection
from django.db.models import Prefetch, Q

from gonghui.core.errors import NotFound, ValidationFailed

from . import ranking, textindex
from .lawtext import parse_article_ref
from .models import Article, ArticleReference, Law

QUESTION_MAX = 500
QUERY_MAX = 100
SNIPPET_CHARS = 90


def law_list():
    return Law.objects.order_by("sort", "id")


def law_get(ref: str) -> Law:
    """A law by its slug, title or short title (劳动合同法)."""
    ref = (ref or "").strip()
    law = Law.objects.filter(Q(slug=ref.lower()) | Q(title=ref) | Q(short_title=ref)).first() if ref else None
    if law is None:
        raise NotFound("法律法规", "law")
    return law


def article_get(law_ref: str, article_ref: str) -> Article:
    """An article by law and number: 第八十二条, 八十二 or 82."""
    law = law_get(law_ref)
    number = parse_article_ref(article_ref)
    if number is None:
        raise ValidationFailed("article_invalid", "条文序号应写作“第八十二条”或“82”", "article")
    article = (Article.objects.filter(law=law, number=number).select_related("law", "division", "division__parent")
               .prefetch_related(Prefetch("references", queryset=ArticleReference.objects.select_related("target__law")),
                                 Prefetch("cited_by", queryset=ArticleReference.objects.select_related("source__law")))
               .first())
    if article is None:
        raise NotFound(f"{law.short_title}第{article_ref}条" if article_ref.isdigit() else f"{law.short_title}{article_ref}",
                       "article")
    return article


def article_neighbours(article: Article) -> tuple[Article | None, Article | None]:
    siblings = Article.objects.filter(law_id=article.law_id, number__in=[article.number - 1, article.number + 1]).only(
        "number", "label", "law_id")
    by_number = {a.number: a for a in siblings}
    return by_number.get(article.number - 1), by_number.get(article.number + 1)


def article_segments(article: Article) -> list[list[dict]]:
    """The article's paragraphs (款) and items (项) as runs of text and links, for the page: each
    "第X条" that cites an article in the library links to it. Offsets follow `Article.text`, which
    joins paragraphs and items with newlines in the same order."""
    refs = sorted(article.references.all(), key=lambda r: r.start)
    lines: list[tuple[str, str]] = []  # (kind, text) in the order Article.text has them
    for p in article.paragraphs:
        if p["text"]:
            lines.append(("paragraph", p["text"]))
        lines.extend(("item", i["label"] + i["text"]) for i in p["items"])
    out, offset = [], 0
    for kind, line in lines:
        runs, pos = [], 0
        for ref in refs:
            start, end = ref.start - offset, ref.end - offset
            if start < pos or end > len(line):
                continue
            if start > pos:
                runs.append({"text": line[pos:start]})
            runs.append({"text": line[start:end], "law": ref.target.law.slug, "number": ref.target.number,
                         "title": f"{ref.target.law.short_title}{ref.target.label}"})
            pos = end
        if pos < len(line):
            runs.append({"text": line[pos:]})
        out.append([{"kind": kind}, *runs])
        offset += len(line) + 1
    return out


# --- Search ---------------------------------------------------------------------------------------


@dataclasses.dataclass
class Hit:
    article: Article | ranking.Doc
    law_slug: str
    law_short: str
    number: int
    label: str
    snippet: str  # HTML: escaped text with <mark> around the words found
    score: float


def clean_query(q: str) -> str:
    q = textindex.normalize(q)
    if not q:
        raise ValidationFailed("query_empty", "请输入要检索的词语，例如“经济补偿”", "q")
    if len(q) > QUERY_MAX:
        raise ValidationFailed("query_too_long", f"检索词太长（最多{QUERY_MAX}字），请只输入关键词", "q")
    if not textindex.tokens(q):
        raise ValidationFailed("query_no_words", "检索词中没有可检索的文字，请输入中文关键词，例如“试用期”", "q")
    return q


def _query_groups(q: str) -> list[list[str]]:
    """Each word of the query with the law's own terms for it (欠薪 → 拖欠 劳动报酬): a group matches
    when any of its alternatives does."""
    groups = []
    for word in dict.fromkeys(textindex.tokens(q)):
        alternatives = [word]
        for term, legal in textindex.expansions(word):
            if legal and term != word and term not in alternatives:
                alternatives.append(term)
        groups.append(alternatives)
    return groups


def search_articles(q: str, *, law: str | None = None, limit: int = 20) -> tuple[list[Hit], int, bool]:
    """Articles matching every word of the query (any word when none match all), best first.
    Returns (hits, total, matched_all)."""
    q = clean_query(q)
    law_obj = law_get(law) if law else None
    groups = _query_groups(q)
    limit = max(1, min(int(limit or 20), 50))
    search = _search_pg if connection.vendor == "postgresql" else _search_memory  # SQLite: the demo
    hits, total = search(groups, law_obj, limit, require_all=True)
    matched_all = True
    if not total and len(groups) > 1:
        hits, total = search(groups, law_obj, limit, require_all=False)
        matched_all = False
    return hits, total, matched_all


def tsquery_sql(groups: list[list[str]], require_all: bool) -> tuple[str, list[str]]:
    """A tsquery built from parameters only (no user text in the SQL): each alternative a phrase of
    its words, alternatives OR'ed, groups AND'ed (or OR'ed)."""
    parts, params = [], []
    for alternatives in groups:
        alt_sql = []
        for term in alternatives:
            alt_sql.append("phraseto_tsquery('simple', %s)")
            params.append(" ".join(textindex.tokens(term)) or term)
        parts.append("(" + " || ".join(alt_sql) + ")")
    return (" && " if require_all else " || ").join(parts), params


def _search_pg(groups, law_obj, limit, *, require_all: bool) -> tuple[list[Hit], int]:
    query_sql, params = tsquery_sql(groups, require_all)
    where, where_params = "a.search_vector @@ q.query", []
    if law_obj is not None:
        where += " AND a.law_id = %s"
        where_params.append(law_obj.pk)
    sql = f"""
        WITH q AS (SELECT {query_sql} AS query)
        SELECT a.id, ts_rank_cd(a.search_vector, q.query, 32) AS rank, count(*) OVER () AS total
        FROM legal_article a, q WHERE {where}
        ORDER BY rank DESC, a.law_id, a.number LIMIT %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *where_params, limit])
        rows = cursor.fetchall()
    if not rows:
        return [], 0
    articles = Article.objects.select_related("law").in_bulk([r[0] for r in rows])
    words = [t for g in groups for t in g]
    hits = [Hit(article=articles[pk], law_slug=articles[pk].law.slug, law_short=articles[pk].law.short_title,
                number=articles[pk].number, label=articles[pk].label, snippet=highlight(articles[pk].text, words),
                score=round(float(rank), 4)) for pk, rank, _t in rows]
    return hits, rows[0][2]


def _search_memory(groups, law_obj, limit, *, require_all: bool) -> tuple[list[Hit], int]:
    """The same search for SQLite (the embedded demo), on the process's index."""
    index = ranking.library_index()
    word_groups = [[w for term in g for w in (textindex.tokens(term) or [term])] for g in groups]
    candidates = None
    for g in word_groups:
        docs = {d.pk for w in g for d in index.postings.get(w, ())}
        if require_all:
            candidates = docs if candidates is None else candidates & docs
        else:
            candidates = docs if candidates is None else candidates | docs
    candidates = candidates or set()
    scores = index.bm25f({w: 1.0 for g in word_groups for w in g}, law_id=law_obj.pk if law_obj else None)
    ordered = sorted((pk for pk in candidates if pk in scores), key=lambda pk: (-scores[pk], pk))
    by_pk = index.by_pk
    words = [t for g in groups for t in g]
    hits = [Hit(article=by_pk[pk], law_slug=by_pk[pk].law_slug, law_short=by_pk[pk].law_short, number=by_pk[pk].number,
                label=by_pk[pk].label, snippet=highlight(by_pk[pk].text, words), score=round(scores[pk], 4))
            for pk in ordered[:limit]]
    return hits, len(ordered)


def highlight(text: str, words: list[str], width: int = SNIPPET_CHARS) -> str:
    """The stretch of `text` with the most of the words, HTML-escaped, each found word in <mark>."""
    flat = text.replace("\n", " ")
    normalized = textindex.normalize(flat)
    folded = normalized if len(normalized) == len(flat) else flat.lower()  # offsets must match the text shown
    terms = sorted({w for w in words if w and len(w) <= 20}, key=len, reverse=True)
    spans: list[tuple[int, int]] = []
    if terms:
        pattern = re.compile("|".join(re.escape(t) for t in terms))
        for m in pattern.finditer(folded):
            spans.append((m.start(), m.end()))
    start = 0
    if spans and len(flat) > width:  # the window that covers the most matches
        best = max(range(len(spans)), key=lambda i: sum(1 for s, _e in spans if spans[i][0] <= s < spans[i][0] + width))
        start = max(0, min(spans[best][0] - 10, len(flat) - width))
    end = min(len(flat), start + width)
    out, pos = [], start
    for s, e in spans:
        if s < pos or e > end:
            continue
        out.append(html.escape(flat[pos:s]))
        out.append(f"<mark>{html.escape(flat[s:e])}</mark>")
        pos = e
    out.append(html.escape(flat[pos:end]))
    return ("…" if start > 0 else "") + "".join(out) + ("…" if end < len(flat) else "")


# --- Asking a question ----------------------------------------------------------------------------


def clean_question(question: str) -> str:
    text = (question or "").replace("\x00", "").strip()
    if not text:
        raise ValidationFailed("question_empty", "请先描述您遇到的问题，例如“公司三个月没发工资了怎么办”", "question")
    if len(text) > QUESTION_MAX:
        raise ValidationFailed("question_too_long",
                               f"问题太长了（{len(text)}字），请控制在{QUESTION_MAX}字以内，只写关键情况即可", "question")
    if len(textindex.CJK.findall(text)) < 2:
        raise ValidationFailed("question_not_chinese", "请用中文描述您遇到的问题（至少两个汉字），例如“加班没有加班费”",
                               "question")
    return text


@dataclasses.dataclass
class Answer:
    question: str
    articles: list[ranking.Ranked]
    guide: textindex.Guide | None
    guide_articles: list[tuple[textindex.Citation, ranking.Doc | None]]
    corrections: list[tuple[str, str]]


def ask(question: str, *, limit: int = 20) -> Answer:
    text = clean_question(question)
    index = ranking.library_index()
    analysis = ranking.analyse(text)
    ranked = ranking.rank(text, limit=limit, index=index, analysis=analysis)
    guide = analysis.guide
    cited = [(c, index.by_key.get((c.law, c.article))) for c in guide.citations] if guide else []
    return Answer(question=text, articles=ranked, guide=guide, guide_articles=cited, corrections=analysis.corrections)
