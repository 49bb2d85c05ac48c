#!/usr/bin/env python3
"""One roster import in a fresh process, for bench/membership.py: store the upload, validate, commit
(the task functions called in-process, one after the other), then print the timings and the peak
resident memory of this process (getrusage ru_maxrss, Django included) as JSON. Nothing else runs
in this process.

    python bench/roster_import.py --org ID --actor USERNAME --file roster.csv
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Linux carries the peak RSS of the process image that exec replaced into ru_maxrss, and a child
# started by the (large) benchmark process begins as a copy of it: measure in a grandchild started
# from here, while this process is still small.
if os.environ.get("GONGHUI_ROSTER_CHILD") != "1":
    import subprocess

    sys.exit(subprocess.call([sys.executable, __file__, *sys.argv[1:]], env=dict(os.environ, GONGHUI_ROSTER_CHILD="1")))
RSS_AT_START = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")

import warnings  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at")

from django.conf import settings  # noqa: E402

# The tasks are called below, in this process: enqueueing does nothing.
settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}

import django  # noqa: E402

django.setup()

from django.core.files import File  # noqa: E402

from gonghui.accounts.models import User  # noqa: E402
from gonghui.membership import imports, tasks  # noqa: E402
from gonghui.membership.models import RosterImport  # noqa: E402
from gonghui.orgs.models import OrgUnit  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--org", type=int, required=True)
    parser.add_argument("--actor", required=True)
    parser.add_argument("--file", required=True)
    args = parser.parse_args()
    actor = User.objects.get(username=args.actor)
    org = OrgUnit.objects.get(pk=args.org)
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    path = Path(args.file)
    out: dict = {"file_bytes": path.stat().st_size}
    started = time.perf_counter()
    with path.open("rb") as f:
        job = imports.import_create(actor=actor, org=org, upload=File(f, name=path.name))
    out["create_s"] = time.perf_counter() - started
    t0 = time.perf_counter()
    tasks.roster_validate.call(job.pk)
    out["validate_s"] = time.perf_counter() - t0
    job = RosterImport.objects.get(pk=job.pk)
    out["validated"] = {"status": job.status, "total_rows": job.total_rows, "valid_rows": job.valid_rows,
                        "error_rows": job.error_rows, "error": job.error}
    rss_validated = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    job = imports.import_commit(actor=actor, job=job)
    tasks.roster_commit.call(job.pk)
    out["commit_s"] = time.perf_counter() - t0
    out["total_s"] = time.perf_counter() - started
    job = RosterImport.objects.get(pk=job.pk)
    out["committed"] = {"status": job.status, "committed_rows": job.committed_rows, "skipped_rows": job.skipped_rows,
                        "error": job.error}
    out["import_id"] = job.pk
    job.file.delete(save=False)  # the stored copy of the upload (MEDIA_ROOT is a temporary folder here)
    if Path(settings.MEDIA_ROOT).name.startswith("gonghui-test-private-"):  # made by this process's settings
        shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
    out["maxrss_mb"] = {
        "at_start": round(RSS_AT_START / 1024, 1),
        "after_setup": round(rss_start / 1024, 1),
        "after_validate": round(rss_validated / 1024, 1),
        "peak": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
