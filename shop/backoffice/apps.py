from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class BackofficeConfig(AppConfig):
    """The back-office site over every app: admin site, dashboard, integrity checks."""

    default = True
    name = "shop.backoffice"
    label = "backoffice"
    verbose_name = "Back office"

    def ready(self):
        from django.apps import apps
        from django.db.models.signals import post_migrate

        # post_migrate is sent per app with models, after every table exists; this app has
        # none, so the indexes follow the last one's.
        last = [config for config in apps.get_app_configs() if config.models_module][-1]
        post_migrate.connect(_search_indexes, sender=last, dispatch_uid="shop-search-indexes")


class ShopAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, with the shop's site (and its dashboard) as `admin.site`."""

    default = False
    default_site = "shop.backoffice.admin_site.ShopAdminSite"


def _search_indexes(sender, using="default", verbosity=1, **kwargs):
    """After `migrate`: the indexes of every admin list, filter and search (shop.core.admin_indexes)."""
    from django.contrib import admin

    from shop.core.admin_indexes import ensure_indexes

    ensure_indexes(admin.site, using=using, verbosity=verbosity)
