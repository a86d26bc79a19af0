# With synchronous replication written by hand on every node
# (synchronous_standby_names = 'ANY 1 (s1, s2)'), the old primary killed
# with kill -9 and started again without a rejoin after a standby was
# promoted: its worker must not wait for a synchronous standby that will
# never come (its own commits are local), it fences itself, and a fast
# shutdown finishes.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;
use Time::HiRes qw(time);

my $p = new_primary('p', 1);
register_primary($p, 1);
my $s1 = new_standby($p, 's1', 2);
register_standby($s1, 2);
my $s2 = new_standby($p, 's2', 3);
register_standby($s2, 3);
foreach my $n ($p, $s1, $s2)
{
	ok(wait_worker_state($n, 30, 'monitoring as primary', 'monitoring upstream'),
		$n->name . ': worker monitoring');
	# on every node, as an operator would write it (a standby uses it once promoted)
	$n->append_conf('postgresql.conf', "synchronous_standby_names = 'ANY 1 (s1, s2)'");
	$n->reload;
}
$p->safe_psql('repmgr', 'CREATE TABLE t (x int); INSERT INTO t VALUES (1)');
ok($p->poll_query_until('repmgr', "SELECT count(*) = 2 FROM pg_stat_replication WHERE sync_state = 'quorum'"),
	'both standbys are quorum-synchronous');

$p->kill9;
my $new;
ok(poll_until('a promotion', 60, sub {
	($new) = grep { $_->safe_psql('repmgr', 'SELECT NOT pg_is_in_recovery()') eq 't' } ($s1, $s2);
	return defined $new; }), 'a standby is promoted');

# the old primary comes back as it was: no rejoin
start_after_kill($p);
ok($p->poll_query_until('repmgr', "SELECT fenced FROM repmgr.daemon_status()"),
	'the old primary fences itself');
is($p->safe_psql('repmgr',
		"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'repmgr worker' AND wait_event = 'SyncRep'"),
	'0', 'its worker does not wait for a synchronous standby');
is($p->safe_psql('repmgr', "SELECT state FROM repmgr.daemon_status()"), 'fenced',
	'daemon_status says fenced (the worker runs)');

my $t0 = time();
$p->stop('fast');
cmp_ok(time() - $t0, '<', 30, 'a fast shutdown finishes');

done_testing();
