"""The law parser on every shipped text, and on texts that are broken on purpose."""

from __future__ import annotations

from pathlib import Path

import pytest

from gonghui.legal.lawtext import (
    LawParseError,
    cn_to_int,
    find_references,
    int_to_cn,
    parse_article_ref,
    parse_law,
)

LAWS = Path(__file__).resolve().parents[3] / "data" / "laws"

# Article counts of the official texts (国家法律法规数据库), and where the text has them, chapters.
OFFICIAL = {
    "中华人民共和国劳动法.md": (107, 13),
    "中华人民共和国劳动合同法.md": (98, 8),
    "中华人民共和国劳动争议调解仲裁法.md": (54, 4),
    "中华人民共和国工会法.md": (58, 7),
    "中华人民共和国社会保险法.md": (98, 12),
    "中华人民共和国就业促进法.md": (69, 9),
    "中华人民共和国安全生产法.md": (119, 7),
    "中华人民共和国劳动合同法实施条例.md": (38, 6),
    "保障农民工工资支付条例.md": (64, 7),
    "工伤保险条例.md": (67, 8),
    "女职工劳动保护特别规定.md": (16, 0),
    "职工带薪年休假条例.md": (10, 0),
    "企业职工带薪年休假实施办法.md": (19, 0),
    "工资支付暂行规定.md": (20, 0),
    "最低工资规定.md": (15, 0),
}


def test_every_shipped_law_is_covered():
    assert sorted(p.name for p in LAWS.glob("*.md")) == sorted(OFFICIAL)


@pytest.mark.parametrize("name", sorted(OFFICIAL))
def test_article_and_chapter_counts_match_the_official_text(name):
    parsed = parse_law((LAWS / name).read_text(encoding="utf-8"), name=name)
    articles, chapters = OFFICIAL[name]
    assert [a.number for a in parsed.articles] == list(range(1, articles + 1))
    assert sum(1 for d in parsed.divisions if d.level == "chapter") == chapters
    assert all(a.text.strip() for a in parsed.articles)
    assert parsed.title.endswith(name.removesuffix(".md").removeprefix("中华人民共和国"))


def test_paragraphs_items_and_sections():
    parsed = parse_law((LAWS / "中华人民共和国劳动合同法.md").read_text(encoding="utf-8"))
    a39 = parsed.articles[38]
    assert a39.label == "第三十九条"
    assert len(a39.paragraphs) == 1 and [i.label for i in a39.paragraphs[0].items] == [f"（{n}）" for n in "一二三四五六"]
    a82 = parsed.articles[81]
    assert len(a82.paragraphs) == 2 and a82.paragraphs[0].text.startswith("用人单位自用工之日起超过一个月不满一年")
    sections = [d for d in parsed.divisions if d.level == "section"]
    assert [s.title for s in sections] == ["集体合同", "劳务派遣", "非全日制用工"]
    chapter5 = parsed.divisions[sections[0].parent]
    assert chapter5.label == "第五章" and chapter5.title == "特别规定"
    a66 = parsed.articles[65]  # 劳务派遣 section
    assert parsed.divisions[a66.division].title == "劳务派遣"


def test_lines_broken_inside_a_paragraph_or_item_are_joined():
    labour = parse_law((LAWS / "中华人民共和国劳动法.md").read_text(encoding="utf-8"))
    assert labour.articles[36].text == "对实行计件工作的劳动者，用人单位应当根据本法第三十六条规定的工时制度合理确定其劳动定额和计件报酬标准。"
    wages = parse_law((LAWS / "工资支付暂行规定.md").read_text(encoding="utf-8"))
    item = wages.articles[12].paragraphs[0].items[0]
    assert item.label == "（一）" and item.text.endswith("１５０％支付劳动者工资；")


def test_front_matter_cover_text_and_appendix():
    parsed = parse_law((LAWS / "最低工资规定.md").read_text(encoding="utf-8"))
    assert parsed.title == "最低工资规定"
    assert parsed.articles[0].text.startswith("为了维护劳动者取得劳动报酬的合法权益")
    assert "最低工资标准测算方法" in parsed.appendix and "颁布日期" not in parsed.appendix
    assert any("第21号" in line for line in parsed.history)
    female = parse_law((LAWS / "女职工劳动保护特别规定.md").read_text(encoding="utf-8"))
    assert female.articles[-1].text.endswith("同时废止。") and female.appendix.startswith("附录")
    # ASCII-parenthesis items, as some sources write them, are items too
    injury = parse_law((LAWS / "工伤保险条例.md").read_text(encoding="utf-8"))
    assert [i.label for i in injury.articles[13].paragraphs[0].items][:2] == ["（一）", "（二）"]


@pytest.mark.parametrize(("text", "message"), [
    ("第一条 没有标题。", "找不到标题"),
    ("# 某某规定\n\n只有说明，没有条文。", "找不到任何条文"),
    ("# 某某规定\n\n第一条 甲。\n\n第三条 丙。", "第一条之后应为第二条，实际为第三条"),
    ("# 某某规定\n\n第一条 甲。\n\n第二条 乙。\n\n第二条 又一个乙。", "第二条之后应为第三条，实际为第二条"),
    ("# 某某规定\n\n第二条 乙。", "开头之后应为第一条，实际为第二条"),
    ("---\nlayout: page\n\n# 某某规定\n\n第一条 甲。", "front matter"),
    ("# 某某规定\n\n第一条\n\n## 第一章 总则", "第一条没有正文"),
])
def test_a_broken_text_fails_loudly_naming_the_problem(text, message):
    with pytest.raises(LawParseError) as info:
        parse_law(text, name="某某规定.md")
    assert message in str(info.value) and "某某规定.md" in str(info.value)


@pytest.mark.parametrize(("cn", "n"), [("一", 1), ("十", 10), ("十二", 12), ("二十", 20), ("八十二", 82),
                                       ("一百", 100), ("一百零七", 107), ("一百一十九", 119), ("一千零一", 1001)])
def test_numerals_both_ways(cn, n):
    assert cn_to_int(cn) == n and int_to_cn(n) == cn


@pytest.mark.parametrize(("ref", "n"), [("82", 82), ("第八十二条", 82), ("八十二", 82), ("第82条", 82), (" 第一百零七条 ", 107),
                                        ("0", None), ("abc", None), ("第八十二款", None), ("", None), ("99999", None)])
def test_article_refs_as_users_write_them(ref, n):
    assert parse_article_ref(ref) == n


def test_references_to_this_law_another_law_and_not_to_appendix_parts():
    refs = find_references("有本法第三十九条和第四十条第一项规定情形之一的，依照《中华人民共和国劳动合同法》第八十二条执行；"
                           "第二十条另有规定", ("劳动合同法",))
    assert [(r.law_title, r.number) for r in refs] == [(None, 39), (None, 40), ("中华人民共和国劳动合同法", 82), (None, 20)]
    bare = find_references("应当依照劳动合同法第八十二条的规定", ("劳动合同法",))
    assert [(r.law_title, r.number) for r in bare] == [("劳动合同法", 82)]
    appendix = find_references("违反本规定附录第一条、第二条规定的，处罚", ())
    assert appendix == []
