-- The settings of the HTTP endpoint: defined with their defaults and
-- units, off by default (no HTTP worker), the postmaster ones not
-- changeable at run time.
SELECT name, setting, unit, context
FROM pg_settings WHERE name LIKE 'repmgr.http%' ORDER BY name;
SELECT count(*) AS http_workers FROM pg_stat_activity WHERE backend_type = 'repmgr http';
SET repmgr.http_port = 9999;
ALTER SYSTEM SET repmgr.http_timeout = '50ms';
ALTER SYSTEM SET repmgr.http_port = 0;
ALTER SYSTEM SET repmgr.http_cluster_refresh = '2s';
ALTER SYSTEM RESET repmgr.http_cluster_refresh;
