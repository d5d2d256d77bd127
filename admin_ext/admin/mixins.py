"""The chart admins' shared behaviour, by its old import path: each piece now
lives in a module of its own (chart_forms, chart_admin, lockable, status_label,
date_filters)."""

from admin_ext.admin.chart_admin import ChartAdmin  # noqa: F401
from admin_ext.admin.chart_forms import (  # noqa: F401
    E_FINAL_NEEDS_REASON,
    ChartForm,
    LockableForm,
    StaffChoiceField,
)
from admin_ext.admin.date_filters import LocalDateTimeRangeFilter  # noqa: F401
from admin_ext.admin.lockable import (  # noqa: F401
    AMEND_PARAM,
    SIGN_OFF_FIELDSET,
    SIGN_OFF_FORM_FIELDS,
    LockableAdmin,
    record_columns,
    record_filters,
)
from admin_ext.admin.status_label import STATUS_COLOURS, StatusLabelMixin  # noqa: F401
