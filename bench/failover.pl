# bench/failover.pl — automatic failover after kill -9 of the primary.
#
# What: on a fresh cluster of a primary and two standbys (workers
# automatic) for each run, with bench/prober committing a row every 5 ms
# through a multi-host target_session_attrs=read-write connection:
#   - write unavailability: kill -9 of the primary -> first write
#     acknowledged by the new primary (prober timestamps, CLOCK_MONOTONIC);
#     also the gap from the last write acknowledged by the old primary;
#   - acknowledged writes lost: prober writes acknowledged but missing on
#     the new primary;
#   - follow: kill -9 -> the other standby streams from the new primary
#     (pg_stat_wal_receiver polled every 5 ms).
# In five configurations: defaults / tight settings, each asynchronous and
# with synchronous replication (synchronous_standby_names = 'ANY 1 (both
# standbys)' written by hand), and the defaults with repmgr.synchronous = on
# (the same ANY 1, managed by the worker).  BENCH_RUNS runs each (default 5).
#
# Before the failovers, a "tight" cluster is left alone for 60 s idle and
# 30 s under pgbench load: any election there would be a false failover.
#
# Targets (issue 5): median under 5 s at the defaults, under 1 s at the
# tight settings, no acknowledged write lost with synchronous replication.
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

my $runs = runs(5);
my $rawdir = PostgreSQL::Test::Utils::tempdir();
my %result = (runs => $runs, configs => []);

# ---- no false failover at the tight settings: idle, then under load
{
	my @nodes = make_cluster('idle', 2, conf => settings_of('tight'));
	my $t0 = mono_ms();
	my $idle_s = $ENV{BENCH_IDLE_S} // 60;
	progress("tight settings: idle for $idle_s s");
	poll_every(1000, $idle_s, sub { elections_total(@nodes) > 0 });
	my $idle_elections = elections_total(@nodes);
	progress("tight settings: pgbench -c 4 for 30 s");
	my $p = $nodes[0];
	$p->safe_psql('postgres', 'CREATE DATABASE bench');
	my ($o1, $e1, $o2, $e2);
	IPC::Run::run([ 'pgbench', '-i', '-q', '-s', '5', '-h', $p->host, '-p', $p->port, 'bench' ],
		'>', \$o1, '2>', \$e1) or die "pgbench -i: $e1";
	IPC::Run::run([ 'pgbench', '-n', '-c', '4', '-j', '2', '-T', '30', '-h', $p->host, '-p', $p->port, 'bench' ],
		'>', \$o2, '2>', \$e2) or die "pgbench: $e2";
	my ($tps) = $o2 =~ /tps = ([\d.]+)/;
	my $load_elections = elections_total(@nodes) - $idle_elections;
	my $failures = 0;
	$failures += $_->safe_psql('repmgr', 'SELECT upstream_failures FROM repmgr.daemon_status()')
	  foreach @nodes;
	$result{false_failover_check} = {
		settings => 'tight', idle_s => $idle_s, idle_elections => $idle_elections,
		load_s => 30, load_tps => $tps, load_elections => $load_elections,
		upstream_failures => $failures,
	};
	progress("tight settings: elections idle $idle_elections, under load $load_elections; "
		  . "upstream failures $failures; pgbench $tps tps");
	destroy_cluster(@nodes);
}

# ---- the failovers
my @configs = (
	[ 'defaults', 0 ], [ 'defaults', 1 ], [ 'defaults', 'on' ], [ 'tight', 0 ], [ 'tight', 1 ]);
# "-async", "-sync" (by hand) or "-on" (repmgr.synchronous)
sub sync_label { my ($sync) = @_; return !$sync ? '-async' : $sync eq 'on' ? '-on' : '-sync'; }
if ($ENV{BENCH_FAILOVER_CONFIGS})
{
	my %want = map { $_ => 1 } split /[ ,]+/, $ENV{BENCH_FAILOVER_CONFIGS};
	@configs = grep { $want{ $_->[0] . sync_label($_->[1]) } } @configs;
}
foreach my $c (@configs)
{
	my ($settings, $sync) = @$c;
	my $label = $settings . sync_label($sync);
	my @r;
	for my $run (1 .. $runs)
	{
		my $prefix = substr($settings, 0, 1) . substr(sync_label($sync), 1, 1) . "r$run";
		my $f = run_failover($prefix, settings => $settings, sync => $sync, rawdir => $rawdir);
		progress(sprintf('%s run %d: %s promoted; unavailable %d ms (gap %d ms), '
				  . 'promote seen %d ms, follow %d ms, %d acked, %d lost',
				$label, $run, $f->{promoted}, $f->{unavailable_ms}, $f->{gap_ms},
				$f->{promote_ms}, $f->{follow_ms}, $f->{acked}, $f->{lost}));
		push @r, $f;
	}
	push @{ $result{configs} }, {
		label => $label, settings => $settings, sync => $sync,
		settings_values => settings_of($settings),
		timing => $r[0]{timing},
		runs => \@r,
		unavailable_ms => stats(map { $_->{unavailable_ms} } @r),
		gap_ms => stats(map { $_->{gap_ms} } @r),
		promote_ms => stats(map { $_->{promote_ms} } @r),
		follow_ms => stats(map { $_->{follow_ms} } @r),
		lost => stats(map { $_->{lost} } @r),
		acked => stats(map { $_->{acked} } @r),
	};
}

write_result('failover', \%result);
ok(1, 'failover benchmark done');
done_testing();
