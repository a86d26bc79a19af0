# A primary that still reaches a majority never refuses a commit: one of
# three standbys, then the witness, is cut off for 15 s while a client next
# to the primary commits every 10 ms, at the default settings and then at
# the tight ones (monitor_interval 100 ms, connect_timeout 250 ms).  The
# heartbeats to the cut node time out every round; the lease must be
# renewed by the others' acknowledgements as they arrive, not at the end of
# the round.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/..";
use NetnsCluster;
use PostgreSQL::Test::Utils;
use RepmgrTest qw(prober_results poll_until);
use Test::More;
use Time::HiRes qw(time);

if (my $why = netns_available()) { plan skip_all => $why; }
netns_setup();

my %o = (test => '035');
my $n1 = NetnsCluster->new('node1', 1, %o)->init_primary(1);
$n1->register_primary;
my @s;
foreach my $i (2 .. 4)
{
	my $n = NetnsCluster->new("node$i", $i, %o)->init_standby($n1, $i);
	$n->register_standby;
	push @s, $n;
}
my $w = NetnsCluster->new('witness', 5, %o)->init_witness($n1, 5);
foreach my $n ($n1, @s, $w)
{
	ok($n->wait_worker_state('monitoring as primary', 'monitoring upstream', 'monitoring as witness'),
		$n->name . ' monitors');
	ok($n->poll_query_until('SELECT count(*) = 5 FROM repmgr.repl_nodes'), $n->name . ' knows the five nodes');
}

my $user = $ENV{REPMGR_TEST_USER} // 'repmgrtest';
my %tight = ('repmgr.monitor_interval' => '100ms', 'repmgr.connect_timeout' => '250ms',
	'repmgr.reconnect_attempts' => 2, 'repmgr.reconnect_interval' => '100ms');

foreach my $settings ('defaults', 'tight')
{
	if ($settings eq 'tight')
	{
		foreach my $n ($n1, @s, $w)
		{
			$n->safe_psql("ALTER SYSTEM SET $_ = '$tight{$_}'") foreach sort keys %tight;
			$n->safe_psql('SELECT pg_reload_conf()');
		}
		ok($n1->poll_query_until("SELECT milliseconds = 400 FROM repmgr.failover_timing() WHERE name = 'lease'"),
			'the tight settings are in force on the primary');
	}
	foreach my $cut ($s[2], $w)
	{
		my $what = "$settings, " . $cut->name . ' cut';
		my $local = NetnsCluster::start_prober("host=127.0.0.1 port=5432 dbname=repmgr connect_timeout=1 user=$user",
			tag => "local_${settings}_" . $cut->name, ns => $n1, interval => 10);
		ok(poll_until('the prober writes', 30, sub {
			scalar(grep { $_->{ok} } prober_results($local->{out})) >= 20 }),
			"$what: a client next to node1 writes");

		$cut->isolate;
		my $t0 = time();
		# the cut node notices, and must not be able to fail over alone
		ok($cut->poll_query_until(
			"SELECT state IN ('upstream suspect', 'degraded monitoring') FROM repmgr.daemon_status()", local => 1),
			"$what: the cut node has lost the primary");
		ok(poll_until('15 s with one node cut off', 30, sub { time() - $t0 >= 15 }), "$what: 15 s passed");
		$cut->heal;
		ok($cut->poll_query_until(
			"SELECT state IN ('monitoring upstream', 'monitoring as witness') FROM repmgr.daemon_status()"),
			"$what: the cut node monitors its primary again");

		$local->{handle}->signal('TERM');
		$local->{handle}->finish;
		my @rows = prober_results($local->{out});
		my @fenced = grep { !$_->{ok} && ($_->{node} // '') =~ /fenced/ } @rows;
		my @ok = grep { $_->{ok} } @rows;
		# the longest time without an acknowledged write (prober clock, ms):
		# a client that kept writing, not how fast (that depends on the load)
		my $longest = 0;
		$longest = ($ok[$_]{end} - $ok[$_ - 1]{end} > $longest) ? $ok[$_]{end} - $ok[$_ - 1]{end} : $longest
		  foreach 1 .. $#ok;
		diag(sprintf('%s: %d writes acknowledged, %d refused as fenced, %d other failures, longest gap %d ms',
			$what, scalar(@ok), scalar(@fenced), scalar(@rows) - scalar(@ok) - scalar(@fenced), $longest));
		is(scalar(@fenced), 0, "$what: no commit refused as fenced while node1 reached a majority");
		is(scalar(@rows) - scalar(@ok), 0, "$what: no write failed");
		cmp_ok($ok[-1]{end} - $ok[0]{end}, '>=', 15000, "$what: the client wrote for the whole cut");
		cmp_ok($longest, '<', 2000, "$what: the client kept writing (never 2 s without a commit)");
		is($n1->safe_psql('SELECT pg_is_in_recovery()'), 'f', "$what: node1 is still the primary");
	}
}

done_testing();
