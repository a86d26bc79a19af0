#!/usr/bin/env bash
#
# demo.sh - a real local repmgr cluster in one command ("make demo"), and
# the failover demonstration of the documents on it.
#
#   make demo        install what is missing, build, install; then bring up
#                    node1 (primary), node2 (standby), node3 (standby
#                    cascaded from node2) and a witness on 127.0.0.1, all
#                    with their in-server workers and automatic failover;
#                    show the cluster; kill -9 the primary and show the
#                    election, the new cluster and its events; rejoin the
#                    old primary; leave the cluster running.
#   make demo-stop   stop the demo cluster and remove its directory.
#
# Everything lives under demo/ in this tree.  As root, the servers run as
# the "postgres" system user (DEMO_USER to change it).  Ports: DEMO_PORT
# (default 5601) and the next two for the nodes, 5499 for the witness as
# in the documents (DEMO_WITNESS_PORT).  The HTTP endpoints (health checks,
# metrics) of node1..node3 listen on DEMO_HTTP_PORT (default 8601) and the
# next two.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/lib.sh"

DEMO=$here/demo
PORT1=${DEMO_PORT:-5601}
WPORT=${DEMO_WITNESS_PORT:-5499}
PORTS=("$PORT1" $((PORT1 + 1)) $((PORT1 + 2)) "$WPORT")
NODES=(node1 node2 node3 witness)
HTTP1=${DEMO_HTTP_PORT:-8601}
HPORTS=("$HTTP1" $((HTTP1 + 1)) $((HTTP1 + 2)))
if [ "$(id -u)" -eq 0 ]; then
	DEMO_USER=${DEMO_USER:-postgres}
	as_user() { runuser -u "$DEMO_USER" -- "$@"; }
else
	DEMO_USER=$(id -un)
	as_user() { "$@"; }
fi
export PATH=$PG_BINDIR:$PATH

# ---------- output

bold=$(tput bold 2>/dev/null || true)
plain=$(tput sgr0 2>/dev/null || true)
now_ms() { date +%s%3N; }
STEP_START=0
step() {
	STEP_START=$(now_ms)
	printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"
}
took() { printf '    (%d ms)\n' $(( $(now_ms) - STEP_START )); }
show() { printf '    $ %s\n' "$*"; "$@" 2>&1 | sed 's/^/    /'; }
# (a write prober still running stops too)
die() {
	[ -d "${DEMO:-}/log" ] && touch "$DEMO/log/prober.stop" 2>/dev/null || true
	echo "demo: $*" >&2
	exit 1
}

# ---------- helpers

conninfo() { echo "host=127.0.0.1 port=$1 dbname=repmgr user=$DEMO_USER connect_timeout=2"; }
repmgr_as() { as_user repmgr "$@"; }
sql() { as_user psql -X -A -t -q -h 127.0.0.1 -p "$1" -U "$DEMO_USER" -d "${3:-repmgr}" -c "$2"; }

# wait until a query returns t, at most $3 seconds
wait_for() {
	local port=$1 query=$2 timeout=${3:-60} deadline
	deadline=$(( $(now_ms) + timeout * 1000 ))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		[ "$(sql "$port" "$query" 2>/dev/null || true)" = t ] && return 0
		sleep 0.05
	done
	return 1
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop_demo() {
	local d
	[ -d "$DEMO" ] || return 0
	for d in "$DEMO"/node1 "$DEMO"/node2 "$DEMO"/node3 "$DEMO"/witness; do
		[ -f "$d/postmaster.pid" ] && as_user pg_ctl -D "$d" -m immediate stop >/dev/null 2>&1 || true
	done
	rm -rf "$DEMO"
}

write_repmgr_conf() {
	local id=$1 name=$2 port=$3 extra=${4:-}
	cat > "$DEMO/conf/$name.conf" <<EOF
# repmgr.conf of $name (demo)
cluster=demo
node=$id
node_name=$name
conninfo='$(conninfo "$port")'
data_directory='$DEMO/$name'
pg_bindir='$PG_BINDIR'
use_replication_slots=yes
pg_ctl_options='-l $DEMO/log/$name.log'
$extra
EOF
}

server_settings() {
	cat <<EOF

# demo settings
listen_addresses = '127.0.0.1'
port = $1
unix_socket_directories = '$DEMO/sock'
repmgr.http_listen_addresses = '127.0.0.1'
repmgr.http_port = $2
EOF
}

# the HTTP status of a path on each node's endpoint, as a load balancer sees it
http_code() { curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1$2" || true; }
show_endpoints() {
	local i
	printf '    %-6s %-5s %-9s %-9s %s\n' node http /primary /replica /read-only
	for i in 0 1 2; do
		printf '    %-6s %-5s %-9s %-9s %s\n' "${NODES[$i]}" "${HPORTS[$i]}" \
			"$(http_code "${HPORTS[$i]}" /primary)" "$(http_code "${HPORTS[$i]}" /replica)" \
			"$(http_code "${HPORTS[$i]}" /read-only)"
	done
}
# wait until a node's /primary answers 200, at most $2 seconds
wait_http_primary() {
	local deadline=$(( $(now_ms) + ${2:-30} * 1000 ))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		[ "$(http_code "$1" /primary)" = 200 ] && return 0
		sleep 0.05
	done
	return 1
}

# ---------- main

if [ "${1:-}" = stop ]; then
	stop_demo
	echo "demo: stopped and removed $DEMO"
	exit 0
fi

step "Installing and building"
install_dependencies
build_and_install
took

if [ -d "$DEMO" ]; then
	step "Removing the previous demo cluster"
	stop_demo
	took
fi
for p in "${PORTS[@]}" "${HPORTS[@]}"; do
	port_in_use "$p" && die "port $p on 127.0.0.1 is in use by another program; stop it, or set DEMO_PORT / DEMO_WITNESS_PORT / DEMO_HTTP_PORT"
done

mkdir -p "$DEMO"/{conf,log,sock}
[ "$(id -u)" -eq 0 ] && chown -R "$DEMO_USER": "$DEMO"
write_repmgr_conf 1 node1 "${PORTS[0]}"
write_repmgr_conf 2 node2 "${PORTS[1]}"
write_repmgr_conf 3 node3 "${PORTS[2]}" "upstream_node=2"
write_repmgr_conf 4 witness "${PORTS[3]}"
[ "$(id -u)" -eq 0 ] && chown -R "$DEMO_USER": "$DEMO"

step "node1: initdb, start, register as primary"
as_user initdb -D "$DEMO/node1" -A trust -U "$DEMO_USER" >/dev/null
{
	server_settings "${PORTS[0]}" "${HPORTS[0]}"
	cat <<EOF
shared_preload_libraries = 'repmgr'
repmgr.node_id = 1
repmgr.database = 'repmgr'
repmgr.failover = 'automatic'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
wal_log_hints = on
wal_keep_size = '256MB'
EOF
} >> "$DEMO/node1/postgresql.conf"
as_user pg_ctl -D "$DEMO/node1" -l "$DEMO/log/node1.log" -w start >/dev/null
sql "${PORTS[0]}" "CREATE DATABASE repmgr" postgres
show repmgr_as -f "$DEMO/conf/node1.conf" primary register
took

clone() {
	local name=$1 port=$2 from=$3 hport=$4
	step "$name: clone from port $from with repmgr standby clone, start, register"
	show repmgr_as -h 127.0.0.1 -p "$from" -U "$DEMO_USER" -d repmgr -D "$DEMO/$name" \
		-f "$DEMO/conf/$name.conf" -c standby clone
	server_settings "$port" "$hport" >> "$DEMO/$name/postgresql.conf"
	as_user pg_ctl -D "$DEMO/$name" -l "$DEMO/log/$name.log" -w start >/dev/null
	show repmgr_as -f "$DEMO/conf/$name.conf" standby register
	took
}
clone node2 "${PORTS[1]}" "${PORTS[0]}" "${HPORTS[1]}"
clone node3 "${PORTS[2]}" "${PORTS[1]}" "${HPORTS[2]}"

step "witness: repmgr witness create (a separate instance on port ${PORTS[3]})"
# the demo's nodes trust 127.0.0.1 (initdb -A trust above); the witness
# does so only when told, with its own pg_hba.conf and --allow-trust
cat > "$DEMO/conf/witness_hba.conf" <<EOF
local  all  all                peer map=repmgr_witness
host   all  all  127.0.0.1/32  trust
EOF
[ "$(id -u)" -eq 0 ] && chown "$DEMO_USER": "$DEMO/conf/witness_hba.conf"
show repmgr_as -f "$DEMO/conf/witness.conf" -D "$DEMO/witness" \
	-h 127.0.0.1 -p "${PORTS[0]}" -U "$DEMO_USER" -d repmgr -S "$DEMO_USER" \
	--hba-file "$DEMO/conf/witness_hba.conf" --allow-trust witness create
took

step "Waiting for the four workers to monitor"
for i in 0 1 2 3; do
	wait_for "${PORTS[$i]}" "SELECT state LIKE 'monitoring%' FROM repmgr.daemon_status()" 60 ||
		die "the worker of ${NODES[$i]} does not monitor; see $DEMO/log/${NODES[$i]}.log"
done
took

step "The cluster"
show repmgr_as -f "$DEMO/conf/node1.conf" cluster show
show repmgr_as -f "$DEMO/conf/node1.conf" cluster event --event=repmgrd_start

step "The HTTP endpoints, as a load balancer sees them (curl)"
wait_http_primary "${HPORTS[0]}" 30 || true
show_endpoints
show curl -s "http://127.0.0.1:${HPORTS[0]}/primary"

# ---------- the failover demonstration

multi="host=127.0.0.1,127.0.0.1,127.0.0.1 port=${PORTS[0]},${PORTS[1]},${PORTS[2]} dbname=repmgr user=$DEMO_USER target_session_attrs=read-write connect_timeout=2"
# the prober stops when its stop file appears (a signal to $! would reach
# only the subshell, not the prober under runuser)
rm -f "$DEMO/log/prober.stop"
as_user "$here/bench/prober" -c "$multi" -i 10 -o "$DEMO/log/prober.out" -d 600000 \
	-s "$DEMO/log/prober.stop" &
prober=$!
wait_for "${PORTS[0]}" "SELECT count(*) > 20 FROM repmgr_probe" 30 || die "the write prober does not write"

for n in node2 node3 witness; do
	wc -l < "$DEMO/log/$n.log" > "$DEMO/log/$n.mark"
done
step "kill -9 of the primary (node1), with an application writing every 10 ms"
kill_ms=$(now_ms)
kill -9 "$(head -1 "$DEMO/node1/postmaster.pid")"
wait_for "${PORTS[1]}" "SELECT NOT pg_is_in_recovery()" 60 || die "node2 was not promoted"
promoted_ms=$(now_ms)
wait_for "${PORTS[1]}" "SELECT count(*) > 0 FROM repmgr_probe WHERE node = 2" 30 || true
printf '    node2 promoted %d ms after the kill\n' $(( promoted_ms - kill_ms ))
as_user touch "$DEMO/log/prober.stop"
wait "$prober" 2>/dev/null || true
awk -F'\t' '$1 == "ok" && $6 == 1 { last = $5 } $1 == "ok" && $6 == 2 && !first { first = $4 }
	END { if (last && first) printf "    writes unavailable for %d ms (from the last write acknowledged by node1 to the first by node2)\n", first - last }' \
	"$DEMO/log/prober.out"

step "What the workers logged (the election)"
for n in node2 node3 witness; do
	echo "    --- $n"
	tail -n +"$(( $(cat "$DEMO/log/$n.mark") + 1 ))" "$DEMO/log/$n.log" |
		grep -E "repmgr worker|repmgr: " | grep -v "statement:" | sed 's/^/    /' | head -25
done

step "The HTTP endpoints after the failover (curl)"
wait_http_primary "${HPORTS[1]}" 30 || true
show_endpoints
show curl -s "http://127.0.0.1:${HPORTS[1]}/primary"
printf '    $ curl -s http://127.0.0.1:%s/metrics | grep ...\n' "${HPORTS[1]}"
curl -s "http://127.0.0.1:${HPORTS[1]}/metrics" |
	grep -E '^repmgr_(is_primary|term|failovers_total|worker_state\{state="monitoring as primary"\}) ' | sed 's/^/    /'

step "The cluster after the failover"
wait_for "${PORTS[3]}" "SELECT upstream_node_id = 2 FROM repmgr.daemon_status()" 30 || true
show repmgr_as -f "$DEMO/conf/node2.conf" cluster show
show repmgr_as -f "$DEMO/conf/node2.conf" cluster event --limit=8

step "node1 comes back: repmgr node rejoin --force-rewind"
show repmgr_as -f "$DEMO/conf/node1.conf" node rejoin -d "$(conninfo "${PORTS[1]}")" --force-rewind
wait_for "${PORTS[0]}" "SELECT pg_is_in_recovery()" 60 || die "node1 did not rejoin"
took
show repmgr_as -f "$DEMO/conf/node2.conf" cluster show

cat <<EOF

${bold}The demo cluster is running.${plain}
  connect to whichever node is primary:
    psql "$multi"
  health checks and metrics (the HTTP endpoint of each node, ports ${HPORTS[*]}):
    curl http://127.0.0.1:${HPORTS[1]}/primary    (/replica, /read-only, /cluster, /metrics)
  the repmgr.conf files are in $DEMO/conf, the logs in $DEMO/log:
    $PG_BINDIR/repmgr -f $DEMO/conf/node2.conf cluster show
  stop and remove it:
    make demo-stop
EOF
