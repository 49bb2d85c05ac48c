"""System administrators see membership records read-only and masked: membership changes go
through the services (console, API), which check scope and write the audit trail."""

from django.contrib import admin

from .models import Application, Member, MembershipPolicy, RosterImport, Transfer


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Member)
class MemberAdmin(ReadOnlyAdmin):
    list_display = ["member_no", "name_masked", "id_masked", "status", "org", "joined_on"]
    list_filter = ["status", "employment_form", "source"]
    search_fields = ["=member_no"]
    fields = ["member_no", "name_masked", "id_masked", "phone_masked", "gender", "birth_date", "status",
              "retain_reason", "org", "org_path", "employer", "employment_form", "joined_on", "source"]
    readonly_fields = fields
    raw_id_fields = ["org", "employer"]


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = ["id", "name_masked", "id_masked", "status", "org", "submitted_at", "due_at", "escalated_at"]
    list_filter = ["status", "source", "route_rule"]
    fields = ["name_masked", "id_masked", "phone_masked", "status", "org", "route_rule", "route_reason",
              "submitted_at", "due_at", "decided_at", "reject_reason", "escalated_at", "supervisor"]
    readonly_fields = fields


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ["id", "member", "from_org", "to_org", "status", "requested_at", "due_at"]
    list_filter = ["status"]
    fields = ["member", "from_org", "to_org", "status", "route_rule", "route_reason", "requested_at", "due_at",
              "completed_at"]
    readonly_fields = fields


@admin.register(RosterImport)
class RosterImportAdmin(ReadOnlyAdmin):
    list_display = ["id", "org", "original_name", "status", "total_rows", "valid_rows", "error_rows",
                    "committed_rows", "created_at"]
    list_filter = ["status"]
    exclude = ["file"]


@admin.register(MembershipPolicy)
class MembershipPolicyAdmin(ReadOnlyAdmin):
    list_display = ["org", "auto_approve", "decide_within_days", "routing", "updated_at"]
