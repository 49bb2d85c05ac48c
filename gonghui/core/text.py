"""Chinese name search helpers: pinyin initials and character bigrams."""

from __future__ import annotations

import re
import unicodedata

from pypinyin import Style, lazy_pinyin

_SPACE = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w]", re.UNICODE)


def normalize_name(value: str) -> str:
    """NFC, collapse white space, full-width middle dots to the standard one; keeps rare characters."""
    value = unicodedata.normalize("NFC", value or "")
    value = value.replace("•", "·").replace("‧", "·").replace("・", "·")
    return _SPACE.sub(" ", value).strip()


def name_initials(name: str) -> str:
    """南山区总工会 -> nsqzgh; letters and digits are kept, other symbols dropped."""
    parts = lazy_pinyin(name, style=Style.FIRST_LETTER, errors=lambda chars: list(chars))
    text = "".join(parts).lower()
    return _NON_WORD.sub("", text).replace("_", "")[:64]


def search_tokens(text: str) -> list[str]:
    """Overlapping character bigrams of each run of word characters, lower-cased."""
    tokens: list[str] = []
    for run in _NON_WORD.sub(" ", (text or "").lower()).replace("_", " ").split():
        if len(run) == 1:
            continue
        tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens


def name_bigrams(name: str) -> str:
    """Space-separated distinct bigrams: indexed with to_tsvector('simple', ...) on PostgreSQL."""
    seen: dict[str, None] = {}
    for token in search_tokens(name):
        seen.setdefault(token, None)
    return " ".join(seen)
