--
-- Limits: a registration beyond the most nodes a cluster may have is
-- refused; an over-long name is reported cut; cluster_cleanup takes any
-- number of days.
--
SELECT * FROM try($$SELECT repmgr.primary_register(1, repeat('n', 1000000), 'host=x')$$);
SELECT * FROM try($$SELECT repmgr.record_event(1, repeat('e', 100000), true, 'x')$$);
SELECT repmgr.cluster_cleanup(2147483647) AS deleted;

-- 64 nodes, none of them an active primary: registering a 65th, which
-- would otherwise be accepted, is refused, and nothing changes
BEGIN;
DELETE FROM repmgr.repl_nodes;
INSERT INTO repmgr.repl_nodes (id, type, upstream_node_id, cluster, name, conninfo, active)
SELECT i, 'standby', NULL, 'default', 'node' || i, 'host=/nonexistent', false
  FROM generate_series(2, 65) i;
SELECT count(*) AS nodes FROM repmgr.repl_nodes;
SELECT * FROM try($$SELECT repmgr.primary_register(66, 'node66', 'host=x')$$);
SELECT count(*) AS nodes FROM repmgr.repl_nodes;
-- a node already registered may still be registered again
SELECT * FROM try($$SELECT repmgr.primary_register(2, 'node2', 'host=x', force => true)$$);
SELECT count(*) AS nodes FROM repmgr.repl_nodes;
ROLLBACK;
SELECT count(*) AS nodes FROM repmgr.repl_nodes;

-- the database itself refuses a 65th node, however it comes
BEGIN;
DELETE FROM repmgr.repl_nodes;
SELECT * FROM try($$INSERT INTO repmgr.repl_nodes (id, type, upstream_node_id, cluster, name, conninfo, active)
SELECT i, 'standby', NULL, 'default', 'node' || i, 'host=/nonexistent', false
  FROM generate_series(1, 65) i$$);
INSERT INTO repmgr.repl_nodes (id, type, upstream_node_id, cluster, name, conninfo, active)
SELECT i, 'standby', NULL, 'default', 'node' || i, 'host=/nonexistent', false
  FROM generate_series(1, 64) i;
SELECT * FROM try($$INSERT INTO repmgr.repl_nodes (id, type, upstream_node_id, cluster, name, conninfo, active)
VALUES (65, 'standby', NULL, 'default', 'node65', 'host=/nonexistent', false)$$);
-- a change of a node that exists is no new node
INSERT INTO repmgr.repl_nodes (id, type, upstream_node_id, cluster, name, conninfo, active)
VALUES (64, 'standby', NULL, 'default', 'node64', 'host=/elsewhere', false)
ON CONFLICT (id) DO UPDATE SET conninfo = EXCLUDED.conninfo;
SELECT count(*) AS nodes FROM repmgr.repl_nodes;
ROLLBACK;
SELECT count(*) AS nodes FROM repmgr.repl_nodes;
