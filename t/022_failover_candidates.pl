# Who is promoted: among equal LSNs the higher priority; never a node with
# priority 0, never a node with repmgr.failover = manual (which says so).
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

my $node1 = new_primary('node1', 1);
register_primary($node1, 1);
my $node2 = new_standby($node1, 'node2', 2);
my $node3 = new_standby($node1, 'node3', 3);
my $node4 = new_standby($node1, 'node4', 4, conf => { 'repmgr.failover' => 'manual' });
my $node5 = new_standby($node1, 'node5', 5);
register_standby($node2, 2, priority => 0);
register_standby($node3, 3, priority => 50);
register_standby($node4, 4, priority => 200);
register_standby($node5, 5, priority => 100);
foreach my $n ($node1, $node2, $node3, $node4, $node5)
{
	ok(wait_worker_state($n, 30, 'monitoring as primary', 'monitoring upstream'),
		$n->name . ': worker monitoring');
}

# all standbys at the same position
$node1->safe_psql('repmgr', 'CREATE TABLE t (x int); INSERT INTO t VALUES (1)');
$node1->wait_for_catchup($_) foreach ($node2, $node3, $node4, $node5);
$node1->safe_psql('postgres', 'CHECKPOINT');
$node1->wait_for_catchup($_) foreach ($node2, $node3, $node4, $node5);

$node1->kill9;
ok($node5->poll_query_until('repmgr', 'SELECT NOT pg_is_in_recovery()'),
	'node5 promoted: the highest priority among the nodes allowed');
foreach my $n ($node2, $node3, $node4)
{
	ok($n->poll_query_until('postgres',
			"SELECT status = 'streaming' AND sender_port = " . $node5->port . ' FROM pg_stat_wal_receiver'),
		$n->name . ' follows node5');
	is($n->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 't', $n->name . ' not promoted');
}
is($node5->safe_psql('repmgr', "SELECT count(*) FROM repmgr.repl_events WHERE event = 'standby_promote'"),
	'1', 'exactly one promotion');
unlike(slurp_file($node4->logfile), qr/node 4 is candidate/, 'node4 (manual) never stood for election');

# The manual node says why it does not promote whenever it decides.  With
# node3 stopped, the only standbys left after the new primary's crash are
# node2 (priority 0) and node4 (manual): nothing may be promoted, and
# node4, once degraded, says it is manual.
$node3->stop;
$node5->kill9;
ok(log_matches($node4, qr/repmgr\.failover is manual: not promoting/),
	'node4 (manual) said it would not promote');
ok(wait_worker_state($node2, 30, 'degraded monitoring'), 'node2 (priority 0) is degraded too');
is($node2->safe_psql('repmgr', 'SELECT pg_is_in_recovery()') . $node4->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'),
	'tt', 'neither priority 0 nor manual was promoted');

done_testing();
