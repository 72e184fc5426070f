"""Fill the database with realistic data at scale, for performance work.

    python manage.py seed_scale --customers 100000 --products 10000 --orders 1000000 --seed 1

The counts are totals for the tables: run it again with bigger numbers on the same database and
it adds only what is missing (seed 10k orders, measure, grow to 1M). See `shop/devtools/scale.py` for what
the data looks like and how it stays consistent.
"""

import argparse
import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from shop.devtools.scale import METHODS, SeedRefused, default_method, seed_scale


def anchor(text: str) -> datetime.datetime:
    """`2026-11-27` or `2026-11-27T12:00` -> an aware UTC datetime (naive input is UTC)."""
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"--now: {error}; use YYYY-MM-DD or an ISO 8601 date and time.") from error
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value


class Command(BaseCommand):
    help = (
        "Bring customers, products and orders up to the given totals with realistic, consistent "
        "data (addresses, payment methods, stock and its ledger, order lines, payments, "
        "shipments (some in two parcels), returns, events). Running it again with bigger totals "
        "adds the difference."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=1000, help="total customers wanted")
        parser.add_argument("--products", type=int, default=200, help="total products wanted")
        parser.add_argument("--orders", type=int, default=10_000, help="total orders wanted")
        parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same rows)")
        parser.add_argument(
            "--now",
            type=anchor,
            default=None,
            help="the moment the history ends, ISO 8601 (default: today at 00:00 UTC)",
        )
        parser.add_argument("--days", type=int, default=730, help="length of the order history")
        parser.add_argument(
            "--method",
            choices=METHODS,
            default=None,
            help="how rows are written (default: copy on PostgreSQL, insert elsewhere)",
        )
        parser.add_argument("--batch-size", type=int, default=5000, help="rows per INSERT/bulk_create")
        parser.add_argument(
            "--check",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="run the integrity checks before committing (default: on up to 200,000 orders)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")

    def handle(self, *args, **options):
        method = options["method"] or default_method()
        self.stdout.write(
            f"Seeding {connection.vendor} ({connection.settings_dict['NAME']}) with {method}: "
            f"{options['customers']:,} customers, {options['products']:,} products, "
            f"{options['orders']:,} orders, seed {options['seed']}."
        )
        self.stdout.flush()
        try:
            report = seed_scale(
                customers=options["customers"],
                products=options["products"],
                orders=options["orders"],
                seed=options["seed"],
                now=options["now"],
                days=options["days"],
                method=method,
                batch_size=options["batch_size"],
                check=options["check"],
                progress=not options["no_progress"] and options["verbosity"] >= 1,
            )
        except SeedRefused as error:
            raise CommandError(str(error)) from error

        if not report.rows:
            self.stdout.write("Nothing to add: the tables already hold at least these totals.")
        else:
            width = max(len(label) for label in report.created)
            for label, count in report.created.items():
                self.stdout.write(f"  {label:<{width}}  {count:>12,}")
            self.stdout.write(
                f"{report.rows:,} rows in {report.seconds:.1f} s: {report.rows_per_second:,.0f} rows/s "
                f"({report.write_seconds:.1f} s writing or waiting for writes, "
                f"{report.statements:,} statements)."
            )
            phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.phases.items())
            self.stdout.write(f"  {phases}")
        totals = report.totals
        self.stdout.write(
            f"Now {totals['customers']:,} customers, {totals['products']:,} products, "
            f"{totals['orders']:,} orders."
        )
        if report.violations is None:
            self.stdout.write("Integrity not checked (use --check, or run `manage.py check_integrity`).")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"All integrity rules hold (checked in {report.check_seconds:.1f} s).")
            )
