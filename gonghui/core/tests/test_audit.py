"""Every change of state writes exactly one audit entry (actor, node, changed fields, IP) in the
transaction of the change; a refused or failed write leaves neither the row nor the entry."""

from __future__ import annotations

import pytest
from django.db import transaction

from gonghui.accounts.models import User
from gonghui.accounts.services import worker_profile_update
from gonghui.accounts.tests.helpers import LoginClient, latest_code
from gonghui.core.audit import audit_log
from gonghui.core.context import current_ip
from gonghui.core.models import AuditEntry
from gonghui.orgs.models import Employer, Grant, OrgKind, OrgUnit, Role
from gonghui.testing.fixtures import StaffFactory, WorkerFactory, api_as, uscc_in

pytestmark = pytest.mark.django_db

IP = "198.51.100.23"


@pytest.fixture
def admin(world):
    client = api_as(world.nanshan_admin)
    client.client.defaults["REMOTE_ADDR"] = IP
    return client


class NewEntry:
    """The one audit entry a block of code writes."""

    def __enter__(self):
        self.last = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            entries = list(AuditEntry.objects.filter(id__gt=self.last).order_by("id"))
            assert len(entries) == 1, [(e.action, e.object_repr) for e in entries]
            self.entry = entries[0]
        return False


def _check(entry, *, action, actor, org=None, before=..., after=...):
    assert entry.action == action
    assert (entry.actor_id, entry.actor_label) == (actor.pk, actor.username)
    if org is not None:
        assert (entry.org_id, entry.org_path, entry.province_code) == (org.pk, org.path, org.province_code)
    if before is not ...:
        assert entry.before == before
    if after is not ...:
        assert entry.after == after
    assert entry.ip == IP
    assert entry.created_at is not None


def test_union_create_and_update(world, admin):
    t, actor = world.tree, world.nanshan_admin
    with NewEntry() as new:
        created = admin.post("/api/v1/unions", {"parent_id": t.nantou.pk, "name": "深圳市审计测试有限公司工会委员会",
                                                "kind": OrgKind.GRASSROOTS, "chair_name": "周九"})
    union = OrgUnit.objects.get(pk=created.json()["id"])
    _check(new.entry, action="org.create", actor=actor, org=union, before=None)
    assert new.entry.after["name"] == union.name and new.entry.after["chair_name"] == "周九"
    assert (new.entry.object_type, new.entry.object_id) == ("orgs.orgunit", str(union.pk))

    with NewEntry() as new:
        admin.patch(f"/api/v1/unions/{union.pk}", {"chair_name": "吴十", "industry": "", "name": union.name})
    _check(new.entry, action="org.update", actor=actor, org=union, before={"chair_name": "周九"},
           after={"chair_name": "吴十"})


def test_an_update_that_changes_nothing_records_nothing(world, admin):
    count = AuditEntry.objects.count()
    union = world.tree.nantou_union
    assert admin.patch(f"/api/v1/unions/{union.pk}", {"name": union.name}).status_code == 200
    assert admin.patch(f"/api/v1/employers/{world.tree.nantou_employer.pk}", {"employee_count": 120}).status_code == 200
    assert AuditEntry.objects.count() == count


def test_employer_create_and_update(world, admin):
    t, actor = world.tree, world.nanshan_admin
    with NewEntry() as new:
        created = admin.post("/api/v1/employers", {"org_id": t.nantou.pk, "name": "深圳市审计测试有限公司",
                                                   "uscc": uscc_in("440305001"), "division_code": "440305001",
                                                   "employee_count": 10})
    employer = Employer.objects.get(pk=created.json()["id"])
    _check(new.entry, action="employer.create", actor=actor, org=t.nantou, before=None)
    assert new.entry.after["uscc"] == employer.uscc and new.entry.after["employee_count"] == 10

    with NewEntry() as new:
        admin.patch(f"/api/v1/employers/{employer.pk}", {"employee_count": 12, "address": "南头街道1号",
                                                         "name": employer.name})
    _check(new.entry, action="employer.update", actor=actor, org=t.nantou,
           before={"employee_count": 10, "address": ""}, after={"employee_count": 12, "address": "南头街道1号"})


def test_grants_and_staff_accounts(world, admin):
    t, actor = world.tree, world.nanshan_admin
    with NewEntry() as new:
        admin.post(f"/api/v1/orgs/{t.nantou.pk}/staff-users", {"username": "audit-clerk", "display_name": "郑一"})
    _check(new.entry, action="staff.create", actor=actor, org=t.nantou, after={"username": "audit-clerk"})
    assert "password" not in str(new.entry.after)

    with NewEntry() as new:
        admin.post(f"/api/v1/orgs/{t.nantou.pk}/grants", {"username": "audit-clerk", "role": Role.STAFF})
    _check(new.entry, action="grant.create", actor=actor, org=t.nantou, before=None,
           after={"user": "audit-clerk", "role": "staff", "include_descendants": True, "case_role": ""})

    with NewEntry() as new:
        admin.post(f"/api/v1/orgs/{t.nantou.pk}/grants", {"username": "audit-clerk", "role": Role.VIEWER})
    _check(new.entry, action="grant.update", actor=actor, org=t.nantou, before={"role": "staff"},
           after={"role": "viewer"})

    grant = Grant.objects.get(user__username="audit-clerk")
    with NewEntry() as new:
        assert admin.delete(f"/api/v1/grants/{grant.pk}").status_code == 204
    _check(new.entry, action="grant.revoke", actor=actor, org=t.nantou, before={"user": "audit-clerk", "role": "viewer"})


def test_moves_are_recorded_when_requested_and_when_done(world, admin, django_capture_on_commit_callbacks):
    t, actor, area = world.tree, world.nanshan_admin, world.nantou_area
    with NewEntry() as new:
        response = admin.post(f"/api/v1/orgs/{area.pk}/move", {"new_parent_id": t.nanshan.pk})
    _check(new.entry, action="org.move_request", actor=actor, org=area, before={"parent_id": t.nantou.pk},
           after={"parent_id": t.nanshan.pk})
    from gonghui.orgs.services import org_move_execute

    with NewEntry() as new:
        org_move_execute(response.json()["id"])
    area.refresh_from_db()
    entry = new.entry
    assert (entry.action, entry.actor_id, entry.org_path) == ("org.move", actor.pk, area.path)
    assert entry.before["parent_id"] == t.nantou.pk and entry.after == {"parent_id": t.nanshan.pk, "path": area.path}


def test_worker_registration_and_profile(db, django_capture_on_commit_callbacks, clock):
    login = LoginClient(django_capture_on_commit_callbacks, ip=IP)
    login.send("13800138000")
    with NewEntry() as new:
        assert login.login("13800138000", latest_code("13800138000")).status_code == 200
    worker = User.objects.get(kind=User.Kind.WORKER)
    _check(new.entry, action="worker.register", actor=worker)
    assert new.entry.object_repr == "138****8000" and "13800138000" not in str(new.entry.__dict__)

    ip = current_ip.set(IP)
    try:
        with NewEntry() as new:
            worker_profile_update(actor=worker, display_name="阿卜杜拉·买买提")
    finally:
        current_ip.reset(ip)
    _check(new.entry, action="worker.profile_update", actor=worker, before={"display_name": ""},
           after={"display_name": "阿卜杜拉·买买提"})


def test_the_forwarded_address_is_trusted_only_when_configured(world, settings):
    client = api_as(world.nanshan_admin)
    client.client.defaults.update(REMOTE_ADDR=IP, HTTP_X_FORWARDED_FOR="203.0.113.99, 10.0.0.1")
    union = world.tree.nantou_union
    client.patch(f"/api/v1/unions/{union.pk}", {"chair_name": "甲"})
    assert AuditEntry.objects.order_by("-id").first().ip == IP
    settings.GONGHUI_TRUST_X_FORWARDED_FOR = True
    client.patch(f"/api/v1/unions/{union.pk}", {"chair_name": "乙"})
    assert AuditEntry.objects.order_by("-id").first().ip == "203.0.113.99"


def test_a_refused_write_leaves_no_entry_and_no_row(world, admin):
    t = world.tree
    before = (AuditEntry.objects.count(), OrgUnit.objects.count(), Employer.objects.count(), Grant.objects.count())
    attempts = [
        admin.post("/api/v1/unions", {"parent_id": t.nantou.pk, "name": "x" * 201, "kind": "grassroots"}),
        admin.post("/api/v1/unions", {"parent_id": t.nantou.pk, "name": "重复建会", "kind": "grassroots",
                                      "employer_ids": [t.nantou_employer.pk]}),
        admin.post("/api/v1/employers", {"org_id": t.nantou.pk, "name": "某公司", "uscc": t.nantou_employer.uscc,
                                         "division_code": "440305001"}),
        admin.patch(f"/api/v1/employers/{t.nantou_employer.pk}", {"name": "新名字", "division_code": "440304004"}),
        admin.post(f"/api/v1/orgs/{t.nantou.pk}/grants", {"username": "nobody", "role": "staff"}),
        admin.post(f"/api/v1/orgs/{t.nantou.pk}/staff-users", {"username": "demo-nanshan", "display_name": "某人"}),
        admin.post(f"/api/v1/orgs/{t.nantou.pk}/move", {"new_parent_id": t.yuehai.pk}),
    ]
    assert all(400 <= r.status_code < 500 for r in attempts), [r.status_code for r in attempts]
    assert (AuditEntry.objects.count(), OrgUnit.objects.count(), Employer.objects.count(),
            Grant.objects.count()) == before
    t.nantou_employer.refresh_from_db()
    assert t.nantou_employer.name == "深圳市南头精密制造有限公司"


def test_a_write_that_fails_midway_is_rolled_back_with_its_entry(world, monkeypatch):
    from gonghui.analytics import rollups
    from gonghui.orgs.services import union_create

    t = world.tree
    t.nantou.refresh_from_db()
    before = (AuditEntry.objects.count(), OrgUnit.objects.count(), t.nantou.child_seq)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(rollups, "rollup_add", broken)
    with pytest.raises(RuntimeError):
        union_create(actor=world.nanshan_admin, parent=t.nantou, name="半途失败工会", kind=OrgKind.GRASSROOTS)
    t.nantou.refresh_from_db()
    assert (AuditEntry.objects.count(), OrgUnit.objects.count(), t.nantou.child_seq) == before


def test_anonymous_and_system_actors_are_labelled(db):
    with transaction.atomic():
        entry = audit_log(actor=None, action="system.check", object_type="core.none")
    assert (entry.actor_id, entry.actor_label, entry.org_path) == (None, "", "")


@pytest.mark.django_db(transaction=True)
def test_audit_log_refuses_to_run_outside_a_transaction():
    staff = StaffFactory()
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_log(actor=staff, action="org.update", object_type="orgs.orgunit", object_id="1")
    assert not AuditEntry.objects.exists()
    WorkerFactory()  # the database is still usable
