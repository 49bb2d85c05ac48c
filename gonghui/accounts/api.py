from __future__ import annotations

from ninja import Router, Schema, Status

from gonghui.core.context import client_ip
from gonghui.orgs.models import Grant

from . import services

router = Router(tags=["登录与账户"])


class SmsCodeIn(Schema):
    phone: str


class SmsCodeOut(Schema):
    sent: bool
    expires_in: int
    message: str


class LoginIn(Schema):
    phone: str
    code: str


class StaffLoginIn(Schema):
    username: str
    password: str
    otp: str | None = None


class OrgRef(Schema):
    id: int
    name: str
    kind: str


class GrantOut(Schema):
    id: int
    org: OrgRef
    role: str
    include_descendants: bool


class MeOut(Schema):
    id: int
    kind: str
    username: str
    display_name: str
    phone_masked: str
    grants: list[GrantOut]


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
    expires_in: int
    user: MeOut


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None


def _me(user) -> dict:
    grants = Grant.objects.filter(user=user).select_related("org").order_by("org_path")
    return {
        "id": user.pk,
        "kind": user.kind,
        "username": user.username,
        "display_name": user.display_name,
        "phone_masked": user.phone_masked,
        "grants": [
            {"id": g.pk, "org": {"id": g.org.pk, "name": g.org.name, "kind": g.org.kind}, "role": g.role,
             "include_descendants": g.include_descendants}
            for g in grants
        ],
    }


def _token(user) -> dict:
    from django.conf import settings

    return {"token": services.token_issue(user=user), "expires_in": settings.GONGHUI_API_TOKEN_TTL_SECONDS, "user": _me(user)}


@router.post("/auth/sms-code", auth=None, response={200: SmsCodeOut, 400: ErrorOut, 429: ErrorOut},
             summary="发送登录验证码")
def sms_code(request, payload: SmsCodeIn):
    from django.conf import settings

    services.sms_code_send(phone=payload.phone, ip=client_ip(request))
    ttl = settings.GONGHUI_SMS_CODE_TTL_SECONDS
    return {"sent": True, "expires_in": ttl, "message": f"验证码已发送，{ttl // 60}分钟内有效"}


@router.post("/auth/login", auth=None, response={200: TokenOut, 400: ErrorOut, 403: ErrorOut, 429: ErrorOut},
             summary="职工手机号验证码登录（首次登录自动注册）")
def login(request, payload: LoginIn):
    user = services.worker_login(phone=payload.phone, code=payload.code, ip=client_ip(request))
    return _token(user)


@router.post("/auth/staff/login", auth=None, response={200: TokenOut, 400: ErrorOut, 403: ErrorOut, 429: ErrorOut},
             summary="工作人员登录（用户名+密码+动态口令）")
def staff_login(request, payload: StaffLoginIn):
    user = services.staff_authenticate(
        username=payload.username, password=payload.password, otp=payload.otp, ip=client_ip(request)
    )
    return _token(user)


@router.post("/auth/logout", response={204: None, 401: ErrorOut}, summary="注销当前令牌")
def logout(request):
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        services.token_revoke(header.split(" ", 1)[1].strip())
    return Status(204, None)


@router.get("/me", response={200: MeOut, 401: ErrorOut}, summary="当前用户")
def me(request):
    return _me(request.user)
