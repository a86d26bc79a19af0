# repmgr.promote() and repmgr.follow() from psql: refusals while the primary
# runs, promotion of a standby, re-pointing of the other standby without a
# restart, the metadata and events, and node_check() on each node.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

# the workers must not fail over on their own here
my %manual = (conf => { 'repmgr.failover' => 'manual' });
my $node1 = new_primary('node1', 1, %manual);
register_primary($node1, 1);
my $node2 = new_standby($node1, 'node2', 2, %manual);
my $node3 = new_standby($node1, 'node3', 3, %manual);
register_standby($node2, 2);
register_standby($node3, 3, slot_name => 'repmgr_slot_3');
$node1->safe_psql('repmgr', "SELECT pg_create_physical_replication_slot('repmgr_slot_3')");

my ($state, $msg) = sql_error($node2, 'SELECT repmgr.promote()');
is($state, '55000', 'promote refused while the primary runs');
like($msg, qr/node 1 \("node1"\) is running as primary/, '... naming the primary');
($state, $msg) = sql_error($node1, 'SELECT repmgr.promote()');
is($state, '55000', 'promote refused on the primary');
($state, $msg) = sql_error($node1, 'SELECT repmgr.follow()');
is($state, '55000', 'follow refused on the primary');
($state, $msg) = sql_error($node2, 'SELECT repmgr.follow(2)');
is($state, '22023', 'a node cannot follow itself');
($state, $msg) = sql_error($node2, 'SELECT repmgr.follow(99)');
is($state, '42704', 'an unknown upstream is refused');

# node_check on a healthy cluster
is($node1->safe_psql('repmgr', "SELECT status FROM repmgr.node_check() WHERE name = 'downstream'"),
	'OK', 'primary: downstream nodes attached');
is($node2->safe_psql('repmgr', "SELECT string_agg(name || '=' || status, ',' ORDER BY name) FROM repmgr.node_check() WHERE name IN ('role', 'upstream', 'replication_lag')"),
	'replication_lag=OK,role=OK,upstream=OK', 'standby: role, upstream and lag are OK');

# node3 follows node2 (cascading) and back, without a restart
my $pid3 = $node3->safe_psql('postgres', 'SELECT pg_backend_pid()');
my $postmaster3 = $node3->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'");
is($node3->safe_psql('repmgr', 'SELECT repmgr.follow(2)'), '2', 'node3 follows node2');
ok($node2->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = 'node3' AND state = 'streaming'"),
	'node3 streams from node2');
ok($node2->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name = 'repmgr_slot_3' AND active"),
	'... through its slot, created on node2');
is($node3->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'"),
	$postmaster3, 'node3 was not restarted');
is($node1->safe_psql('repmgr', 'SELECT upstream_node_id FROM repmgr.repl_nodes WHERE id = 3'),
	'2', 'metadata: node3 upstream is node2');
is($node3->safe_psql('repmgr', 'SELECT repmgr.follow()'), '1', 'node3 follows the primary again');
ok($node1->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = 'node3' AND state = 'streaming'"),
	'node3 streams from node1');

# the primary dies: node2 is promoted, node3 follows it, all by hand (the
# workers are paused: in manual mode they still follow a new primary, and
# the events below are those of the SQL calls)
$node1->safe_psql('repmgr', 'SELECT * FROM repmgr.daemon_pause()');
ok($node3->poll_query_until('repmgr', 'SELECT paused FROM repmgr.daemon_status()'), 'the workers are paused');
$node1->safe_psql('repmgr', 'CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 100)');
$node1->wait_for_catchup($node2);
$node1->wait_for_catchup($node3);
$node1->stop('immediate');

is($node2->safe_psql('repmgr', 'SELECT repmgr.promote()'), '2', 'node2 promoted');
is($node2->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 'f', 'node2 accepts writes');
is($node2->safe_psql('repmgr', 'SELECT id, type, upstream_node_id, active FROM repmgr.repl_nodes WHERE id IN (1, 2) ORDER BY id'),
	"1|primary||f\n2|primary||t", 'metadata: node2 primary, node1 inactive');
is($node2->safe_psql('repmgr', 'SELECT term FROM repmgr.node_state()'), '1', 'promotion started term 1');
is($node2->safe_psql('repmgr', "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'repmgr_slot_3'"),
	'1', 'the slot of node3 exists on the new primary');

($state, $msg) = sql_error($node3, 'SELECT repmgr.promote()');
is($state, '55000', 'a second promotion is refused');
like($msg, qr/node 2 \("node2"\) is running as primary/, '... because node2 is primary');

is($node3->safe_psql('repmgr', 'SELECT repmgr.follow()'), '2', 'node3 follows the new primary');
$node2->safe_psql('repmgr', 'INSERT INTO t VALUES (101)');
ok($node3->poll_query_until('repmgr', 'SELECT count(*) = 101 FROM t'), 'node3 replays from node2');
ok($node3->poll_query_until('repmgr', 'SELECT upstream_node_id = 2 FROM repmgr.repl_nodes WHERE id = 3'),
	'metadata: node3 upstream is node2');
is($node3->safe_psql('repmgr',
		"SELECT string_agg(event || ': ' || details, E'\\n' ORDER BY event_timestamp) FROM repmgr.repl_events WHERE event IN ('standby_promote', 'standby_follow')"),
	"standby_follow: node 3 is now attached to node 2\nstandby_follow: node 3 is now attached to node 1\nstandby_promote: node 2 was successfully promoted to primary\nstandby_follow: node 3 is now attached to node 2",
	'events of promote and follow');
is($node2->safe_psql('repmgr', 'SELECT id, status FROM repmgr.cluster_show() ORDER BY id'),
	"1|- failed\n2|* running\n3|running", 'cluster_show after the failover');

done_testing();
