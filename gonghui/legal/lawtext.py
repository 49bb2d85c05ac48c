"""Parse a law text (Markdown as shipped in data/laws) into law → chapter → section → article (条)
→ paragraph (款) → item (项), and find where one article cites another.

Pure functions, no Django: the loader (`services.law_library_load`) stores what comes out, and the
parser tests run on the shipped files directly.

The shipped format: an optional Jekyll front matter, `# title`, the adoption and amendment history
(up to `<!-- INFO END -->` where present), `## 第X章 title` / `### 第X节 title` headings and one
paragraph per line, an article starting `第X条` followed by a space (ASCII or ideographic). Items are
lines starting `（一）` (some files write them as `* （一）` Markdown bullets). Anything after the
last article under a heading that is not a chapter or section is an appendix (附件)."""

from __future__ import annotations

import dataclasses
import datetime
import re

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
UNITS = {"十": 10, "百": 100, "千": 1000}
NUMERAL = "零〇一二两三四五六七八九十百千"


class LawParseError(ValueError):
    """The text does not have the shape of a law: the message names the file and what is wrong."""


def cn_to_int(text: str) -> int:
    """第八十二条 → 82: Chinese numerals up to 9999 (一百零七, 十二, 二十)."""
    if not text or any(ch not in DIGITS and ch not in UNITS for ch in text):
        raise ValueError(f"not a Chinese numeral: {text!r}")
    total, digit = 0, None
    for ch in text:
        if ch in DIGITS:
            digit = DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * UNITS[ch]
            digit = None
    return total + (digit or 0)


def int_to_cn(number: int) -> str:
    """82 → 八十二, 107 → 一百零七, 12 → 十二 (the way article numbers are written)."""
    if not 0 < number < 10000:
        raise ValueError(f"out of range: {number}")
    digits = "零一二三四五六七八九"
    parts, zero = [], False
    for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = number // unit % 10
        if d:
            if zero and parts:
                parts.append("零")
            parts.append(digits[d] + name)
            zero = False
        elif parts:
            zero = True
    text = "".join(parts)
    return text[1:] if text.startswith("一十") else text


def article_label(number: int) -> str:
    return f"第{int_to_cn(number)}条"


def parse_article_ref(value: str) -> int | None:
    """An article as a user names it: '82', '第八十二条', '八十二', '第82条' → 82; anything else None."""
    value = (value or "").strip()
    m = re.fullmatch(r"第?\s*(\d{1,4}|[" + NUMERAL + r"]{1,8})\s*条?", value)
    if not m:
        return None
    raw = m.group(1)
    try:
        number = int(raw) if raw.isdigit() else cn_to_int(raw)
    except ValueError:
        return None
    return number if number > 0 else None


@dataclasses.dataclass
class Item:
    label: str  # （一）
    text: str


@dataclasses.dataclass
class Paragraph:
    text: str
    items: list[Item] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Division:
    level: str  # part 编 | chapter 章 | section 节
    number: int
    label: str  # 第一章
    title: str  # 总则
    parent: int | None  # index into ParsedLaw.divisions


@dataclasses.dataclass
class Article:
    number: int
    paragraphs: list[Paragraph]
    division: int | None  # index of the deepest heading it sits under

    @property
    def label(self) -> str:
        return article_label(self.number)

    @property
    def text(self) -> str:
        """The article as one text, paragraphs and items on their own lines, without its label."""
        lines = []
        for p in self.paragraphs:
            if p.text:
                lines.append(p.text)
            lines.extend(f"{i.label}{i.text}" for i in p.items)
        return "\n".join(lines)


@dataclasses.dataclass
class ParsedLaw:
    title: str
    history: list[str]
    divisions: list[Division]
    articles: list[Article]
    appendix: str

    def dates(self) -> list[datetime.date]:
        found = []
        for line in self.history:
            for y, m, d in re.findall(r"(\d{4})年(\d{1,2})月(\d{1,2})日", line):
                try:
                    found.append(datetime.date(int(y), int(m), int(d)))
                except ValueError:
                    continue
        return sorted(found)


ARTICLE_RE = re.compile(r"^第([" + NUMERAL + r"]+)条(?:[ \u3000\t]+|$)(.*)$")
HEADING_RE = re.compile(r"^(#{2,4})\s*第([" + NUMERAL + r"]+)(编|章|节)[ \u3000\t]*(.*)$")
ITEM_RE = re.compile(r"^(?:[*-]\s+)?[（(]\s*([" + NUMERAL + r"]+)\s*[）)]\s*(.*)$")
APPENDIX_RE = re.compile(r"^(附录|附件)\s*[：:]?")
ITEM_ENDS = ("；", "。", "：", ":", ";")
PARAGRAPH_ENDS = ("。", "：", ":", "！", "？", "”")
LEVELS = {"编": "part", "章": "chapter", "节": "section"}


def parse_law(text: str, *, name: str = "") -> ParsedLaw:
    """Parse one law. Raises LawParseError (naming `name`) when the text has no title, no articles,
    or article numbers that do not run 1..N without gaps or repeats."""
    where = name or "法规文本"
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\ufeff", "").split("\n")]
    if lines and lines[0].strip() == "---":  # Jekyll front matter
        try:
            end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
        except StopIteration:
            raise LawParseError(f"{where}：文件开头的 front matter 没有结束标记 ---") from None
        lines = lines[end + 1:]
    title = next((line[2:].strip() for line in lines if line.startswith("# ")), "")
    if not title:
        raise LawParseError(f"{where}：找不到标题（以“# ”开头的一行）")
    first_body = next((i for i, line in enumerate(lines)
                       if ARTICLE_RE.match(line.strip()) or HEADING_RE.match(line.strip())), None)
    if first_body is None:
        raise LawParseError(f"{where}：找不到任何条文（以“第X条”开头的段落）")
    history = [line.strip() for line in lines[:first_body]
               if line.strip() and not line.startswith("#") and line.strip() not in ("---", "<!-- INFO END -->")]
    if "<!-- INFO END -->" in lines[:first_body]:
        marker = lines.index("<!-- INFO END -->")
        history = [line.strip() for line in lines[:marker] if line.strip() and not line.startswith("#")]

    divisions: list[Division] = []
    articles: list[Article] = []
    appendix: list[str] = []
    open_at: dict[str, int] = {}  # level → index of the open heading
    in_appendix = False
    for raw in lines[first_body:]:
        line = raw.strip()
        if not line:
            continue
        if in_appendix:
            if line == "---":  # the source's empty 颁布日期/执行日期 footer follows
                break
            appendix.append(line)
            continue
        heading = HEADING_RE.match(line)
        if heading:
            level = LEVELS[heading.group(3)]
            parent = None
            for upper in ("part", "chapter", "section")[: ("part", "chapter", "section").index(level)]:
                if upper in open_at:
                    parent = open_at[upper]
            for lower in ("part", "chapter", "section")[("part", "chapter", "section").index(level):]:
                open_at.pop(lower, None)
            try:
                number = cn_to_int(heading.group(2))
            except ValueError:
                raise LawParseError(f"{where}：标题编号无法识别：{line}") from None
            divisions.append(Division(level=level, number=number, label=f"第{heading.group(2)}{heading.group(3)}",
                                      title=heading.group(4).strip(), parent=parent))
            open_at[level] = len(divisions) - 1
            continue
        if line.startswith("#"):
            if articles:  # a heading that is not a chapter or section, after the articles: an appendix
                in_appendix = True
                appendix.append(line.lstrip("#").strip())
                continue
            raise LawParseError(f"{where}：条文前出现无法识别的标题：{line}")
        if line == "---":
            continue
        art = ARTICLE_RE.match(line)
        if art:
            try:
                number = cn_to_int(art.group(1))
            except ValueError:
                raise LawParseError(f"{where}：条文编号无法识别：{line[:20]}") from None
            deepest = next((open_at[lv] for lv in ("section", "chapter", "part") if lv in open_at), None)
            first = art.group(2).strip()
            paragraphs = [Paragraph(text=first)] if first else []
            item = ITEM_RE.match(first) if first else None
            if item:  # an article that starts with its items
                paragraphs = [Paragraph(text="", items=[Item(f"（{item.group(1)}）", item.group(2).strip())])]
            articles.append(Article(number=number, paragraphs=paragraphs, division=deepest))
            continue
        if not articles:
            raise LawParseError(f"{where}：第一条之前出现无法归属的文字：{line[:30]}")
        if APPENDIX_RE.match(line):  # 附录：/ 附件： after the last article
            in_appendix = True
            appendix.append(line)
            continue
        current = articles[-1]
        item = ITEM_RE.match(line)
        last = current.paragraphs[-1] if current.paragraphs else None
        if item:
            if last is None:
                last = Paragraph(text="")
                current.paragraphs.append(last)
            last.items.append(Item(f"（{item.group(1)}）", item.group(2).strip()))
        elif last is not None and last.items and not last.items[-1].text.endswith(ITEM_ENDS):
            # a line broken inside an item in the source (工资支付暂行规定 第十三条)
            last.items[-1].text += line
        elif last is not None and not last.items and last.text and not last.text.endswith(PARAGRAPH_ENDS):
            # a line broken inside a paragraph (劳动法 第三十七条, 第八十九条)
            last.text += line
        else:
            current.paragraphs.append(Paragraph(text=line.lstrip("*- ").strip() if line[:2] in ("* ", "- ") else line))

    numbers = [a.number for a in articles]
    expected = list(range(1, len(numbers) + 1))
    if numbers != expected:
        for position, (got, want) in enumerate(zip(numbers, expected, strict=False)):
            if got != want:
                before = article_label(numbers[position - 1]) if position else "开头"
                raise LawParseError(f"{where}：条文编号不连续：{before}之后应为{article_label(want)}，"
                                    f"实际为{article_label(got)}")
        raise LawParseError(f"{where}：条文编号不连续")
    for a in articles:
        if not a.paragraphs or not a.text.strip():
            raise LawParseError(f"{where}：{a.label}没有正文")
    return ParsedLaw(title=title, history=history, divisions=divisions, articles=articles,
                     appendix="\n".join(appendix))


# --- References between articles -------------------------------------------------------------------

APPENDIX = "\x00appendix"
REF_TAIL = r"|(本法|本条例|本规定|本办法|本细则)|第([" + NUMERAL + r"]+)条|([，。；：！？\n])"


@dataclasses.dataclass(frozen=True)
class Reference:
    start: int  # span of "第X条" in the text
    end: int
    law_title: str | None  # None: this law; else the title as cited (without 《》)
    number: int


def find_references(text: str, titles: tuple[str, ...] = ()) -> list[Reference]:
    """Every "第X条" in an article's text with the law it points to: the nearest 《title》, bare title
    from `titles` (劳动合同法第八十二条, as regulations write it) or 本法 before it in the same clause
    (a list like 第三十九条、第四十条 shares it), else this law. Numbers of paragraphs and items
    (第二款, 第一项) are not articles and are ignored."""
    bare = "|".join(re.escape(t) for t in sorted(set(titles), key=len, reverse=True) if t)
    pattern = re.compile(r"《([^》]{2,40})》" + (f"|({bare})(?=第)" if bare else "|(?!x)x()") + REF_TAIL)
    refs: list[Reference] = []
    law: str | None = None  # None = this law
    for m in pattern.finditer(text):
        if m.group(1) or m.group(2):
            law = m.group(1) or m.group(2)
        elif m.group(3):
            law = None
        elif m.group(4):
            if law == APPENDIX or text[max(0, m.start() - 2):m.start()] in ("附录", "附件"):
                law = APPENDIX  # 本规定附录第一条、第二条: parts of the appendix, not articles
                continue
            try:
                number = cn_to_int(m.group(4))
            except ValueError:
                continue
            refs.append(Reference(m.start(), m.end(), law, number))
        else:  # a clause ends: the law named in it does not carry over
            law = None
    return refs
