"""bench/run.py: the test settings (PostgreSQL from DATABASE_URL) with a persistent connection, as a
production web process with a connection pool would hold, and quiet logging."""

from .test import *  # noqa: F401,F403
from .test import DATABASES

DATABASES["default"]["CONN_MAX_AGE"] = None
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
GONGHUI_POLICY_CACHE_SECONDS = 30  # as in production (the test settings turn it off)
