# Changes of the membership on a running cluster (decide.c, "Membership"):
# a registration is written under a claim and followed by a transition
# (a strict majority) that ends once enough standbys have it; a change the
# primary cannot make under a strict majority is refused with 55000 after
# its wait, and commits go on meanwhile; one change at a time.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time);

my ($p, $standbys) = monitored_cluster(standbys => 2);
my ($s1, $s2) = @$standbys;
$p->safe_psql('repmgr', 'CREATE TABLE t (x int)');

# a fourth node: a clone, then its registration (run on the clone, written
# on the primary)
my $s3 = new_standby($p, 's3', 4);
my $log_at = -s $p->logfile;
register_standby($s3, 4);
ok(poll_until('the transition in the primary log', 30,
		sub { slurp_file($p->logfile, $log_at) =~ /the membership changed \(4 nodes\): the lease counts a strict majority/ }),
	'a registration begins a transition');
ok(poll_until('the end of the transition', 30,
		sub { slurp_file($p->logfile, $log_at) =~ /the membership of 4 nodes has reached a majority/ }),
	'which ends once the standbys have it');
ok(wait_worker_state($s3, 30, 'monitoring upstream'), 'the new standby is monitored');
$p->safe_psql('repmgr', 'INSERT INTO t VALUES (1)');

# Two of the four down: the usual lease (half of 4: the primary and s3)
# holds, a strict majority (3) does not.  Removing a node that is down
# waits for a lease counting the change, which never comes: refused after
# its wait, with commits accepted meanwhile.
$s1->stop('fast');
$s2->stop('fast');
ok(wait_worker_state($p, 30, 'monitoring as primary'), 'the primary keeps its lease with 2 of 4');
# (the acknowledgements the two gave before they stopped count for one
# lease more: until they expire, a strict majority still holds; a claim
# alone, in a transaction that changes nothing, says when it no longer
# does, after its wait)
ok(poll_until('the strict majority gone', 90,
		sub { (sql_error($p, 'SELECT repmgr.membership_change_begin()'))[0] eq '55000' }),
	'a claim alone is refused once the two are gone');
my $t0 = time();
my ($out, $err) = ('', '');
my $unreg = IPC::Run::start(
	[ 'psql', '-XAtq', '-v', 'VERBOSITY=verbose', '-d', $p->connstr('repmgr'),
	  '-c', 'SELECT repmgr.standby_unregister(3)' ],
	'>', \$out, '2>', \$err);
ok($p->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE 'SELECT repmgr.standby_unregister(3)%' "
		  . "AND wait_event_type = 'Extension'"),
	'the removal waits for a lease that counts it');
$p->safe_psql('repmgr', 'INSERT INTO t VALUES (2)');
pass('commits go on while the change waits');
my ($state, $msg) = sql_error($p, 'SELECT repmgr.standby_unregister(2)');
is($state, '55000', 'a second change meanwhile is refused too');
like($msg, qr/membership/, 'it says why');
$unreg->finish;
like($err, qr/55000.*the primary's lease does not count a change of the membership yet/,
	'a change without a strict majority is refused, with the reason');
cmp_ok(time() - $t0, '>=', 10, 'after its wait of 10 s');
is($p->safe_psql('repmgr', 'SELECT count(*) FROM repmgr.repl_nodes'), '4', 'nothing was removed');
is($p->safe_psql('repmgr', 'SELECT count(*) FROM t'), '2', 'and no commit was refused');

# one of them back: 3 of 4, a strict majority: the removal goes through
$s1->start;
ok(wait_worker_state($s1, 30, 'monitoring upstream'), 'one standby back');
$p->safe_psql('repmgr', 'SELECT repmgr.standby_unregister(3)');
is($p->safe_psql('repmgr', 'SELECT count(*) FROM repmgr.repl_nodes'), '3', 'the removal is written');
ok(poll_until('the end of the transition', 30,
		sub { slurp_file($p->logfile, $log_at) =~ /the membership of 3 nodes has reached a majority/ }),
	'and reaches a majority');
is($p->safe_psql('repmgr', 'SELECT fenced FROM repmgr.daemon_status()'), 'f', 'the primary never fenced');

done_testing();
