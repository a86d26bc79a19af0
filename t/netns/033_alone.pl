# A standby that alone loses the primary (the others still see it) does
# not promote: it asks the others, and they see the primary.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/..";
use NetnsCluster;
use PostgreSQL::Test::Utils;
use RepmgrTest qw(poll_until);
use Test::More;

if (my $why = netns_available()) { plan skip_all => $why; }
netns_setup();

my %o = (test => '033');
my $n1 = NetnsCluster->new('node1', 1, %o)->init_primary(1);
$n1->register_primary;
my $n2 = NetnsCluster->new('node2', 2, %o)->init_standby($n1, 2);
$n2->register_standby;
my $n3 = NetnsCluster->new('node3', 3, %o)->init_standby($n1, 3);
$n3->register_standby;
foreach my $n ($n1, $n2, $n3)
{
	ok($n->wait_worker_state('monitoring as primary', 'monitoring upstream'), $n->name . ' monitors');
}

# node3 and the primary lose each other; node2 sees both
$n3->block_path($n1);
ok(poll_until('the refusal of node3', 60,
		sub { slurp_file($n3->logfile) =~ /node 2 \("node2"\) can still see the primary node 1: not failing over/ }),
	'node3 asks, node2 still sees the primary: no failover');
is($n3->safe_psql('SELECT pg_is_in_recovery()'), 't', 'node3 is still a standby');
is($n3->safe_psql('SELECT state, term FROM repmgr.daemon_status()'), 'degraded monitoring|0',
	'node3 in degraded monitoring, no election held');
is($n1->safe_psql('SELECT state FROM repmgr.daemon_status()'), 'monitoring as primary',
	'the primary goes on (node2 acknowledges its heartbeats)');
$n1->safe_psql('CREATE TABLE t (x int)');
pass('the primary accepts writes');

$n3->unblock_path($n1);
ok($n3->wait_worker_state('monitoring upstream'), 'node3 monitors again after the path is back');
ok($n3->poll_query_until("SELECT count(*) = 1 FROM pg_tables WHERE tablename = 't'"), 'and catches up');
ok($n1->poll_query_until("SELECT count(*) = 1 FROM repmgr.repl_events WHERE node_id = 3 AND event = 'repmgrd_upstream_reconnect'"),
	'its disconnect and reconnect are recorded');

done_testing();
