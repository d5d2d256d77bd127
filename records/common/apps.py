from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "records.common"
    label = "common"

    def ready(self) -> None:
        from records.common import lookups  # noqa: F401  (registers them)
