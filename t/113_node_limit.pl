# The node limit (64) is the database's: two transactions that each
# insert a 64th node cannot both commit, and a direct insert is refused
# like a registration.  Rows that come in without the check (a copy made
# with session_replication_role = replica) do not stop the worker: it
# keeps the first 64, warns once, and goes on monitoring.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

my $node = new_primary('node1', 1, conf => { 'repmgr.failover' => 'manual' });
register_primary($node, 1);
ok(wait_worker_state($node, 30, 'monitoring as primary'), 'worker monitoring');

my $insert = "INSERT INTO repmgr.repl_nodes (id, type, upstream_node_id, cluster, name, conninfo, active) "
  . "SELECT i, 'standby', 1, 'default', 'node' || i, 'host=/nonexistent', false FROM generate_series(%d, %d) i";

# 62 nodes more: 63 in all
$node->safe_psql('repmgr', sprintf($insert, 2, 63));

# two transactions, each inserting a 64th node: the second waits for the
# first, then counts its row and is refused
my $first = $node->background_psql('repmgr');
$first->query_safe('BEGIN');
$first->query_safe(sprintf($insert, 64, 64));
my ($out, $err) = ('', '');
my $second = IPC::Run::start(
	[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('repmgr'),
		'-c', sprintf($insert, 65, 65) ],
	'>', \$out, '2>', \$err);
ok($node->poll_query_until('repmgr',
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO repmgr.repl_nodes%'"),
	'the second insert waits for the first transaction');
$first->query_safe('COMMIT');
$first->quit;
$second->finish;
isnt($? >> 8, 0, 'the second insert is refused');
like($err, qr/a repmgr cluster has at most 64 nodes, this change would make 65 of them/,
	'... saying why');
is($node->safe_psql('repmgr', 'SELECT count(*) FROM repmgr.repl_nodes'), '64', 'the cluster has 64 nodes');

# the same in REPEATABLE READ: the second one fails instead of counting
# without the first one's row
$node->safe_psql('repmgr', 'DELETE FROM repmgr.repl_nodes WHERE id = 64');
$first = $node->background_psql('repmgr', on_error_stop => 0);
$first->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$first->query_safe('SELECT count(*) FROM repmgr.repl_nodes');
$node->safe_psql('repmgr', sprintf($insert, 64, 64));
$first->query(sprintf($insert, 65, 65));
like($first->{stderr}, qr/could not serialize access due to concurrent update/,
	'REPEATABLE READ: an insert that did not see the 64th node is refused');
$first->query('ROLLBACK');
$first->quit;
is($node->safe_psql('repmgr', 'SELECT count(*) FROM repmgr.repl_nodes'), '64', 'the cluster still has 64 nodes');

# rows beyond the limit that came in without the check: the worker keeps
# 64 of them (the primary first), warns once, and goes on
my $pid = $node->safe_psql('repmgr', 'SELECT pid FROM repmgr.daemon_status()');
my $loops = $node->safe_psql('repmgr', 'SELECT loops FROM repmgr.daemon_status()');
my $log_offset = -s $node->logfile;
$node->safe_psql('repmgr', "SET session_replication_role = replica; " . sprintf($insert, 65, 70));
is($node->safe_psql('repmgr', 'SELECT count(*) FROM repmgr.repl_nodes'), '70', '70 nodes in repl_nodes');
ok($node->poll_query_until('repmgr', "SELECT loops > $loops + 5 FROM repmgr.daemon_status()"),
	'the worker keeps looping');
is($node->safe_psql('repmgr', 'SELECT pid FROM repmgr.daemon_status()'), $pid,
	'... in the same process (it never failed)');
is($node->safe_psql('repmgr', 'SELECT state, last_error IS NULL FROM repmgr.daemon_status()'),
	'monitoring as primary|t', '... monitoring as primary, without an error');
my $log = substr(slurp_file($node->logfile), $log_offset);
my @warnings = ($log =~ /\[$pid\] WARNING:  repmgr\.repl_nodes holds 70 nodes, more than the 64 a cluster may have: 6 of them are ignored/g);
is(scalar(@warnings), 1, 'one warning from the worker in the log') or diag($log);
unlike($log, qr/more than 64 nodes/, 'no error about the number of nodes');
is($node->safe_psql('repmgr', 'SELECT count(*), min(id), max(id) FROM repmgr.cluster_show()'),
	'64|1|64', 'cluster_show() shows the 64 kept (the primary first)');

# a node beyond the limit can still be unregistered
is($node->safe_psql('repmgr', 'SELECT repmgr.standby_unregister(70)'), '70',
	'a node beyond the limit can be unregistered');
my ($code, $msg) = sql_error($node, sprintf($insert, 71, 71));
is($code, '54000', 'one more is refused (SQLSTATE 54000) while there are too many');

done_testing();
