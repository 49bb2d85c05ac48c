"""The access matrix: every staff endpoint under /api/v1/, run against a target in 南山区 as the
node's admin, an ancestor's admin, a sibling's admin, a plain worker and an anonymous caller.

Adding an endpoint is one line in ENDPOINTS; test_every_api_path_is_in_the_matrix fails until it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.test import Client

from gonghui.accounts.models import User
from gonghui.core.models import AuditEntry
from gonghui.orgs.models import Employer, Grant, OrgKind, OrgMove, OrgUnit, Role
from gonghui.orgs.tests.world import World
from gonghui.testing.api_asserts import assert_error
from gonghui.testing.fixtures import api_as, uscc_in

pytestmark = pytest.mark.django_db

ID = "id"  # addressed by an id in the Nanshan subtree: outsiders get 404
SEARCH_ORGS = "search_orgs"  # a list cut to the caller's scope: outsiders get nothing of Nanshan's
SEARCH_EMPLOYERS = "search_employers"
AUDIT = "audit"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as in the OpenAPI document
    params: Callable[[World], dict] = lambda w: {}  # path parameters
    body: Callable[[World], dict] | None = None  # JSON body, or query string for GET
    ok: int = 200
    kind: str = ID
    label: str = ""
    public_for_workers: bool = False  # workers use it too (the employer finder), with public fields only
    meta: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}{' ' + self.label if self.label else ''}"


def _new_employer(w: World) -> dict:
    return {"org_id": w.tree.nantou.pk, "name": "深圳市南头矩阵测试有限公司", "uscc": uscc_in("440305001"),
            "division_code": "440305001", "employee_count": 12}


ENDPOINTS = [
    Endpoint("GET", "/api/v1/orgs/{org_id}", lambda w: {"org_id": w.tree.nantou.pk}),
    Endpoint("GET", "/api/v1/orgs/{org_id}/children", lambda w: {"org_id": w.tree.nantou.pk}),
    Endpoint("GET", "/api/v1/orgs/{org_id}/stats", lambda w: {"org_id": w.tree.nantou.pk}),
    Endpoint("GET", "/api/v1/orgs/{org_id}/employers", lambda w: {"org_id": w.tree.nantou.pk}),
    Endpoint("GET", "/api/v1/orgs/{org_id}/employers/export", lambda w: {"org_id": w.tree.nantou.pk}),
    Endpoint("GET", "/api/v1/orgs/{org_id}/staff", lambda w: {"org_id": w.tree.nantou.pk}),
    Endpoint("GET", "/api/v1/orgs/{org_id}/audit", lambda w: {"org_id": w.tree.nantou.pk}),
    Endpoint("POST", "/api/v1/unions", body=lambda w: {
        "parent_id": w.tree.nantou.pk, "name": "深圳市南头矩阵测试有限公司工会委员会", "kind": OrgKind.GRASSROOTS}, ok=201),
    Endpoint("PATCH", "/api/v1/unions/{org_id}", lambda w: {"org_id": w.tree.nantou_union.pk},
             body=lambda w: {"chair_name": "李四"}),
    Endpoint("GET", "/api/v1/employers/{employer_id}", lambda w: {"employer_id": w.tree.nantou_employer.pk}),
    Endpoint("POST", "/api/v1/employers", body=_new_employer, ok=201),
    Endpoint("PATCH", "/api/v1/employers/{employer_id}", lambda w: {"employer_id": w.tree.nantou_employer.pk},
             body=lambda w: {"address": "南山区南头街道深南大道1号"}),
    Endpoint("POST", "/api/v1/orgs/{org_id}/move", lambda w: {"org_id": w.nantou_area.pk},
             body=lambda w: {"new_parent_id": w.tree.nanshan.pk}, ok=202),
    Endpoint("GET", "/api/v1/moves/{move_id}", lambda w: {"move_id": w.done_move.pk}),
    Endpoint("POST", "/api/v1/orgs/{org_id}/grants", lambda w: {"org_id": w.tree.nantou.pk},
             body=lambda w: {"username": w.newcomer.username, "role": Role.STAFF}, ok=201),
    Endpoint("DELETE", "/api/v1/grants/{grant_id}", lambda w: {"grant_id": w.nantou_staff_grant.pk}, ok=204),
    Endpoint("POST", "/api/v1/orgs/{org_id}/staff-users", lambda w: {"org_id": w.tree.nantou.pk},
             body=lambda w: {"username": "nantou-clerk", "display_name": "王五"}, ok=201),
    Endpoint("GET", "/api/v1/orgs/search", body=lambda w: {"q": "南头"}, kind=SEARCH_ORGS, label="by name"),
    Endpoint("GET", "/api/v1/orgs/search", body=lambda w: {"q": "ntjd"}, kind=SEARCH_ORGS, label="by initials"),
    Endpoint("GET", "/api/v1/orgs/search", body=lambda w: {"q": "440305001"}, kind=SEARCH_ORGS, label="by code"),
    Endpoint("GET", "/api/v1/employers/search", body=lambda w: {"q": "南头精密"}, kind=SEARCH_EMPLOYERS,
             label="by name", public_for_workers=True),
    Endpoint("GET", "/api/v1/employers/search", body=lambda w: {"q": w.tree.nantou_employer.uscc},
             kind=SEARCH_EMPLOYERS, label="by uscc", public_for_workers=True),
    Endpoint("GET", "/api/v1/audit", kind=AUDIT),
]

# Endpoints every caller uses for themselves; they address nothing in the tree.
NOT_STAFF_ENDPOINTS = {
    ("POST", "/api/v1/auth/sms-code"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/staff/login"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/me"),
}

PUBLIC_EMPLOYER_FIELDS = {"id", "name", "uscc", "division_code", "division_name"}


def call(endpoint: Endpoint, w: World, user: User | None):
    client = api_as(user)
    url = endpoint.path.format(**endpoint.params(w))
    data = endpoint.body(w) if endpoint.body else None
    if endpoint.method == "GET":
        return client.get(url, **(data or {}))
    return {"POST": client.post, "PATCH": client.patch, "DELETE": lambda u, _d: client.delete(u)}[endpoint.method](url, data)


def state(w: World) -> dict:
    """Everything a refused write could have touched."""
    return {
        "orgs": OrgUnit.objects.count(),
        "org_paths": list(OrgUnit.objects.filter(path__startswith=w.tree.nanshan.path)
                          .values_list("id", "path", "name", "chair_name").order_by("id")),
        "employers": list(Employer.objects.values_list("id", "name", "uscc", "address", "org_id").order_by("id")),
        "grants": list(Grant.objects.values_list("id", "user_id", "org_id", "role").order_by("id")),
        "moves": OrgMove.objects.count(),
        "users": User.objects.count(),
    }


def nanshan_items(endpoint: Endpoint, w: World, body) -> list:
    if endpoint.kind == SEARCH_ORGS:
        return [item for item in body if w.org_in_nanshan(item["id"])]
    if endpoint.kind == SEARCH_EMPLOYERS:
        return [item for item in body if w.employer_in_nanshan(item["id"])]
    if endpoint.kind == AUDIT:
        return [item for item in body["items"] if w.in_nanshan(AuditEntry.objects.get(pk=item["id"]).org_path)]
    raise AssertionError(endpoint.kind)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
@pytest.mark.parametrize("who", ["nanshan_admin", "shenzhen_admin"])
def test_the_nodes_admin_and_an_ancestors_admin_are_allowed(world, endpoint, who):
    response = call(endpoint, world, getattr(world, who))
    assert response.status_code == endpoint.ok, response.content[:500]
    if endpoint.kind != ID:
        body = response.json()
        assert nanshan_items(endpoint, world, body), "the Nanshan data is found by those who may see it"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_a_siblings_admin_gets_nothing_of_nanshan(world, endpoint):
    before = state(world)
    response = call(endpoint, world, world.futian_admin)
    if endpoint.kind == ID:
        assert_error(response, 404, "not_found")
    else:
        assert response.status_code == 200, response.content[:500]
        assert nanshan_items(endpoint, world, response.json()) == []
    assert state(world) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_a_plain_worker_gets_no_staff_data(world, endpoint):
    before = state(world)
    response = call(endpoint, world, world.worker)
    if endpoint.public_for_workers:
        assert response.status_code == 200
        assert response.json(), "the employer finder works for workers"
        assert all(set(item) == PUBLIC_EMPLOYER_FIELDS for item in response.json())
    else:
        assert response.status_code in (403, 404), response.content[:500]
        assert_error(response, response.status_code)
    assert state(world) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_an_anonymous_caller_must_log_in(world, endpoint):
    before = state(world)
    response = call(endpoint, world, None)
    assert_error(response, 401, "unauthenticated")
    assert state(world) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_page_sessions_reach_no_more_and_need_csrf_to_write(world, endpoint):
    """A worker's page session reads no more than the worker's token does; a staff session cannot be
    used for a cross-site write."""
    client = Client()
    client.force_login(world.worker)
    url = endpoint.path.format(**endpoint.params(world))
    data = endpoint.body(world) if endpoint.body else {}
    if endpoint.method == "GET":
        response = client.get(url, data)
        if endpoint.public_for_workers:
            assert response.status_code == 200
            return
        assert response.status_code in (403, 404)
    else:
        # Session callers must also pass the CSRF check: a forged cross-site write never lands.
        before = state(world)
        client = Client(enforce_csrf_checks=True)
        client.force_login(world.nanshan_admin)
        response = getattr(client, endpoint.method.lower())(url, data, content_type="application/json")
        assert response.status_code in (401, 403), response.content[:300]
        assert state(world) == before


def test_every_api_path_is_in_the_matrix(client):
    """A new /api/v1 endpoint cannot skip the access matrix: list it in ENDPOINTS (or, if it addresses
    nothing in the tree, in NOT_STAFF_ENDPOINTS)."""
    document = client.get("/api/openapi.json").json()
    operations = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        if path.startswith("/api/v1/")
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    in_matrix = {(e.method, e.path) for e in ENDPOINTS}
    assert operations - NOT_STAFF_ENDPOINTS - in_matrix == set(), "endpoints missing from the access matrix"
    assert in_matrix - operations == set(), "the matrix lists endpoints that no longer exist"
    assert NOT_STAFF_ENDPOINTS <= operations
