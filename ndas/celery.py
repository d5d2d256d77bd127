"""The Celery application: work that outlasts a request (imports, exports) and the
daily jobs (beat). Redis, which NDAS already runs, is the broker.

Workers start with `NDAS_WORK=worker celery -A ndas worker` (NDAS_WORK gives their
statements the long ceiling of ndas/settings.py; it is read once, when the settings
load, so the command line sets it, not this module, which web processes import too).
With no REDIS_URL in development, tasks run in the calling process
(`CELERY_TASK_ALWAYS_EAGER`, ndas/settings.py).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ndas.settings")

app = Celery("ndas")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
