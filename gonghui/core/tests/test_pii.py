"""Personal data: phones are found by a keyed hash, stored encrypted and shown masked."""

from __future__ import annotations

import pytest
from django.db import connection

from gonghui.accounts.models import User
from gonghui.core import pii
from gonghui.testing.fixtures import WorkerFactory, api_as

PHONE = "13800138000"


def test_lookup_hashes_are_keyed_and_separate_kinds(settings):
    first = pii.lookup_hash("phone", PHONE)
    assert first == pii.lookup_hash("phone", PHONE) and len(first) == 64 and PHONE not in first
    assert pii.lookup_hash("id_number", PHONE) != first
    settings.GONGHUI_PII_KEY = "another-key"
    assert pii.lookup_hash("phone", PHONE) != first


def test_encryption_round_trips_and_never_shows_the_value(settings):
    token = pii.encrypt(PHONE)
    assert PHONE not in token and pii.decrypt(token) == PHONE
    assert pii.encrypt(PHONE) != token  # randomised: equal phones do not look equal
    assert pii.encrypt("") == "" and pii.decrypt("") == ""
    assert pii.decrypt(token[:-4] + "AAAA") == ""  # tampered
    assert pii.decrypt("not-a-token") == ""
    settings.GONGHUI_PII_KEY = "another-key"
    assert pii.decrypt(token) == ""  # a different key reads nothing


def test_rare_characters_survive_encryption():
    assert pii.decrypt(pii.encrypt("阿卜杜拉·买买提 𠈌")) == "阿卜杜拉·买买提 𠈌"


@pytest.mark.parametrize(("phone", "masked"), [(PHONE, "138****8000"), ("1380013", "*******"), ("", "")])
def test_phones_are_masked(phone, masked):
    assert pii.mask_phone(phone) == masked


def test_id_numbers_are_masked():
    assert pii.mask_id_number("440305199001011234") == "440305********1234"
    assert pii.mask_id_number("123") == "***"


@pytest.mark.django_db
def test_a_workers_phone_is_nowhere_in_clear(db):
    worker = WorkerFactory(phone=PHONE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(u)::text FROM accounts_user u WHERE id = %s", [worker.pk])
        row = cursor.fetchone()[0]
    assert PHONE not in row and "138****8000" not in row
    assert User.objects.get(phone_hash=pii.lookup_hash("phone", PHONE)).phone == PHONE
    me = api_as(worker).get("/api/v1/me")
    assert me.json()["phone_masked"] == "138****8000" and PHONE not in me.content.decode()


@pytest.mark.django_db
def test_keys_rotate_without_losing_a_value(settings):
    from django.core.management import call_command

    settings.GONGHUI_PII_ENCRYPTION_KEYS = ["old-secret"]
    worker = WorkerFactory(phone=PHONE)
    old_token = User.objects.get(pk=worker.pk).phone_encrypted
    settings.GONGHUI_PII_ENCRYPTION_KEYS = ["new-secret", "old-secret"]
    assert User.objects.get(pk=worker.pk).phone == PHONE  # readable with both keys configured
    call_command("pii_rotate", stdout=open("/dev/null", "w"))
    rotated = User.objects.get(pk=worker.pk)
    assert rotated.phone_encrypted != old_token
    settings.GONGHUI_PII_ENCRYPTION_KEYS = ["new-secret"]  # the old key is gone
    assert User.objects.get(pk=worker.pk).phone == PHONE


@pytest.mark.django_db
def test_lookup_key_rotation_rehashes_so_lookups_keep_working(settings):
    from django.core.management import call_command

    settings.GONGHUI_PII_ENCRYPTION_KEYS = ["enc-secret"]
    worker = WorkerFactory(phone=PHONE)
    settings.GONGHUI_PII_KEY = "a-new-lookup-secret"
    assert not User.objects.filter(phone_hash=pii.lookup_hash("phone", PHONE)).exists()
    call_command("pii_rotate", "--rehash", stdout=open("/dev/null", "w"))
    assert User.objects.get(phone_hash=pii.lookup_hash("phone", PHONE)).pk == worker.pk
