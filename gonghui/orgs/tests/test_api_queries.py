"""Query counts of the list endpoints are pinned: a per-row query (N+1) fails here, not in production."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gonghui.core.models import AuditEntry
from gonghui.orgs.models import Employer, Grant, OrgKind, OrgUnit, Role
from gonghui.orgs.services import union_create
from gonghui.testing.fixtures import StaffFactory, uscc_in

pytestmark = pytest.mark.django_db

# Token lookup, the caller's grants, then: the node and its page (lists), the node and its parent
# chain (detail), exact-name matches and the rest (search), or just the page (audit).
PINNED = {
    "children": 4,
    "employers": 4,
    "audit": 3,
    "org_audit": 4,
    "staff": 4,
    "detail": 4,
    "org_search": 4,
    "employer_search": 4,
}


@pytest.fixture
def crowded(world):
    """Thirty of everything under 南头街道."""
    t = world.tree
    for i in range(30):
        union_create(actor=t.root_admin, parent=t.nantou, name=f"深圳市南头第{i}号科技有限公司工会委员会", kind=OrgKind.GRASSROOTS)
    Employer.objects.bulk_create([
        Employer(name=f"深圳市南头第{i}号科技有限公司", uscc=uscc_in("440305001"), division_id="440305001", org=t.nantou,
                 org_path=t.nantou.path, province_code="44", name_bigrams="南头 头第 科技", name_initials="szsntd")
        for i in range(30)
    ])
    for _ in range(30):
        user = StaffFactory()
        Grant.objects.create(user=user, org=t.nantou, org_path=t.nantou.path, role=Role.VIEWER, granted_by=t.root_admin)
    AuditEntry.objects.bulk_create([
        AuditEntry(actor=t.root_admin, actor_label="root-admin", org=t.nantou, org_path=t.nantou.path, action="test",
                   object_type="orgs.orgunit", object_id=str(i), object_repr=f"第{i}条") for i in range(30)
    ])
    return world


def _calls(w):
    nantou = w.tree.nantou.pk
    return {
        "children": (f"/api/v1/orgs/{nantou}/children", {"limit": 100}, lambda b: b["items"]),
        "employers": (f"/api/v1/orgs/{nantou}/employers", {"limit": 100}, lambda b: b["items"]),
        "audit": ("/api/v1/audit", {"limit": 100}, lambda b: b["items"]),
        "org_audit": (f"/api/v1/orgs/{nantou}/audit", {"limit": 100}, lambda b: b["items"]),
        "staff": (f"/api/v1/orgs/{nantou}/staff", {}, lambda b: b),
        "detail": (f"/api/v1/orgs/{w.tree.nantou_union.pk}", {}, lambda b: b["ancestors"]),
        "org_search": ("/api/v1/orgs/search", {"q": "南头第", "limit": 100}, lambda b: b),
        "employer_search": ("/api/v1/employers/search", {"q": "南头第", "limit": 100}, lambda b: b),
    }


@pytest.mark.parametrize("name", sorted(PINNED))
def test_list_endpoints_run_a_fixed_number_of_queries(crowded, api, name, django_assert_max_num_queries):
    url, params, items = _calls(crowded)[name]
    client = api(crowded.shenzhen_admin)
    client.get(url, **params)  # the token's last-use stamp is written on first use
    with django_assert_max_num_queries(PINNED[name]):
        response = client.get(url, **params)
    assert response.status_code == 200
    assert len(items(response.json())) >= 4, "the page holds many rows, so a per-row query would show"


@pytest.mark.parametrize("name", sorted(PINNED))
def test_query_count_does_not_grow_with_the_page(crowded, api, name):
    url, params, _items = _calls(crowded)[name]
    client = api(crowded.shenzhen_admin)
    client.get(url, **params)
    counts = []
    for limit in (2, 30):
        query = dict(params, limit=limit) if "limit" in params else params
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, **query).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_the_rows_counted_are_really_there(crowded):
    nantou = crowded.tree.nantou
    assert OrgUnit.objects.filter(parent=nantou).count() >= 30
    assert Employer.objects.filter(org=nantou).count() >= 30
