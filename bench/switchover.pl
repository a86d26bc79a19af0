# bench/switchover.pl — write unavailability of "repmgr standby switchover".
#
# What: a primary and two standbys made with the repmgr tool (as in
# t/103_cli_switchover.pl; the workers run with repmgr.failover=automatic),
# bench/prober committing a row every 5 ms through a multi-host
# target_session_attrs=read-write connection, then
#     repmgr -f <standby>.conf -C <primary>.conf --siblings-follow standby switchover
# back and forth between node1 and node2 (node3 follows each time),
# BENCH_RUNS times (default 6: three each way).  For each switchover:
#   - write unavailability: last write acknowledged by the old primary ->
#     first write acknowledged by the new one (prober timestamps);
#   - the duration of the command;
#   - the acknowledged writes missing on the new primary (should be none).
# Between switchovers it waits until both standbys stream from the new
# primary and the prober has committed 100 writes there.
#
# Target (issue 6): under 200 ms (measured elsewhere: repmgr 5.3 about
# 210 ms, pg_auto_failover 2.0 about 1 s, Patroni 3.0 about 1.3 s).
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin, "$FindBin::RealBin/../t";
use BenchLib;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrCli;
use RepmgrTest;
use Test::More;

my $runs = runs(6);
my %auto = (conf => { 'repmgr.failover' => 'automatic', log_statement => 'none' });
# the PostgreSQL programs the tool runs: those of bench/run.sh's private
# installation when there is one
my %bindir = $ENV{BENCH_PG_BINDIR} ? (pg_bindir => "'$ENV{BENCH_PG_BINDIR}'") : ();
my ($node1, $conf1) = cli_primary('node1', 1, %auto, repmgr_conf => {%bindir});
repmgr_ok('node1 registered', '-f', $conf1, 'primary', 'register');
my ($node2, $conf2) = cli_clone($node1, 'node2', 2, %auto,
	repmgr_conf => { %bindir, use_replication_slots => 'on' });
my ($node3, $conf3) = cli_clone($node1, 'node3', 3, %auto, repmgr_conf => {%bindir});
repmgr_ok('node2 registered', '-f', $conf2, 'standby', 'register');
repmgr_ok('node3 registered', '-f', $conf3, 'standby', 'register');
my @nodes = ($node1, $node2, $node3);
my %conf = (1 => $conf1, 2 => $conf2, 3 => $conf3);
my %node = (1 => $node1, 2 => $node2, 3 => $node3);

wait_all_streaming($node1, $node2, $node3);
foreach my $n (@nodes)
{
	wait_worker_state($n, 60, 'monitoring as primary', 'monitoring upstream')
	  or die $n->name . ': worker not monitoring';
}

my $out = PostgreSQL::Test::Utils::tempdir() . '/prober.out';
my $prober = start_prober(multi_conninfo(@nodes), interval => 5, out => $out);
sub acked_on
{
	my ($id, $after) = @_;
	return grep { $_->{ok} && $_->{node} eq $id && $_->{end} > $after } prober_results($out);
}
wait_for('the prober writes on node1', 60, sub { acked_on(1, 0) >= 100 });

my @r;
my ($old, $new) = (1, 2);
for my $run (1 .. $runs)
{
	my $t0 = mono_ms();
	my ($rc, $stdout, $stderr) = RepmgrCli::repmgr('-f', $conf{$new}, '-C', $conf{$old},
		'--siblings-follow', 'standby', 'switchover');
	my $t1 = mono_ms();
	sync_pids(@nodes);
	die "switchover $run (node$new) failed with exit code $rc:\n$stdout$stderr" if $rc != 0;

	my $third = 6 - $old - $new;
	wait_all_streaming($node{$new}, $node{$old}, $node{$third});
	wait_for("the prober writes on node$new", 60, sub { acked_on($new, $t0) >= 100 });
	foreach my $n (@nodes)
	{
		wait_worker_state($n, 60, 'monitoring as primary', 'monitoring upstream')
		  or die $n->name . ': worker not monitoring after the switchover';
	}

	my @rows = prober_results($out);
	my ($last_old) = reverse grep { $_->{ok} && $_->{node} eq $old && $_->{end} < $t1 } @rows;
	my ($first_new) = grep { $_->{ok} && $_->{node} eq $new && $_->{end} > $t0 } @rows;
	my $failed = grep { !$_->{ok} && $_->{end} > $last_old->{end} && $_->{end} < $first_new->{end} } @rows;
	my %f = (
		from => $old, to => $new,
		unavailable_ms => $first_new->{end} - $last_old->{end},
		command_ms => $t1 - $t0,
		last_old_after_start_ms => $last_old->{end} - $t0,
		first_new_after_start_ms => $first_new->{end} - $t0,
		failed_attempts => $failed,
	);
	progress(sprintf('switchover %d (node%d -> node%d): writes unavailable %d ms '
			  . '(%d ms to %d ms after the command started), command %d ms',
			$run, $old, $new, $f{unavailable_ms}, $f{last_old_after_start_ms},
			$f{first_new_after_start_ms}, $f{command_ms}));
	push @r, \%f;
	($old, $new) = ($new, $old);
}

my @rows = stop_prober($prober);
my @acked = grep { $_->{ok} } @rows;
my %present = map { $_ => 1 } split /\n/,
  $node{$old}->safe_psql('repmgr', 'SELECT seq FROM repmgr_probe WHERE probe = 0');
my $lost = grep { !$present{ $_->{seq} } } @acked;
progress(sprintf('%d writes acknowledged over %d switchovers, %d missing on the final primary',
		scalar @acked, $runs, $lost));

write_result('switchover', {
	runs => \@r,
	n => $runs,
	unavailable_ms => stats(map { $_->{unavailable_ms} } @r),
	command_ms => stats(map { $_->{command_ms} } @r),
	acked => scalar @acked,
	lost => $lost,
	failover_setting => 'automatic',
});
ok(1, 'switchover benchmark done');
done_testing();
