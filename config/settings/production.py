"""Production: every secret from the environment; refuses to start with demo accounts."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import env_bool

DEBUG = False
for _name in ("DJANGO_SECRET_KEY", "GONGHUI_PII_KEY", "DATABASE_URL"):
    if not os.environ.get(_name):
        raise ImproperlyConfigured(f"Environment variable {_name} is required in production.")
if GONGHUI_SMS_GATEWAY.endswith("OutboxGateway"):  # noqa: F405  (also the default when the variable is unset)
    raise ImproperlyConfigured("The outbox SMS gateway is for development; set GONGHUI_SMS_GATEWAY to a real gateway.")
GONGHUI_STAFF_2FA_REQUIRED = True
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "gonghui_cache",
    }
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
GONGHUI_REFUSE_DEMO_ACCOUNTS = True
