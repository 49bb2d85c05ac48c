"""The law library API and pages, search on PostgreSQL's full text, asking a question, and the
inputs that must get a clear Chinese error."""

from __future__ import annotations

import pytest
from django.db import connection

from gonghui.legal import evaluation, ranking, textindex
from gonghui.legal.models import Article
from gonghui.legal.selectors import _query_groups
from gonghui.testing.fixtures import api_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    """Anonymous: the law library and the questions need no login."""
    return api_as(None)


def test_laws_list_and_one_law(api):
    laws = api.get("/api/v1/laws").json()
    assert len(laws) == 15 and laws[0]["slug"] == "labour-law" and laws[0]["kind_label"] == "法律"
    detail = api.get("/api/v1/laws/劳动合同法").json()
    assert detail["slug"] == "labour-contract-law" and len(detail["articles"]) == 98
    chapter7 = next(d for d in detail["divisions"] if d["label"] == "第七章")
    assert (chapter7["title"], chapter7["first_article"], chapter7["last_article"]) == ("法律责任", 80, 95)
    fifth = next(d for d in detail["divisions"] if d["label"] == "第五章")  # its articles sit in its sections
    assert (fifth["first_article"], fifth["last_article"]) == (51, 72)


@pytest.mark.parametrize("ref", ["第八十二条", "82", "八十二", "第82条"])
def test_an_article_by_any_way_of_writing_its_number(api, ref):
    body = api.get(f"/api/v1/laws/labour-contract-law/articles/{ref}").json()
    assert body["label"] == "第八十二条" and body["division"] == "第七章 法律责任"
    assert body["url"] == "/laws/labour-contract-law/第八十二条/"
    assert (body["previous"], body["next"]) == (81, 83)
    assert {c["title"] for c in body["cited_by"]} >= {"劳动合同法实施条例第六条", "劳动合同法实施条例第七条"}


def test_an_article_cites_others(api):
    body = api.get("/api/v1/laws/labour-contract-law/articles/46").json()
    assert {c["number"] for c in body["cites"]} >= {36, 38, 40, 41, 44}


@pytest.mark.parametrize(("url", "status", "code"), [
    ("/api/v1/laws/no-such-law", 404, "not_found"),
    ("/api/v1/laws/labour-contract-law/articles/第九百条", 404, "not_found"),
    ("/api/v1/laws/labour-contract-law/articles/0", 400, "article_invalid"),
    ("/api/v1/laws/labour-contract-law/articles/abc", 400, "article_invalid"),
    ("/api/v1/laws/labour-contract-law/articles/1%20OR%201=1", 400, "article_invalid"),
    ("/api/v1/laws/search?q=", 400, "query_empty"),
    ("/api/v1/laws/search?q=%E3%80%82%EF%BC%81", 400, "query_no_words"),
    ("/api/v1/laws/search?q=" + "工资" * 60, 400, "query_too_long"),
    ("/api/v1/laws/search?q=工资&law=nope", 404, "not_found"),
])
def test_bad_requests_get_a_chinese_message(api, url, status, code):
    response = api.get(url)
    assert response.status_code == status
    assert response.json()["code"] == code and any("\u4e00" <= ch <= "\u9fff" for ch in response.json()["message"])


def test_search_uses_postgres_full_text_and_ranks_and_highlights(api):
    assert connection.vendor == "postgresql"
    body = api.get("/api/v1/laws/search", q="试用期 工资").json()
    assert body["matched_all"] and body["total"] >= 1
    top = body["results"][0]
    assert "<mark>" in top["snippet"]
    groups = [[w for term in g for w in textindex.tokens(term)] for g in _query_groups("试用期 工资")]
    assert any("劳动报酬" in g for g in groups)  # the law's own word for wages comes along
    for hit in body["results"]:  # every hit has every word of the query, or the law's word for it
        article = Article.objects.get(law__slug=hit["law"], number=hit["article"])
        words = set(article.search_text.split() + article.search_head.split())
        assert all(words & set(g) for g in groups)
    scores = [h["score"] for h in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_search_filters_by_law_and_falls_back_to_any_word(api):
    only = api.get("/api/v1/laws/search", q="工伤", law="social-insurance-law").json()
    assert only["total"] > 0 and {h["law"] for h in only["results"]} == {"social-insurance-law"}
    loose = api.get("/api/v1/laws/search", q="工伤 独角兽").json()
    assert not loose["matched_all"] and loose["total"] > 0


def test_search_finds_the_laws_own_words_for_a_colloquial_one(api):
    body = api.get("/api/v1/laws/search", q="炒鱿鱼").json()
    assert body["total"] > 0


def test_search_text_is_never_sql(api):
    body = api.get("/api/v1/laws/search", q="工资'); DROP TABLE legal_article; --").json()
    assert body["total"] >= 0
    assert Article.objects.count() == 852


def test_snippets_escape_html():
    from gonghui.legal.selectors import highlight

    out = highlight("工资<script>alert(1)</script>应当按月支付", ["工资"])
    assert out.startswith("<mark>工资</mark>&lt;script&gt;")


def test_ask_returns_articles_with_reasons_a_guide_and_the_next_steps(api):
    response = api.post("/api/v1/legal/ask", {"question": "公司三个月没发工资了怎么办"})
    assert response.status_code == 200
    body = response.json()
    assert 1 <= len(body["articles"]) <= 20 and all(a["reason"] for a in body["articles"])
    top5 = {(a["law"], a["article"]) for a in body["articles"][:5]}
    assert top5 & {("labour-contract-law", 30), ("labour-law", 50), ("labour-contract-law", 85)}
    assert body["guide"] is not None and body["guide"]["steps"] and body["guide"]["citations"]
    assert body["file_case_url"].startswith("/cases/new/?question=")
    assert body["legal_aid_url"].startswith("/legal/aid/new/?question=")


def test_ask_corrects_homophone_typos(api):
    body = api.post("/api/v1/legal/ask", {"question": "老板跑陆了，欠的工姿找谁要"}).json()
    assert {"typed": "工姿", "meant": "工资"} in body["corrections"]


def test_a_corrected_typo_is_read_in_place_and_finds_the_guide():
    """Cut as typed, "没发工姿了" is 没发 / 工姿: only the sentence with the fix in place has 发工资."""
    typed = ranking.analyse("公司三个月没发工姿了怎么办")
    right = ranking.analyse("公司三个月没发工资了怎么办")
    assert typed.guide is not None and typed.guide.key == right.guide.key == "unpaid-wages"
    top = [f"{r.doc.law_slug}/{r.doc.number}" for r in ranking.rank("公司三个月没发工姿了怎么办")[:3]]
    assert "labour-contract-law/30" in top


@pytest.mark.parametrize(("question", "code"), [
    ("", "question_empty"),
    ("   ", "question_empty"),
    ("My boss did not pay me", "question_not_chinese"),
    ("😀😡💰", "question_not_chinese"),
    ("工资" * 5001, "question_too_long"),
])
def test_ask_bad_questions(api, question, code):
    response = api.post("/api/v1/legal/ask", {"question": question})
    assert response.status_code == 400 and response.json()["code"] == code


def test_ask_an_injection_attempt_is_just_text(api):
    response = api.post("/api/v1/legal/ask", {"question": "工资'; DELETE FROM legal_article; -- <script>alert(1)</script>"})
    assert response.status_code == 200 and Article.objects.count() == 852


def test_ask_a_question_that_is_not_a_string(api):
    response = api.post("/api/v1/legal/ask", {"question": {"a": 1}})
    assert response.status_code in (400, 422) and "问题" in response.json()["message"]


def test_ask_is_rate_limited_per_address(api, settings):
    settings.GONGHUI_RATE_LIMITS = {**settings.GONGHUI_RATE_LIMITS, "legal_ask_ip_min": (2, 60)}
    codes = [api.post("/api/v1/legal/ask", {"question": "加班费怎么算"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_ranking_beats_plain_bm25_on_the_fixed_test_subset():
    """The 20 questions marked "test" in data/legal/ask_eval.json (the rest tune the ranking)."""
    items = evaluation.questions("test")
    assert len(items) == 20
    ours = evaluation.score(items, evaluation.ours)
    base = evaluation.score(items, evaluation.baseline)
    assert ours.recall_at_5 >= base.recall_at_5 + 0.15, (ours, base)
    assert ours.mrr >= base.mrr + 0.15, (ours, base)
    assert ours.recall_at_5 >= 0.5 and ours.mrr >= 0.6


def test_the_index_follows_a_reload():
    first = ranking.library_index()
    from django.core.management import call_command

    call_command("load_laws", verbosity=0)
    assert ranking.library_index() is not first


def test_a_guide_preselects_real_categories_on_the_forms_its_buttons_open(api):
    from gonghui.casedesk.models import CaseCategory
    from gonghui.legal.api import GUIDE_CATEGORIES
    from gonghui.legal.models import Expertise
    from gonghui.legal.textindex import guides

    assert set(GUIDE_CATEGORIES) <= {g.key for g in guides()}
    codes = set(CaseCategory.objects.filter(is_active=True, parent__isnull=False).values_list("code", flat=True))
    for case_category, aid_category in GUIDE_CATEGORIES.values():
        assert case_category in codes and (aid_category == "" or aid_category in Expertise.values)
    body = api.post("/api/v1/legal/ask", {"question": "公司三个月没发工资了怎么办"}).json()
    assert body["file_case_url"].endswith("category=wage_arrears")
    assert body["legal_aid_url"].endswith("category=wages")
