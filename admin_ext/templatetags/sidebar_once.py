"""The sidebar's entries drawn once per shape, not once per page.

unfold draws the sidebar (helpers/app_list.html) on every page from the entries
its site works out for the request: each entry's title, link, icon, whether the
user may follow it and whether it is the page's own. Those few facts are all the
drawing reads, and staff meet a handful of combinations of them (one per role and
area of the site), so each combination is drawn by unfold's own template once and
kept in the process, keyed by all of them and the language. A sidebar with what
is not in the key (badges, computed links, nested entries, all applications) is
drawn afresh each time.
"""

from pathlib import Path

import unfold
from django import template
from django.template import engines
from django.utils.translation import get_language

register = template.Library()

UNFOLDS_TEMPLATE = (
    Path(unfold.__file__).parent / "templates/unfold/helpers/app_list.html"
)
KEPT = 256  # combinations kept; past that the memo starts again
_drawn: dict[tuple, str] = {}
# What an entry and a group may hold for the shape to say all unfold draws of them
# (the entry's permission callback is answered by has_permission).
GROUP_KEYS = {"title", "separator", "collapsible", "items"}
ITEM_KEYS = {"title", "icon", "link", "permission", "active", "has_permission"}
_template = None


def _unfolds_app_list():
    global _template
    if _template is None:
        source = UNFOLDS_TEMPLATE.read_text()
        _template = engines["django"].from_string(source).template
    return _template


def shape(context) -> tuple | None:
    """All that unfold's app_list template reads, or None when it reads more."""
    if context.get("sidebar_show_all_applications"):
        return None
    groups = []
    for group in context.get("sidebar_navigation") or ():
        if set(group) - GROUP_KEYS:
            return None
        items = []
        for item in group.get("items") or ():
            if set(item) - ITEM_KEYS:
                return None
            items.append(
                (
                    str(item.get("title", "")),
                    str(item.get("link", "")),
                    item.get("icon"),
                    bool(item.get("active")),
                    bool(item.get("has_permission")),
                )
            )
        groups.append(
            (
                str(group.get("title", "")),
                bool(group.get("separator")),
                bool(group.get("collapsible")),
                tuple(items),
            )
        )
    return (get_language(), tuple(groups))


@register.simple_tag(takes_context=True)
def app_list_once(context) -> str:
    """unfold's helpers/app_list.html for this page's sidebar, drawn once per shape."""
    key = shape(context)
    if key is None:
        return _unfolds_app_list().render(context)
    if key not in _drawn:
        if len(_drawn) >= KEPT:
            _drawn.clear()
        _drawn[key] = _unfolds_app_list().render(context)
    return _drawn[key]
