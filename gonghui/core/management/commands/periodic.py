import time

from django.core.management.base import BaseCommand

from gonghui.core import periodic


class Command(BaseCommand):
    help = "Run the periodic jobs (escalations, pruning) once, or forever with --loop."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true")
        parser.add_argument("--interval", type=int, default=30, help="seconds between checks with --loop")

    def handle(self, *args, loop=False, interval=30, **options):
        while True:
            ran = periodic.run_due()
            if not loop:
                self.stdout.write("ran: " + (", ".join(ran) or "nothing"))
                return
            time.sleep(interval)
