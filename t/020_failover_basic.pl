# Automatic failover: kill -9 of the primary with two standbys.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;
use Time::HiRes qw(time);

my $node1 = new_primary('node1', 1);
register_primary($node1, 1);
my $node2 = new_standby($node1, 'node2', 2);
my $node3 = new_standby($node1, 'node3', 3);
register_standby($node2, 2);
register_standby($node3, 3);

foreach my $n ($node1, $node2, $node3)
{
	ok($n->poll_query_until('repmgr', "SELECT state LIKE 'monitoring%' FROM repmgr.daemon_status()"),
		$n->name . ': worker monitoring');
}

$node1->safe_psql('repmgr', 'CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 100)');
$node1->wait_for_catchup($node2);
$node1->wait_for_catchup($node3);

my $t0 = time();
$node1->kill9;
ok($node2->poll_query_until('repmgr', 'SELECT NOT pg_is_in_recovery()'), 'node2 promoted');
my $elapsed = time() - $t0;
diag("failover took ${elapsed}s");
ok($node3->poll_query_until('postgres',
		"SELECT status = 'streaming' AND sender_port = " . $node2->port . " FROM pg_stat_wal_receiver"),
	'node3 streams from node2');
$node2->safe_psql('repmgr', 'INSERT INTO t VALUES (101)');
ok($node3->poll_query_until('repmgr', 'SELECT count(*) = 101 FROM t'), 'node3 replays writes of node2');
print $node2->safe_psql('repmgr', 'SELECT * FROM repmgr.cluster_show()'), "\n";
print $node2->safe_psql('repmgr', 'SELECT * FROM repmgr.cluster_event()'), "\n";

done_testing();
