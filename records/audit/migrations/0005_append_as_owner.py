"""audit_append() runs as its owner, so that the application's role, which may not
INSERT into audit_auditevent (manage.py grant_app_role), can still append.

SECURITY DEFINER with a fixed search_path (the schema it was created in, then
pg_temp, last): a caller's own objects cannot stand in for the audit table.
EXECUTE is taken from PUBLIC; the owner grants it to the application's role.
"""

from django.db import migrations

SIGNATURE = (
    "audit_append(text, timestamptz, bigint, text, inet, text, text, text, text, "
    "bigint, text, jsonb)"
)

FORWARD = f"""
DO $$
BEGIN
    EXECUTE format(
        'ALTER FUNCTION {SIGNATURE} SECURITY DEFINER SET search_path = %I, pg_temp',
        current_schema()
    );
END
$$;
REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC;
"""

REVERSE = f"""
ALTER FUNCTION {SIGNATURE} SECURITY INVOKER RESET search_path;
GRANT EXECUTE ON FUNCTION {SIGNATURE} TO PUBLIC;
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_append_function")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
