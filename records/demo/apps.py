from django.apps import AppConfig


class DemoConfig(AppConfig):
    """No models: an app so that `manage.py seed_demo` is found."""

    name = "records.demo"
    label = "demo"
    verbose_name = "Demo data"
