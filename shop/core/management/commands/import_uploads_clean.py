"""Delete import uploads that were never confirmed: `python manage.py import_uploads_clean`.

An upload waits for its confirmation at most IMPORT_UPLOAD_MAX_AGE seconds (shop/core/import_uploads.py);
run this from cron (hourly, say) so that abandoned previews do not pile up. Each new upload also
clears the expired ones.
"""

from django.core.management.base import BaseCommand

from shop.core.import_uploads import max_age, upload_dir, uploads_clean


class Command(BaseCommand):
    help = "Delete import uploads older than IMPORT_UPLOAD_MAX_AGE (--all: every pending upload)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="delete every pending upload, expired or not")

    def handle(self, *args, **options):
        removed = uploads_clean(everything=options["all"])
        what = "pending" if options["all"] else f"older than {max_age()} s"
        self.stdout.write(
            f"Deleted {removed} import upload{'' if removed == 1 else 's'} ({what}) from {upload_dir()}."
        )
