"""The legal-affairs cloud on the worker's phone (法务云): ask a question in everyday words, read the
law, search it. Public pages: the law needs no login (filing a case or applying for legal aid does,
and the question is carried there)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from gonghui.core import ratelimit
from gonghui.core.context import client_ip
from gonghui.core.errors import NotFound, ServiceError
from gonghui.legal import selectors
from gonghui.legal.api import ask_payload
from gonghui.legal.models import Article, LawKind


@require_http_methods(["GET", "POST"])
def ask(request: HttpRequest) -> HttpResponse:
    """GET: the question box (and the common problems); POST: the answer. POST keeps what a worker
    typed about their situation out of addresses and server logs."""
    context: dict = {"question": "", "guides": _common_guides()}
    if request.method == "POST":
        question = request.POST.get("question", "")
        context["question"] = question[: selectors.QUESTION_MAX * 2]
        try:
            ratelimit.check("legal_ask_ip_min", client_ip(request), "提问太频繁，请稍后再试")
            context["answer"] = ask_payload(selectors.ask(question))
        except ServiceError as error:
            context["error"] = error.message
            return render(request, "portal/legal/ask.html", context, status=error.status)
    return render(request, "portal/legal/ask.html", context)


def _common_guides():
    from gonghui.legal.textindex import guides

    return [{"key": g.key, "title": g.title} for g in guides()]


@require_GET
def guide(request: HttpRequest, key: str) -> HttpResponse:
    from gonghui.legal.ranking import library_index
    from gonghui.legal.textindex import guide_by_key

    found = guide_by_key(key)
    if found is None:
        raise Http404("没有这份指引")
    index = library_index()
    citations = [(c, index.by_key.get((c.law, c.article))) for c in found.citations]
    return render(request, "portal/legal/guide.html", {"guide": found, "citations": [(c, d) for c, d in citations if d]})


@require_GET
def library(request: HttpRequest) -> HttpResponse:
    laws = list(selectors.law_list())
    groups = [(label, [law for law in laws if law.kind == kind]) for kind, label in LawKind.choices]
    return render(request, "portal/legal/library.html", {"groups": [(label, items) for label, items in groups if items]})


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    q = (request.GET.get("q") or "")[:200]
    law = request.GET.get("law") or ""
    context: dict = {"q": q, "law": law, "laws": list(selectors.law_list())}
    if q.strip():
        try:
            hits, total, matched_all = selectors.search_articles(q, law=law or None, limit=50)
            context.update(hits=hits, total=total, matched_all=matched_all)
        except ServiceError as error:
            context["error"] = error.message
            return render(request, "portal/legal/search.html", context, status=error.status)
    return render(request, "portal/legal/search.html", context)


@require_GET
def law_detail(request: HttpRequest, law: str) -> HttpResponse:
    try:
        obj = selectors.law_get(law)
    except NotFound:
        raise Http404("没有这部法规") from None
    if law != obj.slug:
        return redirect("portal:law", law=obj.slug, permanent=True)
    articles = list(Article.objects.filter(law=obj).only("number", "label", "summary", "division_id").order_by("number"))
    by_division: dict[int | None, list[Article]] = {}
    for a in articles:
        by_division.setdefault(a.division_id, []).append(a)
    toc = []  # (division or None, its articles), in reading order
    if None in by_division:
        toc.append((None, by_division[None]))
    for d in obj.divisions.order_by("order"):
        toc.append((d, by_division.get(d.pk, [])))
    return render(request, "portal/legal/law.html", {"law": obj, "toc": toc})


@require_GET
def article(request: HttpRequest, law: str, article: str) -> HttpResponse:
    try:
        found = selectors.article_get(law, article)
    except ServiceError:
        raise Http404("没有这一条") from None
    if law != found.law.slug or article != found.label:  # one address per article: /laws/<slug>/第八十二条/
        return redirect("portal:article", law=found.law.slug, article=found.label, permanent=True)
    previous, following = selectors.article_neighbours(found)
    division, chain = found.division, []
    while division is not None:
        chain.insert(0, division)
        division = division.parent
    return render(request, "portal/legal/article.html", {
        "article": found, "law": found.law, "chain": chain, "segments": selectors.article_segments(found),
        "previous": previous, "next": following,
        "cited_by": list({r.source_id: r.source for r in found.cited_by.all()}.values()),
    })
