"""Shared fixtures: the real territorial tree and the law library are loaded once per test session."""

from __future__ import annotations

import pytest

pytest_plugins = ["gonghui.testing.fixtures", "gonghui.testing.browser"]

# Transactional tests (threads, live server, browser) empty the database after each test, so the
# ones after the first reload a smaller real tree: Guangdong and Beijing.
TRANSACTIONAL_TREE_PROVINCES = {"44", "11"}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from gonghui.orgs.divisions import load_divisions
    from gonghui.orgs.occupations import load_occupations

    from gonghui.legal.library import load_laws

    with django_db_blocker.unblock():
        load_divisions()
        load_occupations()
        load_laws()


@pytest.fixture(autouse=True)
def _territorial_tree(request, django_db_blocker):
    from gonghui.testing.fixtures import is_transactional

    if is_transactional(request.node):
        from gonghui.orgs.divisions import ROOT_PATH, load_divisions
        from gonghui.orgs.models import OrgUnit

        request.getfixturevalue("django_db_setup")
        with django_db_blocker.unblock():
            if not OrgUnit.objects.filter(path=ROOT_PATH).exists():
                from gonghui.orgs.occupations import load_occupations

                load_divisions(provinces=TRANSACTIONAL_TREE_PROVINCES)
                load_occupations()
            from gonghui.casedesk.models import CaseCategory

            if not CaseCategory.objects.exists():  # seeded by a migration; a flush empties it
                from gonghui.casedesk.taxonomy import seed

                seed(CaseCategory)
            from gonghui.legal.models import Law

            if not Law.objects.exists():
                from gonghui.legal.library import load_laws

                load_laws()
    yield
