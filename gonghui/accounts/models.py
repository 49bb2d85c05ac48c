from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from gonghui.core import pii


class User(AbstractUser):
    """Workers log in by phone (no password); staff by username, password and TOTP."""

    class Kind(models.TextChoices):
        WORKER = "worker", "职工"
        STAFF = "staff", "工作人员"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.WORKER)
    display_name = models.CharField("姓名", max_length=100, blank=True)
    # Phone: keyed hash to look up, ciphertext to show (masked unless revealed).
    phone_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    phone_encrypted = models.TextField(blank=True)
    # Staff: the union whose admins created the account; it decides who may grant it a first role.
    home_org = models.ForeignKey(
        "orgs.OrgUnit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="所属组织"
    )

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_worker(self) -> bool:
        return self.kind == self.Kind.WORKER

    @property
    def phone(self) -> str:
        return pii.decrypt(self.phone_encrypted)

    @property
    def phone_masked(self) -> str:
        return pii.mask_phone(self.phone) if self.phone_encrypted else ""

    def set_phone(self, phone: str) -> None:
        self.phone_hash = pii.lookup_hash("phone", phone)
        self.phone_encrypted = pii.encrypt(phone)


class ApiToken(models.Model):
    """Bearer tokens; only a hash is stored, the token is shown once at login."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"

    def __str__(self) -> str:
        return f"{self.user} 的接口令牌（{self.created_at:%Y-%m-%d}）"


class SmsCode(models.Model):
    """A login code: stored hashed, single use, expires, limited attempts."""

    phone_hash = models.CharField(max_length=64, db_index=True)
    code_hash = models.CharField(max_length=64)
    purpose = models.CharField(max_length=32, default="login")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    ip = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "短信验证码"
        verbose_name_plural = "短信验证码"
        indexes = [models.Index(fields=["phone_hash", "-created_at"], name="smscode_phone_recent")]

    def __str__(self) -> str:
        return f"验证码 {self.created_at:%Y-%m-%d %H:%M}"


class SmsOutbox(models.Model):
    """The development gateway's outbox: messages that a real gateway would have sent."""

    phone_hash = models.CharField(max_length=64, db_index=True)
    phone_masked = models.CharField(max_length=16)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "短信发件箱（开发）"
        verbose_name_plural = "短信发件箱（开发）"

    def __str__(self) -> str:
        return f"{self.phone_masked} {self.created_at:%Y-%m-%d %H:%M}"
