from django.core.management.base import BaseCommand, CommandError

from shop.api.keys import api_key_create
from shop.api.models import ApiKey


class Command(BaseCommand):
    help = "Create a storefront API key and print it once (only its hash is kept)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="who the key is for, e.g. 'web storefront'")
        parser.add_argument(
            "--scopes",
            nargs="+",
            choices=ApiKey.Scope.values,
            default=[ApiKey.Scope.READ_CATALOG],
            help="what the key may do (default: catalog:read)",
        )

    def handle(self, *args, name, scopes, **options):
        name = name.strip()
        if not name or len(name) > 100:
            raise CommandError("The name must be 1 to 100 characters.")
        if ApiKey.objects.filter(name=name).exists():
            raise CommandError(f"An API key named {name!r} already exists.")
        row, key = api_key_create(name=name, scopes=scopes)
        self.stderr.write(f"API key {row.name!r} ({', '.join(row.scopes)}). It is shown only this once:")
        self.stdout.write(key)
