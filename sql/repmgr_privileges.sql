--
-- Privileges: nothing for PUBLIC; read functions for pg_monitor; changes
-- for superusers only, even when EXECUTE is granted.
--
CREATE ROLE regress_repmgr_user LOGIN;
SET ROLE regress_repmgr_user;
SELECT * FROM try($$SELECT * FROM repmgr.cluster_show()$$);
SELECT * FROM try($$SELECT repmgr.primary_register(1, 'node1', 'host=x')$$);
RESET ROLE;

GRANT pg_monitor TO regress_repmgr_user;
SET ROLE regress_repmgr_user;
SELECT count(*) > 0 AS can_show FROM repmgr.cluster_show();
SELECT count(*) > 0 AS can_read_events FROM repmgr.cluster_event();
SELECT name FROM repmgr.repl_nodes;
-- conninfo may hold passwords: pg_monitor sees it only masked
RESET ROLE;
INSERT INTO repmgr.repl_nodes (id, type, upstream_node_id, cluster, name, conninfo)
VALUES (9, 'standby', 1, 'default', 'node9',
		'host=/nonexistent port=1 password=secret1 sslpassword=secret2 connect_timeout=1');
SET ROLE regress_repmgr_user;
SELECT * FROM try($$SELECT conninfo FROM repmgr.repl_nodes$$);
SELECT * FROM try($$SELECT conninfo FROM repmgr.repl_show_nodes$$);
SELECT * FROM try($$SELECT * FROM repmgr.repl_show_nodes$$);
SELECT id, name, upstream_node_name FROM repmgr.repl_show_nodes ORDER BY id;
SELECT id, conninfo FROM repmgr.cluster_show() WHERE id = 9;
RESET ROLE;
DELETE FROM repmgr.repl_nodes WHERE id = 9;
SET ROLE regress_repmgr_user;
SELECT * FROM try($$SELECT repmgr.primary_register(1, 'node1', 'host=x', force => true)$$);
SELECT * FROM try($$SELECT repmgr.standby_unregister(1)$$);
SELECT * FROM try($$SELECT repmgr.cluster_cleanup(0)$$);
SELECT * FROM try($$DELETE FROM repmgr.repl_nodes$$);
RESET ROLE;

-- EXECUTE granted by a careless superuser still does not allow changes
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA repmgr TO regress_repmgr_user;
SET ROLE regress_repmgr_user;
SELECT * FROM try($$SELECT repmgr.primary_register(1, 'node1', 'host=x', force => true)$$);
SELECT * FROM try($$SELECT repmgr.standby_register(2, 'node2', 'host=x')$$);
SELECT * FROM try($$SELECT repmgr.standby_unregister(1)$$);
SELECT * FROM try($$SELECT repmgr.witness_register(9, 'w', 'host=x', 'host=y')$$);
SELECT * FROM try($$SELECT repmgr.cluster_cleanup(0)$$);
RESET ROLE;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA repmgr FROM regress_repmgr_user;
REVOKE pg_monitor FROM regress_repmgr_user;
DROP ROLE regress_repmgr_user;
SELECT id, name FROM repmgr.repl_nodes;
