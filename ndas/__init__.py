"""NDAS project package: settings, URLs, middleware, logging, checks and health."""

# The Celery app loads with Django so that `shared_task`s bind to it.
from .celery import app as celery_app

__all__ = ("celery_app",)
