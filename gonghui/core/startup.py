"""Start-up guards for production."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def demo_accounts_present() -> list[str]:
    from django.contrib.auth import get_user_model

    return list(
        get_user_model().objects.filter(username__in=settings.GONGHUI_DEMO_USERNAMES).values_list("username", flat=True)
    )


def refuse_demo_accounts() -> None:
    """Production must never run with the publicly known demo logins."""
    if not getattr(settings, "GONGHUI_REFUSE_DEMO_ACCOUNTS", False):
        return
    present = demo_accounts_present()
    if present:
        raise ImproperlyConfigured(
            "Demo accounts exist in this database and production refuses to start: " + ", ".join(present)
        )
