"""Roster import (集体登记入会), the job half: upload, validate into staging rows, commit in batches.

The file half (recognising the upload, reading and checking each row) is roster_file.py.

    import_create  -> QUEUED      the file is stored; the validation task is enqueued after commit
    roster_validate_run           QUEUED/VALIDATING -> VALIDATED (or FAILED for a bad file)
    import_commit  -> COMMITTING  the commit task is enqueued after commit
    roster_commit_run             COMMITTING -> DONE, batch by batch
    import_cancel                 VALIDATED -> CANCELLED

Restarts. Validation starts over (its staging rows are deleted first) whenever it runs again on a
job that is still QUEUED or VALIDATING, e.g. after a worker was killed. Committing is resumable:
each batch of valid rows (in row order, after `committed_upto`) is committed in ONE transaction
together with its members, stints, events, row outcomes, rollup deltas and the advance of
`committed_upto`, under a lock on the job row; so a crash loses nothing, a restart never
duplicates, and two runners on one job take turns.

Memory is bounded: rows are streamed from the file and written in batches; duplicate and existing-
member checks run in SQL; the commit reads one batch of row ids at a time.

Decisions:
- A row whose person was a member once (withdrawn) is not reactivated by a roster: rejoining goes
  through the person's own application (consent, their account). Validation reports such a row as
  an error ("曾是会员…需本人重新申请入会"); if it happens between validation and commit, the row is
  skipped with the same explanation.
- A skipped row keeps ok=True, outcome "skipped" and the reason in `errors`.
- The cells of an error row (`raw`) contain ID numbers as typed, so they are stored encrypted
  ({"encrypted": <Fernet token of the JSON>}); read them with `row_raw()`.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import logging
import re
import secrets
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from gonghui.analytics import rollups
from gonghui.core import pii, ratelimit
from gonghui.core.audit import audit_log
from gonghui.core.errors import Conflict, ValidationFailed
from gonghui.orgs.models import LEAF_KINDS, Employer, OrgUnit, Role
from gonghui.orgs.selectors import require_rank

from . import roster_file
from .models import (
    HOLDING_STATUSES,
    Application,
    EmploymentForm,
    Member,
    MemberEvent,
    MemberStatus,
    RosterImport,
    RosterRow,
    Stint,
)
from .numbers import member_nos
from .services import AT_COUNTED, GIG, NEW_MEMBERS, member_metric

logger = logging.getLogger(__name__)

Status = RosterImport.Status
HEAD_BYTES = 64 * 1024  # what format sniffing looks at
ERROR_SEPARATOR = "；"
OUTCOME_CREATED = "created"
OUTCOME_SKIPPED = "skipped"
REPORT_PAGE = 1000
# A validating or committing job that has not advanced for this long lost its worker.
STALL_SECONDS = 600

# Messages for rows that cannot be imported because of what is already in the database. They never
# name another union (a roster must not reveal where else a person is registered).
MSG_MEMBER = "该职工已是工会会员，无需重复登记；如已调入本单位，请由本人办理会员关系接转"
MSG_WITHDRAWN = "曾是会员，需本人重新申请入会（已退会的会员不能通过花名册恢复会籍）"
MSG_DECEASED = "该身份证号对应的会员已登记为已故，请核实身份证号"
MSG_PENDING = "该职工已提交入会申请，正在审批中，请勿重复登记"
MSG_TAKEN = "入库时该身份证号已登记为会员，未重复导入"
MSG_OCCUPATION = "职业代码：{code} 不在2022版职业分类大典的细类中，请核对（可在系统中按职业名称查找代码）"
MSG_SYSTEM = "校验时发生系统错误，请稍后重新上传；如仍失败请联系系统管理员"
MSG_INTERRUPTED = "入库过程中断，已入库的会员不受影响；请再次点击“确认导入”继续，不会重复登记"

_STAGE_COLUMNS = (
    "roster_import_id", "row_no", "ok", "errors", "raw", "name", "id_hash", "id_encrypted", "id_masked",
    "gender", "birth_date", "phone_hash", "phone_encrypted", "phone_masked", "employment_form", "job_title",
    "occupation_code", "outcome",
)


# --- Create ---------------------------------------------------------------------------------------


def _size_label(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size // (1024 * 1024)} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} 字节"


def import_create(*, actor, org: OrgUnit, upload, employer: Employer | None = None) -> RosterImport:
    """Store an uploaded roster (.xlsx or .csv) for `org` and queue its validation."""
    require_rank(actor, org.path, Role.STAFF, "只有本工会的工作人员可以导入花名册")
    if org.kind not in LEAF_KINDS:
        raise ValidationFailed(
            "import_org_kind",
            f"「{org.name}」是{org.kind_label}，不直接登记会员。花名册请上传到企业自己的工会"
            "（基层工会、联合基层工会或平台企业工会）",
            "org_id",
        )
    if employer is not None and employer.org_id != org.pk:
        raise ValidationFailed("employer_other_union", f"所选单位不属于「{org.name}」，请选择本工会所覆盖的单位",
                               "employer_id")
    if upload is None:
        raise ValidationFailed("file_required", "请选择要上传的花名册文件（.xlsx 或 .csv）", "file")
    ratelimit.check("import_user_day", str(actor.pk),
                    f"今天上传花名册的次数已达上限（每天{settings.GONGHUI_RATE_LIMITS['import_user_day'][0]}次），请明天再试")
    size = getattr(upload, "size", None) or 0
    limit = settings.GONGHUI_IMPORT_MAX_BYTES
    if size <= 0:
        raise ValidationFailed("roster_empty", "上传的文件是空的（0字节），请检查后重新上传", "file")
    if size > limit:
        raise ValidationFailed("roster_too_large",
                               f"文件大小超过了 {_size_label(limit)} 的上限，请拆分成几个较小的文件分批上传", "file")
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    original_name = Path(str(getattr(upload, "name", "") or "")).name.strip()[:200] or "花名册"
    file_format = roster_file.sniff_format(original_name, head)
    job = RosterImport(org=org, org_path=org.path, province_code=org.province_code, employer=employer,
                       original_name=original_name, file_format=file_format, created_by=actor)
    # The stored name is random: the client's file name never reaches the file system.
    job.file.save(f"{secrets.token_hex(16)}.{file_format}", upload, save=False)
    try:
        with transaction.atomic():
            job.save()
            audit_log(actor=actor, action="membership.import_create", obj=job, org=org,
                      object_repr=f"花名册导入：{original_name}"[:300],
                      after={"original_name": original_name, "size": size, "format": file_format,
                             "employer_id": employer.pk if employer else None})
            transaction.on_commit(lambda: _enqueue_validate(job.pk))
    except BaseException:
        job.file.delete(save=False)
        raise
    return job


def _enqueue_validate(import_id: int) -> None:
    from .tasks import roster_validate

    roster_validate.enqueue(import_id)


def _enqueue_commit(import_id: int) -> None:
    from .tasks import roster_commit

    roster_commit.enqueue(import_id)


# --- Validate -------------------------------------------------------------------------------------


@contextmanager
def _exclusive(import_id: int):
    """One validation run per job at a time (a session advisory lock: released if the worker dies)."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = (0x524F5354 << 32) | (int(import_id) & 0xFFFFFFFF)  # "ROST" + id
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        got = cursor.fetchone()[0]
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _encrypt_raw(raw: dict) -> dict:
    return {"encrypted": pii.encrypt(json.dumps(raw, ensure_ascii=False))}


def row_raw(row: RosterRow) -> dict[str, str]:
    """The cells of a row as the file had them (cleaned), keyed like roster_file.COLUMNS.

    Error rows keep their cells (encrypted); rows that parsed but failed a database check (a
    duplicate, an existing member, an unknown occupation) are shown from their parsed values."""
    raw = row.raw or {}
    if "encrypted" in raw:
        try:
            return json.loads(pii.decrypt(raw["encrypted"]) or "{}")
        except ValueError:
            return {}
    if raw:
        return raw
    form = row.employment_form
    return {
        "name": row.name,
        "id_number": pii.decrypt(row.id_encrypted),
        "phone": pii.decrypt(row.phone_encrypted),
        "employment_form": EmploymentForm(form).label if form in EmploymentForm.values else form,
        "job_title": row.job_title,
        "occupation_code": row.occupation_code,
    }


def _stage_values(import_id: int, r) -> tuple:
    if r.ok:
        number, phone = r.id_number, r.phone or ""
        return (
            import_id, r.row_no, True, "", "{}", r.name,
            pii.lookup_hash("id", number), pii.encrypt(number), pii.mask_id_number(number),
            r.gender, r.birth_date,
            pii.lookup_hash("phone", phone) if phone else "", pii.encrypt(phone), pii.mask_phone(phone) if phone else "",
            r.employment_form, r.job_title, r.occupation_code, "",
        )
    return (
        import_id, r.row_no, False, ERROR_SEPARATOR.join(r.errors)[:10000],
        json.dumps(_encrypt_raw(r.raw)), "", "", "", "", "", None, "", "", "", "", "", "", "",
    )


def _write_stage(rows: list[tuple]) -> None:
    if not rows:
        return
    if connection.vendor == "postgresql":
        table = RosterRow._meta.db_table
        with connection.cursor() as cursor, cursor.copy(
                f"COPY {table} ({', '.join(_STAGE_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    objs = []
    for values in rows:
        data = dict(zip(_STAGE_COLUMNS, values, strict=True))
        data["raw"] = json.loads(data["raw"])
        objs.append(RosterRow(**data))
    RosterRow.objects.bulk_create(objs)


def _estimate_rows(path: str, file_format: str) -> int:
    """A quick guess of the number of data rows, for the progress bar while validating."""
    try:
        if file_format == "csv":
            lines = 0
            with open(path, "rb") as f:
                while chunk := f.read(1 << 20):
                    lines += chunk.count(b"\n")
            return max(0, lines - 1)
        with zipfile.ZipFile(path) as z:
            sheets = sorted(n for n in z.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n, re.I))
            if not sheets:
                return 0
            with z.open(sheets[0]) as f:
                head = f.read(1 << 16)
        m = re.search(rb'<(?:\w+:)?dimension\s+ref="[A-Za-z]+\d+(?::[A-Za-z]+(\d+))?"', head)
        return max(0, int(m.group(1)) - 1) if m and m.group(1) else 0
    except (OSError, ValueError, zipfile.BadZipFile, RuntimeError):
        return 0


def roster_validate_run(import_id: int) -> RosterImport:
    """Read the stored file into staging rows, check them against the database, count. Runs (again)
    on a QUEUED or VALIDATING job, starting over; returns the job unchanged in any other status."""
    with _exclusive(import_id) as got:
        job = RosterImport.objects.select_related("org").get(pk=import_id)
        if not got or job.status not in (Status.QUEUED, Status.VALIDATING):
            return job
        with transaction.atomic():
            RosterRow.objects.filter(roster_import_id=job.pk).delete()
            job.status, job.error = Status.VALIDATING, ""
            job.total_rows = job.valid_rows = job.error_rows = job.processed_rows = 0
            job.save(update_fields=["status", "error", "total_rows", "valid_rows", "error_rows", "processed_rows",
                                    "updated_at"])
        try:
            _validate(job)
        except roster_file.RosterFileError as exc:
            _fail(job, exc.message)
        except FileNotFoundError:
            _fail(job, "上传的文件已丢失，请重新上传")
        return job


def _fail(job: RosterImport, message: str) -> None:
    with transaction.atomic():
        RosterRow.objects.filter(roster_import_id=job.pk).delete()
        job.status, job.error = Status.FAILED, message[:500]
        job.total_rows = job.valid_rows = job.error_rows = job.processed_rows = 0
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "total_rows", "valid_rows", "error_rows", "processed_rows",
                                "finished_at", "updated_at"])


def import_fail(import_id: int, message: str = MSG_SYSTEM) -> None:
    """The validation task crashed on something unforeseen: tell the user, keep nothing of the file."""
    job = RosterImport.objects.get(pk=import_id)
    if job.status in (Status.QUEUED, Status.VALIDATING):
        _fail(job, message)


def _validate(job: RosterImport) -> None:
    path = job.file.path
    roster_file.check_size(path)
    encoding = None
    if job.file_format == "csv":
        # The whole-file look (first non-ASCII text), so a file with an ASCII start is read right.
        encoding = roster_file.detect_file_encoding(path)
    job.encoding = encoding or ""
    job.total_rows = _estimate_rows(path, job.file_format)  # an estimate until validation ends
    job.save(update_fields=["encoding", "total_rows", "updated_at"])
    batch_size = max(1, int(settings.GONGHUI_IMPORT_BATCH_ROWS))
    batch: list[tuple] = []
    processed = 0
    for result in roster_file.iter_rows(path, job.file_format, encoding):
        batch.append(_stage_values(job.pk, result))
        if len(batch) >= batch_size:
            _write_stage(batch)
            processed += len(batch)
            batch = []
            RosterImport.objects.filter(pk=job.pk).update(processed_rows=processed, updated_at=timezone.now())
    _write_stage(batch)
    processed += len(batch)
    with transaction.atomic():
        _check_in_database(job.pk)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*), COALESCE(SUM(CASE WHEN ok THEN 1 ELSE 0 END), 0) FROM {RosterRow._meta.db_table} "
                "WHERE roster_import_id = %s", [job.pk])
            total, valid = cursor.fetchone()
        job.status = Status.VALIDATED
        job.total_rows, job.valid_rows, job.error_rows, job.processed_rows = total, valid, total - valid, total
        job.save(update_fields=["status", "total_rows", "valid_rows", "error_rows", "processed_rows", "updated_at"])


def _append_error(message_sql: str) -> str:
    """SET clause that marks a row as an error and appends a message to those it may already have."""
    return (f"ok = {_false()}, errors = CASE WHEN errors = '' THEN {message_sql} "
            f"ELSE errors || '{ERROR_SEPARATOR}' || {message_sql} END")


def _false() -> str:
    return "false" if connection.vendor == "postgresql" else "0"


def _check_in_database(import_id: int) -> None:
    """The checks that need more than one row: all in SQL, on the rows that parsed (id_hash set)."""
    rows = RosterRow._meta.db_table
    members = Member._meta.db_table
    apps = Application._meta.db_table
    holding = ", ".join(f"'{s.value}'" for s in HOLDING_STATUSES)
    with connection.cursor() as cursor:
        # Second and later occurrences of a person in the file.
        duplicate_message = "(%s || CAST(d.first_row AS TEXT) || %s)"
        cursor.execute(
            f"UPDATE {rows} SET {_append_error(duplicate_message)} "
            f"FROM (SELECT id, row_number() OVER w AS n, first_value(row_no) OVER w AS first_row FROM {rows} "
            f"      WHERE roster_import_id = %s AND id_hash <> '' WINDOW w AS (PARTITION BY id_hash ORDER BY row_no)) d "
            f"WHERE {rows}.id = d.id AND d.n > 1",
            ["与第", "行身份证号重复", "与第", "行身份证号重复", import_id],
        )
        # Already a member (or was one), without saying where.
        status_message = f"(CASE WHEN m.status IN ({holding}) THEN %s WHEN m.status = %s THEN %s ELSE %s END)"
        cursor.execute(
            f"UPDATE {rows} SET {_append_error(status_message)} FROM {members} m "
            f"WHERE {rows}.roster_import_id = %s AND {rows}.id_hash <> '' AND m.id_hash = {rows}.id_hash",
            [MSG_MEMBER, MemberStatus.WITHDRAWN.value, MSG_WITHDRAWN, MSG_DECEASED] * 2 + [import_id],
        )
        # A pending application.
        cursor.execute(
            f"UPDATE {rows} SET {_append_error('%s')} WHERE roster_import_id = %s AND id_hash <> '' "
            f"AND EXISTS (SELECT 1 FROM {apps} a WHERE a.id_hash = {rows}.id_hash AND a.status = %s)",
            [MSG_PENDING, MSG_PENDING, import_id, Application.Status.PENDING.value],
        )
        # Occupation codes that are not an occupation (细类) of the 2022 classification.
        before, after = MSG_OCCUPATION.split("{code}")
        occupation_message = "(%s || occupation_code || %s)"
        cursor.execute(
            f"UPDATE {rows} SET {_append_error(occupation_message)} WHERE roster_import_id = %s "
            f"AND id_hash <> '' AND occupation_code <> '' AND NOT EXISTS "
            f"(SELECT 1 FROM orgs_occupation o WHERE o.code = {rows}.occupation_code AND o.level = 4)",
            [before, after, before, after, import_id],
        )


# --- Commit ---------------------------------------------------------------------------------------


def import_commit(*, actor, job: RosterImport) -> RosterImport:
    """Confirm the import of the valid rows. A repeated or concurrent confirm does not commit twice;
    on a commit that was interrupted (or stalled) it starts the commit task again, which resumes
    after the last committed batch."""
    require_rank(actor, job.org_path, Role.STAFF, "只有本工会的工作人员可以确认导入花名册")
    job.refresh_from_db()
    if job.status == Status.VALIDATED:
        if job.valid_rows == 0:
            raise ValidationFailed("import_nothing_valid",
                                   "没有校验通过的行，无法导入。请下载错误报告，修改后重新上传", "status")
        if job.employer_id and Employer.objects.filter(pk=job.employer_id).values_list("org_id", flat=True).first() \
                != job.org_id:
            raise Conflict("employer_other_union", "所选单位已不属于本工会，请取消本次导入后重新上传", "employer_id")
    with transaction.atomic():
        started = RosterImport.objects.filter(pk=job.pk, status=Status.VALIDATED).update(
            status=Status.COMMITTING, processed_rows=0, error="", updated_at=timezone.now())
        resumed = 0
        if not started:
            resumed = (RosterImport.objects.filter(pk=job.pk, status=Status.COMMITTING)
                       .filter(Q(error__gt="") | Q(updated_at__lt=_stalled_before()))
                       .update(error="", updated_at=timezone.now()))
        job.refresh_from_db()
        if started or resumed:
            audit_log(actor=actor, action="membership.import_commit" if started else "membership.import_resume",
                      obj=job, org=job.org, object_repr=f"花名册导入：{job.original_name}"[:300],
                      after={"valid_rows": job.valid_rows, "committed_rows": job.committed_rows})
            transaction.on_commit(lambda: _enqueue_commit(job.pk))
            return job
    if job.status in (Status.COMMITTING, Status.DONE):
        return job
    raise Conflict("import_not_ready", f"该导入任务{job.get_status_display()}，不能确认导入", "status")


def _stalled_before() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(seconds=STALL_SECONDS)


def import_requeue_stalled() -> int:
    """Enqueue again the jobs whose task stopped without a word (a worker killed mid-run): validating
    or committing, and not advanced for STALL_SECONDS. Safe to call at any time (every run is
    idempotent, see the module docstring); meant for a periodic tick. Returns how many."""
    stalled = list(RosterImport.objects.filter(status__in=[Status.VALIDATING, Status.COMMITTING],
                                               updated_at__lt=_stalled_before()).values_list("pk", "status"))
    for pk, status in stalled:
        (_enqueue_validate if status == Status.VALIDATING else _enqueue_commit)(pk)
    return len(stalled)


def import_interrupted(import_id: int) -> None:
    """The commit task stopped on an error: say so (the job stays COMMITTING and can be resumed)."""
    RosterImport.objects.filter(pk=import_id, status=Status.COMMITTING).update(
        error=MSG_INTERRUPTED, updated_at=timezone.now())


def _commit_actor_id(job: RosterImport) -> int | None:
    from gonghui.core.models import AuditEntry

    return (AuditEntry.objects.filter(object_type=RosterImport._meta.label_lower, object_id=str(job.pk),
                                      action__in=["membership.import_commit", "membership.import_resume"])
            .order_by("-id").values_list("actor_id", flat=True).first())


def roster_commit_run(import_id: int) -> RosterImport:
    """Commit the valid rows of a COMMITTING job, batch by batch, then mark it DONE."""
    actor_id = None
    actor_known = False
    while True:
        with transaction.atomic():
            job = (RosterImport.objects.select_for_update(of=("self",)).select_related("org", "employer")
                   .get(pk=import_id))
            if job.status != Status.COMMITTING:
                return job
            if not actor_known:
                actor_id, actor_known = _commit_actor_id(job), True
            if not _commit_batch(job, actor_id):
                _finish(job, actor_id)
                return job


def _commit_batch(job: RosterImport, actor_id: int | None) -> bool:
    """One batch in the caller's transaction. Returns False when there was nothing left."""
    batch_size = max(1, int(settings.GONGHUI_IMPORT_BATCH_ROWS))
    rows = list(RosterRow.objects.filter(roster_import_id=job.pk, ok=True, row_no__gt=job.committed_upto)
                .order_by("row_no").values_list("id", "row_no")[:batch_size])
    if not rows:
        return False
    org = job.org
    now = timezone.now()
    today = timezone.localtime(now).date()
    numbers = member_nos(org.province_code, today.year, len(rows))
    keys = [secrets.token_urlsafe(16) for _ in rows]
    employer = job.employer
    ctx = {
        "org": org.pk, "path": org.path, "province": org.province_code, "job": job.pk, "now": now, "today": today,
        "employer": employer.pk if employer else None,
        "division": employer.division_id if employer else org.division_id,
        "actor": actor_id, "reason": f"集体登记入会（{job.original_name}）"[:300],
    }
    if connection.vendor == "postgresql":
        created, gig = _insert_postgresql(rows, numbers, keys, ctx)
    else:
        created, gig = _insert_orm(rows, numbers, keys, ctx)
    skipped = len(rows) - created
    if created:
        deltas = {member_metric(MemberStatus.ACTIVE): created, GIG: gig}
        if employer is not None and employer.employee_count:
            deltas[AT_COUNTED] = created
        rollups.rollup_add(org.path, deltas)
        rollups.rollup_add_daily(org.path, today, {NEW_MEMBERS: created})
    job.committed_upto = rows[-1][1]
    job.committed_rows += created
    job.skipped_rows += skipped
    job.processed_rows = job.committed_rows + job.skipped_rows
    job.save(update_fields=["committed_upto", "committed_rows", "skipped_rows", "processed_rows", "updated_at"])
    return True


_COMMIT_SQL = """
WITH b AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(nos)s::text[], %(keys)s::text[]) AS b(row_id, member_no, card_key)
), ins AS (
    INSERT INTO {members} (
        name, id_hash, id_encrypted, id_masked, gender, birth_date, phone_hash, phone_encrypted, phone_masked,
        employer_id, employer_name, employer_uscc, work_division_id, job_title, occupation_id, employment_form,
        platform_id, platform_role, user_id, member_no, status, retain_reason, org_id, org_path, province_code,
        joined_on, status_changed_at, card_key, source, roster_import_id, created_at, updated_at)
    SELECT r.name, r.id_hash, r.id_encrypted, r.id_masked, r.gender, r.birth_date, r.phone_hash,
        r.phone_encrypted, r.phone_masked, %(employer)s, '', '', %(division)s, r.job_title,
        NULLIF(r.occupation_code, ''), r.employment_form, NULL, '', NULL, b.member_no, 'active', '',
        %(org)s, %(path)s, %(province)s, %(today)s, %(now)s, b.card_key, 'roster', %(job)s, %(now)s, %(now)s
    FROM b JOIN {rows} r ON r.id = b.row_id
    WHERE NOT EXISTS (SELECT 1 FROM {apps} a WHERE a.id_hash = r.id_hash AND a.status = 'pending')
    ORDER BY r.row_no
    ON CONFLICT (id_hash) DO NOTHING
    RETURNING id, member_no, employment_form
), stints AS (
    INSERT INTO {stints} (member_id, org_id, org_path, status, started_on, ended_on, how_started, how_ended)
    SELECT id, %(org)s, %(path)s, 'current', %(today)s, NULL, 'roster', '' FROM ins
), events AS (
    INSERT INTO {events} (member_id, from_status, to_status, action, reason, org_id, org_path, actor_id, created_at)
    SELECT id, '', 'active', 'roster', %(reason)s, %(org)s, %(path)s, %(actor)s, %(now)s FROM ins
), outcomes AS (
    UPDATE {rows} r SET
        outcome = CASE WHEN ins.id IS NULL THEN 'skipped' ELSE 'created' END,
        errors = CASE WHEN ins.id IS NOT NULL THEN '' ELSE COALESCE(
            (SELECT CASE WHEN m.status IN ({holding}) THEN %(msg_member)s WHEN m.status = 'withdrawn'
                         THEN %(msg_withdrawn)s ELSE %(msg_deceased)s END
             FROM {members} m WHERE m.id_hash = r.id_hash),
            (SELECT %(msg_pending)s FROM {apps} a WHERE a.id_hash = r.id_hash AND a.status = 'pending' LIMIT 1),
            %(msg_taken)s) END
    FROM b LEFT JOIN ins ON ins.member_no = b.member_no
    WHERE r.id = b.row_id
)
SELECT COUNT(*), COUNT(*) FILTER (WHERE employment_form = 'platform') FROM ins
"""


def _insert_postgresql(rows, numbers, keys, ctx) -> tuple[int, int]:
    """Members, stints, events and row outcomes of one batch in one statement, from the staging rows."""
    sql = _COMMIT_SQL.format(
        members=Member._meta.db_table, rows=RosterRow._meta.db_table, apps=Application._meta.db_table,
        stints=Stint._meta.db_table, events=MemberEvent._meta.db_table,
        holding=", ".join(f"'{s.value}'" for s in HOLDING_STATUSES),
    )
    params = {
        **ctx, "ids": [r[0] for r in rows], "nos": numbers, "keys": keys,
        "msg_member": MSG_MEMBER, "msg_withdrawn": MSG_WITHDRAWN, "msg_deceased": MSG_DECEASED,
        "msg_pending": MSG_PENDING, "msg_taken": MSG_TAKEN,
    }
    with connection.cursor() as cursor:
        # The planner's estimate for the whole statement is high enough to switch JIT on, which then
        # spends seconds compiling for a query that runs in milliseconds.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        created, gig = cursor.fetchone()
    return created, gig


def _insert_orm(rows, numbers, keys, ctx) -> tuple[int, int]:
    """The same on other databases (SQLite in development: one writer at a time, so check-then-insert)."""
    staged = {r.pk: r for r in RosterRow.objects.filter(pk__in=[row_id for row_id, _ in rows])}
    hashes = [r.id_hash for r in staged.values()]
    existing = dict(Member.objects.filter(id_hash__in=hashes).values_list("id_hash", "status"))
    pending = set(Application.objects.filter(id_hash__in=hashes, status=Application.Status.PENDING)
                  .values_list("id_hash", flat=True))
    new_members, outcome_rows = [], []
    for (row_id, _row_no), number, key in zip(rows, numbers, keys, strict=True):
        r = staged[row_id]
        if r.id_hash in existing:
            status = existing[r.id_hash]
            r.outcome = OUTCOME_SKIPPED
            r.errors = (MSG_MEMBER if status in HOLDING_STATUSES else
                        MSG_WITHDRAWN if status == MemberStatus.WITHDRAWN else MSG_DECEASED)
        elif r.id_hash in pending:
            r.outcome, r.errors = OUTCOME_SKIPPED, MSG_PENDING
        else:
            r.outcome, r.errors = OUTCOME_CREATED, ""
            existing[r.id_hash] = MemberStatus.ACTIVE
            new_members.append(Member(
                name=r.name, id_hash=r.id_hash, id_encrypted=r.id_encrypted, id_masked=r.id_masked, gender=r.gender,
                birth_date=r.birth_date, phone_hash=r.phone_hash, phone_encrypted=r.phone_encrypted,
                phone_masked=r.phone_masked, employer_id=ctx["employer"], work_division_id=ctx["division"],
                job_title=r.job_title, occupation_id=r.occupation_code or None, employment_form=r.employment_form,
                member_no=number, status=MemberStatus.ACTIVE, org_id=ctx["org"], org_path=ctx["path"],
                province_code=ctx["province"], joined_on=ctx["today"], card_key=key, source="roster",
                roster_import_id=ctx["job"]))
        outcome_rows.append(r)
    Member.objects.bulk_create(new_members)
    Stint.objects.bulk_create([Stint(member=m, org_id=ctx["org"], org_path=ctx["path"], started_on=ctx["today"],
                                     how_started="roster") for m in new_members])
    MemberEvent.objects.bulk_create([MemberEvent(member=m, to_status=MemberStatus.ACTIVE, action="roster",
                                                 reason=ctx["reason"], org_id=ctx["org"], org_path=ctx["path"],
                                                 actor_id=ctx["actor"]) for m in new_members])
    RosterRow.objects.bulk_update(outcome_rows, ["outcome", "errors"])
    return len(new_members), sum(1 for m in new_members if m.employment_form == EmploymentForm.PLATFORM)


def _finish(job: RosterImport, actor_id: int | None) -> None:
    from gonghui.accounts.models import User

    job.status, job.finished_at, job.error = Status.DONE, timezone.now(), ""
    job.processed_rows = job.committed_rows + job.skipped_rows
    job.save(update_fields=["status", "finished_at", "error", "processed_rows", "updated_at"])
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    audit_log(actor=actor, action="membership.import_done", obj=job, org=job.org,
              object_repr=f"花名册导入：{job.original_name}"[:300],
              after={"committed_rows": job.committed_rows, "skipped_rows": job.skipped_rows,
                     "error_rows": job.error_rows})


# --- Cancel ---------------------------------------------------------------------------------------


def import_cancel(*, actor, job: RosterImport) -> RosterImport:
    """Drop a validated import without committing anything."""
    require_rank(actor, job.org_path, Role.STAFF, "只有本工会的工作人员可以取消花名册导入")
    with transaction.atomic():
        cancelled = RosterImport.objects.filter(pk=job.pk, status=Status.VALIDATED).update(
            status=Status.CANCELLED, finished_at=timezone.now(), updated_at=timezone.now())
        job.refresh_from_db()
        if cancelled:
            audit_log(actor=actor, action="membership.import_cancel", obj=job, org=job.org,
                      object_repr=f"花名册导入：{job.original_name}"[:300])
            return job
    if job.status == Status.CANCELLED:
        return job
    raise Conflict("import_not_cancellable", f"该导入任务{job.get_status_display()}，不能取消", "status")


# --- Progress and the error report ----------------------------------------------------------------


def import_progress(job: RosterImport) -> dict:
    """Status, percent (0-100) and counts for the API and the console's progress bar. While
    validating, `total_rows` is an estimate from the file (`estimated` is True)."""
    status = job.status
    percent = 0
    if status == Status.VALIDATING and job.total_rows:
        percent = min(99, job.processed_rows * 100 // job.total_rows)
    elif status == Status.COMMITTING and job.valid_rows:
        percent = min(99, (job.committed_rows + job.skipped_rows) * 100 // job.valid_rows)
    elif status in (Status.VALIDATED, Status.DONE):
        percent = 100
    return {
        "id": job.pk,
        "status": status,
        "status_label": Status(status).label,
        "percent": percent,
        "estimated": status in (Status.QUEUED, Status.VALIDATING),
        "total_rows": job.total_rows,
        "valid_rows": job.valid_rows,
        "error_rows": job.error_rows,
        "committed_rows": job.committed_rows,
        "skipped_rows": job.skipped_rows,
        "processed_rows": job.processed_rows,
        "error": job.error,
        "finished": status in (Status.DONE, Status.FAILED, Status.CANCELLED),
        "can_commit": (status == Status.VALIDATED and job.valid_rows > 0)
        or (status == Status.COMMITTING and (bool(job.error) or job.updated_at < _stalled_before())),
        "can_cancel": status == Status.VALIDATED,
    }


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_line(cells: list) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(cells)
    return buffer.getvalue()


def error_report(job: RosterImport) -> Iterator[str]:
    """The rows with errors as CSV lines (UTF-8 with BOM for Excel): 行号, the roster columns as
    written, 错误说明. Streamed from the database in row order; cells that a spreadsheet would take
    for a formula are prefixed with a single quote."""
    keys = list(roster_file.COLUMNS)
    yield "\ufeff" + _csv_line(["行号", *roster_file.COLUMNS.values(), "错误说明"])
    last = 0
    while True:
        page = list(RosterRow.objects.filter(roster_import_id=job.pk, ok=False, row_no__gt=last)
                    .order_by("row_no")
                    .only("row_no", "errors", "raw", "name", "id_encrypted", "phone_encrypted", "employment_form",
                          "job_title", "occupation_code")[:REPORT_PAGE])
        for row in page:
            raw = row_raw(row)
            yield _csv_line([row.row_no, *(_safe_cell(raw.get(k, "")) for k in keys), _safe_cell(row.errors)])
        if len(page) < REPORT_PAGE:
            return
        last = page[-1].row_no
