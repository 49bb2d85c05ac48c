"""Production refuses to start half-configured, with the development SMS outbox, or with demo accounts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from gonghui.core.checks import demo_accounts_check
from gonghui.core.startup import demo_accounts_present, refuse_demo_accounts
from gonghui.testing.fixtures import StaffFactory, WorkerFactory

COMPLETE = {
    "DJANGO_SECRET_KEY": "a-production-secret-key-for-the-test-only",
    "GONGHUI_PII_KEY": "a-production-pii-key-for-the-test-only",
    "DATABASE_URL": "postgres://gonghui@127.0.0.1:1/gonghui",
    "GONGHUI_SMS_GATEWAY": "gonghui.accounts.sms.SmsGateway",
}
PROBE = (
    "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings.production'\n"
    "from django.conf import settings\n"
    "print(settings.DEBUG, settings.GONGHUI_STAFF_2FA_REQUIRED, settings.GONGHUI_REFUSE_DEMO_ACCOUNTS,"
    " settings.SESSION_COOKIE_SECURE, settings.SECRET_KEY == os.environ['DJANGO_SECRET_KEY'])\n"
)


def _import_production(env: dict) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", **env}
    return subprocess.run([sys.executable, "-c", PROBE], cwd=django_settings.BASE_DIR, env=clean,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "GONGHUI_PII_KEY", "DATABASE_URL"])
def test_a_missing_secret_stops_production(missing):
    result = _import_production({k: v for k, v in COMPLETE.items() if k != missing})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and missing in result.stderr


def test_an_empty_secret_is_a_missing_secret():
    result = _import_production({**COMPLETE, "GONGHUI_PII_KEY": ""})
    assert result.returncode != 0 and "GONGHUI_PII_KEY" in result.stderr


@pytest.mark.parametrize("gateway", [None, "gonghui.accounts.sms.OutboxGateway"])
def test_the_development_sms_outbox_stops_production(gateway):
    env = {k: v for k, v in COMPLETE.items() if k != "GONGHUI_SMS_GATEWAY"}
    if gateway:
        env["GONGHUI_SMS_GATEWAY"] = gateway
    result = _import_production(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "GONGHUI_SMS_GATEWAY" in result.stderr


def test_a_complete_environment_starts_with_the_safe_defaults():
    result = _import_production(COMPLETE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "True", "True"]


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["demo-nanshan", "demo-national", "demo-futian", "demo-grassroots",
                                      "demo-worker-001"])
def test_demo_accounts_stop_production(settings, username):
    settings.GONGHUI_REFUSE_DEMO_ACCOUNTS = True
    refuse_demo_accounts()  # a clean database starts
    (WorkerFactory if "worker" in username else StaffFactory)(username=username)
    with pytest.raises(ImproperlyConfigured) as refused:
        refuse_demo_accounts()
    assert username in str(refused.value)
    assert [e.id for e in demo_accounts_check(None)] == ["gonghui.E001"]


@pytest.mark.django_db
def test_demo_accounts_are_allowed_where_production_guards_are_off(settings):
    settings.GONGHUI_REFUSE_DEMO_ACCOUNTS = False
    StaffFactory(username="demo-nanshan")
    refuse_demo_accounts()
    assert demo_accounts_check(None) == []
    assert demo_accounts_present() == ["demo-nanshan"]


@pytest.mark.django_db
def test_real_accounts_do_not_look_like_demo_accounts(settings):
    settings.GONGHUI_REFUSE_DEMO_ACCOUNTS = True
    StaffFactory(username="nanshan-admin")
    StaffFactory(username="demographics-office")
    refuse_demo_accounts()
