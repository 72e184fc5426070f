from django.core.management.base import BaseCommand, CommandError

from shop.backoffice.integrity import find_violations


class Command(BaseCommand):
    help = (
        "Check the rules that span tables: stock equals its ledger, allocated equals what open "
        "orders hold (ordered less shipped), order totals add up, no order has more paid than its "
        "total; per order line, shipped at most ordered and returned at most shipped, each equal "
        "to its shipment and return lines; order statuses match what was shipped, delivered and "
        "returned; returns refunded no more than the order's payments were."
    )

    def handle(self, *args, **options):
        problems = find_violations()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(problems)} problem(s) found.")
        self.stdout.write(self.style.SUCCESS("All integrity rules hold."))
