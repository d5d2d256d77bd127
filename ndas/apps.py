"""App config that registers the project's own system checks."""

from django.apps import AppConfig


class NdasConfig(AppConfig):
    name = "ndas"
    verbose_name = "NDAS"

    def ready(self) -> None:
        from ndas import checks  # noqa: F401  (registers the checks)
