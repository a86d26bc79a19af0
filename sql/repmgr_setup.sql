--
-- The extension: schema, tables, constraints, views, functions
--
-- helper: run a statement, show its SQLSTATE, message and hint
CREATE FUNCTION public.try(stmt text,
    OUT state text, OUT message text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    state := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE,
                            message = MESSAGE_TEXT,
                            hint = PG_EXCEPTION_HINT;
END $$;

-- wait (up to 10 s) until a file in the data directory has n lines
CREATE FUNCTION public.wait_for_lines(file text, n int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    lines int := 0;
BEGIN
    FOR i IN 1..1000 LOOP
        IF (pg_stat_file(file, true)).size IS NOT NULL THEN
            lines := array_length(string_to_array(rtrim(pg_read_file(file), E'\n'), E'\n'), 1);
            EXIT WHEN lines >= n;
        END IF;
        PERFORM pg_sleep(0.01);
    END LOOP;
    RETURN lines;
END $$;

-- wait (up to 10 s) until the worker runs in a state
CREATE FUNCTION public.wait_for_worker(want text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    st text;
BEGIN
    FOR i IN 1..1000 LOOP
        SELECT state INTO st FROM repmgr.daemon_status();
        EXIT WHEN st = want;
        PERFORM pg_sleep(0.01);
    END LOOP;
    RETURN st;
END $$;

SELECT extname, extversion, nspname AS schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'repmgr';

\d repmgr.repl_nodes
\d repmgr.repl_events
\d repmgr.repl_monitor
\d repmgr.repl_sync
\d+ repmgr.repl_show_nodes
\d repmgr.repl_status

-- functions, with their argument types
SELECT p.oid::regprocedure AS function, pg_get_function_result(p.oid) AS result
  FROM pg_proc p
 WHERE p.pronamespace = 'repmgr'::regnamespace
 ORDER BY p.proname, 1;

-- nothing is executable by PUBLIC
SELECT p.proname
  FROM pg_proc p, aclexplode(p.proacl) a
 WHERE p.pronamespace = 'repmgr'::regnamespace AND a.grantee = 0;
SELECT p.proname FROM pg_proc p
 WHERE p.pronamespace = 'repmgr'::regnamespace AND p.proacl IS NULL;

-- settings
SELECT name, setting, unit, context FROM pg_settings
 WHERE name LIKE 'repmgr.%' AND name NOT LIKE 'repmgr.event_notification%'
 ORDER BY name;
