# A wall clock that steps must not give two writable primaries, nor a
# false election or fence: leases, the vote silence and deadlines must not
# rest on it.
#
# Every server runs under libfaketime (NetnsCluster's faketime => 1): its
# wall clock can be stepped at run time, its monotonic clocks stay true.
# The servers start with their wall clocks 7 s ahead, so that the test can
# check that every process of every server reads the faked clock.  Each
# step is checked with the clocks of a process started like the server,
# with the server's own clock_timestamp() and, on a standby, with the time
# its WAL receiver stamps on what it receives.  The
# cluster is a primary, two standbys and a witness; a prober inside each
# data node's namespace commits a row to that node every 10 ms
# (bench/prober; its times are of CLOCK_MONOTONIC, which no step touches).
#
#  (a) node1, the primary, cut off from every other node for 30 s (its link
#      down: packets silently lost), its wall clock stepped back 20 s at the
#      cut: a standby is elected; node1 acknowledges no write after the
#      new primary's first acknowledged write began; once the link is back
#      node1 is fenced for good and refuses writes.
#  (b) the same with node1's wall clock stepped forward 30 s.
#  (c) no partition: node1's wall clock stepped back 30 s, then forward
#      30 s (back where it was), then forward 30 s again; then node2's,
#      then the witness's forward 30 s; each step once node1 commits
#      steadily again.  For 6 s after each step: node1 stays the primary,
#      every write of its prober is acknowledged, never 2 s without one; at
#      the end no election (term, vote, election count and worker unchanged
#      on every node) and no candidate, vote, fence or promotion in any
#      log.
#
# Each case builds its own cluster, so that one case's outcome does not
# decide the next one's start.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/..";
use NetnsCluster;
use PostgreSQL::Test::Utils;
use RepmgrTest qw(poll_until);
use Test::More;
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);

if (my $why = netns_available()) { plan skip_all => $why; }

my $USER = $ENV{REPMGR_TEST_USER} // 'repmgrtest';
# the probers' failed writes (a standby is read-only) stay out of the logs
my $QUIET = "options='-c log_min_messages=fatal -c log_min_error_statement=panic'";
my $CUT_MS = 30_000;    # how long node1 is cut off in (a) and (b)
my $OBSERVE_MS = 6_000; # how long each step of (c) is watched
my $GAP_MS = 2_000;     # (c): the longest time allowed without a commit
my $START_OFFSET = 7;   # every server's wall clock at start, from the true time

sub mono_ms { return int(clock_gettime(CLOCK_MONOTONIC) * 1000) }

# ---- the cluster

my @clusters;

sub stop_probers
{
	my ($c) = @_;
	foreach my $p (values %{ $c->{probers} })
	{
		next if $p->{stopped}++;
		eval { $p->{handle}->signal('TERM'); $p->{handle}->finish; };
	}
	return;
}

sub stop_cluster
{
	my ($c) = @_;
	stop_probers($c);
	$_->stop('immediate') foreach @{ $c->{all} };
	return;
}

# node1 primary, node2 and node3 standbys, the witness (id 4), every server
# with a faked wall clock; a prober in each data node's namespace
sub build_cluster
{
	my ($case) = @_;
	# deleting a namespace does not stop what runs in it: the servers of
	# the previous case go first
	stop_cluster($_) foreach @clusters;
	netns_setup();
	my %o = (test => "037$case", faketime => 1, clock_offset => $START_OFFSET);
	my $n1 = NetnsCluster->new('node1', 1, %o)->init_primary(1);
	$n1->register_primary;
	my @s;
	foreach my $i (2, 3)
	{
		my $n = NetnsCluster->new("node$i", $i, %o)->init_standby($n1, $i);
		$n->register_standby;
		push @s, $n;
	}
	my $w = NetnsCluster->new('witness', 4, %o)->init_witness($n1, 4);
	my $c = { case => $case, n1 => $n1, standbys => \@s, witness => $w,
		data => [ $n1, @s ], all => [ $n1, @s, $w ] };
	push @clusters, $c;
	foreach my $n (@{ $c->{all} })
	{
		ok($n->wait_worker_state('monitoring as primary', 'monitoring upstream', 'monitoring as witness'),
			"($case) " . $n->name . ' monitors');
		ok($n->poll_query_until('SELECT count(*) = 4 FROM repmgr.repl_nodes'),
			"($case) " . $n->name . ' knows the four nodes');
		is(join('; ', $n->unfaked_processes), '',
			"($case) every process of " . $n->name . " started on the faked wall clock (+$START_OFFSET s)");
	}
	$n1->safe_psql("CREATE TABLE probe_n$_->{id} (probe int, seq bigint, node int)") foreach @{ $c->{data} };
	foreach my $n (@s)
	{
		$n->poll_query_until("SELECT count(*) = 3 FROM pg_tables WHERE tablename LIKE 'probe_n%'")
		  or diag($n->name . ': the probers\' tables did not replicate');
	}
	foreach my $n (@{ $c->{data} })
	{
		$c->{probers}{ $n->{id} } = NetnsCluster::start_prober(
			"host=127.0.0.1 port=5432 dbname=repmgr user=$USER connect_timeout=1 $QUIET",
			tag => "037${case}_n$n->{id}", ns => $n, interval => 10,
			table => "probe_n$n->{id}", keep_read_only => 200);
	}
	ok(poll_until("node1's prober writes", 30, sub { scalar(acked($c, 1)) >= 20 }),
		"($case) node1's prober writes");
	return $c;
}

# probers left running by a test that died: they would write on for minutes
END
{
	my $rc = $?;
	stop_probers($_) foreach @clusters;
	$? = $rc;
}

# ---- the probers' output

# the attempts of one prober (or of all), complete lines only
sub rows
{
	my ($c, $id) = @_;
	my @rows;
	foreach my $pid (defined $id ? ($id) : sort keys %{ $c->{probers} })
	{
		my $file = $c->{probers}{$pid}{out};
		next unless -f $file;
		my $text = slurp_file($file);
		foreach my $line (split /\n/, $text)
		{
			# a line still being written has no end yet
			next unless $line =~ /^(ok|fail)\t\d+\t(\d+)\t(\d+)\t(\d+)\t(.*)$/;
			push @rows, { ok => $1 eq 'ok', seq => $2, start => $3, end => $4, what => $5, prober => $pid };
		}
	}
	return @rows;
}

# the writes acknowledged by node $node (any prober)
sub acked
{
	my ($c, $node) = @_;
	return grep { $_->{ok} && $_->{what} eq $node } rows($c);
}

# ---- the clocks

# the step reached the node's server, and the monotonic clocks stayed true
sub check_clocks
{
	my ($n, $what, %opts) = @_;
	my $want = $n->clock_offset;
	my $skew;
	ok(poll_until($n->name . "'s server clock at $want s", 10, sub {
		$skew = $n->server_clock_skew(%opts);
		return defined $skew && abs($skew - $want) < 1.0 }),
		sprintf('%s: %s\'s server reads the wall clock %+d s from the true time (%s)', $what, $n->name, $want,
			defined $skew ? sprintf('%+.3f s', $skew) : 'no answer'));
	my $k = $n->clock_skews;
	cmp_ok(abs($k->{CLOCK_REALTIME} - $want), '<', 1.0,
		sprintf('%s: CLOCK_REALTIME under libfaketime is %+.3f s from the true one', $what, $k->{CLOCK_REALTIME}));
	foreach my $clock (qw(CLOCK_MONOTONIC CLOCK_MONOTONIC_RAW CLOCK_BOOTTIME))
	{
		cmp_ok(abs($k->{$clock}), '<', 1.0,
			sprintf('%s: %s under libfaketime stays true (%+.3f s)', $what, $clock, $k->{$clock}));
	}
	# a process that runs since the server started follows the step: the
	# WAL receiver (forked from a signal handler of the postmaster, as the
	# repmgr worker is) stamps each message it receives with its clock
	if ($opts{walreceiver})
	{
		ok($n->poll_query_until('SELECT extract(epoch FROM clock_timestamp() - last_msg_receipt_time) BETWEEN -0.5 AND 3 '
			  . 'FROM pg_stat_wal_receiver', timeout => 10),
			"$what: " . $n->name . "'s WAL receiver reads the stepped clock");
	}
	return;
}

# ---- (a) and (b): the primary cut off, its clock stepped at the cut

sub partition_case
{
	my ($case, $step) = @_;
	my $c = build_cluster($case);
	my $n1 = $c->{n1};
	my $what = sprintf('(%s) node1 cut off for %d s, its clock stepped %+d s', $case, $CUT_MS / 1000, $step);

	my $t_cut = mono_ms();
	$n1->isolate;
	$n1->step_clock($step);
	check_clocks($n1, $what, local => 1);

	my $new;
	ok(poll_until('a promotion', 60, sub {
		foreach my $n (@{ $c->{standbys} })
		{
			my ($ok, $out) = $n->psql('SELECT NOT pg_is_in_recovery()');
			if ($ok && $out eq 't') { $new = $n; return 1; }
		}
		return 0; }), "$what: a standby is promoted");
	my $t_promoted = mono_ms() - $t_cut;
	ok($new && poll_until('the new primary acknowledges a write', 60, sub { scalar(acked($c, $new->{id})) > 0 }),
		"$what: the new primary acknowledges writes");
	poll_until('the end of the cut', $CUT_MS / 1000 + 30, sub { mono_ms() - $t_cut >= $CUT_MS });
	$n1->heal;
	my $t_heal = mono_ms() - $t_cut;

	# healed: node1 meets the newer primary and is fenced for good
	ok($n1->poll_query_until('SELECT fenced FROM repmgr.daemon_status()', timeout => 60),
		"$what: once healed, node1 is fenced for good (it saw the newer primary)");
	my ($ok, $out, $err) = $n1->psql('CREATE TABLE t_after_heal (x int)');
	ok(!$ok, "$what: node1 refuses a write after the heal");
	like($err, qr/cannot commit: this primary \(node 1\) is fenced|read-only transaction/, "$what: ... saying why");
	is($n1->safe_psql('SHOW default_transaction_read_only'), 'on', "$what: new sessions on node1 are read-only");
	if ($new)
	{
		ok($new->poll_query_until("SELECT status = '! running (fenced)' FROM repmgr.cluster_show() WHERE id = 1"),
			"$what: the new primary shows node1 running, fenced");
	}

	# what the probers saw (their clock: CLOCK_MONOTONIC, true everywhere)
	my $t_stop = mono_ms();
	stop_probers($c);
	my @old = sort { $a->{end} <=> $b->{end} } acked($c, 1);
	my @late_old = grep { $_->{end} > $t_cut } @old;
	my ($first_new) = $new ? sort { $a->{start} <=> $b->{start} } acked($c, $new->{id}) : ();
	diag(sprintf('%s: %s promoted by +%d ms, first write acknowledged by it started at +%s ms; '
			. 'node1 acknowledged %d writes after the cut, the last at +%s ms; link back at +%d ms',
		$what, $new ? $new->name : 'no standby', $t_promoted,
		$first_new ? $first_new->{start} - $t_cut : '-', scalar(@late_old),
		@late_old ? $late_old[-1]{end} - $t_cut : '-', $t_heal));
	if ($first_new)
	{
		# a write counts from its start to its acknowledgement: one that
		# node1 acknowledged after the new primary began its first counts
		my @both = grep { $_->{end} > $first_new->{start} } @old;
		my $overlap = @both ? $both[-1]{end} - $first_new->{start} : 0;
		diag(sprintf('%s: two writable primaries for %d ms: %d writes acknowledged by node1 after %s\'s first began (%s)',
			$what, $overlap, scalar(@both), $new->name,
			@both ? "the last at +$both[-1]{end} - +$first_new->{start} ms on the probers' clock" :
			  @old ? sprintf('node1\'s last write came %d ms before', $first_new->{start} - $old[-1]{end}) : 'node1 wrote nothing'));
		is(scalar(@both), 0, "$what: node1 acknowledged no write after the new primary's first (overlap ${overlap} ms)");

		# acknowledged by node1 and not on the new primary (asynchronous
		# replication: lost when node1 rejoins); reported, not asserted
		my $have = $new->safe_psql('SELECT coalesce(string_agg(seq::text, \',\'), \'\') FROM probe_n1');
		my %have = map { $_ => 1 } split /,/, $have;
		my @missing = grep { !$have{ $_->{seq} } } @old;
		diag(sprintf('%s: %d writes acknowledged by node1 are not on %s (%d of them after the cut)',
			$what, scalar(@missing), $new->name, scalar(grep { $_->{end} > $t_cut } @missing)));
	}
	else
	{
		fail("$what: no write acknowledged by a new primary to compare with");
	}
	diag(sprintf('%s: case took %d s (cut to end)', $what, (mono_ms() - $t_cut) / 1000));
	return;
}

# ---- (c): steps during normal operation

# node1's prober acknowledged every attempt of the last $ms ms (at least 20)
sub writing_steadily
{
	my ($c, $ms) = @_;
	my $now = mono_ms();
	my @recent = grep { $_->{start} >= $now - $ms } rows($c, 1);
	return @recent >= 20 && !grep { !$_->{ok} } @recent;
}

# what each node's worker says of elections: term, vote, count, process
sub election_status
{
	my ($c) = @_;
	my %st;
	foreach my $n (@{ $c->{all} })
	{
		$st{ $n->name } = $n->safe_psql(
			"SELECT term || ' ' || coalesce(voted_for::text, '-') || ' ' || elections || ' ' || pid FROM repmgr.daemon_status()");
	}
	return \%st;
}

sub steps_case
{
	my $c = build_cluster('c');
	my ($n1, $n2, $w) = ($c->{n1}, $c->{standbys}[0], $c->{witness});
	my $before = election_status($c);
	my %logpos = map { $_->name => -s $_->logfile } @{ $c->{all} };

	foreach my $step ([ $n1, -30 ], [ $n1, +30 ], [ $n1, +30 ], [ $n2, +30 ], [ $w, +30 ])
	{
		my ($n, $delta) = @$step;
		my $what = sprintf('(c) %s\'s clock stepped %+d s (to %+d s from where it started)',
			$n->name, $delta, $n->clock_offset + $delta - $START_OFFSET);
		# each step from a primary that commits: the last step's effects over
		ok(poll_until('node1 commits steadily', 60, sub { writing_steadily($c, 2000) }),
			"$what: before the step, node1 acknowledged every write for 2 s");
		my $t = mono_ms();
		$n->step_clock($delta);
		check_clocks($n, $what, walreceiver => $n == $n2);
		# watched for a while: node1 a working primary, the standbys standbys
		my @bad;
		poll_until("$OBSERVE_MS ms after the step", $OBSERVE_MS / 1000 + 60, sub {
			my ($ok, $out) = $n1->psql("SELECT NOT pg_is_in_recovery() AND state = 'monitoring as primary' AND NOT fenced "
				  . 'FROM repmgr.daemon_status()', timeout => 5);
			push @bad, sprintf('+%d ms: node1 %s', mono_ms() - $t, $ok ? 'not a working primary' : 'did not answer')
			  unless $ok && $out eq 't';
			foreach my $s (@{ $c->{standbys} })
			{
				($ok, $out) = $s->psql('SELECT pg_is_in_recovery()', timeout => 5);
				push @bad, sprintf('+%d ms: %s not a standby', mono_ms() - $t, $s->name) if $ok && $out ne 't';
			}
			return mono_ms() - $t >= $OBSERVE_MS;
		});
		is(join('; ', @bad), '', "$what: node1 stayed the working primary, not fenced, for $OBSERVE_MS ms");

		my $t_end = $t + $OBSERVE_MS;
		my @att = sort { $a->{start} <=> $b->{start} } grep { $_->{start} >= $t && $_->{start} < $t_end } rows($c, 1);
		my @ok = grep { $_->{ok} } @att;
		my @fail = grep { !$_->{ok} } @att;
		my ($gap, $prev) = (0, $t);
		foreach my $r (@ok, { end => $t_end })
		{
			$gap = $r->{end} - $prev if $r->{end} - $prev > $gap;
			$prev = $r->{end};
		}
		diag(sprintf('%s: node1\'s prober: %d writes acknowledged, %d refused or failed%s, longest time without a commit %d ms',
			$what, scalar(@ok), scalar(@fail), @fail ? " (first: +" . ($fail[0]{start} - $t) . " ms: $fail[0]{what})" : '', $gap));
		is(scalar(@fail), 0, "$what: every write of node1's prober acknowledged");
		cmp_ok($gap, '<', $GAP_MS, "$what: never $GAP_MS ms without a commit on node1");
	}

	my $after = election_status($c);
	foreach my $n (@{ $c->{all} })
	{
		is($after->{ $n->name }, $before->{ $n->name },
			'(c) ' . $n->name . ': term, vote, election count and worker unchanged (term vote elections pid)');
	}
	foreach my $n (@{ $c->{all} })
	{
		open my $fh, '<', $n->logfile or die $n->logfile . ": $!";
		seek $fh, $logpos{ $n->name }, 0;
		my @lines = grep { /is candidate|voted for node|refusing writes|fenced|STANDBY PROMOTE/ } <$fh>;
		close $fh;
		is(join('', @lines), '', '(c) ' . $n->name . '\'s log: no candidate, vote, fence or promotion');
	}
	stop_probers($c);
	return;
}

partition_case('a', -20);
partition_case('b', +30);
steps_case();

done_testing();
