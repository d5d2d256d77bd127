"""List cells drawn as unfold draws them, without rendering a template per row.

unfold renders a template for each label and each header cell of each row: two
per row of the patient list, about a sixth of its CPU. A label's markup depends on
its text and colour alone, so each is rendered once by unfold's own template and
kept (statuses, never patient data); a header cell (a patient's name) is built
with format_html, with the markup of unfold's template (helpers/display_header.html)
for a title and a subtitle.
"""

from functools import lru_cache

from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language


@lru_cache(maxsize=128)
def _label(text: str, variant: str | None, language: str | None) -> str:
    return render_to_string(
        "unfold/helpers/display_label.html",
        {"label": text, "label_type": variant, "multiple": False},
    )


def label_cell(text, colours: dict) -> SafeString:
    """What unfold's `@display(label=colours)` shows for `text`: a coloured label.
    Only for a few fixed texts (statuses): each is kept once rendered."""
    return mark_safe(_label(str(text), colours.get(text), get_language()))


def header_cell(title: str, subtitle: str = "") -> SafeString:
    """What unfold's `@display(header=True)` shows for (title, subtitle)."""
    below = format_html('<p class="text-base-500">{}</p>', subtitle) if subtitle else ""
    return format_html(
        '<span class="flex gap-4 items-center">'
        '<span class="flex flex-col text-right lg:text-left">'
        '<strong class="block font-normal">{}</strong>{}</span></span>',
        title,
        below,
    )
