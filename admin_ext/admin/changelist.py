"""A change list that works out once per page what unfold asks for once per row.

unfold's row tag (unfold_list.items_for_result) rebuilds every column header for
each row: three query strings per sortable column and the list's ordering, so 50
rows cost 50 x the headers. Their inputs (the list's parameters) do not change
while a page renders, so each answer is kept for the page. A row's link is
reversed once per page and filled in with each row's key.
"""

from django.contrib.admin.utils import quote
from django.urls import reverse
from unfold.views import ChangeList

# A key no row has: reversed once, then replaced by each row's own key.
_KEY = 2_147_483_647


def url_pattern(viewname: str, current_app: str | None = None):
    """A function of a row's key giving what the admin's own row link gives,
    `reverse(viewname, args=[quote(key)])`: one reverse() for all integer keys
    (whose text needs no escaping), reverse() itself for any other key."""

    def each(key) -> str:
        return reverse(viewname, args=[quote(key)], current_app=current_app)

    reversed_ = reverse(viewname, args=[_KEY], current_app=current_app)
    marker = str(_KEY)
    if reversed_.count(marker) != 1:  # the marker must stand for the key alone
        return each
    before, after = reversed_.split(marker)

    def filled(key) -> str:
        if type(key) is int:
            return f"{before}{key}{after}"
        return each(key)

    return filled


class PageChangeList(ChangeList):
    """unfold's ChangeList, with the per-row repetitions answered once."""

    row_viewname = ""  # the rows' links: their change page unless a subclass says

    def get_query_string(self, new_params=None, remove=None):
        key = repr((self.filter_params, new_params, remove))
        kept = self.__dict__.setdefault("_query_strings", {})
        if key not in kept:
            kept[key] = super().get_query_string(new_params, remove)
        return kept[key]

    def get_ordering_field_columns(self):
        key = repr(self.params)
        kept = self.__dict__.get("_ordering_field_columns")
        if kept is None or kept[0] != key:
            kept = (key, super().get_ordering_field_columns())
            self._ordering_field_columns = kept
        return dict(kept[1])

    def url_for_result(self, result):
        if "_row_url" not in self.__dict__:
            opts = self.opts
            self._row_url = url_pattern(
                self.row_viewname or f"admin:{opts.app_label}_{opts.model_name}_change",
                current_app=self.model_admin.admin_site.name,
            )
        return self._row_url(getattr(result, self.pk_attname))


def headers_once() -> None:
    """unfold's rows ask for the list's column headers once per row (its
    items_for_result calls result_headers for each row, only to read each
    column's title): with the answer kept on the page's change list, 50 rows
    cost one set of headers. Called once, when the admin app is ready."""
    from unfold.templatetags import unfold_list

    original = unfold_list.result_headers
    if getattr(original, "once_per_page", False):
        return

    def result_headers(cl):
        kept = cl.__dict__.get("_unfold_headers")
        if kept is None:
            kept = cl._unfold_headers = list(original(cl))
        return iter(kept)

    result_headers.once_per_page = True
    unfold_list.result_headers = result_headers
