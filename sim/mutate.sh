#!/usr/bin/env bash
#
# mutate.sh - mutation testing of the worker's core against the simulation
# (make mutate).
#
# Each mutant of sim/mutants.txt breaks one rule of the core the
# simulation links (src/decide.c, votemem.c, step*.c): an exact text of a
# file, which must occur there exactly once, replaced by another.  For
# each, in a copy of src/, sim/ and common/ under a temporary directory:
# apply it, build sim/sim with the flags of "make sim/sim", run the
# regression seeds (sim/regress.txt), then the mutant's own seeds (seed:,
# schedules that killed it once), then MUTATE_SEEDS schedules from seed
# MUTATE_FIRST, each with the mutant's own simulator options, until the
# first violation (killed) or the end of the budget (survived).  Mutants
# run MUTATE_JOBS at a time.
#
#   MUTATE_SEEDS    schedules per mutant (default 3000)
#   MUTATE_FIRST    the first seed (default 1)
#   MUTATE_JOBS     mutants run side by side (default 2)
#   MUTATE_ONLY     an extended regular expression: only the mutants whose
#                   name matches
#   MUTATE_LIST     the list (default sim/mutants.txt)
#   MUTATE_TIMEOUT  seconds a mutant's simulation may take (default 600):
#                   one that hangs counts as killed ("timeout")
#   MUTATE_FRESH    1: ignore the mutants' own seeds (seed:), search from
#                   MUTATE_FIRST only
#   MUTATE_BUILD    the build command, run in the copy (default: the one
#                   "make -n sim/sim" prints; make mutate passes it)
#   MUTATE_SIM_ARGS more simulator options for every mutant
#   MUTATE_KEEP     a directory: keep each mutant's simulator there, by
#                   name, to study a survivor
#
# Prints a line per mutant (its name, killed or survived, by which seed or
# regression case and which property, schedules run, seconds; "seed S
# (own)" when one of its own seeds killed it); the last
# line is "mutants: N killed of M".  Exits non-zero if a mutant does not
# apply or does not build, if a schedule that kills a mutant fails with the
# unmutated core too (or the regression seeds do), or if fewer than 95 %
# are killed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
list=${MUTATE_LIST:-$here/mutants.txt}
seeds=${MUTATE_SEEDS:-3000}
first=${MUTATE_FIRST:-1}
jobs=${MUTATE_JOBS:-2}
only=${MUTATE_ONLY:-}
limit=${MUTATE_TIMEOUT:-600}
build=${MUTATE_BUILD:-}
keep=${MUTATE_KEEP:-}
extra=${MUTATE_SIM_ARGS:-}
fresh=${MUTATE_FRESH:-}

if [ -z "$build" ]; then
	build=$(cd "$top" && make --no-print-directory -n -B sim/sim 2>/dev/null | grep -e '-o sim/sim' | tail -n 1)
	if [ -z "$build" ]; then
		echo "mutate: cannot find the build command of sim/sim (make -n sim/sim)" >&2
		exit 2
	fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/repmgr-mutate.XXXXXX")
trap 'rm -rf "$work"' EXIT

# the list, one directory per mutant: name, rule, file, sim, seed, old, new
perl -e '
	use strict;
	use warnings;
	my ($list, $out, $only) = @ARGV;
	open(my $in, "<", $list) or die "mutate: $list: $!\n";
	my (@m, $cur, $part);
	my $ln = 0;
	sub bad { die "mutate: $list line $ln: $_[0]\n" }
	while (my $l = <$in>)
	{
		$ln++;
		chomp $l;
		if ($l =~ /^=== (\S+)\s*$/)
		{
			$cur = { name => $1, line => $ln, rule => "", file => "", sim => "",
					 seed => "", old => [], new => [] };
			push @m, $cur;
			$part = "head";
			next;
		}
		if (!defined $cur || $part eq "head")
		{
			next if $l =~ /^\s*(#.*)?$/;
			bad("text outside a mutant: $l") unless defined $cur;
			if ($l =~ /^(rule|file|sim|seed):\s*(.*?)\s*$/) { $cur->{$1} = $2; next }
			if ($l eq "--- old") { $part = "old"; next }
			bad("expected rule:, file:, sim:, seed: or --- old, not: $l");
		}
		if ($part eq "old" && $l eq "--- new") { $part = "new"; $cur->{has_new} = 1; next }
		bad("a second --- old or --- new") if $l eq "--- old" || $l eq "--- new";
		push @{ $cur->{$part} }, $l;
	}
	my (%seen, $n);
	for my $x (@m)
	{
		$ln = $x->{line};
		bad("mutant $x->{name} twice") if $seen{ $x->{name} }++;
		bad("mutant $x->{name}: no rule:") if $x->{rule} eq "";
		bad("mutant $x->{name}: no file:") if $x->{file} eq "";
		bad("mutant $x->{name}: seed: takes seed numbers") unless $x->{seed} =~ /^[0-9 ]*$/;
		# blank lines before the next mutant are not part of the text
		for my $p ("old", "new")
		{
			pop @{ $x->{$p} } while @{ $x->{$p} } && $x->{$p}[-1] =~ /^\s*$/;
		}
		bad("mutant $x->{name}: no --- new") unless $x->{has_new};
		bad("mutant $x->{name}: empty old text") unless @{ $x->{old} };
		next if $only ne "" && $x->{name} !~ /$only/;
		my $d = sprintf("%s/%03d", $out, ++$n);
		mkdir $d or die "$d: $!\n";
		for my $k ("name", "rule", "file", "sim", "seed")
		{
			open(my $f, ">", "$d/$k") or die; print $f $x->{$k}; close $f;
		}
		for my $k ("old", "new")
		{
			open(my $f, ">", "$d/$k") or die; print $f join("\n", @{ $x->{$k} }); close $f;
		}
	}
' "$list" "$work" "$only" || exit 2

# apply a mutant: OLD must occur exactly once in the file
apply() {
	perl -e '
		my ($file, $oldf, $newf) = @ARGV;
		local $/;
		open(my $f, "<", $file) or do { print "does not apply: no file $file\n"; exit 1 };
		my $src = <$f>; close $f;
		open($f, "<", $oldf) or die; my $old = <$f>; close $f;
		open($f, "<", $newf) or die; my $new = <$f>; close $f;
		my ($n, $at, $pos) = (0, -1, 0);
		while (($pos = index($src, $old, $pos)) >= 0) { $at = $pos if $n++ == 0; $pos++ }
		if ($n != 1) { print "does not apply: its old text occurs $n times in $file\n"; exit 1 }
		substr($src, $at, length($old)) = $new;
		open($f, ">", $file) or die; print $f $src; close $f;
	' "$@"
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# The build command of "make sim/sim" is split in two with the same
# flags: each source compiled once for the unmutated tree, then for a
# mutant only the file it changes (every file, for a header), and linked.
cc=${build%% -o sim/sim *}
srcs=${build#* -o sim/sim }
if [ "$cc" = "$build" ] || [ "$srcs" = "$build" ]; then
	echo "mutate: the build command does not end with -o sim/sim SOURCES: $build" >&2
	exit 2
fi
objs=$(for f in $srcs; do echo -n "${f%.c}.o "; done)

compile() {
	local tree=$1 f
	shift
	for f in "$@"; do
		(cd "$tree" && eval "$cc -c $f -o ${f%.c}.o") || return 1
	done
	(cd "$tree" && eval "$cc -o sim/sim $objs")
}

# the unmutated tree, built in $work/base
build_base() {
	local tree=$work/base
	mkdir "$tree"
	cp -r "$top/src" "$top/sim" "$top/common" "$tree/"
	rm -f "$tree/sim/sim"
	if ! compile "$tree" $srcs >"$tree/build.log" 2>&1; then
		echo "does not build: $(grep -m1 -e 'error' "$tree/build.log")"
		return 1
	fi
}

# a copy of the unmutated tree in $1 with the mutant of $2 applied and built
build_mutant() {
	local tree=$1 d=$2 file why f
	local redo=""
	file=$(cat "$d/file")
	cp -r "$work/base" "$tree"
	rm -f "$tree/sim/sim"
	if ! why=$(apply "$tree/$file" "$d/old" "$d/new"); then
		echo "$why"
		return 1
	fi
	for f in $srcs; do
		[ "$f" = "$file" ] && redo=$f
	done
	case $file in
		*.h) redo=$srcs ;;
	esac
	if [ -z "$redo" ]; then
		echo "does not apply: $file is not a source of sim/sim"
		return 1
	fi
	if ! compile "$tree" $redo >"$tree/build.log" 2>&1 || [ ! -x "$tree/sim/sim" ]; then
		echo "does not build: $(grep -m1 -e 'error' "$tree/build.log")"
		return 1
	fi
}

# schedules $1 to $1 + $2 - 1 of the mutant in $tree, up to the first
# violation (its trace is cut off): sets status (empty: no violation;
# survived: none in the budget, $3 empty),
# by, prop, and adds the schedules run to runs
search() {
	local from=$1 count=$2 tag=$3 line s rc
	(cd "$tree" && timeout "$limit" ./sim/sim --first "$from" --seeds "$count" $sim) 2>&1 |
		awk '/^seed [0-9]+ \(/ { print; exit } /^sim: [0-9]+ schedules/ { print }' >"$d/sim.out"
	rc=${PIPESTATUS[0]}
	line=$(grep -m1 '^seed ' "$d/sim.out")
	if [ -n "$line" ]; then
		s=$(echo "$line" | awk '{ print $2 }')
		status=killed
		by="seed $s$tag $(echo "$line" | sed 's/^seed [0-9]* (\([a-z]*\) settings).*/\1/')"
		prop=${line#*): }
		runs=$((runs + s - from + 1))
		# the unmutated core must pass that schedule
		if ! "$work/base/sim/sim" --first "$s" --seeds 1 $sim >/dev/null 2>&1; then
			status=error
			prop="seed $s fails without the mutant too: $prop"
		fi
	elif [ "$rc" -eq 124 ]; then
		status=killed
		by="timeout"
		prop="the simulation ran over ${limit} s"
	elif grep -q '^sim: [0-9]* schedules' "$d/sim.out" && [ "$rc" -eq 0 ]; then
		runs=$((runs + $(awk '/^sim: [0-9]+ schedules/ { print $2; exit }' "$d/sim.out")))
		[ -z "$tag" ] && status=survived
	else
		status=killed
		by="crash"
		prop="the simulator ended with status $rc"
	fi
}

# one mutant: writes $d/result, a line: status|by|property|schedules|seconds|CPU
run_one() {
	local d=$1 t0 name sim tree why cpu rc line s
	local status="" by="-" prop="-" runs=0
	t0=$(now)
	name=$(cat "$d/name")
	sim="$(cat "$d/sim") $extra"
	tree=$d/tree
	if ! why=$(build_mutant "$tree" "$d"); then
		status=error
		prop=$why
	fi
	if [ -z "$status" ]; then
		# the regression seeds first
		(cd "$tree" && timeout "$limit" ./sim/sim --regress "$top/sim/regress.txt" $sim) >"$d/regress.out" 2>&1
		rc=$?
		runs=$(grep -c ' seed ' "$d/regress.out")
		if grep -q 'VIOLATION: ' "$d/regress.out"; then
			status=killed
			by=$(grep -m1 'VIOLATION: ' "$d/regress.out" | awk '{ printf "regress %s %s", $1, $3 }')
			prop=$(grep -m1 'VIOLATION: ' "$d/regress.out" | sed 's/.*VIOLATION: //')
		elif [ "$rc" -eq 124 ]; then
			status=killed
			by="regress, timeout"
			prop="the regression seeds ran over ${limit} s"
		elif [ "$rc" -ne 0 ]; then
			status=killed
			by="regress, crash"
			prop="the simulator ended with status $rc"
		fi
	fi
	# then its own seeds, then the schedules from $first
	if [ -z "$status" ] && [ -z "$fresh" ]; then
		for s in $(cat "$d/seed"); do
			search "$s" 1 " (own)"
			[ -n "$status" ] && break
		done
	fi
	if [ -z "$status" ]; then
		search "$first" "$seeds" ""
	fi
	if [ -n "$keep" ] && [ -x "$tree/sim/sim" ]; then
		cp "$tree/sim/sim" "$keep/$name"
	fi
	# CPU seconds of everything it ran, the build included (the machine may
	# be shared); times in a pipe or $(...) would run in a child without
	# children
	times >"$d/times"
	cpu=$(tail -n 1 "$d/times" | awk '{ n = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60 + a[2] } printf "%.1f", n }')
	printf '%s|%s|%s|%s|%s|%s\n' "$status" "$by" "$prop" "$runs" "$(since "$t0")" "$cpu" >"$d/result"
	rm -rf "$tree"
}

line_of() {
	local d=$1 status by prop runs secs cpu
	IFS='|' read -r status by prop runs secs cpu <"$d/result"
	[ "$status" = error ] && status=FAILED
	printf '%-8s %-28s %-26s %6s schedules %6s s (CPU %6s s)  %s\n' "$status" "$(cat "$d/name")" \
		"$by" "$runs" "$secs" "$cpu" "$prop"
}

dirs=("$work"/[0-9]*)
if [ ! -d "${dirs[0]}" ]; then
	echo "mutate: no mutant in $list${only:+ matches $only}" >&2
	exit 2
fi
total=${#dirs[@]}
start=$(now)

# the unmutated core: it must pass the regression seeds (and, later, every
# schedule that kills a mutant)
if ! why=$(build_base); then
	echo "mutate: the unmutated tree $why" >&2
	exit 2
fi
if ! "$work/base/sim/sim" --regress "$top/sim/regress.txt" >"$work/base/regress.out" 2>&1; then
	grep 'VIOLATION' "$work/base/regress.out" >&2
	echo "mutate: the unmutated core fails sim/regress.txt" >&2
	exit 2
fi
echo "mutate: $total mutants, regression seeds then $seeds schedules from seed $first each, $jobs at a time"
for d in "${dirs[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	(run_one "$d"; line_of "$d" >&2) &
done
wait

killed=0
bad=0
cpu=0
echo
for d in "${dirs[@]}"; do
	[ -f "$d/result" ] || echo "error|-|no result|0|0|0" >"$d/result"
	line_of "$d"
	cpu=$(awk -v a="$cpu" -v b="$(cut -d'|' -f6 "$d/result")" 'BEGIN { print a + b }')
	case $(cut -d'|' -f1 "$d/result") in
		killed) killed=$((killed + 1)) ;;
		error) bad=$((bad + 1)) ;;
	esac
done
echo "mutate: $(since "$start") s wall clock, $cpu s CPU"
status=0
[ "$bad" -gt 0 ] && { echo "mutate: $bad mutants do not apply, do not build, or were killed by a schedule the unmutated core fails too" >&2; status=1; }
[ $((killed * 100)) -lt $((total * 95)) ] && { echo "mutate: fewer than 95 % killed" >&2; status=1; }
echo "mutants: $killed killed of $total"
exit "$status"
