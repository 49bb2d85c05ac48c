"""Demo membership: members at the demo unions with sixty days of joins, and applications that
show every state of the queue (pending, due soon, overdue and escalated, rejected), a transfer
and a correction waiting for review. Deterministic (fixed seed); built after the demo unions."""

from __future__ import annotations

import datetime
import random
import secrets

from django.db import transaction
from django.utils import timezone
from stdnum.iso7064 import mod_11_2

from gonghui.accounts.models import User
from gonghui.orgs.models import LEAF_KINDS, Employer, OrgUnit

from . import services
from .models import Application, EmploymentForm, Member, MemberEvent, MemberStatus, Stint
from .numbers import make_member_no, next_sequence

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国志斌宇浩凯健俊帆"


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2, 2])))


def id_number(rng: random.Random, region: str) -> str:
    birth = datetime.date(1965, 1, 1) + datetime.timedelta(days=rng.randint(0, 365 * 38))
    body = f"{region}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    return body + mod_11_2.calc_check_digit(body)


def seed_membership(rng: random.Random | None = None, per_union: int = 15, counties: tuple = ("440305", "440304")) -> dict:
    rng = rng or random.Random(2026)
    now = timezone.now()
    unions = list(OrgUnit.objects.filter(kind__in=list(LEAF_KINDS), division__code__regex=r"^(" + "|".join(counties) + ")")
                  .order_by("path"))
    employers_by_union: dict[int, Employer] = {}
    for employer in Employer.objects.filter(org__in=unions).order_by("id"):
        employers_by_union.setdefault(employer.org_id, employer)
    used: set[str] = set()
    members, created = [], 0
    sizes = [employers_by_union[u.pk].employee_count if u.pk in employers_by_union else 20 for u in unions]
    counts = [min(per_union, max(3, int(size * 0.6))) for size in sizes]
    with transaction.atomic():
        sequence = iter(next_sequence(sum(counts)))  # one round trip; each union takes the next `count`
        for union, count in zip(unions, counts, strict=True):
            employer = employers_by_union.get(union.pk)
            numbers = [make_member_no(union.province_code, now.year, next(sequence)) for _ in range(count)]
            for i in range(count):
                number = id_number(rng, (employer.division_id if employer else union.division_id or "440305")[:6])
                if number in used:
                    continue
                used.add(number)
                joined = now - datetime.timedelta(days=rng.randint(0, 59), hours=rng.randint(0, 12))
                member = Member(
                    name=person_name(rng), gender="M" if int(number[16]) % 2 else "F",
                    birth_date=datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
                    member_no=numbers[i], status=MemberStatus.ACTIVE, org=union, org_path=union.path,
                    province_code=union.province_code, joined_on=timezone.localtime(joined).date(),
                    card_key=secrets.token_urlsafe(16), employer=employer,
                    employment_form=EmploymentForm.PLATFORM if union.kind == "platform" else rng.choice(
                        [EmploymentForm.LABOR_CONTRACT] * 8 + [EmploymentForm.DISPATCH]),
                    platform_role="rider" if union.kind == "platform" else "",
                    job_title=rng.choice(["操作工", "技术员", "工程师", "质检员", "仓管员", "销售", "文员", "骑手"]),
                )
                member.set_id_number(number)
                member.set_phone(f"139{rng.randint(0, 99999999):08d}")
                members.append((member, joined))
        Member.objects.bulk_create([m for m, _ in members], batch_size=1000)
        Stint.objects.bulk_create([Stint(member=m, org=m.org, org_path=m.org_path, started_on=m.joined_on,
                                         how_started="roster") for m, _ in members], batch_size=1000)
        MemberEvent.objects.bulk_create(
            [MemberEvent(member=m, from_status="", to_status="active", action="roster", reason="演示数据",
                         org=m.org, org_path=m.org_path, created_at=joined) for m, joined in members],
            batch_size=1000)
        created = len(members)

    # The queue, through the real services: demo workers apply to the demo grassroots union.
    nantou_union = OrgUnit.objects.filter(kind="grassroots", division__code="440305001").order_by("path").first()
    employer = Employer.objects.filter(org=nantou_union).first() if nantou_union else None
    workers = list(User.objects.filter(username__startswith="demo-worker-").order_by("username"))
    pending = 0
    if employer is not None and workers:
        for i, worker in enumerate(workers[1:13]):
            app, _ = services.application_submit(
                actor=worker, name=worker.display_name or person_name(rng), id_number=id_number(rng, "440305"),
                employment_form=EmploymentForm.LABOR_CONTRACT, consent=True, employer_id=employer.pk,
                job_title="操作工")
            pending += 1
            if i < 3:  # these were submitted days ago and are now overdue
                Application.objects.filter(pk=app.pk).update(
                    submitted_at=now - datetime.timedelta(days=8), due_at=now - datetime.timedelta(days=2))
        services.overdue_escalate(now)
        # demo-worker-001 is a member, with a card to show.
        first = workers[0]
        app, _ = services.application_submit(
            actor=first, name=first.display_name or "林小云", id_number=id_number(rng, "440305"),
            employment_form=EmploymentForm.LABOR_CONTRACT, consent=True, employer_id=employer.pk, job_title="技术员")
        admin = User.objects.filter(username="demo-national").first()
        services.application_approve(actor=admin, application=app)
    return {"members": created, "applications": pending}
