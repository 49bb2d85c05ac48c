"""Fixtures of the login tests."""

from __future__ import annotations

import pytest

from gonghui.accounts.tests.helpers import MID_WINDOW, Clock, LoginClient


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Freeze the clock of the rate-limit windows (only theirs: database times are moved explicitly)."""
    frozen = Clock(MID_WINDOW)
    monkeypatch.setattr("gonghui.core.ratelimit.time", frozen)
    return frozen


@pytest.fixture
def login_client(db, django_capture_on_commit_callbacks, clock) -> LoginClient:
    return LoginClient(django_capture_on_commit_callbacks)
