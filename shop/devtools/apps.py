from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Developer data tools: the demo fixture builder, scale seeding, demo logins."""

    name = "shop.devtools"
    label = "devtools"
    verbose_name = "Developer data tools"
