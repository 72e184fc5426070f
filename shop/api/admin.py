"""API keys in the admin: listed with their scopes and last use, revoked by store managers.

Keys are created with `manage.py api_key_create` (which shows the key once); the admin never
sees a key, only its prefix.
"""

from django import forms
from django.contrib import admin

from shop.api.keys import api_key_revoke
from shop.api.models import ApiKey
from shop.core.admin_operations import StaffOperation, StaffOperationsMixin

REVOKE = StaffOperation(
    name="revoke",
    title="Revoke",
    permission="api.revoke_apikey",
    service=api_key_revoke,
    object_arg="api_key",
    form=forms.Form,  # nothing to ask: the page confirms
    help="Every request with this key is refused (401) from now on. This cannot be undone.",
    blocked=lambda key: "it was already revoked" if key.revoked_at else "",
    cannot="be revoked (already revoked)",
    submit_label="Yes, revoke",
    history="Revoked.",
    done="API key {obj} revoked.",
    action="revoke_selected",
    action_label="Revoke selected API keys",
    action_title="Revoke API keys",
    done_many="{count} API key{s} revoked.",
)


@admin.register(ApiKey)
class ApiKeyAdmin(StaffOperationsMixin, admin.ModelAdmin):
    list_display = ["name", "prefix", "scope_list", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at", "can_read_catalog", "can_write_customers", "can_write_orders"]
    search_fields = ["name", "prefix"]
    fields = [
        "name",
        "prefix",
        "can_read_catalog",
        "can_write_customers",
        "can_write_orders",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    operations = [REVOKE]

    @admin.display(description="scopes")
    def scope_list(self, key):
        return ", ".join(key.scopes) or "—"

    def has_add_permission(self, request):
        return False  # `manage.py api_key_create` makes keys: the key is shown there, once

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.revoked_at is not None:
            return False
        return super().has_change_permission(request, obj)
