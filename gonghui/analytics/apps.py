from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "gonghui.analytics"
    label = "analytics"
    verbose_name = "统计"

    def ready(self) -> None:
        from gonghui.core import periodic

        from .rollups import rollup_fold

        # Writers append deltas; folding them keeps the delta table (which every read adds) small.
        periodic.register("analytics.rollup_fold", rollup_fold, every_seconds=10)
