from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gonghui.legal.lawtext import LawParseError
from gonghui.legal.library import load_laws


class Command(BaseCommand):
    help = ("Load (or reload) the law library from data/laws (all files, or the ones named), with the "
            "articles' plain-language summaries from data/legal/summaries. All or nothing.")

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", help="law files (Markdown) to load; default: every file in data/laws")

    def handle(self, *args, **options):
        paths = [Path(f).resolve() for f in options["files"]] or None
        for path in paths or ():
            if not path.exists():
                raise CommandError(f"文件不存在：{path}")
        try:
            loaded = load_laws(paths)
        except LawParseError as exc:
            raise CommandError(f"法规文本有误，未写入任何内容：{exc}") from exc
        for law, count in loaded:
            self.stdout.write(f"  {law.title}（{law.slug}）：{count} 条")
        self.stdout.write(self.style.SUCCESS(f"法规库：载入 {len(loaded)} 部，共 {sum(c for _l, c in loaded)} 条"))
