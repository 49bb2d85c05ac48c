from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    """Who did what, where, when, from which address; written in the same transaction as the change."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=150, blank=True)
    # The union node the change belongs to; org_path is copied so the subtree filter is one prefix.
    org = models.ForeignKey("orgs.OrgUnit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    org_path = models.CharField(max_length=64, blank=True)
    province_code = models.CharField(max_length=2, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    ip = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        indexes = [
            models.Index(fields=["org_path", "-id"], name="audit_path_id", opclasses=["varchar_pattern_ops", ""]),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"


class RateCounter(models.Model):
    """Fixed-window counters shared by every web node (login, SMS code limits)."""

    key = models.CharField(max_length=200)
    window_start = models.BigIntegerField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="ratecounter_key_window")]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start}: {self.count}"


class Lockout(models.Model):
    """Consecutive failures of one subject (a staff username); a lock lasts its full period from
    the failure that set it. Times are epoch seconds, like RateCounter."""

    key = models.CharField(max_length=200, unique=True)
    failures = models.IntegerField(default=0)
    first_failure_at = models.BigIntegerField(default=0)
    locked_until = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.failures} failures, locked until {self.locked_until}"
