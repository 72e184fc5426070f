"""`manage.py demo_load`: the demo data, once, into an empty database, its last activity moments
before it is loaded."""

import json
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from catalog.models import Product
from customers.models import Customer
from orders.models import Order

COMMITTED_FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "demo.json"


def _demo_emails(path: Path) -> set[str]:
    rows = json.loads(path.read_text())
    return {row["fields"]["email"].lower() for row in rows if row["model"] == "customers.customer"}


class Command(BaseCommand):
    help = (
        "Load the demo data into an empty database, with its dates moved so that its last day is "
        "today, every time before the moment it is loaded (the dashboard's today and 30-day figures "
        "are live on any day). A database that already "
        "holds the demo data is left as it is: loading again would overwrite rows staff changed "
        "since (shipped orders back to paid, erased customers back). A database with other data "
        "is refused unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--fixture",
            type=Path,
            help="Load this fixture file as it is instead of building the demo for today.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load even into a database that holds other data (rows with the same ids are overwritten).",
        )

    def handle(self, *args, fixture, force, verbosity, **options):
        counts = {
            "customers": Customer.objects.count(),
            "products": Product.objects.count(),
            "orders": Order.objects.count(),
        }
        if any(counts.values()) and not force:
            held = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
            if Customer.objects.filter(email_key__in=_demo_emails(COMMITTED_FIXTURE)).exists():
                self.stdout.write(
                    f"The demo data is already loaded ({held}): not loaded again, which would undo "
                    "what staff changed since."
                )
                return
            raise CommandError(
                f"This database holds a shop's data ({held}); the demo data would overwrite rows with "
                "the same ids. Use an empty database, or --force to load it anyway."
            )
        with tempfile.TemporaryDirectory() as folder:
            if fixture is None:
                fixture = Path(folder) / "demo.json"
                call_command(
                    "build_demo_fixture",
                    "--output",
                    str(fixture),
                    "--now",
                    timezone.now().isoformat(),
                    verbosity=0,
                )
            call_command("loaddata", str(fixture), verbosity=verbosity)
        self.stdout.write("Demo data loaded.")
