#!/usr/bin/perl
# bench/report.pl — bench/RESULTS.md from the JSON files the benchmarks
# wrote (bench/out/<name>.json), with the machine, the date and the command.
#
#   report.pl --out DIR [--command CMD --started DATE --seconds N
#             --load-start "1 5 15" --commit SHA] [--notes FILE]
#
# The facts of the run given on the command line are kept in DIR/meta.json,
# so that the report can be written again from the same results
# (report.pl --out DIR) without running anything.  The notes on the
# figures (bench/NOTES.md by default: the analysis of misses, written by
# hand for the run in RESULTS.md) are appended, and before them
# bench/CHAOS.md, the results of the last "make chaos" runs.  Prints Markdown.
use strict;
use warnings;

use FindBin;
use Getopt::Long;
use JSON::PP;
use POSIX qw(floor);

my %opt;
GetOptions(\%opt, 'out=s', 'command=s', 'started=s', 'seconds=i',
	'load-start=s', 'commit=s', 'notes=s') or die "usage: report.pl --out DIR [...]\n";
my $dir = $opt{out} or die "report.pl: --out DIR is needed\n";

sub slurp
{
	my ($f) = @_;
	open my $fh, '<', $f or return undef;
	local $/;
	return scalar <$fh>;
}

sub load_json
{
	my ($f) = @_;
	my $t = slurp($f);
	return defined $t ? JSON::PP->new->decode($t) : undef;
}

# ---- facts of the run and of the machine
my $meta = load_json("$dir/meta.json") // {};
if ($opt{command})
{
	$meta = {
		command => $opt{command},
		started => $opt{started},
		seconds => $opt{seconds},
		load_start => $opt{'load-start'},
		load_end => join(' ', (split ' ', slurp('/proc/loadavg') // '')[0 .. 2]),
		commit => $opt{commit},
		machine => machine(),
	};
	open my $fh, '>', "$dir/meta.json" or die "$dir/meta.json: $!";
	print $fh JSON::PP->new->canonical->pretty->encode($meta);
	close $fh;
}

sub machine
{
	my %m;
	my $cpuinfo = slurp('/proc/cpuinfo') // '';
	($m{cpu}) = $cpuinfo =~ /^model name\s*:\s*(.*)$/m;
	$m{cpus} = () = $cpuinfo =~ /^processor\s*:/mg;
	my ($kb) = (slurp('/proc/meminfo') // '') =~ /^MemTotal:\s+(\d+) kB/m;
	$m{ram} = sprintf('%.1f GiB', ($kb // 0) / 1024 / 1024);
	chomp($m{kernel} = `uname -srm`);
	chomp($m{postgres} = `/usr/lib/postgresql/15/bin/postgres --version 2>/dev/null`);
	my $os = slurp('/etc/os-release') // '';
	($m{os}) = $os =~ /^PRETTY_NAME="?([^"\n]*)/m;
	$m{virtualization} = `systemd-detect-virt 2>/dev/null` // '';
	chomp $m{virtualization};
	return \%m;
}

# ---- formatting
sub num
{
	my ($v, $digits) = @_;
	return '–' unless defined $v;
	return sprintf("%.${digits}f", $v) if defined $digits;
	return sprintf('%.0f', $v);
}

# "min / median / max" cells of a stats hash
sub mmm
{
	my ($s, $digits) = @_;
	return ('–', '–', '–', 0) unless $s && $s->{n};
	return (num($s->{min}, $digits), num($s->{median}, $digits), num($s->{max}, $digits), $s->{n});
}

sub row
{
	return '| ' . join(' | ', @_) . " |\n";
}

my @misses;
my @summary;

sub verdict
{
	my ($ok, $what) = @_;
	push @misses, $what unless $ok;
	return $ok ? 'PASS' : '**MISS**';
}

my $md = '';
my $body = '';

# ---- failover
if (my $f = load_json("$dir/failover.json"))
{
	$body .= "## Failover (`bench/failover.pl`)\n\n";
	$body .= "kill -9 of the primary of a primary + 2 standbys, workers automatic; "
	  . "bench/prober commits a row every 5 ms through `host=n1,n2,n3 ... "
	  . "target_session_attrs=read-write`. *Unavailable*: kill -9 → first write "
	  . "acknowledged by the new primary. *Gap*: last write acknowledged by the old primary → "
	  . "first by the new. *Promotion seen*: kill → `pg_is_in_recovery()` false on the new "
	  . "primary (polled every 5 ms). *Follow*: kill → the other standby streams from the new "
	  . "primary. *Lost*: acknowledged writes missing on the new primary. "
	  . "A fresh cluster for every run; $f->{runs} runs per configuration.\n\n";
	$body .= row('configuration', 'figure', 'min', 'median', 'max', 'n', 'target', 'result');
	$body .= row(('---') x 8);
	foreach my $c (@{ $f->{configs} })
	{
		my $limit = $c->{settings} eq 'tight' ? 1000 : 5000;
		my $ok = $c->{unavailable_ms}{median} < $limit;
		my $v = verdict($ok, "failover $c->{label}: median unavailability "
			  . num($c->{unavailable_ms}{median}) . " ms, target < $limit ms");
		$body .= row($c->{label}, 'unavailable (ms)', mmm($c->{unavailable_ms}),
			"median < $limit ms", $v);
		$body .= row('', 'gap (ms)', mmm($c->{gap_ms}), '', '');
		$body .= row('', 'promotion seen (ms)', mmm($c->{promote_ms}), '', '');
		$body .= row('', 'follow (ms)', mmm($c->{follow_ms}), '', '');
		my $lv = '';
		my $lt = '';
		if ($c->{sync})
		{
			$lt = '0';
			$lv = verdict($c->{lost}{max} == 0,
				"failover $c->{label}: $c->{lost}{max} acknowledged writes lost, target 0");
		}
		$body .= row('', 'acknowledged writes lost', mmm($c->{lost}), $lt, $lv);
		$body .= row('', 'writes acknowledged per run', mmm($c->{acked}), '', '');
		push @summary, row("failover, $c->{label}: unavailable (ms)", mmm($c->{unavailable_ms}),
			"median < $limit ms", $v);
		push @summary, row("failover, $c->{label}: acknowledged writes lost", mmm($c->{lost}), $lt, $lv)
		  if $c->{sync};
	}
	$body .= "\nSettings and what `repmgr.failover_timing()` says of them (ms):\n\n";
	my %seen;
	foreach my $c (@{ $f->{configs} })
	{
		next if $seen{ $c->{settings} }++;
		my $s = $c->{settings_values};
		$body .= "* **$c->{settings}**: "
		  . join(', ', map { "`$_ = $s->{$_}`" } sort keys %$s) . "; $c->{timing}\n";
	}
	if (my $ff = $f->{false_failover_check})
	{
		my $ok = $ff->{idle_elections} == 0 && $ff->{load_elections} == 0;
		my $v = verdict($ok, "false failover at the tight settings: $ff->{idle_elections} "
			  . "elections idle, $ff->{load_elections} under load");
		$body .= "\nNo false failover at the tight settings: a primary and two standbys left "
		  . "idle for $ff->{idle_s} s, then under `pgbench -c 4 -j 2` for $ff->{load_s} s ("
		  . num($ff->{load_tps}) . " tps, both cores busy): $ff->{idle_elections} elections idle, "
		  . "$ff->{load_elections} under load, $ff->{upstream_failures} upstream failures seen "
		  . "by the workers — **$v**.\n";
		push @summary, row('no false failover, tight settings: elections idle / under load',
			'', "$ff->{idle_elections} / $ff->{load_elections}", '', 1, '0 / 0', $v);
	}
	$body .= "\n";
}

# ---- switchover
if (my $s = load_json("$dir/switchover.json"))
{
	my $failures = $s->{failures} // 0;
	my $ok = $s->{unavailable_ms}{median} < 100;
	my $v = verdict($ok, 'switchover: median unavailability '
		  . num($s->{unavailable_ms}{median}) . ' ms, target < 100 ms');
	my $fv = verdict($failures == 0, "switchover: $failures of $s->{n} failed, target 0");
	$body .= "## Switchover (`bench/switchover.pl`)\n\n";
	$body .= "`repmgr -f <standby>.conf -C <primary>.conf --siblings-follow standby switchover`, "
	  . "$s->{n} in a row, node1 → node2 and back, node3 following each time (the old primary's "
	  . "data directory on this host, so no ssh; every node with use_replication_slots; workers "
	  . "automatic); bench/prober writing every 5 ms through the multi-host read-write connection, "
	  . "a broken or read-only session replaced at the next attempt. *Failed*: the command exited "
	  . "non-zero (after each one the bench waits until both other nodes stream from the new "
	  . "primary). *Unavailable*: last write acknowledged by the old primary → first by the new "
	  . "one. The phases come from the servers' logs (millisecond timestamps on the prober's "
	  . "clock): *shutdown*: fast shutdown request → \"database system is shut down\" (the "
	  . "shutdown checkpoint); *hand-over*: → \"received promote request\" (pg_ctl returning, "
	  . "the checkpoint check, repmgr.promote()'s checks); *promotion*: → \"archive recovery "
	  . "complete\" (the end of the startup process); *client*: → first acknowledged write (reconnect, commit). *Floor*: "
	  . "shutdown + promotion, measured in each switchover. *Command*: the whole `repmgr` run "
	  . "(pausing the workers, stopping the primary, promoting, restarting the old primary as a "
	  . "standby, the sibling following and streaming, unpausing).\n\n";
	$body .= row('figure', 'min', 'median', 'max', 'n', 'target', 'result');
	$body .= row(('---') x 7);
	$body .= row('failed switchovers', '', $failures, '', $s->{n}, '0', $fv);
	$body .= row('write unavailability (ms)', mmm($s->{unavailable_ms}), 'median < 100 ms', $v);
	foreach my $p (['pre_ms', '… last write → shutdown request'],
		['shutdown_ms', '… shutdown (old primary)'],
		['worker_exit_ms', '… … of which the repmgr worker\'s exit (request → reaped)'],
		['checkpoint_ms', '… … of which the shutdown checkpoint'],
		['after_checkpoint_ms', '… … of which after the checkpoint (walsenders, postmaster exit)'],
		['handover_ms', '… hand-over (the command)'],
		['promotion_ms', '… promotion (new primary)'],
		['client_ms', '… client reconnect and first commit'],
		['floor_ms', 'floor: shutdown + promotion (ms)'],
		['to_checkpoint_ms', 'shutdown request → checkpoint complete'],
		['handover_ckpt_ms', '… hand-over from the checkpoint (→ promote request)'],
		['floor_ckpt_ms', 'floor from the checkpoint: request → checkpoint + promotion (ms)'])
	{
		$body .= row($p->[1], mmm($s->{ $p->[0] }), '', '') if $s->{ $p->[0] };
	}
	$body .= row('command duration (ms)', mmm($s->{command_ms}), '', '');
	$body .= "\nPer switchover (ms): "
	  . join(', ', map { "node$_->{from}→node$_->{to} " . num($_->{unavailable_ms})
			  . (defined $_->{ok} && !$_->{ok} ? ' (failed)' : '') } @{ $s->{runs} })
	  . ". Writes acknowledged over the whole run: $s->{acked}, missing on the final primary: "
	  . "$s->{lost}"
	  . (defined $s->{worker_acts} ? "; follows or promotions by a worker: $s->{worker_acts}" : '')
	  . ". For comparison (measured elsewhere, 10 ms prober): repmgr 5.3 208–213 ms, "
	  . "Patroni 1.3 s.\n\n";
	push @summary, row('switchover: failed of ' . $s->{n}, '', $failures, '', $s->{n}, '0', $fv);
	push @summary, row('switchover: write unavailability (ms)', mmm($s->{unavailable_ms}),
		'median < 100 ms', $v);
}

# ---- worker cost
# a distribution-free confidence interval of the median of a sample: the
# k-th smallest and k-th largest values, k the largest with
# P(Binomial(n, 1/2) < k) <= 0.05 (coverage >= 90 %); undef when n < 5
sub median_ci
{
	my ($s) = @_;
	my @v = sort { $a <=> $b } grep { defined } @{ $s->{values} // [] };
	my $n = scalar @v;
	return () if $n < 5;
	my ($k, $cum, $c) = (0, 0, 1);
	for my $i (0 .. $n)
	{
		# $c = C(n, i)
		$cum += $c / 2**$n;
		last if $cum > 0.05;
		$k = $i + 1;
		$c = $c * ($n - $i) / ($i + 1);
	}
	$k = 1 if $k < 1;
	my $coverage = 0;
	$c = 1;
	for my $i (0 .. $k - 1)
	{
		$coverage += $c / 2**$n;
		$c = $c * ($n - $i) / ($i + 1);
	}
	return ($v[ $k - 1 ], $v[ $n - $k ], 100 * (1 - 2 * $coverage));
}

# geometric mean of ratios with a t-interval (log scale); sd: of one log
# ratio
sub geometric
{
	my ($rows, $adjust) = @_;
	my @l = map { log($_->{ratio}) - ($adjust ? $adjust->($_) : 0) } @{ $rows // [] };
	my $n = scalar @l;
	return undef if $n < 3;
	my $m = 0;
	$m += $_ / $n foreach @l;
	my $ss = 0;
	$ss += ($_ - $m)**2 foreach @l;
	my $sd = sqrt($ss / ($n - 1));
	# two-sided 95 % t quantiles for n - 1 degrees of freedom
	my @t = (0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
		2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086);
	my $t = $n - 1 < @t ? $t[ $n - 1 ] : ($n - 1 < 40 ? 2.03 : ($n - 1 < 120 ? 2.0 : 1.96));
	my $h = $t * $sd / sqrt($n);
	return { n => $n, gm => exp($m), lo => exp($m - $h), hi => exp($m + $h), sd => $sd, mean => $m };
}

# the alternating pairs: geometric mean over as many AB as BA pairs, and
# the advantage of the first position (mean of the log ratios signed by
# the order); the interval is of the ratios with that advantage taken out
sub balanced
{
	my ($pairs) = @_;
	my @p = @{ $pairs // [] };
	my $ab = grep { $_->{order} eq 'with first' } @p;
	my $n = scalar @p;
	return undef if $n < 4;
	@p = @p[ 0 .. $n - 2 ] if $ab * 2 != $n;    # an odd count: drop the last
	my $sign = sub { $_[0]{order} eq 'with first' ? 1 : -1 };
	my $first = 0;
	$first += $sign->($_) * log($_->{ratio}) / scalar(@p) foreach @p;
	my $g = geometric(\@p, sub { $sign->($_[0]) * $first });
	$g->{first_pct} = 100 * (exp($first) - 1);
	return $g;
}

# PASS when the interval is above the target, MISS when it is below,
# otherwise not shown either way at this noise
sub ratio_verdict
{
	my ($s, $what) = @_;
	my ($lo, $hi, $cov) = median_ci($s);
	if (!defined $lo)
	{
		return verdict($s->{median} >= 0.99, sprintf('%s: median %.3f, target >= 0.99', $what, $s->{median}));
	}
	my $ci = sprintf('%.3f to %.3f', $lo, $hi);
	$cov = sprintf('%.0f', $cov);
	return ('PASS', $ci, $cov) if $lo >= 0.99;
	return (verdict(0, sprintf('%s: median %.3f (%.0f %% interval %s), target >= 0.99',
			$what, $s->{median}, $cov, $ci)), $ci, $cov) if $hi < 0.99;
	push @misses, sprintf('%s: not shown either way: median %.3f, but its %.0f %% confidence '
		  . 'interval (%s) is wider than the 1 %% to resolve', $what, $s->{median}, $cov, $ci);
	return ('**NOT SHOWN** (noise)', $ci, $cov);
}

if (my $w = load_json("$dir/worker_cost.json"))
{
	my ($v, $ci, $cov) = ratio_verdict($w->{ratio}, 'worker cost, alternating runs');
	$body .= "## Worker cost (`bench/worker_cost.pl`)\n\n";
	$body .= "pgbench (TPC-B-like, scale $w->{scale}, `synchronous_commit = off`, shared_buffers "
	  . "256MB, fsync off as in every test cluster) on a primary with one streaming standby. "
	  . "*With*: `shared_preload_libraries = 'repmgr'`, worker at `monitor_interval = 1s`, the "
	  . "fence checked at every commit. *Without*: `shared_preload_libraries = ''` (restart; no "
	  . "worker, no commit hook).\n\n"
	  . "* **Alternating runs** (the figure of the target): `-c $w->{clients} -j $w->{clients}`, "
	  . "$w->{seconds} s per run after 5 s of warm-up, a restart before every run, $w->{n} pairs, "
	  . "the order flipping each pair (AB BA AB …). Ratio = with / without, per pair; the "
	  . "interval is a distribution-free confidence interval of the median ratio (order "
	  . "statistics). The server's CPU time per transaction (postmaster, children and reaped "
	  . "backends, from /proc) is shown beside.\n";
	$body .= "* **Empty commits**: after each of those runs, one backend commits "
	  . "$w->{commits_per_loop} transactions that only take a transaction id (`PERFORM "
	  . "txid_current(); COMMIT` in a DO loop), five times; the fastest counts. Its time on CPU "
	  . "(/proc/<pid>/schedstat) per commit is the commit path alone, where the fence check is "
	  . "the only difference.\n"
	  if $w->{commit_cpu_diff_us};
	$body .= "* **Simultaneous runs**: a second, identical primary + standby; one primary with "
	  . "repmgr and the other without take `pgbench -c 1 -j 1` for $w->{seconds} s at the same "
	  . "time, the roles swapping each pair, so that both meet the same neighbours.\n"
	  if $w->{simultaneous} && @{ $w->{simultaneous} };
	$body .= "\n";
	$body .= row('figure', 'min', 'median', 'max', 'n', 'target', 'result');
	$body .= row(('---') x 7);
	$body .= row('alternating: TPS ratio with / without', mmm($w->{ratio}, 4),
		'median ≥ 0.99', $v . ($ci ? " (median in $ci, $cov %)" : ''));
	$body .= row('alternating: TPS with', mmm($w->{with_tps}, 0), '', '');
	$body .= row('alternating: TPS without', mmm($w->{without_tps}, 0), '', '');
	$body .= row('alternating: server CPU per transaction, ratio with / without', mmm($w->{cpu_ratio}, 4), '', '');
	$body .= row('alternating: server CPU µs per transaction, with', mmm($w->{with_cpu_us_per_tx}, 0), '', '');
	$body .= row('alternating: server CPU µs per transaction, without', mmm($w->{without_cpu_us_per_tx}, 0), '', '');
	$body .= row("alternating: the primary's worker, CPU ms per second", mmm($w->{worker_cpu_ms_per_s}, 3), '', '')
	  if $w->{worker_cpu_ms_per_s};
	$body .= row("alternating: the primary's worker, share of the server's CPU (%)", mmm($w->{worker_cpu_share_pct}, 3), '', '')
	  if $w->{worker_cpu_share_pct};
	$body .= row("alternating: the standby's worker's session on the primary, share of the server's CPU, with (%)",
		mmm($w->{sessions_cpu_share_pct}, 3), '', '')
	  if $w->{sessions_cpu_share_pct};
	$body .= row("alternating: the same, without (%)", mmm($w->{without_sessions_cpu_share_pct}, 3), '', '')
	  if $w->{without_sessions_cpu_share_pct};
	$body .= row('CPU stolen by the host during the runs (%)', mmm($w->{steal_pct}, 1), '', '')
	  if $w->{steal_pct};
	my ($sv, $sci, $scov, $av);
	if ($w->{commit_cpu_diff_us})
	{
		$body .= row('empty commit, backend CPU µs, with', mmm($w->{with_commit_cpu_us}, 2), '', '');
		$body .= row('empty commit, backend CPU µs, without', mmm($w->{without_commit_cpu_us}, 2), '', '');
		$body .= row('empty commit, CPU with − without (µs), per pair', mmm($w->{commit_cpu_diff_us}, 2), '', '');
		$body .= row('empty commit, wall time ratio with / without', mmm($w->{commit_wall_ratio}, 4), '', '');
		if ($w->{accounted_pct})
		{
			my $a = $w->{accounted_pct};
			$av = verdict($a->{max} <= 1,
				sprintf('worker cost, accounted: up to %.3f %% of the server\'s CPU, target <= 1 %%', $a->{max}));
			$body .= row('accounted cost: worker CPU + extra commit CPU, share of the server\'s CPU (%)',
				mmm($a, 3), 'max ≤ 1 %', $av);
		}
	}
	if ($w->{simultaneous_ratio} && $w->{simultaneous_ratio}{n})
	{
		($sv, $sci, $scov) = ratio_verdict($w->{simultaneous_ratio}, 'worker cost, simultaneous runs');
		$body .= row('simultaneous: TPS ratio with / without', mmm($w->{simultaneous_ratio}, 4),
			'median ≥ 0.99', $sv . ($sci ? " (median in $sci, $scov %)" : ''));
		$body .= row('simultaneous: TPS with', mmm($w->{simultaneous_with_tps}, 0), '', '');
		$body .= row('simultaneous: TPS without', mmm($w->{simultaneous_without_tps}, 0), '', '');
	}
	$body .= "\nPer pair (alternating): "
	  . join('; ', map {
			sprintf('%s %.0f/%.0f tps = %.3f', $_->{order} eq 'with first' ? 'AB' : 'BA',
				$_->{with_tps}, $_->{without_tps}, $_->{ratio})
		} @{ $w->{pairs} })
	  . sprintf('. Ratio of the medians: %.4f. Runs of the *same* configuration ranged from '
		  . '%.0f to %.0f tps without repmgr and %.0f to %.0f with it, within one sitting: the '
		  . 'neighbours on this shared machine move TPS far more than the 1 %% to be resolved.', $w->{ratio_of_medians}, $w->{without_tps}{min},
		$w->{without_tps}{max}, $w->{with_tps}{min}, $w->{with_tps}{max})
	  . "\n";
	if (my $b = balanced($w->{pairs}))
	{
		$body .= sprintf("\nBalanced over the order (the geometric mean of the %d pair ratios, as "
			  . "many with first as without first, so that an advantage of one position cancels): "
			  . "%.4f, 95 %% t-interval %.4f to %.4f. The first run of a pair was %+.1f %% faster "
			  . "than the second on average, whichever configuration it had.\n",
			$b->{n}, $b->{gm}, $b->{lo}, $b->{hi}, $b->{first_pct});
	}
	$body .= "\nPer pair (simultaneous): "
	  . join('; ', map { sprintf('with on %s %.0f/%.0f tps = %.3f', $_->{with_on}, $_->{with_tps},
				$_->{without_tps}, $_->{ratio}) } @{ $w->{simultaneous} })
	  . ".\n"
	  if $w->{simultaneous} && @{ $w->{simultaneous} };
	if (my $g = geometric($w->{simultaneous}))
	{
		$body .= sprintf("\nSimultaneous runs, geometric mean of the %d pair ratios: %.4f, 95 %% "
			  . "t-interval %.4f to %.4f (spread of one pair: %.1f %%).\n",
			$g->{n}, $g->{gm}, $g->{lo}, $g->{hi}, 100 * $g->{sd});
	}
	if ($w->{with_commit_cpu_us})
	{
		my $d = $w->{with_commit_cpu_us}{min} - $w->{without_commit_cpu_us}{min};
		$body .= sprintf("\nFastest empty commit of the whole sitting: %.2f µs of CPU with repmgr, "
			  . "%.2f µs without (difference %+.2f µs); a pgbench transaction costs the server "
			  . "about %.0f µs of CPU.\n", $w->{with_commit_cpu_us}{min},
			$w->{without_commit_cpu_us}{min}, $d, $w->{without_cpu_us_per_tx}{median});
	}
	$body .= "\n";
	push @summary, row('worker cost, alternating: TPS ratio with / without', mmm($w->{ratio}, 4),
		'median ≥ 0.99', $v);
	push @summary, row('worker cost, simultaneous: TPS ratio with / without',
		mmm($w->{simultaneous_ratio}, 4), 'median ≥ 0.99', $sv)
	  if $sv;
	push @summary, row('worker cost: server CPU per transaction, ratio', mmm($w->{cpu_ratio}, 4), '', '');
	push @summary, row('worker cost: empty commit, CPU with − without (µs)', mmm($w->{commit_cpu_diff_us}, 2), '', '')
	  if $w->{commit_cpu_diff_us};
	push @summary, row('worker cost, accounted: worker CPU + extra commit CPU, share of the server\'s CPU (%)',
		mmm($w->{accounted_pct}, 3), 'max ≤ 1 %', $av)
	  if $av;
}

# ---- scale
if (my $c = load_json("$dir/sync_cost.json"))
{
	my ($v, $ci, $cov) = ratio_verdict($c->{cost_ratio}, 'managed synchronous replication');
	$body .= "## Managed synchronous replication: cost (`bench/sync_cost.pl`)\n\n";
	$body .= "Two identical clusters A and B (a primary and two standbys each, workers "
	  . "monitoring), `pgbench -c $c->{clients} -j 1` (TPC-B-like, scale $c->{scale}, "
	  . "`synchronous_commit = on`, fsync off as in every test cluster) on both primaries at "
	  . "the same time for $c->{seconds} s, $c->{pairs} pairs per phase. *Control*: both with "
	  . "`synchronous_standby_names = 'ANY 1 (both standbys)'` written by hand. *Managed*: B "
	  . "with `repmgr.synchronous = on` instead (its worker wrote `$c->{managed_names}`), both "
	  . "of its standbys `quorum` before every pair. Ratio = TPS of B / TPS of A; the cost is "
	  . "each managed pair's ratio over the control's median ratio.\n\n";
	$body .= row('figure', 'min', 'median', 'max', 'n', 'target', 'result');
	$body .= row(('---') x 7);
	$body .= row('TPS B / A, control (both by hand)', mmm($c->{control_ratio}, 4), '', '');
	$body .= row('TPS B / A, B managed', mmm($c->{managed_ratio}, 4), '', '');
	$body .= row('managed / control', mmm($c->{cost_ratio}, 4),
		'median ≥ 0.99', $v . ($ci ? " (median in $ci, $cov %)" : ''));
	$body .= row('TPS, B managed', mmm($c->{managed_tps}, 0), '', '');
	$body .= row('TPS, A by hand (same pairs)', mmm($c->{hand_tps}, 0), '', '');
	$body .= "\n";
	push @summary, row('managed synchronous replication: TPS managed / by hand', mmm($c->{cost_ratio}, 4),
		'median ≥ 0.99', $v);
}

if (my $s = load_json("$dir/scale.json"))
{
	$body .= "## Scale (`bench/scale.pl`)\n\n";
	$body .= "One primary and N standbys on this machine, default settings "
	  . "(`repmgr.connect_timeout = 1s`). `cluster_show()`: 20 calls on the primary over one "
	  . "session. Blackholed node: a registered node whose conninfo points at a TCP listener that "
	  . "never accepts, 5 calls. Failover: as in the failover benchmark, $s->{runs} runs per size, "
	  . "each on a fresh cluster; *all following*: kill -9 → every other standby streams from the "
	  . "new primary.\n\n";
	$body .= row('standbys', 'figure', 'min', 'median', 'max', 'n', 'target', 'result');
	$body .= row(('---') x 8);
	foreach my $r (@{ $s->{sizes} })
	{
		my $n = $r->{standbys};
		$body .= row($n, '`cluster_show()` (ms)', mmm($r->{cluster_show_ms}, 1), '', '');
		foreach my $holes (1, 3)
		{
			my $h = $r->{"blackhole${holes}_ms"} or next;
			my $v = verdict($h->{median} < 1500, "cluster_show() with $holes blackholed node(s) and "
				  . "$n standbys: median " . num($h->{median}) . ' ms, target one connect timeout (1 s)');
			my $label = "`cluster_show()`, $holes blackholed node" . ($holes > 1 ? 's' : '') . ' (ms)';
			$body .= row('', $label, mmm($h), '≈ 1 connect timeout (< 1500)', $v);
			push @summary, row("scale, $n standbys: $label", mmm($h), '≈ 1 connect timeout', $v);
		}
		$body .= row('', 'failover: unavailable (ms)', mmm($r->{unavailable_ms}), '', '');
		$body .= row('', 'failover: all following (ms)', mmm($r->{follow_ms}), '', '');
		$body .= row('', 'failover: acknowledged writes lost', mmm($r->{lost}), '', '');
		push @summary, row("scale, $n standbys: `cluster_show()` (ms)", mmm($r->{cluster_show_ms}, 1), '', '');
		push @summary, row("scale, $n standbys: failover unavailable (ms)", mmm($r->{unavailable_ms}), '', '');
		push @summary, row("scale, $n standbys: failover, all following (ms)", mmm($r->{follow_ms}), '', '');
	}
	$body .= "\n";
}

# ---- worker memory
if (my $m = load_json("$dir/worker_memory.json"))
{
	$body .= "## Worker memory (`bench/worker_memory.pl`)\n\n";
	$body .= "A primary and a standby at `repmgr.monitor_interval = $m->{monitor_interval}` with "
	  . "`monitoring_history = on`, the prober writing every 10 ms. After $m->{warmup} iterations "
	  . "of warm-up, each worker's /proc/<pid>/status is read every 250 ms until it has done "
	  . "$m->{loops_wanted} more iterations (as many as "
	  . sprintf('%.1f', $m->{loops_wanted} / 3600) . " hours at the default 1 s). *RssAnon* is "
	  . "the worker's private memory, where a leak would show; *VmRSS* also counts the shared "
	  . "memory it touched. Flat: the median RssAnon of the last 1,000 iterations within 64 kB of "
	  . "that of the first 1,000 after the warm-up.\n\n";
	$body .= row('worker', 'iterations', 'seconds', 'RssAnon first → last 1,000 (median, kB)',
		'RssAnon min / median / max (kB)', 'VmRSS baseline → end (kB)', 'samples', 'target', 'result');
	$body .= row(('---') x 9);
	foreach my $w (@{ $m->{workers} })
	{
		my $v = verdict($w->{flat}, "worker memory ($w->{role}): RssAnon grew by "
			  . "$w->{rss_anon_growth_kb} kB (median of the last 1,000 iterations against the first) over $w->{loops} iterations");
		my @a = mmm($w->{rss_anon_kb});
		$body .= row($w->{role}, $w->{loops}, num($w->{seconds}),
			"$w->{first_kb} → $w->{last_kb}", "$a[0] / $a[1] / $a[2]",
			"$w->{base}{VmRSS} → $w->{end}{VmRSS}", $w->{samples}, 'flat', $v);
		push @summary, row("worker memory, $w->{role}: RssAnon (kB) over $w->{loops} iterations",
			mmm($w->{rss_anon_kb}), 'flat', $v);
	}
	$body .= "\nEvery 1,000 iterations (iterations: RssAnon / VmRSS kB):\n\n";
	foreach my $w (@{ $m->{workers} })
	{
		$body .= "* $w->{role}: "
		  . join(', ', map { ($_->{loops} - $w->{base}{loops}) . ": $_->{RssAnon}/$_->{VmRSS}" }
			  @{ $w->{every_1000} })
		  . "\n";
	}
	$body .= "\n";
}

# ---- the HTTP endpoint
if (my $h = load_json("$dir/http.json"))
{
	$body .= "## HTTP endpoint (`bench/http.pl`)\n\n";
	if (my $t = $h->{throughput})
	{
		$body .= "`GET $t->{path}` with $t->{clients} concurrent clients (bench/httpload, C threads, "
		  . "one request per connection as a load balancer's check, $t->{seconds} s a run) on a "
		  . "registered primary, client and server on the same machine.\n\n";
		$body .= row('figure', 'min', 'median', 'max', 'n');
		$body .= row(('---') x 5);
		$body .= row('requests per second', mmm($t->{rps}));
		$body .= row('p50 latency (µs)', mmm($t->{p50_us}));
		$body .= row('p99 latency (µs)', mmm($t->{p99_us}));
		$body .= row('max latency (µs)', mmm($t->{max_us}));
		$body .= row('HTTP worker CPU per request (µs)', mmm($t->{cpu_us_per_request}, 1))
		  if $t->{cpu_us_per_request};
		$body .= row('errors / non-200 answers', num($t->{errors}{max}) . ' / ' . num($t->{non_200}{max}), '', '', '');
		$body .= "\n`/metrics` (which includes the cached cluster_show()), same clients, one 5 s run: "
		  . num($t->{metrics_rps}) . " requests/s, p99 " . num($t->{metrics_p99_us}) . " µs.";
		$body .= " One client alone: p50 " . num($t->{one_client}{p50_us}) . " µs, p99 "
		  . num($t->{one_client}{p99_us}) . " µs." if $t->{one_client};
		$body .= " Load average at the end of these runs: $t->{load_average} (the machine is shared; "
		  . "with 64 closed-loop clients the latency is 64 / throughput by Little's law, so it "
		  . "measures the CPU left to the endpoint, not the endpoint; the CPU per request does not "
		  . "depend on it)." if $t->{load_average};
		$body .= "\n\n";
		push @summary, row('HTTP /primary, 64 clients: requests/s', mmm($t->{rps}), '', '');
		push @summary, row('HTTP /primary, 64 clients: p99 latency (µs)', mmm($t->{p99_us}), '', '');
		push @summary, row('HTTP /primary: worker CPU per request (µs)', mmm($t->{cpu_us_per_request}, 1), '', '')
		  if $t->{cpu_us_per_request};
	}
	if ($h->{failover})
	{
		$body .= "Failover through HAProxy next to the multi-host URI: a fresh primary + 2 standbys "
		  . "per run (endpoint on every node), two write probers every 5 ms side by side through "
		  . "the same kill -9: one through HAProxy's read-write address (README haproxy.cfg: "
		  . "`option httpchk OPTIONS /primary`, `on-marked-down shutdown-sessions`), one through "
		  . "`target_session_attrs=read-write`. Each figure: kill → first write acknowledged by the "
		  . "new primary. *Attack*: during the failover every node's endpoint is hammered "
		  . "(bench/httpload, 4 clients on /primary and 4 on /metrics) and held by 100 slow clients.\n\n";
		$body .= row('configuration', 'HAProxy checks', 'figure', 'min', 'median', 'max', 'n', 'target', 'result');
		$body .= row(('---') x 9);
		foreach my $c (@{ $h->{failover} })
		{
			my ($v, $target) = ('', '');
			if ($c->{settings} eq 'tight')
			{
				$target = 'median ≤ +1000 ms';
				$v = verdict($c->{difference_ms}{median} <= 1000,
					"failover through HAProxy, $c->{label}: median "
					  . num($c->{difference_ms}{median}) . " ms behind the multi-host URI, target ≤ 1000 ms");
			}
			$body .= row($c->{label}, "`$c->{haproxy_checks}`", 'through HAProxy (ms)', mmm($c->{haproxy_ms}), '', '');
			$body .= row('', '', 'multi-host URI (ms)', mmm($c->{multi_ms}), '', '');
			$body .= row('', '', 'HAProxy − URI (ms)', mmm($c->{difference_ms}), $target, $v);
			$body .= row('', '', 'old-primary writes after the first new one', mmm($c->{old_after_new}), '0', '');
			$body .= row('', '', 'failed runs: ' . join('; ', @{ $c->{failed_runs} }), '', '', '', '', '', '')
			  if $c->{failed_runs} && @{ $c->{failed_runs} };
			push @summary, row("failover through HAProxy, $c->{label}: HAProxy − URI (ms)",
				mmm($c->{difference_ms}), $target, $v) if $target;
		}
		$body .= "\nSettings: " . join('; ', map {
				my $s = $_->{settings_values};
				"**$_->{label}**: " . join(', ', map { "`$_ = $s->{$_}`" } sort keys %$s)
			} grep { !$_->{attack} } @{ $h->{failover} }) . ".\n\n";
	}
}

# ---- status of the scripts
my @failed;
if (my $st = slurp("$dir/status.tsv"))
{
	foreach (split /\n/, $st)
	{
		my ($b, $rc, $secs) = split /\t/;
		push @failed, "bench/$b.pl (exit $rc)" if $rc != 0;
	}
}

# ---- the page
my $mach = $meta->{machine} // machine();
$md .= "# Benchmark results\n\n";
$md .= "Written by `bench/report.pl` from a run of the whole suite; do not edit by hand "
  . "(run it again instead). What each benchmark measures and how: the header of each "
  . "`bench/*.pl`, and bench/README.md.\n\n";
$md .= "* **Command**: `$meta->{command}` (as root, from the top of the repository)\n" if $meta->{command};
$md .= "* **Date**: $meta->{started}, in one sitting of "
  . sprintf('%d min %02d s', floor(($meta->{seconds} // 0) / 60), ($meta->{seconds} // 0) % 60) . "\n"
  if $meta->{started};
$md .= "* **repmgr**: commit $meta->{commit}\n" if $meta->{commit};
$md .= "* **Machine**: $mach->{cpu}, $mach->{cpus} CPUs, $mach->{ram} RAM"
  . ($mach->{virtualization} ? " ($mach->{virtualization} virtual machine)" : '')
  . "; $mach->{os}; $mach->{kernel}\n";
$md .= "* **PostgreSQL**: $mach->{postgres}\n";
$md .= "* **Load average** (1/5/15 min) at the start: $meta->{load_start}; at the end: "
  . "$meta->{load_end}. The machine is shared: other work ran beside the benchmarks.\n"
  if $meta->{load_start};
$md .= "* Each figure: min / median / max of n runs (or samples), all in this sitting.\n\n";
$md .= "**Failed scripts**: " . join(', ', @failed) . " — their figures are missing below.\n\n"
  if @failed;

$md .= "## Summary\n\n";
$md .= row('figure', 'min', 'median', 'max', 'n', 'target', 'result');
$md .= row(('---') x 7);
$md .= join('', @summary);
$md .= "\n";
if (@misses)
{
	$md .= "**Missed targets**:\n\n" . join('', map { "* $_\n" } @misses)
	  . "\nWhy, and what it would take: see *Notes* at the end.\n\n";
}
else
{
	$md .= "Every figure with a target met it.\n\n";
}
$md .= $body;

# the results of "make chaos" (bench/CHAOS.md: its own runs, not this sitting's)
if (my $chaos = slurp("$FindBin::RealBin/CHAOS.md"))
{
	$md .= $chaos;
}

# hand-written notes on the figures of this run (misses, analysis)
if (my $notes = slurp($opt{notes} // "$FindBin::RealBin/NOTES.md"))
{
	$md .= $notes;
}
print $md;
