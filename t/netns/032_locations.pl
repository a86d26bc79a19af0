# Two locations: dc1 has the primary and a standby, dc2 two standbys.
# Cutting dc2 off does not promote anything there (2 of 4 is no
# majority), and the primary keeps accepting writes (its side is not
# outnumbered).  Healed, dc2 goes back to normal monitoring.
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

my %o = (test => '032');
my $n1 = NetnsCluster->new('node1', 1, %o)->init_primary(1);
$n1->register_primary(location => 'dc1');
my $n2 = NetnsCluster->new('node2', 2, %o)->init_standby($n1, 2);
$n2->register_standby(location => 'dc1');
my $n3 = NetnsCluster->new('node3', 3, %o)->init_standby($n1, 3);
$n3->register_standby(location => 'dc2');
my $n4 = NetnsCluster->new('node4', 4, %o)->init_standby($n1, 4);
$n4->register_standby(location => 'dc2');
foreach my $n ($n1, $n2, $n3, $n4)
{
	ok($n->wait_worker_state('monitoring as primary', 'monitoring upstream'), $n->name . ' monitors');
}

# cut dc2 from dc1
foreach my $a ($n1, $n2)
{
	$a->block_path($_) foreach ($n3, $n4);
}

foreach my $n ($n3, $n4)
{
	ok(poll_until('the refusal of ' . $n->name, 60,
			sub { slurp_file($n->logfile) =~ /only 2 of 4 nodes are visible from location "dc2"; the primary's location is "dc1" and a majority is 3: not promoting/ }),
		$n->name . ' (dc2) sees 2 of 4 nodes and does not promote');
	is($n->safe_psql('SELECT pg_is_in_recovery()'), 't', $n->name . ' is still a standby');
	is($n->safe_psql('SELECT state FROM repmgr.daemon_status()'), 'degraded monitoring',
		$n->name . ' is in degraded monitoring');
}
is($n1->safe_psql('SELECT state FROM repmgr.daemon_status()'), 'monitoring as primary',
	'the primary is not fenced: half the cluster is with it');
$n1->safe_psql('CREATE TABLE during_cut (x int); INSERT INTO during_cut VALUES (1)');
pass('the primary accepts writes during the cut');
is($n2->safe_psql('SELECT pg_is_in_recovery()'), 't', 'node2 (dc1) is still a standby');

# heal
foreach my $a ($n1, $n2)
{
	$a->unblock_path($_) foreach ($n3, $n4);
}
foreach my $n ($n3, $n4)
{
	ok($n->wait_worker_state('monitoring upstream'), $n->name . ' monitors again');
	ok($n->poll_query_until("SELECT count(*) = 1 FROM pg_tables WHERE tablename = 'during_cut'"),
		$n->name . ' has the writes made during the cut');
}
is($n1->safe_psql("SELECT count(*) FROM repmgr.repl_events WHERE event IN ('standby_promote', 'repmgrd_failover_promote')"),
	'0', 'no promotion anywhere');

done_testing();
