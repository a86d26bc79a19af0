# bench/switchover.pl — "repmgr standby switchover" in a row: failures and
# write unavailability (issue 12; before it, issue 6).
#
# What: a primary and two standbys made with the repmgr tool (as in
# t/108_switchover_loop.pl: every node with use_replication_slots, the
# workers with repmgr.failover=automatic), bench/prober committing a row
# every 5 ms through a multi-host target_session_attrs=read-write
# connection (a broken or read-only session is dropped and the next
# attempt, 5 ms later, connects afresh), then
#     repmgr -f <standby>.conf -C <primary>.conf --siblings-follow standby switchover
# back and forth between node1 and node2 (node3 follows each time),
# BENCH_RUNS times (default 50).  For each switchover:
#   - whether the command succeeded, and whether afterwards every other
#     node streams from the new primary (a failure is counted, not fatal,
#     as long as the cluster gets there);
#   - write unavailability: last write acknowledged by the old primary ->
#     first write acknowledged by the new one (prober timestamps);
#   - where that time went, from the servers' logs (millisecond
#     timestamps, put on the prober's clock): the old primary's shutdown
#     (fast shutdown request -> "database system is shut down"; within it
#     the repmgr worker's exit, the shutdown checkpoint, and after it the
#     walsenders and the postmaster's exit), the hand-over (-> the
#     promote request: pg_ctl returning, the checkpoint check,
#     repmgr.promote()'s checks), the
#     promotion (-> "archive recovery complete", the end of the startup
#     process) and the client (-> its first acknowledged write:
#     reconnect, commit);
#   - the floor: shutdown + promotion, what no switchover that waits for
#     the old postmaster's exit can go below; and from the shutdown
#     checkpoint: request -> "checkpoint complete", the hand-over from
#     there (negative hand-overs above then mean the promotion came before
#     the old postmaster's exit), and request -> checkpoint + promotion,
#     the floor of a switchover that promotes once the checkpoint is
#     written;
#   - the duration of the whole command;
#   - the acknowledged writes missing on the new primary (should be none).
# Between switchovers it waits until both standbys stream from the new
# primary, the prober has committed 100 writes there and every worker
# monitors again.
#
# Targets: 0 failures; median unavailability under 100 ms (issue 12).
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
use Time::HiRes ();
use Time::Local qw(timegm timelocal);

my $runs = runs(50);
# wal_retrieve_retry_interval at PostgreSQL's default (the test framework
# sets 500ms): a standby promoted soon after its upstream went away can wait
# out the rest of that interval (see promote_server() in src/actions.c)
my %auto = (conf => { 'repmgr.failover' => 'automatic', log_statement => 'none',
		wal_retrieve_retry_interval => '5s' });
# the PostgreSQL programs the tool runs: those of bench/run.sh's private
# installation when there is one
my %bindir = $ENV{BENCH_PG_BINDIR} ? (pg_bindir => "'$ENV{BENCH_PG_BINDIR}'") : ();
my %rconf = (repmgr_conf => { %bindir, use_replication_slots => 'on' });
my ($node1, $conf1) = cli_primary('node1', 1, %auto, %rconf);
repmgr_ok('node1 registered', '-f', $conf1, 'primary', 'register');
my ($node2, $conf2) = cli_clone($node1, 'node2', 2, %auto, %rconf);
my ($node3, $conf3) = cli_clone($node1, 'node3', 3, %auto, %rconf);
repmgr_ok('node2 registered', '-f', $conf2, 'standby', 'register');
repmgr_ok('node3 registered', '-f', $conf3, 'standby', 'register');
my @nodes = ($node1, $node2, $node3);
my %conf = (1 => $conf1, 2 => $conf2, 3 => $conf3);
my %node = (1 => $node1, 2 => $node2, 3 => $node3);

wait_all_streaming($node1, $node2, $node3);
wait_monitoring(@nodes);

# wall clock (server logs) minus the prober's monotonic clock, in ms
my $wall_offset = Time::HiRes::time() * 1000 - mono_ms();

my $out = PostgreSQL::Test::Utils::tempdir() . '/prober.out';
# (it stops after duration ms: make that longer than any run here)
my $prober = start_prober(multi_conninfo(@nodes), interval => 5, out => $out,
	duration => 24 * 3600 * 1000);
sub acked_on
{
	my ($id, $after) = @_;
	return grep { $_->{ok} && $_->{node} eq $id && $_->{end} > $after } prober_results($out);
}
wait_for('the prober writes on node1', 60, sub { acked_on(1, 0) >= 100 });

my @r;
my $failures = 0;
my ($old, $new) = (1, 2);
for my $run (1 .. $runs)
{
	my $third = 6 - $old - $new;
	my $t0 = mono_ms();
	my ($rc, $stdout, $stderr) = RepmgrCli::repmgr('-f', $conf{$new}, '-C', $conf{$old},
		'--siblings-follow', 'standby', 'switchover');
	my $t1 = mono_ms();
	sync_pids(@nodes);
	if ($rc != 0)
	{
		$failures++;
		progress("switchover $run (node$old -> node$new) FAILED with exit code $rc:\n$stdout$stderr");
	}

	# a failure is counted; a cluster that does not get there ends the run
	wait_all_streaming($node{$new}, $node{$old}, $node{$third});
	wait_for("the prober writes on node$new", 60, sub { acked_on($new, $t0) >= 100 });
	wait_monitoring(@nodes);

	my @rows = prober_results($out);
	my ($last_old) = reverse grep { $_->{ok} && $_->{node} eq $old && $_->{end} < $t1 } @rows;
	my ($first_new) = grep { $_->{ok} && $_->{node} eq $new && $_->{end} > $t0 } @rows;
	my %f = (
		from => $old, to => $new, ok => $rc == 0 ? 1 : 0,
		unavailable_ms => $first_new->{end} - $last_old->{end},
		command_ms => $t1 - $t0,
		last_old_after_start_ms => $last_old->{end} - $t0,
		first_new_after_start_ms => $first_new->{end} - $t0,
		failed_attempts => scalar(grep {
			!$_->{ok} && $_->{end} > $last_old->{end} && $_->{end} < $first_new->{end}
		} @rows),
	);
	phases(\%f, $node{$old}, $node{$new}, $t0, $last_old->{end}, $first_new->{end});
	progress(sprintf('switchover %d (node%d -> node%d): %s; writes unavailable %d ms '
			  . '(shutdown %s, hand-over %s, promotion %s, client %s), command %d ms',
			$run, $old, $new, $rc == 0 ? 'ok' : 'FAILED', $f{unavailable_ms},
			map({ defined $f{$_} ? sprintf('%.0f', $f{$_}) : '?' }
				qw(shutdown_ms handover_ms promotion_ms client_ms)),
			$f{command_ms}));
	push @r, \%f;
	($old, $new) = ($new, $old);
}

my @rows = stop_prober($prober);
my @acked = grep { $_->{ok} } @rows;
my %present = map { $_ => 1 } split /\n/,
  $node{$old}->safe_psql('repmgr', 'SELECT seq FROM repmgr_probe WHERE probe = 0');
my $lost = grep { !$present{ $_->{seq} } } @acked;
my $worker_acts = $node{$old}->safe_psql('repmgr',
	"SELECT count(*) FROM repmgr.repl_events WHERE event IN "
	  . "('repmgrd_failover_follow', 'repmgrd_failover_promote')");
progress(sprintf('%d switchovers, %d failed; %d writes acknowledged, %d missing on the final '
		  . 'primary; %d follows or promotions by a worker', $runs, $failures,
		scalar @acked, $lost, $worker_acts));

my %result = (
	runs => \@r,
	n => $runs,
	failures => $failures,
	unavailable_ms => stats(map { $_->{unavailable_ms} } @r),
	command_ms => stats(map { $_->{command_ms} } @r),
	acked => scalar @acked,
	lost => $lost,
	worker_acts => $worker_acts + 0,
	failover_setting => 'automatic',
);
foreach my $phase (qw(pre_ms shutdown_ms worker_exit_ms checkpoint_ms after_checkpoint_ms
	handover_ms promotion_ms client_ms floor_ms to_checkpoint_ms handover_ckpt_ms floor_ckpt_ms))
{
	$result{$phase} = stats(map { $_->{$phase} } @r);
}
write_result('switchover', \%result);
is($failures, 0, 'no switchover failed');
done_testing();

# every worker monitoring again (as primary or of its upstream)
sub wait_monitoring
{
	foreach my $n (@_)
	{
		wait_worker_state($n, 60, 'monitoring as primary', 'monitoring upstream')
		  or die $n->name . ': worker not monitoring';
	}
}

# the millisecond timestamp of a server log line, on the prober's clock
sub log_time
{
	my ($line) = @_;
	return undef
	  unless $line =~ /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3}) (\S+)/;
	my @t = ($6, $5, $4, $3, $2 - 1, $1);
	my $s = ($8 eq 'UTC' || $8 eq 'GMT') ? timegm(@t) : timelocal(@t);
	return $s * 1000 + $7 - $wall_offset;
}

# the time of the first line of $node's log matching $re after $after
sub log_event
{
	my ($node, $re, $after) = @_;
	foreach my $line (split /\n/, slurp_file($node->logfile))
	{
		next unless $line =~ $re;
		my $t = log_time($line);
		return $t if defined $t && $t >= $after;
	}
	return undef;
}

# where the unavailability of one switchover went (see the header)
sub phases
{
	my ($f, $old, $new, $t0, $last_old, $first_new) = @_;
	my $stop = log_event($old, qr/received fast shutdown request/, $t0 - 1);
	my $down = defined $stop ? log_event($old, qr/database system is shut down/, $stop) : undef;
	my $promote = log_event($new, qr/received promote request/, $t0 - 1);
	# the startup process's last word, just before it lets writes in (the
	# postmaster's "ready to accept connections" can come after the first
	# commit)
	my $ready = defined $promote
	  ? log_event($new, qr/archive recovery complete/, $promote) : undef;
	return unless defined $stop && defined $down && defined $promote && defined $ready;
	$f->{pre_ms} = $stop - $last_old;
	$f->{shutdown_ms} = $down - $stop;
	# inside the shutdown: the repmgr worker's exit (the postmaster waits
	# for every backend and worker before the checkpoint), the checkpoint,
	# and what follows it (the walsenders waiting for the standbys to
	# confirm the shutdown checkpoint, the postmaster's exit)
	my $reaped = log_event($old, qr/"repmgr worker" \(PID \d+\) exited/, $stop);
	my $ckpt = log_event($old, qr/checkpoint starting: shutdown/, $stop);
	my $ckpt_done = defined $ckpt ? log_event($old, qr/checkpoint complete/, $ckpt) : undef;
	$ckpt_done = undef if defined $ckpt_done && $ckpt_done > $down;
	$f->{worker_exit_ms} = $reaped - $stop if defined $reaped && $reaped <= $down;
	if (defined $ckpt && defined $ckpt_done)
	{
		$f->{checkpoint_ms} = $ckpt_done - $ckpt;
		$f->{after_checkpoint_ms} = $down - $ckpt_done;
	}
	$f->{handover_ms} = $promote - $down;
	$f->{promotion_ms} = $ready - $promote;
	$f->{client_ms} = $first_new - $ready;
	$f->{floor_ms} = $f->{shutdown_ms} + $f->{promotion_ms};
	# a command that promotes once the shutdown checkpoint is written
	# overlaps the rest of the shutdown: the same phases from the checkpoint
	if (defined $ckpt_done)
	{
		$f->{to_checkpoint_ms} = $ckpt_done - $stop;
		$f->{handover_ckpt_ms} = $promote - $ckpt_done;
		$f->{floor_ckpt_ms} = $f->{to_checkpoint_ms} + $f->{promotion_ms};
	}
}
