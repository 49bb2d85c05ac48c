import time

from django.core.management.base import BaseCommand

from gonghui.orgs.divisions import load_divisions


class Command(BaseCommand):
    help = "Load administrative divisions (data/divisions) and build the territorial union tree."

    def handle(self, *args, **options):
        started = time.monotonic()
        divisions, units = load_divisions()
        self.stdout.write(f"行政区划 {divisions} 条，工会组织 {units} 个（{time.monotonic() - started:.1f} 秒）")
