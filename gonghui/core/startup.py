"""Start-up guards for production."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Every account of the demo dataset is named demo-… (staff demo-futian, demo-grassroots and the
# workers demo-worker-001… as well as the logins listed in GONGHUI_DEMO_USERNAMES).
DEMO_USERNAME_PREFIX = "demo-"


def demo_accounts_present() -> list[str]:
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    demo = Q(username__in=settings.GONGHUI_DEMO_USERNAMES) | Q(username__istartswith=DEMO_USERNAME_PREFIX)
    return list(get_user_model().objects.filter(demo).order_by("username").values_list("username", flat=True)[:20])


def refuse_demo_accounts() -> None:
    """Production must never run with the publicly known demo logins."""
    if not getattr(settings, "GONGHUI_REFUSE_DEMO_ACCOUNTS", False):
        return
    present = demo_accounts_present()
    if present:
        raise ImproperlyConfigured(
            "Demo accounts exist in this database and production refuses to start: " + ", ".join(present)
        )
