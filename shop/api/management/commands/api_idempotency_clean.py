from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from shop.api.models import IdempotencyRecord


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than --hours (default 24; run it from cron)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--hours", type=int, default=24, help="keep records this many hours (at least 24)"
        )

    def handle(self, *args, hours, **options):
        hours = max(hours, 24)
        cutoff = timezone.now() - timedelta(hours=hours)
        deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
        self.stdout.write(f"Deleted {deleted} idempotency record(s) older than {hours} hours.")
