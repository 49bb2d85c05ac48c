"""Personal information: keyed hashes for lookup, Fernet encryption at rest, masking for display."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _key_material(purpose: str) -> bytes:
    return hashlib.sha256(f"gonghui:{purpose}:{settings.GONGHUI_PII_KEY}".encode()).digest()


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_key_material("encrypt")))


def lookup_hash(kind: str, value: str) -> str:
    """A keyed hash (HMAC-SHA256) used to find a row by phone or ID without storing it in clear."""
    return hmac.new(_key_material("lookup"), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def encrypt(value: str) -> str:
    if value == "":
        return ""
    return _fernet(settings.GONGHUI_PII_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet(settings.GONGHUI_PII_KEY).decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


def mask_phone(phone: str) -> str:
    if len(phone) != 11:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_id_number(value: str) -> str:
    if len(value) < 10:
        return "*" * len(value)
    return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}"


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***, 阿依古丽·买买提 -> 阿*******: the surname's first character only."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)
