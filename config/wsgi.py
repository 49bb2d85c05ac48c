import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
application = get_wsgi_application()

from gonghui.core.startup import refuse_demo_accounts  # noqa: E402

refuse_demo_accounts()
