# The fence refuses the commits of every process that commits for
# someone else, not only of client sessions: logical replication's apply
# worker (a background worker) and SQL run over a replication=database
# connection (a walsender).  A primary that lost its majority (its
# standby and the witness stopped) applies nothing from its publisher
# until it has its majority back; nothing is lost, the apply worker tries
# again.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

# repmgr.failover = automatic (the default): a primary in manual mode
# never fences
my %conf = (conf => { 'wal_level' => 'logical', 'wal_retrieve_retry_interval' => '500ms' });
my $p = new_primary('p', 1, %conf);
register_primary($p, 1);
my $s = new_standby($p, 's', 2, %conf);
register_standby($s, 2);
my $w = new_witness($p, 'w', 3, %conf);
ok(wait_worker_state($p, 30, 'monitoring as primary'), 'primary monitored');
ok(wait_worker_state($s, 30, 'monitoring upstream'), 'standby monitored');
ok(wait_worker_state($w, 30, 'monitoring as witness'), 'witness monitored');

# a publisher outside the cluster; the primary subscribes to it
my $pub = PostgreSQL::Test::Cluster->new('publisher');
$pub->init(allows_streaming => 'logical');
$pub->start;
$pub->safe_psql('postgres', 'CREATE TABLE feed (x int PRIMARY KEY); CREATE PUBLICATION feed_pub FOR TABLE feed');
$p->safe_psql('repmgr', 'CREATE TABLE feed (x int PRIMARY KEY)');
$p->safe_psql('repmgr', 'CREATE TABLE local_t (x int)');
$p->safe_psql('repmgr',
	sprintf("CREATE SUBSCRIPTION feed_sub CONNECTION 'host=%s port=%d dbname=postgres' PUBLICATION feed_pub",
		$pub->host, $pub->port));
$pub->safe_psql('postgres', 'INSERT INTO feed VALUES (1)');
ok($p->poll_query_until('repmgr', 'SELECT count(*) = 1 FROM feed'), 'the subscription applies while the primary holds its lease');

# the primary loses its majority: it refuses writes
$s->stop;
$w->stop;
my ($ret, $stdout, $stderr);
ok(poll_until('a client commit refused as fenced', 30, sub {
			($ret, $stdout, $stderr) = $p->psql('repmgr',
				'SET default_transaction_read_only = off; INSERT INTO local_t VALUES (1)');
			$stderr =~ /cannot commit: this primary \(node 1\) is fenced/ }),
	'a client session cannot commit once the primary lost its majority');

# the apply worker cannot commit either
my $offset = -s $p->logfile;
$pub->safe_psql('postgres', 'INSERT INTO feed VALUES (2)');
ok(poll_until('the apply worker refused as fenced', 30, sub {
			substr(slurp_file($p->logfile), $offset) =~
			  /cannot commit: this primary \(node 1\) is fenced.*background worker "logical replication worker" \(PID \d+\) exited with exit code 1/s }),
	'the logical replication apply worker is refused as fenced');
is($p->safe_psql('repmgr', 'SELECT count(*) FROM feed'), '1', '... and the row it received is not committed');

# nor SQL over a replication connection (a walsender)
# (new sessions of a fenced primary are read-only by default: past that,
# the commit itself is refused)
($ret, $stdout, $stderr) = $p->psql('repmgr',
	'SET default_transaction_read_only = off; INSERT INTO local_t VALUES (2)',
	replication => 'database');
like($stderr, qr/cannot commit: this primary \(node 1\) is fenced/,
	'SQL over a replication=database connection is refused as fenced');
is($p->safe_psql('repmgr', 'SELECT count(*) FROM local_t WHERE x = 2'), '0', '... and nothing was committed');

# the majority back: the apply worker commits what it was refused
$s->start;
$w->start;
ok($p->poll_query_until('repmgr', 'SELECT count(*) = 2 FROM feed'),
	'with its majority back, the primary applies the row it was refused (nothing lost)');

$p->safe_psql('repmgr', 'DROP SUBSCRIPTION feed_sub');
done_testing();
