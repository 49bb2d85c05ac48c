from django.apps import AppConfig


class CasedeskConfig(AppConfig):
    name = "gonghui.casedesk"
    label = "casedesk"
    verbose_name = "12351维权服务"

    def ready(self) -> None:
        from gonghui.orgs.scoping import register_parent_scoped, register_scoped

        from .models import Case, CaseEvent, ClusterAlert

        register_scoped(Case, "org_path")
        register_parent_scoped(Case, "supervisor_path", "org_path")  # the union above the holder
        register_scoped(CaseEvent, "org_path")
        register_scoped(ClusterAlert, "org_path")

        from . import rebuild

        rebuild.register()

        from gonghui.core import periodic

        from .services import deadline_sweep

        periodic.register("casedesk.deadline_sweep", deadline_sweep, every_seconds=120)
