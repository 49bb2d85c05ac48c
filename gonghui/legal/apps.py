from django.apps import AppConfig


class LegalConfig(AppConfig):
    name = "gonghui.legal"
    label = "legal"
    verbose_name = "法务云"

    def ready(self) -> None:
        from gonghui.casedesk.services import register_legal_aid_handler
        from gonghui.core import periodic

        from .aid import aid_from_case, aid_sweep

        # A 12351 case referred to legal aid opens an application at the county-level union above it.
        register_legal_aid_handler(aid_from_case)
        periodic.register("legal.aid_sweep", aid_sweep, every_seconds=300)
        try:
            from .supervision import letters_sweep
        except ImportError:  # the supervision module lands beside this one
            return
        periodic.register("legal.letters_sweep", letters_sweep, every_seconds=300)
