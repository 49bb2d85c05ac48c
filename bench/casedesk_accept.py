#!/usr/bin/env python3
"""A case handler in its own process, for bench/casedesk.py: accepts cases one after another while
the deadline sweep runs in the benchmark's process, and records how long each accept took.

Each accept is what `POST /api/v1/cases/{id}/accept` does below HTTP: `selectors.case_get` (the case
through the handler's scope) then `services.case_accept` (row lock, status, clocks, event, audit,
rollups, notice; one transaction). It prints "ready" once Django is set up and waits for a line on
stdin; then it works until the stop file appears or the cases run out. Before the sweep-started file
appears it accepts only cases the sweep will not touch; while the sweep runs it alternates between
those and cases the sweep is due to warn or escalate. Records go to the output file as JSON.

    python bench/casedesk_accept.py --actor USERNAME --job job.json --out out.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")

import warnings  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at")

import django  # noqa: E402

django.setup()

from gonghui.accounts.models import User  # noqa: E402
from gonghui.casedesk import selectors, services  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--actor", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    job = json.loads(Path(args.job).read_text(encoding="utf-8"))
    actor = User.objects.get(username=args.actor)
    other, swept = list(job["other"]), list(job["swept"])
    started_file, done_file, stop_file = Path(job["started_file"]), Path(job["done_file"]), Path(job["stop_file"])
    # Warm the connection, the scope and the code paths outside the record.
    for case_id in job.get("warm", []):
        services.case_accept(actor=actor, case=selectors.case_get(actor=actor, case_id=case_id))
    print("ready", flush=True)
    sys.stdin.readline()
    records = []
    turn = 0
    while not stop_file.exists():
        phase = "after" if done_file.exists() else "during" if started_file.exists() else "before"
        use_swept = phase == "during" and turn % 2 == 1 and swept
        if phase == "during":
            turn += 1
        queue = swept if use_swept else other
        if not queue:
            break
        case_id = queue.pop()
        wall = time.time()
        t0 = time.perf_counter()
        record = {"id": case_id, "group": "swept" if use_swept else "other", "phase": phase, "at": wall}
        try:
            case = selectors.case_get(actor=actor, case_id=case_id)
            was = case.status
            services.case_accept(actor=actor, case=case)
            record["was"] = was
        except Exception as exc:  # noqa: BLE001 - recorded and counted, the run goes on
            record["error"] = f"{type(exc).__name__}: {exc}"[:200]
        record["ms"] = round((time.perf_counter() - t0) * 1000, 3)
        records.append(record)
    Path(args.out).write_text(json.dumps(records), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
