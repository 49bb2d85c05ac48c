"""Concurrent writers and a database restart: nothing accepted is lost, nothing is duplicated."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import RequestFactory

from gonghui.accounts.services import token_issue
from gonghui.analytics.rollups import rollup_read
from gonghui.core.errors import ServiceError
from gonghui.orgs.models import Employer, OrgKind, OrgUnit
from gonghui.orgs.services import employer_create, union_create
from gonghui.testing.concurrency import run_together
from gonghui.testing.fixtures import org_by_division, staff_on, uscc_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_union_creation_under_one_parent_gets_distinct_paths():
    nantou = org_by_division("440305001")
    admin = staff_on(nantou)
    before = rollup_read(nantou.pk).get("unions", 0)
    results = run_together(
        lambda i: union_create(actor=admin, parent=nantou, name=f"并发测试{i}号公司工会委员会", kind=OrgKind.GRASSROOTS), 8
    )
    assert all(isinstance(r, OrgUnit) for r in results), results
    paths = {r.path for r in results}
    assert len(paths) == 8
    assert all(p.startswith(nantou.path) and len(p) == len(nantou.path) + 4 for p in paths)
    assert rollup_read(nantou.pk)["unions"] == before + 8


def test_double_submit_of_one_employer_creates_it_once():
    nantou = org_by_division("440305001")
    admin = staff_on(nantou)
    code = uscc_in("440305001")
    results = run_together(
        lambda i: employer_create(actor=admin, org=nantou, name="深圳市重复提交测试有限公司", uscc=code,
                                  division_code="440305001"), 4
    )
    created = [r for r in results if isinstance(r, Employer)]
    refused = [r for r in results if isinstance(r, ServiceError)]
    assert len(created) == 1 and len(refused) == 3, results
    assert all(r.code == "duplicate_uscc" for r in refused)
    assert Employer.objects.filter(uscc=code).count() == 1


def _wsgi_get(path: str, token: str) -> tuple[int, dict]:
    """Call the real WSGI handler (the test Client skips close_old_connections, this does not)."""
    environ = RequestFactory().get(path, HTTP_AUTHORIZATION=f"Bearer {token}").environ
    status: list[str] = []
    body = b"".join(WSGIHandler()(environ, lambda s, headers, exc_info=None: status.append(s)))
    return int(status[0].split()[0]), json.loads(body)


@pytest.mark.skipif(not os.environ.get("GONGHUI_PG_DATADIR"), reason="needs the throwaway cluster of scripts/with_pg.py")
def test_a_database_restart_loses_nothing_and_costs_no_request(database_server_to_itself, api):
    nantou = org_by_division("440305001")
    admin = staff_on(nantou)
    created = api(admin).post("/api/v1/employers", {
        "org_id": nantou.pk, "name": "深圳市重启测试有限公司", "uscc": uscc_in("440305001"), "division_code": "440305001",
    })
    assert created.status_code == 201, created.content
    token = token_issue(user=admin)
    assert connection.connection is not None  # a persistent connection is open
    bindir, datadir = os.environ["GONGHUI_PG_BINDIR"], os.environ["GONGHUI_PG_DATADIR"]
    runas = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run(runas + [f"{bindir}/pg_ctl", "-D", datadir, "-m", "fast", "-w", "restart"],
                   check=True, stdout=subprocess.DEVNULL)
    # The persistent connection died with the server: the health check replaces it, no 500.
    status, fetched = _wsgi_get(f"/api/v1/employers/{created.json()['id']}", token)
    assert status == 200, fetched
    assert fetched["name"] == "深圳市重启测试有限公司"


def test_a_double_submitted_union_is_created_once():
    nantou = org_by_division("440305001")
    admin = staff_on(nantou)
    results = run_together(
        lambda i: union_create(actor=admin, parent=nantou, name="深圳市双击测试有限公司工会委员会", kind=OrgKind.GRASSROOTS), 4
    )
    assert sum(isinstance(r, OrgUnit) for r in results) == 1, results
    assert all(r.code == "duplicate_name" for r in results if isinstance(r, ServiceError))
    assert OrgUnit.objects.filter(parent=nantou, name="深圳市双击测试有限公司工会委员会").count() == 1
