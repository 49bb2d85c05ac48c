"""The worker's home and profile edit: names of every shape are stored and shown as typed."""

from __future__ import annotations

import pytest
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.testing.fixtures import WorkerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker(client):
    user = WorkerFactory(phone="13912345678")
    client.force_login(user)
    return user


def test_home_shows_the_profile_card(client, worker):
    page = client.get("/").content.decode()
    assert "你好，职工朋友" in page
    assert "139****5678" in page and "13912345678" not in page
    assert "未填写" in page
    assert 'href="/me/edit/"' in page
    assert 'href="tel:12351"' in page
    joined = timezone.localtime(worker.date_joined)
    assert f"{joined.year}年{joined.month}月{joined.day}日" in page


def test_edit_form_shows_the_current_name(client, worker):
    worker.display_name = "王小明"
    worker.save()
    page = client.get("/me/edit/").content.decode()
    assert 'value="王小明"' in page


def test_name_of_101_characters_is_refused_with_the_reason(client, worker):
    response = client.post("/me/edit/", {"display_name": "张" * 101})
    page = response.content.decode()
    assert response.status_code == 400
    assert "姓名不能超过100个字" in page
    assert 'aria-invalid="true"' in page
    worker.refresh_from_db()
    assert worker.display_name == ""


def test_empty_name_is_refused(client, worker):
    response = client.post("/me/edit/", {"display_name": "   "})
    assert "请填写姓名" in response.content.decode()


@pytest.mark.parametrize("name", ["阿卜杜拉·买买提", "𠈌", "王𠈌明", "张" * 100])
def test_names_with_middle_dot_and_rare_characters_are_stored_and_shown(client, worker, name):
    response = client.post("/me/edit/", {"display_name": name}, follow=True)
    page = response.content.decode()
    assert response.redirect_chain == [("/", 302)]
    assert "资料已保存" in page
    assert f"你好，{name}" in page
    assert User.objects.get(pk=worker.pk).display_name == name


def test_fullwidth_middle_dot_is_stored_as_the_standard_one(client, worker):
    client.post("/me/edit/", {"display_name": "阿卜杜拉•买买提"})
    assert User.objects.get(pk=worker.pk).display_name == "阿卜杜拉·买买提"


def test_html_in_the_name_is_shown_as_text(client, worker):
    name = '<script>alert("x")</script><b>李</b>'
    client.post("/me/edit/", {"display_name": name})
    page = client.get("/").content.decode()
    assert "<script>alert" not in page and "<b>李</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;李&lt;/b&gt;" in page
    edit = client.get("/me/edit/").content.decode()
    assert "<script>alert" not in edit


def test_too_long_html_name_is_escaped_in_the_error_form(client, worker):
    name = "<i>" + "x" * 120
    page = client.post("/me/edit/", {"display_name": name}).content.decode()
    assert "&lt;i&gt;" in page and "<i>xxx" not in page
