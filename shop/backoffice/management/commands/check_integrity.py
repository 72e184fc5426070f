from django.core.management.base import BaseCommand, CommandError

from shop.backoffice.integrity import find_violations


class Command(BaseCommand):
    help = (
        "Check the rules that span tables: stock equals its ledger, allocated equals what open "
        "orders hold, order totals add up, no order has more paid than its total."
    )

    def handle(self, *args, **options):
        problems = find_violations()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(problems)} problem(s) found.")
        self.stdout.write(self.style.SUCCESS("All integrity rules hold."))
