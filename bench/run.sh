#!/usr/bin/env bash
#
# run.sh - every benchmark of bench/ in one sitting ("make bench"), then
# bench/RESULTS.md with the figures, the machine, the date and the command.
#
# 1. installs what is missing (scripts/lib.sh, as "make test" does);
# 2. copies the tree to TEST_WORKDIR (default /tmp/repmgr-bench; as root,
#    for the unprivileged user "repmgrtest", who runs the servers), builds
#    it there and installs it into a private copy of the PostgreSQL
#    installation under TEST_WORKDIR/install (postgres finds its libraries
#    relative to its binary), so that a "make install" or a test run beside
#    the benchmarks cannot change the repmgr they measure;
# 3. runs bench/<name>.pl for each benchmark with the environment the TAP
#    harness gives (TESTDIR, PATH with the private bin first, PG_REGRESS,
#    perl -I for PostgreSQL::Test::Cluster and t/); each writes
#    bench/out/<name>.json;
# 4. bench/report.pl turns the JSON files into bench/RESULTS.md (of the
#    checkout this script belongs to).
#
# BENCH_ONLY="failover scale" runs some of them (RESULTS.md then holds only
# those); BENCH_RUNS=N changes the number of runs of each figure (5);
# BENCH_RESULTS=path writes the report elsewhere.  Logs: progress on the
# terminal, everything in $TEST_WORKDIR/tmp_check/log/regress_log_<name>
# (and the servers' logs beside it).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/lib.sh"

command=${BENCH_COMMAND:-bash bench/run.sh}
for v in BENCH_ONLY BENCH_RUNS BENCH_IDLE_S BENCH_FAILOVER_CONFIGS BENCH_PGBENCH_S BENCH_PAIRS BENCH_SIMULTANEOUS_PAIRS BENCH_LOOPS BENCH_SCALE_SIZES; do
	[ -n "${!v:-}" ] && command="$v=\"${!v}\" $command"
done
all=(failover switchover worker_cost sync_cost scale worker_memory http)
read -r -a benches <<<"${BENCH_ONLY:-${all[*]}}"
results=${BENCH_RESULTS:-$here/bench/RESULTS.md}

install_dependencies

# a copy of the tree for the test user, without what a demo or an earlier
# run left in it (make_test_copy of lib.sh would copy a running demo/)
copy_tree() {
	local dir=$1
	rm -rf "$dir"
	mkdir -p "$dir"
	tar -C "$here" --exclude=.git --exclude=./demo --exclude='./tmp_check*' \
		--exclude=./bench/out -cf - . | tar -C "$dir" -xf -
}

# PostgreSQL's files copied to $1, repmgr built in the copy of the tree
# and installed there
private_install() {
	local root=$1
	rm -rf "$root"
	mkdir -p "$root/usr/lib/postgresql" "$root/usr/share/postgresql"
	cp -a "/usr/lib/postgresql/$PG_MAJOR" "$root/usr/lib/postgresql/"
	cp -a "/usr/share/postgresql/$PG_MAJOR" "$root/usr/share/postgresql/"
	make -C "$workdir" -s PG_CONFIG="$PG_CONFIG" >/dev/null
	make -C "$workdir" -s PG_CONFIG="$PG_CONFIG" DESTDIR="$root" install >/dev/null
}

workdir=${TEST_WORKDIR:-/tmp/repmgr-bench}
if [ "$(id -u)" -eq 0 ]; then
	ensure_test_user
	runner=(runuser -u "$TEST_USER" --)
else
	TEST_USER=$(id -un)
	runner=()
fi
copy_tree "$workdir"
private_install "$workdir/install"
[ "$(id -u)" -eq 0 ] && chown -R "$TEST_USER": "$workdir"
bindir="$workdir/install/usr/lib/postgresql/$PG_MAJOR/bin"
echo "run.sh: repmgr built in $workdir, installed under $workdir/install"
out="$workdir/bench/out"
rm -rf "$out" "$workdir/tmp_check"
mkdir -p "$out"
[ "$(id -u)" -eq 0 ] && chown "$TEST_USER": "$out"

started=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$here" status --porcelain -- src bin sql expected repmgr--3.1.sql Makefile bench ":!bench/RESULTS.md" ":!bench/NOTES.md" 2>/dev/null)" ] &&
	commit="$commit (with uncommitted changes)"
t_start=$(date +%s)
status=0
: >"$out/status.tsv"
for b in "${benches[@]}"; do
	echo "==> bench/$b.pl ($(date -u +%H:%M:%S))"
	t0=$(date +%s)
	rc=0
	(cd "$workdir" && "${runner[@]}" env \
		TESTDIR="$workdir" \
		PATH="$bindir:$PATH" \
		BENCH_PG_BINDIR="$bindir" \
		PG_REGRESS="/usr/lib/postgresql/$PG_MAJOR/lib/pgxs/src/test/regress/pg_regress" \
		BENCH_OUT="$out" \
		${BENCH_RUNS:+BENCH_RUNS="$BENCH_RUNS"} \
		${BENCH_IDLE_S:+BENCH_IDLE_S="$BENCH_IDLE_S"} \
		${BENCH_FAILOVER_CONFIGS:+BENCH_FAILOVER_CONFIGS="$BENCH_FAILOVER_CONFIGS"} \
		${BENCH_PGBENCH_S:+BENCH_PGBENCH_S="$BENCH_PGBENCH_S"} \
		${BENCH_PAIRS:+BENCH_PAIRS="$BENCH_PAIRS"} \
		${BENCH_SIMULTANEOUS_PAIRS:+BENCH_SIMULTANEOUS_PAIRS="$BENCH_SIMULTANEOUS_PAIRS"} \
		${BENCH_LOOPS:+BENCH_LOOPS="$BENCH_LOOPS"} \
		${BENCH_SCALE_SIZES:+BENCH_SCALE_SIZES="$BENCH_SCALE_SIZES"} \
		perl -I "/usr/lib/postgresql/$PG_MAJOR/lib/pgxs/src/test/perl" -I t \
		"bench/$b.pl" >/dev/null) || rc=$?
	t1=$(date +%s)
	printf '%s\t%s\t%s\n' "$b" "$rc" "$((t1 - t0))" >>"$out/status.tsv"
	if [ "$rc" -ne 0 ]; then
		status=1
		echo "bench/$b.pl FAILED (exit $rc); log: $workdir/tmp_check/log/regress_log_$b" >&2
		tail -n 40 "$workdir/tmp_check/log/regress_log_$b" >&2 || true
	fi
done
t_end=$(date +%s)

perl "$here/bench/report.pl" --out "$out" --command "$command" \
	--started "$started" --seconds "$((t_end - t_start))" \
	--load-start "$load_start" --commit "$commit" >"$results.tmp"
mv "$results.tmp" "$results"
echo "run.sh: wrote $results ($((t_end - t_start)) s)"
exit "$status"
