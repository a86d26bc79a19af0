# Who is promoted: among equal LSNs the higher priority; never a node with
# priority 0, never a node with repmgr.failover = manual.
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
like(slurp_file($node4->logfile), qr/failover is manual/, 'node4 (manual) said it would not promote');

done_testing();
