--
-- Registration: primary_register, standby_register, standby_unregister,
-- witness_register, on one instance (the primary).  Every bad input gets
-- an error with its SQLSTATE and changes nothing.
--
SELECT format('host=%s port=%s dbname=%s',
              current_setting('unix_socket_directories'),
              current_setting('port'), current_database()) AS conninfo \gset
SELECT format('host=%s port=1 dbname=nothing',
              current_setting('unix_socket_directories')) AS deadinfo \gset

-- bad arguments
SELECT * FROM try($$SELECT repmgr.primary_register(NULL, 'node1', 'host=x')$$);
SELECT * FROM try($$SELECT repmgr.primary_register(0, 'node1', 'host=x')$$);
SELECT * FROM try($$SELECT repmgr.primary_register(-3, 'node1', 'host=x')$$);
SELECT * FROM try($$SELECT repmgr.primary_register(1, NULL, 'host=x')$$);
SELECT * FROM try($$SELECT repmgr.primary_register(1, '', 'host=x')$$);
SELECT * FROM try($$SELECT repmgr.primary_register(1, repeat('n', 64), 'host=x')$$);
SELECT * FROM try($$SELECT repmgr.primary_register(1, E'node\n1', 'host=x')$$);
SELECT * FROM try($$SELECT repmgr.primary_register(1, 'nöde', 'host=x')$$);
SELECT * FROM try($$SELECT repmgr.primary_register(1, 'node1', NULL)$$);
SELECT * FROM try($$SELECT repmgr.primary_register(1, 'node1', '')$$);
SELECT * FROM try($$SELECT repmgr.primary_register(1, 'node1', 'hots=x')$$);
SELECT * FROM try($$SELECT repmgr.primary_register(1, 'node1', 'host=''x')$$);
-- libpq's reason is given, but not the password it may quote
SELECT repmgr.primary_register(1, 'node1', 'postgresql://repmgr:se%zzcret@node1/repmgr');
SELECT repmgr.primary_register(1, 'node1', 'postgresql://repmgr:secret@[::1/repmgr');
SELECT repmgr.primary_register(1, 'node1', 'host=node1 password=se cret');
SELECT repmgr.primary_register(1, 'node1', 'host=node1 port=5432 x');
SELECT * FROM try($$SELECT repmgr.primary_register(1, 'node1', 'host=x', priority => -1)$$);
SELECT * FROM try($$SELECT repmgr.primary_register(1, 'node1', 'host=x', priority => NULL)$$);
SELECT * FROM try($$SELECT repmgr.primary_register(1, 'node1', 'host=x', location => NULL)$$);
SELECT * FROM try($$SELECT repmgr.primary_register(1, 'node1', 'host=x', location => '')$$);
SELECT * FROM try($$SELECT repmgr.primary_register(1, 'node1', 'host=x', force => NULL)$$);

-- a standby registration on a server that is not in recovery
SELECT * FROM try($$SELECT repmgr.standby_register(2, 'node2', 'host=x')$$);

-- nothing registered, nothing unregistered
SELECT * FROM try($$SELECT repmgr.standby_unregister(5)$$);
SELECT * FROM try($$SELECT repmgr.standby_unregister()$$);
SELECT * FROM try($$SELECT repmgr.standby_unregister(0)$$);
SELECT count(*) AS nodes FROM repmgr.repl_nodes;
SELECT count(*) AS events FROM repmgr.repl_events;

-- the primary
SELECT repmgr.primary_register(1, 'node1', :'conninfo');
SELECT id, type, upstream_node_id, cluster, name, slot_name, priority, location, active
  FROM repmgr.repl_nodes;
SELECT node_id, event, successful, details FROM repmgr.repl_events;

-- again: refused without force, overwritten with it
SELECT * FROM try(format($$SELECT repmgr.primary_register(1, 'node1', %L)$$, :'conninfo'));
SELECT repmgr.primary_register(1, 'node1', :'conninfo', priority => 50, force => true);
SELECT id, name, priority FROM repmgr.repl_nodes;

-- the alias does the same
SELECT repmgr.master_register(1, 'node1', :'conninfo', priority => 100, force => true);

-- another primary, or a name in use
SELECT * FROM try($$SELECT repmgr.primary_register(2, 'node1', 'host=x')$$);
SELECT * FROM try($$SELECT repmgr.primary_register(2, 'node2', 'host=x')$$);

-- standbys registered elsewhere (as a standby's call writes them here)
INSERT INTO repmgr.repl_nodes (id, type, upstream_node_id, cluster, name, conninfo)
VALUES (2, 'standby', 1, 'default', 'node2', :'deadinfo'),
       (3, 'standby', 2, 'default', 'node3', :'deadinfo');

SELECT * FROM try($$SELECT repmgr.standby_unregister(1)$$);
SELECT * FROM try($$SELECT repmgr.standby_unregister(2)$$);
SELECT repmgr.standby_unregister(3);
SELECT repmgr.standby_unregister(node_id => 2);
SELECT id, name FROM repmgr.repl_nodes ORDER BY id;

-- the table's constraints back the checks up
SELECT * FROM try($$INSERT INTO repmgr.repl_nodes (id, type, cluster, name, conninfo) VALUES (7, 'primary', 'c', 'n7', 'x')$$);
SELECT * FROM try($$INSERT INTO repmgr.repl_nodes (id, type, cluster, name, conninfo) VALUES (7, 'master', 'c', 'n7', 'x')$$);
SELECT * FROM try($$INSERT INTO repmgr.repl_nodes (id, type, cluster, name, conninfo) VALUES (7, 'standby', 'c', 'node1', 'x')$$);
SELECT * FROM try($$INSERT INTO repmgr.repl_nodes (id, type, cluster, name, conninfo, priority) VALUES (7, 'standby', 'c', 'n7', 'x', -1)$$);
SELECT * FROM try($$INSERT INTO repmgr.repl_nodes (id, type, cluster, name, conninfo, upstream_node_id) VALUES (7, 'standby', 'c', 'n7', 'x', 99)$$);
SELECT * FROM try($$INSERT INTO repmgr.repl_nodes (id, type, cluster, name, conninfo, upstream_node_id) VALUES (7, 'standby', 'c', 'n7', 'x', 7)$$);
SELECT * FROM try($$INSERT INTO repmgr.repl_nodes (id, type, cluster, name, conninfo) VALUES (0, 'standby', 'c', 'n7', 'x')$$);

-- a witness must be a separate instance, and its primary reachable
SELECT * FROM try(format($$SELECT repmgr.witness_register(9, 'witness', 'host=x', %L)$$, :'conninfo'));
SELECT * FROM try(format($$SELECT repmgr.witness_register(9, 'witness', 'host=x', %L)$$, :'deadinfo'));
SELECT * FROM try($$SELECT repmgr.witness_register(9, 'witness', 'host=x', 'bad=x')$$);
SELECT * FROM try($$SELECT repmgr.witness_register(9, 'witness', 'host=x', NULL)$$);

-- none of the refused calls changed anything
SELECT id, name FROM repmgr.repl_nodes ORDER BY id;
SELECT event, count(*) FROM repmgr.repl_events GROUP BY event ORDER BY event;

-- each event ran the notification command, with its placeholders
SELECT wait_for_lines('notify.out', 5);
SELECT line FROM regexp_split_to_table(rtrim(pg_read_file('notify.out'), E'\n'), E'\n') AS line
 ORDER BY line;

-- a node name cannot inject a command into the notification
INSERT INTO repmgr.repl_nodes (id, type, upstream_node_id, cluster, name, conninfo)
VALUES (4, 'standby', 1, 'default', 'x$(touch injected)";touch injected;''`touch injected`', :'deadinfo');
SELECT repmgr.standby_unregister(4);
SELECT wait_for_lines('notify.out', 6);
SELECT line FROM regexp_split_to_table(rtrim(pg_read_file('notify.out'), E'\n'), E'\n') AS line
 WHERE line LIKE '4|%';
SELECT pg_stat_file('injected', true) IS NULL AS not_injected;
