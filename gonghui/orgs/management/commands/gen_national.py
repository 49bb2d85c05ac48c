import argparse

from django.core.management.base import BaseCommand, CommandError

from gonghui.orgs.national import (
    DEFAULT_EMPLOYERS,
    DEFAULT_GRASSROOTS,
    GenerationRefused,
    generate_national,
    refuse_reason,
)
from gonghui.orgs.national_members import DEFAULT_MEMBERS


def _count(value: str) -> int:
    try:
        number = int(value.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"数量应为整数，例如 2500000（收到 {value!r}）") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"数量不能为负数（收到 {value!r}）")
    return number


class Command(BaseCommand):
    help = (
        "Generate a synthetic national dataset on PostgreSQL (grassroots unions under the real townships and "
        "employers with valid USCC), optionally members (--members), with COPY, for benchmarks. Refuses a "
        "database that already has them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--grassroots", type=_count, default=DEFAULT_GRASSROOTS,
                            help=f"grassroots unions (default {DEFAULT_GRASSROOTS:,})")
        parser.add_argument("--employers", type=_count, default=DEFAULT_EMPLOYERS,
                            help=f"employers (default {DEFAULT_EMPLOYERS:,})")
        parser.add_argument("--members", type=_count, default=0,
                            help=f"members over the grassroots unions (default 0; the benchmark uses {DEFAULT_MEMBERS:,})")
        parser.add_argument("--scale", type=float, default=1.0, help="multiply every count, e.g. 0.01 for a quick run")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, **options):
        scale = options["scale"]
        if not 0 < scale <= 10:
            raise CommandError(f"--scale 应在 0 到 10 之间（收到 {scale}）")
        grassroots = round(options["grassroots"] * scale)
        employers = round(options["employers"] * scale)
        members = round(options["members"] * scale)
        reason = refuse_reason()
        if reason:
            raise CommandError(reason)
        with_members = f"，会员 {members:,} 名" if members else ""
        self.stdout.write(
            f"生成全国数据：基层工会 {grassroots:,} 个，用人单位 {employers:,} 家{with_members}（seed {options['seed']}）"
        )
        try:
            report = generate_national(
                grassroots=grassroots, employers=employers, members=members, seed=options["seed"],
                log=self.stdout.write,
            )
        except GenerationRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"完成：基层工会 {report.grassroots:,} 个（其中联合基层工会 {report.joint:,} 个），"
            f"用人单位 {report.employers:,} 家（其中有本单位或联合工会的 {report.covered_employers:,} 家），"
            + (f"会员 {report.members:,} 名，" if report.members else "")
            + f"共用时 {report.total_seconds:.1f} 秒（{report.total_seconds / 60:.1f} 分钟）。"
        )
