from django.apps import AppConfig


class LegalConfig(AppConfig):
    name = "gonghui.legal"
    label = "legal"
    verbose_name = "法务云"

    def ready(self) -> None:
        from gonghui.casedesk.services import register_legal_aid_handler
        from gonghui.core import periodic
        from gonghui.orgs.scoping import register_scoped

        from .aid import aid_from_case, aid_sweep
        from .models import AidApplication, AidProvider, SupervisionLetter, SupervisionRecord
        from .supervision import letters_sweep

        # A node moved under another parent takes its legal-aid files, roster and letters along.
        for model in (AidApplication, AidProvider, SupervisionRecord, SupervisionLetter):
            register_scoped(model, "org_path")
        # A 12351 case referred to legal aid opens an application at the county-level union above it.
        register_legal_aid_handler(aid_from_case)
        periodic.register("legal.aid_sweep", aid_sweep, every_seconds=300)
        periodic.register("legal.letters_sweep", letters_sweep, every_seconds=300)
