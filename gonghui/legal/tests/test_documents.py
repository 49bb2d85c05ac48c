"""Letters rendered to PDF and DOCX: read back with poppler (pdftotext, pdfinfo, pdffonts) and python-docx.

No database: documents.py knows nothing of models. poppler-utils must be installed; a missing tool fails
the tests rather than skipping them.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from gonghui.core.errors import ValidationFailed
from gonghui.legal.documents import (
    PENDING_SERIAL,
    CitedArticle,
    LetterDocument,
    date_text,
    letter_html,
    render_docx,
    render_pdf,
)
from gonghui.legal.lawtext import parse_law

LAWS = Path(__file__).resolve().parents[3] / "data" / "laws"
ISSUER = "深圳市南山区总工会"
TITLE = "劳动法律监督意见书"
SERIAL = "深南工监意〔2026〕第3号"
RECIPIENT = "深圳市南头精密制造有限公司"
DEMAND = "对入职超过一个月未订立书面劳动合同的职工，立即订立书面劳动合同，并依照《中华人民共和国劳动合同法》第八十二条的规定支付二倍工资。"
REPLY = "请于收到本意见书之日起15个工作日内将整改情况书面回复本会。"
CONTACT = "联系人：李明　联系电话：0755-26661234"
CC = "深圳市南山区人力资源局，南头街道总工会"
# Quoted only in the annex, never in the body: where it appears tells which page the annex is on.
ARTICLE_82 = "用人单位自用工之日起超过一个月不满一年未与劳动者订立书面劳动合同的，应当向劳动者每月支付二倍的工资。"
ARTICLE_44_ITEM = "（一）安排劳动者延长工作时间的，支付不低于工资的百分之一百五十的工资报酬；"


def cited(file: str, number: int) -> CitedArticle:
    law = parse_law((LAWS / file).read_text(encoding="utf-8"), name=file)
    article = next(a for a in law.articles if a.number == number)
    return CitedArticle(law_title=law.title, label=article.label, text=article.text)


def opinion(**changes) -> LetterDocument:
    letter = LetterDocument(
        issuer=ISSUER,
        kind_title=TITLE,
        serial_label=SERIAL,
        recipient=RECIPIENT,
        paragraphs=[
            "2026年10月，本会接到你单位职工反映，经调查核实，你单位存在安排职工延长工作时间未依法支付加班工资、"
            "部分职工入职超过一个月未订立书面劳动合同等问题。",
            "根据《中华人民共和国工会法》和《中华人民共和国劳动合同法》第七十八条的规定，本会提出如下意见：",
        ],
        demands=[
            "依照《中华人民共和国劳动法》第四十四条的规定，核算并补发2026年7月至10月职工延长工作时间的工资报酬。",
            DEMAND,
            "完善考勤和工资支付制度，工资支付记录保存两年以上备查。",
        ],
        articles=[cited("中华人民共和国劳动合同法.md", 82), cited("中华人民共和国劳动法.md", 44)],
        reply_clause=REPLY,
        issued_on=datetime.date(2026, 11, 26),
        contact=CONTACT,
        cc=f"抄送：{CC}",
    )
    return dataclasses.replace(letter, **changes)


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: install poppler-utils"
    return path


def poppler(name: str, pdf: bytes, tmp: Path, *args: str) -> str:
    path = tmp / "letter.pdf"
    path.write_bytes(pdf)
    run = subprocess.run(
        [tool(name), *args, str(path), *(["-"] if name == "pdftotext" else [])], capture_output=True, check=True
    )
    return run.stdout.decode("utf-8")


def squash(text: str) -> str:
    """pdftotext breaks lines and pads with spaces; compare text with all white space removed."""
    return re.sub(r"\s+", "", text)


def pages_of(pdf: bytes, tmp: Path) -> list[str]:
    """Each page's text, squashed."""
    text = poppler("pdftotext", pdf, tmp, "-layout", "-enc", "UTF-8")
    return [squash(page) for page in text.split("\f")[:-1]]


def page_count(pdf: bytes, tmp: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", poppler("pdfinfo", pdf, tmp), re.M).group(1))


def assert_in_order(text: str, parts: list[str]) -> None:
    at = 0
    for part in parts:
        found = text.find(squash(part), at)
        assert found >= 0, f"{part!r} missing, or out of order, after position {at}"
        at = found + len(squash(part))


@pytest.fixture(scope="module")
def final_pdf() -> bytes:
    return render_pdf(opinion())


@pytest.fixture(scope="module")
def draft_pdf() -> bytes:
    return render_pdf(opinion(draft=True, serial_label=""))


# --- PDF ---------------------------------------------------------------------------------------


def test_pdf_reads_back_as_the_letter_in_order(final_pdf, tmp_path):
    assert final_pdf.startswith(b"%PDF-")
    text = "".join(pages_of(final_pdf, tmp_path))
    assert_in_order(
        text,
        [
            ISSUER,
            SERIAL,
            TITLE,
            f"{RECIPIENT}：",
            "一、依照",
            f"二、{DEMAND}",
            "三、完善",
            REPLY,
            "附件：引用的法律条文",
            "（盖章）",
            ISSUER,
            "2026年11月26日",
            CONTACT,
            "附件",
            "引用的法律条文",
            "《中华人民共和国劳动合同法》第八十二条",
            ARTICLE_82,
            "《中华人民共和国劳动法》第四十四条",
            ARTICLE_44_ITEM,
            f"抄送：{CC}",
        ],
    )
    assert "〔2026〕" in text and "盖章" in text
    assert "草稿" not in text and PENDING_SERIAL not in text


def test_pdf_is_a4_and_the_annex_starts_its_own_page(final_pdf, tmp_path):
    info = poppler("pdfinfo", final_pdf, tmp_path)
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info)
    pages = pages_of(final_pdf, tmp_path)
    assert page_count(final_pdf, tmp_path) == len(pages) >= 2
    annex = next(i for i, page in enumerate(pages) if squash(ARTICLE_82) in page)
    signed = next(i for i, page in enumerate(pages) if "2026年11月26日" in page)
    assert annex > signed
    assert pages[annex].startswith("附件引用的法律条文")  # the annex heads a fresh page
    assert all(squash(ARTICLE_82) not in page for page in pages[:annex])


def test_pdf_numbers_its_pages_in_the_footer(final_pdf, tmp_path):
    pages = pages_of(final_pdf, tmp_path)
    for number, page in enumerate(pages, start=1):
        assert page.endswith(f"—{number}—"), page[-20:]


def test_pdf_embeds_noto_cjk_fonts_only(final_pdf, draft_pdf, tmp_path):
    for pdf in (final_pdf, draft_pdf):
        fonts = poppler("pdffonts", pdf, tmp_path).splitlines()[2:]
        names = [line.split()[0] for line in fonts]
        assert any(re.fullmatch(r"[A-Z]{6}\+Noto-Serif-CJK-SC", n) for n in names), names
        assert any("Noto-Serif-CJK-SC-Bold" in n for n in names), names  # masthead and title
        assert all("Noto" in n and "CJK-SC" in n for n in names), names  # no DejaVu or JP/KR fallback
        assert all(" yes " in line for line in fonts), fonts  # embedded (and subset)


def test_draft_pdf_is_marked_on_every_page_and_has_no_serial(draft_pdf, tmp_path):
    pages = pages_of(draft_pdf, tmp_path)
    assert len(pages) >= 2
    for page in pages:
        assert "草" in page and "稿" in page  # the diagonal mark, read back one glyph at a time
    text = "".join(pages)
    assert PENDING_SERIAL in text
    assert "〔2026〕" not in text and "第3号" not in text
    assert ISSUER in text and squash(ARTICLE_82) in text


def test_a_letter_without_serial_is_a_draft_even_if_not_flagged():
    html = letter_html(opinion(serial_label="  ", draft=False))
    assert PENDING_SERIAL in html and "image/svg+xml" in html
    final = letter_html(opinion())
    assert SERIAL in final and PENDING_SERIAL not in final and "image/svg+xml" not in final


def test_user_text_never_becomes_markup(tmp_path):
    nasty = '<script>alert("x")</script> 甲 & 乙 <b>未加粗</b>'
    letter = opinion(
        paragraphs=[nasty],
        recipient='深圳市"引号"&<i>公司</i>',
        demands=['<img src="http://example.com/x.png">'],
        draft=True,
    )
    html = letter_html(letter)
    assert "<script>" not in html and "<b>" not in html and "<img" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html and "甲 &amp; 乙" in html
    # Nothing in the page can make WeasyPrint fetch: the only url() is the inline draft mark.
    assert re.findall(r"url\(\"?([a-z]+):", html) == ["data"]
    assert 'src="http' not in html

    text = "".join(pages_of(render_pdf(letter), tmp_path))
    assert squash(nasty) in text
    assert '深圳市"引号"&<i>公司</i>：' in text
    assert '一、<imgsrc="http://example.com/x.png">' in text


def test_a_long_letter_runs_over_many_numbered_pages(tmp_path):
    body = [
        f"第{n}段：经查，你单位在2026年第{n % 4 + 1}季度安排职工延长工作时间累计超过法定上限，"
        "且未依法支付延长工作时间的工资报酬，亦未与部分新入职职工订立书面劳动合同，本会依法予以提示。"
        for n in range(1, 61)
    ]
    pdf = render_pdf(opinion(paragraphs=body))
    pages = pages_of(pdf, tmp_path)
    assert page_count(pdf, tmp_path) == len(pages) >= 8
    text = "".join(pages)
    assert_in_order(text, ["第1段：", "第30段：", "第60段：", "（盖章）", "2026年11月26日", ARTICLE_82])
    assert pages[-1].endswith(f"—{len(pages)}—")


# --- DOCX --------------------------------------------------------------------------------------


def open_docx(data: bytes) -> docx.document.Document:
    assert data[:2] == b"PK"
    return docx.Document(io.BytesIO(data))


def has_page_break(paragraph) -> bool:
    return bool(paragraph._p.xpath(".//w:br[@w:type='page']")) or bool(paragraph.paragraph_format.page_break_before)


def test_docx_carries_the_letter_in_order():
    document = open_docx(render_docx(opinion()))
    texts = [p.text for p in document.paragraphs]
    expected = [
        ISSUER,
        SERIAL,
        TITLE,
        f"{RECIPIENT}：",
        opinion().paragraphs[0],
        opinion().paragraphs[1],
        "一、依照《中华人民共和国劳动法》第四十四条的规定，核算并补发2026年7月至10月职工延长工作时间的工资报酬。",
        f"二、{DEMAND}",
        "三、完善考勤和工资支付制度，工资支付记录保存两年以上备查。",
        REPLY,
        "附件：引用的法律条文",
        "（盖章）",
        ISSUER,
        "2026年11月26日",
        CONTACT,
        "附件",
        "引用的法律条文",
        "《中华人民共和国劳动合同法》第八十二条",
        ARTICLE_82,
        "用人单位违反本法规定不与劳动者订立无固定期限劳动合同的，自应当订立无固定期限劳动合同之日起向劳动者每月支付二倍的工资。",
        "《中华人民共和国劳动法》第四十四条",
        "有下列情形之一的，用人单位应当按照下列标准支付高于劳动者正常工作时间工资的工资报酬：",
        ARTICLE_44_ITEM,
        "（二）休息日安排劳动者工作又不能安排补休的，支付不低于工资的百分之二百的工资报酬；",
        "（三）法定休假日安排劳动者工作的，支付不低于工资的百分之三百的工资报酬。",
        f"抄送：{CC}",
    ]
    assert [t for t in texts if t] == expected

    masthead = document.paragraphs[0]
    assert masthead.runs[0].bold and str(masthead.runs[0].font.color.rgb) == "E60012"
    assert masthead._p.xpath("./w:pPr/w:pBdr/w:bottom")  # the red rule under the issuer
    assert document.paragraphs[2].style.name == "Heading 1"
    body = document.paragraphs[4]
    assert body.paragraph_format.first_line_indent == Pt(32)  # 2 characters of 16pt
    assert body._p.xpath("./w:pPr/w:ind/@w:firstLineChars") == ["200"]
    signature = [p for p in document.paragraphs if p.text in ("（盖章）", ISSUER, "2026年11月26日")][-3:]
    assert [p.alignment for p in signature] == [WD_ALIGN_PARAGRAPH.RIGHT] * 3


def test_docx_names_the_east_asian_font_and_is_a4():
    document = open_docx(render_docx(opinion()))
    for name in ("Normal", "Heading 1", "Heading 2", "Heading 3"):
        fonts = document.styles[name].element.rPr.rFonts
        assert fonts.get(qn("w:eastAsia")) == "Noto Serif CJK SC", name
        assert fonts.get(qn("w:eastAsiaTheme")) is None, name  # a theme font would win over it
    section = document.sections[0]
    mm = [round(length.mm, 1) for length in (section.page_width, section.page_height)]
    assert mm == [210.0, 297.0]  # stored in twips: 11906 × 16838
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert [round(length.mm, 1) for length in margins] == [37.0, 35.0, 28.0, 26.0]
    footer = section.footer.paragraphs[0]
    assert footer._p.xpath(".//w:fldSimple/@w:instr") == ["PAGE"]


def test_docx_breaks_the_page_before_the_annex():
    paragraphs = open_docx(render_docx(opinion())).paragraphs
    breaks = [i for i, p in enumerate(paragraphs) if has_page_break(p)]
    contact = next(i for i, p in enumerate(paragraphs) if p.text == CONTACT)
    annex = next(i for i, p in enumerate(paragraphs) if p.text == "引用的法律条文")
    assert len(breaks) == 1 and contact < breaks[0] < annex

    no_annex = open_docx(render_docx(opinion(articles=[]))).paragraphs
    assert not any(has_page_break(p) for p in no_annex)
    assert "附件：引用的法律条文" not in [p.text for p in no_annex]


def test_docx_draft_has_no_serial_and_a_draft_mark():
    document = open_docx(render_docx(opinion(draft=True)))
    texts = [p.text for p in document.paragraphs]
    assert PENDING_SERIAL in texts and SERIAL not in texts
    assert document.sections[0].header.paragraphs[0].text == "草稿"
    final = open_docx(render_docx(opinion()))
    assert final.sections[0].header.paragraphs[0].text == ""


def test_docx_keeps_user_text_literal_and_drops_control_characters():
    letter = opinion(paragraphs=["<script>alert(1)</script> & 甲\x00乙\x0b丙"], cc="")
    texts = [p.text for p in open_docx(render_docx(letter)).paragraphs]
    assert "<script>alert(1)</script> & 甲乙丙" in texts
    assert not any(t.startswith("抄送") for t in texts)


def test_demands_are_numbered_in_chinese_numerals():
    letter = opinion(demands=[f"第{n}项要求。" for n in range(1, 13)])
    texts = [p.text for p in open_docx(render_docx(letter)).paragraphs]
    assert "一、第1项要求。" in texts and "十、第10项要求。" in texts and "十二、第12项要求。" in texts
    html = letter_html(letter)
    assert_in_order(squash(html), ["一、</span>第1项", "十一、</span>第11项", "十二、</span>第12项"])


def test_dates_are_written_the_chinese_way():
    assert date_text(datetime.date(2026, 1, 5)) == "2026年1月5日"
    assert date_text(None) == "\u3000\u3000年\u3000\u3000月\u3000\u3000日"
    texts = [p.text for p in open_docx(render_docx(opinion(issued_on=None))).paragraphs]
    assert date_text(None) in texts


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("issuer", " ", "发文单位不能为空"),
        ("kind_title", "", "文书标题不能为空"),
        ("recipient", "\u3000", "主送单位不能为空"),
        ("paragraphs", ["", "  "], "正文不能为空"),
    ],
)
@pytest.mark.parametrize("render", [render_pdf, render_docx])
def test_a_letter_missing_a_part_is_refused_in_chinese(render, field, value, message):
    with pytest.raises(ValidationFailed) as caught:
        render(opinion(**{field: value}))
    assert caught.value.field == field
    assert caught.value.message == message
