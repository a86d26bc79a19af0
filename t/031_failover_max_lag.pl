# repmgr.failover_max_lag (asynchronous replication): the primary's
# heartbeat carries its flush position; a standby that stopped receiving
# WAL and is more than failover_max_lag behind the last position heard is
# not promoted when the primary dies, and says why; with the limit lifted
# (a reload) it is.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

my %conf = (conf => {
	'repmgr.monitor_interval' => '200ms',
	'repmgr.reconnect_interval' => '250ms',
	'repmgr.reconnect_attempts' => '2',
	'repmgr.failover_max_lag' => '1MB',
});

my $p = new_primary('p', 1, %conf);
register_primary($p, 1);
my $s1 = new_standby($p, 's1', 2, %conf);
register_standby($s1, 2);
my $w = new_witness($p, 'w', 3, %conf);
foreach my $n ($p, $s1, $w)
{
	ok(wait_worker_state($n, 30, 'monitoring as primary', 'monitoring upstream', 'monitoring as witness'),
		$n->name . ': worker monitoring');
}

# s1 stops receiving WAL; the primary writes more than 1 MB
$s1->safe_psql('postgres', "ALTER SYSTEM SET primary_conninfo = ''");
$s1->reload;
ok($p->poll_query_until('repmgr', "SELECT count(*) = 0 FROM pg_stat_replication WHERE application_name = 's1'"),
	's1 no longer streams');
$p->safe_psql('repmgr', "CREATE TABLE big AS SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, 4000) g");
my $lsn = $p->safe_psql('repmgr', 'SELECT pg_current_wal_flush_lsn()');
# heartbeats run every 200 ms: let the primary's worker run a few more rounds
my $loops = $p->safe_psql('repmgr', 'SELECT loops FROM repmgr.daemon_status()');
ok($p->poll_query_until('repmgr', "SELECT loops > $loops + 10 FROM repmgr.daemon_status()"),
	'the primary sent more heartbeats');
ok($s1->safe_psql('repmgr', "SELECT pg_wal_lsn_diff('$lsn', pg_last_wal_receive_lsn()) > 1048576") eq 't',
	's1 is more than 1 MB behind');

$p->kill9;
ok($s1->poll_query_until('repmgr',
		"SELECT last_error LIKE 'the best candidate, node 2, is more than repmgr.failover_max_lag (1048576 bytes) behind%' FROM repmgr.daemon_status()"),
	'no promotion: the candidate is more than failover_max_lag behind, the reason in daemon_status()');
diag($s1->safe_psql('repmgr', 'SELECT last_error FROM repmgr.daemon_status()'));
$loops = $s1->safe_psql('repmgr', 'SELECT loops FROM repmgr.daemon_status()');
ok($s1->poll_query_until('repmgr', "SELECT loops > $loops + 50 FROM repmgr.daemon_status()"),
	's1 decided again many times');
is($s1->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 't', 's1 is not promoted');

# the operator accepts the loss: the limit lifted, the failover proceeds
$s1->safe_psql('postgres', 'ALTER SYSTEM SET repmgr.failover_max_lag = -1');
$s1->reload;
ok($s1->poll_query_until('repmgr', 'SELECT NOT pg_is_in_recovery()'),
	'with failover_max_lag off, s1 is promoted');

done_testing();
