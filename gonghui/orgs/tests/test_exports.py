import pytest

from gonghui.core.models import AuditEntry
from gonghui.orgs.services import employer_create
from gonghui.testing.fixtures import staff_on, uscc_in

pytestmark = pytest.mark.django_db


def _csv(response) -> str:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content).decode("utf-8")


def test_export_is_cut_to_the_subtree(tree, api):
    shenzhen_admin = staff_on(tree.shenzhen)
    nanshan_admin = staff_on(tree.nanshan)
    both = _csv(api(shenzhen_admin).get(f"/api/v1/orgs/{tree.shenzhen.pk}/employers/export"))
    assert tree.nantou_employer.name in both and tree.futian_employer.name in both
    nanshan = _csv(api(nanshan_admin).get(f"/api/v1/orgs/{tree.nanshan.pk}/employers/export"))
    assert tree.nantou_employer.name in nanshan
    assert tree.futian_employer.name not in nanshan
    assert nanshan.startswith("\ufeff单位名称")


def test_export_of_a_node_outside_scope_is_404(tree, api):
    nanshan_admin = staff_on(tree.nanshan)
    response = api(nanshan_admin).get(f"/api/v1/orgs/{tree.futian.pk}/employers/export")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_export_is_audited_with_the_address(tree, api):
    admin = staff_on(tree.nanshan)
    client = api(admin)
    response = client.client.get(
        f"/api/v1/orgs/{tree.nanshan.pk}/employers/export", REMOTE_ADDR="10.1.2.3", **client._headers()
    )
    _csv(response)
    entry = AuditEntry.objects.filter(action="employer.export").latest("id")
    assert entry.actor == admin and entry.org_id == tree.nanshan.pk and entry.ip == "10.1.2.3"


def test_cells_that_look_like_formulas_are_defused(tree, api):
    admin = staff_on(tree.nanshan)
    employer_create(actor=admin, org=tree.nantou, name="=HYPERLINK(\"http://x\")公司", uscc=uscc_in("440305001"),
                    division_code="440305001")
    body = _csv(api(admin).get(f"/api/v1/orgs/{tree.nantou.pk}/employers/export"))
    assert "'=HYPERLINK" in body

