from django.apps import AppConfig


class EmploymentConfig(AppConfig):
    name = "gonghui.employment"
    label = "employment"
    verbose_name = "就业帮扶云"

    def ready(self) -> None:
        from gonghui.core import periodic
        from gonghui.orgs.scoping import register_scoped
        from gonghui.orgs.services import register_employer_move_hook

        from . import rebuild
        from .models import HelpRequest, JobApplication, JobFair, JobPosting, Recruiter, SeekerProfile
        from .services import employer_moved, postings_expire

        # A node moved under another parent takes its postings, seekers, help files and fairs along.
        for model in (Recruiter, JobPosting, SeekerProfile, JobApplication, HelpRequest, JobFair):
            register_scoped(model, "org_path")
        rebuild.register()
        register_employer_move_hook(employer_moved)
        periodic.register("employment.postings_expire", postings_expire, every_seconds=600)
