# With a synchronous set managed, a standby streams only from a primary
# whose heartbeats it accepts, one whose term is not older than its own
# (sim/README.md, SR_REJOIN); and a primary refused by a node of a newer
# term is re-elected above it (rule (k), and "the primary I follow but
# refuse counts as lost").
# - s2 knows term 50, newer than the primary's, planted in its state file
#   as a vote in an election that elected nobody leaves it;
# - while no voter may grant (both workers paused), repmgr.follow() on s2
#   is refused, saying why, and the primary keeps its term;
# - unpaused: the primary stands for re-election and wins a term above 50,
#   with no promotion; s1 grants by (k) without stopping its WAL receiver;
#   writes go on; no node keeps a newer term than the primary's; s2 then
#   follows;
# - node rejoin of a stopped s2 that knows a newer term waits for the
#   primary's re-election and, without one, is refused; with s2 running
#   again, the primary is re-elected above it and the rejoin succeeds.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use RepmgrCli;
use Test::More;

my %conf = (conf => {
	'repmgr.synchronous' => 'on',
	'repmgr.monitor_interval' => '200ms',
	'repmgr.reconnect_interval' => '250ms',
	'repmgr.reconnect_attempts' => '2',
	'wal_retrieve_retry_interval' => '500ms',
});

my ($p, $standbys) = monitored_cluster(%conf, standbys => 2);
my ($s1, $s2) = @$standbys;
ok($p->poll_query_until('repmgr', "SELECT members = '{2,3}' AND quorum = 1 FROM repmgr.repl_sync"),
	'ANY 1 of {2,3} published');
$p->safe_psql('repmgr', 'CREATE TABLE t (x int)');

sub term_of
{
	my ($node) = @_;
	return $node->safe_psql('repmgr', 'SELECT term FROM repmgr.daemon_status()');
}

# plant a term in a stopped node's state file, as a vote leaves it
sub plant_term
{
	my ($node, $term) = @_;
	my $file = $node->data_dir . '/repmgr.state';
	my $text = -e $file ? slurp_file($file) : '';
	$text =~ s/^term=\d+$/term=$term/m or $text .= "term=$term\n";
	open my $fh, '>', $file or die "$file: $!";
	print $fh $text;
	close $fh;
}

my $p_term = term_of($p);

# no vote may be granted meanwhile: the primary keeps its term
foreach my $n ($s1, $s2)
{
	$n->safe_psql('repmgr', 'SELECT repmgr.daemon_set_paused(true)');
}
$s2->stop('fast');
plant_term($s2, 50);
$s2->start;
ok(wait_worker_state($s2, 30, 'monitoring upstream'), 's2 monitors again');
is($s2->safe_psql('repmgr', 'SELECT term FROM repmgr.node_state()'), '50', 's2 knows term 50');
ok($s2->poll_query_until('repmgr', 'SELECT paused FROM repmgr.daemon_status()'), 's2 is still paused');

my ($state, $msg) = sql_error($s2, 'SELECT repmgr.follow()');
is($state, '55000', 'repmgr.follow() of a primary of an older term is refused');
like($msg, qr/node 1 \("p"\) is primary in term $p_term, older than term 50 of this node/, '... saying why');
is(term_of($p), $p_term, 'the primary keeps its term while no vote is granted');

# the voters may grant again: the primary, refused by s2, is re-elected
my $log_offset = -s $p->logfile;
my $s1_offset = -s $s1->logfile;
my $prober = start_prober(conninfo($p) . ' connect_timeout=2', interval => 5, timeout => 10);
foreach my $n ($s1, $s2)
{
	$n->safe_psql('repmgr', 'SELECT repmgr.daemon_set_paused(false)');
}
ok($p->poll_query_until('repmgr', 'SELECT term > 50 FROM repmgr.daemon_status()'),
	'the primary is re-elected in a term above 50');
ok(log_matches($p, qr/this primary was re-elected in term \d+/, 30, $log_offset),
	'... by an election, as its log says');
is(join(',', map { $_->safe_psql('postgres', 'SELECT pg_is_in_recovery()') } ($p, $s1, $s2)),
	'f,t,t', 'no promotion: the same primary, two standbys');
my $new_term = term_of($p);
ok(poll_until('no node of a newer term than the primary', 30, sub {
	return !grep { term_of($_) > $new_term } ($s1, $s2); }),
	"no standby keeps a newer term than the primary's ($new_term)");
unlike(slurp_file($s1->logfile, $s1_offset), qr/stopping the WAL receiver before voting/,
	's1 granted by rule (k) without stopping its WAL receiver');
ok($s2->poll_query_until('repmgr', "SELECT status = 'streaming' FROM pg_stat_wal_receiver"),
	's2 streams from the primary');
is($s2->safe_psql('repmgr', 'SELECT repmgr.follow()'), '1', 's2 follows the re-elected primary');
$p->safe_psql('repmgr', 'INSERT INTO t VALUES (1)');
my @rows = stop_prober($prober);
my $acked = grep { $_->{ok} } @rows;
ok($acked > 0, "writes went on during the re-election ($acked acknowledged)");

# node rejoin: a stopped s2 that knows a newer term waits, then is refused
my $conf2 = cli_conf($s2, 3);
$s2->stop('fast');
plant_term($s2, 200);
my $out = repmgr_exit('node rejoin to a primary of an older term is refused', 1,
	'-f', $conf2, '-d', cli_conninfo($p), '--timeout=2', 'node', 'rejoin');
like($out, qr/node 1 \("p"\) is primary in term $new_term, older than term 200 of this node/,
	'... saying why');
like($out, qr/refuses its heartbeats/, '... and what re-elects it');

# s2 runs again as it was: it refuses the primary's heartbeats, and the
# primary is re-elected above it; then the rejoin goes through
$s2->start;
ok($p->poll_query_until('repmgr', 'SELECT term > 200 FROM repmgr.daemon_status()'),
	'the primary is re-elected in a term above 200');
$s2->stop('fast');
repmgr_ok('node rejoin once the primary is re-elected', '-f', $conf2, '-d', cli_conninfo($p),
	'node', 'rejoin');
sync_pids($s2);
ok($s2->poll_query_until('repmgr', "SELECT status = 'streaming' FROM pg_stat_wal_receiver"),
	's2 streams again');
is($p->safe_psql('repmgr', "SELECT count(*) FROM repmgr.repl_events WHERE event = 'standby_promote'"),
	'0', 'no promotion at all');

done_testing();
