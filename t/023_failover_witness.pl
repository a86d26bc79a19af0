# Primary, one standby and a witness: the standby promotes when the
# primary dies (2 of 3 with the witness), and the old primary, started
# again, fences itself naming the new primary (not the witness); with the
# witness gone too the standby does not promote (1 of 3), and says why.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

sub cluster
{
	my ($tag) = @_;
	my $p = new_primary("p$tag", 1);
	register_primary($p, 1);
	my $s = new_standby($p, "s$tag", 2);
	register_standby($s, 2);
	my $w = new_witness($p, "w$tag", 3);
	foreach my $n ($p, $s, $w)
	{
		ok(wait_worker_state($n, 30, 'monitoring as primary', 'monitoring upstream', 'monitoring as witness'),
			$n->name . ': worker monitoring');
	}
	return ($p, $s, $w);
}

# with the witness
my ($p1, $s1, $w1) = cluster('a');
$p1->kill9;
ok($s1->poll_query_until('repmgr', 'SELECT NOT pg_is_in_recovery()'),
	'the standby promotes with the witness on its side');
ok($w1->poll_query_until('repmgr', "SELECT upstream_node_id = 2 FROM repmgr.daemon_status()"),
	'the witness now watches the new primary');
ok($w1->poll_query_until('repmgr', "SELECT type = 'primary' AND active FROM repmgr.repl_nodes WHERE id = 2"),
	'and has the new metadata');
is($s1->safe_psql('repmgr', 'SELECT voted_for FROM repmgr.daemon_status()'), '2', 'it voted for itself');
is($w1->safe_psql('repmgr', 'SELECT voted_for, term FROM repmgr.daemon_status()'), '2|1',
	'the witness gave its vote in term 1');

# the old primary comes back without a rejoin: it fences itself and names
# the new primary, never the witness (which is not in recovery either and
# holds the newer term, but is no primary)
start_after_kill($p1);
ok($p1->poll_query_until('repmgr', 'SELECT fenced FROM repmgr.daemon_status()'),
	'the old primary fences itself when it meets the new one');
ok(log_matches($p1, qr/node 2 is primary in term 1; this node is fenced/),
	'it names node 2 as the newer primary');
unlike(slurp_file($p1->logfile), qr/node 3 is primary in term/, 'it never takes the witness for a primary');

# without the witness
my ($p2, $s2, $w2) = cluster('b');
$w2->stop('fast');
ok(wait_worker_state($p2, 30, 'monitoring as primary'), 'the primary goes on without the witness');
$p2->kill9;
ok(wait_worker_state($s2, 30, 'degraded monitoring'), 'the standby is in degraded monitoring');
ok(poll_until('the reason in the log', 30,
		sub { slurp_file($s2->logfile) =~ /only 1 of 3 nodes are visible/ }),
	'it says it sees only 1 of 3 nodes');
is($s2->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 't', 'the standby did not promote');
is($s2->safe_psql('repmgr', 'SELECT term FROM repmgr.daemon_status()'), '0', 'no election was held');

# the witness comes back: now 2 of 3, it promotes
$w2->start;
ok($s2->poll_query_until('repmgr', 'SELECT NOT pg_is_in_recovery()'),
	'with the witness back, the standby promotes');

done_testing();
