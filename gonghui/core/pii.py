"""Personal information: keyed hashes for lookup, Fernet encryption at rest, masking for display.

Keys (from the environment, see docs/architecture.md "Personal information: keys and rotation"):

- GONGHUI_PII_KEY: the secret the lookup hashes (HMAC-SHA256) are keyed with, and the encryption
  key when no list is given.
- GONGHUI_PII_ENCRYPTION_KEYS (optional): comma-separated encryption secrets, newest first. New
  values are encrypted with the first; any of them decrypts (cryptography's MultiFernet). To rotate:
  put the new secret in front, deploy, run `manage.py pii_rotate`, then drop the old secret.
- Rotating the lookup key: `manage.py pii_rotate --rehash-from OLD_SECRET` recomputes every hash
  from the decrypted values after GONGHUI_PII_KEY was changed (old lookups keep working through
  the command's run because it rewrites row by row in batches).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _derive(purpose: str, secret: str) -> bytes:
    return hashlib.sha256(f"gonghui:{purpose}:{secret}".encode()).digest()


def encryption_secrets() -> tuple[str, ...]:
    listed = tuple(k.strip() for k in getattr(settings, "GONGHUI_PII_ENCRYPTION_KEYS", []) if k.strip())
    return listed or (settings.GONGHUI_PII_KEY,)


@lru_cache(maxsize=8)
def _fernet(secrets: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(base64.urlsafe_b64encode(_derive("encrypt", s))) for s in secrets])


def lookup_hash(kind: str, value: str, *, secret: str | None = None) -> str:
    """A keyed hash (HMAC-SHA256) used to find a row by phone or ID without storing it in clear."""
    key = _derive("lookup", settings.GONGHUI_PII_KEY if secret is None else secret)
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def encrypt(value: str) -> str:
    if value == "":
        return ""
    return _fernet(encryption_secrets()).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet(encryption_secrets()).decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


def rotate(token: str) -> str:
    """Re-encrypt with the newest key (unchanged if it cannot be decrypted)."""
    if not token:
        return token
    try:
        return _fernet(encryption_secrets()).rotate(token.encode()).decode()
    except InvalidToken:
        return token


def mask_phone(phone: str) -> str:
    if len(phone) != 11:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_id_number(value: str) -> str:
    if len(value) < 10:
        return "*" * len(value)
    return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}"


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***, 阿依古丽·买买提 -> 阿*******: the first character only."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


class PhoneFields:
    """For models that keep a phone as `phone_hash` (keyed, for lookups), `phone_encrypted` and
    `phone_masked` (what lists show): the full number only through `phone`, set through `set_phone`."""

    phone_hash: str
    phone_encrypted: str
    phone_masked: str

    @property
    def phone(self) -> str:
        return decrypt(self.phone_encrypted) if self.phone_encrypted else ""

    def set_phone(self, value: str) -> None:
        self.phone_hash = lookup_hash("phone", value) if value else ""
        self.phone_encrypted = encrypt(value) if value else ""
        self.phone_masked = mask_phone(value) if value else ""
