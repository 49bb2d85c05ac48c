"""Opaque, signed keyset cursors: a tampered cursor is a clear 400, never a 500 or a leak."""

from __future__ import annotations

from django.core import signing

from .errors import ValidationFailed

_SALT = "gonghui.cursor"


def encode(value) -> str:
    return signing.dumps(value, salt=_SALT, compress=False)


def decode(cursor: str | None, kind: type = str):
    if not cursor:
        return None
    try:
        value = signing.loads(cursor, salt=_SALT)
    except signing.BadSignature:
        raise ValidationFailed("invalid_cursor", "翻页参数无效，请从第一页重新开始", field="cursor") from None
    if not isinstance(value, kind):
        raise ValidationFailed("invalid_cursor", "翻页参数无效，请从第一页重新开始", field="cursor")
    return value
