"""The cast of the API tests: staff at Nanshan, Shenzhen and Futian, a worker, and targets in Nanshan."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gonghui.accounts.models import User
from gonghui.orgs.models import Employer, Grant, OrgKind, OrgMove, OrgUnit, Role
from gonghui.orgs.services import union_create
from gonghui.testing.fixtures import StaffFactory, Tree, WorkerFactory, staff_on


@dataclass
class World:
    tree: Tree
    nanshan_admin: User
    shenzhen_admin: User
    futian_admin: User
    worker: User
    nantou_staff: User
    nantou_staff_grant: Grant
    newcomer: User  # a staff account created at 南头街道, without any grant yet
    nantou_area: OrgUnit  # a movable federation under 南头街道
    done_move: OrgMove

    def in_nanshan(self, path: str) -> bool:
        return path.startswith(self.tree.nanshan.path)

    def org_in_nanshan(self, org_id: int) -> bool:
        return self.in_nanshan(OrgUnit.objects.get(pk=org_id).path)

    def employer_in_nanshan(self, employer_id: int) -> bool:
        return self.in_nanshan(Employer.objects.get(pk=employer_id).org_path)


def build_world() -> World:
    tree = Tree()
    nanshan_admin = staff_on(tree.nanshan, username="nanshan-admin")
    shenzhen_admin = staff_on(tree.shenzhen, username="shenzhen-admin")
    futian_admin = staff_on(tree.futian, username="futian-admin")
    nantou_staff = staff_on(tree.nantou, Role.STAFF, username="nantou-staff")
    area = union_create(actor=tree.root_admin, parent=tree.nantou, name="南头街道科技园区工会联合会", kind=OrgKind.AREA)
    done_move = OrgMove.objects.create(
        node=area, old_parent=tree.yuehai, new_parent=tree.nantou, old_path=area.path, new_path=area.path,
        status=OrgMove.Status.DONE, requested_by=tree.root_admin,
    )
    return World(
        tree=tree,
        nanshan_admin=nanshan_admin,
        shenzhen_admin=shenzhen_admin,
        futian_admin=futian_admin,
        worker=WorkerFactory(display_name="张三"),
        nantou_staff=nantou_staff,
        nantou_staff_grant=Grant.objects.get(user=nantou_staff),
        newcomer=StaffFactory(username="newcomer", home_org=tree.nantou),
        nantou_area=area,
        done_move=done_move,
    )


@pytest.fixture
def world(db) -> World:
    return build_world()


def rollups_of(orgs) -> dict:
    from gonghui.analytics.rollups import rollup_read

    return {org.name: {k: v for k, v in rollup_read(org.pk).items() if v} for org in orgs}


def assert_rollups_match_rebuild(*orgs) -> None:
    """The incrementally kept totals equal a recount from the rows, for every metric of these nodes."""
    from gonghui.analytics.rollups import rollup_rebuild

    incremental = rollups_of(orgs)
    rollup_rebuild()
    assert incremental == rollups_of(orgs)
