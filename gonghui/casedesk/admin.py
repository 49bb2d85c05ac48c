"""System administrators see case metadata only, read-only: what happened, who filed it and their
phone are case content, readable only by staff with a case role through the console (scoped and
audited). The taxonomy and time limits are edited in the console by the admins who own them."""

from django.contrib import admin

from gonghui.membership.admin import ReadOnlyAdmin

from .models import Case, CaseCategory, CaseTimeLimit, ClusterAlert


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["number", "kind", "category", "status", "channel", "org", "created_at", "due_at"]
    list_filter = ["status", "kind", "channel", "difficulty", "protect_identity"]
    fields = ["kind", "category", "difficulty", "status", "channel", "org", "org_path", "intake_org", "supervisor",
              "created_at", "accepted_at", "resolved_at", "closed_at", "accept_due_at", "complete_due_at",
              "accept_overdue_at", "complete_overdue_at", "paused_at", "satisfaction", "rated_via", "external_id",
              "protect_identity", "workers_affected"]
    readonly_fields = fields
    raw_id_fields = ["org", "intake_org", "supervisor"]

    @admin.display(description="编号")
    def number(self, obj: Case) -> str:
        return obj.number


@admin.register(CaseCategory)
class CaseCategoryAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "parent", "default_kind", "default_difficulty", "owner", "is_active", "sort"]
    list_filter = ["is_active", "default_kind"]
    search_fields = ["code", "name"]


@admin.register(CaseTimeLimit)
class CaseTimeLimitAdmin(ReadOnlyAdmin):
    list_display = ["org", "difficulty", "accept_days", "complete_days", "warn_days", "updated_at"]


@admin.register(ClusterAlert)
class ClusterAlertAdmin(ReadOnlyAdmin):
    list_display = ["id", "org", "category", "case_count", "workers", "status", "first_case_at", "last_case_at"]
    list_filter = ["status"]
    exclude = ["employer_name", "handled_note"]
