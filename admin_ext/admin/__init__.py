"""ModelAdmins, one module per domain app; importing this package registers them."""

from admin_ext.admin import (  # noqa: F401
    access,
    audit,
    clinical_records,
    export_list,
    imports,
    mfa,
    patients,
    schedule,
    users,
)
