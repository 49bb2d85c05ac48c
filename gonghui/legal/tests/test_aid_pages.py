"""The worker's and the assigned provider's legal-aid pages, as plain form posts."""

from __future__ import annotations

import pytest
from django.test import Client

from gonghui.casedesk.tests.helpers import JPEG, PDF, upload
from gonghui.legal import aid
from gonghui.legal.models import AidApplication, AidDeadline, AidStatus
from gonghui.legal.tests.test_aid import FACTS, People
from gonghui.testing.fixtures import WorkerFactory

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_question_is_carried_into_the_form_and_the_application_is_filed(tree):
    people = People(tree)
    client = logged_in(people.worker)
    page = client.get("/legal/aid/new/", {"question": "公司三个月没发工资了怎么办"})
    assert page.status_code == 200 and "公司三个月没发工资了怎么办" in page.content.decode()
    body = page.content.decode()
    nonce = body.split('name="nonce" value="')[1].split('"')[0]
    form = {"nonce": nonce, "question": "公司三个月没发工资了怎么办", "category": "wages", "facts": FACTS,
            "employer_id": tree.nantou_employer.pk, "amount_claimed": "18000", "action": "submit",
            "evidence": [upload(PDF, "工资条.pdf")], "identity": [upload(JPEG, "身份证.jpg")]}
    response = client.post("/legal/aid/new/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    application = AidApplication.objects.get()
    assert application.source == "question" and application.documents.count() == 2
    again = client.post("/legal/aid/new/", {**form, "evidence": [upload(PDF)], "identity": [upload()]})
    assert again.status_code == 302 and AidApplication.objects.count() == 1  # the second tap shows the first
    detail = client.get(response["Location"]).content.decode()
    assert application.number in detail and tree.nanshan.name in detail and "工资条.pdf" in detail
    listing = client.get("/legal/aid/").content.decode()
    assert application.number in listing
    document = application.documents.first()
    assert client.get(f"/legal/aid/{application.pk}/documents/{document.pk}/").status_code == 200
    assert logged_in(WorkerFactory()).get(f"/legal/aid/{application.pk}/").status_code == 404


def test_bad_input_shows_the_field_and_writes_nothing(tree):
    people = People(tree)
    client = logged_in(people.worker)
    response = client.post("/legal/aid/new/", {"nonce": "a" * 32, "category": "", "facts": "太短", "action": "submit",
                                               "employer_id": tree.nantou_employer.pk})
    assert response.status_code == 400
    assert "请选择争议类型" in response.content.decode()
    response = client.post("/legal/aid/new/", {"nonce": "b" * 32, "category": "wages", "facts": FACTS,
                                               "action": "submit", "employer_id": tree.nantou_employer.pk,
                                               "evidence": [upload(b"GIF89a-not-allowed", "x.jpg")]})
    assert response.status_code == 400 and "不是 JPG、PNG 图片或 PDF" in response.content.decode()
    assert AidApplication.objects.count() == 0


def test_the_assigned_lawyer_works_the_file_from_the_phone(tree):
    people = People(tree)
    application = aid.aid_apply(actor=people.worker, category="wages", facts=FACTS,
                                employer_id=tree.nantou_employer.pk,
                                documents=[("identity", upload()), ("evidence", upload())])
    aid.aid_approve(actor=people.county, application=application)
    aid.aid_assign(actor=people.county, application=application, provider_id=people.lawyer.pk)
    lawyer = logged_in(people.lawyer_user)
    assert application.number in lawyer.get("/legal/aid/").content.decode()
    url = f"/legal/aid/{application.pk}/"
    assert "承办记录" in lawyer.get(url).content.decode()
    assert "承办记录" not in logged_in(people.worker).get(url).content.decode()
    assert lawyer.post(url + "stage/", {"kind": "arbitration", "started_on": "2026-11-20",
                                        "forum": "深圳市劳动人事争议仲裁院"}).status_code == 302
    assert AidDeadline.objects.filter(application=application, kind="statutory").count() == 2
    bad = lawyer.post(url + "hearing/", {"title": "开庭", "due_at": "明天上午"})
    assert bad.status_code == 400 and "日期时间格式" in bad.content.decode()
    assert lawyer.post(url + "conclude/", {"outcome": "award_won", "closing_report": "仲裁裁决支持全部请求，公司已履行完毕，申请人满意。",
                                           "amount_awarded": "18000", "amount_recovered": "18000"}).status_code == 302
    application.refresh_from_db()
    assert application.status == AidStatus.CONCLUDED
    # The applicant cannot use the provider's forms.
    assert logged_in(people.worker).post(url + "note/", {"text": "我自己写的记录"}).status_code == 403


def test_the_answers_category_is_preselected_and_a_made_up_one_ignored(tree):
    people = People(tree)
    client = logged_in(people.worker)
    page = client.get("/legal/aid/new/", {"question": "没发工资", "category": "wages"}).content.decode()
    assert '<option value="wages" selected>' in page
    page = client.get("/legal/aid/new/", {"question": "没发工资", "category": "<script>"}).content.decode()
    assert " selected>" not in page.split('id="category"')[1].split("</select>")[0]
    page = client.get("/cases/new/", {"question": "没发工资", "category": "wage_arrears"}).content.decode()
    assert '<option value="wage_arrears" selected>' in page
