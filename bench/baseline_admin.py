"""The baseline for `bench/admin_pages.py`: every model of the shop's admin on Django's plain
`ModelAdmin`.

Generated from the shop's admin registry: each model gets the same search fields, list filters
and date drill-down as ours (so a search or a filter does the same job) and nothing else:
Django's default full counts, no select_related, a <select> of every row for each foreign key
on a change form, no inlines. An order has several shipments: `shipment__tracking_number`
searches all of them, and Django adds the DISTINCT that a search across a many-valued relation
needs.
"""

from django.contrib import admin
from django.contrib.admin import AdminSite

baseline_site = AdminSite(name="baseline")


def _plain(model_admin) -> type[admin.ModelAdmin]:
    return type(
        f"Plain{model_admin.model.__name__}Admin",
        (admin.ModelAdmin,),
        {
            "search_fields": list(model_admin.search_fields),
            "list_filter": list(model_admin.list_filter),
            "date_hierarchy": model_admin.date_hierarchy,
        },
    )


for _model, _model_admin in admin.site._registry.items():
    baseline_site.register(_model, _plain(_model_admin))
