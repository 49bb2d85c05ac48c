from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "gonghui.orgs"
    label = "orgs"
    verbose_name = "工会组织"

    def ready(self) -> None:
        from gonghui.core.models import AuditEntry

        from . import scoping
        from .models import Employer, Grant, OrgUnit

        scoping.register_scoped(OrgUnit, "path")
        scoping.register_scoped(Employer, "org_path")
        scoping.register_scoped(Grant, "org_path")
        scoping.register_scoped(AuditEntry, "org_path")
