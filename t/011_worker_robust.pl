# The worker facing a missing database, a dropped extension, a node that is
# not (or no longer) registered, and a broken record: one clear message,
# no crash, no spinning; it resumes when things are repaired.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

sub count_in_log
{
	my ($node, $re) = @_;
	my @m = (slurp_file($node->logfile) =~ /$re/g);
	return scalar(@m);
}

my $node = PostgreSQL::Test::Cluster->new('lone');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', repmgr_conf(1));
$node->start;

# no database "repmgr" yet: one message, then waiting
ok(poll_until('message about the missing database', 20,
		sub { count_in_log($node, qr/database "repmgr" does not exist; waiting/) >= 1 }),
	'the worker says the database is missing');
my $pid_before = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'repmgr worker'");
ok($pid_before ne '', 'the worker waits, connected to no database');
$node->safe_psql('postgres', 'SELECT pg_sleep(0)');
is(count_in_log($node, qr/FATAL:  database "repmgr" does not exist/), 0,
	'... and logs no FATAL for it');
is(count_in_log($node, qr/database "repmgr" does not exist; waiting/), 1, '... saying it once');

# the database appears: the worker connects and says the extension is missing
$node->safe_psql('postgres', 'CREATE DATABASE repmgr');
ok(poll_until('message about the extension', 20,
		sub { count_in_log($node, qr/extension repmgr is not installed in database "repmgr"; waiting/) >= 1 }),
	'then that the extension is missing');

# the extension appears: not registered yet
$node->safe_psql('repmgr', 'CREATE EXTENSION repmgr');
ok($node->poll_query_until('repmgr', "SELECT state = 'waiting for registration' FROM repmgr.daemon_status()"),
	'then it waits for registration');
ok(poll_until('message about registration', 20,
		sub { count_in_log($node, qr/node 1 is not registered; waiting/) >= 1 }),
	'and says so');

register_primary($node, 1);
ok($node->poll_query_until('repmgr', "SELECT state = 'monitoring as primary' FROM repmgr.daemon_status()"),
	'registered: it monitors');

# unregistered behind its back (a broken metadata row): back to waiting
$node->safe_psql('repmgr', 'DELETE FROM repmgr.repl_nodes');
ok($node->poll_query_until('repmgr', "SELECT state = 'waiting for registration' FROM repmgr.daemon_status()"),
	'its record deleted: it waits again');
register_primary($node, 1);
ok($node->poll_query_until('repmgr', "SELECT state = 'monitoring as primary' FROM repmgr.daemon_status()"),
	'registered again: it monitors');

# the extension dropped under it
$node->safe_psql('repmgr', 'DROP EXTENSION repmgr');
ok(poll_until('message about the dropped extension', 20,
		sub { count_in_log($node, qr/extension repmgr is not installed in database "repmgr"; waiting/) >= 2 }),
	'extension dropped: it says so and waits');
my $pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'repmgr worker'");

# it neither spins nor crashes: same process, one message, a few seconds on
my $loops_log = count_in_log($node, qr/extension repmgr is not installed/);
$node->safe_psql('repmgr', "SELECT pg_sleep(2)");
is($node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'repmgr worker'"),
	$pid, 'the same worker process keeps waiting');
is(count_in_log($node, qr/extension repmgr is not installed/), $loops_log,
	'without repeating its message');
is(count_in_log($node, qr/server process .* was terminated|terminated by signal/), 0,
	'the server never crashed');

$node->safe_psql('repmgr', 'CREATE EXTENSION repmgr');
register_primary($node, 1);
ok($node->poll_query_until('repmgr', "SELECT state = 'monitoring as primary' FROM repmgr.daemon_status()"),
	'repaired: it monitors again');

done_testing();
