# Two candidates at once: node2 and node3 cannot see each other, the
# primary dies, each is the best candidate of what it sees.  Votes are one
# per term per node, so exactly one of them is promoted.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/..";
use NetnsCluster;
use PostgreSQL::Test::Utils;
use RepmgrTest qw(poll_until);
use Test::More;

if (my $why = netns_available()) { plan skip_all => $why; }
netns_setup();

my %o = (test => '034');
my $n1 = NetnsCluster->new('node1', 1, %o)->init_primary(1);
$n1->register_primary;
my @s;
foreach my $i (2 .. 5)
{
	my $n = NetnsCluster->new("node$i", $i, %o)->init_standby($n1, $i);
	$n->register_standby(priority => $i <= 3 ? 100 : 0);
	push @s, $n;
}
my ($n2, $n3, $n4, $n5) = @s;
foreach my $n ($n1, @s)
{
	ok($n->wait_worker_state('monitoring as primary', 'monitoring upstream'), $n->name . ' monitors');
	ok($n->poll_query_until('SELECT count(*) = 5 FROM repmgr.repl_nodes'), $n->name . ' knows the five nodes');
}
$n2->block_path($n3);

$n1->kill9;
my @primaries;
ok(poll_until('a promotion', 90, sub {
	@primaries = grep { my ($ok, $out) = $_->psql('SELECT NOT pg_is_in_recovery()'); $ok && $out eq 't' } ($n2, $n3);
	return scalar(@primaries) > 0; }), 'a candidate is promoted');
my ($winner) = @primaries;
my ($loser) = grep { $_ != $winner } ($n2, $n3);

# let the loser try for a while: its elections must keep failing
ok(poll_until('the loser stood as candidate', 60,
		sub { slurp_file($loser->logfile) =~ /node \d is candidate|best candidate; waiting/ }),
	$loser->name . ' took part in the election');
ok($n4->poll_query_until('SELECT sender_port IS NOT NULL FROM pg_stat_wal_receiver WHERE sender_host = \'' . $winner->ip . "'"),
	'node4 follows ' . $winner->name);
ok($n5->poll_query_until('SELECT sender_port IS NOT NULL FROM pg_stat_wal_receiver WHERE sender_host = \'' . $winner->ip . "'"),
	'node5 follows ' . $winner->name);
is($loser->safe_psql('SELECT pg_is_in_recovery()'), 't', $loser->name . ' was not promoted');
my $terms = join(',', map { $_->safe_psql('SELECT voted_for FROM repmgr.daemon_status()') } ($n4, $n5));
like($terms, qr/^\d,\d$/, "the voters voted ($terms)");

# the path comes back: the loser follows the winner
$n2->unblock_path($n3);
ok($loser->poll_query_until("SELECT sender_host = '" . $winner->ip . "' FROM pg_stat_wal_receiver"),
	$loser->name . ' follows ' . $winner->name . ' once it can reach it');
# No node keeps a newer term than the winner's: it would refuse the
# winner's heartbeats for good.  The loser's term was raised by its own
# lost elections; the winner, refused by it, stands for re-election, and
# the nodes that follow it grant by rule (k), the loser because it refuses
# the heartbeats of the primary it follows.
my $terms_seen = '';
ok(poll_until('no follower of a newer term than the winner', 90, sub {
	my ($ok, $wterm) = $winner->psql('SELECT term FROM repmgr.daemon_status()');
	return 0 unless $ok && $wterm ne '';
	my @t = map { my ($k, $o) = $_->psql('SELECT term FROM repmgr.daemon_status()'); $k ? $o : 'error' }
	  grep { $_ != $winner } ($n2, $n3, $n4, $n5);
	$terms_seen = "winner $wterm, others " . join(',', @t);
	return !grep { $_ eq 'error' || $_ eq '' || $_ > $wterm } @t; }),
	"every node's term is at most the winner's ($terms_seen)");
ok($loser->poll_query_until("SELECT primary_node_id = " . $winner->{idx} . " AND state = 'monitoring upstream' FROM repmgr.daemon_status()"),
	$loser->name . ' monitors the winner');
is($winner->safe_psql("SELECT count(*) FROM repmgr.repl_events WHERE event = 'standby_promote'"), '1',
	'exactly one promotion');
is(join(',', map { $_->safe_psql('SELECT pg_is_in_recovery()') } ($n2, $n3, $n4, $n5)),
	join(',', map { $_ == $winner ? 'f' : 't' } ($n2, $n3, $n4, $n5)),
	'one primary, three standbys');

done_testing();
