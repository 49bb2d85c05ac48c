from django.apps import AppConfig


class MembershipConfig(AppConfig):
    name = "gonghui.membership"
    label = "membership"
    verbose_name = "会员与会籍"

    def ready(self) -> None:
        from gonghui.orgs.scoping import register_scoped

        from .models import Application, ChangeRequest, Member, MemberEvent, OrgNotice, RosterImport, Stint, Transfer

        register_scoped(Application, "org_path")
        register_scoped(Application, "supervisor_path")
        register_scoped(Member, "org_path")
        register_scoped(Stint, "org_path")
        register_scoped(MemberEvent, "org_path")
        register_scoped(Transfer, "from_path")
        register_scoped(Transfer, "to_path")
        register_scoped(ChangeRequest, "org_path")
        register_scoped(RosterImport, "org_path")
        register_scoped(OrgNotice, "org_path")

        from . import rebuild

        rebuild.register()

        from gonghui.core import periodic

        from .services import overdue_escalate

        periodic.register("membership.overdue_escalate", overdue_escalate, every_seconds=300)

        from .imports import import_requeue_stalled

        periodic.register("membership.import_requeue_stalled", import_requeue_stalled, every_seconds=300)
