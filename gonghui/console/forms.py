"""Console forms: they render fields and carry input; the services validate and say what to fix.

Fields are optional at the form level on purpose, so that a missing or bad value gets the
service's Chinese message (the same one the API gives), not a generic form message.
"""

from __future__ import annotations

from django import forms

from gonghui.orgs.models import CASE_ROLE_RANK, ROLE_RANK, CaseRole, Role


def _text(label: str, *, required: bool = False, help_text: str = "", **attrs) -> forms.CharField:
    widget_attrs = {"autocomplete": "off", **attrs}
    if required:
        widget_attrs["required"] = True
    field = forms.CharField(
        label=label, required=False, strip=False, help_text=help_text, widget=forms.TextInput(attrs=widget_attrs)
    )
    field.marked_required = required
    return field


def _date(label: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label, required=False, help_text=help_text, widget=forms.DateInput(attrs={"type": "date"})
    )


class LoginForm(forms.Form):
    username = _text("用户名", required=True, autocomplete="username", autocapitalize="none")
    password = forms.CharField(
        label="密码",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "required": True}),
    )
    otp = _text(
        "动态口令",
        help_text="已绑定验证器的账户请输入6位数字；未绑定可不填",
        inputmode="numeric",
        autocomplete="one-time-code",
        maxlength="6",
        pattern="[0-9 ]*",
    )


class OtpConfirmForm(forms.Form):
    otp = _text(
        "验证器上的6位动态口令", required=True, inputmode="numeric", autocomplete="one-time-code", maxlength="7"
    )


class UnionCreateForm(forms.Form):
    kind = forms.CharField(label="工会类型", required=False, widget=forms.Select(attrs={"required": True}))
    name = _text("工会名称", required=True, help_text="例如：深圳市某某科技有限公司工会委员会")
    division_code = _text(
        "行政区划代码", inputmode="numeric", help_text="6位（县级）或9位（乡镇街道）代码；不填则沿用上级工会的辖区"
    )
    industry = _text("行业")
    chair_name = _text("工会主席")
    founded_on = _date("成立日期")

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].widget.choices = [("", "请选择")] + [(k.value, k.label) for k in kinds]
        self.fields["kind"].marked_required = True


class UnionEditForm(forms.Form):
    name = _text("工会名称", required=True)
    division_code = _text("行政区划代码", inputmode="numeric", help_text="6位（县级）或9位（乡镇街道）代码")
    industry = _text("行业")
    chair_name = _text("工会主席")
    founded_on = _date("成立日期")
    term_ends_on = _date("本届届满日期", help_text="到期前提醒换届")

    def __init__(self, *args, territorial=False, **kwargs):
        super().__init__(*args, **kwargs)
        if territorial:
            # Territorial unions follow their administrative division; it is not edited here.
            del self.fields["division_code"]


class EmployerForm(forms.Form):
    name = _text("单位名称", required=True)
    uscc = _text(
        "统一社会信用代码",
        required=True,
        autocapitalize="characters",
        maxlength="24",
        help_text="18位，由数字和大写字母组成（营业执照上可查）",
    )
    division_code = _text(
        "所在行政区划代码",
        required=True,
        inputmode="numeric",
        help_text="6位（县级）或9位（乡镇街道）代码，须在本工会辖区内",
    )
    address = _text("地址")
    industry = _text("行业")
    employee_count = forms.CharField(
        label="职工人数", required=False, widget=forms.NumberInput(attrs={"min": "0", "inputmode": "numeric"})
    )
    is_platform = forms.BooleanField(label="平台企业（新就业形态劳动者所在平台）", required=False)


def role_choices(actor_rank: int) -> list[tuple[str, str]]:
    """Roles the actor may grant: never above their own rank, highest first."""
    allowed = [role for role in Role if ROLE_RANK[role] <= actor_rank]
    return [(role.value, role.label) for role in sorted(allowed, key=ROLE_RANK.get, reverse=True)]


def case_role_choices(actor_case_rank: int) -> list[tuple[str, str]]:
    """Case roles the actor may grant: those they hold themselves (and 无)."""
    return [(role.value, role.label) for role in CaseRole if CASE_ROLE_RANK[role] <= actor_case_rank]


class GrantForm(forms.Form):
    username = _text("工作人员用户名", required=True, autocapitalize="none")
    role = forms.CharField(label="角色", required=False, widget=forms.Select(attrs={"required": True}))
    case_role = forms.CharField(
        label="诉求办理角色",
        required=False,
        widget=forms.Select(),
        help_text="诉求办理：登记、受理、转办、答复和办结职工诉求；诉求督办质检：另可质检结案、重新办理。"
        "诉求内容含职工个人信息，没有诉求办理角色的人员看不到。只能授予您本人持有的诉求办理角色。",
    )
    include_descendants = forms.BooleanField(label="同时管理所有下级组织", required=False, initial=True)

    def __init__(self, *args, actor_rank: int = 0, actor_case_rank: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].widget.choices = role_choices(actor_rank)
        self.fields["role"].marked_required = True
        self.fields["case_role"].widget.choices = case_role_choices(actor_case_rank)


class StaffCreateForm(GrantForm):
    display_name = _text("姓名", required=True)

    field_order = ["username", "display_name", "role", "include_descendants"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["case_role"]  # granted afterwards, on the grant form
        self.fields["username"].label = "登录用户名"
        self.fields["username"].help_text = "字母、数字和 - _ . @，例如 zhang.wei"
