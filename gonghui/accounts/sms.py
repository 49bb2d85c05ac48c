"""Pluggable SMS gateways. Production sets GONGHUI_SMS_GATEWAY to a class for its provider."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

from gonghui.core import pii


class SmsGateway:
    def send(self, phone: str, body: str) -> None:
        raise NotImplementedError


class OutboxGateway(SmsGateway):
    """Development: keeps messages in a table; `manage.py sms_outbox --phone N` prints them."""

    def send(self, phone: str, body: str) -> None:
        from .models import SmsOutbox

        SmsOutbox.objects.create(phone_hash=pii.lookup_hash("phone", phone), phone_masked=pii.mask_phone(phone), body=body)


@lru_cache(maxsize=1)
def _gateway(path: str) -> SmsGateway:
    return import_string(path)()


def get_gateway() -> SmsGateway:
    return _gateway(settings.GONGHUI_SMS_GATEWAY)
