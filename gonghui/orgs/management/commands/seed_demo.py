import time

from django.conf import settings
from django.core.management.base import BaseCommand

from gonghui.orgs.demo import seed_demo


class Command(BaseCommand):
    help = "Add the demo dataset (employers, unions, federations, demo staff and workers)."

    def handle(self, *args, **options):
        started = time.monotonic()
        logins = seed_demo()
        if logins is None:
            self.stdout.write("演示数据已存在，跳过。")
            return
        self.stdout.write(f"演示数据已生成（{time.monotonic() - started:.1f} 秒）。")
        self.stdout.write(f"演示账号（工作台账号密码均为 {settings.GONGHUI_DEMO_PASSWORD}；手机号在职工端用短信验证码登录）：")
        for login in logins:
            self.stdout.write(f"  {login.username:<18} {login.role}  {login.org}")
