"""Console legal-aid pages (法律援助) as a county union's legal-aid centre uses them: the ledger and its
numbers, one application through every step, the private documents, the roster and the settings."""

from __future__ import annotations

import secrets

import pytest
from django.test import Client
from django.urls import reverse

from gonghui.casedesk.tests.helpers import upload
from gonghui.core.models import AuditEntry
from gonghui.legal import aid
from gonghui.legal.models import AidApplication, AidProvider, AidStatus, LegalPolicy
from gonghui.legal.tests.test_aid import FACTS, People
from gonghui.orgs.models import Role
from gonghui.testing.fixtures import staff_on

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def act(client, application, action: str, **data):
    return client.post(reverse("console:aid_detail", args=[application.pk]),
                       {"form_token": secrets.token_urlsafe(18), "action": action, **data})


def filed(people, **kwargs):
    return aid.aid_apply(actor=people.worker, category="wages", facts=FACTS, employer_id=people.tree.nantou_employer.pk,
                         **kwargs)


def test_the_ledger_and_one_application_through_every_step(tree):
    people = People(tree)
    application = filed(people)
    county = client_for(people.county)
    ledger = county.get(reverse("console:aid_board", args=[tree.nanshan.pk]))
    assert ledger.status_code == 200 and application.number in ledger.content.decode()
    page = county.get(reverse("console:aid_detail", args=[application.pk])).content.decode()
    assert "缺 身份证件、证据材料" in page and "批准援助" in page and people.worker.phone not in page
    refused = act(county, application, "approve")
    assert refused.status_code == 400 and "材料不全" in refused.content.decode()
    assert act(county, application, "request_documents", text="请上传身份证和工资条").status_code == 302
    aid.aid_supply(actor=people.worker, application=AidApplication.objects.get(pk=application.pk), text="已上传",
                   documents=[("identity", upload()), ("evidence", upload())])
    assert act(county, application, "approve", note="材料齐全").status_code == 302
    page = county.get(reverse("console:aid_detail", args=[application.pk])).content.decode()
    assert "王明" in page and "擅长劳动报酬" in page
    assert act(county, application, "assign", provider_id=people.lawyer.pk).status_code == 302
    assert act(county, application, "stage", kind="arbitration", started_on="2026-11-20",
               forum="深圳市劳动人事争议仲裁院").status_code == 302
    page = county.get(reverse("console:aid_detail", args=[application.pk])).content.decode()
    assert "第二十九条" in page and "第四十三条" in page
    document = AidApplication.objects.get(pk=application.pk).documents.first()
    assert county.get(reverse("console:aid_document", args=[application.pk, document.pk])).status_code == 200
    assert AuditEntry.objects.filter(action="legal_aid.document_view").count() == 1
    bad = act(county, application, "conclude", outcome="award_won", closing_report="太短")
    assert bad.status_code == 400 and "结案报告至少20个字" in bad.content.decode()
    assert act(county, application, "conclude", outcome="award_won", amount_awarded="18000",
               amount_recovered="18000", closing_report="仲裁裁决支持全部请求，公司已履行完毕，申请人满意。").status_code == 302
    assert "审核归档" not in county.get(reverse("console:aid_detail", args=[application.pk])).content.decode()
    assert act(client_for(people.city_supervisor), application, "archive").status_code == 302
    assert AidApplication.objects.get(pk=application.pk).status == AidStatus.ARCHIVED
    stats = county.get(reverse("console:aid_stats", args=[tree.nanshan.pk])).content.decode()
    assert "18000" in stats
    # The city's page lists 南山区 among its children with its figures, from one grouped query.
    by_child = aid.aid_stats_by_child(actor=people.city_supervisor, node=tree.shenzhen)
    assert [(child, figures["concluded"], figures["amount_recovered"]) for child, figures in by_child] == [
        (tree.nanshan, 1, 18000)]
    city = client_for(people.city_supervisor).get(reverse("console:aid_stats", args=[tree.shenzhen.pk])).content.decode()
    assert tree.nanshan.name in city and "18000" in city


def test_outsiders_get_the_consoles_404(tree):
    people = People(tree)
    application = filed(people)
    futian = client_for(people.futian)
    assert futian.get(reverse("console:aid_detail", args=[application.pk])).status_code == 404
    assert futian.get(reverse("console:aid_board", args=[tree.nanshan.pk])).status_code == 404
    assert futian.get("/console/legal/aid/999999999/").status_code == 404
    no_case_role = client_for(staff_on(tree.nanshan, Role.ADMIN))
    assert no_case_role.get(reverse("console:aid_detail", args=[application.pk])).status_code == 404
    assert no_case_role.get(reverse("console:aid_board", args=[tree.nanshan.pk])).status_code == 403
    assert act(futian, application, "approve").status_code == 404
    assert AidApplication.objects.get(pk=application.pk).status == AidStatus.SUBMITTED


def test_roster_and_settings(tree):
    people = People(tree)
    staff = client_for(people.county_staff)
    url = reverse("console:aid_providers", args=[tree.nanshan.pk])
    assert "王明" in staff.get(url).content.decode()
    response = staff.post(url, {"form_token": secrets.token_urlsafe(18), "kind": "lawyer", "name": "刘红",
                                "phone": "13912345678", "expertise": ["women", "dismissal"], "max_active": "5",
                                "licence_no": "123"})
    assert response.status_code == 400 and "17位数字" in response.content.decode()
    response = staff.post(url, {"form_token": secrets.token_urlsafe(18), "kind": "lawyer", "name": "刘红",
                                "phone": "13912345678", "expertise": ["women", "dismissal"], "max_active": "5"})
    assert response.status_code == 302
    assert AidProvider.objects.get(name="刘红").expertise == ["dismissal", "women"]
    response = staff.post(url, {"form_token": secrets.token_urlsafe(18), "provider_id": people.lawyer.pk,
                                "max_active": "6", "is_active": "0"})
    people.lawyer.refresh_from_db()
    assert response.status_code == 302 and (people.lawyer.max_active, people.lawyer.is_active) == (6, False)
    settings_url = reverse("console:legal_settings", args=[tree.nanshan.pk])
    admin = client_for(staff_on(tree.nanshan, Role.ADMIN))
    assert admin.post(settings_url, {"form_token": secrets.token_urlsafe(18), "aid_decide_days": "4",
                                     "opinion_reply_days": "", "suggestion_reply_days": "",
                                     "reminder_reply_days": "", "letter_prefix": "深南工"}).status_code == 302
    policy = LegalPolicy.objects.get(org=tree.nanshan)
    assert (policy.aid_decide_days, policy.opinion_reply_days, policy.letter_prefix) == (4, None, "深南工")
    bad = admin.post(settings_url, {"form_token": secrets.token_urlsafe(18), "aid_decide_days": "0"})
    assert bad.status_code == 400 and "法律援助审查时限应在1至60之间" in bad.content.decode()
    assert "只有本级工会管理员可以修改" in staff.get(settings_url).content.decode()
