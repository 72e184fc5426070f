from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

DEMO_PASSWORD = "shop-demo-2026"
# username, role group (None: superuser), what the person does
DEMO_USERS = [
    ("admin", None, "superuser: everything"),
    ("manager", "Store manager", "store manager: all of the below plus payments, refunds, revenue"),
    ("inventory", "Inventory staff", "inventory: products, stock receipts and adjustments"),
    ("shipping", "Shipping staff", "shipping: orders awaiting shipment, mark shipped/delivered"),
    ("service", "Customer service", "customer service: customers, orders, cancellations"),
]


class Command(BaseCommand):
    help = (
        "Create (or reset) the demo staff logins, one per role, and print them. "
        "Refuses to run unless DEBUG is on: demo passwords never exist in production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/admin/")
        parser.add_argument(
            "--if-debug",
            action="store_true",
            help="With DEBUG off, say so and exit successfully instead of failing.",
        )

    def handle(self, *args, url, if_debug, **options):
        if not settings.DEBUG:
            message = "Demo logins are only created when DEBUG is on; none were created."
            if if_debug:
                self.stderr.write(message)
                return
            raise CommandError(message)
        User = get_user_model()
        for username, role, _ in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = True
            user.is_superuser = role is None
            user.is_active = True
            user.email = f"{username}@shop.example"
            user.set_password(DEMO_PASSWORD)
            user.save()
            if role:
                user.groups.set([Group.objects.get(name=role)])
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Admin: {url}"))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, _, what in DEMO_USERS:
            self.stdout.write(f"  {username:<10} {what}")
        self.stdout.write("")
