"""Date-and-time range filters of the admin's lists."""

from django.core.validators import EMPTY_VALUES
from django.utils import timezone
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.utils import parse_datetime_str


class LocalDateTimeRangeFilter(RangeDateTimeFilter):
    """unfold's date-and-time range, made aware in the current time zone.

    unfold hands Django naive datetimes; Django reads them in the default time
    zone with a RuntimeWarning each time. Here they are aware from the start: no
    warnings, and right should a user's own time zone ever be activated.
    """

    def queryset(self, request, queryset):
        filters = {}
        for bound, lookup in (("from", "gte"), ("to", "lte")):
            day = self.used_parameters.get(f"{self.parameter_name}_{bound}_0")
            time = self.used_parameters.get(f"{self.parameter_name}_{bound}_1")
            if day in EMPTY_VALUES or time in EMPTY_VALUES:
                continue
            value = parse_datetime_str(f"{day} {time}")
            if value is None:
                return None  # unfold's answer to a value it cannot read
            if timezone.is_naive(value):
                value = timezone.make_aware(value)
            filters[f"{self.parameter_name}__{lookup}"] = value
        return queryset.filter(**filters)
