"""Factories and fixtures used across the test suite."""

from __future__ import annotations

import itertools
import random

import factory
import pytest
from django.test import Client

from gonghui.accounts.models import User
from gonghui.analytics.rollups import STAFF, rollup_add
from gonghui.orgs.demo import make_uscc
from gonghui.orgs.models import Division, Grant, OrgKind, OrgUnit, Role
from gonghui.orgs.services import employer_create, union_create

PASSWORD = "test-password-123"
_rng = random.Random(7)
_seq = itertools.count(1)


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    display_name = factory.Sequence(lambda n: f"工作人员{n}")
    kind = User.Kind.STAFF
    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save()


class WorkerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"worker{n}")
    kind = User.Kind.WORKER

    @factory.post_generation
    def phone(obj, create, extracted, **kwargs):
        obj.set_phone(extracted or f"139{next(_seq):08d}")
        obj.set_unusable_password()
        if create:
            obj.save()


def is_transactional(item) -> bool:
    """Whether a test (a pytest item, or request.node) runs on a real, committed database: it empties
    the database afterwards instead of rolling back."""
    marker = item.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")
                               or (marker.args and marker.args[0])):
        return True
    return bool({"transactional_db", "live_server", "django_db_reset_sequences"} & set(item.fixturenames))


def org_by_division(code: str) -> OrgUnit:
    return OrgUnit.objects.get(division_id=code, kind__in=["province", "city", "county", "township"])


def staff_on(org: OrgUnit, role: str = Role.ADMIN, include_descendants: bool = True, case_role: str = "",
             **kwargs) -> User:
    kwargs.setdefault("home_org", org)
    user = StaffFactory(**kwargs)
    Grant.objects.create(user=user, org=org, org_path=org.path, role=role, include_descendants=include_descendants,
                         case_role=case_role)
    rollup_add(org.path, {STAFF: 1})
    return user


def uscc_in(division_code: str) -> str:
    return make_uscc(_rng, division_code)


class Tree:
    """A small, realistic slice: Guangdong → Shenzhen → Nanshan/Futian → townships, with unions."""

    def __init__(self):
        self.national = OrgUnit.objects.get(kind=OrgKind.NATIONAL)
        self.guangdong = org_by_division("440000")
        self.shenzhen = org_by_division("440300")
        self.nanshan = org_by_division("440305")
        self.futian = org_by_division("440304")
        self.nantou = org_by_division("440305001")
        self.yuehai = org_by_division("440305007")
        self.futian_street = org_by_division("440304004")
        self.beijing = org_by_division("110000")
        self.root_admin = staff_on(self.national, username="root-admin")
        self.nantou_employer = employer_create(
            actor=self.root_admin, org=self.nantou, name="深圳市南头精密制造有限公司", uscc=uscc_in("440305001"),
            division_code="440305001", employee_count=120,
        )
        self.nantou_union = union_create(
            actor=self.root_admin, parent=self.nantou, name="深圳市南头精密制造有限公司工会委员会",
            kind=OrgKind.GRASSROOTS, employer_ids=[self.nantou_employer.pk],
        )
        self.futian_employer = employer_create(
            actor=self.root_admin, org=self.futian_street, name="深圳市福田商贸有限公司", uscc=uscc_in("440304004"),
            division_code="440304004", employee_count=40,
        )
        self.futian_union = union_create(
            actor=self.root_admin, parent=self.futian_street, name="深圳市福田商贸有限公司工会委员会",
            kind=OrgKind.GRASSROOTS, employer_ids=[self.futian_employer.pk],
        )
        for obj in (self.nantou_employer, self.futian_employer):
            obj.refresh_from_db()


@pytest.fixture
def tree(db) -> Tree:
    return Tree()


@pytest.fixture
def division(db):
    return lambda code: Division.objects.get(code=code)


class ApiClient:
    """A JSON client that logs in through the real endpoints."""

    def __init__(self, token: str | None = None):
        self.client = Client()
        self.token = token

    def _headers(self):
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}

    def get(self, url, **params):
        return self.client.get(url, params, **self._headers())

    def post(self, url, data=None):
        return self.client.post(url, data or {}, content_type="application/json", **self._headers())

    def patch(self, url, data=None):
        return self.client.patch(url, data or {}, content_type="application/json", **self._headers())

    def delete(self, url):
        return self.client.delete(url, **self._headers())


def api_as(user: User | None) -> ApiClient:
    if user is None:
        return ApiClient()
    from gonghui.accounts.services import token_issue

    return ApiClient(token_issue(user=user))


@pytest.fixture
def api():
    return api_as
