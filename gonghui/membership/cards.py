"""The electronic member card's QR: a short-lived signed token carrying no personal data.

The token is the member's random card key, time-stamped and signed (django.core.signing, HMAC with
SECRET_KEY). A service point scans it and asks GET /api/v1/cards/verify; a screenshot stops working
after GONGHUI_CARD_TOKEN_SECONDS, and rotating the card key (withdrawal, death, a lost phone)
revokes every token issued before.
"""

from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from gonghui.core import pii
from gonghui.core.audit import audit_log

from .models import CARD_STATUSES, Member

_SALT = "gonghui.membership.card"


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_SALT)


def card_token_issue(member: Member) -> tuple[str, datetime.datetime]:
    token = _signer().sign(member.card_key)
    return token, timezone.now() + datetime.timedelta(seconds=settings.GONGHUI_CARD_TOKEN_SECONDS)


def card_verify(token: str) -> dict:
    """{status: valid | expired | revoked | invalid, name_masked, union, member_no_masked, checked_at}."""
    result = {"status": "invalid", "name_masked": None, "union": None, "member_no_masked": None,
              "checked_at": timezone.now()}
    token = (token or "").strip()
    if not token or len(token) > 200:
        return result
    try:
        key = _signer().unsign(token, max_age=settings.GONGHUI_CARD_TOKEN_SECONDS)
    except signing.SignatureExpired:
        result["status"] = "expired"
        return result
    except signing.BadSignature:
        return result
    member = Member.objects.select_related("org").filter(card_key=key).first()
    if member is None or member.status not in CARD_STATUSES:
        result["status"] = "revoked"
        return result
    result.update(status="valid", name_masked=pii.mask_name(member.name), union=member.org.name,
                  member_no_masked=f"{member.member_no[:4]}******{member.member_no[-4:]}")
    return result


def card_revoke(*, actor, member: Member) -> Member:
    """A member who lost their phone (or staff of their union for them) makes every QR issued so far
    invalid."""
    from gonghui.orgs.models import Role
    from gonghui.orgs.selectors import require_rank

    if member.user_id is None or member.user_id != getattr(actor, "pk", None):
        require_rank(actor, member.org_path, Role.STAFF, "只有会员本人或所在工会的工作人员可以作废会员卡")
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        member.card_key = secrets.token_urlsafe(16)
        member.save(update_fields=["card_key"])
        audit_log(actor=actor, action="membership.card_revoke", obj=member, org=member.org)
    return member
