#!/usr/bin/env bash
#
# bench/profile.sh - what repmgr costs the machine, read off a sampling
# profile: pgbench runs on the primary of the demo cluster (make demo)
# while "perf record -a" samples every CPU; the report gives the share of
# all samples that fell
#   - in repmgr's code (repmgr.so, in any process: the workers, and the
#     commit-time fence check in the backends), and
#   - in repmgr's processes (the workers of all four nodes and the
#     sessions they keep on each other, kernel time included).
# A direct measure where the TPS ratio of bench/worker_cost.pl is lost in
# the noise of a shared machine.  It does not see indirect costs (caches
# the worker evicts, the library mapped into every backend).
#
# Usage, as root, with the demo cluster running:
#	make demo && bash bench/profile.sh [SECONDS]	(default 20)
set -euo pipefail

seconds=${1:-20}
ports=(5601 5602 5603 5499)
user=postgres
[ "$(id -u)" -eq 0 ] || { echo "profile.sh: run it as root (perf record -a)" >&2; exit 1; }
command -v perf >/dev/null || apt-get install -y -q linux-perf >/dev/null
bindir=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)

q() { runuser -u "$user" -- "$bindir/psql" -XAtq -h 127.0.0.1 -p "$1" -d "$2" -c "$3"; }

primary=
for p in "${ports[@]:0:3}"; do
	[ "$(q "$p" postgres 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ] && primary=$p
done
[ -n "$primary" ] || { echo "profile.sh: no primary on ports ${ports[*]:0:3}: run make demo first" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; q "$primary" postgres "DROP DATABASE IF EXISTS repmgr_profile" >/dev/null 2>&1 || true' EXIT

q "$primary" postgres 'DROP DATABASE IF EXISTS repmgr_profile' 2>/dev/null
q "$primary" postgres 'CREATE DATABASE repmgr_profile'
q "$primary" postgres 'ALTER DATABASE repmgr_profile SET synchronous_commit = off'
bench() { runuser -u "$user" -- "$bindir/pgbench" -h 127.0.0.1 -p "$primary" "$@" repmgr_profile; }
bench -i -q -s 10 >/dev/null 2>&1
bench -c 2 -j 2 -T 5 >/dev/null 2>&1

# repmgr's processes on every node: the workers and their sessions
pids=()
for p in "${ports[@]}"; do
	while read -r pid; do
		[ -n "$pid" ] && pids+=("$pid")
	done < <(q "$p" postgres "SELECT pid FROM pg_stat_activity WHERE backend_type = 'repmgr worker' OR application_name = 'repmgr'" 2>/dev/null || true)
done

perf record -q -a -F 999 -o "$tmp/perf.data" -- \
	runuser -u "$user" -- "$bindir/pgbench" -h 127.0.0.1 -p "$primary" -c 2 -j 2 -T "$seconds" repmgr_profile \
	>"$tmp/pgbench.out" 2>&1
perf report -i "$tmp/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null >"$tmp/dso.txt"
perf report -i "$tmp/perf.data" --no-children --sort pid --stdio -g none 2>/dev/null >"$tmp/pid.txt"
perf report -i "$tmp/perf.data" --no-children --sort pid,dso --stdio -g none 2>/dev/null >"$tmp/piddso.txt"

share_dso() { awk -v d="$1" '$2 == d { s += $1 } END { printf "%.3f", s }' "$tmp/dso.txt"; }
share_pids=$(awk -v list="${pids[*]}" 'BEGIN { n = split(list, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
	/^ *[0-9.]+%/ { split($2, f, ":"); if (f[1] in want) s += $1 } END { printf "%.3f", s }' "$tmp/pid.txt")
share_backends=$(awk -v list="${pids[*]}" 'BEGIN { n = split(list, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
	/^ *[0-9.]+%/ && $3 == "repmgr.so" { split($2, f, ":"); if (!(f[1] in want)) s += $1 } END { printf "%.3f", s }' "$tmp/piddso.txt")
tps=$(sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p' "$tmp/pgbench.out")

echo "pgbench -c 2 -j 2 -T $seconds on the primary (port $primary): $tps tps"
echo "perf record -a -F 999, every CPU of the machine; shares of all samples:"
printf '  in repmgr.so (any process):                       %s %%\n' "$(share_dso repmgr.so)"
printf '  ... of which in the other processes (backends):   %s %%\n' "$share_backends"
printf '  in repmgr processes (%d: workers, their sessions): %s %%\n' "${#pids[@]}" "$share_pids"
printf '  in postgres (the server binary, any process):     %s %%\n' "$(share_dso postgres)"
printf '  in the kernel:                                    %s %%\n' "$(share_dso '[kernel.kallsyms]')"
