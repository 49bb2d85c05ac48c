"""Bad input to the join API: a 400 with a Chinese message naming the field, and nothing written.
Unambiguous variations of an ID number or a name are normalised and accepted."""

from __future__ import annotations

import datetime

import pytest
from stdnum.iso7064 import mod_11_2

from gonghui.analytics.rollups import rollup_read
from gonghui.core import pii
from gonghui.core.models import AuditEntry
from gonghui.membership.models import Application, Member
from gonghui.orgs.models import Role
from gonghui.testing.api_asserts import assert_error
from gonghui.testing.fixtures import WorkerFactory, api_as, staff_on

from .helpers import make_id_number

pytestmark = pytest.mark.django_db

JOIN = "/api/v1/membership/applications"
X_NUMBER = "44030519900517102X"  # a valid number whose check character is X


def _with_check(body: str) -> str:
    return body + mod_11_2.calc_check_digit(body)


def _full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "0" <= ch <= "9" or ch == "X" else ch for ch in text)


def body(tree, **overrides) -> dict:
    data = {"name": "张三", "id_number": make_id_number(), "employment_form": "labor_contract", "consent": True,
            "employer_id": tree.nantou_employer.pk}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not DROP}


DROP = object()


def written(tree) -> dict:
    return {
        "applications": Application.objects.count(),
        "members": Member.objects.count(),
        "audit": AuditEntry.objects.filter(action__startswith="membership.").count(),
        "pending": rollup_read(tree.nantou_union.pk).get("applications.pending", 0),
    }


BAD = [
    # (label, overrides, code, field)
    ("wrong check digit", {"id_number": "440305199005171231"}, "id_checksum", "id_number"),
    ("impossible birth date", {"id_number": _with_check("44030519990230001")}, "id_birth_date", "id_number"),
    ("unknown region code", {"id_number": _with_check("99010519900517001")}, "id_region", "id_number"),
    ("17 characters", {"id_number": "44030519900517123"}, "id_length", "id_number"),
    ("19 characters", {"id_number": "4403051990051712300"}, "id_length", "id_number"),
    ("an old 15-digit number", {"id_number": "440305900517123"}, "id_length", "id_number"),
    ("X inside the number", {"id_number": "4403051990X517102X"}, "id_format", "id_number"),
    ("letters", {"id_number": "ABCDEFGHIJKLMNOPQR"}, "id_format", "id_number"),
    ("born in the future", {"id_number": _with_check("44030520990101001")}, "id_birth_date", "id_number"),
    ("too young to work", {"id_number": make_id_number(birth=datetime.date.today().replace(year=datetime.date.today().year - 15))},
     "id_too_young", "id_number"),
    ("empty ID number", {"id_number": "  "}, "id_required", "id_number"),
    ("a digit in the name", {"name": "张3"}, "name_format", "name"),
    ("an emoji in the name", {"name": "张三😀"}, "name_format", "name"),
    ("punctuation in the name", {"name": "张三!"}, "name_format", "name"),
    ("a dot at the end of the name", {"name": "阿依古丽·"}, "name_format", "name"),
    ("an empty name", {"name": " "}, "name_required", "name"),
    ("a NUL byte in the name", {"name": "张\x00三"}, "name_format", "name"),
    ("a NUL byte in the ID number", {"id_number": "4403051990\x0005171230"}, "id_format", "id_number"),
    ("consent false", {"consent": False}, "consent_required", "consent"),
    ("consent missing", {"consent": DROP}, "invalid_input", "consent"),
    ("consent as text", {"consent": "maybe"}, "invalid_input", "consent"),
    ("unknown employment form", {"employment_form": "gig"}, "employment_form_invalid", "employment_form"),
    ("employment form missing", {"employment_form": DROP}, "invalid_input", "employment_form"),
    ("unknown occupation code", {"occupation_code": "9-99-99-99"}, "occupation_unknown", "occupation_code"),
    ("an occupation group, not an occupation", {"occupation_code": "4"}, "occupation_unknown", "occupation_code"),
    ("unknown employer", {"employer_id": 987654321}, "employer_unknown", "employer_id"),
    ("employer id as text", {"employer_id": "南头精密"}, "invalid_input", "employer_id"),
    ("a labour contract without an employer", {"employer_id": DROP}, "employer_required", "employer_id"),
    ("unknown division code", {"employer_id": DROP, "employment_form": "flexible", "division_code": "440305999"},
     "division_unknown", "division_code"),
    ("a flexible worker without a place", {"employer_id": DROP, "employment_form": "flexible"},
     "division_required", "division_code"),
    ("an employer not listed, without its place", {"employer_id": DROP, "employer": {"name": "深圳市未登记科技有限公司"}},
     "division_required", "employer.division_code"),
    ("an employer not listed, with an unknown place",
     {"employer_id": DROP, "employer": {"name": "深圳市未登记科技有限公司", "division_code": "440305999"}},
     "division_unknown", "employer.division_code"),
    ("an employer not listed, with a bad credit code",
     {"employer_id": DROP, "employer": {"name": "深圳市未登记科技有限公司", "uscc": "91440300ABCDEFGHIJ",
                                        "division_code": "440305001"}},
     None, "employer.uscc"),
    ("an employer name of one character", {"employer_id": DROP, "employer": {"name": "厂", "division_code": "440305001"}},
     "employer_name_required", "employer.name"),
    ("unknown platform", {"employment_form": "platform", "platform_id": 987654321, "division_code": "440305001",
                          "employer_id": DROP}, "platform_unknown", "platform_id"),
    ("unknown platform role", {"employment_form": "platform", "platform_role": "pilot", "division_code": "440305001",
                               "employer_id": DROP}, "platform_role_invalid", "platform_role"),
    ("a long job title", {"job_title": "岗" * 150}, "job_title_too_long", "job_title"),
    ("a huge name", {"name": "张" * 100_000}, "invalid_input", "name"),
    ("a huge ID number", {"id_number": "4" * 100_000}, "invalid_input", "id_number"),
    ("a huge job title", {"job_title": "岗" * 100_000}, "invalid_input", "job_title"),
    ("a huge occupation code", {"occupation_code": "4" * 10_000}, "invalid_input", "occupation_code"),
    ("a NUL byte in the job title", {"job_title": "焊工\x00"}, "invalid_characters", "job_title"),
    ("a NUL byte in the employer name",
     {"employer_id": DROP, "employer": {"name": "深圳市未登记\x00科技有限公司", "division_code": "440305001"}},
     "invalid_characters", "employer.name"),
]


@pytest.mark.parametrize(("label", "overrides", "code", "field"), BAD, ids=[b[0] for b in BAD])
def test_bad_join_input_is_refused_with_the_field_to_fix(tree, label, overrides, code, field):
    before = written(tree)
    response = api_as(WorkerFactory()).post(JOIN, body(tree, **overrides))
    assert_error(response, 400, code, field)
    assert written(tree) == before


@pytest.mark.parametrize("raw", [b"{name: ", b"", b"\xff\xfe", b"[1, 2]", b'"text"', b"null"],
                         ids=["broken", "empty", "not utf-8", "a list", "a string", "null"])
def test_a_body_that_is_not_a_json_object_is_refused(tree, raw):
    worker = WorkerFactory()
    client = api_as(worker)
    response = client.client.post(JOIN, raw, content_type="application/json", **client._headers())
    error = assert_error(response, 400)
    assert error["code"] in ("invalid_json", "invalid_input")
    assert written(tree) == {"applications": 0, "members": 0, "audit": 0, "pending": 0}


ACCEPTED_NUMBERS = [
    ("full-width digits", _full_width(X_NUMBER)),
    ("a lower-case x", X_NUMBER.lower()),
    ("spaces", f" {X_NUMBER[:6]} {X_NUMBER[6:14]} {X_NUMBER[14:]} "),
    ("dashes", f"{X_NUMBER[:6]}-{X_NUMBER[6:14]}-{X_NUMBER[14:]}"),
    ("a full-width dash and ideographic spaces", f"{X_NUMBER[:6]}－{X_NUMBER[6:14]}\u3000{X_NUMBER[14:]}"),
]


@pytest.mark.parametrize(("label", "typed"), ACCEPTED_NUMBERS, ids=[a[0] for a in ACCEPTED_NUMBERS])
def test_unambiguous_variations_of_an_id_number_are_normalised_and_accepted(tree, label, typed):
    response = api_as(WorkerFactory()).post(JOIN, body(tree, id_number=typed))
    assert response.status_code == 201, response.content
    assert response.json()["id_masked"] == pii.mask_id_number(X_NUMBER)
    app = Application.objects.get()
    assert app.id_number == X_NUMBER and app.id_hash == pii.lookup_hash("id", X_NUMBER)
    assert app.birth_date == datetime.date(1990, 5, 17) and app.gender == "F"


@pytest.mark.parametrize(("typed", "stored"), [
    ("𠀀明", "𠀀明"),  # a character outside the Basic Multilingual Plane
    ("阿依古丽·买买提", "阿依古丽·买买提"),
    ("阿依古丽•买买提", "阿依古丽·买买提"),  # a bullet for the middle dot
    ("阿依古丽 . 买买提", "阿依古丽·买买提"),
    ("张 三", "张三"),
    ("Anna Müller", "Anna Müller"),
], ids=["rare character", "middle dot", "bullet", "full stop with spaces", "space", "latin"])
def test_real_names_are_accepted_as_written(tree, typed, stored):
    response = api_as(WorkerFactory()).post(JOIN, body(tree, name=typed))
    assert response.status_code == 201, response.content
    assert Application.objects.get().name == stored


def test_nul_bytes_in_a_rejection_or_a_correction_are_refused_by_field(tree):
    worker = WorkerFactory()
    app = api_as(worker).post(JOIN, body(tree)).json()
    clerk = staff_on(tree.nantou_union, Role.STAFF)
    assert_error(api_as(clerk).post(f"{JOIN}/{app['id']}/reject", {"reason": "信息\x00不符"}), 400,
                 "invalid_characters", "reason")
    assert Application.objects.get().status == "pending"
    api_as(clerk).post(f"{JOIN}/{app['id']}/approve")
    client = api_as(worker)
    for data, field in [({"job_title": "焊工\x00"}, "job_title"), ({"employer_name": "某\x00公司"}, "employer_name"),
                        ({"job_title": "焊工", "reason": "\x00"}, "reason")]:
        response = client.client.post("/api/v1/me/membership/corrections", data, **client._headers())
        assert_error(response, 400, "invalid_characters", field)
    assert not Member.objects.get().change_requests.exists()


def test_a_staff_account_cannot_join_and_an_anonymous_caller_must_log_in(tree):
    for user, status in [(staff_on(tree.nantou, Role.STAFF), 403), (staff_on(tree.nantou), 403), (None, 401)]:
        assert_error(api_as(user).post(JOIN, body(tree)), status)
    assert written(tree) == {"applications": 0, "members": 0, "audit": 0, "pending": 0}
