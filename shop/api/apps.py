from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "shop.api"
    label = "api"
    verbose_name = "Storefront API"
    default_auto_field = "django.db.models.BigAutoField"
