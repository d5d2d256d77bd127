"""ModelAdmins, one module per domain app; importing this package registers them."""

from admin_ext.admin import access, clinical_records, patients, users  # noqa: F401
