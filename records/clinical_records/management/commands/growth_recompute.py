"""Fill in the growth figures of visits that have measurements but no figures."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from records.clinical_records import growth
from records.clinical_records.models import ClinicalRecord

FIELDS = ["bmi"] + [f"{n}_{k}" for n in growth.MEASUREMENTS for k in ("sds", "centile")]
# Each measurement's figure and the field it is computed from (BMI's follow).
MEASURED = {
    name: field for name, (field, _, _) in growth.MEASUREMENTS.items() if name != "bmi"
}


class Command(BaseCommand):
    help = (
        "Compute the growth SDS and centiles of visits recorded before NDAS kept "
        "them (those with a measurement and no figures), a batch at a time; safe "
        "to stop and run again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch", type=int, default=500)
        parser.add_argument(
            "--limit", type=int, default=0, help="Stop after this many visits (0: all)."
        )

    def handle(self, *args, batch: int, limit: int, **options) -> None:
        if batch < 1 or limit < 0:
            raise CommandError("--batch must be 1 or more, --limit 0 or more.")
        started, done, last = time.perf_counter(), 0, 0
        while not limit or done < limit:
            size = min(batch, limit - done) if limit else batch
            records = list(
                _missing().filter(pk__gt=last).select_related("patient")[:size]
            )
            if not records:
                break
            for record in records:
                record.compute_growth()  # as a save computes them
            # Each batch commits on its own: a stop loses at most one batch.
            ClinicalRecord.objects.bulk_update(records, FIELDS)
            done, last = done + len(records), records[-1].pk
        self.stdout.write(
            f"Growth figures computed for {done:,} visits in "
            f"{time.perf_counter() - started:.1f} s."
        )


def _missing():
    """Visits with a measurement and no figure for it, in id order. A figure that
    stays empty (no reference covers that age) is passed by id, not asked again
    in the same run."""
    missing = Q()
    for name, field in MEASURED.items():
        missing |= Q(**{f"{field}__isnull": False, f"{name}_sds__isnull": True})
    return ClinicalRecord.objects.filter(missing).order_by("pk")
