"""The membership API contract: join, the approval queue, the card and its check at a service point,
rejection, transfer, corrections, policy, numbers and the audited reveal of an ID number."""

from __future__ import annotations

import datetime
import time
from unittest import mock

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from gonghui.core import pii
from gonghui.core.models import AuditEntry
from gonghui.membership import cards
from gonghui.membership.models import Application, ChangeRequest, Member, MembershipPolicy, Notice, OrgNotice
from gonghui.membership.numbers import is_valid_member_no
from gonghui.orgs.models import Role
from gonghui.testing.api_asserts import assert_error
from gonghui.testing.fixtures import WorkerFactory, api_as, staff_on

from .helpers import make_id_number

pytestmark = pytest.mark.django_db

JOIN = "/api/v1/membership/applications"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


def join_body(employer=None, **extra) -> dict:
    body = {"name": "张三", "id_number": make_id_number(), "employment_form": "labor_contract", "consent": True}
    if employer is not None:
        body["employer_id"] = employer.pk
    body.update(extra)
    return body


def post_form(user, url: str, data: dict):
    """A multipart/form-data POST (the corrections endpoint takes a form with an optional file)."""
    client = api_as(user)
    return client.client.post(url, data, **client._headers())


def put_json(user, url: str, data: dict):
    client = api_as(user)
    return client.client.put(url, data, content_type="application/json", **client._headers())


def joined_member(tree, worker=None, **extra) -> tuple:
    """(worker, member JSON) for a worker of 南头精密 approved through the API."""
    worker = worker or WorkerFactory()
    app = api_as(worker).post(JOIN, join_body(tree.nantou_employer, **extra)).json()
    member = api_as(tree.root_admin).post(f"{JOIN}/{app['id']}/approve").json()
    return worker, member


# --- Join, queue, approval, card --------------------------------------------------------------------


def test_a_worker_joins_once_and_sees_the_application(tree, api):
    worker = WorkerFactory()
    body = join_body(tree.nantou_employer)
    first = api(worker).post(JOIN, body)
    assert first.status_code == 201, first.content
    app = first.json()
    assert app["status"] == "pending" and app["status_label"] == "待审批"
    assert app["union"] == {"id": tree.nantou_union.pk, "name": tree.nantou_union.name}
    assert app["route_rule"] == "employer_union" and tree.nantou_union.name in app["route_reason"]
    assert datetime.datetime.fromisoformat(app["due_at"]) > datetime.datetime.fromisoformat(app["submitted_at"])
    assert app["id_masked"] == pii.mask_id_number(body["id_number"]) and body["id_number"] not in first.content.decode()

    again = api(worker).post(JOIN, body)
    assert again.status_code == 200 and again.json()["id"] == app["id"]
    assert Application.objects.count() == 1

    mine = api(worker).get("/api/v1/me/membership").json()
    assert mine["member"] is None and mine["pending_transfer"] is None
    assert [(a["id"], a["status"]) for a in mine["applications"]] == [(app["id"], "pending")]


def test_the_queue_is_paged_by_cursor_in_due_order(tree, api):
    ids = [api(WorkerFactory()).post(JOIN, join_body(tree.nantou_employer)).json()["id"] for _ in range(5)]
    base = timezone.now() + datetime.timedelta(days=2)
    # Reverse the submission order, with a tie on the due time (broken by id).
    for offset, pk in zip([4, 3, 3, 1, 0], ids, strict=True):
        Application.objects.filter(pk=pk).update(due_at=base + datetime.timedelta(hours=offset))
    expected = [pk for _, pk in sorted(
        (Application.objects.get(pk=pk).due_at, pk) for pk in ids)]
    assert expected != ids

    clerk = staff_on(tree.nantou_union, Role.STAFF)
    params = {"node": tree.nantou_union.pk, "status": "pending", "limit": 2}
    page1 = api(clerk).get(JOIN, **params).json()
    page2 = api(clerk).get(JOIN, **params, cursor=page1["next_cursor"]).json()
    page3 = api(clerk).get(JOIN, **params, cursor=page2["next_cursor"]).json()
    assert [len(p["items"]) for p in (page1, page2, page3)] == [2, 2, 1]
    assert page3["next_cursor"] is None
    assert [item["id"] for p in (page1, page2, page3) for item in p["items"]] == expected
    first = api(clerk).get(JOIN, **params).json()["items"][0]
    assert first["name"] == "张三" and first["union"]["id"] == tree.nantou_union.pk  # staff see the full name
    assert api(clerk).get(JOIN, node=tree.nantou_union.pk, status="approved").json()["items"] == []
    assert_error(api(clerk).get(JOIN, node=tree.nantou_union.pk, status="done"), 400, "status_invalid", "status")


def test_approval_makes_a_member_with_a_number_and_a_card(tree, api):
    worker = WorkerFactory()
    body = join_body(tree.nantou_employer)
    app = api(worker).post(JOIN, body).json()
    clerk = staff_on(tree.nantou_union, Role.STAFF)
    approved = api(clerk).post(f"{JOIN}/{app['id']}/approve")
    assert approved.status_code == 200, approved.content
    member = approved.json()
    assert is_valid_member_no(member["member_no"]) and member["status"] == "active"
    assert member["union"] == {"id": tree.nantou_union.pk, "name": tree.nantou_union.name}
    assert api(clerk).post(f"{JOIN}/{app['id']}/approve").json()["id"] == member["id"]  # a double click
    assert Member.objects.count() == 1

    mine = api(worker).get("/api/v1/me/membership").json()
    assert mine["member"]["member_no"] == member["member_no"]
    assert mine["applications"][0]["status"] == "approved"

    frozen = timezone.now().replace(microsecond=0)  # the JSON carries milliseconds
    with mock.patch("django.utils.timezone.now", return_value=frozen):
        card = api(worker).get("/api/v1/me/card")
    assert card.status_code == 200, card.content
    card = card.json()
    assert card["member_no"] == member["member_no"] and card["name"] == "张三"
    assert card["union"] == {"id": tree.nantou_union.pk, "name": tree.nantou_union.name}
    assert datetime.datetime.fromisoformat(card["expires_at"]) == frozen + datetime.timedelta(
        seconds=settings.GONGHUI_CARD_TOKEN_SECONDS)
    assert card["qr_token"] and member["member_no"] not in card["qr_token"]


def _card_token(worker, at: float) -> str:
    """The QR token as the worker's phone showed it at `at` (epoch seconds)."""
    with mock.patch("time.time", return_value=at):
        response = api_as(worker).get("/api/v1/me/card")
    assert response.status_code == 200, response.content
    return response.json()["qr_token"]


def _verify(token: str, at: float | None = None):
    checker = staff_on_any()
    if at is None:
        return api_as(checker).get("/api/v1/cards/verify", token=token)
    with mock.patch("time.time", return_value=at):
        return api_as(checker).get("/api/v1/cards/verify", token=token)


def staff_on_any():
    from gonghui.orgs.models import OrgUnit

    return staff_on(OrgUnit.objects.get(kind="national"), Role.VIEWER)


def test_a_card_qr_is_valid_then_expires_without_waiting(tree):
    worker, member = joined_member(tree)
    issued = float(int(time.time()))
    token = _card_token(worker, issued)
    seconds = settings.GONGHUI_CARD_TOKEN_SECONDS

    ok = _verify(token, issued + seconds - 1)
    assert ok.status_code == 200, ok.content
    body = ok.json()
    assert body["status"] == "valid"
    assert body["name_masked"] == "张*" and body["union"] == tree.nantou_union.name
    assert body["member_no_masked"] != member["member_no"]
    assert body["member_no_masked"][:4] == member["member_no"][:4]
    text = ok.content.decode()
    id_number = Member.objects.get(pk=member["id"]).id_number
    for secret in ("张三", id_number, id_number[-8:], member["member_no"]):
        assert secret not in text

    late = _verify(token, issued + seconds + 1).json()
    assert late["status"] == "expired" and late["name_masked"] is None and late["union"] is None


def test_a_card_qr_is_revoked_by_withdrawal_and_by_a_card_revoke(tree):
    worker, member = joined_member(tree)
    other_worker, other = joined_member(tree, name="李四")
    old = _card_token(worker, time.time())
    other_old = _card_token(other_worker, time.time())
    assert _verify(old).json()["status"] == "valid"

    withdrawn = api_as(tree.root_admin).post(f"/api/v1/membership/members/{member['id']}/status",
                                             {"status": "withdrawn", "reason": "本人申请退会"})
    assert withdrawn.status_code == 200, withdrawn.content
    assert _verify(old).json() | {"checked_at": None} == {
        "status": "revoked", "name_masked": None, "union": None, "member_no_masked": None, "checked_at": None}
    assert_error(api_as(worker).get("/api/v1/me/card"), 404, "not_found")

    cards.card_revoke(actor=other_worker, member=Member.objects.get(pk=other["id"]))
    assert _verify(other_old).json()["status"] == "revoked"
    assert _verify(_card_token(other_worker, time.time())).json()["status"] == "valid"


def test_a_garbage_or_tampered_qr_is_invalid(tree):
    worker, _ = joined_member(tree)
    token = _card_token(worker, time.time())
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in ("garbage", tampered, token + "x", "x" * 250):
        body = _verify(bad).json()
        assert body["status"] == "invalid" and body["name_masked"] is None, bad
    assert_error(_verify("y" * 301), 400, "invalid_input", "token")


# --- Rejection ---------------------------------------------------------------------------------------


def test_the_worker_sees_why_the_application_was_rejected(tree, api):
    worker = WorkerFactory()
    app = api(worker).post(JOIN, join_body(tree.nantou_employer)).json()
    clerk = staff_on(tree.nantou_union, Role.STAFF)
    assert_error(api(clerk).post(f"{JOIN}/{app['id']}/reject", {"reason": " "}), 400, "reason_required", "reason")
    rejected = api(clerk).post(f"{JOIN}/{app['id']}/reject", {"reason": "经核实您已离职，请在新单位申请"})
    assert rejected.status_code == 200, rejected.content
    assert rejected.json()["status"] == "rejected"
    mine = api(worker).get("/api/v1/me/membership").json()
    assert mine["member"] is None
    assert mine["applications"][0]["status"] == "rejected"
    assert mine["applications"][0]["reject_reason"] == "经核实您已离职，请在新单位申请"
    assert "经核实您已离职" in Notice.objects.get(user=worker).body
    assert_error(api(clerk).post(f"{JOIN}/{app['id']}/approve"), 409, "not_pending", "status")
    assert not Member.objects.exists()


def test_a_worker_withdraws_a_pending_application_and_may_apply_again(tree, api):
    worker = WorkerFactory()
    body = join_body(tree.nantou_employer)
    app = api(worker).post(JOIN, body).json()
    withdrawn = api(worker).post(f"{JOIN}/{app['id']}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    again = api(worker).post(JOIN, body)
    assert again.status_code == 201 and again.json()["id"] != app["id"]


# --- Transfer -----------------------------------------------------------------------------------------


def test_a_transfer_is_done_by_the_receiving_union_and_the_old_one_is_told(tree, api):
    worker, member = joined_member(tree)
    requested = api(worker).post("/api/v1/membership/transfers", {
        "employer_id": tree.futian_employer.pk, "employment_form": "labor_contract", "job_title": "店长"})
    assert requested.status_code == 201, requested.content
    transfer = requested.json()
    assert transfer["to_union"] == {"id": tree.futian_union.pk, "name": tree.futian_union.name}
    assert transfer["from_union"]["id"] == tree.nantou_union.pk and transfer["status"] == "pending"
    mine = api(worker).get("/api/v1/me/membership").json()
    assert mine["member"]["status"] == "transferring" and mine["pending_transfer"]["id"] == transfer["id"]

    old_clerk = staff_on(tree.nantou_union, Role.STAFF)
    assert_error(api(old_clerk).post(f"/api/v1/membership/transfers/{transfer['id']}/accept"), 403)
    new_clerk = staff_on(tree.futian_union, Role.STAFF)
    incoming = api(new_clerk).get("/api/v1/membership/transfers", node=tree.futian_union.pk).json()["items"]
    assert [t["id"] for t in incoming] == [transfer["id"]]

    accepted = api(new_clerk).post(f"/api/v1/membership/transfers/{transfer['id']}/accept")
    assert accepted.status_code == 200, accepted.content
    moved = accepted.json()
    assert moved["union"]["id"] == tree.futian_union.pk and moved["status"] == "active"
    assert moved["member_no"] == member["member_no"] and moved["job_title"] == "店长"

    detail = api(new_clerk).get(f"/api/v1/membership/members/{member['id']}").json()
    assert [(e["action"], e["to_status"]) for e in detail["history"]] == [
        ("join", "active"), ("transfer_request", "transferring"), ("transfer_in", "active")]
    assert detail["history"][-1]["union"] == tree.futian_union.name
    kinds = set(OrgNotice.objects.filter(org=tree.nantou_union).values_list("kind", flat=True))
    assert kinds == {"transfer_out", "transfer_done"}
    assert OrgNotice.objects.filter(org=tree.futian_union, kind="transfer_in").count() == 1
    assert Notice.objects.filter(user=worker, title="会员关系接转完成").count() == 1
    # The old union no longer holds the member.
    assert_error(api(old_clerk).get(f"/api/v1/membership/members/{member['id']}"), 404, "not_found")
    assert api(worker).get("/api/v1/me/membership").json()["pending_transfer"] is None


# --- Corrections -------------------------------------------------------------------------------------


def test_a_member_corrects_the_name_and_staff_approve(tree, api):
    worker, member = joined_member(tree)
    submitted = post_form(worker, "/api/v1/me/membership/corrections", {"name": "张叁", "reason": "户口本姓名为张叁"})
    assert submitted.status_code == 201, submitted.content
    correction = submitted.json()
    assert correction["status"] == "pending" and correction["changes"] == {"name": "张叁"}
    assert correction["has_evidence"] is False

    clerk = staff_on(tree.nantou_union, Role.STAFF)
    queue = api(clerk).get("/api/v1/membership/corrections", node=tree.nantou_union.pk).json()["items"]
    assert [c["id"] for c in queue] == [correction["id"]]
    decided = api(clerk).post(f"/api/v1/membership/corrections/{correction['id']}/decide", {"approve": True})
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    assert api(clerk).get(f"/api/v1/membership/members/{member['id']}").json()["name"] == "张叁"
    assert api(worker).get("/api/v1/me/card").json()["name"] == "张叁"
    assert AuditEntry.objects.filter(action="membership.change_approve", after__name="张叁").count() == 1


def test_an_id_number_correction_needs_evidence(tree, api):
    worker, member = joined_member(tree)
    new_number = make_id_number("440305", datetime.date(1990, 5, 18))
    url = "/api/v1/me/membership/corrections"
    assert_error(post_form(worker, url, {"id_number": new_number}), 400, "evidence_required", "evidence")
    fake = SimpleUploadedFile("身份证.png", b"GIF89a" + b"\x00" * 32, content_type="image/png")
    assert_error(post_form(worker, url, {"id_number": new_number, "evidence": fake}), 400, "evidence_type", "evidence")
    assert not ChangeRequest.objects.exists()

    evidence = SimpleUploadedFile("身份证.png", PNG, content_type="image/png")
    submitted = post_form(worker, url, {"id_number": new_number, "evidence": evidence})
    assert submitted.status_code == 201, submitted.content
    body = submitted.json()
    assert body["status"] == "pending" and body["has_evidence"] is True
    assert body["changes"] == {"id_number": pii.mask_id_number(new_number)}
    assert new_number not in submitted.content.decode()
    stored = ChangeRequest.objects.get()
    assert new_number not in str(stored.changes) and new_number not in stored.changes_encrypted  # never in clear

    clerk = staff_on(tree.nantou_union, Role.STAFF)
    api(clerk).post(f"/api/v1/membership/corrections/{body['id']}/decide", {"approve": True})
    changed = Member.objects.get(pk=member["id"])
    assert changed.id_number == new_number and changed.birth_date == datetime.date(1990, 5, 18)
    assert ChangeRequest.objects.get().changes_encrypted == ""


# --- Policy ---------------------------------------------------------------------------------------------


def test_only_an_admin_sets_the_policy_and_children_inherit_it(tree, api):
    admin = staff_on(tree.nantou)
    clerk = staff_on(tree.nantou, Role.STAFF)
    url = f"/api/v1/membership/policy/{tree.nantou.pk}"
    default = api(clerk).get(url)
    assert default.status_code == 200
    assert default.json() == {"org_id": tree.nantou.pk, "auto_approve": False,
                              "decide_within_days": settings.GONGHUI_MEMBERSHIP_DECIDE_DAYS,
                              "routing": list(settings.GONGHUI_MEMBERSHIP_ROUTING)}

    assert_error(put_json(clerk, url, {"auto_approve": True}), 403, "forbidden")
    assert_error(put_json(staff_on(tree.nantou, Role.VIEWER), url, {"auto_approve": True}), 403, "forbidden")
    assert not MembershipPolicy.objects.exists()

    rules = ["township", "employer_union", "county"]
    saved = put_json(admin, url, {"auto_approve": True, "decide_within_days": 5, "routing": rules})
    assert saved.status_code == 200, saved.content
    assert saved.json() == {"org_id": tree.nantou.pk, "auto_approve": True, "decide_within_days": 5, "routing": rules}
    child = api(admin).get(f"/api/v1/membership/policy/{tree.nantou_union.pk}").json()
    assert child == {"org_id": tree.nantou_union.pk, "auto_approve": True, "decide_within_days": 5, "routing": rules}
    assert AuditEntry.objects.filter(action="membership.policy").count() == 1

    assert_error(put_json(admin, url, {"routing": ["county", "county"]}), 400, "routing_invalid", "routing")
    assert_error(put_json(admin, url, {"routing": ["employer_union"]}), 400, "routing_invalid", "routing")
    assert_error(put_json(admin, url, {"decide_within_days": 31}), 400, "invalid_input", "decide_within_days")
    assert api(admin).get(url).json()["routing"] == rules

    # Back to following the union above for two of the three.
    reset = put_json(admin, url, {"inherit": ["decide_within_days", "routing"]})
    assert reset.json() == {"org_id": tree.nantou.pk, "auto_approve": True,
                            "decide_within_days": settings.GONGHUI_MEMBERSHIP_DECIDE_DAYS,
                            "routing": list(settings.GONGHUI_MEMBERSHIP_ROUTING)}
    assert_error(put_json(admin, url, {"inherit": ["everything"]}), 400, "inherit_invalid", "inherit")


# --- Numbers --------------------------------------------------------------------------------------------


def test_stats_count_members_pending_and_gig_workers(tree, api):
    joined_member(tree)
    rider = WorkerFactory()
    app = api(rider).post(JOIN, join_body(employment_form="platform", platform_role="rider",
                                          division_code="440305001")).json()
    assert app["union"]["id"] == tree.nantou.pk
    api(tree.root_admin).post(f"{JOIN}/{app['id']}/approve")
    api(WorkerFactory()).post(JOIN, join_body(tree.nantou_employer))

    admin = staff_on(tree.nanshan)
    stats = api(admin).get("/api/v1/membership/stats", node=tree.nanshan.pk)
    assert stats.status_code == 200, stats.content
    body = stats.json()
    assert body["scope"] == "subtree" and body["org_id"] == tree.nanshan.pk
    assert (body["members"], body["gig_members"], body["applications_pending"]) == (2, 1, 1)
    assert body["by_status"]["active"] == 2 and body["applications_decided"] == 2
    assert body["new_members_daily"][-1] == {"day": timezone.localdate().isoformat(), "new_members": 2}
    # 入会率: one member at an employer whose headcount (120) is known.
    assert body["join_rate"] == round(1 / 120, 4)

    children = {row["org"]["id"]: row for row in api(admin).get("/api/v1/membership/stats/children",
                                                               node=tree.nanshan.pk).json()}
    assert (children[tree.nantou.pk]["members"], children[tree.nantou.pk]["gig_members"],
            children[tree.nantou.pk]["applications_pending"]) == (2, 1, 1)
    assert children[tree.yuehai.pk]["members"] == 0

    union_stats = api(admin).get("/api/v1/membership/stats", node=tree.nantou_union.pk).json()
    assert (union_stats["members"], union_stats["gig_members"], union_stats["applications_pending"]) == (1, 0, 1)


# --- Reveal ---------------------------------------------------------------------------------------------


def test_staff_reveal_a_full_id_number_with_an_audit_entry_and_viewers_cannot(tree, api):
    _, member = joined_member(tree)
    id_number = Member.objects.get(pk=member["id"]).id_number
    url = f"/api/v1/membership/members/{member['id']}"
    clerk = staff_on(tree.nantou_union, Role.STAFF)
    detail = api(clerk).get(url)
    assert id_number not in detail.content.decode() and detail.json()["id_masked"] == pii.mask_id_number(id_number)

    viewer = staff_on(tree.nantou_union, Role.VIEWER)
    assert api(viewer).get(url).status_code == 200
    assert_error(api(viewer).post(f"{url}/reveal", {"field": "id_number"}), 403, "forbidden")
    assert not AuditEntry.objects.filter(action="membership.reveal").exists()

    revealed = api(clerk).post(f"{url}/reveal", {"field": "id_number"})
    assert revealed.status_code == 200, revealed.content
    assert revealed.json() == {"field": "id_number", "value": id_number}
    entry = AuditEntry.objects.get(action="membership.reveal")
    assert entry.actor == clerk and entry.object_id == str(member["id"]) and entry.after == {"field": "id_number"}
    assert entry.org_id == tree.nantou_union.pk
    assert_error(api(clerk).post(f"{url}/reveal", {"field": "password"}), 400, "field_invalid", "field")
    assert AuditEntry.objects.filter(action="membership.reveal").count() == 1


def test_the_staff_reveal_limit_per_day_holds(tree, api, settings):
    settings.GONGHUI_RATE_LIMITS = {**settings.GONGHUI_RATE_LIMITS, "pii_reveal_day": (2, 86400)}
    _, member = joined_member(tree)
    clerk = staff_on(tree.nantou_union, Role.STAFF)
    url = f"/api/v1/membership/members/{member['id']}/reveal"
    assert [api(clerk).post(url, {"field": "phone"}).status_code for _ in range(2)] == [200, 200]
    assert_error(api(clerk).post(url, {"field": "id_number"}), 429, "rate_limited")
    assert AuditEntry.objects.filter(action="membership.reveal").count() == 2


def test_occupation_search_finds_by_name_initials_and_code(tree, api):
    worker = WorkerFactory()
    by_name = api(worker).get("/api/v1/occupations/search", q="快递员").json()
    assert by_name and all("快递员" in o["name"] for o in by_name)
    code = by_name[0]["code"]
    assert api(worker).get("/api/v1/occupations/search", q=code).json()[0] == by_name[0]
    assert_error(api(worker).get("/api/v1/occupations/search", q=""), 400, "invalid_input", "q")

