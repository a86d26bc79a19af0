# bench/sync_cost.pl — what managing synchronous replication costs the
# primary: pgbench TPS with repmgr.synchronous = on (the primary's worker
# writes synchronous_standby_names) against the same ANY 1 written by hand.
#
# How: two identical clusters, A and B, each a primary and two standbys
# (workers monitoring), synchronous_standby_names = 'ANY 1 (both
# standbys)' written by hand on every node.  Both primaries take pgbench
# (TPC-B-like, scale 5, synchronous_commit = on, -c 2 -j 1) for
# BENCH_PGBENCH_S seconds (15) at the same time, so that both meet the same
# neighbours on a shared machine; ratio = TPS of B / TPS of A, per pair.
#   1. control: BENCH_PAIRS pairs (10) with both written by hand: what the
#      two clusters differ by on their own;
#   2. B is switched to repmgr.synchronous = on (the hand-written value
#      reset; its worker writes ANY 1 of its standbys), and BENCH_PAIRS
#      pairs more.  Before every pair of this phase, both of B's standbys
#      must show sync_state quorum.
# Figure: the median ratio of phase 2 over that of phase 1.  Target (issue
# 15): the management costs nothing measurable (within 1 %, or within the
# noise of the control when that is wider).
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin, "$FindBin::RealBin/../t";
use BenchLib;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

my $pairs = $ENV{BENCH_PAIRS} // ($ENV{BENCH_RUNS} ? $ENV{BENCH_RUNS} : 10);
my $seconds = $ENV{BENCH_PGBENCH_S} // 15;
my $scale = 5;

my @a = make_cluster('sca', 2, sync => 1);
my @b = make_cluster('scb', 2, sync => 1);
foreach my $p ($a[0], $b[0])
{
	$p->safe_psql('postgres', 'CREATE DATABASE bench');
	pgbench_run($p, undef, '-i', '-q', '-s', $scale);
}

# pgbench on both primaries at once; returns (TPS of A, TPS of B)
sub pgbench_run
{
	my ($node, $out, @args) = @_;
	my $o = '';
	my $h = IPC::Run::start([ 'pgbench', '-h', $node->host, '-p', $node->port, @args, 'bench' ],
		'>', $out // \$o, '2>', \my $err);
	return $h if $out;
	$h->finish or die "pgbench @args: $err";
	return $o;
}

sub tps_of
{
	my ($out) = @_;
	my ($tps) = $out =~ /tps = ([\d.]+) \(without initial connection time\)/;
	die "no tps in pgbench output:\n$out" unless defined $tps;
	return $tps;
}

sub pair
{
	my ($oa, $ob) = ('', '');
	my @args = ('-n', '-c', '2', '-j', '1', '-T', $seconds);
	my $ha = pgbench_run($a[0], \$oa, @args);
	my $hb = pgbench_run($b[0], \$ob, @args);
	$_->finish or die 'pgbench failed' foreach ($ha, $hb);
	return (tps_of($oa), tps_of($ob));
}

sub phase
{
	my ($name, $check) = @_;
	my @rows;
	for my $i (1 .. $pairs)
	{
		$check->() if $check;
		my ($ta, $tb) = pair();
		push @rows, { a => $ta, b => $tb, ratio => $tb / $ta };
		progress(sprintf('%s pair %d: A %.0f tps, B %.0f tps, B / A %.4f', $name, $i, $ta, $tb, $tb / $ta));
	}
	return \@rows;
}

my $control = phase('control (both by hand)');

# B: repmgr.synchronous = on, the hand-written value reset on every node
foreach my $n (@b)
{
	$n->safe_psql('postgres', "ALTER SYSTEM SET repmgr.synchronous = 'on'");
	$n->safe_psql('postgres', 'ALTER SYSTEM RESET synchronous_standby_names');
	$n->reload;
}
my $quorum = "SELECT count(*) = 2 FROM pg_stat_replication WHERE sync_state = 'quorum'";
$b[0]->poll_query_until('postgres', $quorum)
  or die "B's worker did not make its standbys synchronous";
my $names = $b[0]->safe_psql('postgres', 'SHOW synchronous_standby_names');
progress("B: repmgr.synchronous = on, synchronous_standby_names = $names");
my $managed = phase('B managed', sub {
	$b[0]->safe_psql('postgres', $quorum) eq 't' or die "B's standbys are not synchronous";
});

my %result = (
	pairs => $pairs, seconds => $seconds, scale => $scale, clients => 2,
	managed_names => $names,
	control => $control, managed => $managed,
	control_ratio => stats(map { $_->{ratio} } @$control),
	managed_ratio => stats(map { $_->{ratio} } @$managed),
	managed_tps => stats(map { $_->{b} } @$managed),
	hand_tps => stats(map { $_->{a} } @$managed),
);
# each managed pair against the control's median: what the management adds
$result{cost_ratio} = stats(map { $_->{ratio} / $result{control_ratio}{median} } @$managed);
progress(sprintf('median B / A: control %.4f, B managed %.4f; managed / control %.4f',
		$result{control_ratio}{median}, $result{managed_ratio}{median}, $result{cost_ratio}{median}));
write_result('sync_cost', \%result);
destroy_cluster(@a, @b);
ok(1, 'sync_cost measured');
done_testing();
