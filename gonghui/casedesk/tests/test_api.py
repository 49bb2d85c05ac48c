"""The case desk API contract: intake by a worker, an agent and another system (idempotent on the
external id, also under concurrent sends), the worker's own cases without internal notes, the board
with its cursor, every handling step, a protected worker's identity, the no-login satisfaction link
and its abuse, and bad input that is refused with a Chinese message and nothing written."""

from __future__ import annotations

import datetime
import threading
from unittest import mock

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gonghui.casedesk import services
from gonghui.casedesk.models import CallbackLink, Case, CaseAttachment, CaseEvent, CaseStatus
from gonghui.core.models import AuditEntry
from gonghui.membership.models import Notice
from gonghui.testing.api_asserts import assert_error, has_chinese
from gonghui.testing.fixtures import Tree, WorkerFactory, api_as

from .helpers import PDF, at, desk, file_case, upload

pytestmark = pytest.mark.django_db

CASES = "/api/v1/cases"
Action = CaseEvent.Action


def body(at_employer=None, **extra) -> dict:
    data = {"category": "wage_arrears",
            "description": "公司已经三个月没有发工资了，老板说等回款再发，我们十几个人都没拿到。"}
    if at_employer is not None:
        data["employer_id"] = at_employer.pk
    data.update(extra)
    return data


def hotline(tree, **extra) -> dict:
    return body(tree.nantou_employer, **{"channel": "hotline", "name": "赵六", "phone": "13800001111", **extra})


_names = iter(f"职工{i}号" for i in range(1, 10_000))


def someone() -> object:
    return WorkerFactory(display_name=next(_names))


def same(a: dict, b: dict) -> bool:
    """Two renderings of one case (times may come back in another zone: compare the instants)."""
    def norm(d: dict) -> dict:
        return {k: datetime.datetime.fromisoformat(v) if k.endswith("_at") and v else v for k, v in d.items()}
    return norm(a) == norm(b)


def frozen(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def written() -> tuple:
    """Everything a refused case write could have touched."""
    return (list(Case.objects.values_list("id", "status", "org_id", "satisfaction", "reopen_count", "updated_at")
                 .order_by("id")),
            CaseEvent.objects.count(), CaseAttachment.objects.count(),
            list(CallbackLink.objects.values_list("id", "used_at").order_by("id")),
            AuditEntry.objects.filter(action__startswith="case.").count())


def callback_token(worker) -> str:
    return Notice.objects.filter(user=worker, title__contains="评价").latest("id").link.split("/")[2]


# --- Intake ----------------------------------------------------------------------------------------


def test_a_worker_files_a_case_and_follows_it(tree):
    d = desk(tree)
    response = api_as(d.worker).post(CASES, body(tree.nantou_employer, amount_claimed=36000, workers_affected=12))
    assert response.status_code == 201, response.content
    case = response.json()
    assert {"id", "status", "category", "union", "accept_due_at", "number", "title", "route_reason"} <= set(case)
    assert (case["status"], case["status_label"], case["category"], case["channel"]) == (
        "pending", "待受理", "wage_arrears", "portal")
    assert case["union"] == {"id": tree.nantou_union.pk, "name": tree.nantou_union.name}
    assert case["category_label"] == "劳动报酬 / 欠薪" and case["number"].startswith("WQ")
    assert datetime.datetime.fromisoformat(case["accept_due_at"]) > datetime.datetime.fromisoformat(
        case["created_at"])
    assert tree.nantou_union.name in case["route_reason"]

    mine = api_as(d.worker).get("/api/v1/me/cases").json()
    assert [c["id"] for c in mine["items"]] == [case["id"]] and mine["next_cursor"] is None
    detail = api_as(d.worker).get(f"{CASES}/{case['id']}").json()
    assert detail["description"].startswith("公司已经三个月") and detail["amount_claimed"] == "36000.00"
    assert detail["name"] == "李四" and detail["phone_masked"] == d.worker.phone_masked
    assert d.worker.phone not in str(detail)
    assert detail["workers_affected"] == 12 and detail["identity_hidden"] is False


def test_an_agent_records_a_call_and_the_case_routes_by_employer(tree):
    d = desk(tree)
    response = api_as(d.agent).post(CASES, hotline(tree, employer_id=tree.futian_employer.pk, category="dismissal"))
    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()["id"])
    assert (case.channel, case.org, case.intake_org, case.name) == ("hotline", tree.futian_union, tree.shenzhen, "赵六")
    assert response.json()["difficulty"] == "difficult"
    refused = api_as(d.agent).post(CASES, hotline(tree, name=""))
    assert_error(refused, 400, "name_required", "name")


def test_an_outside_system_is_idempotent_on_its_external_id(tree):
    d = desk(tree)
    data = body(tree.nantou_employer, name="钱七", phone="13800002222", external_id="12345-2026-0001")
    first = api_as(d.agent).post(CASES, data)
    assert first.status_code == 201, first.content
    assert first.json()["channel"] == "api"  # a staff token without a channel is another system
    again = api_as(d.agent).post(CASES, data)
    assert again.status_code == 200 and same(again.json(), first.json())
    assert Case.objects.count() == 1 and CaseEvent.objects.count() == 1
    before = written()
    assert_error(api_as(d.futian).post(CASES, data), 409, "external_id_taken", "external_id")
    assert_error(api_as(d.worker).post(CASES, data), 409, "external_id_taken", "external_id")
    assert written() == before


def test_a_workers_double_tap_with_one_key_files_one_case(tree):
    d = desk(tree)
    data = body(tree.nantou_employer, external_id="portal-form-7f3a")
    first = api_as(d.worker).post(CASES, data)
    again = api_as(d.worker).post(CASES, data)
    assert (first.status_code, again.status_code) == (201, 200) and same(again.json(), first.json())
    assert Case.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_of_one_external_id_make_one_case():
    tree = Tree()
    d = desk(tree)
    data = body(tree.nantou_employer, name="钱七", phone="13800002222", external_id="12345-2026-0002")
    clients = [api_as(d.agent) for _ in range(4)]
    barrier = threading.Barrier(len(clients))
    results: list = [None] * len(clients)

    def send(i):
        try:
            barrier.wait()
            response = clients[i].post(CASES, data)
            results[i] = (response.status_code, response.json())
        except Exception as exc:  # collected and asserted below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r[0] for r in results) == [200, 200, 200, 201], results
    assert len({r[1]["id"] for r in results}) == 1
    assert Case.objects.count() == 1 and CaseEvent.objects.filter(action=Action.CREATE).count() == 1


@pytest.mark.parametrize(("changes", "status", "code", "field"), [
    ({"description": "欠薪" * 50_000}, 400, "description_too_long", "description"),
    ({"description": "欠" * 5001}, 400, "description_too_long", "description"),
    ({"description": "太短了"}, 400, "description_too_short", "description"),
    ({"description": 12345678901}, 400, "invalid_input", "description"),
    ({"description": None}, 400, "invalid_input", "description"),
    ({"category": "no_such_thing"}, 400, "category_unknown", "category"),
    ({"category": 999999999999}, 400, "category_unknown", "category"),
    ({"category": "wages"}, 400, "category_too_broad", "category"),
    ({"category": None}, 400, "category_required", "category"),
    ({"category": ["wage_arrears"]}, 400, "invalid_input", "category"),
    ({"workers_affected": 0}, 400, "workers_affected_invalid", "workers_affected"),
    ({"workers_affected": "很多"}, 400, "invalid_input", "workers_affected"),
    ({"amount_claimed": "十万"}, 400, "amount_claimed_invalid", "amount_claimed"),
    ({"amount_claimed": -5}, 400, "amount_claimed_invalid", "amount_claimed"),
    ({"amount_claimed": "1.234"}, 400, "amount_claimed_invalid", "amount_claimed"),
    ({"amount_claimed": 1.005}, 400, "amount_claimed_invalid", "amount_claimed"),
    ({"amount_claimed": True}, 400, "invalid_input", "amount_claimed"),
    ({"employer_id": 999999999}, 400, "employer_unknown", "employer_id"),
    ({"employer_id": None, "division_code": "999999"}, 400, "division_unknown", "division_code"),
    ({"employer_id": None}, 400, "place_required", "division_code"),
    ({"employer_id": None, "employer": {"name": "某"}}, 400, "employer.name_too_short", "employer.name"),
    ({"external_id": "x" * 65}, 400, "external_id_too_long", "external_id"),
], ids=["100 KB", "5001 chars", "too short", "a number", "null", "unknown category", "huge category id",
        "a group only", "no category", "a list", "no workers", "workers in words", "amount in words",
        "negative amount", "fractions of a fen", "a float with fractions of a fen", "a boolean amount",
        "unknown employer", "unknown division", "no place", "one-character employer", "long external id"])
def test_bad_intake_is_refused_with_the_field_and_nothing_is_written(tree, changes, status, code, field):
    d = desk(tree)
    before = written()
    response = api_as(d.worker).post(CASES, body(tree.nantou_employer, **changes))
    error = assert_error(response, status, code, field)
    assert has_chinese(error["message"])
    assert written() == before


def test_control_characters_are_dropped_from_the_text(tree):
    d = desk(tree)
    text = "公司拖欠工资三个月\x00了\x07，请帮忙处理。"
    response = api_as(d.worker).post(CASES, body(tree.nantou_employer, description=text))
    assert response.status_code == 201, response.content
    assert Case.objects.get().description == "公司拖欠工资三个月了，请帮忙处理。"


def test_a_body_that_is_not_json_is_refused(tree):
    d = desk(tree)
    client = api_as(d.worker)
    response = client.client.post(CASES, "{not json", content_type="application/json", **client._headers())
    assert_error(response, 400)
    response = client.client.post(CASES, "[1, 2]", content_type="application/json", **client._headers())
    assert_error(response, 400)
    assert not Case.objects.exists()


def test_intake_needs_a_worker_or_a_case_role(tree):
    d = desk(tree)
    assert_error(api_as(d.city_admin).post(CASES, hotline(tree)), 403, "forbidden")
    assert_error(api_as(None).post(CASES, body(tree.nantou_employer)), 401, "unauthenticated")
    assert_error(api_as(d.agent).post(CASES, body(tree.nantou_employer, channel="portal", name="赵六")), 400,
                 "channel_invalid", "channel")
    assert not Case.objects.exists()


def test_a_page_session_needs_the_csrf_token_to_file(tree):
    d = desk(tree)
    client = Client(enforce_csrf_checks=True)
    client.force_login(d.worker)
    response = client.post(CASES, body(tree.nantou_employer), content_type="application/json")
    assert_error(response, 403, "csrf_failed")
    assert not Case.objects.exists()


# --- The worker's own -------------------------------------------------------------------------------


def test_the_worker_sees_only_their_own_cases_and_no_internal_notes(tree):
    d = desk(tree)
    case = file_case(d.worker, tree.nantou_employer, attachments=[upload()])
    staff = api_as(d.grassroots)
    assert staff.post(f"{CASES}/{case.pk}/accept").status_code == 200
    assert staff.post(f"{CASES}/{case.pk}/note", {"text": "公司人事称老板在外地，内部掌握"}).status_code == 200
    assert staff.post(f"{CASES}/{case.pk}/reply", {"text": "已联系公司，正在协调补发"}).status_code == 200

    detail = api_as(d.worker).get(f"{CASES}/{case.pk}")
    assert detail.status_code == 200
    mine = detail.json()
    assert [e["action"] for e in mine["timeline"]] == [Action.ACCEPT, Action.REPLY]
    assert "内部掌握" not in detail.content.decode()
    assert all(e["actor"] is None and e["worker_visible"] is None for e in mine["timeline"])
    assert (mine["intake_union"], mine["supervisor_union"], mine["qc_note"]) == (None, None, None)
    assert [a["name"] for a in mine["attachments"]] == ["欠条.jpg"]
    staff_view = staff.get(f"{CASES}/{case.pk}").json()
    assert [e["action"] for e in staff_view["timeline"]] == [Action.CREATE, Action.ACCEPT, Action.NOTE, Action.REPLY]
    assert staff_view["timeline"][0]["actor"] == "职工" and staff_view["timeline"][2]["worker_visible"] is False

    other = someone()
    before = written()
    assert_error(api_as(other).get(f"{CASES}/{case.pk}"), 404, "not_found")
    assert_error(api_as(other).post(f"{CASES}/{case.pk}/withdraw", {"reason": "不想办了"}), 404, "not_found")
    assert api_as(other).get("/api/v1/me/cases").json() == {"items": [], "next_cursor": None}
    for step in ("accept", "reply", "resolve", "reveal-phone"):
        assert_error(api_as(d.worker).post(f"{CASES}/{case.pk}/{step}", {"text": "x", "result": "x"}), 403,
                     "forbidden")
    assert_error(api_as(d.worker).get(CASES), 403, "forbidden")
    assert written() == before


def test_the_worker_adds_information_and_withdraws(tree):
    d = desk(tree)
    case = file_case(d.worker, tree.nantou_employer)
    services.case_accept(actor=d.grassroots, case=case)
    api_as(d.grassroots).post(f"{CASES}/{case.pk}/request-info", {"text": "请上传工资条或考勤记录"})
    assert Case.objects.get(pk=case.pk).status == CaseStatus.WAITING_WORKER
    client = api_as(d.worker)
    response = client.client.post(f"{CASES}/{case.pk}/info",
                                  {"text": "已上传考勤记录", "attachments": [upload(), upload(PDF, "工资条.pdf")]},
                                  **client._headers())
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "in_progress"
    assert sorted(a.content_type for a in CaseAttachment.objects.filter(case=case)) == ["application/pdf",
                                                                                        "image/jpeg"]
    before = written()
    refused = client.client.post(f"{CASES}/{case.pk}/info",
                                 {"text": "再补一张", "attachments": [upload(b"MZ\x90\x00" + b"\x00" * 50, "a.jpg")]},
                                 **client._headers())
    assert_error(refused, 400, "attachment_type", "attachments")
    assert written() == before

    assert_error(api_as(d.grassroots).post(f"{CASES}/{case.pk}/withdraw", {"reason": ""}), 403, "forbidden")
    withdrawn = client.post(f"{CASES}/{case.pk}/withdraw", {"reason": "已与公司协商解决"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert client.post(f"{CASES}/{case.pk}/withdraw").json()["status"] == "withdrawn"  # a double tap
    assert CaseEvent.objects.filter(case=case, action=Action.WITHDRAW).count() == 1


def test_my_cases_page_with_a_cursor(tree):
    d = desk(tree)
    ids = [file_case(d.worker, tree.nantou_employer).pk for _ in range(5)]
    file_case(someone(), tree.nantou_employer)  # someone else's
    client, seen, cursor = api_as(d.worker), [], None
    for _ in range(3):
        page = client.get("/api/v1/me/cases", limit=2, **({"cursor": cursor} if cursor else {})).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
    assert seen == sorted(ids, reverse=True) and cursor is None
    assert_error(client.get("/api/v1/me/cases", cursor="forged"), 400, "invalid_cursor", "cursor")
    assert_error(client.get("/api/v1/me/cases", limit=0), 400, "invalid_input", "limit")


# --- The board ---------------------------------------------------------------------------------------


def test_the_board_defaults_to_the_callers_node_and_pages_by_deadline(tree):
    d = desk(tree)
    ids = [file_case(someone(), tree.nantou_employer).pk for _ in range(5)]
    futian = file_case(someone(), tree.futian_employer)
    client, seen, cursor = api_as(d.county), [], None
    for _ in range(3):
        page = client.get(CASES, limit=2, **({"cursor": cursor} if cursor else {})).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
    assert seen == ids and cursor is None  # same deadline day: filed order
    item = client.get(CASES, limit=1).json()["items"][0]
    assert item["name_masked"].endswith("*") and item["employer"] == tree.nantou_employer.name
    assert [c["id"] for c in api_as(d.agent).get(CASES, limit=100).json()["items"]] == [*ids, futian.pk]
    assert [c["id"] for c in api_as(d.agent).get(CASES, node=tree.futian.pk).json()["items"]] == [futian.pk]
    number = Case.objects.get(pk=ids[2]).number
    assert [c["id"] for c in client.get(CASES, q=number).json()["items"]] == [ids[2]]
    assert client.get(CASES, category="insurance").json()["items"] == []
    assert len(client.get(CASES, category="wages").json()["items"]) == 5
    assert client.get(CASES, overdue=True).json()["items"] == []
    assert client.get(CASES, status="closed").json()["items"] == []


def test_the_board_refuses_nodes_outside_the_case_scope(tree):
    d = desk(tree)
    file_case(d.worker, tree.nantou_employer)
    assert_error(api_as(d.futian).get(CASES, node=tree.nanshan.pk), 404, "not_found")
    assert_error(api_as(d.county).get(CASES, node=tree.shenzhen.pk), 404, "not_found")  # above the grant
    assert_error(api_as(d.county).get(CASES, node="abc"), 404, "not_found")
    assert_error(api_as(d.county).get(CASES, status="lost"), 400, "status_invalid", "status")
    assert_error(api_as(d.county).get(CASES, cursor="x" * 40), 400, "invalid_cursor", "cursor")
    assert_error(api_as(d.city_admin).get(CASES), 403, "forbidden")
    assert_error(api_as(d.city_admin).get(CASES, node=tree.shenzhen.pk), 403, "forbidden")


def test_the_supervising_board_shows_what_was_escalated_to_the_node(tree):
    d = desk(tree)
    with frozen(at(2026, 11, 23, 9, 0)):  # a Monday: to be accepted by Tuesday
        late = file_case(d.worker, tree.nantou_employer)
        on_time = file_case(someone(), tree.nantou_employer)
    with frozen(at(2026, 11, 25, 9, 0)):
        services.case_accept(actor=d.grassroots, case=on_time)  # late, but taken before the sweep
        services.deadline_sweep()
    township = api_as(d.township)  # its own node by default: 南头街道
    assert [(c["id"], c["overdue"]) for c in township.get(CASES, supervising=True).json()["items"]] == [
        (late.pk, True)]
    assert [c["id"] for c in township.get(CASES, overdue=True).json()["items"]] == [late.pk]
    assert api_as(d.county).get(CASES, supervising=True).json()["items"] == []  # not escalated to 南山区


def test_the_board_reads_a_fixed_number_of_queries(tree):
    d = desk(tree)
    for _ in range(2):
        file_case(someone(), tree.nantou_employer)
    client = api_as(d.county)
    client.get(CASES)  # warm up the token lookup path

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(CASES).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for _ in range(6):
        file_case(someone(), tree.nantou_employer, category="overtime_pay",
                  description="国庆节加班三天，公司没有按规定支付加班工资。")
    assert count() == few


# --- Handling --------------------------------------------------------------------------------------------


def test_a_case_handled_through_the_api_from_intake_to_closing(tree):
    d = desk(tree)
    case = api_as(d.worker).post(CASES, body(employer={"name": "深圳某某餐饮店", "division_code": "440305001"})).json()
    assert case["union"]["id"] == tree.nantou.pk
    url = f"{CASES}/{case['id']}"
    township = api_as(d.township)
    dispatched = township.post(f"{url}/dispatch", {"to_org": tree.nantou_union.pk, "note": "请单位工会协调"})
    assert dispatched.status_code == 200 and dispatched.json()["union"]["id"] == tree.nantou_union.pk
    grassroots = api_as(d.grassroots)
    returned = grassroots.post(f"{url}/return", {"reason": "该店未在本单位工会覆盖范围"})
    assert returned.status_code == 200 and returned.json()["union"]["id"] == tree.nantou.pk
    assert_error(grassroots.get(url), 404, "not_found")  # out of its hands now
    accepted = township.post(f"{url}/accept").json()
    assert accepted["status"] == "in_progress" and accepted["complete_due_at"]
    resolved = township.post(f"{url}/resolve", {"result": "店主已结清三个月工资共计12000元", "money_recovered": "12000",
                                                 "workers_helped": 3})
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert_error(township.post(f"{url}/close", {"passed": True}), 403, "forbidden")  # handlers don't close
    supervisor = api_as(d.supervisor)
    assert_error(supervisor.post(f"{url}/close", {"passed": False, "note": ""}), 400, "note_required", "note")
    closed = supervisor.post(f"{url}/close", {"passed": True, "note": "处理及时"}).json()
    assert closed["status"] == "closed"
    reopened = supervisor.post(f"{url}/reopen", {"reason": "职工来电反映仍有一人未结清"}).json()
    assert reopened["status"] == "in_progress"
    detail = supervisor.get(url).json()
    assert [e["action"] for e in detail["timeline"]] == [
        Action.CREATE, Action.DISPATCH, Action.RETURN, Action.ACCEPT, Action.RESOLVE, Action.CLOSE, Action.REOPEN]
    assert detail["reopen_count"] == 1 and detail["intake_union"]["id"] == tree.nantou.pk


def test_handling_steps_refuse_bad_input_and_wrong_states_without_writing(tree):
    d = desk(tree)
    case = file_case(d.worker, division_code="440305")  # no employer: the county
    url = f"{CASES}/{case.pk}"
    county, agent = api_as(d.county), api_as(d.agent)
    before = written()
    # Dispatch outside the case's subtree: a union the caller cannot see, one it can, one that is not there.
    assert_error(county.post(f"{url}/dispatch", {"to_org": tree.futian_street.pk, "note": "请办理"}), 400,
                 "dispatch_outside", "to_org")
    assert_error(agent.post(f"{url}/dispatch", {"to_org": tree.futian_street.pk, "note": "请办理"}), 400,
                 "dispatch_outside", "to_org")
    assert_error(agent.post(f"{url}/dispatch", {"to_org": tree.shenzhen.pk, "note": "请办理"}), 400,
                 "dispatch_outside", "to_org")
    assert_error(agent.post(f"{url}/dispatch", {"to_org": 999999999, "note": "请办理"}), 400, "dispatch_outside",
                 "to_org")
    assert_error(agent.post(f"{url}/dispatch", {"to_org": "南头", "note": "请办理"}), 400, "invalid_input", "to_org")
    assert_error(county.post(f"{url}/dispatch", {"to_org": tree.nantou.pk}), 400, "invalid_input", "note")
    assert_error(api_as(d.futian).post(f"{url}/dispatch", {"to_org": tree.nantou.pk, "note": "请办理"}), 404,
                 "not_found")
    # Steps out of order, and input the services refuse.
    assert_error(county.post(f"{url}/request-info", {"text": "请补充工资条"}), 409, "status_invalid", "status")
    assert_error(county.post(f"{url}/reopen", {"reason": "职工反映未解决"}), 403, "forbidden")
    assert_error(api_as(d.supervisor).post(f"{url}/reopen", {"reason": "职工反映未解决"}), 409, "status_invalid")
    assert_error(api_as(d.supervisor).post(f"{url}/close", {"passed": True}), 409, "status_invalid")
    assert_error(county.post(f"{url}/rate-by-phone", {"score": 5}), 409, "status_invalid")
    assert_error(county.post(f"{url}/rate-by-phone", {"score": "很好"}), 400, "invalid_input", "score")
    assert_error(county.post(f"{url}/reply", {"text": "好" * 5001}), 400, "text_too_long", "text")
    assert_error(county.post(f"{url}/note", {"text": ""}), 400, "text_required", "text")
    assert_error(county.post(f"{url}/return", {"reason": "不"}), 400, "reason_too_short", "reason")
    assert_error(county.post(f"{url}/request-info", {"text": "请补充"}), 400, "text_too_short", "text")
    assert_error(county.post(f"{CASES}/abc/accept"), 404, "not_found")
    assert_error(county.post(f"{CASES}/99999999999999999999/accept"), 404, "not_found")
    assert written() == before
    county.post(f"{url}/accept")
    assert_error(county.post(f"{url}/resolve", {"result": "已协调补发", "money_recovered": "很多"}), 400,
                 "money_recovered_invalid", "money_recovered")
    assert_error(county.post(f"{url}/resolve", {"result": "已协调补发", "workers_helped": -1}), 400,
                 "workers_helped_invalid", "workers_helped")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_PROGRESS


# --- Privacy ---------------------------------------------------------------------------------------------


def test_a_protected_worker_is_anonymous_to_the_employer_union_and_every_view_is_audited(tree):
    d = desk(tree)
    case = file_case(d.worker, tree.nantou_employer, protect_identity=True, contact_preference="晚上八点后打电话")
    url = f"{CASES}/{case.pk}"

    response = api_as(d.grassroots).get(url)
    assert response.status_code == 200
    hidden = response.json()
    assert (hidden["identity_hidden"], hidden["name"], hidden["phone_masked"], hidden["contact_preference"]) == (
        True, None, None, None)
    text = response.content.decode()
    assert "李四" not in text and d.worker.phone_masked not in text and d.worker.phone not in text
    assert hidden["timeline"][0]["actor"] == "职工"
    board = api_as(d.grassroots).get(CASES).json()["items"]
    assert [(c["id"], c["name_masked"], c["identity_hidden"]) for c in board] == [(case.pk, None, True)]
    before = written()
    assert_error(api_as(d.grassroots).post(f"{url}/reveal-phone"), 403, "forbidden")
    assert written() == before

    shown = api_as(d.township).get(url).json()
    assert (shown["identity_hidden"], shown["name"], shown["phone_masked"]) == (False, "李四", d.worker.phone_masked)
    assert shown["contact_preference"] == "晚上八点后打电话"
    views = AuditEntry.objects.filter(action="case.view", object_id=str(case.pk))
    assert sorted(views.values_list("actor__username", flat=True)) == ["nt-handler", "ntu-handler"]
    revealed = api_as(d.township).post(f"{url}/reveal-phone").json()
    assert revealed == {"field": "phone", "value": d.worker.phone}
    assert AuditEntry.objects.filter(action="case.reveal", actor=d.township, object_id=str(case.pk)).count() == 1
    api_as(d.worker).get(url)
    assert views.count() == 2  # the worker's own view is not a staff view


def test_an_unprotected_case_is_shown_masked_and_views_are_not_audited(tree):
    d = desk(tree)
    case = file_case(d.worker, tree.nantou_employer)
    shown = api_as(d.grassroots).get(f"{CASES}/{case.pk}")
    assert shown.json()["name"] == "李四" and shown.json()["phone_masked"] == d.worker.phone_masked
    assert d.worker.phone not in shown.content.decode()
    assert not AuditEntry.objects.filter(action="case.view").exists()


def test_staff_without_a_case_role_read_no_case(tree):
    d = desk(tree)
    case = file_case(d.worker, tree.nantou_employer)
    before = written()
    assert_error(api_as(d.city_admin).get(f"{CASES}/{case.pk}"), 404, "not_found")
    assert_error(api_as(d.city_admin).post(f"{CASES}/{case.pk}/accept"), 403, "forbidden")
    assert_error(api_as(tree.root_admin).get(f"{CASES}/{case.pk}"), 404, "not_found")
    assert_error(api_as(d.futian).get(f"{CASES}/{case.pk}"), 404, "not_found")
    assert written() == before


# --- The satisfaction link -------------------------------------------------------------------------------


def _resolved(tree, d) -> Case:
    case = file_case(d.worker, tree.nantou_employer)
    services.case_accept(actor=d.grassroots, case=case)
    return services.case_resolve(actor=d.grassroots, case=case, result="已协调公司补发工资")


def test_the_worker_rates_through_the_link_once_without_logging_in(tree):
    d = desk(tree)
    case = _resolved(tree, d)
    token = callback_token(d.worker)
    url = f"/api/v1/callbacks/{token}"
    before = written()
    assert_error(api_as(None).post(url, {"score": 9}), 400, "score_invalid", "score")
    assert_error(api_as(None).post(url, {"score": "满意"}), 400, "invalid_input", "score")
    assert_error(api_as(None).post(url, {"score": 5, "comment": "好" * 501}), 400, "comment_too_long", "comment")
    assert written() == before
    rated = api_as(None).post(url, {"score": 5, "comment": "很满意"})
    assert rated.status_code == 200, rated.content
    assert rated.json() == {"number": case.number, "status": "resolved", "status_label": "已办结待回访",
                            "satisfaction": 5, "reopened": False}
    assert "李四" not in rated.content.decode()
    before = written()
    assert_error(api_as(None).post(url, {"score": 1}), 409, "callback_used", "token")  # replayed
    assert written() == before
    assert Case.objects.get(pk=case.pk).satisfaction == 5


def test_a_low_rating_through_the_link_reopens_the_case(tree):
    d = desk(tree)
    case = _resolved(tree, d)
    rated = api_as(None).post(f"/api/v1/callbacks/{callback_token(d.worker)}", {"score": 1, "comment": "没解决"})
    assert rated.json()["reopened"] is True and rated.json()["status"] == "in_progress"
    case.refresh_from_db()
    assert case.reopen_count == 1 and case.status == CaseStatus.IN_PROGRESS


@pytest.mark.parametrize("tamper", ["flip", "forged nonce", "other salt", "garbage", "huge"])
def test_tampered_links_are_refused_and_nothing_is_written(tree, tamper):
    from django.core import signing

    d = desk(tree)
    case = _resolved(tree, d)
    token = callback_token(d.worker)
    bad = {
        "flip": token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1],
        "forged nonce": signing.dumps({"c": case.pk, "n": "0" * 32}, salt=services.CALLBACK_SALT, compress=True),
        "other salt": signing.dumps({"c": case.pk, "n": case.callback_links.get().nonce}, compress=True),
        "garbage": "../../etc/passwd".replace("/", "_"),
        "huge": "A" * 900,
    }[tamper]
    before = written()
    assert_error(api_as(None).post(f"/api/v1/callbacks/{bad}", {"score": 5}), 404, "not_found", "token")
    assert written() == before


def test_an_expired_or_superseded_link_is_refused(tree, settings):
    d = desk(tree)
    case = _resolved(tree, d)
    token = callback_token(d.worker)
    before = written()
    with frozen(timezone.now() + datetime.timedelta(days=settings.GONGHUI_CASE_CALLBACK_DAYS + 1)):
        assert_error(api_as(None).post(f"/api/v1/callbacks/{token}", {"score": 5}), 400, "callback_expired", "token")
    assert written() == before
    newer = services.callback_link_issue(case)
    assert_error(api_as(None).post(f"/api/v1/callbacks/{token}", {"score": 5}), 409, "callback_used", "token")
    assert api_as(None).post(f"/api/v1/callbacks/{newer}", {"score": 4}).json()["satisfaction"] == 4


def test_the_link_is_rate_limited_by_address(tree, settings):
    settings.GONGHUI_RATE_LIMITS = {**settings.GONGHUI_RATE_LIMITS, "callback_ip_min": (3, 60)}
    d = desk(tree)
    _resolved(tree, d)
    token = callback_token(d.worker)
    for _ in range(3):
        assert_error(api_as(None).post("/api/v1/callbacks/guess", {"score": 5}), 404)
    before = written()
    limited = api_as(None).post(f"/api/v1/callbacks/{token}", {"score": 5})  # even a genuine link now waits
    assert_error(limited, 429, "rate_limited")
    assert int(limited["Retry-After"]) > 0
    assert written() == before
    other = Client(REMOTE_ADDR="198.51.100.7")
    assert other.post(f"/api/v1/callbacks/{token}", {"score": 5}, content_type="application/json").status_code == 200


def test_rating_by_phone_closes_the_link(tree):
    d = desk(tree)
    case = _resolved(tree, d)
    token = callback_token(d.worker)
    rated = api_as(d.agent).post(f"{CASES}/{case.pk}/rate-by-phone", {"score": 4, "comment": "基本满意"})
    assert rated.status_code == 200 and rated.json()["satisfaction"] == 4
    assert_error(api_as(None).post(f"/api/v1/callbacks/{token}", {"score": 1}), 409, "callback_used")


# --- The taxonomy ----------------------------------------------------------------------------------------


def test_the_taxonomy_lists_groups_with_items_and_searches_colloquial_words(tree):
    d = desk(tree)
    groups = api_as(d.worker).get(f"{CASES}/categories").json()
    assert groups[0]["code"] == "wages" and [i["code"] for i in groups[0]["items"]][:1] == ["wage_arrears"]
    assert all(group["items"] for group in groups)
    found = api_as(d.worker).get(f"{CASES}/categories", q="老板跑路 工资没发").json()
    assert {i["code"] for g in found for i in g["items"]} >= {"wage_arrears", "layoff"}
    assert api_as(d.agent).get(f"{CASES}/categories", q="完全无关的词").json() == []
    assert_error(api_as(d.worker).get(f"{CASES}/categories", division_code="990000"), 400, "division_unknown",
                 "division_code")
    assert api_as(d.worker).get(f"{CASES}/categories", division_code="440305001").status_code == 200
    assert_error(api_as(None).get(f"{CASES}/categories"), 401, "unauthenticated")


def test_times_come_in_the_products_time_zone_whether_new_or_read_back(tree):
    d = desk(tree)
    made = api_as(d.worker).post("/api/v1/cases", {
        "category": "wage_arrears", "employer_id": tree.nantou_employer.pk,
        "description": "公司拖欠工资两个月了，老板一直不给答复。"})
    read = api_as(d.worker).get(f"/api/v1/cases/{made.json()['id']}")
    assert made.json()["accept_due_at"].endswith("+08:00")
    assert read.json()["accept_due_at"] == made.json()["accept_due_at"]
    assert read.json()["created_at"].endswith("+08:00")
