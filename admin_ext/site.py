"""NDAS's admin site: unfold's, with each page's frame worked out for less.

unfold's `each_context` runs on every page. For each of its thirty settings it
merged its defaults with `settings.UNFOLD` afresh and tried every string as an
import path (a raised ImportError for "NDAS"); it deep-copied the sidebar's
entries and, for each, parsed its link and reversed the dashboard's address to
see whether it was the page's own; and Django's part built the list of every
application the user may open, which no NDAS page draws (the sidebar is NDAS's
own navigation, admin_ext/navigation.py). Here the merged settings are kept for
the process (settings do not change while it runs; tests that change them clear
them), a string that cannot be a dotted path is not tried as one, the colours are
converted into a dict of the request's own, the application list is built only
if a template reads it, and a sidebar of NDAS's shape (entries with a title, an
icon, a link and a permission) is marked active and permitted in one pass. The
context is unfold's, key for key (tests/admin_ext/test_site.py).
"""

from functools import cache, lru_cache
from urllib.parse import urlparse

from django.contrib.admin import AdminSite
from django.core.signals import setting_changed
from django.urls import get_script_prefix, reverse
from django.utils.functional import Promise, SimpleLazyObject
from unfold.settings import get_config
from unfold.sites import UnfoldAdminSite
from unfold.utils import convert_color

# What a sidebar group and entry may hold for the one-pass marking below; any
# other key (badges, tabs, nested entries, computed links) goes to unfold's own.
GROUP_KEYS = {"title", "separator", "collapsible", "items"}
ITEM_KEYS = {"title", "icon", "link", "permission"}


class _ApplicationsOnDemand(AdminSite):
    """Django's context, `available_apps` built when first read. unfold's site
    calls this as its super(): ClinicAdminSite's bases put it between the two."""

    def each_context(self, request):
        script_name = request.META["SCRIPT_NAME"]
        site_url = (
            script_name if self.site_url == "/" and script_name else self.site_url
        )
        return {
            "site_title": self.site_title,
            "site_header": self.site_header,
            "site_url": site_url,
            "has_permission": self.has_permission(request),
            "available_apps": SimpleLazyObject(lambda: self.get_app_list(request)),
            "is_popup": False,
            "is_nav_sidebar_enabled": self.enable_nav_sidebar,
            "log_entries": self.get_log_entries(request),
        }


@cache
def _merged(settings_name: str) -> dict:
    return get_config(settings_name)


@lru_cache(maxsize=256)
def _link_path(link: str) -> str:
    return urlparse(link).path


@cache
def _index_path(site_name: str, prefix: str) -> str:
    return reverse(f"{site_name}:index")


def _settings_changed(setting, **kwargs) -> None:
    if setting.startswith("UNFOLD"):
        _merged.cache_clear()


setting_changed.connect(_settings_changed)


class ClinicAdminSite(UnfoldAdminSite, _ApplicationsOnDemand):
    def _get_config(self, key: str, *args):
        config = _merged(self.settings_name)
        if key in config and config[key]:
            return self._get_value(config[key], *args)
        return None

    def _get_value(self, value, *args):
        if isinstance(value, str) and "." not in value:
            return value  # "NDAS", "/admin/": import_string needs a dotted path
        return super()._get_value(value, *args)

    def _get_colors(self, key: str, *args) -> dict:
        """unfold's colours, converted into a dict of this request's own: unfold's
        wrote them into the settings it read, which are now kept for the process."""
        colors = self._get_config(key, *args) or {}
        return {
            name: {
                weight: convert_color(value)
                for weight, value in self._get_value(weights, *args).items()
            }
            for name, weights in colors.items()
        }

    def get_sidebar_list(self, request) -> list[dict]:
        if self._get_config("TABS", request):
            return super().get_sidebar_list(request)
        sidebar = self._get_config("SIDEBAR", request) or {}
        navigation = self._get_value(sidebar.get("navigation"), request) or []
        if not all(_plain(group) for group in navigation):
            return super().get_sidebar_list(request)
        index = _index_path(self.name, get_script_prefix())
        return [
            {
                **group,
                "items": [
                    self._marked(request, index, item) for item in group["items"]
                ],
            }
            for group in navigation
        ]

    def _marked(self, request, index: str, item: dict) -> dict:
        """The entry as unfold marks it: the page's own, and the user's to follow."""
        path = _link_path(str(item["link"]))
        active = path == request.path == index or (
            path != "" and path in request.path and path != index
        )
        permission = item.get("permission")
        if callable(permission):  # unfold wraps it in a lazy proxy built per call
            allowed = permission(request) == True  # noqa: E712  (unfold's test)
        else:
            allowed = self._call_permission_callback(permission, request)
        return {**item, "active": active, "has_permission": allowed}


def _plain(group: dict) -> bool:
    """Entries with only the keys above, each linking to an address (a computed
    link is unfold's: it keeps the callable for its template)."""
    return not set(group) - GROUP_KEYS and all(
        not set(item) - ITEM_KEYS and isinstance(item.get("link"), (str, Promise))
        for item in group.get("items", ())
    )
