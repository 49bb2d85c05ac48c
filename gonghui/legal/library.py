"""Loading the law library from data/laws (and the articles' plain-language summaries from
data/legal/summaries): adding a law is dropping its Markdown file into data/laws and running
`manage.py load_laws`.

A load is all or nothing: every file is parsed and checked first (articles 1..N without gaps, the
count the manifest states, summaries only for articles that exist), then everything is written in
one transaction. Articles keep their rows (and ids) across reloads, matched by law and number, so
whatever cites them (supervision letters, guides) stays valid."""

from __future__ import annotations

import csv
import dataclasses
import datetime
import hashlib
import tomllib
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pypinyin import lazy_pinyin

from . import textindex
from .lawtext import LawParseError, ParsedLaw, article_label, find_references, parse_law
from .models import Article, ArticleReference, Law, LawDivision, LawKind

LAWS_DIR = Path(settings.BASE_DIR) / "data" / "laws"
SUMMARIES_DIR = Path(settings.BASE_DIR) / "data" / "legal" / "summaries"
NATION_PREFIX = "中华人民共和国"


@dataclasses.dataclass
class LawFile:
    path: Path
    parsed: ParsedLaw
    slug: str
    short_title: str
    kind: str
    revised: datetime.date | None
    sort: int
    sha256: str
    summaries: dict[int, tuple[str, str]]


def _manifest(folder: Path) -> dict:
    path = folder / "laws.toml"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _default_slug(short_title: str) -> str:
    return "".join(ch for ch in "".join(lazy_pinyin(short_title)).lower() if ch.isascii() and ch.isalnum())[:80]


def _default_kind(title: str) -> str:
    if title.endswith("法"):
        return LawKind.LAW
    if title.endswith("条例"):
        return LawKind.REGULATION
    return LawKind.RULE


def _summaries(slug: str, parsed: ParsedLaw, where: str) -> dict[int, tuple[str, str]]:
    path = SUMMARIES_DIR / f"{slug}.tsv"
    if not path.exists():
        return {}
    found: dict[int, tuple[str, str]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            try:
                number = int(row["article"])
            except (KeyError, TypeError, ValueError):
                raise LawParseError(f"{path.name}：每行第一列应为条文序号，实际为 {row.get('article')!r}") from None
            if not 1 <= number <= len(parsed.articles):
                raise LawParseError(f"{path.name}：{where}没有{article_label(number) if number > 0 else number}")
            found[number] = ((row.get("summary") or "").strip()[:200], (row.get("keywords") or "").strip()[:400])
    return found


def read_law_files(paths: list[Path] | None = None) -> list[LawFile]:
    """Parse and check every law file (all of data/laws when `paths` is None). Raises LawParseError
    naming the file and the problem; nothing is written."""
    folder = LAWS_DIR
    files = sorted(paths) if paths else sorted(folder.glob("*.md"))
    if not files:
        raise LawParseError(f"{folder} 中没有法规文件（*.md）")
    manifest = _manifest(folder)
    out, slugs = [], {}
    for path in files:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise LawParseError(f"{path.name}：不是 UTF-8 编码的文本") from None
        parsed = parse_law(text, name=path.name)
        entry = manifest.get(path.name, {})
        short = entry.get("short_title") or parsed.title.removeprefix(NATION_PREFIX)
        slug = entry.get("slug") or _default_slug(short)
        if slug in slugs:
            raise LawParseError(f"{path.name}：代号 {slug} 与 {slugs[slug]} 重复，请在 laws.toml 中指定 slug")
        slugs[slug] = path.name
        expected = entry.get("articles")
        if expected is not None and expected != len(parsed.articles):
            raise LawParseError(f"{path.name}：应有{expected}条，解析出{len(parsed.articles)}条")
        dates = parsed.dates()
        out.append(LawFile(
            path=path, parsed=parsed, slug=slug, short_title=short,
            kind=entry.get("kind") or _default_kind(short), revised=entry.get("revised") or (dates[-1] if dates else None),
            sort=int(entry.get("sort", 1000)), sha256=hashlib.sha256(raw).hexdigest(),
            summaries=_summaries(slug, parsed, parsed.title),
        ))
    return out


def _head(law: LawFile, division_titles: list[str], summary: str, keywords: str) -> str:
    return textindex.segmented(" ".join([law.short_title, *division_titles, summary, keywords]))


def load_laws(paths: list[Path] | None = None) -> list[tuple[Law, int]]:
    """Load (or reload) laws; returns (law, articles) per file. Other laws in the library stay."""
    files = read_law_files(paths)
    now = timezone.now()
    result = []
    with transaction.atomic():
        for lf in files:
            parsed = lf.parsed
            law = Law.objects.filter(slug=lf.slug).first() or Law.objects.filter(title=parsed.title).first() or Law()
            law.slug, law.title, law.short_title, law.kind = lf.slug, parsed.title, lf.short_title, lf.kind
            law.revised, law.history, law.appendix = lf.revised, parsed.history, parsed.appendix
            law.source_file, law.source_sha256 = f"data/laws/{lf.path.name}", lf.sha256
            law.article_count, law.sort, law.loaded_at = len(parsed.articles), lf.sort, now
            law.save()

            Article.objects.filter(law=law).update(division=None)
            LawDivision.objects.filter(law=law).delete()
            divisions: list[LawDivision] = []
            for order, d in enumerate(parsed.divisions):
                div = LawDivision(law=law, level=d.level, number=d.number, label=d.label, title=d.title, order=order,
                                  parent=divisions[d.parent] if d.parent is not None else None)
                div.save()
                divisions.append(div)

            existing = {a.number: a for a in Article.objects.filter(law=law)}
            keep, new = [], []
            for pa in parsed.articles:
                summary, keywords = lf.summaries.get(pa.number, ("", ""))
                chain, idx = [], pa.division
                while idx is not None:
                    chain.insert(0, parsed.divisions[idx].title)
                    idx = parsed.divisions[idx].parent
                article = existing.pop(pa.number, None) or Article(law=law, number=pa.number)
                article.label = pa.label
                article.division = divisions[pa.division] if pa.division is not None else None
                article.paragraphs = [{"text": p.text, "items": [{"label": i.label, "text": i.text} for i in p.items]}
                                      for p in pa.paragraphs]
                article.text = pa.text
                article.summary, article.keywords = summary, keywords
                article.search_text = textindex.segmented(pa.text)
                article.search_head = _head(lf, chain, summary, keywords)
                (keep if article.pk else new).append(article)
            Article.objects.bulk_update(keep, ["label", "division", "paragraphs", "text", "summary", "keywords",
                                               "search_text", "search_head"], batch_size=500)
            Article.objects.bulk_create(new, batch_size=500)
            if existing:  # articles the new text no longer has (a law renumbered by an amendment)
                Article.objects.filter(pk__in=[a.pk for a in existing.values()]).delete()
            result.append((law, len(parsed.articles)))
        _link_references()
    return result


def _link_references() -> None:
    """Recompute every citation between articles (a newly loaded law may be the target of
    citations in laws loaded before it)."""
    laws = list(Law.objects.all())
    titles: dict[str, int] = {}
    for law in laws:
        titles[law.title] = law.pk
        titles[law.short_title] = law.pk
        titles[law.title.removeprefix(NATION_PREFIX)] = law.pk
    targets = {(law_id, number): pk for pk, law_id, number in Article.objects.values_list("pk", "law_id", "number")}
    bare = tuple(t for t in titles if len(t) >= 3)
    rows = []
    for pk, law_id, text in Article.objects.values_list("pk", "law_id", "text"):
        for ref in find_references(text, bare):
            target_law = law_id if ref.law_title is None else titles.get(ref.law_title)
            target = targets.get((target_law, ref.number)) if target_law else None
            if target and target != pk:
                rows.append(ArticleReference(source_id=pk, target_id=target, start=ref.start, end=ref.end))
    ArticleReference.objects.all().delete()
    ArticleReference.objects.bulk_create(rows, batch_size=1000)
