"""Background jobs of the union tree (Django tasks API; the worker is `manage.py db_worker`)."""

import logging

from django_tasks import task

logger = logging.getLogger(__name__)


@task()
def org_move_task(move_id: int) -> str:
    from .services import org_move_execute, org_move_fail

    try:
        move = org_move_execute(move_id)
    except Exception as exc:  # recorded on the move so staff see it; the job is not retried blindly
        logger.exception("org move %s failed", move_id)
        org_move_fail(move_id, f"{type(exc).__name__}: {exc}")
        raise
    return move.status
