"""audit_append(): lock the chain, read its head, and insert, in one round trip.

Python renders the event's canonical JSON with three slots (the id, the previous
hash and the IP as PostgreSQL writes it); the function fills them under the chain's
lock and hashes the result, so writing and verify_audit hash the same bytes.
"""

from django.db import migrations

# The chain's lock key ("NDASAUDT"), fixed here: a migration must not change
# when the code it was written with changes.
AUDIT_CHAIN_LOCK = 0x4E44_4153_4155_4454

CREATE = f"""
CREATE FUNCTION audit_append(
    p_template text, p_at timestamptz, p_actor_id bigint, p_actor_username text,
    p_ip inet, p_request_id text, p_action text, p_object_type text,
    p_object_id text, p_patient_id bigint, p_summary text, p_details jsonb
) RETURNS TABLE (event_id bigint, event_hash text, event_prev text)
LANGUAGE plpgsql AS $$
DECLARE
    v_prev text;
    v_id bigint;
    v_payload text;
    v_hash text;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'audit events must be written under READ COMMITTED';
    END IF;
    PERFORM pg_advisory_xact_lock({AUDIT_CHAIN_LOCK});
    SELECT e.hash INTO v_prev FROM audit_auditevent e ORDER BY e.id DESC LIMIT 1;
    v_prev := coalesce(v_prev, repeat('0', 64));
    v_id := nextval(pg_get_serial_sequence('audit_auditevent', 'id'));
    v_payload := replace(p_template, '"id":"@ID@"', '"id":' || v_id);
    v_payload := replace(v_payload, '"prev_hash":"@PREV@"',
                         '"prev_hash":"' || v_prev || '"');
    IF p_ip IS NOT NULL THEN
        v_payload := replace(v_payload, '"ip":"@IP@"',
                             '"ip":' || to_json(host(p_ip))::text);
    END IF;
    v_hash := encode(sha256(convert_to(v_payload, 'UTF8')), 'hex');
    INSERT INTO audit_auditevent (id, at, actor_id, actor_username, ip, request_id,
        action, object_type, object_id, patient_id, summary, details, prev_hash,
        hash)
    VALUES (v_id, p_at, p_actor_id, p_actor_username, p_ip, p_request_id,
        p_action, p_object_type, p_object_id, p_patient_id, p_summary, p_details,
        v_prev, v_hash);
    RETURN QUERY SELECT v_id, v_hash, v_prev;
END
$$;
"""

DROP = (
    "DROP FUNCTION audit_append(text, timestamptz, bigint, text, inet, text, "
    "text, text, text, bigint, text, jsonb);"
)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_username_index")]

    operations = [migrations.RunSQL(CREATE, DROP)]
