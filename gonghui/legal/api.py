"""Legal-affairs cloud API (法务云): the law library and asking a legal question. Public: the law is
for everyone, no login needed. Asking is rate limited per address (the ranking is CPU work)."""

from __future__ import annotations

import datetime

from ninja import Field, Query, Router, Schema

from gonghui.accounts.api import ErrorOut
from gonghui.core import ratelimit
from gonghui.core.context import client_ip

from . import selectors
from .models import Article, Law

router = Router(tags=["法务云：法规库与法律咨询"])
ERRORS = {400: ErrorOut, 404: ErrorOut, 429: ErrorOut}


# A matched guide preselects the case desk's category and the legal-aid dispute type on the forms the
# answer's buttons open (the worker can still change them).
GUIDE_CATEGORIES: dict[str, tuple[str, str]] = {
    "unpaid-wages": ("wage_arrears", "wages"), "migrant-wages": ("wage_arrears", "wages"),
    "overtime": ("overtime_pay", "wages"), "minimum-wage": ("minimum_wage", "wages"),
    "no-written-contract": ("no_contract", "contract"), "probation": ("probation", "contract"),
    "labour-dispatch": ("dispatch", "contract"), "deposit-and-id": ("other_matter", "contract"),
    "dismissal": ("dismissal", "dismissal"), "layoffs": ("layoff", "dismissal"),
    "resignation": ("severance", "dismissal"), "social-insurance": ("no_insurance", "social_insurance"),
    "work-injury": ("injury_recognition", "injury"), "occupational-safety": ("hazard", "injury"),
    "maternity": ("maternity", "women"), "annual-leave": ("leave", "hours"),
    "platform-workers": ("platform_pay", "platform"), "discrimination": ("other_matter", "other"),
    "union-membership": ("join", ""),
}


def article_url(law_slug: str, label: str) -> str:
    return f"/laws/{law_slug}/{label}/"


class LawOut(Schema):
    slug: str
    title: str
    short_title: str
    kind: str
    kind_label: str
    revised: datetime.date | None
    article_count: int


def _law_out(law: Law) -> dict:
    return {"slug": law.slug, "title": law.title, "short_title": law.short_title, "kind": law.kind,
            "kind_label": law.get_kind_display(), "revised": law.revised, "article_count": law.article_count}


class DivisionOut(Schema):
    level: str
    label: str
    title: str
    first_article: int | None
    last_article: int | None


class ArticleBrief(Schema):
    number: int
    label: str
    summary: str
    url: str


class LawDetailOut(LawOut):
    history: list[str]
    divisions: list[DivisionOut]
    articles: list[ArticleBrief]
    appendix: str


class ItemOut(Schema):
    label: str
    text: str


class ParagraphOut(Schema):
    text: str
    items: list[ItemOut]


class ArticleLink(Schema):
    law: str
    number: int
    title: str = Field(description="法规简称与条号，如 劳动合同法第八十二条")
    url: str


class ArticleOut(Schema):
    law: LawOut
    number: int
    label: str
    division: str = Field(description="所在章节，如 第七章 法律责任")
    paragraphs: list[ParagraphOut]
    text: str
    summary: str = Field(description="白话要点")
    cites: list[ArticleLink]
    cited_by: list[ArticleLink]
    url: str
    previous: int | None
    next: int | None


class SearchHitOut(Schema):
    law: str
    law_title: str
    article: int
    label: str
    snippet: str = Field(description="条文片段（HTML，已转义，命中词以 <mark> 标出）")
    score: float
    url: str


class SearchOut(Schema):
    q: str
    total: int
    matched_all: bool = Field(description="是否每个检索词都命中；都不命中时按任一词命中返回")
    results: list[SearchHitOut]


class AskIn(Schema):
    question: str = Field(description="用日常语言描述的问题，2–500 字")


class AskArticleOut(Schema):
    law: str
    law_title: str
    article: int
    label: str
    text: str
    reason: str = Field(description="一句白话：这一条为什么和您的问题有关")
    url: str


class CitationOut(Schema):
    law: str
    law_title: str
    article: int
    label: str
    reason: str
    url: str


class GuideOut(Schema):
    key: str
    title: str
    summary: str
    steps: list[str]
    time_limits: list[str]
    where_to_go: list[str]
    evidence: list[str]
    citations: list[CitationOut]


class CorrectionOut(Schema):
    typed: str
    meant: str


class AskOut(Schema):
    question: str
    articles: list[AskArticleOut]
    guide: GuideOut | None
    corrections: list[CorrectionOut] = Field(description="按读音纠正的错别字，如 工姿 → 工资")
    file_case_url: str = Field(description="带上问题去提交维权诉求")
    legal_aid_url: str = Field(description="带上问题去申请法律援助")


@router.get("/laws", auth=None, response={200: list[LawOut], **ERRORS}, summary="法规库：全部法律法规")
def laws(request):
    return [_law_out(law) for law in selectors.law_list()]


@router.get("/laws/search", auth=None, response={200: SearchOut, **ERRORS}, summary="全文检索条文（中文分词，按相关度排序）")
def laws_search(request, q: str = "", law: str = "", limit: int = Query(20, ge=1, le=50)):
    hits, total, matched_all = selectors.search_articles(q, law=law or None, limit=limit)
    return {"q": q.strip(), "total": total, "matched_all": matched_all,
            "results": [{"law": h.law_slug, "law_title": h.law_short, "article": h.number, "label": h.label,
                         "snippet": h.snippet, "score": h.score, "url": article_url(h.law_slug, h.label)} for h in hits]}


@router.get("/laws/{law}", auth=None, response={200: LawDetailOut, **ERRORS}, summary="一部法规的目录与条文要点")
def law_detail(request, law: str):
    obj = selectors.law_get(law)
    articles = list(Article.objects.filter(law=obj).only("number", "label", "summary", "division_id").order_by("number"))
    spans: dict[int, list[int]] = {}
    for a in articles:
        if a.division_id:
            spans.setdefault(a.division_id, []).append(a.number)
    rows = list(obj.divisions.order_by("order"))
    divisions = []
    for d in rows:  # a chapter made of sections holds its sections' articles
        nums = spans.get(d.pk) or [n for c in rows if c.parent_id == d.pk for n in spans.get(c.pk, [])]
        divisions.append({"level": d.level, "label": d.label, "title": d.title,
                          "first_article": min(nums) if nums else None, "last_article": max(nums) if nums else None})
    return {**_law_out(obj), "history": obj.history, "divisions": divisions, "appendix": obj.appendix,
            "articles": [{"number": a.number, "label": a.label, "summary": a.summary,
                          "url": article_url(obj.slug, a.label)} for a in articles]}


def _link(article: Article) -> dict:
    return {"law": article.law.slug, "number": article.number, "title": f"{article.law.short_title}{article.label}",
            "url": article_url(article.law.slug, article.label)}


@router.get("/laws/{law}/articles/{article}", auth=None, response={200: ArticleOut, **ERRORS},
            summary="一条条文（条号可写作 第八十二条 或 82）")
def article_detail(request, law: str, article: str):
    a = selectors.article_get(law, article)
    previous, following = selectors.article_neighbours(a)
    division = a.division
    chain = []
    while division is not None:
        chain.insert(0, f"{division.label} {division.title}".strip())
        division = division.parent
    cites = list({r.target_id: _link(r.target) for r in a.references.all()}.values())
    cited_by = list({r.source_id: _link(r.source) for r in a.cited_by.all()}.values())
    return {"law": _law_out(a.law), "number": a.number, "label": a.label, "division": " ".join(chain),
            "paragraphs": a.paragraphs, "text": a.text, "summary": a.summary, "cites": cites, "cited_by": cited_by,
            "url": article_url(a.law.slug, a.label), "previous": previous.number if previous else None,
            "next": following.number if following else None}


def ask_payload(answer: selectors.Answer) -> dict:
    from urllib.parse import urlencode

    guide = None
    if answer.guide:
        g = answer.guide
        guide = {"key": g.key, "title": g.title, "summary": g.summary, "steps": list(g.steps),
                 "time_limits": list(g.time_limits), "where_to_go": list(g.where_to_go), "evidence": list(g.evidence),
                 "citations": [{"law": c.law, "law_title": doc.law_short, "article": c.article, "label": doc.label,
                                "reason": c.reason, "url": article_url(c.law, doc.label)}
                               for c, doc in answer.guide_articles if doc is not None]}
    carried = urlencode({"question": answer.question})
    to_case, to_aid = carried, carried
    if answer.guide and answer.guide.key in GUIDE_CATEGORIES:
        case_category, aid_category = GUIDE_CATEGORIES[answer.guide.key]
        to_case = urlencode({"question": answer.question, "category": case_category})
        if aid_category:
            to_aid = urlencode({"question": answer.question, "category": aid_category})
    return {"question": answer.question, "guide": guide,
            "articles": [{"law": r.doc.law_slug, "law_title": r.doc.law_short, "article": r.doc.number,
                          "label": r.doc.label, "text": r.doc.text, "reason": r.reason,
                          "url": article_url(r.doc.law_slug, r.doc.label)} for r in answer.articles],
            "corrections": [{"typed": t, "meant": m} for t, m in answer.corrections],
            "file_case_url": f"/cases/new/?{to_case}", "legal_aid_url": f"/legal/aid/new/?{to_aid}"}


@router.post("/legal/ask", auth=None, response={200: AskOut, **ERRORS},
             summary="法律咨询：用日常语言提问，返回相关条文（附白话理由）和办事指引")
def legal_ask(request, payload: AskIn):
    ratelimit.check("legal_ask_ip_min", client_ip(request), "提问太频繁，请稍后再试")
    return ask_payload(selectors.ask(payload.question))
