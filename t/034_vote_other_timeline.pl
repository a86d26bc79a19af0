# A voter on an older timeline and a candidate on a newer one: the vote
# request carries where the candidate's ancestor timelines ended
# (candidate_history), and the voter grants only when it can follow the
# candidate from there (its replay has not passed the fork); without the
# history, or when its timeline is not among the candidate's ancestors, it
# refuses as before.  Malformed histories are errors that change nothing.
# The voter is a standby that has lost its primary (failover manual, so
# nothing else is elected); the requests come from this test, as a
# candidate on timeline 2 would send them.
#
# Then a witness whose catalog has the older request_vote (without
# candidate_history): a candidate on timeline 2 asks it again without the
# history, and wins with its vote.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

my %conf = (conf => {
		'repmgr.failover' => 'manual',
		'repmgr.reconnect_attempts' => '2',
		'repmgr.reconnect_interval' => '200ms' });
my $p = new_primary('vt1', 1, %conf);
register_primary($p, 1);
my $s2 = new_standby($p, 'vt2', 2, %conf);
my $s3 = new_standby($p, 'vt3', 3, %conf);
register_standby($s2, 2);
register_standby($s3, 3);
foreach my $n ($p, $s2, $s3)
{
	ok(wait_worker_state($n, 30, 'monitoring as primary', 'monitoring upstream'),
		$n->name . ': worker monitoring');
}
$p->safe_psql('repmgr', 'CREATE TABLE vt(i int); INSERT INTO vt VALUES (1)');
$p->wait_for_catchup($s3);
$p->stop('fast');

# the answer of node 3 to candidate 2 on timeline 2, in a term of its own
my $term = 100;
sub vote
{
	my ($cand_lsn, $history) = @_;
	$term++;
	my $h = defined $history ? "'$history'" : 'NULL';
	return $s3->safe_psql('repmgr',
		"SELECT code FROM repmgr.request_vote($term, 2, '$cand_lsn', 2, $h)");
}

# node 3 has lost its primary and heard none since: a candidate on another
# timeline, without a history, is refused for that
my $code;
ok(poll_until('node 3 votes on the timeline', 60,
		sub { ($code = vote('FF/0', undef)) eq 'other_timeline' }),
	'without a history, a candidate on timeline 2 is refused (other_timeline)')
  or diag("last answer: $code");

my $pos = $s3->safe_psql('repmgr', 'SELECT pg_last_wal_replay_lsn()');
my ($hi, $lo) = split m{/}, $pos;
my $before = sprintf('%X/%X', hex($hi), hex($lo) - 8);
my $ahead = sprintf('%X/%X', hex($hi), hex($lo) + 4096);
note("node 3 replayed up to $pos");

is(vote($ahead, "1:$before"), 'other_timeline',
	'a fork before what node 3 replayed: refused (it could not follow)');
is(vote($ahead, '3:0/1000000,4:0/2000000'), 'other_timeline',
	'a history without node 3\'s timeline: refused');
is(vote($ahead, "1:$pos"), 'granted',
	'a fork at the end of what node 3 replayed: granted (it can follow)');
is($s3->safe_psql('repmgr', 'SELECT term, voted_for FROM repmgr.node_state()'),
	"$term|2", 'the grant is recorded as every vote');

# the four-argument form (an older candidate) still answers
like($s3->safe_psql('repmgr', "SELECT code FROM repmgr.request_vote(500, 2, '$ahead', 2)"),
	qr/^other_timeline$/, 'the request without candidate_history still answers');

# malformed histories: an error with SQLSTATE 22023, nothing recorded
foreach my $bad ('abc', '1:', '0:0/10', '1:0/ZZ', '1;0/10', ':0/10', '1:0/10,')
{
	my ($state, $msg) = sql_error($s3,
		"SELECT * FROM repmgr.request_vote(600, 2, '$ahead', 2, '$bad')");
	is($state, '22023', "candidate_history '$bad' is rejected") or diag($msg);
}
is($s3->safe_psql('repmgr', 'SELECT term FROM repmgr.node_state()'),
	$term, 'no malformed request changed the recorded vote');

# ---- a voter with the older catalog
my ($q, $standbys, $w) = monitored_cluster(standbys => 2, witness => 1);
$q->kill9;
my ($new, $other);
ok(poll_until('a standby promoted', 60, sub {
	($new) = grep { $_->safe_psql('repmgr', 'SELECT NOT pg_is_in_recovery()') eq 't' } @$standbys;
	return defined $new; }),
	'first failover: a standby is promoted (timeline 2)');
($other) = grep { $_ != $new } @$standbys;
my ($new_id, $other_id) = $new == $standbys->[0] ? (2, 3) : (3, 2);
ok($other->poll_query_until('repmgr',
	"SELECT status = 'streaming' AND sender_port = " . $new->port . ' FROM pg_stat_wal_receiver'),
	'the other standby streams from it');
ok($w->poll_query_until('repmgr', "SELECT upstream_node_id = $new_id FROM repmgr.daemon_status()"),
	'the witness watches the new primary');

# the witness's own catalog (it is not a copy of the primary's) goes back
# to the four-argument request_vote
$w->safe_psql('repmgr', q{
	ALTER EXTENSION repmgr DROP FUNCTION repmgr.request_vote(bigint, integer, pg_lsn, integer, text);
	DROP FUNCTION repmgr.request_vote(bigint, integer, pg_lsn, integer, text);
	CREATE FUNCTION repmgr.request_vote(term bigint, candidate_id integer, candidate_lsn pg_lsn,
		candidate_timeline integer DEFAULT 0, OUT granted boolean, OUT term bigint,
		OUT reason text, OUT code text, OUT timeline integer)
	RETURNS record AS '$libdir/repmgr', 'repmgr_request_vote' LANGUAGE C VOLATILE;
});
my ($state) = sql_error($w, "SELECT * FROM repmgr.request_vote(1, 9, '0/0', 2, '1:0/10')");
is($state, '42883', 'the witness no longer takes candidate_history');

# the old primary, gone for good, is unregistered (a failed node counts in
# the majority until then); the other standby, on timeline 2, needs the
# witness's vote (2 of 3)
$new->safe_psql('repmgr', 'SELECT repmgr.standby_unregister(1)');
ok($other->poll_query_until('repmgr', 'SELECT count(*) = 3 FROM repmgr.repl_nodes'),
	'the unregistration reaches the other standby');
$new->kill9;
ok($other->poll_query_until('repmgr', 'SELECT NOT pg_is_in_recovery()'),
	'second failover: the candidate on timeline 2 is promoted with the witness\'s vote');
like(slurp_file($w->logfile), qr/node 4 has received request from node $other_id for electoral term \d+: granted/,
	'the witness granted the request made without the history');

done_testing();
