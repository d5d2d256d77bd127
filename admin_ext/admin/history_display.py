"""A record's History page as staff read it: choices by their labels, dates in the
clinic's format, people and records by name, nothing shown as "None"."""

from datetime import date, datetime

from django.db.models import ForeignKey
from simple_history.template_utils import HistoricalRecordContextHelper

from records.common.display import show_date, show_datetime


class ChartHistoryContextHelper(HistoricalRecordContextHelper):
    def prepare_delta_change_value(self, change, value):
        value = super().prepare_delta_change_value(change, value)
        field = self.model._meta.get_field(change.field)
        if value is None or value == "":
            return ""
        if getattr(field, "choices", None):
            return str(dict(field.flatchoices).get(value, value))
        if isinstance(field, ForeignKey):
            related = field.related_model._base_manager.filter(pk=value).first()
            return str(related) if related is not None else value
        if isinstance(value, bool):
            return "Yes" if value else "No"
        if isinstance(value, datetime):
            return show_datetime(value)
        if isinstance(value, date):
            return show_date(value)
        return value
