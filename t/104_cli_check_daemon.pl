# bin/repmgr: "node check" (also as a Nagios plugin: output and exit codes
# on healthy, lagging and unreachable nodes), "daemon status|pause|unpause"
# and "cluster cleanup -k".
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrCli;
use RepmgrTest;
use Test::More;

my ($node1, $conf1) = cli_primary('node1', 1);
repmgr_ok('node1 registered', '-f', $conf1, 'primary', 'register');
my ($node2, $conf2) = cli_clone($node1, 'node2', 2,
	repmgr_conf => { replication_lag_warning => 1, replication_lag_critical => 3600 });
repmgr_ok('node2 registered', '-f', $conf2, 'standby', 'register');
$node1->safe_psql('repmgr', 'CREATE TABLE t (x int)');
$node1->wait_for_catchup($node2);
my $tmp = PostgreSQL::Test::Utils::tempdir;

# the exit code of repmgr, for polling
sub exit_code
{
	my ($rc) = repmgr(@_);
	return $rc;
}

# ---- healthy nodes
my $out = repmgr_ok('node check on the primary', '-f', $conf1, 'node', 'check');
like($out, qr/^Node "node1":$/m, 'node check names the node');
like($out, qr/^\tServer role: OK \(node is primary\)$/m, '... checks the role');
like($out, qr/^\tDownstream servers: OK \(1 of 1 downstream nodes attached\)$/m,
	'... and the downstream nodes');
like($out, qr/^\tWAL archiving: OK /m, '... and archiving');
like($out, qr/^\tReplication slots: OK /m, '... and the slots');

# the worker may still be starting: poll
ok(poll_until('primary healthy', 30,
		sub { exit_code('-f', $conf1, '--nagios', 'node', 'check') == 0 }),
	'node check --nagios on a healthy primary: exit 0');
my ($rc, $stdout) = repmgr('-f', $conf1, '--nagios', 'node', 'check');
like($stdout, qr/^REPMGR_NODE OK: /, '... with a Nagios status line');
like($stdout, qr/^REPMGR_ROLE OK: node is primary$/m, '... and one line per check');

ok(poll_until('standby healthy', 30,
		sub { exit_code('-f', $conf2, '--nagios', 'node', 'check') == 0 }),
	'node check --nagios on a healthy standby: exit 0');
($rc, $stdout) = repmgr('-f', $conf2, '--nagios', '--replication-lag', 'node', 'check');
is($rc, 0, 'node check --nagios --replication-lag: exit 0');
like($stdout, qr/^REPMGR_REPLICATION_LAG OK: \d+ seconds.* \| lag=\d+s;1;3600$/,
	'... one line with the lag as performance data');
($rc, $stdout) = repmgr('-f', $conf1, '--nagios', '--upstream', 'node', 'check');
is($rc, 3, 'a check that does not apply to the node is UNKNOWN (3)');

# ---- a lagging standby: replay paused while the primary writes
$node2->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
$node1->safe_psql('repmgr', 'INSERT INTO t VALUES (1)');
ok(poll_until('replication lag WARNING', 30,
		sub { exit_code('-f', $conf2, '--nagios', '--replication-lag', 'node', 'check') == 1 }),
	'lagging standby: node check --nagios --replication-lag exits 1 (WARNING)');
($rc, $stdout) = repmgr('-f', $conf2, '--nagios', 'node', 'check');
is($rc, 1, 'node check --nagios of all checks: exit 1');
like($stdout, qr/^REPMGR_NODE WARNING: replication_lag WARNING \(\d+ seconds/, '... naming the check');

my $critical = cli_conf($node2, 2, replication_lag_warning => 1,
	replication_lag_critical => 2, path => "$tmp/critical.conf");
ok(poll_until('replication lag CRITICAL', 30,
		sub { exit_code('-f', $critical, '--nagios', '--replication-lag', 'node', 'check') == 2 }),
	'with replication_lag_critical = 2: exit 2 (CRITICAL)');
$out = repmgr_ok('node check without --nagios exits 0', '-f', $critical, 'node', 'check');
like($out, qr/^\tReplication lag: CRITICAL \(\d+ seconds/m, '... and shows the CRITICAL lag');

$node2->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
ok(poll_until('lag gone', 30,
		sub { exit_code('-f', $critical, '--nagios', '--replication-lag', 'node', 'check') == 0 }),
	'replay resumed: OK again');

# ---- an unreachable standby
$node2->stop;
($rc, $stdout) = repmgr('-f', $conf2, '--nagios', 'node', 'check');
is($rc, 2, 'node check --nagios of a stopped node: exit 2 (CRITICAL)');
like($stdout, qr/^REPMGR_NODE CRITICAL: unable to connect to the node/, '... saying why');
repmgr_exit('node check without --nagios: ERR_DB_CON', 6, '-f', $conf2, 'node', 'check');
ok(poll_until('downstream missing', 30,
		sub { exit_code('-f', $conf1, '--nagios', '--downstream', 'node', 'check') == 2 }),
	'the primary misses its downstream node: exit 2');
($rc, $stdout) = repmgr('-f', $conf1, '--nagios', '--downstream', 'node', 'check');
like($stdout, qr/^REPMGR_DOWNSTREAM CRITICAL: 0 of 1 downstream nodes attached; missing: node2$/,
	'... naming it');
$node2->start;

# ---- the workers
$out = repmgr_ok('daemon pause --dry-run', '-f', $conf1, '--dry-run', 'daemon', 'pause');
like($out, qr/would pause the worker of node 2 \("node2"\)/, '... lists the nodes');
is($node2->safe_psql('repmgr', 'SELECT paused FROM repmgr.daemon_status()'), 'f', '... and pauses nothing');
$out = repmgr_ok('daemon pause', '-f', $conf1, 'daemon', 'pause');
like($out, qr/worker of node 1 \("node1"\) paused/, 'node1 paused');
like($out, qr/worker of node 2 \("node2"\) paused/, 'node2 paused');
is($node2->safe_psql('repmgr', 'SELECT paused FROM repmgr.daemon_status()'), 't',
	'the worker of node2 is paused');
$out = repmgr_ok('daemon status', '-f', $conf2, 'daemon', 'status');
like($out, qr/^ ID \| Name  \| Role    \| Status    \| Worker +\| PID +\| Paused \| Fenced \| State/,
	'daemon status: a table');
like($out, qr/^ 1  \| node1 \| primary \| \* running \| (?:not )?running +\| \S+ +\| yes    \| no     \| /m,
	'... node1 paused');
like($out, qr/^ 2  \| node2 \| standby \| running   \| (?:not )?running +\| \S+ +\| yes    \| no     \| /m,
	'... node2 paused');
repmgr_ok('daemon unpause', '-f', $conf2, 'daemon', 'unpause');
is($node1->safe_psql('repmgr', 'SELECT paused FROM repmgr.daemon_status()'), 'f',
	'the worker of node1 is unpaused');
is($node2->safe_psql('repmgr', 'SELECT paused FROM repmgr.daemon_status()'), 'f',
	'the worker of node2 is unpaused');

# ---- cluster cleanup
$node1->safe_psql('repmgr', q{
	INSERT INTO repmgr.repl_monitor
	SELECT 1, 2, now() - d * interval '1 day', NULL, '0/0', NULL, 0, 0
	FROM (VALUES (0), (0), (10), (10), (10)) v(d)});
$out = repmgr_ok('cluster cleanup --dry-run', '-f', $conf1, '-k', '5', '--dry-run', 'cluster', 'cleanup');
like($out, qr/would delete 3 monitoring history rows \(keeping 5 days\)/, '... counts the rows');
$out = repmgr_ok('cluster cleanup -k 5', '-f', $conf1, '-k', '5', 'cluster', 'cleanup');
like($out, qr/monitoring history purged: 3 rows deleted/, '... deletes the old rows');
is($node1->safe_psql('repmgr', 'SELECT count(*) FROM repmgr.repl_monitor'), '2', 'recent rows kept');
$out = repmgr_ok('cluster cleanup from a standby', '-f', $conf2, 'cluster', 'cleanup');
like($out, qr/2 rows deleted/, '... deletes the rest');
is($node1->safe_psql('repmgr', 'SELECT count(*) FROM repmgr.repl_monitor'), '0', 'no rows left');
repmgr_exit('cluster cleanup -k with a negative value', 1, '-f', $conf1, '-k', '-1', 'cluster', 'cleanup');

done_testing();
