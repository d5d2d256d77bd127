"""Forget what old imports kept of their files: run it daily (see the README)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from records.imports import services

DEFAULT_DAYS = 30


class Command(BaseCommand):
    help = (
        "Mark failed the imports whose process ended while they ran, delete "
        "uploads that waited more than --days for a commit, and blank the cell "
        "values kept in older imports' error lists and previews."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=DEFAULT_DAYS,
            help=f"Keep imports' files and values this many days ({DEFAULT_DAYS}).",
        )

    def handle(self, *args, days: int, **options) -> None:
        if days < 1:
            raise CommandError("--days must be 1 or more.")
        stopped = services.imports_sweep()
        expired = services.imports_expire(older_than=timedelta(days=days))
        self.stdout.write(
            f"Imports older than {days} days: {expired.files} uploads deleted, "
            f"cell values forgotten in {expired.jobs} imports; "
            f"{stopped} imports whose process had ended marked failed."
        )
