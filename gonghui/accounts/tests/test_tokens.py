"""Bearer tokens: stored hashed, expire, revoked by logout, useless once the account is disabled."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from gonghui.accounts.models import ApiToken, User
from gonghui.accounts.services import token_issue
from gonghui.testing.api_asserts import assert_error
from gonghui.testing.fixtures import PASSWORD, StaffFactory, WorkerFactory, staff_on

pytestmark = pytest.mark.django_db


def _me(token: str):
    return Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_token_reaches_me_and_is_stored_only_as_a_hash(db):
    worker = WorkerFactory(phone="13800138000", display_name="张三")
    token = token_issue(user=worker)
    me = _me(token)
    assert me.status_code == 200
    assert me.json()["phone_masked"] == "138****8000" and "13800138000" not in me.content.decode()
    stored = ApiToken.objects.get(user=worker)
    assert stored.key_hash == hashlib.sha256(token.encode()).hexdigest() and token not in stored.key_hash


def test_the_staff_login_token_lists_the_grants(login_client, tree):
    staff_on(tree.nanshan, username="nanshan-lead")
    token = login_client.staff_login("nanshan-lead", PASSWORD).json()["token"]
    grants = _me(token).json()["grants"]
    assert [(g["org"]["name"], g["role"]) for g in grants] == [("南山区总工会", "admin")]


def test_expired_tokens_are_refused(db):
    worker = WorkerFactory()
    token = token_issue(user=worker)
    ApiToken.objects.filter(user=worker).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(_me(token), 401, "unauthenticated")


def test_tokens_live_for_the_configured_time(db, settings):
    token = token_issue(user=WorkerFactory())
    stored = ApiToken.objects.get()
    assert (stored.expires_at - stored.created_at).total_seconds() == pytest.approx(
        settings.GONGHUI_API_TOKEN_TTL_SECONDS, abs=2)
    assert _me(token).status_code == 200


def test_revoked_tokens_are_refused(db):
    worker = WorkerFactory()
    token = token_issue(user=worker)
    ApiToken.objects.filter(user=worker).update(revoked_at=timezone.now())
    assert_error(_me(token), 401)


def test_logout_revokes_this_token_only(db):
    worker = WorkerFactory()
    phone_token, laptop_token = token_issue(user=worker), token_issue(user=worker)
    response = Client().post("/api/v1/auth/logout", HTTP_AUTHORIZATION=f"Bearer {phone_token}")
    assert response.status_code == 204
    assert_error(_me(phone_token), 401)
    assert _me(laptop_token).status_code == 200
    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 1


def test_logout_without_a_token_must_log_in(db):
    assert_error(Client().post("/api/v1/auth/logout"), 401)


def test_tokens_of_disabled_accounts_are_refused(db):
    staff = StaffFactory()
    token = token_issue(user=staff)
    User.objects.filter(pk=staff.pk).update(is_active=False)
    assert_error(_me(token), 401)


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer not-a-token", "Basic dXNlcjpwYXNz", "token abc",
                                    "Bearer " + "x" * 4000, "Bearer a\tb"])
def test_malformed_authorization_is_unauthenticated(db, header):
    assert_error(Client().get("/api/v1/me", HTTP_AUTHORIZATION=header), 401, "unauthenticated")


def test_no_authorization_is_unauthenticated(db):
    assert_error(Client().get("/api/v1/me"), 401, "unauthenticated")
