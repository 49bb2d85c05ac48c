from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "kind", "phone_masked", "is_active", "is_superuser", "date_joined"]
    list_filter = ["kind", "is_active", "is_superuser"]
    search_fields = ["username", "display_name"]
    readonly_fields = ["phone_hash", "phone_encrypted", "last_login", "date_joined"]
    fieldsets = BaseUserAdmin.fieldsets + (("工会一网通", {"fields": ("kind", "display_name", "phone_hash")}),)
