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


def test_member_pages_in_the_admin_are_masked_and_read_only(client, tree):
    from gonghui.membership import services
    from gonghui.membership.tests.helpers import join, make_id_number
    from gonghui.testing.fixtures import WorkerFactory

    number = make_id_number()
    app, _ = join(WorkerFactory(), tree.nantou_employer, id_number=number)
    member = services.application_approve(actor=tree.root_admin, application=app)
    client.force_login(User.objects.create_superuser("sysadmin", "", "sysadmin-password-1"))
    for url in (f"/sysadmin/membership/member/{member.pk}/change/", "/sysadmin/membership/member/",
                f"/sysadmin/membership/application/{app.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 200
        assert number not in response.content.decode() and member.id_masked in response.content.decode()
    assert client.post(f"/sysadmin/membership/member/{member.pk}/change/", {"status": "withdrawn"}).status_code == 403


def test_case_pages_in_the_admin_show_no_case_content(client, tree):
    from gonghui.casedesk.tests.helpers import desk, file_case

    d = desk(tree)
    case = file_case(d.worker, tree.nantou_employer, description="老板拖欠工资三个月，车间所有人都没拿到钱。")
    client.force_login(User.objects.create_superuser("sysadmin", "", "sysadmin-password-1"))
    for url in (f"/sysadmin/casedesk/case/{case.pk}/change/", "/sysadmin/casedesk/case/"):
        response = client.get(url)
        body = response.content.decode()
        assert response.status_code == 200 and case.number in body
        assert "老板拖欠工资" not in body and case.name not in body and d.worker.phone not in body
    assert client.post(f"/sysadmin/casedesk/case/{case.pk}/change/", {"status": "closed"}).status_code == 403
