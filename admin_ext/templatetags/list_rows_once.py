"""A list page's rows joined in Python, not looped over by the template.

unfold's admin/change_list_results.html draws each row through a dozen template
nodes (its stripe, the drag handle, the expandable section, the form's errors, the
row actions) that only a few lists use. For the others (no drag-to-order, no list
sections, no row actions, no editable rows) this tag writes the same markup in one
pass; templates/admin/change_list_results.html keeps unfold's loop for the rest. A
test renders every list of the site both ways and compares them.
"""

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()

STRIPES = ("", "bg-base-50 dark:bg-white/[.02]")  # unfold's {% cycle %}
ROW = (
    '<tbody class="block relative lg:table-row-group {stripe}" '
    'x-data="{{rowOpen: false}}" >'
    '<tr class="data-row block border border-base-200 mb-3 relative rounded-default '
    'lg:table-row lg:border-none lg:mb-0 lg:rounded-none dark:border-base-800">'
    "{cells}</tr></tbody>"
)


@register.simple_tag
def rows_joined(results) -> str:
    """Every row of the page, as unfold's loop draws it for a plain list."""
    return mark_safe(
        "".join(
            ROW.format(
                stripe=STRIPES[index % 2],
                cells="".join(conditional_escape(cell) for cell in result),
            )
            for index, result in enumerate(results)
        )
    )


@register.filter
def rows_are_plain(results) -> bool:
    """Whether no row holds a form (an editable list): those rows may show the
    form's errors above their cells, which the template draws."""
    return not any(getattr(result, "form", None) for result in results)
