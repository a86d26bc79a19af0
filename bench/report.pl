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
# hand for the run in RESULTS.md) are appended.  Prints Markdown.
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
	my $ok = $s->{unavailable_ms}{median} < 200;
	my $v = verdict($ok, 'switchover: median unavailability '
		  . num($s->{unavailable_ms}{median}) . ' ms, target < 200 ms');
	$body .= "## Switchover (`bench/switchover.pl`)\n\n";
	$body .= "`repmgr -f <standby>.conf -C <primary>.conf --siblings-follow standby switchover`, "
	  . "node1 → node2 and back, node3 following each time (the old primary's data directory on "
	  . "this host, so no ssh), workers automatic; bench/prober writing every 5 ms through the "
	  . "multi-host read-write connection. *Unavailable*: last write acknowledged by the old "
	  . "primary → first by the new one. *Command*: the whole `repmgr` run (pausing the workers, "
	  . "stopping the primary, promoting, restarting the old primary as a standby, the sibling "
	  . "following, unpausing).\n\n";
	$body .= row('figure', 'min', 'median', 'max', 'n', 'target', 'result');
	$body .= row(('---') x 7);
	$body .= row('write unavailability (ms)', mmm($s->{unavailable_ms}), 'median < 200 ms', $v);
	$body .= row('command duration (ms)', mmm($s->{command_ms}), '', '');
	$body .= "\nPer switchover (ms): "
	  . join(', ', map { "node$_->{from}→node$_->{to} " . num($_->{unavailable_ms}) } @{ $s->{runs} })
	  . ". Writes acknowledged over the whole run: $s->{acked}, missing on the final primary: "
	  . "$s->{lost}. For comparison (measured elsewhere): repmgr 5.3 about 210 ms, "
	  . "pg_auto_failover 2.0 about 1 s, Patroni 3.0 about 1.3 s.\n\n";
	push @summary, row('switchover: write unavailability (ms)', mmm($s->{unavailable_ms}),
		'median < 200 ms', $v);
}

# ---- worker cost
if (my $w = load_json("$dir/worker_cost.json"))
{
	my $ok = $w->{ratio}{median} >= 0.99;
	my $v = verdict($ok, sprintf('worker cost: median TPS ratio %.3f, target >= 0.99',
			$w->{ratio}{median}));
	$body .= "## Worker cost (`bench/worker_cost.pl`)\n\n";
	$body .= "pgbench (TPC-B-like, `-c $w->{clients} -j $w->{clients}`, $w->{seconds} s per run "
	  . "after 5 s of warm-up, scale $w->{scale}, `synchronous_commit = off`, shared_buffers "
	  . "256MB) on a primary with one streaming standby. *With*: `shared_preload_libraries = "
	  . "'repmgr'`, worker at `monitor_interval = 1s`, the fence checked at every commit. "
	  . "*Without*: `shared_preload_libraries = ''` (restart; no worker, no commit hook). "
	  . "$w->{n} pairs of runs, alternating and flipping the order each pair (AB BA AB …), "
	  . "a restart before every run. Ratio = with / without, per pair. The server's CPU time per "
	  . "transaction (postmaster, children and reaped backends, from /proc) is less sensitive "
	  . "to the neighbours of a shared machine than TPS and is shown beside.\n\n";
	$body .= row('figure', 'min', 'median', 'max', 'n', 'target', 'result');
	$body .= row(('---') x 7);
	$body .= row('TPS ratio with / without', mmm($w->{ratio}, 4), 'median ≥ 0.99', $v);
	$body .= row('TPS with', mmm($w->{with_tps}, 0), '', '');
	$body .= row('TPS without', mmm($w->{without_tps}, 0), '', '');
	$body .= row('server CPU per transaction, ratio with / without', mmm($w->{cpu_ratio}, 4), '', '')
	  if $w->{cpu_ratio};
	$body .= row('server CPU µs per transaction, with', mmm($w->{with_cpu_us_per_tx}, 0), '', '')
	  if $w->{with_cpu_us_per_tx};
	$body .= row('server CPU µs per transaction, without', mmm($w->{without_cpu_us_per_tx}, 0), '', '')
	  if $w->{without_cpu_us_per_tx};
	$body .= "\nPer pair: "
	  . join('; ', map {
			sprintf('%s %.0f/%.0f tps = %.3f', $_->{order} eq 'with first' ? 'AB' : 'BA',
				$_->{with_tps}, $_->{without_tps}, $_->{ratio})
		} @{ $w->{pairs} })
	  . sprintf('. Ratio of the medians: %.4f. The spread of TPS between runs of the *same* '
		  . 'configuration (without: %.0f to %.0f tps, %.0f %%) is what this machine allows '
		  . 'to resolve.', $w->{ratio_of_medians}, $w->{without_tps}{min}, $w->{without_tps}{max},
		100 * ($w->{without_tps}{max} - $w->{without_tps}{min}) / $w->{without_tps}{median})
	  . "\n\n";
	push @summary, row('worker cost: TPS ratio with / without', mmm($w->{ratio}, 4), 'median ≥ 0.99', $v);
	push @summary, row('worker cost: server CPU per transaction, ratio', mmm($w->{cpu_ratio}, 4), '', '')
	  if $w->{cpu_ratio};
}

# ---- scale
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

# hand-written notes on the figures of this run (misses, analysis)
if (my $notes = slurp($opt{notes} // "$FindBin::RealBin/NOTES.md"))
{
	$md .= $notes;
}
print $md;
