"""Ranking articles for a worker's question, in memory.

The library is small (~850 articles, ~0.3 MB of text), so each process keeps an index of it:
term frequencies of each article's text (`body`) and of its head (law title, chapter, plain-language
summary, the words workers use: `head`), rebuilt when a load changes the library. A question is
scored with BM25F over both fields, after three steps a plain keyword search lacks:

1. homophone typos are corrected by pinyin (工姿 → 工资);
2. colloquial words bring in the law's own terms from the team's lexicon (欠薪 → 拖欠 劳动报酬,
   开除 → 解除劳动合同, 五险一金 → 社会保险);
3. when the question matches one of the team's practical guides (its trigger phrases), the articles
   that guide cites are raised, in the guide's order, and give their one-line reasons.

`bm25_baseline` is the plain method the evaluation compares against: the question's words, BM25 on
the articles' text, nothing else."""

from __future__ import annotations

import collections
import dataclasses
import functools
import math
import re
import threading

from django.db.models import Count, Max

from . import textindex
from .models import Article, Law

# Weights tuned on the "dev" questions of data/legal/ask_eval.json only (a grid over these six; the
# optimum is flat around them); the "test" questions are kept out of tuning.
K1, B = 1.2, 0.75
HEAD_WEIGHT = 2.0  # a word in the summary or the workers' words counts as much as two in the text
SYNONYM_WEIGHT, LEGAL_TERM_WEIGHT, CORRECTION_WEIGHT = 0.2, 0.5, 0.9
GUIDE_BOOST, GUIDE_DECAY = 0.4, 0.06
MIN_GUIDE_SCORE = 2  # characters of trigger phrases matched before a guide is trusted


@dataclasses.dataclass
class Doc:
    pk: int
    law_id: int
    law_slug: str
    law_short: str
    number: int
    label: str
    text: str
    summary: str
    body: collections.Counter
    head: collections.Counter
    body_len: int
    head_len: int


@dataclasses.dataclass
class Analysis:
    question: str  # normalised
    terms: dict[str, float]  # word → weight
    corrections: list[tuple[str, str]]
    guide: textindex.Guide | None
    guide_score: float


@dataclasses.dataclass
class Ranked:
    doc: Doc
    score: float
    reason: str


class LibraryIndex:
    def __init__(self, docs: list[Doc]):
        self.docs = docs
        self.by_key = {(d.law_slug, d.number): d for d in docs}
        self.by_pk = {d.pk: d for d in docs}
        self.df: collections.Counter = collections.Counter()
        self.df_body: collections.Counter = collections.Counter()
        for d in docs:
            self.df.update(set(d.body) | set(d.head))
            self.df_body.update(set(d.body))
        n = max(len(docs), 1)
        self.n = n
        self.avg_body = sum(d.body_len for d in docs) / n or 1.0
        self.avg_head = sum(d.head_len for d in docs) / n or 1.0
        self.postings: dict[str, list[Doc]] = collections.defaultdict(list)
        for d in docs:
            for term in set(d.body) | set(d.head):
                self.postings[term].append(d)

    def idf(self, term: str, df: collections.Counter | None = None) -> float:
        df = self.df if df is None else df
        k = df.get(term, 0)
        return math.log(1 + (self.n - k + 0.5) / (k + 0.5))

    def bm25f(self, terms: dict[str, float], *, law_id: int | None = None, head: bool = True) -> dict[int, float]:
        """Score every article containing any of the terms: Σ weight × idf × tf~ / (k1 + tf~), where tf~
        mixes the two fields, each normalised by its length."""
        scores: dict[int, float] = collections.defaultdict(float)
        for term, weight in terms.items():
            docs = self.postings.get(term)
            if not docs:
                continue
            idf = self.idf(term, None if head else self.df_body)
            for d in docs:
                if law_id is not None and d.law_id != law_id:
                    continue
                tf = d.body.get(term, 0) / (1 - B + B * d.body_len / self.avg_body)
                if head:
                    tf += HEAD_WEIGHT * d.head.get(term, 0) / (1 - B + B * d.head_len / self.avg_head)
                if tf:
                    scores[d.pk] += weight * idf * tf / (K1 + tf)
        return scores


_lock = threading.Lock()
_cache: dict[str, object] = {}


def library_index() -> LibraryIndex:
    """The process's index, rebuilt when the library changed (one small query per call)."""
    stamp = Law.objects.aggregate(at=Max("loaded_at"), n=Count("id"))
    key = (stamp["at"], stamp["n"])
    with _lock:
        if _cache.get("key") != key:
            docs = []
            for a in Article.objects.select_related("law").only(
                    "pk", "number", "label", "text", "summary", "search_text", "search_head",
                    "law__id", "law__slug", "law__short_title").order_by("law__sort", "law_id", "number"):
                body = a.search_text.split()
                head = a.search_head.split()
                docs.append(Doc(pk=a.pk, law_id=a.law_id, law_slug=a.law.slug, law_short=a.law.short_title,
                                number=a.number, label=a.label, text=a.text, summary=a.summary,
                                body=collections.Counter(body), head=collections.Counter(head),
                                body_len=len(body), head_len=len(head)))
            _cache["index"], _cache["key"] = LibraryIndex(docs), key
        return _cache["index"]  # type: ignore[return-value]


def analyse(question: str) -> Analysis:
    text = textindex.normalize(question)
    fixes = textindex.corrections(text)
    # The question read again with each typo replaced: "没发工姿了" cut as written is 没发 / 工姿, and
    # only the corrected sentence has 发工资 (and the guide triggers that need the words side by side).
    fixed = text
    for typed, meant in fixes:
        fixed = fixed.replace(typed, meant)
    widened = " ".join([text, fixed, *(meant for _typed, meant in fixes)]) if fixes else text
    terms: dict[str, float] = {}
    for word in textindex.tokens(text):
        terms[word] = 1.0
    for word in [*textindex.tokens(fixed), *(w for _typed, meant in fixes for w in textindex.tokens(meant))]:
        terms.setdefault(word, CORRECTION_WEIGHT)
    for term, legal in textindex.expansions(widened):
        for word in textindex.tokens(term):
            weight = LEGAL_TERM_WEIGHT if legal else SYNONYM_WEIGHT
            if terms.get(word, 0) < weight:
                terms[word] = weight
    best, best_score = None, 0.0
    words = set(textindex.tokens(widened))
    for guide in textindex.guides():
        score = sum(_trigger_score(t, widened, words) for t in guide.triggers)
        if score > best_score:
            best, best_score = guide, score
    if best_score < MIN_GUIDE_SCORE:
        best = None
    return Analysis(question=text, terms=terms, corrections=fixes, guide=best, guide_score=best_score)


COUNTING = re.compile(r"^[0-9几一二两三四五六七八九十半多每]+[个天月年次周]?$")
TRIGGER_PART_SHARE = 0.75
TRIGGER_PART_WEIGHT = 0.8


@functools.lru_cache(maxsize=4096)
def _trigger_words(trigger: str) -> frozenset[str]:
    """A trigger's words that carry meaning: two characters or more, not a count (几个, 三个月)."""
    return frozenset(w for w in textindex.tokens(trigger) if len(w) > 1 and not COUNTING.match(w))


def _trigger_score(trigger: str, text: str, words: set[str]) -> float:
    """A trigger phrase found as it is counts its length; one whose words are (mostly) all there in
    another order or with other words between ("工资没发" in "三个月没发工资") counts a little less."""
    if not trigger:
        return 0.0
    if trigger in text:
        return float(len(trigger))
    parts = _trigger_words(trigger)
    if len(parts) < 2:
        return 0.0
    share = sum(1 for w in parts if w in words) / len(parts)
    return len(trigger) * share * TRIGGER_PART_WEIGHT if share >= TRIGGER_PART_SHARE else 0.0


def rank(question: str, *, limit: int = 20, index: LibraryIndex | None = None,
         analysis: Analysis | None = None) -> list[Ranked]:
    index = index or library_index()
    analysis = analysis or analyse(question)
    scores = index.bm25f(analysis.terms)
    top = max(scores.values(), default=0.0) or 1.0
    final = {pk: s / top for pk, s in scores.items()}
    reasons: dict[int, str] = {}
    if analysis.guide:
        for i, cite in enumerate(analysis.guide.citations):
            doc = index.by_key.get((cite.law, cite.article))
            if doc is None:
                continue
            final[doc.pk] = final.get(doc.pk, 0.0) + GUIDE_BOOST * max(0.0, 1 - GUIDE_DECAY * i)
            if cite.reason:
                reasons[doc.pk] = cite.reason
    by_pk = index.by_pk
    ordered = sorted(final.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [Ranked(doc=by_pk[pk], score=round(score, 4), reason=reasons.get(pk) or _reason(by_pk[pk]))
            for pk, score in ordered]


def _reason(doc: Doc) -> str:
    if doc.summary:
        return doc.summary
    first = doc.text.split("\n", 1)[0]
    return first if len(first) <= 40 else first[:39] + "…"


def bm25_baseline(question: str, *, limit: int = 20, index: LibraryIndex | None = None) -> list[Doc]:
    """Plain BM25: the question's words against the articles' text."""
    index = index or library_index()
    terms = dict.fromkeys(textindex.tokens(question), 1.0)
    scores = index.bm25f(terms, head=False)
    return [index.by_pk[pk] for pk, _s in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]
