--
-- cluster_show, cluster_event, cluster_cleanup, node_state, node_status
--
SELECT format('host=%s port=%s dbname=%s',
              current_setting('unix_socket_directories'),
              current_setting('port'), current_database()) AS conninfo \gset
SELECT format('host=%s port=1 dbname=nothing',
              current_setting('unix_socket_directories')) AS deadinfo \gset

-- node 2: a standby that is down (its socket does not exist)
-- node 3: a "standby" that is in fact this primary
-- node 4: a standby behind a blackhole, with a password to mask
-- node 5: an inactive witness that is down
INSERT INTO repmgr.repl_nodes (id, type, upstream_node_id, cluster, name, conninfo, priority, location, active)
VALUES (2, 'standby', 1, 'default', 'node2', :'deadinfo', 100, 'dc1', true),
       (3, 'standby', 2, 'default', 'node3', :'conninfo', 0, 'dc2', true),
       (4, 'standby', 1, 'default', 'node4', 'host=10.255.255.1 port=5432 password=secret connect_timeout=1', 100, 'dc2', true),
       (5, 'witness', NULL, 'default', 'node5', :'deadinfo', 0, 'dc3', false);

SELECT id, name, role, status, upstream, location, priority,
       timeline IS NOT NULL AS has_timeline, lsn IS NOT NULL AS has_lsn
  FROM repmgr.cluster_show();
SELECT conninfo FROM repmgr.cluster_show() WHERE id = 4;

-- events: filters, limit, the master alias
SELECT node_id, name, event, ok FROM repmgr.cluster_event() ORDER BY event_timestamp, event;
SELECT node_id, event FROM repmgr.cluster_event(event => 'primary_register') LIMIT 1;
SELECT node_id, event FROM repmgr.cluster_event(event => 'master_register') LIMIT 1;
SELECT count(*) FROM repmgr.cluster_event(node_id => 4);
SELECT count(*) FROM repmgr.cluster_event(node_id => 99);
SELECT count(*) FROM repmgr.cluster_event(lim => 2);
SELECT * FROM try($$SELECT * FROM repmgr.cluster_event(lim => 0)$$);
SELECT * FROM try($$SELECT * FROM repmgr.cluster_event(lim => NULL)$$);
SELECT * FROM try($$SELECT * FROM repmgr.cluster_event(node_id => -1)$$);

-- monitoring history: keep what is younger than the given days
INSERT INTO repmgr.repl_monitor
SELECT 1, 2, now() - make_interval(days => d), now() - make_interval(days => d),
       '0/3000000', '0/3000000', 0, 0
  FROM generate_series(0, 9) AS d;
SELECT * FROM try($$SELECT repmgr.cluster_cleanup(-1)$$);
SELECT * FROM try($$SELECT repmgr.cluster_cleanup(NULL)$$);
SELECT repmgr.cluster_cleanup(5);
SELECT count(*) FROM repmgr.repl_monitor;
SELECT repmgr.cluster_cleanup();
SELECT count(*) FROM repmgr.repl_monitor;
SELECT event, details FROM repmgr.cluster_event(event => 'cluster_cleanup');

-- the notification scripts of cluster_cleanup hang: both are killed
SELECT wait_for_lines('killed.out', 2);

-- repl_status shows the latest row per standby
INSERT INTO repmgr.repl_monitor VALUES
  (1, 2, now() - interval '2 seconds', now() - interval '3 seconds', '0/3000100', '0/3000000', 256, 128),
  (1, 2, now() - interval '1 second', now() - interval '2 seconds', '0/3000200', '0/3000200', 0, 0);
SELECT primary_node, standby_node, standby_name, node_type, active,
       last_wal_primary_location, last_wal_standby_location,
       replication_lag, replication_lag_bytes, apply_lag,
       replication_time_lag = interval '1 second' AS time_lag_ok
  FROM repmgr.repl_status;

-- this node, as peers and people see it
SELECT node_id IS NULL AS no_node_id, in_recovery, timeline, lsn > '0/0' AS has_lsn,
       receive_lsn, replay_lsn, timeline_switch_lsn, term, voted_for,
       paused, fenced, failover
  FROM repmgr.node_state();
SELECT node_name, type, role, active, timeline, replication_lag,
       wal_receiver_status, archive_mode, archive_ready_files,
       replication_connections, replication_slots
  FROM repmgr.node_status();

DELETE FROM repmgr.repl_nodes WHERE id > 1;
