import pytest

from gonghui.orgs.models import Role
from gonghui.testing.fixtures import staff_on

pytestmark = pytest.mark.django_db


def test_a_node_only_grant_sees_the_nodes_own_figures_not_the_subtree(tree, api):
    only_nanshan = staff_on(tree.nanshan, Role.ADMIN, include_descendants=False)
    stats = api(only_nanshan).get(f"/api/v1/orgs/{tree.nanshan.pk}/stats").json()
    assert stats["scope"] == "node"
    assert stats["unions"] == 0 and stats["employers"] == 0 and stats["staff"] == 1
    full = api(staff_on(tree.nanshan)).get(f"/api/v1/orgs/{tree.nanshan.pk}/stats").json()
    assert full["scope"] == "subtree" and full["unions"] >= 10 and full["employers"] >= 1


@pytest.mark.parametrize("field", ["employee_count", "is_platform"])
def test_patching_a_required_employer_field_with_null_is_refused(tree, api, field):
    admin = staff_on(tree.nanshan)
    response = api(admin).patch(f"/api/v1/employers/{tree.nantou_employer.pk}", {field: None})
    assert response.status_code == 400 and response.json()["field"] == field
    tree.nantou_employer.refresh_from_db()
    assert tree.nantou_employer.employee_count == 120
