"""A change form's line of fields written in one pass.

unfold draws each line of a form's fieldsets with a template
(helpers/fieldset_row.html) that includes another for each field
(helpers/fieldset_row_field.html, NDAS's copy) and a third for its help text: a
chart's page draws 28 fields through some 80 template renders before a widget is
drawn. For a line of plain fields (typed in, not read-only, not a checkbox, on a
form without unfold's conditional fields) this tag writes the same markup itself:
the same classes (unfold's own tags work them out), each field's label and widget
as Django and unfold draw them, its help text and its errors. Any other line is
drawn by the templates, which is what the tag's empty answer tells them.
tests/admin_ext/test_fieldset_rows.py draws every form of the site both ways and
compares them.
"""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from unfold.templatetags.unfold import fieldset_line_classes, fieldset_row_classes

register = template.Library()

ENABLED = True  # off: every line drawn by the templates (the tests' comparison)
COMPRESSED = (
    "lg:min-w-56 lg:w-56 lg:h-[38px] lg:flex lg:items-center lg:self-start "
    "lg:leading-[38px] lg:*:m-0"
)
FIELD = (
    '<div class="{}" ><div class="{}">{}</div><div class="grow relative">{}{}{}'
    "</div></div>"
)
HELP = '<div class="leading-relaxed mt-2 text-xs"> {} </div>'  # its spaces too
ERRORS = '<div class="mt-2 text-red-600 text-xs dark:text-red-500">{}</div>'


def _plain(field) -> bool:
    return not field.is_checkbox and not field.is_readonly


@register.simple_tag(takes_context=True)
def fieldset_row_once(context) -> SafeString:
    """The line's row as the templates draw it, or "" for them to draw it."""
    if not ENABLED or context.get("has_conditional_display"):
        return mark_safe("")
    fields = list(context["line"])
    if not all(_plain(field) for field in fields):
        return mark_safe("")
    adminform = context.get("adminform")
    compressed = adminform is not None and getattr(
        adminform.model_admin, "compressed_fields", False
    )
    label_classes = COMPRESSED if compressed else ""
    cells = format_html_join(
        "",
        FIELD,
        (_cell(field, adminform, label_classes) for field in fields),
    )
    last = "last" if context.get("forloop", {}).get("last") else ""
    return format_html(
        '<div class="{} {}">{}</div>', fieldset_row_classes(context), last, cells
    )


def _cell(field, adminform, label_classes: str) -> tuple:
    """What FIELD holds for one field: its classes, its label's, the label, the
    widget, its help text and its errors (an empty list draws none: the template
    rendered Django's error list template to learn that)."""
    bound = field.field
    return (
        fieldset_line_classes({"field": field, "adminform": adminform}),
        label_classes,
        field.label_tag(),
        bound,
        format_html(HELP, mark_safe(bound.help_text)) if bound.help_text else "",
        format_html(ERRORS, field.errors()) if bound.errors else "",
    )
