"""Input checks that give a Chinese message naming what to fix."""

from __future__ import annotations

import datetime
import unicodedata

from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

from gonghui.core.errors import ValidationFailed
from gonghui.core.text import normalize_name

from .models import Division

# Significant prefix length of a division code at each level (county codes are 6, townships 9).
_LEVEL_PREFIX = {1: 2, 2: 4, 3: 6, 4: 9}


def clean_name(value: str, *, field: str = "name", label: str = "名称", max_length: int = 200) -> str:
    name = normalize_name(value or "")
    if not name:
        raise ValidationFailed("required", f"请填写{label}", field=field)
    if len(name) > max_length:
        raise ValidationFailed("too_long", f"{label}不能超过{max_length}个字（现为{len(name)}个字）", field=field)
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Co", "Cs"} for ch in name):
        raise ValidationFailed("invalid_characters", f"{label}含有不可见或无效字符，请删除后重试", field=field)
    return name


def clean_text(value: str | None, *, field: str, label: str, max_length: int) -> str:
    text = normalize_name(value or "")
    if len(text) > max_length:
        raise ValidationFailed("too_long", f"{label}不能超过{max_length}个字", field=field)
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs"} for ch in text):
        raise ValidationFailed("invalid_characters", f"{label}含有不可见或无效字符，请删除后重试", field=field)
    return text


def clean_uscc(value: str | None, *, field: str = "uscc", required: bool = False) -> str | None:
    raw = (value or "").strip().replace(" ", "").upper()
    if not raw:
        if required:
            raise ValidationFailed("required", "请填写统一社会信用代码", field=field)
        return None
    try:
        return stdnum_uscc.validate(raw)
    except InvalidLength:
        message = f"统一社会信用代码应为18位（现为{len(raw)}位）"
    except InvalidChecksum:
        message = "统一社会信用代码校验位不正确，请核对最后一位"
    except (InvalidFormat, InvalidComponent):
        message = "统一社会信用代码格式不正确：只能包含数字和大写字母（不含I、O、Z、S、V）"
    except ValidationError:
        message = "统一社会信用代码无效，请核对"
    raise ValidationFailed("invalid_uscc", message, field=field)


def clean_division(code: str | None, *, field: str = "division_code", required: bool = True) -> Division | None:
    code = (code or "").strip()
    if not code:
        if required:
            raise ValidationFailed("required", "请选择所在行政区划", field=field)
        return None
    if not code.isdigit() or len(code) not in (6, 9, 12):
        raise ValidationFailed("invalid_division", "行政区划代码应为6位或9位数字，例如 440305（南山区）", field=field)
    division = Division.objects.filter(code=code).first()
    if division is None:
        raise ValidationFailed("unknown_division", f"行政区划代码 {code} 不存在，请从列表中选择", field=field)
    return division


def division_within(code: str, ancestor: Division) -> bool:
    return code.startswith(ancestor.code[: _LEVEL_PREFIX[ancestor.level]])


def clean_date(value, *, field: str, label: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        result = value
    else:
        try:
            result = datetime.date.fromisoformat(str(value))
        except ValueError:
            raise ValidationFailed("invalid_date", f"{label}格式应为 年-月-日，例如 2024-05-01", field=field) from None
    if not datetime.date(1925, 1, 1) <= result <= datetime.date(2100, 12, 31):
        raise ValidationFailed("invalid_date", f"{label}超出合理范围", field=field)
    return result


def clean_count(value, *, field: str, label: str, maximum: int = 5_000_000) -> int:
    if value in (None, ""):
        return 0
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed("invalid_number", f"{label}应为整数", field=field) from None
    if not 0 <= number <= maximum:
        raise ValidationFailed("invalid_number", f"{label}应在0到{maximum}之间", field=field)
    return number
