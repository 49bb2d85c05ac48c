import pytest
from django.contrib import admin

from gonghui.accounts.models import User
from gonghui.testing.fixtures import staff_on

pytestmark = pytest.mark.django_db

CHANGELISTS = [f"/sysadmin/{m._meta.app_label}/{m._meta.model_name}/" for m in admin.site._registry]


@pytest.mark.parametrize("url", CHANGELISTS)
def test_system_administrator_can_open_every_changelist(client, tree, url):
    root = User.objects.create_superuser("sysadmin", "", "sysadmin-password-1")
    client.force_login(root)
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "南山"}).status_code == 200


def test_union_staff_cannot_use_the_admin(client, tree):
    client.force_login(staff_on(tree.nanshan))
    response = client.get("/sysadmin/orgs/orgunit/")
    assert response.status_code == 302 and "/sysadmin/login/" in response["Location"]
