#!/usr/bin/perl
# bench/chaos_report.pl — bench/CHAOS.md from the results of "make chaos"
# (bench/out/chaos-async.json and chaos-sync.json, written by t/Chaos.pm):
# per fault, the failover times, the longest write gap, the milliseconds
# with two nodes acknowledging writes, the acknowledged writes lost and the
# cycles healed; then every cycle.  bench/report.pl appends CHAOS.md to
# RESULTS.md.
#
#   chaos_report.pl [--out DIR] [--commit SHA] [--date DATE] > bench/CHAOS.md
use strict;
use warnings;

use FindBin;
use Getopt::Long;
use JSON::PP;

my %opt = (out => "$FindBin::RealBin/out");
GetOptions(\%opt, 'out=s', 'commit=s', 'date=s') or die "usage: chaos_report.pl [--out DIR] [--commit SHA] [--date DATE]\n";

my @faults = qw(kill9 sigstop linkdown reject oneway witness_primary restart two_candidates standby_killed);

sub median
{
	my @v = sort { $a <=> $b } @_;
	return undef unless @v;
	return @v % 2 ? $v[ $#v / 2 ] : ($v[ @v / 2 - 1 ] + $v[ @v / 2 ]) / 2;
}

sub max0
{
	my $m = 0;
	foreach (@_) { $m = $_ if defined $_ && $_ > $m }
	return $m;
}

sub sum0
{
	my $s = 0;
	$s += $_ // 0 foreach @_;
	return $s;
}

my $md = "## Chaos (`make chaos`, `bench/chaos.pl`)\n\n";
$md .= "Fault cycles on a primary, three standbys and a witness, each server in its own network namespace, "
  . "at the shipped settings; a write prober next to every data node (writing to it directly) and one through "
  . "the multi-host read-write connection string. *Failover*: fault → first write acknowledged to the "
  . "application by another node. *Gap*: longest time without a write acknowledged to the application. "
  . "*Two primaries*: for any two nodes that acknowledged writes in the cycle (any prober), the overlap of "
  . "[first write started, last acknowledged]. *Lost*: acknowledged writes missing on the primary after "
  . "healing. *Healed*: the old primary rejoined (`node rejoin --force-rewind`), every standby streaming from "
  . "the new primary, the witness watching it. How each is measured: `t/Chaos.pm`. These runs are not part of "
  . "the sitting above";
$md .= $opt{date} ? " ($opt{date}" . ($opt{commit} ? ", commit $opt{commit}" : '') . ")" : '';
$md .= ".\n\n";

foreach my $mode ('async', 'sync')
{
	my $file = "$opt{out}/chaos-$mode.json";
	next unless -f $file;
	open my $fh, '<', $file or die "$file: $!";
	local $/;
	my $data = decode_json(<$fh>);
	close $fh;
	my @r = @{ $data->{cycles} };
	$md .= sprintf("### %s replication: %d cycles, seed %d\n\n",
		$mode eq 'sync' ? 'Synchronous' : 'Asynchronous', scalar @r, $data->{seed});
	$md .= "| fault | cycles | failover ms (min / median / max) | longest gap ms | two primaries ms | acknowledged writes lost | healed |\n";
	$md .= "| --- | --- | --- | --- | --- | --- | --- |\n";
	foreach my $f (@faults, 'all')
	{
		my @c = $f eq 'all' ? @r : grep { $_->{fault} eq $f } @r;
		next unless @c;
		my @fo = sort { $a <=> $b } grep { defined } map { $_->{failover_ms} } @c;
		my $none = grep { !defined $_->{failover_ms} } @c;
		$md .= sprintf("| %s | %d | %s%s | %d | %s | %d of %d | %s |\n",
			$f eq 'all' ? '**all**' : $f, scalar @c,
			@fo ? sprintf('%d / %d / %d', $fo[0], median(@fo), $fo[-1]) : '-',
			$none ? " ($none without failover)" : '',
			max0(map { $_->{gap_ms} } @c),
			max0(map { $_->{two_primary_ms} } @c) ? '**' . max0(map { $_->{two_primary_ms} } @c) . '**' : '0',
			sum0(map { $_->{lost} } @c), sum0(map { $_->{acked} } @c),
			(grep { !$_->{healed} } @c) ? sprintf('**%d of %d**', scalar(grep { $_->{healed} } @c), scalar @c)
			: sprintf('%d of %d', scalar @c, scalar @c));
	}
	$md .= "\n<details><summary>every cycle</summary>\n\n```\n";
	foreach my $c (@r)
	{
		$md .= sprintf("%2d %-15s %s -> %-5s failover %6s ms  gap %6d ms  two-primary %4d ms  lost %3s of %5d  healed %s%s\n",
			$c->{cycle}, $c->{fault}, $c->{old}, $c->{new} // 'none', $c->{failover_ms} // '-',
			$c->{gap_ms}, $c->{two_primary_ms}, $c->{lost} // '-', $c->{acked}, $c->{healed} ? 'yes' : 'NO',
			@{ $c->{notes} } ? ' (' . join('; ', @{ $c->{notes} }) . ')' : '');
	}
	$md .= "```\n\n</details>\n\n";
}
print $md;
