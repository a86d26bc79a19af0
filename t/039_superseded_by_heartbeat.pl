# A running primary that refuses the heartbeat of a primary of a newer
# term fences itself until it rejoins, as it does when that primary
# answers its own heartbeats: a newer primary whose copy of the metadata
# does not know this node never asks it, so the heartbeats it sends are
# all this node learns of it.  The heartbeat comes from this test, as such
# a primary's worker would send it.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

my $p = new_primary('sh1', 1);
register_primary($p, 1);
my $s = new_standby($p, 'sh2', 2);
register_standby($s, 2);
foreach my $n ($p, $s)
{
	ok(wait_worker_state($n, 30, 'monitoring as primary', 'monitoring upstream'),
		$n->name . ': worker monitoring');
}
my $term = $p->safe_psql('repmgr', 'SELECT term FROM repmgr.daemon_status()');

$p->safe_psql('repmgr', 'CREATE TABLE sh (i int)');

# a heartbeat of a newer term, from a primary it does not know
my $newer = $term + 5;
is($p->safe_psql('repmgr', "SELECT accepted FROM repmgr.heartbeat(9, $newer)"), 'f',
	'the heartbeat of a newer term is refused too');
ok($p->poll_query_until('repmgr', 'SELECT fenced FROM repmgr.daemon_status()'),
	'the primary fences itself');
ok(log_matches($p, qr/node 9 is primary in term $newer; this node is fenced until it rejoins/),
	'it names the newer primary and its term');
my ($rc, $out, $err) = $p->psql('repmgr', 'INSERT INTO sh VALUES (1)');
isnt($rc, 0, 'a fenced primary refuses writes');
like($err, qr/read-only transaction/, '... as read-only');

done_testing();
