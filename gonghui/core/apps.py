from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "gonghui.core"
    label = "core"
    verbose_name = "核心"

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401
            periodic,
            ratelimit,
        )

        periodic.register("core.ratelimit_prune", ratelimit.prune, every_seconds=3600)
