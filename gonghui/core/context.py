"""Per-request context (client IP) that services read when they write audit entries."""

from contextvars import ContextVar

current_ip: ContextVar[str | None] = ContextVar("current_ip", default=None)


def client_ip(request) -> str:
    # Behind a trusted proxy set GONGHUI_TRUST_X_FORWARDED_FOR; never trust it by default.
    from django.conf import settings

    if getattr(settings, "GONGHUI_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "") or ""
