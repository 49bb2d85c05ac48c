import pytest

from gonghui.accounts.services import staff_authenticate
from gonghui.core.errors import RateLimited, ValidationFailed
from gonghui.core.models import AuditEntry
from gonghui.orgs.selectors import audit_list
from gonghui.testing.fixtures import PASSWORD, staff_on

pytestmark = pytest.mark.django_db


def test_a_staff_login_is_recorded_where_the_supervisors_read_it(tree, settings):
    clerk = staff_on(tree.nantou, username="nantou-clerk")
    staff_authenticate(username="nantou-clerk", password=PASSWORD, otp=None, ip="10.9.8.7")
    entry = AuditEntry.objects.get(action="staff.login")
    assert entry.actor == clerk and entry.org_id == tree.nantou.pk
    nanshan_admin = staff_on(tree.nanshan)
    assert entry in audit_list(actor=nanshan_admin)[0]
    assert entry not in audit_list(actor=staff_on(tree.futian))[0]


def test_a_lockout_is_recorded_once(tree, settings):
    settings.GONGHUI_STAFF_LOCKOUT_FAILURES = 3
    staff_on(tree.nantou, username="nantou-clerk")
    for _ in range(3):
        with pytest.raises(ValidationFailed):
            staff_authenticate(username="nantou-clerk", password="wrong-password", otp=None, ip="10.9.8.7")
    with pytest.raises(RateLimited):
        staff_authenticate(username="nantou-clerk", password=PASSWORD, otp=None, ip="10.9.8.7")
    locked = AuditEntry.objects.get(action="staff.locked")
    assert locked.org_id == tree.nantou.pk and locked.after["locked_seconds"] > 0
    assert not AuditEntry.objects.filter(action="staff.login").exists()
