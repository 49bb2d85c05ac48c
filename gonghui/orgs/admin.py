"""System administrators only. Day-to-day work happens in the console, through the services."""

from django.contrib import admin

from .models import Division, Employer, Grant, OrgMove, OrgUnit


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent_id", "is_placeholder"]
    list_filter = ["level", "is_placeholder"]
    search_fields = ["=code", "name"]
    raw_id_fields = ["parent"]
    show_full_result_count = False


class ReadOnlyTreeMixin:
    """Paths, parents and counters are kept consistent by services and the move job only."""

    readonly_fields = ["path", "depth", "child_seq", "parent", "province_code", "name_initials", "name_bigrams"]


@admin.register(OrgUnit)
class OrgUnitAdmin(ReadOnlyTreeMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "division_id", "depth", "path", "is_placeholder"]
    list_filter = ["kind", "is_placeholder", "depth"]
    search_fields = ["name", "=path", "=division__code"]
    raw_id_fields = ["division"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Employer)
class EmployerAdmin(admin.ModelAdmin):
    list_display = ["name", "uscc", "division_id", "org", "employee_count"]
    search_fields = ["name", "=uscc"]
    raw_id_fields = ["division", "org"]
    readonly_fields = ["org", "org_path", "province_code", "name_initials", "name_bigrams"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ["user", "org", "role", "include_descendants", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "org__name"]
    raw_id_fields = ["user", "org", "granted_by"]
    readonly_fields = ["org_path"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(OrgMove)
class OrgMoveAdmin(admin.ModelAdmin):
    list_display = ["node", "old_path", "new_path", "status", "created_at", "finished_at"]
    list_filter = ["status"]
    raw_id_fields = ["node", "old_parent", "new_parent", "requested_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
