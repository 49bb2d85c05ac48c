"""Real-name input: resident ID numbers (GB 11643, checked with python-stdnum) and personal names.

Unambiguous variations are normalised (full-width digits, lower-case x, spaces and dashes); anything
else is refused with a Chinese message that says what is wrong.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from django.utils import timezone
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

from gonghui.core.errors import ValidationFailed

MIN_AGE = 16  # 劳动法 第十五条: no employment under 16
MAX_AGE = 120
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―－_]+")
_MIDDLE_DOTS = "·•‧・∙⋅･.．"  # what people type for the 间隔号 in minority and foreign names


@dataclass(frozen=True)
class Identity:
    number: str
    birth_date: datetime.date
    gender: str  # M / F
    region_code: str


def normalize_id_number(value: str) -> str:
    text = unicodedata.normalize("NFKC", value or "")  # full-width digits and letters -> ASCII
    return _SEPARATORS.sub("", text).upper()


def parse_id_number(value: str, *, field: str = "id_number", today: datetime.date | None = None) -> Identity:
    number = normalize_id_number(value)
    if not number:
        raise ValidationFailed("id_required", "请填写身份证号", field)
    if not re.fullmatch(r"[0-9X]+", number):
        raise ValidationFailed("id_format", "身份证号只能包含数字和末位的X，请检查后重填", field)
    if len(number) == 15:
        raise ValidationFailed("id_length", "请填写18位的第二代居民身份证号（15位旧号码已停用）", field)
    if len(number) != 18:
        raise ValidationFailed("id_length", f"身份证号应为18位，您填写了{len(number)}位", field)
    if "X" in number[:17]:
        raise ValidationFailed("id_format", "身份证号前17位应全部为数字，只有最后一位可以是X", field)
    try:
        birth = ric.get_birth_date(number)
    except stdnum_errors.ValidationError:
        raise ValidationFailed(
            "id_birth_date", f"身份证号中的出生日期 {number[6:14]} 不是有效日期，请检查第7至14位", field
        ) from None
    if not _region_known(number[:6]):
        raise ValidationFailed("id_region", f"身份证号前6位地区码 {number[:6]} 不存在，请检查", field)
    if ric.calc_check_digit(number) != number[17]:
        raise ValidationFailed("id_checksum", "身份证号校验位不正确，请核对每一位数字（尤其是最后一位）", field)
    today = today or timezone.localdate()
    if birth > today:
        raise ValidationFailed("id_birth_date", "身份证号中的出生日期晚于今天，请检查第7至14位", field)
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    if age < MIN_AGE:
        raise ValidationFailed("id_too_young", f"未满{MIN_AGE}周岁不能入会（劳动法规定的最低就业年龄）", field)
    if age > MAX_AGE:
        raise ValidationFailed("id_birth_date", "身份证号中的出生日期不合理，请检查第7至14位", field)
    gender = "M" if int(number[16]) % 2 else "F"
    return Identity(number=number, birth_date=birth, gender=gender, region_code=number[:6])


@lru_cache(maxsize=8192)
def _region_known(code: str) -> bool:
    """The region code exists in python-stdnum's table of codes, in any year.

    stdnum's own validate() also demands that the code existed in the birth year, but the region is
    where the number was first issued, often decades after birth (a worker born in 1965 who first
    registered in 深圳南山, a district since 1990, holds 440305…): that check would turn real people
    away, so only existence is checked here.
    """
    from stdnum import numdb

    merged = {k: v for _part, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    return "county" in merged


def normalize_name(value: str, *, field: str = "name") -> str:
    """Keep the name as written (rare characters included); unify the middle dot; refuse digits,
    punctuation and emoji."""
    name = (value or "").strip()
    name = re.sub(r"\s+", " ", name)
    for dot in _MIDDLE_DOTS:
        name = name.replace(dot, "·")
    name = re.sub(r"\s*·\s*", "·", name)
    if not re.search(r"[A-Za-z]", name):
        name = name.replace(" ", "")  # 张 三 -> 张三; spaces only separate words of Latin-script names
    if not name:
        raise ValidationFailed("name_required", "请填写姓名", field)
    if len(name) > 50:
        raise ValidationFailed("name_too_long", "姓名过长（最多50个字）", field)
    if name.startswith("·") or name.endswith("·") or "··" in name:
        raise ValidationFailed("name_format", "姓名中的间隔号“·”只能用在两个字之间", field)
    for ch in name:
        if ch in "· ":
            continue
        if not unicodedata.category(ch).startswith("L"):
            raise ValidationFailed("name_format", f"姓名中不能包含“{ch}”，请填写身份证上的姓名", field)
    if len(name) < 2 and not _is_cjk(name):
        raise ValidationFailed("name_format", "请填写身份证上的完整姓名", field)
    return name


def _is_cjk(text: str) -> bool:
    return all(unicodedata.category(ch) == "Lo" for ch in text)
