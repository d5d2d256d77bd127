"""Acknowledging emergency access (issue #17): a page that lists the grants
selected and takes an optional review note, before they are acknowledged."""

from django import forms
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from unfold.widgets import UnfoldAdminTextareaWidget

from records.patients.services.access import BREAK_GLASS_NOTE_MAX


class ReviewForm(forms.Form):
    note = forms.CharField(
        label="Review note (optional)",
        required=False,
        max_length=BREAK_GLASS_NOTE_MAX,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
        help_text="What you checked, for the next reviewer: kept with each grant.",
    )


def review_note(request) -> str | None:
    """The note posted from the review page; None until that page was sent."""
    if "apply" not in request.POST:
        return None
    form = ReviewForm(request.POST)
    return form.cleaned_data["note"] if form.is_valid() else None


def review_page(model_admin, request, queryset) -> TemplateResponse:
    grants = list(
        queryset.filter(acknowledged_at__isnull=True).select_related("user", "patient")
    )
    form = ReviewForm(request.POST if "apply" in request.POST else None)
    return TemplateResponse(
        request,
        "admin_ext/break_glass_acknowledge.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": "Acknowledge emergency access",
            "opts": model_admin.model._meta,
            "grants": grants,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        },
    )
