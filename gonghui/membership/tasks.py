"""Background jobs of membership (Django tasks API; the worker is `manage.py db_worker`).

Both roster tasks may run again on the same job (a worker restart, a retry): validation starts
over, committing resumes after the last committed batch (see imports.py)."""

import logging

from django_tasks import task

logger = logging.getLogger(__name__)


@task()
def roster_validate(import_id: int) -> str:
    from .imports import import_fail, roster_validate_run

    try:
        job = roster_validate_run(import_id)
    except Exception:  # a file problem is FAILED with its message inside; this is something unforeseen
        logger.exception("roster import %s: validation failed", import_id)
        import_fail(import_id)
        raise
    return job.status


@task()
def roster_commit(import_id: int) -> str:
    from .imports import import_interrupted, roster_commit_run

    try:
        job = roster_commit_run(import_id)
    except Exception:  # committed batches stay; the job stays COMMITTING and can be resumed
        logger.exception("roster import %s: commit interrupted", import_id)
        import_interrupted(import_id)
        raise
    return job.status
