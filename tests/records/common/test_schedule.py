"""Beat's schedule (settings), the scheduled jobs run by a real worker, and a
failure: an error line in the log, a record, and the administrators' dashboard."""

import logging
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from celery.schedules import crontab
from django.contrib.sessions.models import Session
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from ndas.celery import app
from records.audit.tasks import verify_audit
from records.common import schedule
from records.common.tasks import clear_sessions
from records.imports.job_tasks import expire_imports
from records.common.models import ScheduledRun
from records.users import roles
from tests.helpers import load_settings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker():
    app.control.purge()
    with start_worker(
        app, perform_ping_check=False, queues=["celery", "scheduled"]
    ) as controller:
        yield controller


def test_beat_runs_the_daily_jobs_at_clinic_times_and_the_sweep_often(
    production_env,
):
    config = load_settings(
        {
            **production_env,
            "TIME_ZONE": "Europe/London",
            "HOUSEKEEPING_TIME": "03:30",
            "VERIFY_AUDIT_TIME": "04:05",
            "JOB_SWEEP_SECONDS": "120",
        }
    )
    beat = config["CELERY_BEAT_SCHEDULE"]

    assert config["CELERY_TIMEZONE"] == "Europe/London"
    by_task = {
        entry["task"].rsplit(".", 1)[1]: entry["schedule"] for entry in beat.values()
    }
    daily = crontab(hour=3, minute=30)
    assert by_task == {
        "expire_imports": daily,
        "clear_sessions": daily,
        "verify_audit": crontab(hour=4, minute=5),
        "sweep_jobs": 120.0,
    }
    # Each is a task the workers know, sent to the queue beat's worker consumes.
    for entry in beat.values():
        assert entry["task"] in app.tasks
        assert config["CELERY_TASK_ROUTES"][entry["task"]] == {"queue": "scheduled"}
    # Workers get the long statement ceiling ("worker" is not "web").
    worker = load_settings({**production_env, "NDAS_WORK": "worker"})
    assert (
        "statement_timeout=3600000"
        in worker["DATABASES"]["default"]["OPTIONS"]["options"]
    )


@pytest.mark.parametrize("value", ["2am", "24:00", "02:60", "2:"])
def test_a_time_of_day_not_hh_mm_is_refused(production_env, value):
    with pytest.raises(ImproperlyConfigured, match="HH:MM"):
        load_settings({**production_env, "HOUSEKEEPING_TIME": value})


def test_the_daily_jobs_run_in_a_worker_and_are_recorded(worker, settings, tmp_path):
    settings.AUDIT_HEAD_FILE = str(tmp_path / "head" / "audit-head")
    Session.objects.create(
        session_key="x" * 32,
        session_data="e30:1",
        expire_date=timezone.now() - timedelta(days=1),
    )

    notes = [
        task.apply_async().get(timeout=60)
        for task in (expire_imports, clear_sessions, verify_audit)
    ]

    assert "Imports older than 30 days" in notes[0]
    assert "Export files deleted: 0" in notes[0]
    assert not Session.objects.exists()
    assert "chain intact" in notes[2]
    assert (tmp_path / "head" / "audit-head").exists() or "no head" in notes[2]
    runs = ScheduledRun.objects.order_by("pk")
    assert [run.task for run in runs] == [
        "expire_imports",
        "clear_sessions",
        "verify_audit",
    ]
    assert all(run.succeeded and run.finished_at for run in runs)
    assert schedule.failed_scheduled_jobs() == []


def test_a_failed_job_is_an_error_line_and_on_the_administrators_dashboard(
    worker, settings, tmp_path, client, make_user, caplog
):
    head = tmp_path / "audit-head"
    head.write_text("not a head\n")  # as if the kept head were tampered with
    settings.AUDIT_HEAD_FILE = str(head)

    note = verify_audit.apply_async().get(timeout=60)

    assert "holds no head" in note
    run = ScheduledRun.objects.get()
    assert run.succeeded is False and run.message == note
    [failed] = schedule.failed_scheduled_jobs()
    assert failed.pk == run.pk and failed.job_name == "Checking the audit trail"
    # The log line to alert on, in the worker, and here in-process.
    with caplog.at_level(logging.ERROR, logger="ndas.schedule"):
        schedule.run_scheduled("verify_audit", lambda: 1 / 0)
    in_worker, here = [r for r in caplog.records if r.name == "ndas.schedule"]
    assert in_worker.levelno == logging.ERROR and "holds no head" in in_worker.error
    assert here.getMessage() == schedule.FAILED == "scheduled job FAILED"
    assert here.job == "verify_audit" and here.error == "division by zero"

    admin = make_user("admin", roles=[roles.ADMINISTRATOR])
    client.force_login(admin)
    page = client.get("/admin/").content.decode()
    assert 'data-testid="panel-failed-jobs"' in page
    assert "Checking the audit trail" in page and "division by zero" in page
    clinician = make_user("clin", roles=[roles.CLINICIAN])
    client.force_login(clinician)
    assert "panel-failed-jobs" not in client.get("/admin/").content.decode()

    # It runs well the next night: the notice goes.
    head.unlink()
    verify_audit.apply_async().get(timeout=60)
    assert schedule.failed_scheduled_jobs() == []


def test_only_each_jobs_last_run_in_the_period_counts(db):
    now = timezone.now()
    ScheduledRun.objects.bulk_create(
        [
            ScheduledRun(
                task="clear_sessions",
                started_at=now - timedelta(days=10),
                succeeded=False,
                message="long ago",
            ),
            ScheduledRun(
                task="expire_imports",
                started_at=now - timedelta(hours=2),
                succeeded=False,
                message="then",
            ),
            ScheduledRun(
                task="expire_imports",
                started_at=now - timedelta(hours=1),
                succeeded=None,  # running now
            ),
            ScheduledRun(
                task="sweep_jobs",
                started_at=now - timedelta(hours=3),
                succeeded=False,
                message="once",
            ),
            ScheduledRun(
                task="sweep_jobs", started_at=now - timedelta(hours=1), succeeded=True
            ),
        ]
    )

    failed = schedule.failed_scheduled_jobs()

    # clear_sessions failed too long ago to count, but has not run since: overdue.
    assert [run.task for run in failed] == ["expire_imports", "clear_sessions"]
    assert failed[0].message == "then"
    assert failed[1].message.startswith("Has not run since ")
    since = now - timedelta(days=30)
    assert {run.task for run in schedule.failed_scheduled_jobs(since)} == {
        "expire_imports",
        "clear_sessions",
    }


def test_a_job_that_stopped_running_is_listed_as_overdue(db, settings):
    settings.TIME_ZONE = "UTC"
    now = timezone.now()
    ScheduledRun.objects.bulk_create(
        [
            ScheduledRun(
                task="verify_audit",
                started_at=now - timedelta(hours=27),
                succeeded=True,
            ),
            ScheduledRun(
                task="expire_imports",
                started_at=now - timedelta(hours=23),
                succeeded=True,
            ),
        ]
    )

    [overdue] = schedule.failed_scheduled_jobs()

    # Beat stopped a day ago: the audit check did not run last night. The jobs
    # that ran in time, and sweep_jobs, which never ran (a new installation),
    # are not listed.
    assert overdue.task == "verify_audit" and overdue.job_name == (
        "Checking the audit trail"
    )
    assert overdue.message.startswith("Has not run since ")
    assert overdue.message.endswith(": check that beat is running.")
