"""Chinese text for the law library: jieba segmentation with the team's user dictionary, the
colloquial-to-legal lexicon (data/legal/synonyms.txt), the practical guides (data/legal/guides) and
homophone correction of typed questions (工姿 → 工资) by pinyin.

Everything here is loaded once per process from files shipped in the repository; nothing is
downloaded and no model runs."""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import tomllib
import unicodedata
from pathlib import Path

import jieba
from django.conf import settings
from pypinyin import lazy_pinyin

DATA = Path(settings.BASE_DIR) / "data" / "legal"
CJK = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff]")
WORD = re.compile(r"[\w\u3400-\u9fff\U00020000-\U0002ffff]")

# Function words that say nothing about the problem (the ranking's IDF would mostly ignore them,
# but they would still make phrase matches and snippets noisy).
STOPWORDS = frozenset("""
的 了 着 过 是 在 和 与 及 或 等 把 被 让 给 我 你 他 她 它 我们 你们 他们 咱 咱们 这 那 这个 那个 这样 那样 个 也 都 就
还 又 很 吗 呢 吧 啊 呀 哦 嗯 么 嘛 啦 呗 什么 怎么 怎么办 怎样 如何 为什么 为啥 请问 一下 现在 已经 可以 能 会 要
想 应该 该 之 其 以 于 为 所 从 而 但 但是 如果 因为 所以 并 且 一个 有 没 就是 还是 然后 可是 不过 请 谢谢 您好 你好
""".split())


def normalize(text: str) -> str:
    """Full-width letters and digits to half-width (１５０％ → 150%), lower case, one space."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "")).strip().lower()


@functools.cache
def tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.initialize()
    userdict = DATA / "userdict.txt"
    if userdict.exists():
        tk.load_userdict(str(userdict))
    for group in lexicon():
        for term in group:
            if len(term) > 1 and CJK.search(term) and term not in tk.FREQ:
                tk.add_word(term, 200)
    return tk


def warm() -> None:
    """Load the dictionaries now (about 2 s) instead of in a worker's first legal search; the WSGI
    entry point calls this so a web process starts ready."""
    tokenizer()
    _vocabulary_by_pinyin()
    guides()


def tokens(text: str) -> list[str]:
    """The words of a text for indexing and querying: jieba's search mode (long words and the
    shorter words inside them), without punctuation and function words."""
    words = tokenizer().cut_for_search(normalize(text))
    return [w for w in (w.strip() for w in words) if w and WORD.search(w) and w not in STOPWORDS]


def segmented(text: str) -> str:
    return " ".join(tokens(text))


def is_known_word(word: str) -> bool:
    return tokenizer().FREQ.get(word, 0) > 0


# --- The lexicon ---------------------------------------------------------------------------------


@functools.cache
def lexicon() -> tuple[tuple[str, ...], ...]:
    """Groups of terms that mean the same to a worker; the first is the law's own term."""
    path = DATA / "synonyms.txt"
    if not path.exists():
        return ()
    groups = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        terms = tuple(dict.fromkeys(normalize(t) for t in line.split() if t.strip()))
        if len(terms) > 1:
            groups.append(terms)
    return tuple(groups)


@functools.cache
def _lexicon_by_term() -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for i, group in enumerate(lexicon()):
        for term in group:
            index.setdefault(term, []).append(i)
    return index


def expansions(text: str) -> list[tuple[str, bool]]:
    """The lexicon terms a normalised question contains, and their group-mates: (term, is_legal)."""
    found: dict[str, bool] = {}
    for term, groups in _lexicon_by_term().items():
        if term in text:
            for g in groups:
                for j, other in enumerate(lexicon()[g]):
                    found[other] = found.get(other, False) or j == 0
    return list(found.items())


# --- Homophone correction ------------------------------------------------------------------------


def pinyin_key(word: str) -> str:
    return " ".join(lazy_pinyin(word))


@functools.cache
def _vocabulary_by_pinyin() -> dict[str, str]:
    """Pinyin → a term workers and the lexicon use (first one wins): the targets of correction."""
    by_pinyin: dict[str, str] = {}
    words = [t for group in lexicon() for t in group]
    words += [t for g in guides() for t in g.triggers]
    for word in words:
        if 2 <= len(word) <= 4 and all(CJK.match(ch) for ch in word):
            by_pinyin.setdefault(pinyin_key(word), word)
    return by_pinyin


def corrections(text: str) -> list[tuple[str, str]]:
    """(typed, meant) for every 2–4 character stretch of the question that jieba could not make a
    word of (it fell apart into single characters) and that sounds exactly like a lexicon term:
    工姿 → 工资, 赔尝 → 赔偿, 跑陆 → 跑路. Words jieba knows are never touched, so correct text stays
    as it is (工资标准 is 工资 + 标准, not a misspelt 工资表)."""
    found: dict[str, str] = {}
    vocab = _vocabulary_by_pinyin()
    runs, run = [], []
    for word in tokenizer().lcut(text, HMM=False):
        if len(word) == 1 and CJK.match(word):
            run.append(word)
            continue
        runs.append(run)
        run = []
    runs.append(run)
    for chars in runs:
        i = 0
        while i < len(chars) - 1:
            for size in (4, 3, 2):
                window = "".join(chars[i:i + size])
                if len(window) < size:
                    continue
                meant = vocab.get(pinyin_key(window))
                if meant and meant != window:
                    found.setdefault(window, meant)
                    i += size - 1
                    break
            i += 1
    return list(found.items())


# --- Practical guides ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Citation:
    law: str
    article: int
    reason: str


@dataclasses.dataclass(frozen=True)
class Guide:
    key: str
    title: str
    summary: str
    triggers: tuple[str, ...]
    steps: tuple[str, ...]
    time_limits: tuple[str, ...]
    where_to_go: tuple[str, ...]
    evidence: tuple[str, ...]
    citations: tuple[Citation, ...]


@functools.cache
def guides() -> tuple[Guide, ...]:
    folder = DATA / "guides"
    if not folder.exists():
        return ()
    found = []
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        found.append(Guide(
            key=raw["key"], title=raw["title"], summary=raw.get("summary", ""),
            triggers=tuple(normalize(t) for t in raw.get("triggers", ())),
            steps=tuple(raw.get("steps", ())), time_limits=tuple(raw.get("time_limits", ())),
            where_to_go=tuple(raw.get("where_to_go", ())), evidence=tuple(raw.get("evidence", ())),
            citations=tuple(Citation(c["law"], int(c["article"]), c.get("reason", "")) for c in raw.get("citations", ())),
        ))
    return tuple(found)


def guide_by_key(key: str) -> Guide | None:
    return next((g for g in guides() if g.key == key), None)
