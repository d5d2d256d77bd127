from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "records.common"
    label = "common"
