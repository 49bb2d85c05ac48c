"""The demo layer (`make demo`) builds its cases through the real services: every status, an
escalation, a cluster, ratings, and totals that equal a recount."""

from __future__ import annotations

import pytest

from gonghui.casedesk.models import Case, CaseStatus, ClusterAlert
from gonghui.orgs.demo import seed_demo
from gonghui.orgs.models import OrgKind, OrgUnit
from gonghui.orgs.tests.world import assert_rollups_match_rebuild

pytestmark = pytest.mark.django_db


def test_the_demo_has_cases_in_every_stage():
    assert seed_demo() is not None
    statuses = set(Case.objects.values_list("status", flat=True))
    assert {CaseStatus.PENDING, CaseStatus.IN_PROGRESS, CaseStatus.WAITING_WORKER, CaseStatus.RESOLVED,
            CaseStatus.CLOSED} <= statuses
    assert Case.objects.filter(accept_overdue_at__isnull=False, supervisor__isnull=False).exists()
    assert Case.objects.filter(satisfaction__isnull=False).exists()
    assert Case.objects.filter(channel="hotline").exists() and Case.objects.filter(kind="consultation").exists()
    assert ClusterAlert.objects.filter(status=ClusterAlert.Status.OPEN).count() == 1
    nanshan = OrgUnit.objects.get(division_id="440305", kind=OrgKind.COUNTY)
    assert_rollups_match_rebuild(OrgUnit.objects.get(kind=OrgKind.NATIONAL), nanshan)
    # The legal-affairs demo (gonghui/legal/demo.py): files in every status, a referred case, letters.
    from gonghui.legal.models import AidApplication, AidProvider, SupervisionLetter

    assert set(AidApplication.objects.values_list("status", flat=True)) == {
        "submitted", "needs_docs", "approved", "assigned", "concluded", "archived", "rejected"}
    assert AidApplication.objects.filter(source="case").exists()
    assert AidProvider.objects.filter(user__isnull=False).exists()  # the demo lawyer signs in as a demo worker
    assert SupervisionLetter.objects.filter(serial_label__startswith="深南工监意〔").exists()
