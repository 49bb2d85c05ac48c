import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
application = get_wsgi_application()

from gonghui.core.startup import refuse_demo_accounts  # noqa: E402

refuse_demo_accounts()

# The legal-affairs cloud's word dictionaries (jieba, the lexicon, the guides): loaded once per web
# process at start, not during a worker's first search (measured: 2.2-3.6 s, bench/legal.py).
from gonghui.legal.textindex import warm  # noqa: E402

warm()
