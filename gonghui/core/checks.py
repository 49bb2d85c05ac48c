from django.conf import settings
from django.core.checks import Error, register
from django.db import DatabaseError


@register(deploy=True)
def demo_accounts_check(app_configs, **kwargs):
    if not getattr(settings, "GONGHUI_REFUSE_DEMO_ACCOUNTS", False):
        return []
    from .startup import demo_accounts_present

    try:
        present = demo_accounts_present()
    except DatabaseError:
        return []
    if present:
        return [Error("Demo accounts exist: " + ", ".join(present), id="gonghui.E001")]
    return []


@register()
def secrets_check(app_configs, **kwargs):
    errors = []
    if not settings.SECRET_KEY:
        errors.append(Error("DJANGO_SECRET_KEY is not set.", id="gonghui.E002"))
    if not settings.GONGHUI_PII_KEY:
        errors.append(Error("GONGHUI_PII_KEY is not set.", id="gonghui.E003"))
    return errors
