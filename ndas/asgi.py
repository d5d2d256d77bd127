"""ASGI entry point (unused by the gunicorn deployment; kept for tooling)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ndas.settings")

application = get_asgi_application()
