"""The test suite: PostgreSQL from DATABASE_URL (scripts/with_pg.py starts a throwaway cluster)."""

import os

from .base import *  # noqa: F401,F403

if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    raise RuntimeError("The test suite runs on PostgreSQL: use `make test` (scripts/with_pg.py sets DATABASE_URL).")

DEBUG = False
SECRET_KEY = "test-only-secret"
GONGHUI_PII_KEY = "test-only-pii-key"
GONGHUI_STAFF_2FA_REQUIRED = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # static files come from the app folders (finders); nothing is collected
import tempfile  # noqa: E402

MEDIA_ROOT = tempfile.mkdtemp(prefix="gonghui-test-private-")
GONGHUI_POLICY_CACHE_SECONDS = 0  # tests roll back without signals: a cached policy would leak between tests
