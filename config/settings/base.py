"""Settings shared by every environment. Secrets and hosts come from the environment."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("GONGHUI_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
    "gonghui.core",
    "gonghui.accounts",
    "gonghui.orgs",
    "gonghui.analytics",
    "gonghui.membership",
    "gonghui.casedesk",
    "gonghui.legal",
    "gonghui.employment",
    "gonghui.portal",
    "gonghui.console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "gonghui.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "gonghui" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'gonghui.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        # A persistent connection is checked before each request, so a database restart or
        # fail-over costs no request a 500.
        conn_health_checks=True,
    )
}
# Read replicas (streaming replicas of the primary). Reads go there through the router in
# gonghui.core.dbrouter; writes and reads inside a transaction stay on the primary.
for _i, _url in enumerate(env_list("DATABASE_REPLICA_URLS")):
    DATABASES[f"replica{_i + 1}"] = dj_database_url.parse(_url, conn_max_age=60, conn_health_checks=True)
    DATABASES[f"replica{_i + 1}"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["gonghui.core.dbrouter.PrimaryReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "console:login"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    }
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "gonghui" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploaded files (rosters, evidence) are private: never served from a URL, only through views that
# check access. Keep this outside any web root.
MEDIA_ROOT = Path(os.environ.get("GONGHUI_PRIVATE_DIR", VAR_DIR / "private"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- Gonghui -------------------------------------------------------------------------------
# Key for personal data: HMAC lookups (phones, ID numbers) and Fernet encryption at rest.
GONGHUI_PII_KEY = os.environ.get("GONGHUI_PII_KEY", "")
# Encryption secrets, newest first (optional; default: GONGHUI_PII_KEY). See gonghui/core/pii.py.
GONGHUI_PII_ENCRYPTION_KEYS = [k for k in os.environ.get("GONGHUI_PII_ENCRYPTION_KEYS", "").split(",") if k.strip()]
# SMS gateway: a dotted path to a class implementing gonghui.accounts.sms.SmsGateway.
GONGHUI_SMS_GATEWAY = os.environ.get("GONGHUI_SMS_GATEWAY", "gonghui.accounts.sms.OutboxGateway")
GONGHUI_SMS_CODE_TTL_SECONDS = 300
GONGHUI_SMS_CODE_MAX_ATTEMPTS = 5
# Rate limits: (count, seconds) windows.
GONGHUI_RATE_LIMITS = {
    "sms_phone_min": (1, 60),
    "sms_phone_day": (10, 86400),
    "sms_ip_hour": (30, 3600),
    "login_ip_min": (30, 60),
    "staff_login_ip_min": (20, 60),
    "pii_reveal_day": (200, 86400),  # full ID numbers / phones one staff member may reveal a day
    "card_verify_min": (60, 60),  # card checks per service-point account a minute
    "join_user_hour": (20, 3600),  # join / transfer / correction submits per worker an hour
    "import_user_day": (50, 86400),  # roster uploads per staff member a day
    "case_user_day": (10, 86400),  # cases one worker may file a day (the hotline and systems are not limited)
    "case_info_user_day": (30, 86400),  # additions (text and files) a worker may send to their cases a day
    "callback_ip_min": (30, 60),  # satisfaction-link submits per address a minute
    "legal_ask_ip_min": (30, 60),  # legal questions asked per address a minute (the ranking is CPU work)
    "legal_aid_user_day": (5, 86400),  # legal-aid applications one worker may submit a day
    "job_post_employer_day": (30, 86400),  # postings (new or renewed) per employer a day: spam brake
    "job_apply_user_day": (30, 86400),  # applications one worker may send a day
    "recruiter_claim_user_day": (5, 86400),  # employer claims one person may file a day
    "help_request_user_day": (3, 86400),  # employment-help requests one worker may file a day
    "fair_register_user_day": (20, 86400),  # job-fair registrations one worker may make a day
}
GONGHUI_STAFF_LOCKOUT_FAILURES = 5
GONGHUI_STAFF_LOCKOUT_SECONDS = 900
GONGHUI_STAFF_2FA_REQUIRED = env_bool("GONGHUI_STAFF_2FA_REQUIRED", True)
OTP_TOTP_ISSUER = "工会一网通"
GONGHUI_API_TOKEN_TTL_SECONDS = 7 * 86400
# Staff sessions end after a working day; workers on their own phones stay signed in for a month.
GONGHUI_STAFF_SESSION_SECONDS = 8 * 3600
GONGHUI_WORKER_SESSION_SECONDS = 30 * 86400
# The demo dataset creates these accounts; production refuses to start while any exists.
GONGHUI_DEMO_USERNAMES = ["demo-national", "demo-guangdong", "demo-shenzhen", "demo-nanshan", "demo-nantou"]
GONGHUI_DEMO_PASSWORD = "gonghui-demo"

# --- Membership ---------------------------------------------------------------------------------
# Decide an application within this many Chinese working days (per-node policy may change it).
GONGHUI_MEMBERSHIP_DECIDE_DAYS = 3
# How long a web process may keep a node's membership policies before reading them again (a change
# made in the same process is seen at once).
GONGHUI_POLICY_CACHE_SECONDS = int(os.environ.get("GONGHUI_POLICY_CACHE_SECONDS", "30"))
# Transfers: the receiving union registers the member within this many working days.
GONGHUI_TRANSFER_DAYS = 5
# Routing rules in order (per-node policy may reorder them); see gonghui/membership/routing.py.
GONGHUI_MEMBERSHIP_ROUTING = ["employer_union", "platform_union", "industry_federation", "township", "county"]
# The consent text version a worker agrees to when joining (gonghui/portal/templates/portal/consent_<v>.html).
GONGHUI_CONSENT_VERSION = "2026-11"
# The member card QR: how long one token is valid.
GONGHUI_CARD_TOKEN_SECONDS = 120
# Working days beyond the years chinese_calendar knows: extra holidays / make-up working days
# (ISO dates) published by the State Council, until the library catches up.
GONGHUI_EXTRA_HOLIDAYS = [d for d in os.environ.get("GONGHUI_EXTRA_HOLIDAYS", "").split(",") if d]
GONGHUI_EXTRA_WORKDAYS = [d for d in os.environ.get("GONGHUI_EXTRA_WORKDAYS", "").split(",") if d]
# Roster import: largest file accepted, rows per committed batch.
GONGHUI_IMPORT_MAX_BYTES = 200 * 1024 * 1024
GONGHUI_IMPORT_BATCH_ROWS = 5000


# --- 12351 case desk -------------------------------------------------------------------------------
# Working-day limits per difficulty (acceptance, completion, warning before each deadline). The
# published rules give no national figures: these defaults are overridden per province in the console.
GONGHUI_CASE_TIME_LIMITS = {
    "normal": {"accept_days": 1, "complete_days": 5, "warn_days": 1},
    "difficult": {"accept_days": 1, "complete_days": 15, "warn_days": 2},
    "complex": {"accept_days": 2, "complete_days": 30, "warn_days": 3},
}
# Which union a case goes to first (membership routing rules; "分级负责、归口办理、属地管理").
GONGHUI_CASE_ROUTING = ["employer_union", "platform_union", "township", "county"]
# Cases about one employer and one category within `days` that raise a cluster alert.
GONGHUI_CASE_CLUSTER = {"min_cases": 5, "days": 30}
GONGHUI_CASE_DESCRIPTION_MAX = 5000
GONGHUI_CASE_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
GONGHUI_CASE_ATTACHMENTS_MAX = 9
GONGHUI_CASE_CALLBACK_DAYS = 15  # how long the satisfaction link works
GONGHUI_CASE_DISSATISFIED_AT_OR_BELOW = 2  # a rating this low reopens the case

# --- Legal-affairs cloud ---------------------------------------------------------------------------
# National defaults; a union overrides them for itself and its subtree (LegalPolicy, in the console).
GONGHUI_LEGAL_DEFAULTS = {
    "aid_decide_days": 5,  # legal-aid decision, working days, paused while documents are awaited
    "opinion_reply_days": 15,  # 意见书: the employer's written reply
    "suggestion_reply_days": 5,  # 建议书: the labour inspection authority opens a case or explains
    "reminder_reply_days": 0,  # 提示函: no reply required unless a union sets one
}
GONGHUI_LEGAL_REMIND_WORKDAYS = 2  # remind the union this many working days before a letter's or aid deadline
GONGHUI_LEGAL_AID_FACTS_MAX = 5000
