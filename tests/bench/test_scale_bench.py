"""bench/scale_bench.py's own parts that write to its databases (the timing
itself runs only as the benchmark)."""

import pytest

from bench.scale_bench import BENCH_JOBS, _jobs, _users
from records.imports.models import ExportJob, ImportJob

pytestmark = pytest.mark.django_db


def test_the_data_managers_jobs_are_seeded_once_at_any_size():
    _users()
    _jobs()
    imports = ImportJob.objects.filter(user__username="bench-manager")
    exports = ExportJob.objects.filter(user__username="bench-manager")
    assert imports.count() == BENCH_JOBS and exports.count() == BENCH_JOBS
    # A database built before the jobs were seeded gets the missing ones only.
    imports.filter(pk__in=imports.values("pk")[:5]).delete()
    _jobs()
    _jobs()
    assert imports.count() == BENCH_JOBS and exports.count() == BENCH_JOBS
    assert len(set(imports.values_list("sha256", flat=True))) == BENCH_JOBS


def test_a_count_one_request_made_besides_the_usual_is_printed_beside_it():
    from bench.scale_bench import _now_and_then

    usual = {"queries": 8, "other_counts": []}
    assert _now_and_then(usual, usual) == ""
    once = {"queries": 8, "other_counts": [9]}
    assert _now_and_then(usual, once) == "  (now and then large: 9)"
    assert _now_and_then(once, {}) == "  (now and then small: 9)"
