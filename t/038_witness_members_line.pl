# A witness refuses a candidate that lacks the last change of the
# membership its heartbeats told it of, and the change is a position on
# the timeline of the primary that wrote it: a candidate on an older
# timeline, or on a newer one that left that line before the change, or
# on another line of the same timeline ID, is refused however far its WAL
# goes (an old primary's timeline may have reached a higher LSN than the
# new primary's change).  The mark survives a restart of the witness.
#
# The heartbeat and the requests come from this test, as a primary of
# timeline 5 and candidates would send them; the real primary is stopped,
# so the witness has lost it and nothing else is elected (the standby's
# failover is manual).
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
my $p = new_primary('ml1', 1, %conf);
register_primary($p, 1);
my $s = new_standby($p, 'ml2', 2, %conf);
register_standby($s, 2);
my $w = new_witness($p, 'ml3', 3, %conf);
foreach my $n ($p, $s, $w)
{
	ok(wait_worker_state($n, 30, 'monitoring as primary', 'monitoring upstream', 'monitoring as witness'),
		$n->name . ': worker monitoring');
}
$p->stop('fast');

# a primary of term 50 on timeline 5, which began at 0/9000000, tells the
# witness that its last change of the membership ends at 0/A000000
is($w->safe_psql('repmgr',
		"SELECT accepted FROM repmgr.heartbeat(9, 50, '0/B000000', '0/A000000', 5, '0/9000000')"),
	't', 'the witness accepts the heartbeat of term 50');
like(slurp_file($w->data_dir . '/repmgr.state'),
	qr/^members_lsn=167772160\nmembers_timeline=5\nmembers_timeline_begin=150994944\nmembers_term=50$/m,
	'the mark is on disk: its position, timeline, the timeline\'s beginning and the term');

# the witness's answer to candidate 2 in a term of its own
my $term = 100;
sub vote
{
	my ($lsn, $tli, $history) = @_;
	$term++;
	return $w->safe_psql('repmgr',
		"SELECT code FROM repmgr.request_vote($term, 2, '$lsn', $tli, '$history')");
}

# once the silence after that heartbeat has passed
my $code;
ok(poll_until('the witness votes on the membership', 60,
		sub { ($code = vote('FF/0', 1, '')) eq 'members' }),
	'a candidate on timeline 1, far beyond the change in LSN, is refused (members)')
  or diag("last answer: $code");
is(vote('FF/0', 6, '5:0/9800000'), 'members',
	'a candidate on timeline 6 that left timeline 5 before the change is refused');
is(vote('FF/0', 5, '4:0/9100000'), 'members',
	'a candidate on another line of timeline 5 (it began elsewhere) is refused');
is(vote('0/9F00000', 5, '4:0/9000000'), 'members',
	'a candidate on the same line, behind the change, is refused');

# the mark survives a restart
$w->restart;
ok(poll_until('the restarted witness votes on the membership', 60,
		sub { ($code = vote('FF/0', 1, '')) eq 'members' }),
	'after a restart, the candidate on timeline 1 is still refused')
  or diag("last answer: $code");

is(vote('0/A000000', 6, '5:0/A000000'), 'granted',
	'a candidate on timeline 6 that left timeline 5 at the change is granted');

done_testing();
