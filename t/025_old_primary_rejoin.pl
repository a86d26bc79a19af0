# The old primary restarted after an automatic failover: it refuses writes
# from its first moment, finds the newer primary and stays fenced, and
# "repmgr node rejoin --force-rewind" brings it back as a standby.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrCli;
use RepmgrTest;
use Test::More;

my %auto = (conf => { 'repmgr.failover' => 'automatic' });
my ($node1, $conf1) = cli_primary('node1', 1, %auto);
repmgr_ok('node1 registered', '-f', $conf1, 'primary', 'register');
my ($node2, $conf2) = cli_clone($node1, 'node2', 2);
my ($node3, $conf3) = cli_clone($node1, 'node3', 3);
repmgr_ok('node2 registered', '-f', $conf2, 'standby', 'register');
repmgr_ok('node3 registered', '-f', $conf3, 'standby', 'register');
foreach my $n ($node1, $node2, $node3)
{
	$n->append_conf('postgresql.conf', "repmgr.failover = 'automatic'");
	$n->reload;
	ok(wait_worker_state($n, 30, 'monitoring as primary', 'monitoring upstream'),
		$n->name . ': worker monitoring');
}
ok($node1->poll_query_until('repmgr', "SELECT setting = 'automatic' FROM pg_settings WHERE name = 'repmgr.failover'"),
	'automatic failover everywhere');

# writes the standbys never get: the old primary diverges
$node1->safe_psql('repmgr', 'CREATE TABLE t (x int); INSERT INTO t VALUES (1)');
$node1->wait_for_catchup($node2);
$node1->wait_for_catchup($node3);
$node1->kill9;
ok($node2->poll_query_until('repmgr', 'SELECT NOT pg_is_in_recovery()'), 'node2 promoted');
ok($node3->poll_query_until('postgres',
		"SELECT sender_port = " . $node2->port . " FROM pg_stat_wal_receiver"), 'node3 follows node2');
$node2->safe_psql('repmgr', 'INSERT INTO t VALUES (2)');

# the old primary comes back
start_after_kill($node1);
my ($ret, $out, $err) = $node1->psql('repmgr', 'INSERT INTO t VALUES (3)');
isnt($ret, 0, 'the old primary refuses a write from its first moment');
like($err, qr/cannot commit: this primary \(node 1\) is fenced|read-only transaction/,
	'... because it is fenced (its sessions are read-only)');
ok($node1->poll_query_until('repmgr', 'SELECT fenced FROM repmgr.daemon_status()'),
	'its worker finds the newer primary and fences it for good');
is($node1->safe_psql('repmgr', 'SELECT state FROM repmgr.daemon_status()'), 'fenced',
	'daemon_status says fenced');
($ret, $out, $err) = $node1->psql('repmgr', 'INSERT INTO t VALUES (4)');
isnt($ret, 0, 'still no writes');
is($node2->safe_psql('repmgr', 'SELECT status FROM repmgr.cluster_show() WHERE id = 1'),
	'! running (fenced)', 'cluster_show shows it fenced');
like(repmgr_ok('node check on the old primary', '-f', $conf1, 'node', 'check'),
	qr/fence/i, 'node check reports the fence');

# node rejoin
$node1->stop('fast');
my $rejoin = repmgr_ok('node rejoin --force-rewind', '-f', $conf1, 'node', 'rejoin',
	'-d', cli_conninfo($node2), '--force-rewind');
sync_pids($node1);
ok($node1->poll_query_until('repmgr', 'SELECT pg_is_in_recovery()'), 'node1 runs as a standby');
ok($node1->poll_query_until('repmgr', 'SELECT count(*) = 2 AND max(x) = 2 FROM t'),
	'node1 has the new primary\'s data, not its own lost writes');
ok($node1->poll_query_until('repmgr', "SELECT NOT fenced AND state = 'monitoring upstream' FROM repmgr.daemon_status()"),
	'the fence is lifted: node1 monitors its upstream');
ok($node2->poll_query_until('repmgr',
		"SELECT string_agg(id || ':' || status || ':' || coalesce(upstream, ''), ',' ORDER BY id) = '1:running:node2,2:* running:,3:running:node2' FROM repmgr.cluster_show()"),
	'cluster_show: node2 primary, node1 and node3 its standbys');

done_testing();
