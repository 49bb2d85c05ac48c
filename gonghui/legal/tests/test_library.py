"""Loading the law library: counts, summaries, citations, reloads that keep article ids, and
broken files that leave the library as it was."""

from __future__ import annotations

import shutil

import pytest
from django.core.management import CommandError, call_command

from gonghui.legal import library
from gonghui.legal.models import Article, ArticleReference, Law, LawDivision

pytestmark = pytest.mark.django_db


def test_the_session_loaded_the_whole_library_with_summaries():
    assert Law.objects.count() == 15
    assert Article.objects.count() == 852
    law = Law.objects.get(slug="labour-contract-law")
    assert (law.title, law.short_title, law.kind, str(law.revised), law.article_count) == (
        "中华人民共和国劳动合同法", "劳动合同法", "law", "2012-12-28", 98)
    assert law.history[0].startswith("2007年6月29日")
    a82 = Article.objects.get(law=law, number=82)
    assert a82.label == "第八十二条" and a82.division.title == "法律责任"
    assert "双倍工资" in a82.summary and "二倍" in a82.search_text
    assert not Article.objects.filter(summary="").exists()  # every article has its plain-language line


def test_citations_link_within_a_law_and_across_laws():
    a39_refs = ArticleReference.objects.filter(source__law__slug="labour-contract-law", source__number=39)
    assert [(r.target.law.slug, r.target.number) for r in a39_refs] == [("labour-contract-law", 26)]
    reg6 = ArticleReference.objects.filter(source__law__slug="labour-contract-regulations", source__number=6)
    assert ("labour-contract-law", 82) in {(r.target.law.slug, r.target.number) for r in reg6}
    text = reg6.first().source.text
    assert all(text[r.start:r.end].startswith("第") and text[r.start:r.end].endswith("条") for r in reg6)


def test_a_reload_keeps_article_ids_and_does_not_duplicate_anything():
    before = dict(Article.objects.values_list("id", "label"))
    refs = ArticleReference.objects.count()
    call_command("load_laws", verbosity=0)
    assert dict(Article.objects.values_list("id", "label")) == before
    assert ArticleReference.objects.count() == refs
    assert LawDivision.objects.filter(law__slug="labour-contract-law", level="section").count() == 3


def test_adding_a_law_is_dropping_a_file_in(tmp_path, settings, monkeypatch):
    folder = tmp_path / "laws"
    folder.mkdir()
    (folder / "某市集体合同规定.md").write_text(
        "# 某市集体合同规定\n\n2026年1月1日 市人民政府公布\n\n<!-- INFO END -->\n\n## 第一章 总则\n\n"
        "第一条 为了规范集体协商，制定本规定。\n\n第二条 职工一方由工会代表。\n\n## 第二章 附则\n\n"
        "第三条 依照本规定第二条和《中华人民共和国劳动合同法》第五十一条执行。\n", encoding="utf-8")
    monkeypatch.setattr(library, "LAWS_DIR", folder)
    call_command("load_laws", verbosity=0)
    law = Law.objects.get(title="某市集体合同规定")
    assert (law.slug, law.kind, str(law.revised), law.article_count) == ("moushijitihetongguiding", "rule", "2026-01-01", 3)
    a3 = Article.objects.get(law=law, number=3)
    assert {(r.target.law.slug, r.target.number) for r in a3.references.all()} == {
        ("moushijitihetongguiding", 2), ("labour-contract-law", 51)}
    assert Law.objects.count() == 16  # the others stay


def test_a_broken_file_writes_nothing_and_says_what_is_wrong(tmp_path, monkeypatch):
    folder = tmp_path / "laws"
    shutil.copytree(library.LAWS_DIR, folder)
    path = folder / "中华人民共和国劳动合同法.md"
    path.write_text(path.read_text(encoding="utf-8").replace("第八十二条 ", "第八十三条 ", 1), encoding="utf-8")
    monkeypatch.setattr(library, "LAWS_DIR", folder)
    before = Law.objects.get(slug="labour-law").loaded_at
    with pytest.raises(CommandError) as info:
        call_command("load_laws", verbosity=0)
    assert "中华人民共和国劳动合同法.md" in str(info.value) and "第八十一条之后应为第八十二条" in str(info.value)
    assert Law.objects.get(slug="labour-law").loaded_at == before  # the files before it were not written either


def test_a_count_other_than_the_official_one_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "laws"
    shutil.copytree(library.LAWS_DIR, folder)
    path = folder / "职工带薪年休假条例.md"
    text = path.read_text(encoding="utf-8").rstrip("\n")
    path.write_text(text + "\n\n第十一条 多出来的一条。\n", encoding="utf-8")
    monkeypatch.setattr(library, "LAWS_DIR", folder)
    with pytest.raises(CommandError) as info:
        call_command("load_laws", verbosity=0)
    assert "应有10条，解析出11条" in str(info.value)
    assert Article.objects.filter(law__slug="annual-leave-regulations").count() == 10


def test_a_missing_file_is_named():
    with pytest.raises(CommandError) as info:
        call_command("load_laws", "/nonexistent/某法.md", verbosity=0)
    assert "文件不存在" in str(info.value)
