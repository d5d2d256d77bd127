-- A database made before NDAS had an owner role (its tables owned by the image's
-- superuser): hand its tables, sequences, views and functions to the owner. Run
-- once, as the superuser, after 10-ndas-roles.sh (README, "Deploying with docker
-- compose"); then run the migrate service, which grants the application's role.
-- psql variable: owner (the role's name).
SELECT set_config('ndas.owner', :'owner', false);
DO $$
DECLARE
    target text := current_setting('ndas.owner');
    item record;
BEGIN
    FOR item IN
        SELECT c.oid::regclass AS name,
               CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                   WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END AS kind
        FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace
          AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
          -- A column's own sequence follows its table.
          AND NOT EXISTS (
              SELECT 1 FROM pg_depend d
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                AND d.deptype IN ('a', 'i'))
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO %I', item.kind, item.name, target);
    END LOOP;
    FOR item IN
        SELECT p.oid::regprocedure AS name
        FROM pg_proc p
        WHERE p.pronamespace = current_schema()::regnamespace
          -- An extension's functions (pg_trgm) stay the extension's.
          AND NOT EXISTS (
              SELECT 1 FROM pg_depend d
              WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO %I', item.name, target);
    END LOOP;
END
$$;
