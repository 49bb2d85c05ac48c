"""Jobs that run on a clock (escalating overdue applications, pruning counters).

`manage.py periodic --loop` runs every registered job when it is due; `make demo` / scripts/serve.sh
start it beside the task worker; in production run it as one service (or `manage.py periodic` from
cron every minute). Every job must be idempotent: two runners at once must not do the work twice
(the jobs lock the rows they change with SKIP LOCKED).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class Job:
    name: str
    func: Callable[[], object]
    every_seconds: int
    last_run: float = 0.0


JOBS: dict[str, Job] = {}


def register(name: str, func: Callable[[], object], every_seconds: int) -> None:
    JOBS.setdefault(name, Job(name, func, every_seconds))


def run_due(now: float | None = None, close_connections: bool = True) -> list[str]:
    from django.db import close_old_connections

    now = time.time() if now is None else now
    ran = []
    for job in JOBS.values():
        if now - job.last_run < job.every_seconds:
            continue
        if close_connections:
            close_old_connections()  # a long-running loop must not keep a connection the server dropped
        try:
            result = job.func()
            log.info("periodic %s: %s", job.name, result)
        except Exception:  # one failing job must not stop the others; it is retried next round
            log.exception("periodic job %s failed", job.name)
        job.last_run = now
        ran.append(job.name)
    return ran
