"""Autocomplete by POST: what is typed (part of a name, an MRN) goes in the
request body, never in an address, a browser's history or a log line.

Django's admin asks /admin/autocomplete/?term=... by GET. Here the widget posts
the same parameters, with the page's CSRF token (admin_ext/autocomplete.js), and
the view takes them from the body; a GET is refused.
"""

from django import forms
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.template.defaultfilters import pluralize

from records.audit.models import Action
from records.audit.services import audit_record
from records.common.search import search_bound
from records.patients.models import Patient


class PostedAutocompleteJsonView(AutocompleteJsonView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        # Django's view reads its parameters (term, page, app_label, model_name,
        # field_name) from the query string; they come in the body here, the
        # term bounded as every search is.
        params = request.POST.copy()
        params["term"] = search_bound(params.get("term")).text
        request.GET = params
        self.listed = []
        response = self.get(request, *args, **kwargs)
        self.listing_audit(request)
        return response

    def serialize_result(self, obj, to_field_name):
        self.listed.append(obj)
        return super().serialize_result(obj, to_field_name)

    def listing_audit(self, request) -> None:
        """A picker's answer names charts: one audit event for the charts it
        listed, as for a chart opened (the term itself is not kept)."""
        ids = sorted(
            {
                obj.pk if isinstance(obj, Patient) else obj.patient_id
                for obj in self.listed
                if isinstance(obj, Patient) or hasattr(obj, "patient_id")
            }
        )
        if ids:
            audit_record(
                action=Action.VIEW,
                actor=request.user,
                object_type="patients.patient",
                patient_id=ids[0] if len(ids) == 1 else None,
                summary=f"patient picker listed {len(ids)} chart{pluralize(len(ids))}",
                details={"patient_ids": ids},
            )


class _Posted:
    """An autocomplete widget that asks by POST, with the page's CSRF token."""

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs=extra_attrs)
        attrs["data-ajax--type"] = "POST"
        return attrs

    @property
    def media(self):
        # After jquery.init.js, which makes django.jQuery.
        posting = forms.Media(
            js=["admin/js/jquery.init.js", "admin_ext/autocomplete.js"]
        )
        return super().media + posting


class PostedAutocompleteSelect(_Posted, AutocompleteSelect):
    pass


class PostedAutocompleteSelectMultiple(_Posted, AutocompleteSelectMultiple):
    pass


class PostedAutocompleteMixin:
    """For a ModelAdmin or an inline: its autocomplete fields ask by POST (the view
    answers nothing else)."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        self._posted(db_field, request, kwargs, PostedAutocompleteSelect)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        self._posted(db_field, request, kwargs, PostedAutocompleteSelectMultiple)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _posted(self, db_field, request, kwargs, widget) -> None:
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(
            request
        ):
            kwargs["widget"] = widget(
                db_field, self.admin_site, using=kwargs.get("using")
            )
