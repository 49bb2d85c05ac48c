"""Primary/replica routing: reads go to a streaming replica when one is configured.

Reads inside an atomic block stay on the primary so that a service always sees its own writes.
"""

import random

from django.conf import settings
from django.db import connections


class PrimaryReplicaRouter:
    def _replicas(self) -> list[str]:
        return [alias for alias in settings.DATABASES if alias.startswith("replica")]

    def db_for_read(self, model, **hints):
        replicas = self._replicas()
        if not replicas or connections["default"].in_atomic_block:
            return "default"
        return random.choice(replicas)

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
