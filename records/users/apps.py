from django.apps import AppConfig
from django.db.models.signals import post_migrate


class UsersConfig(AppConfig):
    name = "records.users"
    label = "users"
    verbose_name = "Users and roles"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from records.users import receivers, roles

        receivers.connect()
        post_migrate.connect(roles.role_permissions_sync_receiver, sender=self)
