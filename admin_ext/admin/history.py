"""History pages show past versions; they never write one back."""

from django.core.exceptions import PermissionDenied


class ReadOnlyHistoryMixin:
    """For every admin with django-simple-history's pages (first among its bases).

    simple-history's "revert" saves the posted form of a past version for anyone
    who may *view* the history (its POST path asks no change permission: an
    auditor could make themselves superuser), and it would bypass the services
    besides (no version check, no reason rules, no audit event). A past version is
    read here; a change is made on the change page, through the services."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None) -> bool:
        return True
