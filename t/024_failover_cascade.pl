# Cascading replication: a standby whose upstream (a standby) dies follows
# that node's upstream; when the primary dies, a cascaded standby stays
# with its upstream, which is promoted.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

# node1 -> node2 -> node3, and node1 -> node4
my $node1 = new_primary('node1', 1);
register_primary($node1, 1);
my $node2 = new_standby($node1, 'node2', 2);
register_standby($node2, 2);
my $node3 = new_standby($node2, 'node3', 3);
register_standby($node3, 3, upstream_node_id => 2);
my $node4 = new_standby($node1, 'node4', 4);
register_standby($node4, 4, priority => 50);
foreach my $n ($node1, $node2, $node3, $node4)
{
	ok(wait_worker_state($n, 30, 'monitoring as primary', 'monitoring upstream'),
		$n->name . ': worker monitoring');
}
is($node3->safe_psql('repmgr', 'SELECT upstream_node_id FROM repmgr.daemon_status()'), '2',
	'node3 watches node2, its upstream');
is($node3->safe_psql('repmgr', 'SELECT upstream_node_id FROM repmgr.node_state()'), '2',
	'node_state() tells peers that node3 cascades from node2');
is($node1->safe_psql('repmgr', 'SELECT upstream_node_id IS NULL FROM repmgr.node_state()'), 't',
	'node_state() of the primary names no upstream');

# the primary dies: node2 is promoted; node3 stays with node2
$node1->safe_psql('repmgr', 'CREATE TABLE t (x int)');
$node1->wait_for_catchup($node2);
$node1->wait_for_catchup($node4);
$node2->wait_for_catchup($node3, 'replay', $node1->lsn('insert'));
my $receiver3 = $node3->safe_psql('postgres', 'SELECT pid FROM pg_stat_wal_receiver');
$node1->kill9;
ok($node2->poll_query_until('repmgr', 'SELECT NOT pg_is_in_recovery()'), 'node2 promoted');
ok($node4->poll_query_until('postgres',
		"SELECT status = 'streaming' AND sender_port = " . $node2->port . ' FROM pg_stat_wal_receiver'),
	'node4 follows node2');
$node2->safe_psql('repmgr', 'INSERT INTO t VALUES (1)');
ok($node3->poll_query_until('repmgr', 'SELECT count(*) = 1 FROM t'), 'node3 replays the new primary through node2');
is($node3->safe_psql('postgres', 'SELECT sender_port FROM pg_stat_wal_receiver'), $node2->port,
	'node3 still streams from node2');
is($node3->safe_psql('repmgr', "SELECT count(*) FROM repmgr.repl_events WHERE node_id = 3 AND event LIKE '%follow'"),
	'0', 'node3 did not re-point');

# (the new primary counts its direct standbys toward the end of the
# transition it begins in; node3 moving under node4 before that would
# leave it one short of the two it needs, and node4's death below would
# then cost it the strict majority of that transition)
ok(poll_until('the new primary\'s transition ended', 30,
		sub { slurp_file($node2->logfile) =~ /the membership of 4 nodes has reached a majority/ }),
	'the new primary\'s membership reached its standbys');

# the middle node dies: node3 (upstream node4 now) ... make node4 the middle
is($node3->safe_psql('repmgr', 'SELECT repmgr.follow(4)'), '4', 'node3 cascades from node4');
ok($node4->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = 'node3'"),
	'node3 streams from node4');
ok($node3->poll_query_until('repmgr', 'SELECT upstream_node_id = 4 FROM repmgr.daemon_status()'),
	'node3 watches node4');
$node4->kill9;
ok($node3->poll_query_until('postgres',
		"SELECT status = 'streaming' AND sender_port = " . $node2->port . ' FROM pg_stat_wal_receiver'),
	'node4 dead: node3 follows node4\'s upstream, node2');
is($node2->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 'f', 'node2 is still the primary');
is($node3->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 't', 'node3 was not promoted');
ok($node2->poll_query_until('repmgr',
		"SELECT count(*) = 1 FROM repmgr.repl_events WHERE node_id = 3 AND event = 'repmgrd_failover_follow' AND details = 'node 3 now following new upstream node 2'"),
	'repmgrd_failover_follow recorded');

done_testing();
