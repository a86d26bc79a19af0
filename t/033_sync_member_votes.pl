# Rule (i) of managed synchronous replication: an election won by a
# majority of the nodes, but with too few votes from members of the
# synchronous set, promotes nobody.  ANY 1 of three members (s1, s2, s3)
# needs three member votes (3 - 1 + 1).  s2's worker is paused: it answers
# the candidate's poll (so the members it sees are enough, rule (f)) but
# refuses its vote.  The primary dies; the candidate gets the votes of
# itself, the other member and the witness, 3 of 5, a majority, of which
# two are members: it does not promote.  Once s2 is unpaused it votes, and
# a member is promoted with every acknowledged write.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

my %conf = (conf => {
	'repmgr.synchronous' => 'on',
	'repmgr.monitor_interval' => '200ms',
	'repmgr.reconnect_interval' => '250ms',
	'repmgr.reconnect_attempts' => '2',
	# rule (h) waits this long without a WAL receiver before a vote
	'wal_retrieve_retry_interval' => '500ms',
});

my ($p, $standbys) = monitored_cluster(%conf, standbys => 3, witness => 1);
my ($s1, $s2, $s3) = @$standbys;
ok($p->poll_query_until('repmgr', "SELECT members = '{2,3,4}' AND quorum = 1 FROM repmgr.repl_sync"),
	'ANY 1 of {2,3,4} published');
foreach my $n ($s1, $s2, $s3)
{
	ok($n->poll_query_until('repmgr', "SELECT members = '{2,3,4}' FROM repmgr.repl_sync"),
		$n->name . ' has the published set');
}

# s2's worker alone is paused: it keeps answering, and refuses its vote
is($s2->safe_psql('repmgr', 'SELECT repmgr.daemon_set_paused(true)'), 't', 's2 paused');
ok($s2->poll_query_until('repmgr', 'SELECT paused FROM repmgr.daemon_status()'), 's2 worker paused');
is($s1->safe_psql('repmgr', 'SELECT paused FROM repmgr.daemon_status()'), 'f', 's1 is not paused');

# an acknowledged write, on every member (so that none is ahead of the
# candidate, which would stop the failover for another reason, rule (g))
$p->safe_psql('repmgr', 'CREATE TABLE t (x int); INSERT INTO t VALUES (1)');
my $lsn = $p->safe_psql('postgres', 'SELECT pg_current_wal_insert_lsn()');
foreach my $n ($s1, $s2, $s3)
{
	ok($n->poll_query_until('postgres', "SELECT pg_last_wal_replay_lsn() >= '$lsn'"),
		$n->name . ' replayed the write');
}
$p->kill9;

my $re = qr/elected in term \d+ by 3 of 5 votes, but fewer than 3 of them come from members of the synchronous set ANY 1 \(2, 3, 4\)/;
my $candidate;
ok(poll_until('a candidate elected without enough member votes', 60, sub {
	($candidate) = grep { slurp_file($_->logfile) =~ $re } ($s1, $s3);
	return defined $candidate; }),
	'elected by a majority (3 of 5) with two member votes of the three needed: not promoting');
note('candidate: ' . ($candidate ? $candidate->name : 'none'));
# it stays so: let the workers decide many more times (counted by their loops)
my $loops = $s1->safe_psql('repmgr', 'SELECT loops FROM repmgr.daemon_status()');
ok($s1->poll_query_until('repmgr', "SELECT loops > $loops + 50 FROM repmgr.daemon_status()"),
	's1 decided again many times');
foreach my $n ($s1, $s2, $s3)
{
	is($n->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 't', $n->name . ' is not promoted');
}

# s2 votes again: a member is promoted, with the acknowledged write
is($s2->safe_psql('repmgr', 'SELECT repmgr.daemon_set_paused(false)'), 'f', 's2 unpaused');
my $new;
ok(poll_until('a promotion', 90, sub {
	($new) = grep { $_->safe_psql('repmgr', 'SELECT NOT pg_is_in_recovery()') eq 't' } ($s1, $s2, $s3);
	return defined $new; }), 'a member is promoted once the paused member votes');
is($new->safe_psql('repmgr', 'SELECT count(*) FROM t'), '1', 'the acknowledged write is on the new primary');
my @others = grep { $_ != $new } ($s1, $s2, $s3);
ok(streams_from($new, @others), 'the other members stream from the new primary');

done_testing();
