"""A list's rows drawn as unfold draws them, with what every row shares worked out
once per page.

unfold's row tag (unfold_list.items_for_result) asks, for each cell of each row,
what its column is: the model field or admin method behind it, its CSS classes,
its header's title, whether it holds the row's link, the list's preserved filters.
None of that changes between rows, so here each column is planned once per page
and a row only reads its values and joins its cells: the same markup (a test
compares both on every list of the site), for about a third of the rows' CPU.

Lists this plan does not cover (editable rows, pop-ups, drag-to-order, columns
that follow a path or read an instance's own attribute) are drawn by unfold's tag
itself.
"""

import datetime
import html

from django.contrib.admin.templatetags.admin_list import _coerce_field_name
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
)
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from unfold.templatetags import unfold_list
from unfold.utils import (
    display_for_dropdown,
    display_for_field,
    display_for_header,
    display_for_label,
    display_for_value,
)

_NOWRAP_FIELDS = (models.DateField, models.TimeField, models.ForeignKey)


class _Column:
    """One column of a page's rows: everything about it but the row's value."""

    __slots__ = (
        "name",
        "field",
        "method",
        "empty",
        "missing",
        "kind",
        "label_colours",
        "boolean",
        "classes",
        "plain",
        "label",
        "tag",
        "choices",
    )

    def cell(self, result) -> tuple[str, str]:
        """The column's cell of `result` (its link aside) and its class
        attribute, as unfold draws them."""
        try:
            if self.method is None:
                value = getattr(result, self.name)
                if self.kind != "field" and self.field is None and callable(value):
                    value = value()  # a model's method, __str__ say
            else:
                value = self.method(result)
        except ObjectDoesNotExist:
            return self.missing, self.plain
        kind = self.kind
        if kind == "field":
            if self.choices is not None:
                try:
                    return self.choices.get(value, self.empty), self.classes
                except TypeError:  # a value that is not hashable: unfold's way
                    pass
            field = self.field
            if isinstance(field.remote_field, models.ManyToOneRel):
                return (self.empty if value is None else value), self.classes
            return display_for_field(value, field, self.empty), self.classes
        if kind == "label":
            shown = display_for_label(value, self.empty, self.label_colours)
        elif kind == "dropdown":
            shown = display_for_dropdown(result, self.name, value, self.empty)
        elif kind == "header":
            shown = display_for_header(value, self.empty)
        else:
            shown = display_for_value(value, self.empty, self.boolean)
        if isinstance(value, datetime.date | datetime.time):
            return shown, self.classes[:-1] + ' nowrap"'
        return shown, self.classes


def _columns(cl) -> list[_Column] | None:
    """The page's columns, or None where unfold's own tag must draw the rows."""
    admin = cl.model_admin
    if (
        cl.is_popup
        or getattr(admin, "ordering_field", None)
        or getattr(cl, "formset", None)
    ):
        return None
    headers = list(unfold_list.result_headers(cl))
    default_empty = admin.get_empty_value_display()
    columns, first = [], True
    for index, name in enumerate(cl.list_display):
        column = _Column()
        column.name, column.field, column.method = name, None, None
        column.kind, column.boolean, column.label_colours = "", False, False
        column.choices = None
        column.empty = column.missing = default_empty
        classes = [f"field-{_coerce_field_name(name, index)}", *unfold_list.ROW_CLASSES]
        try:
            column.field = _get_non_gfk_field(cl.lookup_opts, name)
        except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
            if callable(name):
                column.method = name
            elif hasattr(admin, name) and name != "__str__":
                column.method = getattr(admin, name)
            elif not hasattr(cl.model, name):  # a path, or an instance's own
                return None
        model_attribute = column.field is None and column.method is None
        if column.field is not None and not column.field.auto_created:
            column.kind = "field"
            column.choices = _choices(column.field)
            if isinstance(column.field, _NOWRAP_FIELDS):
                classes.append("nowrap")
        else:  # an admin's or a model's method, or a field made for the model
            method = getattr(cl.model, name) if model_attribute else column.method
            column.empty = getattr(method, "empty_value_display", default_empty)
            if name == "action_checkbox":
                classes = list(unfold_list.CHECKBOX_CLASSES)
            column.boolean = getattr(method, "boolean", False)
            column.label_colours = getattr(method, "label", False)
            for kind in ("label", "dropdown", "header"):
                if getattr(method, kind, False):
                    column.kind = kind
                    break
        if cl.list_display_links is None:
            linked = False
        elif first and not cl.list_display_links:
            linked = True
        else:
            linked = name in cl.list_display_links
        column.tag = ("th" if first else "td") if linked else ""
        first = first and not linked
        column.classes = ' class="' + " ".join(classes) + '"'
        column.plain = column.classes.replace(" nowrap", "")
        if not linked and index == 0:
            column.label = conditional_escape(gettext("Select record"))
        else:
            column.label = conditional_escape(headers[index]["text"])
        columns.append(column)
    return columns


def _choices(field) -> dict | None:
    """A choices field's labels by value, in this page's language: what unfold's
    display_for_field looks up by building this dictionary again for every row."""
    flat = getattr(field, "flatchoices", None)
    if not flat:
        return None
    try:
        return {value: str(label) for value, label in flat}
    except TypeError:  # choices that are not hashable: unfold's own way, per row
        return None


def _escape(text) -> str:
    """conditional_escape for the cells' usual plain text without its wrappers
    (Django's escape is html.escape of the text, marked safe)."""
    if type(text) is str:
        return html.escape(text)
    return conditional_escape(text)


class _Links:
    """A row's link as unfold writes it: the change page with the list's filters
    kept. The filters' part is the same for every row's link of one page, so it is
    worked out once, from the first link, and added to the others of its shape."""

    def __init__(self, cl):
        self.cl = cl
        self.context = {"preserved_filters": cl.preserved_filters, "opts": cl.opts}
        self.shape = None

    def __call__(self, result) -> str:
        url = self.cl.url_for_result(result)
        key = str(result.pk)
        parts = url.split(key)
        shape = (parts[0], parts[-1]) if len(parts) == 2 else None
        if shape is not None and self.shape is not None and shape == self.shape[0]:
            return url + self.shape[1]
        kept = add_preserved_filters(self.context, url)
        if shape is not None and "?" not in url and kept.startswith(url):
            self.shape = (shape, kept[len(url) :])
        return kept


_LINK_CLASSES = " ".join(unfold_list.LINK_CLASSES)


def items_for_result(cl, result, form):
    """unfold's row tag, planned once per page (see the module's docstring)."""
    plan = cl.__dict__.get("_ndas_row_plan")
    if plan is None:
        plan = cl._ndas_row_plan = (_columns(cl), _Links(cl))
    columns, links = plan
    if columns is None or form is not None or type(result) is not cl.model:
        yield from ORIGINAL_ITEMS_FOR_RESULT(cl, result, form)
        return
    for column in columns:
        shown, classes = column.cell(result)
        if column.tag:
            try:
                url = links(result)
            except NoReverseMatch:
                inner = _escape(shown)
            else:
                inner = (
                    f'<a href="{_escape(url)}" class="{_LINK_CLASSES}" >'
                    f"{_escape(shown)}</a>"
                )
            tag = column.tag
            yield mark_safe(
                f'<{tag}{classes} data-label="{column.label}">{inner}</{tag}>'
            )
        else:
            yield mark_safe(
                f'<td{classes} data-label="{column.label}">{_escape(shown)}</td>'
            )


ORIGINAL_ITEMS_FOR_RESULT = unfold_list.items_for_result


def rows_planned_once() -> None:
    """Draw list rows with items_for_result above. Called once, when the admin app
    is ready."""
    if unfold_list.items_for_result is not items_for_result:
        unfold_list.items_for_result = items_for_result
