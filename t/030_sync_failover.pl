# Failover with managed synchronous replication (repmgr.synchronous = on,
# ANY 1 of two standbys): the primary is killed, then one of the two
# members at once.  The other member sees only one of the two members, so
# it cannot know it holds every acknowledged commit: nobody is promoted,
# with the reason in daemon_status(), although a majority of the nodes is
# there.  A standby outside the published set is never promoted.  When the
# second member comes back, the most advanced member is promoted, and every
# acknowledged write is on it.
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
});

my ($p, $standbys) = monitored_cluster(%conf, standbys => 3, witness => 1,
	priority => { 4 => 200 });
my ($s1, $s2, $s3) = @$standbys;

# s3 stops streaming: the primary drops it from the set
ok($p->poll_query_until('repmgr', q{SELECT current_setting('synchronous_standby_names') = 'ANY 1 ("s3", "s1", "s2")'}),
	'all three standbys synchronous (s3 first: priority 200)');
$s3->safe_psql('postgres', "ALTER SYSTEM SET primary_conninfo = ''");
$s3->reload;
ok($p->poll_query_until('repmgr', q{SELECT current_setting('synchronous_standby_names') = 'ANY 1 ("s1", "s2")'}),
	'the primary drops the standby that stopped streaming: ANY 1 ("s1", "s2")');
ok($p->poll_query_until('repmgr', "SELECT members = '{2,3}' AND quorum = 1 FROM repmgr.repl_sync"),
	'ANY 1 of {2,3} published');
foreach my $n ($s1, $s2)
{
	ok($n->poll_query_until('repmgr', "SELECT members = '{2,3}' FROM repmgr.repl_sync"),
		$n->name . ' has the published set');
}

my $prober = start_prober(conninfo($p) . ' connect_timeout=2', interval => 5);
ok(poll_until('the prober writes', 30,
		sub { scalar(grep { $_->{ok} } prober_results($prober->{out})) >= 50 }),
	'the prober commits');

# the primary dies, and one of the two members with it
$p->kill9;
$s2->kill9;

foreach my $n ($s1, $s3)
{
	ok($n->poll_query_until('repmgr',
			"SELECT last_error LIKE 'only 1 of the 2 members of the synchronous set ANY 1 (2, 3)%' FROM repmgr.daemon_status()"),
		$n->name . ': no promotion, the reason in daemon_status()');
}
diag($s1->safe_psql('repmgr', 'SELECT last_error FROM repmgr.daemon_status()'));
ok(poll_until('the log', 30, sub {
	slurp_file($s1->logfile) =~ /only 1 of the 2 members of the synchronous set ANY 1 \(2, 3\) \(version \d+\) are visible; 2 are needed/ }),
	'the reason is in the log');
# it stays so: let the workers decide many more times (counted by their loops)
my $loops = $s1->safe_psql('repmgr', 'SELECT loops FROM repmgr.daemon_status()');
ok($s1->poll_query_until('repmgr', "SELECT loops > $loops + 50 FROM repmgr.daemon_status()"),
	's1 decided again many times');
is($s1->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 't', 's1 (member) is not promoted');
is($s3->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 't', 's3 (outside the set) is not promoted');

# the second member comes back: the failover proceeds
start_after_kill($s2);
my $new;
ok(poll_until('a promotion', 90, sub {
	($new) = grep { $_->safe_psql('repmgr', 'SELECT NOT pg_is_in_recovery()') eq 't' } ($s1, $s2);
	return defined $new; }), 'a member is promoted once both members are visible');
is($s3->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 't', 's3 (outside the set) was not promoted');

my @rows = stop_prober($prober);
my @acked = grep { $_->{ok} && $_->{node} eq '1' } @rows;
my $ids = join(',', map { $_->{seq} } @acked);
is($new->safe_psql('repmgr', "SELECT count(DISTINCT seq) FROM repmgr_probe WHERE seq IN ($ids)"),
	scalar(@acked), 'every acknowledged write is on the new primary (' . scalar(@acked) . ' writes)');

# the new primary manages and publishes the set, with its term
my $new_id = $new == $s1 ? 2 : 3;
ok($new->poll_query_until('repmgr',
		"SELECT s.primary_node = $new_id AND s.term = d.term FROM repmgr.repl_sync s, repmgr.daemon_status() d"),
	'the new primary publishes its set with its term');

done_testing();
