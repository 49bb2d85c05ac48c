"""Shared fixtures: the real territorial tree and the law library are loaded once per test session."""

from __future__ import annotations

import pytest

pytest_plugins = ["gonghui.testing.fixtures", "gonghui.testing.browser"]

# Transactional tests (threads, live server, browser) empty the database after each test, so the
# ones after the first reload a smaller real tree: Guangdong and Beijing.
TRANSACTIONAL_TREE_PROVINCES = {"44", "11"}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from gonghui.legal.library import load_laws
    from gonghui.orgs.divisions import load_divisions
    from gonghui.orgs.occupations import load_occupations

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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Spread the suite over processes (`make test` runs pytest-xdist with `--dist loadgroup
    --no-loadscope-reorder`) without letting a test that needs the full tree run after a
    transactional test on the same process: a transactional test empties the database and the ones
    after it get the smaller tree. Each file is one unit of work (module fixtures stay shared), its
    transactional tests a separate unit; pytest-django orders every transactional test after every
    rolled-back one, and the units are handed out in that order, so on every process the rolled-back
    tests come first."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    from gonghui.testing.fixtures import is_transactional

    for item in items:
        module = item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(f"tx:{module}" if is_transactional(item) else module))


# --- One database server shared by the processes -----------------------------------------------------
# Each process has its own test database, but a test that restarts the server (test_concurrency) cuts
# every process's connections. Every test holds a shared lock on a file of this run while it sets up,
# runs and tears down; the restarting test takes it exclusively (waiting for the other processes'
# current tests to finish, holding back their next ones) and counts a restart, after which the other
# processes drop their dead connections before their next test.

def _run_lock(config):
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        return None
    if not hasattr(config, "_gonghui_run_lock"):
        import tempfile
        from pathlib import Path

        base = Path(tempfile.gettempdir()) / f"gonghui-tests-{workerinput['testrunuid']}"
        config._gonghui_run_lock = (open(f"{base}.lock", "a+"), Path(f"{base}.restarts"), [None])  # noqa: SIM115
    return config._gonghui_run_lock


def _restarts(path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    lock = _run_lock(item.config)
    if lock is None:
        return (yield)
    import fcntl

    handle, restarts, seen = lock
    fcntl.flock(handle, fcntl.LOCK_SH)
    try:
        count = _restarts(restarts)
        if seen[0] is not None and count != seen[0]:
            from django.db import connections

            connections.close_all()  # the server restarted under another process's test
        seen[0] = count
        return (yield)
    finally:
        seen[0] = _restarts(restarts)
        fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture
def database_server_to_itself(request):
    """For a test that restarts the database server: no other process runs a test meanwhile."""
    lock = _run_lock(request.config)
    if lock is None:
        yield
        return
    import fcntl

    handle, restarts, seen = lock
    fcntl.flock(handle, fcntl.LOCK_EX)  # converts this test's shared lock
    try:
        yield
    finally:
        count = str(int(_restarts(restarts) or 0) + 1)
        restarts.write_text(count)
        seen[0] = count
        fcntl.flock(handle, fcntl.LOCK_SH)
