"""认领会籍: a roster-created membership is linked to a worker's account only when both the login
phone and the ID number match (phone numbers are recycled)."""

from __future__ import annotations

import datetime
import secrets

import pytest

from gonghui.core.errors import ValidationFailed
from gonghui.core.models import AuditEntry
from gonghui.membership import selectors, services
from gonghui.membership.models import Member
from gonghui.membership.numbers import member_nos
from gonghui.testing.fixtures import WorkerFactory

from .helpers import make_id_number

pytestmark = pytest.mark.django_db
PHONE = "13712345678"


def roster_member(tree, number: str, phone: str = PHONE) -> Member:
    member = Member(name="李四", gender="M", birth_date=datetime.date(1990, 5, 17), org=tree.nantou_union,
                    org_path=tree.nantou_union.path, province_code="44", joined_on=datetime.date(2026, 11, 1),
                    member_no=member_nos("44", 2026, 1)[0], card_key=secrets.token_urlsafe(16),
                    employment_form="labor_contract", source="roster")
    member.set_id_number(number)
    member.set_phone(phone)
    member.save()
    return member


def test_the_phone_alone_links_nothing_the_id_number_confirms_it(tree):
    number = make_id_number()
    member = roster_member(tree, number)
    worker = WorkerFactory(phone=PHONE)
    assert selectors.my_member(worker) is None
    assert services.member_claimable(worker)
    with pytest.raises(ValidationFailed) as wrong:
        services.member_claim(actor=worker, id_number=make_id_number())
    assert wrong.value.code == "claim_mismatch" and wrong.value.field == "id_number"
    claimed = services.member_claim(actor=worker, id_number=number.lower())
    assert claimed.pk == member.pk and selectors.my_member(worker).pk == member.pk
    assert not services.member_claimable(worker)
    assert AuditEntry.objects.filter(action="membership.link_account", object_id=str(member.pk)).exists()


def test_someone_with_another_phone_cannot_claim_even_with_the_id_number(tree):
    number = make_id_number()
    roster_member(tree, number)
    stranger = WorkerFactory(phone="13900001111")
    assert not services.member_claimable(stranger)
    with pytest.raises(ValidationFailed):
        services.member_claim(actor=stranger, id_number=number)
    assert Member.objects.get().user_id is None


def test_the_api_and_the_portal_claim(tree, api, client):
    number = make_id_number()
    roster_member(tree, number)
    worker = WorkerFactory(phone=PHONE)
    client.force_login(worker)
    page = client.get("/membership/").content.decode()
    assert "认领会籍" in page
    response = api(worker).post("/api/v1/me/membership/claim", {"id_number": "110105194912310021"})
    assert response.status_code == 400 and response.json()["field"] == "id_number"
    response = client.post("/membership/claim/", {"id_number": number})
    assert response.status_code == 302
    assert Member.objects.get().user_id == worker.pk
    assert "认领会籍" not in client.get("/membership/").content.decode()
    assert api(worker).get("/api/v1/me/card").status_code == 200
