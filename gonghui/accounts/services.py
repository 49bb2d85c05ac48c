"""Login: SMS codes for workers, password (+TOTP) for staff, bearer tokens for the API."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.utils import timezone

from gonghui.core import pii, ratelimit
from gonghui.core.audit import audit_log
from gonghui.core.errors import PermissionDenied, RateLimited, ValidationFailed

from .models import ApiToken, SmsCode, User
from .sms import get_gateway

_PHONE = re.compile(r"^1[3-9][0-9]{9}$")  # ASCII digits only: \d would also match other scripts' digits


def normalize_phone(raw: str) -> str:
    """Accept 138 0013 8000, 138-0013-8000, +86 13800138000; return 11 digits or raise."""
    # NFKC turns full-width input (＋８６ １３８…, typed in a Chinese input method) into ASCII.
    value = re.sub(r"[\s\-()（）]", "", unicodedata.normalize("NFKC", raw or ""))
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if not _PHONE.match(value):
        raise ValidationFailed("invalid_phone", "请输入正确的11位手机号码（以1开头）", field="phone")
    return value


def _code_hash(phone_hash: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{phone_hash}:{code}".encode(), hashlib.sha256).hexdigest()


def sms_code_send(*, phone: str, ip: str) -> None:
    """Send a 6-digit login code. Rate-limited per phone and per address; the code is never returned."""
    phone = normalize_phone(phone)
    phone_hash = pii.lookup_hash("phone", phone)
    ratelimit.check("sms_ip_hour", ip or "-", "该网络请求验证码过于频繁，请稍后再试")
    ratelimit.check("sms_phone_min", phone_hash, "验证码发送过于频繁，请60秒后再试")
    ratelimit.check("sms_phone_day", phone_hash, "该手机号今日获取验证码次数已达上限，请明天再试")
    # The fixed-window counter lets two requests straddle a minute boundary; the newest code's age
    # closes that gap so a phone never gets two codes within the interval.
    interval = settings.GONGHUI_RATE_LIMITS["sms_phone_min"][1]
    newest = SmsCode.objects.filter(phone_hash=phone_hash).order_by("-created_at").values_list("created_at", flat=True).first()
    if newest is not None and (timezone.now() - newest).total_seconds() < interval:
        wait = interval - int((timezone.now() - newest).total_seconds())
        raise RateLimited(f"验证码发送过于频繁，请{wait}秒后再试", retry_after=wait)
    code = f"{secrets.randbelow(10**6):06d}"
    ttl = settings.GONGHUI_SMS_CODE_TTL_SECONDS
    with transaction.atomic():
        # A new code replaces any earlier one.
        SmsCode.objects.filter(phone_hash=phone_hash, used_at__isnull=True).update(used_at=timezone.now())
        SmsCode.objects.create(
            phone_hash=phone_hash,
            code_hash=_code_hash(phone_hash, code),
            expires_at=timezone.now() + timedelta(seconds=ttl),
            ip=ip or "",
        )
        transaction.on_commit(
            lambda: get_gateway().send(phone, f"【工会一网通】您的登录验证码是{code}，{ttl // 60}分钟内有效。请勿告诉他人。")
        )


def _consume_code(phone_hash: str, code: str) -> None:
    code = unicodedata.normalize("NFKC", code or "").strip()
    bad = ValidationFailed("invalid_code", "验证码错误或已失效，请重新获取", field="code")
    if not re.fullmatch(r"[0-9]{6}", code):
        raise ValidationFailed("invalid_code", "请输入6位数字验证码", field="code")
    with transaction.atomic():
        sms = (
            SmsCode.objects.select_for_update()
            .filter(phone_hash=phone_hash, used_at__isnull=True, expires_at__gt=timezone.now())
            .order_by("-created_at")
            .first()
        )
        if sms is None:
            raise bad
        if sms.attempts >= settings.GONGHUI_SMS_CODE_MAX_ATTEMPTS:
            raise ValidationFailed("too_many_attempts", "验证码错误次数过多，请重新获取", field="code")
        if not hmac.compare_digest(sms.code_hash, _code_hash(phone_hash, code)):
            sms.attempts += 1
            sms.save(update_fields=["attempts"])
            failed = True  # raised after the block commits, so the failed attempt counts
        else:
            sms.used_at = timezone.now()
            sms.save(update_fields=["used_at"])
            failed = False
    if failed:
        raise bad


def worker_login(*, phone: str, code: str, ip: str) -> User:
    """Check the code; the first login of a new phone creates the worker's account."""
    phone = normalize_phone(phone)
    ratelimit.check("login_ip_min", ip or "-", "登录尝试过于频繁，请稍后再试")
    phone_hash = pii.lookup_hash("phone", phone)
    _consume_code(phone_hash, code)
    user = User.objects.filter(phone_hash=phone_hash).first()
    if user is None:
        try:
            with transaction.atomic():
                user = User(username=f"w{secrets.token_hex(8)}", kind=User.Kind.WORKER)
                user.set_phone(phone)
                user.set_unusable_password()
                user.save()
                audit_log(actor=user, action="worker.register", obj=user, object_repr=user.phone_masked)
        except IntegrityError:
            # Two logins of the same new phone at once: the other one created it.
            user = User.objects.get(phone_hash=phone_hash)
    if not user.is_active:
        raise PermissionDenied("该账户已停用，请联系所在工会", code="account_disabled")
    return user


def _lockout_key(username: str) -> str:
    return f"staff_fail:{username.lower()}"


def staff_authenticate(*, username: str, password: str, otp: str | None, ip: str, request=None) -> User:
    """Username + password (+ TOTP). Locks the username after repeated failures."""
    username = (username or "").strip()
    if not username or not password:
        raise ValidationFailed("missing_credentials", "请输入用户名和密码", field="username" if not username else "password")
    ratelimit.check("staff_login_ip_min", ip or "-", "登录尝试过于频繁，请稍后再试")
    if len(username) > 150 or any(ord(ch) < 32 for ch in username):
        # No such account can exist (and the name would not fit the lockout counter's key).
        raise ValidationFailed("invalid_credentials", "用户名或密码错误", field="password")
    key = _lockout_key(username)
    locked = ratelimit.locked_for(key)
    if locked:
        raise RateLimited(f"连续登录失败次数过多，账户已临时锁定，请{-(-locked // 60)}分钟后再试", retry_after=locked)
    user = authenticate(request, username=username, password=password)
    if user is None or user.kind != User.Kind.STAFF:
        _staff_login_failed(key)
        raise ValidationFailed("invalid_credentials", "用户名或密码错误", field="password")
    device = staff_totp_device(user)
    if device is not None:
        if not otp:
            raise ValidationFailed("otp_required", "请输入动态口令（6位数字）", field="otp")
        allowed, _data = device.verify_is_allowed()
        if not allowed:
            raise RateLimited("动态口令尝试过于频繁，请稍等几秒后再试", retry_after=10)
        if not device.verify_token(otp.strip()):
            _staff_login_failed(key)
            raise ValidationFailed("invalid_otp", "动态口令错误，请核对手机上的验证器", field="otp")
        user.otp_device = device
    elif settings.GONGHUI_STAFF_2FA_REQUIRED and request is None:
        # API logins cannot enrol a device: that happens in the console.
        raise PermissionDenied("请先在工作台登录并绑定动态口令（双因素认证）", code="otp_setup_required")
    # Exactly this username's record: a prefix reset would let a login as "bob" clear "bobby"'s lockout.
    ratelimit.clear_lockout(key)
    with transaction.atomic():
        audit_log(actor=user, action="staff.login", obj=user, org=_staff_home(user),
                  after={"otp": device is not None})
    return user


def _staff_home(user: User):
    """The node a staff member's security events belong to: where the account was created, else
    the first node they hold a role on (so the right supervisors read them)."""
    from gonghui.orgs.models import Grant

    if user.home_org_id:
        return user.home_org
    grant = Grant.objects.filter(user=user).select_related("org").order_by("org_path").first()
    return grant.org if grant else None


def _staff_login_failed(key: str) -> None:
    locked = ratelimit.register_failure(
        key, limit=settings.GONGHUI_STAFF_LOCKOUT_FAILURES, period=settings.GONGHUI_STAFF_LOCKOUT_SECONDS
    )
    if locked:
        user = User.objects.filter(username__iexact=key.split(":", 1)[1], kind=User.Kind.STAFF).first()
        if user is not None:
            with transaction.atomic():
                audit_log(actor=None, action="staff.locked", obj=user, org=_staff_home(user),
                          after={"locked_seconds": locked})


def staff_totp_device(user: User):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def token_issue(*, user: User) -> str:
    raw = secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        key_hash=hashlib.sha256(raw.encode()).hexdigest(),
        expires_at=timezone.now() + timedelta(seconds=settings.GONGHUI_API_TOKEN_TTL_SECONDS),
    )
    return raw


def token_resolve(raw: str) -> User | None:
    if not raw:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hashlib.sha256(raw.encode()).hexdigest(), revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def token_revoke(raw: str) -> None:
    ApiToken.objects.filter(key_hash=hashlib.sha256(raw.encode()).hexdigest()).update(revoked_at=timezone.now())


def worker_profile_update(*, actor: User, display_name: str) -> User:
    from gonghui.core.text import normalize_name

    if actor.kind != User.Kind.WORKER:
        raise PermissionDenied("工作人员的姓名由所在工会管理员维护")
    name = normalize_name(display_name)
    if not name:
        raise ValidationFailed("invalid_name", "请填写姓名", field="display_name")
    if len(name) > 100:
        raise ValidationFailed("invalid_name", "姓名不能超过100个字", field="display_name")
    with transaction.atomic():
        before = {"display_name": actor.display_name}
        actor.display_name = name
        actor.save(update_fields=["display_name"])
        audit_log(actor=actor, action="worker.profile_update", obj=actor, object_repr=actor.phone_masked,
                  before=before, after={"display_name": name})
    return actor


# --- Staff two-factor enrolment (the console's security page) ----------------------------------

TOTP_DEVICE_NAME = "工作台动态口令"


def staff_totp_pending(user: User):
    """The user's enrolment in progress: an unconfirmed TOTP device, or None."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def staff_totp_enrol_begin(*, user: User):
    """Start (or resume) TOTP enrolment: an unconfirmed device whose secret the user scans."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if user.kind != User.Kind.STAFF:
        raise PermissionDenied("只有工作人员可以绑定动态口令")
    if staff_totp_device(user) is not None:
        raise ValidationFailed("otp_already_enrolled", "您已绑定动态口令；如需更换手机，请联系系统管理员重置", field="otp")
    with transaction.atomic():
        device = staff_totp_pending(user)
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def staff_totp_confirm(*, user: User, otp: str):
    """Confirm enrolment with a code from the authenticator app; audited in the same transaction."""
    from gonghui.orgs.models import Grant

    code = re.sub(r"\s", "", otp or "")
    if not re.fullmatch(r"\d{6}", code):
        raise ValidationFailed("invalid_otp", "请输入验证器上显示的6位数字动态口令", field="otp")
    device = staff_totp_pending(user)
    if device is None:
        raise ValidationFailed("otp_not_started", "请先点击“开始绑定”，用验证器扫描二维码", field="otp")
    allowed, _info = device.verify_is_allowed()
    if not allowed:  # django-otp throttles after a wrong code (the wait doubles each time)
        raise ValidationFailed("otp_throttled", "动态口令尝试过于频繁，请稍等片刻后输入验证器上的新数字", field="otp")
    if not device.verify_token(code):
        raise ValidationFailed("invalid_otp", "动态口令不正确，请核对验证器上的当前数字（手机时间需准确）", field="otp")
    grant = Grant.objects.filter(user=user).select_related("org").order_by("org_path").first()
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        type(device).objects.filter(user=user, confirmed=False).exclude(pk=device.pk).delete()
        audit_log(actor=user, action="staff.totp_enrol", obj=user, org=grant.org if grant else None,
                  after={"device": device.name})
    return device
