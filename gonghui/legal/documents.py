"""Letters as documents: 一函两书 (and other legal-affairs papers) rendered to PDF (WeasyPrint, Noto
CJK fonts) and to an editable DOCX (python-docx), from one plain description of the letter.

The services build a LetterDocument from a SupervisionLetter (gonghui/legal/supervision.py); this
module knows nothing of models, so rendering is testable and benchmarkable on its own.
"""

from __future__ import annotations

import datetime
import functools
import io
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from gonghui.core.errors import ValidationFailed
from gonghui.legal.lawtext import int_to_cn


@dataclass(frozen=True)
class CitedArticle:
    law_title: str  # 中华人民共和国劳动合同法
    label: str  # 第八十二条
    text: str  # the article's paragraphs and items, one per line, as published


@dataclass(frozen=True)
class LetterDocument:
    issuer: str  # the issuing union: 深圳市南山区总工会
    kind_title: str  # 劳动法律监督意见书
    serial_label: str  # 深南工监意〔2026〕第3号; "" while a draft
    recipient: str  # 主送: 深圳市南头精密制造有限公司
    paragraphs: list[str]  # the body, one paragraph each
    demands: list[str] = field(default_factory=list)  # numbered requirements or suggestions
    articles: list[CitedArticle] = field(default_factory=list)  # quoted in full in an annex
    reply_clause: str = ""  # 请于收到本意见书之日起15个工作日内将整改情况书面回复本会。
    issued_on: datetime.date | None = None
    contact: str = ""  # 联系人：李明　联系电话：0755-…
    cc: str = ""  # 抄送：…
    draft: bool = False  # drafts carry a 草稿 mark and no serial number


# Layout constants shared by both renderers (GB/T 9704-2012, 信函格式).
SERIF = "Noto Serif CJK SC"  # stands in for 宋体 / 小标宋
SANS = "Noto Sans CJK SC"  # stands in for 黑体
RED = "E60012"
TEMPLATE = "legal/letter.html"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates" / "legal"
PENDING_SERIAL = "（文号待签发后生成）"
ANNEX_NOTE = "附件：引用的法律条文"
ANNEX_TITLE = "引用的法律条文"
SEAL_TEXT = "（盖章）"
DRAFT_MARK = "草稿"
TYPE_AREA_PT = 156 / 25.4 * 72  # width of the type area: 156 mm
BODY_PT = 16  # 三号
LINE_PT = 28.9  # 22 lines in the 225 mm type area

# Characters XML cannot hold (python-docx refuses them, HTML parsers replace them): dropped everywhere.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_CC_PREFIX = re.compile(r"^抄送\s*[：:]\s*")


def _clean(text: str) -> str:
    return _CONTROL.sub("", text or "").strip()


def _is_wide(char: str) -> bool:
    return ord(char) >= 0x2E80


def _width_em(text: str) -> float:
    """Approximate printed width in em: CJK and full-width characters 1, the rest (digits, Latin) ½."""
    return sum(1.0 if _is_wide(c) else 0.5 for c in text)


def date_text(day: datetime.date | None) -> str:
    """成文日期 the current official way, in Arabic numerals: 2026年11月26日; blanks while undated."""
    if day is None:
        return "\u3000\u3000年\u3000\u3000月\u3000\u3000日"
    return f"{day.year}年{day.month}月{day.day}日"


def is_draft(document: LetterDocument) -> bool:
    return document.draft or not document.serial_label.strip()


def _check(document: LetterDocument) -> None:
    """The parts a letter cannot go out without; a clear message instead of a half-empty page."""
    required = (
        ("issuer", document.issuer, "发文单位不能为空"),
        ("kind_title", document.kind_title, "文书标题不能为空"),
        ("recipient", document.recipient, "主送单位不能为空"),
    )
    for name, value, message in required:
        if not _clean(value):
            raise ValidationFailed("letter_incomplete", message, field=name)
    if not any(_clean(p) for p in document.paragraphs):
        raise ValidationFailed("letter_incomplete", "正文不能为空", field="paragraphs")


@dataclass(frozen=True)
class _Article:
    law_title: str
    label: str
    lines: list[str]


@dataclass(frozen=True)
class _Letter:
    """The letter cleaned and with everything derived that both renderers print."""

    issuer: str
    kind_title: str
    serial: str
    recipient: str
    paragraphs: list[str]
    demands: list[tuple[str, str]]  # (一, text)
    reply_clause: str
    date_text: str
    contact: str
    cc: str
    articles: list[_Article]
    draft: bool


def _prepare(document: LetterDocument) -> _Letter:
    _check(document)
    draft = is_draft(document)
    demands = [d for d in (_clean(x) for x in document.demands) if d]
    articles = []
    for a in document.articles:
        lines = [line for line in (_clean(x) for x in (a.text or "").splitlines()) if line]
        articles.append(_Article(_clean(a.law_title).strip("《》"), _clean(a.label), lines))
    return _Letter(
        issuer=_clean(document.issuer),
        kind_title=_clean(document.kind_title),
        serial=PENDING_SERIAL if draft else _clean(document.serial_label),
        recipient=_clean(document.recipient).rstrip("：:"),
        paragraphs=[p for p in (_clean(x) for x in document.paragraphs) if p],
        demands=[(int_to_cn(i), d) for i, d in enumerate(demands, start=1)],
        reply_clause=_clean(document.reply_clause),
        date_text=date_text(document.issued_on),
        contact=_clean(document.contact),
        cc=_CC_PREFIX.sub("", _clean(document.cc)),
        articles=articles,
        draft=draft,
    )


def _issuer_size_pt(issuer: str) -> float:
    """The issuer's mark is large (36pt) but must stay on one line of the type area."""
    fit = TYPE_AREA_PT / (_width_em(issuer) * 1.05 + 0.5)
    return round(min(36.0, fit), 1)


# --- PDF ---------------------------------------------------------------------------------------


@functools.cache
def _watermark_url() -> str:
    """草稿 set diagonally in light grey, as an SVG data: URL for the page background of drafts."""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="160mm" height="160mm" viewBox="0 0 160 160">'
        '<text x="80" y="80" transform="rotate(-35 80 80)" text-anchor="middle" dominant-baseline="middle" '
        f'font-family="{SANS}" font-weight="bold" font-size="42" letter-spacing="12" fill="#e3e3e3">'
        f"{DRAFT_MARK}</text></svg>"
    )
    return "data:image/svg+xml," + urllib.parse.quote(svg)


def letter_html(document: LetterDocument) -> str:
    """The letter as the HTML WeasyPrint lays out (autoescaped: user text never becomes markup)."""
    from django.template.loader import render_to_string

    letter = _prepare(document)
    context = {
        "doc": letter,
        "is_draft": letter.draft,
        "issuer_size": _issuer_size_pt(letter.issuer),
        "serial": letter.serial,
        "paragraphs": letter.paragraphs,
        "demands": letter.demands,
        "reply_clause": letter.reply_clause,
        "date_text": letter.date_text,
        "contact": letter.contact,
        "articles": letter.articles,
        "cc": letter.cc,
        "watermark_url": _watermark_url() if letter.draft else "",
    }
    return render_to_string(TEMPLATE, context)


_fonts = threading.local()


def _font_config():
    """One FontConfiguration per thread: building one loads fontconfig's font list (FcInitLoadConfigAndFonts),
    and its Pango font map is not meant to be shared between threads."""
    config = getattr(_fonts, "config", None)
    if config is None:
        # Imported lazily: WeasyPrint loads Pango and fontconfig, which the rest of the app never needs.
        from weasyprint.text.fonts import FontConfiguration

        config = _fonts.config = FontConfiguration()
    return config


def render_pdf(document: LetterDocument) -> bytes:
    """The letter as an A4 PDF with the Noto CJK fonts embedded (subset)."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # Letters embed nothing from outside: only inline data: URLs (the draft mark) are ever resolved;
    # file, http and the rest are refused. A fetcher per call: URLFetcher keeps per-request state.
    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    html = HTML(string=letter_html(document), base_url=str(TEMPLATE_DIR), url_fetcher=fetcher)
    return html.write_pdf(font_config=_font_config())


# --- DOCX --------------------------------------------------------------------------------------


def _set_fonts(target, name: str) -> None:
    """Set Latin and East Asian fonts on a style or run, dropping theme fonts that would override them."""
    from docx.oxml.ns import qn

    element = target._r if hasattr(target, "_r") else target.element  # a Run, or a Style
    rpr = element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), name)
    fonts.set(qn("w:eastAsia"), name)


def _set_lang(style) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rpr = style.element.get_or_add_rPr()
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")  # Latin runs (numbers, phone numbers)
    lang.set(qn("w:eastAsia"), "zh-CN")


def _first_line_chars(paragraph, chars: int = 2) -> None:
    """First-line indent of `chars` characters, as Word does it for Chinese (w:firstLineChars)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    paragraph.paragraph_format.first_line_indent = Pt(BODY_PT * chars)
    ind = paragraph._p.get_or_add_pPr().get_or_add_ind()
    ind.set(qn("w:firstLineChars"), str(chars * 100))


# CT_PPr children that must follow w:pBdr (ECMA-376 sequence).
_PPR_AFTER_BORDER = tuple(
    f"w:{tag}"
    for tag in (
        "shd tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
        "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc textDirection "
        "textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange"
    ).split()
)


def _border(paragraph, sides: tuple[str, ...], *, size_eighths: int, color: str, val: str = "single") -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    for side in sides:
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), val)
        edge.set(qn("w:sz"), str(size_eighths))
        edge.set(qn("w:space"), "4")
        edge.set(qn("w:color"), color)
        borders.append(edge)
    ppr.insert_element_before(borders, *_PPR_AFTER_BORDER)


def _page_field(paragraph, size_pt: float) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    field_ = OxmlElement("w:fldSimple")
    field_.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), str(round(size_pt * 2)))
    rpr.append(size)
    run.append(rpr)
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field_.append(run)
    paragraph._p.append(field_)


def _style_heading(style, *, size: float, align) -> None:
    from docx.enum.text import WD_LINE_SPACING
    from docx.shared import Pt, RGBColor

    _set_fonts(style, SERIF)
    style.font.size = Pt(size)
    style.font.bold = True
    style.font.color.rgb = RGBColor(0, 0, 0)
    pf = style.paragraph_format
    pf.alignment = align
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(max(LINE_PT, size * 1.6))
    pf.keep_with_next = True


def _signature_indents(letter: _Letter) -> dict[str, float]:
    """Right indents (pt) that centre 盖章, issuer and date over each other, the date 4 characters in."""
    widths = {"seal": _width_em(SEAL_TEXT), "issuer": _width_em(letter.issuer), "date": _width_em(letter.date_text)}
    block = max(widths.values())
    return {k: (4 + (block - w) / 2) * BODY_PT for k, w in widths.items()}


def render_docx(document: LetterDocument) -> bytes:
    """The letter as an editable Word document (A4, GB/T 9704 margins, Noto CJK fonts named)."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
    from docx.shared import Mm, Pt, RGBColor

    letter = _prepare(document)
    red = RGBColor.from_string(RED)
    doc = Document()

    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Mm(15), Mm(20)

    normal = doc.styles["Normal"]
    _set_fonts(normal, SERIF)
    _set_lang(normal)
    normal.font.size = Pt(BODY_PT)
    pf = normal.paragraph_format
    pf.space_before = pf.space_after = Pt(0)
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(LINE_PT)
    pf.widow_control = True
    _style_heading(doc.styles["Heading 1"], size=22, align=WD_ALIGN_PARAGRAPH.CENTER)  # the title
    _style_heading(doc.styles["Heading 2"], size=22, align=WD_ALIGN_PARAGRAPH.CENTER)  # the annex title
    _style_heading(doc.styles["Heading 3"], size=BODY_PT, align=WD_ALIGN_PARAGRAPH.LEFT)  # a cited article

    props = doc.core_properties
    props.title = letter.kind_title
    props.subject = letter.serial
    props.author = letter.issuer
    props.last_modified_by = letter.issuer
    props.language = "zh-CN"
    props.comments = ""
    if document.issued_on is not None:
        stamp = datetime.datetime.combine(document.issued_on, datetime.time())
        props.created = props.modified = stamp
    props.revision = 1

    # Footer "— 1 —"; drafts carry 草稿 in the header (Word has no simple per-page watermark).
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("— ").font.size = Pt(14)
    _page_field(footer, 14)
    footer.add_run(" —").font.size = Pt(14)
    if letter.draft:
        header = section.header.paragraphs[0]
        header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        mark = header.add_run(DRAFT_MARK)
        mark.bold = True
        mark.font.size = Pt(22)
        mark.font.color.rgb = RGBColor(0xA0, 0xA0, 0xA0)

    def para(text: str = "", *, indent: bool = True, align=None, style=None):
        p = doc.add_paragraph(style=style)
        if text:
            p.add_run(text)
        if indent:
            _first_line_chars(p)
        if align is not None:
            p.alignment = align
        return p

    # 版头: the issuer's mark in red over a red rule.
    mark = para(indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    run = mark.add_run(letter.issuer)
    run.bold = True
    run.font.size = Pt(_issuer_size_pt(letter.issuer))
    run.font.color.rgb = red
    mark.paragraph_format.line_spacing = Pt(_issuer_size_pt(letter.issuer) * 1.4)
    mark.paragraph_format.space_after = Pt(4)
    _border(mark, ("bottom",), size_eighths=18, color=RED, val="thickThinSmallGap")

    serial = para(indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    serial.paragraph_format.space_before = Pt(10)
    serial_run = serial.add_run(letter.serial)
    if letter.draft:
        serial_run.font.color.rgb = RGBColor(0x80, 0x80, 0x80)

    title = doc.add_paragraph(letter.kind_title, style="Heading 1")
    title.paragraph_format.space_before = Pt(LINE_PT)
    title.paragraph_format.space_after = Pt(LINE_PT)

    para(f"{letter.recipient}：", indent=False)
    for text in letter.paragraphs:
        para(text)
    for number, text in letter.demands:
        para(f"{number}、{text}")
    if letter.reply_clause:
        para(letter.reply_clause)
    if letter.articles:
        para(ANNEX_NOTE)

    # Signature: 盖章 placeholder, issuer and date centred over each other, the date 4 characters in.
    indents = _signature_indents(letter)
    seal = para(indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    seal.paragraph_format.space_before = Pt(LINE_PT * 2)
    seal.paragraph_format.right_indent = Pt(indents["seal"])
    seal.paragraph_format.keep_with_next = True
    seal_run = seal.add_run(SEAL_TEXT)
    seal_run.font.color.rgb = red
    signer = para(letter.issuer, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    signer.paragraph_format.right_indent = Pt(indents["issuer"])
    signer.paragraph_format.keep_with_next = True
    dated = para(letter.date_text, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    dated.paragraph_format.right_indent = Pt(indents["date"])

    if letter.contact:
        contact = para(letter.contact)
        contact.paragraph_format.space_before = Pt(LINE_PT)

    if letter.articles:
        label = para(indent=False)  # the annex starts a page: a page break, then 附件 in 黑体
        label.add_run().add_break(WD_BREAK.PAGE)
        _set_fonts(label.add_run("附件"), SANS)
        heading = doc.add_paragraph(ANNEX_TITLE, style="Heading 2")
        heading.paragraph_format.space_before = Pt(10)
        heading.paragraph_format.space_after = Pt(LINE_PT)
        for article in letter.articles:
            head = doc.add_paragraph(f"《{article.law_title}》{article.label}", style="Heading 3")
            _first_line_chars(head)
            for line in article.lines:
                para(line)

    if letter.cc:
        cc = para(f"抄送：{letter.cc}", indent=False)
        fmt = cc.paragraph_format
        fmt.space_before = Pt(LINE_PT)
        fmt.left_indent = Pt(14 * 4)
        fmt.first_line_indent = Pt(-14 * 3)
        fmt.right_indent = Pt(14)
        fmt.line_spacing = Pt(24)
        for r in cc.runs:
            r.font.size = Pt(14)
        _border(cc, ("top", "bottom"), size_eighths=8, color="000000")

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
