"""Roster import (集体登记入会): upload, validation, commit, restarts, the error report."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from gonghui.analytics import rollups
from gonghui.analytics.rollups import daily_read, rollup_read
from gonghui.core import pii
from gonghui.core.errors import Conflict, PermissionDenied, RateLimited, ValidationFailed
from gonghui.core.models import AuditEntry
from gonghui.membership import imports, roster_file, services
from gonghui.membership.models import Member, MemberEvent, MemberStatus, RosterImport, RosterRow, Stint
from gonghui.membership.numbers import is_valid_member_no
from gonghui.membership.tasks import roster_validate
from gonghui.orgs.models import Occupation, Role
from gonghui.orgs.tests.world import assert_rollups_match_rebuild
from gonghui.testing.concurrency import run_together
from gonghui.testing.fixtures import WorkerFactory, staff_on

from .helpers import join, make_id_number

pytestmark = pytest.mark.django_db

HEADER = ["姓名", "身份证号", "手机号", "用工形式", "岗位", "职业代码"]
Status = RosterImport.Status
NUMERALS = "一二三四五六七八九十"  # names cannot contain digits


def ids(n: int, year: int = 1995) -> list[str]:
    return [make_id_number(birth=datetime.date(year, 3, 1 + i % 28), seq=i) for i in range(n)]


def csv_upload(rows, *, name="花名册.csv", encoding="utf-8", header=HEADER) -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(encoding), content_type="text/csv")


def xlsx_upload(rows, *, name="花名册.xlsx") -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


@pytest.fixture
def clerk(tree):
    return staff_on(tree.nantou_union, Role.STAFF)


@pytest.fixture
def occupation_code(db) -> str:
    return Occupation.objects.filter(level=4).order_by("code").values_list("code", flat=True).first()


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call a service and run the tasks it enqueues after commit, as the worker would."""

    def call(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            job = service(**kwargs)
        job.refresh_from_db()
        return job

    return call


def validated(run, clerk, org, upload, employer=None) -> RosterImport:
    return run(imports.import_create, actor=clerk, org=org, upload=upload, employer=employer)


def committed(run, clerk, job) -> RosterImport:
    return run(imports.import_commit, actor=clerk, job=job)


def report_rows(job) -> list[list[str]]:
    text = "".join(imports.error_report(job))
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


# --- End to end -----------------------------------------------------------------------------------


def test_csv_roster_is_validated_and_committed_into_members_of_the_union(tree, clerk, run, occupation_code):
    a, b, c = ids(3)
    rows = [
        ["王小明", a, "13800138001", "劳动合同", "装配工", occupation_code],
        ["李红", b, "", "劳务派遣", "质检员", ""],
        ["阿依古丽·买买提", c, "138 0013 8003", "平台网约", "", ""],
    ]
    job = validated(run, clerk, tree.nantou_union, csv_upload(rows), tree.nantou_employer)
    assert job.status == Status.VALIDATED and job.file_format == "csv"
    assert (job.total_rows, job.valid_rows, job.error_rows) == (3, 3, 0)
    assert job.original_name == "花名册.csv" and "花名册" not in job.file.name  # stored under a random name
    staged = RosterRow.objects.get(roster_import=job, row_no=2)
    assert staged.id_hash == pii.lookup_hash("id", a) and pii.decrypt(staged.id_encrypted) == a
    assert staged.raw == {} and staged.id_masked == pii.mask_id_number(a)

    job = committed(run, clerk, job)
    assert job.status == Status.DONE and job.finished_at is not None
    assert (job.committed_rows, job.skipped_rows) == (3, 0)
    members = list(Member.objects.order_by("member_no"))
    assert [m.id_number for m in members] == [a, b, c]  # numbers follow the row order
    for m in members:
        assert m.org == tree.nantou_union and m.org_path == tree.nantou_union.path
        assert m.status == MemberStatus.ACTIVE and m.source == "roster" and m.roster_import_id == job.pk
        assert m.employer == tree.nantou_employer and is_valid_member_no(m.member_no)
        assert m.member_no.startswith("44") and len(m.card_key) >= 16
        assert [(s.how_started, s.status) for s in m.stints.all()] == [("roster", Stint.Status.CURRENT)]
        assert [(e.action, e.to_status, e.actor_id) for e in m.events.all()] == [("roster", "active", clerk.pk)]
    first, _, third = members
    assert first.name == "王小明" and first.phone == "13800138001" and first.occupation_id == occupation_code
    assert third.phone == "13800138003" and third.is_gig and third.gender == ("M" if int(c[16]) % 2 else "F")
    assert set(RosterRow.objects.filter(roster_import=job).values_list("outcome", flat=True)) == {"created"}
    totals = rollup_read(tree.nantou_union.pk)
    assert totals["members.active"] == 3 and totals["members.gig"] == 1 and totals["members.at_counted_employers"] == 3
    today = timezone.localdate()
    assert daily_read(tree.nanshan.pk, ["members.new"], today, today)["members.new"] == {today: 3}
    assert_rollups_match_rebuild(tree.nantou_union, tree.nantou, tree.nanshan, tree.shenzhen, tree.national)
    actions = list(AuditEntry.objects.filter(object_id=str(job.pk), object_type="membership.rosterimport")
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["membership.import_create", "membership.import_commit", "membership.import_done"]


def test_xlsx_roster_end_to_end_without_an_employer(tree, clerk, run):
    numbers = ids(4, year=1992)
    rows = [[f"张{'一二三四'[i]}", n, "", "灵活就业", "", ""] for i, n in enumerate(numbers)]
    job = validated(run, clerk, tree.nantou_union, xlsx_upload(rows, name="roster.XLSX"))
    assert job.status == Status.VALIDATED and job.file_format == "xlsx"
    assert (job.total_rows, job.valid_rows, job.error_rows) == (4, 4, 0)
    job = committed(run, clerk, job)
    assert job.status == Status.DONE and job.committed_rows == 4
    assert sorted(Member.objects.values_list("name", flat=True)) == sorted(r[0] for r in rows)
    assert set(Member.objects.values_list("org_id", "employer_id", "employment_form")) == {
        (tree.nantou_union.pk, None, "flexible")}
    assert_rollups_match_rebuild(tree.nantou_union, tree.nantou, tree.nanshan, tree.national)


def test_gbk_csv_from_excel_is_read(tree, clerk, run):
    a, b = ids(2, year=1999)
    rows = [["欧阳娜娜", a, "", "劳动合同", "车间主任", ""], ["陈伟", b, "", "派遣", "", ""]]
    job = validated(run, clerk, tree.nantou_union, csv_upload(rows, encoding="gbk"))
    assert job.status == Status.VALIDATED and job.encoding == "gb18030"
    assert job.valid_rows == 2
    committed(run, clerk, job)
    assert sorted(Member.objects.values_list("name", "job_title", "employment_form")) == [
        ("欧阳娜娜", "车间主任", "labor_contract"), ("陈伟", "", "dispatch")]


# --- Rows that cannot be imported -----------------------------------------------------------------


def test_duplicates_members_applications_and_bad_rows_are_reported_and_the_rest_imported(tree, clerk, run):
    # Already a member elsewhere (Futian), one who withdrew, and one with a pending application.
    worker = WorkerFactory()
    app, _ = join(worker, tree.futian_employer)
    futian_clerk = staff_on(tree.futian_union, Role.STAFF)
    member = services.application_approve(actor=futian_clerk, application=app)
    quitter = WorkerFactory()
    gone, _ = join(quitter, tree.futian_employer)
    gone = services.application_approve(actor=futian_clerk, application=gone)
    services.member_withdraw_self(actor=quitter, member=gone)
    waiting, _ = join(WorkerFactory(), tree.nantou_employer)
    fresh = ids(3, year=1998)
    rows = [
        ["甲一", fresh[0], "", "劳动合同", "", ""],          # 2 ok
        ["甲二", member.id_number, "", "劳动合同", "", ""],  # 3 already a member
        ["甲三", fresh[0], "", "劳动合同", "", ""],          # 4 same as row 2
        ["甲四", waiting.id_number, "", "劳动合同", "", ""], # 5 pending application
        ["甲五", fresh[1], "", "劳动合同", "", "9-99-99-99"],  # 6 unknown occupation
        ["甲六", "110105199902300011", "", "劳动合同", "=HYPERLINK(\"x\")", ""],  # 7 bad ID
        ["甲七", gone.id_number, "", "劳动合同", "", ""],    # 8 withdrawn member
        ["甲八", fresh[2], "", "劳动合同", "", ""],          # 9 ok
        ["甲九", fresh[2], "", "兼职", "", ""],              # 10 bad form (and would be a duplicate)
    ]
    job = validated(run, clerk, tree.nantou_union, csv_upload(rows), tree.nantou_employer)
    assert job.status == Status.VALIDATED
    assert (job.total_rows, job.valid_rows, job.error_rows) == (9, 2, 7)
    errors = dict(RosterRow.objects.filter(roster_import=job, ok=False).values_list("row_no", "errors"))
    assert set(errors) == {3, 4, 5, 6, 7, 8, 10}
    assert errors[3] == imports.MSG_MEMBER and tree.futian_union.name not in errors[3]
    assert errors[4] == "与第2行身份证号重复"
    assert errors[5] == imports.MSG_PENDING
    assert "9-99-99-99" in errors[6] and "职业分类大典" in errors[6]
    assert errors[7].startswith("身份证号")
    assert errors[8] == imports.MSG_WITHDRAWN
    assert "用工形式" in errors[10]
    bad_id_row = RosterRow.objects.get(roster_import=job, row_no=7)
    assert "110105199902300011" not in str(bad_id_row.raw)  # the cells of error rows are kept encrypted

    report = report_rows(job)
    assert report[0] == ["行号", *HEADER, "错误说明"]
    assert [r[0] for r in report[1:]] == ["3", "4", "5", "6", "7", "8", "10"]
    by_row = {r[0]: r for r in report[1:]}
    assert by_row["4"][1:3] == ["甲三", fresh[0]] and by_row["4"][-1] == "与第2行身份证号重复"
    assert by_row["7"][5] == "'=HYPERLINK(\"x\")"  # a formula is shown as text
    assert by_row["10"][4] == "兼职"
    assert by_row["6"][4:7] == ["劳动合同", "", "9-99-99-99"]

    before = Member.objects.count()
    job = committed(run, clerk, job)
    assert job.status == Status.DONE and (job.committed_rows, job.skipped_rows) == (2, 0)
    assert Member.objects.count() == before + 2
    assert set(Member.objects.filter(roster_import=job).values_list("name", flat=True)) == {"甲一", "甲八"}
    assert Member.objects.get(pk=member.pk).org == tree.futian_union  # untouched
    assert_rollups_match_rebuild(tree.nantou_union, tree.futian_union, tree.nanshan, tree.national)


def test_a_person_who_became_a_member_after_validation_is_skipped_with_the_reason(tree, clerk, run):
    numbers = ids(3, year=1993)
    job = validated(run, clerk, tree.nantou_union,
                    csv_upload([[f"乙{NUMERALS[i]}", n, "", "劳动合同", "", ""] for i, n in enumerate(numbers)]))
    assert job.valid_rows == 3
    worker = WorkerFactory()
    app, _ = join(worker, tree.futian_employer, id_number=numbers[1])
    services.application_approve(actor=staff_on(tree.futian_union, Role.STAFF), application=app)
    job = committed(run, clerk, job)
    assert job.status == Status.DONE and (job.committed_rows, job.skipped_rows) == (2, 1)
    skipped = RosterRow.objects.get(roster_import=job, row_no=3)
    assert skipped.outcome == "skipped" and skipped.errors == imports.MSG_MEMBER
    assert Member.objects.filter(id_hash=pii.lookup_hash("id", numbers[1])).count() == 1
    assert Member.objects.get(id_hash=pii.lookup_hash("id", numbers[1])).org == tree.futian_union
    assert_rollups_match_rebuild(tree.nantou_union, tree.futian_union, tree.national)


# --- Whole-file problems --------------------------------------------------------------------------


def test_wrong_columns_fail_the_job_with_a_message(tree, clerk, run):
    upload = csv_upload([["张三", ids(1)[0]]], header=["名字", "号码"])
    job = validated(run, clerk, tree.nantou_union, upload)
    assert job.status == Status.FAILED
    assert "表头" in job.error and "姓名" in job.error and "身份证号" in job.error
    assert not RosterRow.objects.filter(roster_import=job).exists()
    assert imports.import_progress(job)["finished"] is True
    with pytest.raises(Conflict):
        imports.import_commit(actor=clerk, job=job)


def test_a_header_without_rows_fails(tree, clerk, run):
    job = validated(run, clerk, tree.nantou_union, csv_upload([]))
    assert job.status == Status.FAILED and "没有数据行" in job.error


def test_empty_file_is_refused_before_anything_is_stored(tree, clerk):
    with pytest.raises(ValidationFailed) as exc:
        imports.import_create(actor=clerk, org=tree.nantou_union, upload=SimpleUploadedFile("a.csv", b""))
    assert exc.value.code == "roster_empty" and exc.value.field == "file" and "空" in exc.value.message
    assert not RosterImport.objects.exists()


def test_oversized_file_is_refused_with_the_limit(tree, clerk, settings):
    settings.GONGHUI_IMPORT_MAX_BYTES = 100
    upload = csv_upload([["张三", n, "", "劳动合同", "", ""] for n in ids(5)])
    with pytest.raises(ValidationFailed) as exc:
        imports.import_create(actor=clerk, org=tree.nantou_union, upload=upload)
    assert exc.value.code == "roster_too_large" and "100 字节" in exc.value.message
    assert not RosterImport.objects.exists()


def test_old_xls_is_refused_with_how_to_convert(tree, clerk):
    upload = SimpleUploadedFile("花名册.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(ValidationFailed) as exc:
        imports.import_create(actor=clerk, org=tree.nantou_union, upload=upload)
    assert exc.value.field == "file" and ".xls" in exc.value.message and ".xlsx" in exc.value.message
    assert not RosterImport.objects.exists()


def test_rosters_go_to_a_union_that_holds_members_and_its_own_employers(tree):
    township_admin = staff_on(tree.nantou)
    with pytest.raises(ValidationFailed) as exc:
        imports.import_create(actor=township_admin, org=tree.nantou, upload=csv_upload([]))
    assert exc.value.code == "import_org_kind" and "企业自己的工会" in exc.value.message
    with pytest.raises(ValidationFailed) as exc:
        imports.import_create(actor=township_admin, org=tree.nantou_union, upload=csv_upload([]),
                              employer=tree.futian_employer)
    assert exc.value.code == "employer_other_union"
    assert not RosterImport.objects.exists()


def test_uploads_are_rate_limited_per_staff_member(tree, clerk, settings):
    settings.GONGHUI_RATE_LIMITS = {**settings.GONGHUI_RATE_LIMITS, "import_user_day": (1, 86400)}
    imports.import_create(actor=clerk, org=tree.nantou_union, upload=csv_upload([]))
    with pytest.raises(RateLimited):
        imports.import_create(actor=clerk, org=tree.nantou_union, upload=csv_upload([]))
    assert RosterImport.objects.count() == 1


# --- Access ---------------------------------------------------------------------------------------


def test_staff_of_a_sibling_union_can_neither_upload_nor_commit_nor_cancel(tree, clerk, run):
    sibling = staff_on(tree.futian_union, Role.STAFF)
    viewer = staff_on(tree.nantou_union, Role.VIEWER)
    for actor in (sibling, viewer):
        with pytest.raises(PermissionDenied):
            imports.import_create(actor=actor, org=tree.nantou_union, upload=csv_upload([]))
    job = validated(run, clerk, tree.nantou_union, csv_upload([["张三", ids(1)[0], "", "劳动合同", "", ""]]))
    for actor in (sibling, viewer):
        with pytest.raises(PermissionDenied):
            imports.import_commit(actor=actor, job=job)
        with pytest.raises(PermissionDenied):
            imports.import_cancel(actor=actor, job=job)
    job.refresh_from_db()
    assert job.status == Status.VALIDATED and not Member.objects.exists()
    ancestor = staff_on(tree.nanshan, Role.STAFF)  # staff of a higher union may act for it
    assert committed(run, ancestor, job).status == Status.DONE


# --- Repeats and restarts -------------------------------------------------------------------------


def test_a_repeated_commit_does_not_commit_twice(tree, clerk, run):
    numbers = ids(3, year=1991)
    job = validated(run, clerk, tree.nantou_union,
                    csv_upload([[f"丙{NUMERALS[i]}", n, "", "劳动合同", "", ""] for i, n in enumerate(numbers)]))
    stale = RosterImport.objects.get(pk=job.pk)  # a second browser tab still showing "validated"
    job = committed(run, clerk, job)
    again = committed(run, clerk, stale)
    assert again.status == Status.DONE and again.committed_rows == 3
    assert Member.objects.count() == 3 and MemberEvent.objects.count() == 3
    imports.roster_commit_run(job.pk)  # a late duplicate of the task
    assert Member.objects.count() == 3
    assert AuditEntry.objects.filter(action="membership.import_commit").count() == 1
    assert rollup_read(tree.nantou_union.pk)["members.active"] == 3


def test_a_commit_that_crashes_mid_way_resumes_without_duplicates(tree, clerk, run, settings, monkeypatch):
    settings.GONGHUI_IMPORT_BATCH_ROWS = 2
    numbers = ids(7, year=1994)
    rows = [[f"丁{NUMERALS[i]}", n, "", "平台网约" if i % 3 == 0 else "劳动合同", "", ""] for i, n in enumerate(numbers)]
    rows.insert(3, ["坏行", "123", "", "劳动合同", "", ""])  # an error row between valid ones
    job = validated(run, clerk, tree.nantou_union, csv_upload(rows), tree.nantou_employer)
    assert (job.valid_rows, job.error_rows) == (7, 1)

    real = rollups.rollup_add_daily
    calls = []

    def crash_on_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(rollups, "rollup_add_daily", crash_on_second_batch)
    job = committed(run, clerk, job)  # the task fails in its second batch
    assert job.status == Status.COMMITTING and job.error == imports.MSG_INTERRUPTED
    assert (job.committed_rows, job.committed_upto) == (2, 3)
    assert Member.objects.count() == 2  # the first batch, whole; nothing of the second
    assert imports.import_progress(job)["can_commit"] is True
    monkeypatch.setattr(rollups, "rollup_add_daily", real)

    job = committed(run, clerk, job)  # staff confirm again: the commit resumes
    assert job.status == Status.DONE and (job.committed_rows, job.skipped_rows) == (7, 0)
    for n in numbers:
        assert Member.objects.filter(id_hash=pii.lookup_hash("id", n)).count() == 1
    assert Member.objects.count() == 7 and Stint.objects.count() == 7 and MemberEvent.objects.count() == 7
    assert len(set(Member.objects.values_list("member_no", flat=True))) == 7
    assert RosterRow.objects.filter(roster_import=job, outcome="created").count() == 7
    assert AuditEntry.objects.filter(action="membership.import_resume").count() == 1
    assert_rollups_match_rebuild(tree.nantou_union, tree.nantou, tree.nanshan, tree.national)


def test_a_worker_restart_during_commit_continues_after_the_last_batch(tree, clerk, run, settings, monkeypatch):
    settings.GONGHUI_IMPORT_BATCH_ROWS = 3
    numbers = ids(8, year=1997)
    job = validated(run, clerk, tree.nantou_union,
                    csv_upload([[f"戊{NUMERALS[i]}", n, "", "劳动合同", "", ""] for i, n in enumerate(numbers)]))
    imports.import_commit(actor=clerk, job=job)  # the task is queued (on commit), not run yet
    real = imports._commit_batch
    batches = []

    def killed_after_two(job, actor_id):
        if len(batches) == 2:
            raise SystemExit("worker killed")
        batches.append(1)
        return real(job, actor_id)

    monkeypatch.setattr(imports, "_commit_batch", killed_after_two)
    with pytest.raises(SystemExit):
        imports.roster_commit_run(job.pk)
    job.refresh_from_db()
    assert job.status == Status.COMMITTING and job.committed_rows == 6 and Member.objects.count() == 6
    monkeypatch.setattr(imports, "_commit_batch", real)
    assert imports.import_requeue_stalled() == 0  # still within the time a batch may take
    RosterImport.objects.filter(pk=job.pk).update(
        updated_at=timezone.now() - datetime.timedelta(seconds=imports.STALL_SECONDS + 1))
    assert imports.import_progress(RosterImport.objects.get(pk=job.pk))["can_commit"] is True
    assert imports.import_requeue_stalled() == 1  # the periodic tick runs the task again
    job.refresh_from_db()
    assert job.status == Status.DONE and job.committed_rows == 8
    assert sorted(Member.objects.values_list("id_hash", flat=True)) == sorted(
        pii.lookup_hash("id", n) for n in numbers)
    assert_rollups_match_rebuild(tree.nantou_union, tree.national)


def test_validation_restarted_after_a_crash_starts_over(tree, clerk, settings, monkeypatch, run):
    settings.GONGHUI_IMPORT_BATCH_ROWS = 2
    numbers = ids(5, year=1996)
    rows = [[f"己{NUMERALS[i]}", n, "", "劳动合同", "", ""] for i, n in enumerate(numbers)] + [["己五", numbers[0], "", "劳动合同", "", ""]]
    job = imports.import_create(actor=clerk, org=tree.nantou_union, upload=csv_upload(rows))
    assert job.status == Status.QUEUED  # queued; the task runs after commit
    real = roster_file.iter_rows

    def dies_after_three(*args, **kwargs):
        for i, row in enumerate(real(*args, **kwargs)):
            if i == 3:
                raise SystemExit("worker killed")
            yield row

    monkeypatch.setattr(roster_file, "iter_rows", dies_after_three)
    with pytest.raises(SystemExit):
        imports.roster_validate_run(job.pk)
    job.refresh_from_db()
    assert job.status == Status.VALIDATING and job.processed_rows == 2
    assert RosterRow.objects.filter(roster_import=job).count() == 2
    monkeypatch.setattr(roster_file, "iter_rows", real)

    job = imports.roster_validate_run(job.pk)
    assert job.status == Status.VALIDATED
    assert (job.total_rows, job.valid_rows, job.error_rows) == (6, 5, 1)
    assert list(RosterRow.objects.filter(roster_import=job).order_by("row_no").values_list("row_no", flat=True)) == [
        2, 3, 4, 5, 6, 7]
    assert RosterRow.objects.get(roster_import=job, row_no=7).errors == "与第2行身份证号重复"
    imports.roster_validate_run(job.pk)  # once validated, a late rerun changes nothing
    assert RosterRow.objects.filter(roster_import=job).count() == 6
    job = committed(run, clerk, job)
    assert Member.objects.count() == 5


def test_an_unforeseen_validation_error_fails_the_job_with_a_message(tree, clerk, monkeypatch):
    job = imports.import_create(actor=clerk, org=tree.nantou_union,
                                upload=csv_upload([["张三", ids(1)[0], "", "劳动合同", "", ""]]))

    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(roster_file, "iter_rows", broken)
    roster_validate.enqueue(job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.error == imports.MSG_SYSTEM


# --- Cancel and progress --------------------------------------------------------------------------


def test_cancel_a_validated_import(tree, clerk, run):
    job = validated(run, clerk, tree.nantou_union, csv_upload([["张三", ids(1)[0], "", "劳动合同", "", ""]]))
    assert imports.import_progress(job)["can_cancel"] is True
    job = imports.import_cancel(actor=clerk, job=job)
    assert job.status == Status.CANCELLED and imports.import_cancel(actor=clerk, job=job).status == Status.CANCELLED
    with pytest.raises(Conflict):
        imports.import_commit(actor=clerk, job=job)
    assert not Member.objects.exists()


def test_a_done_import_cannot_be_cancelled_and_a_roster_without_valid_rows_cannot_be_committed(tree, clerk, run):
    bad = validated(run, clerk, tree.nantou_union, csv_upload([["张三", "123", "", "劳动合同", "", ""]]))
    assert bad.status == Status.VALIDATED and bad.valid_rows == 0
    with pytest.raises(ValidationFailed) as exc:
        imports.import_commit(actor=clerk, job=bad)
    assert exc.value.code == "import_nothing_valid"
    good = committed(run, clerk, validated(run, clerk, tree.nantou_union,
                                           csv_upload([["张三", ids(1)[0], "", "劳动合同", "", ""]])))
    with pytest.raises(Conflict):
        imports.import_cancel(actor=clerk, job=good)


def test_progress_reports_status_percent_and_counts(tree, clerk, run):
    job = imports.import_create(actor=clerk, org=tree.nantou_union,
                                upload=csv_upload([[f"庚{NUMERALS[i]}", n, "", "劳动合同", "", ""] for i, n in enumerate(ids(4))]))
    progress = imports.import_progress(job)
    assert progress["status"] == "queued" and progress["percent"] == 0 and progress["can_commit"] is False
    job.status, job.total_rows, job.processed_rows = Status.VALIDATING, 4, 2
    assert imports.import_progress(job)["percent"] == 50
    job = RosterImport.objects.get(pk=job.pk)
    imports.roster_validate_run(job.pk)
    job.refresh_from_db()
    progress = imports.import_progress(job)
    assert (progress["percent"], progress["valid_rows"], progress["can_commit"]) == (100, 4, True)
    job = committed(run, clerk, job)
    progress = imports.import_progress(job)
    assert (progress["status_label"], progress["percent"], progress["committed_rows"]) == ("已完成", 100, 4)


# --- Concurrency ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_confirms_and_runners_create_each_member_once(tree, settings, monkeypatch):
    settings.GONGHUI_IMPORT_BATCH_ROWS = 3
    clerk = staff_on(tree.nantou_union, Role.STAFF)
    numbers = ids(10, year=2000)
    job = imports.import_create(actor=clerk, org=tree.nantou_union, upload=csv_upload(
        [[f"辛{NUMERALS[i]}", n, "", "劳动合同", "", ""] for i, n in enumerate(numbers)]))
    job.refresh_from_db()  # no surrounding transaction here: the validation task ran at commit
    assert job.status == Status.VALIDATED and job.valid_rows == 10

    monkeypatch.setattr(imports, "_enqueue_commit", lambda pk: None)  # the runners are started below
    results = run_together(lambda i: imports.import_commit(actor=clerk, job=RosterImport.objects.get(pk=job.pk)), 4)
    assert all(isinstance(r, RosterImport) and r.status == Status.COMMITTING for r in results), results
    assert AuditEntry.objects.filter(action="membership.import_commit").count() == 1

    results = run_together(lambda i: imports.roster_commit_run(job.pk), 4)
    assert all(isinstance(r, RosterImport) for r in results), results
    job.refresh_from_db()
    assert job.status == Status.DONE and (job.committed_rows, job.skipped_rows) == (10, 0)
    assert sorted(Member.objects.values_list("id_hash", flat=True)) == sorted(pii.lookup_hash("id", n) for n in numbers)
    assert Stint.objects.count() == 10 and MemberEvent.objects.count() == 10
    assert AuditEntry.objects.filter(action="membership.import_done").count() == 1
    assert rollup_read(tree.nantou_union.pk)["members.active"] == 10
