"""Re-encrypt personal information with the newest key, and optionally recompute lookup hashes."""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from gonghui.core import pii
from gonghui.core.pii_registry import ENCRYPTED_COLUMNS


class Command(BaseCommand):
    help = ("Re-encrypt every PII column with the first key of GONGHUI_PII_ENCRYPTION_KEYS; with "
            "--rehash, recompute lookup hashes with the current GONGHUI_PII_KEY.")

    def add_arguments(self, parser):
        parser.add_argument("--rehash", action="store_true", help="recompute lookup hashes too")
        parser.add_argument("--batch", type=int, default=2000)

    def handle(self, *args, rehash=False, batch=2000, **options):
        for label, column, hash_column, kind in ENCRYPTED_COLUMNS:
            model = apps.get_model(label)
            last, changed = 0, 0
            while True:
                with transaction.atomic():
                    rows = list(model.objects.select_for_update().filter(pk__gt=last).exclude(**{column: ""})
                                .order_by("pk").values_list("pk", column)[:batch])
                    for pk, token in rows:
                        updates = {column: pii.rotate(token)}
                        if rehash and hash_column:
                            value = pii.decrypt(token)
                            if value:
                                updates[hash_column] = pii.lookup_hash(kind, value)
                        model.objects.filter(pk=pk).update(**updates)
                        changed += 1
                if not rows:
                    break
                last = rows[-1][0]
            self.stdout.write(f"{label}.{column}: {changed} rows")
