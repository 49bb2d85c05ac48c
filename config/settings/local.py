"""Development and demo: SQLite by default, outbox SMS, 2FA optional."""

from .base import *  # noqa: F401,F403
from .base import VAR_DIR, env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = SECRET_KEY or "local-dev-only-not-secret"  # noqa: F405
GONGHUI_PII_KEY = GONGHUI_PII_KEY or "local-dev-only-pii-key"  # noqa: F405
GONGHUI_STAFF_2FA_REQUIRED = env_bool("GONGHUI_STAFF_2FA_REQUIRED", False)
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]
VAR_DIR.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # served from the app folders by WhiteNoise finders; production collects them
WHITENOISE_AUTOREFRESH = DEBUG

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # Several granian threads and the task worker share the file: WAL and immediate transactions
    # avoid "database is locked" under concurrent writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(  # noqa: F405
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
