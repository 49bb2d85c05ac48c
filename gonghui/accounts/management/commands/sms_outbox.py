from django.core.management.base import BaseCommand, CommandError

from gonghui.accounts.models import SmsOutbox
from gonghui.accounts.services import normalize_phone
from gonghui.core import pii
from gonghui.core.errors import ServiceError


class Command(BaseCommand):
    help = "Print the development SMS outbox (messages the real gateway would have sent)."

    def add_arguments(self, parser):
        parser.add_argument("--phone", help="only messages to this phone number")
        parser.add_argument("--last", type=int, default=10, help="how many messages (newest first)")

    def handle(self, *args, phone=None, last=10, **options):
        qs = SmsOutbox.objects.order_by("-id")
        if phone:
            try:
                phone = normalize_phone(phone)
            except ServiceError as exc:
                raise CommandError(exc.message) from None
            qs = qs.filter(phone_hash=pii.lookup_hash("phone", phone))
        rows = list(qs[:last])
        if not rows:
            self.stdout.write("发件箱中没有短信。")
        for row in rows:
            self.stdout.write(f"{row.created_at:%Y-%m-%d %H:%M:%S}  {row.phone_masked}  {row.body}")
