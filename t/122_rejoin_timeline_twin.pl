# Two standbys of one timeline that are both promoted begin two lines of
# WAL with the same timeline ID, here at the same point: node3 promoted on
# its own (pg_ctl promote, no worker) and written to, then node2 by
# "standby promote".  Streaming and pg_rewind know a timeline by its ID
# and where it began, and would take node3's timeline 2 for node2's:
# "node rejoin" of node3 must refuse, with --force-rewind too, say why,
# and change nothing.  A twin that began at another point is told by the
# history files alone.
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
my ($node2, $conf2) = cli_clone($node1, 'node2', 2);
my ($node3, $conf3) = cli_clone($node1, 'node3', 3);
repmgr_ok('node2 registered', '-f', $conf2, 'standby', 'register');
repmgr_ok('node3 registered', '-f', $conf3, 'standby', 'register');
$node1->safe_psql('repmgr', 'CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 100)');
$node1->wait_for_catchup($node2);
$node1->wait_for_catchup($node3);

# the primary stops: both standbys replay its shutdown checkpoint, the end
# of timeline 1 for both
$node1->stop;
ok(poll_until('both standbys replayed the end of timeline 1', 30,
		sub {
			$node2->safe_psql('postgres', 'SELECT pg_last_wal_replay_lsn()') eq
			  $node3->safe_psql('postgres', 'SELECT pg_last_wal_replay_lsn()');
		}),
	'node2 and node3 end at one position');

# node3 promoted on its own, away from the cluster, and written to
$node3->stop;
my $port = PostgreSQL::Test::Cluster::get_free_port();
my @alone = ('-h', $node3->host, '-p', $port, '-d', 'repmgr', '-X', '-A', '-t');
system_or_bail('pg_ctl', '-D', $node3->data_dir, '-l', $node3->logfile, '-w',
	'-o', "-p $port -c shared_preload_libraries= -c primary_conninfo=", 'start');
system_or_bail('pg_ctl', '-D', $node3->data_dir, '-w', 'promote');
system_or_bail('psql', @alone, '-c', 'INSERT INTO t SELECT 333 FROM generate_series(1, 100)');
system_or_bail('pg_ctl', '-D', $node3->data_dir, '-m', 'fast', '-w', 'stop');

# node2 promoted by repmgr: timeline 2 again, from the same point, and
# further ahead than node3 got
repmgr_ok('standby promote of node2', '-f', $conf2, 'standby', 'promote');
$node2->safe_psql('repmgr', 'INSERT INTO t SELECT 222 FROM generate_series(1, 10000)');
is($node2->safe_psql('repmgr', 'SELECT timeline FROM repmgr.node_state()'), '2',
	'node2 is on timeline 2');
is($node2->safe_psql('repmgr', 'SELECT node_id FROM repmgr.repl_timelines WHERE timeline = 2'),
	'2', 'node2 recorded its promotion to timeline 2');
my $control = slurp_file($node3->data_dir . '/global/pg_control');

foreach my $args ([], ['--force-rewind'], ['--dry-run'])
{
	my $how = join(' ', 'node rejoin', @$args);
	my $out = repmgr_exit("$how of node3 is refused", 1,
		'-f', $conf3, '-d', cli_conninfo($node2), @$args, 'node', 'rejoin');
	like($out,
		qr/\[ERROR\] timeline 2 of node 3 is not the timeline 2 of node 2 \("node2"\): two promotions gave one ID to two lines of WAL/,
		'... saying that two promotions gave one ID');
	like($out,
		qr/\[DETAIL\] this node ran as the primary of its timeline 2, but the primary's timeline 2 was begun by the promotion of node 2 in term \d+/,
		'... by whom the primary\'s timeline was begun');
	like($out, qr/\[HINT\] .*standby clone --force/, '... and that it must be cloned afresh');
	unlike($out, qr/executing pg_rewind/, '... without running pg_rewind');
}
ok(!-e $node3->data_dir . '/standby.signal', 'node3 was not made a standby');
is(slurp_file($node3->data_dir . '/global/pg_control'), $control, 'node3\'s control file is unchanged');
is($node2->safe_psql('repmgr', "SELECT count(*) FROM repmgr.repl_events WHERE event = 'node_rejoin'"),
	'0', 'no node_rejoin event');

# a clone afresh joins
repmgr_ok('node3 cloned afresh', '-h', $node2->host, '-p', $node2->port, '-d', 'repmgr',
	'-D', $node3->data_dir, '-f', $conf3, '--force', 'standby', 'clone');
$node3->append_conf('postgresql.conf',
	sprintf("port = %d\nunix_socket_directories = '%s'\nlisten_addresses = ''\n",
		$node3->port, $node3->host));
$node3->start;
ok($node3->poll_query_until('repmgr', 'SELECT count(*) = 10100 FROM t'),
	'node3, cloned afresh, replays node2\'s timeline');

done_testing();
