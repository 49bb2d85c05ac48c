"""Shared fixtures: the real territorial tree is loaded once per test session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from gonghui.orgs.divisions import load_divisions

    with django_db_blocker.unblock():
        load_divisions()


pytest_plugins = ["gonghui.testing.fixtures", "gonghui.testing.browser"]
