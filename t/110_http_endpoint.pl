# The HTTP endpoint on a primary and a standby: Patroni's health paths and
# their meanings, HEAD and OPTIONS, lag limits, /cluster without passwords,
# /metrics that promtool accepts, and a worker of its own.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use HttpTest;
use Test::More;
use Time::HiRes;

my $node1 = new_primary('node1', 1, conf => { http_settings('node1') });
$node1->safe_psql('repmgr',
	sprintf("SELECT repmgr.primary_register(1, 'node1', '%s password=hunter2')", conninfo($node1)));
my $node2 = new_standby($node1, 'node2', 2, conf => { http_settings('node2') });
register_standby($node2, 2);
foreach my $n ($node1, $node2)
{
	ok(wait_worker_state($n, 30, 'monitoring as primary', 'monitoring upstream'),
		$n->name . ': worker monitoring');
}

# a worker of its own, beside the monitoring worker
like(http_worker_pid($node1), qr/^\d+$/, 'the HTTP worker runs as a background worker "repmgr http"');
isnt(http_worker_pid($node1),
	$node1->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'repmgr worker'"),
	'... that is not the monitoring worker');

# the primary
ok(poll_until('/primary on node1 answers 200', 30, sub { http_status($node1, '/primary') == 200 }),
	'/primary: 200 on the primary');
foreach my $alias ('/master', '/leader', '/read-write')
{
	is(http_status($node1, $alias), 200, "$alias: 200 on the primary");
}
is(http_status($node1, '/replica'), 503, '/replica: 503 on the primary');
is(http_status($node1, '/read-only'), 200, '/read-only: 200 on the primary');
is(http_status($node1, '/health'), 200, '/health: 200');
is(http_status($node1, '/liveness'), 200, '/liveness: 200 while the worker runs');
is(http_status($node1, '/readiness'), 200, '/readiness: 200 on the primary');
is(http_status($node1, '/primary', method => 'HEAD'), 200, 'HEAD /primary: 200');
my ($st, $body, $hdr) = http_get($node1, '/primary', method => 'OPTIONS');
is($st, 200, 'OPTIONS /primary (HAProxy option httpchk): 200');
like($body, qr/"role":"primary"/, 'OPTIONS: the body of GET');
($st, $body) = http_get($node1, '/primary', method => 'HEAD');
is($body // '', '', 'HEAD: no body');
is(http_status($node1, '/nowhere'), 404, 'an unknown path: 404');
is(http_status($node1, '/primary', method => 'POST'), 405, 'POST: 405 (the endpoint is read-only)');
is(http_status($node1, '/primary', method => 'DELETE'), 405, 'DELETE: 405');

($st, $body) = http_get($node1, '/primary');
my $j = decode_json($body);
is($j->{role}, 'primary', 'body: role');
is($j->{worker_state}, 'monitoring as primary', 'body: worker state');
is($j->{timeline}, 1, 'body: timeline');
like($j->{lsn}, qr{^[0-9A-F]+/[0-9A-F]+$}, 'body: LSN');
ok(exists $j->{term} && exists $j->{fenced} && exists $j->{paused}, 'body: term, fenced, paused');
ok(length($body) < 1024, 'body: short');

# the standby
ok(poll_until('/replica on node2 answers 200', 30, sub { http_status($node2, '/replica') == 200 }),
	'/replica: 200 on a streaming standby');
is(http_status($node2, '/primary'), 503, '/primary: 503 on the standby');
is(http_status($node2, '/read-only'), 200, '/read-only: 200 on the standby');
is(http_status($node2, '/readiness'), 200, '/readiness: 200 on the standby');
is(http_status($node2, '/replica?lag=16MB'), 200, '/replica?lag=16MB: 200 when caught up');
is(http_status($node2, '/replica?lag=10s'), 200, '/replica?lag=10s: 200 when caught up');
is(http_status($node2, '/replica?lag=12abc'), 400, '/replica?lag=12abc: 400');
($st, $body) = http_get($node2, '/replica');
$j = decode_json($body);
is($j->{role}, 'replica', 'standby body: role');
is($j->{replication_state}, 'streaming', 'standby body: replication state');

# an operator pauses replay: the standby is unfit for reads
$node2->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
ok(poll_until('/replica 503 while replay is paused', 10, sub { http_status($node2, '/replica') == 503 }),
	'/replica: 503 while replay is paused');
is(http_status($node2, '/read-only'), 503, '/read-only: 503 while replay is paused');

# behind the primary by more than the limit: lag bytes with replay paused
$node1->safe_psql('repmgr', 'CREATE TABLE filler AS SELECT g FROM generate_series(1, 50000) g');
$node2->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
ok(poll_until('/replica 200 once replay resumes', 30, sub { http_status($node2, '/replica?lag=1MB') == 200 }),
	'/replica?lag=1MB: 200 again once replay resumed and caught up');
$node2->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
ok($node2->poll_query_until('postgres', "SELECT pg_get_wal_replay_pause_state() = 'paused'"), 'replay paused');
$node1->safe_psql('repmgr', 'CREATE TABLE filler2 AS SELECT g FROM generate_series(1, 100000) g');
ok(poll_until('lag above 1 kB', 30, sub {
		my (undef, $b) = http_get($node2, '/replica');
		decode_json($b)->{lag_bytes} > 1024 }),
	'the standby reports its lag in bytes');
$node2->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
ok(poll_until('caught up', 30, sub { http_status($node2, '/replica?lag=1kB') == 200 }),
	'/replica?lag=1kB: 200 once caught up');

# daemon_pause is shown, and does not make a node unhealthy
$node1->safe_psql('repmgr', 'SELECT repmgr.daemon_pause()');
ok(poll_until('paused shown', 10, sub {
		my (undef, $b) = http_get($node2, '/replica');
		decode_json($b)->{paused} }),
	'body: paused after daemon_pause()');
is(http_status($node1, '/primary'), 200, '/primary: still 200 while paused');
$node1->safe_psql('repmgr', 'SELECT repmgr.daemon_unpause()');

# /cluster: JSON of cluster_show(), passwords masked
($st, $body) = http_get($node2, '/cluster');
is($st, 200, '/cluster: 200');
$j = decode_json($body);
is(join(',', map { "$_->{id}:$_->{role}:$_->{status}" } @{ $j->{members} }),
	'1:primary:* running,2:standby:running', '/cluster: the rows of cluster_show()');
unlike($body, qr/hunter2/, '/cluster: no password');
like($body, qr/password=\*+/, '/cluster: the password masked');

# a node that does not answer: /cluster waits at most repmgr.http_cluster_timeout
# (an inactive record, so the primary's quorum is not changed)
$node1->safe_psql('repmgr',
	"INSERT INTO repmgr.repl_nodes (id, type, upstream_node_id, cluster, name, conninfo, priority, location, active) "
	  . "VALUES (3, 'standby', NULL, 'default', 'blackhole', 'host=10.255.255.1 port=5432 dbname=repmgr', 100, 'default', false)");
$node1->safe_psql('postgres', "ALTER SYSTEM SET repmgr.http_cluster_refresh = '100ms'");
$node1->reload;
ok(poll_until('the new record is seen by /cluster', 20, sub {
		my ($s, $b) = http_get($node1, '/cluster');
		$s == 200 && $b =~ /blackhole/ }),
	'/cluster shows a node that does not answer');
my $t0 = Time::HiRes::time();
($st, $body) = http_get($node1, '/cluster');
my $took = Time::HiRes::time() - $t0;
ok($took < 0.9, sprintf('... polling it for at most repmgr.http_cluster_timeout (%.3f s)', $took));
like($body, qr/"name":"blackhole","role":"standby","status":"- failed"/, '... as failed');
$node1->safe_psql('repmgr', 'DELETE FROM repmgr.repl_nodes WHERE id = 3');
$node1->safe_psql('postgres', 'ALTER SYSTEM RESET repmgr.http_cluster_refresh');
$node1->reload;

# /metrics
($st, $body, $hdr) = http_get($node1, '/metrics');
is($st, 200, '/metrics: 200');
like($hdr->{'content-type'}, qr{^text/plain; version=0\.0\.4}, '/metrics: Prometheus text format');
like($body, qr/^repmgr_is_primary 1$/m, 'metrics: is_primary on the primary');
like($body, qr/^repmgr_role\{role="primary"\} 1$/m, 'metrics: role');
like($body, qr/^repmgr_worker_state\{state="monitoring as primary"\} 1$/m, 'metrics: worker state');
like($body, qr/^repmgr_cluster_nodes\{status="\* running"\} 1$/m, 'metrics: cluster_show counts by status');
foreach my $name (qw(repmgr_fenced repmgr_paused repmgr_term repmgr_voted_term
	repmgr_upstream_last_seen_age_seconds repmgr_replication_lag_bytes
	repmgr_replication_lag_seconds repmgr_lease_remaining_seconds
	repmgr_failovers_total repmgr_elections_total repmgr_follows_total
	repmgr_events_queued repmgr_events_dropped_total))
{
	like($body, qr/^# HELP $name .+\n# TYPE $name (gauge|counter)\n$name(\{[^}]*\})? \S+$/m, "metrics: $name with HELP and TYPE");
}
unlike($body, qr/hunter2/, '/metrics: no password');
my ($rc, $out) = promtool_check($body);
SKIP:
{
	skip 'promtool not installed', 2 unless defined $rc;
	is($rc, 0, 'promtool check metrics accepts the primary\'s metrics') or diag($out);
	(undef, $body) = http_get($node2, '/metrics');
	like($body, qr/^repmgr_is_healthy_replica 1$/m, 'metrics: healthy replica on the standby');
	($rc, $out) = promtool_check($body);
	is($rc, 0, 'promtool check metrics accepts the standby\'s metrics') or diag($out);
}

# a node stopped: nothing answers; back: answers again
$node2->stop;
is(http_status($node2, '/health', timeout => 2), 599, 'a stopped server: no answer');
$node2->start;
ok(poll_until('/replica again', 30, sub { http_status($node2, '/replica') == 200 }),
	'restarted standby: /replica 200 again');

# off by default: a node without the setting has no HTTP worker
my $plain = PostgreSQL::Test::Cluster->new('plain');
$plain->init;
$plain->append_conf('postgresql.conf', repmgr_conf(9));
$plain->start;
is($plain->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'repmgr http'"),
	'0', 'off by default: no HTTP worker');
is($plain->safe_psql('postgres', 'SHOW repmgr.http_port'), '8008', 'repmgr.http_port defaults to 8008');
$plain->stop;

done_testing();
