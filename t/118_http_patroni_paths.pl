# Patroni's other read-only paths and query parameters on the HTTP
# endpoint: / as the primary check; /sync (/synchronous), /async
# (/asynchronous), /quorum, /read-only-sync, /read-only-quorum from the
# synchronous set repmgr manages; ?replication_state=, ?tag_location=,
# ?tag_priority=, ?tag_nofailover= (replica checks; ignored by the primary
# checks), ?lag= with ?mode=write on /readiness; /history after a
# promotion.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use HttpTest;
use Test::More;

my %base = ('repmgr.failover' => 'manual', 'repmgr.monitor_interval' => '500ms');
my $p = new_primary('p', 1, conf => { %base, http_settings('p') });
register_primary($p, 1);
my $s1 = new_standby($p, 's1', 2, conf => { %base, http_settings('s1') });
register_standby($s1, 2, location => 'dc2');
my $s2 = new_standby($p, 's2', 3, conf => { %base, http_settings('s2') });
register_standby($s2, 3, priority => 0);
ok(wait_worker_state($p, 30, 'monitoring as primary'), 'primary monitored');
# the HTTP worker of a primary started before its database restarts once
# it exists: wait until it is connected (/cluster answers)
ok(poll_until('p /cluster', 30, sub { http_status($p, '/cluster') == 200 }), 'the endpoint of p is connected');
ok(poll_until('s1 /replica', 30, sub { http_status($s1, '/replica') == 200 }), 's1 is a healthy replica');
ok(poll_until('s2 /replica', 30, sub { http_status($s2, '/replica') == 200 }), 's2 is a healthy replica');

# / is Patroni's primary check
is(http_status($p, '/'), 200, '/: 200 on the primary');
is(http_status($s1, '/'), 503, '/: 503 on a standby');

# asynchronous replication: every standby is /async
is(http_status($s1, '/async'), 200, 'no synchronous set: /async 200 on a standby');
is(http_status($s1, '/asynchronous'), 200, '/asynchronous: 200');
is(http_status($s1, '/sync'), 503, '/sync: 503');
is(http_status($s1, '/synchronous'), 503, '/synchronous: 503');
is(http_status($s1, '/read-only-sync'), 503, '/read-only-sync: 503 on an asynchronous standby');
is(http_status($p, '/read-only-sync'), 200, '/read-only-sync: 200 on the primary');
is(http_status($p, '/async'), 503, '/async: 503 on the primary');
is(http_status($s1, '/async?lag=16MB'), 200, '/async?lag=16MB: 200 when caught up');

# repmgr manages the synchronous set: ANY 1 (s1, s2), each a quorum member
foreach my $n ($p, $s1, $s2)
{
	$n->safe_psql('postgres', "ALTER SYSTEM SET repmgr.synchronous = 'on'");
	$n->safe_psql('postgres', 'SELECT pg_reload_conf()');
}
ok($s1->poll_query_until('repmgr', "SELECT count(*) = 2 FROM repmgr.repl_sync, unnest(members) m"),
	'the synchronous set is published, with both standbys');
ok(poll_until('s1 /sync', 10, sub { http_status($s1, '/sync') == 200 }), '/sync: 200 on a member');
is(http_status($s1, '/synchronous'), 200, '/synchronous: 200');
is(http_status($s1, '/quorum'), 200, '/quorum: 200 (ANY 1 of 2)');
is(http_status($s1, '/read-only-sync'), 200, '/read-only-sync: 200 on a member');
is(http_status($s1, '/read-only-quorum'), 200, '/read-only-quorum: 200 on a member');
is(http_status($p, '/read-only-quorum'), 200, '/read-only-quorum: 200 on the primary');
is(http_status($s1, '/async'), 503, '/async: 503 on a member');
is(http_status($p, '/sync'), 503, '/sync: 503 on the primary');

# the parameters of the replica checks
is(http_status($s1, '/replica?replication_state=streaming'), 200, 'replication_state=streaming: 200');
is(http_status($s1, '/replica?replication_state=in%20archive%20recovery'), 503,
	'replication_state=in archive recovery (percent-encoded): 503 on a streaming standby');
is(http_status($s1, '/replica?tag_location=dc2'), 200, 'tag_location=dc2: 200 on the standby of dc2');
is(http_status($s2, '/replica?tag_location=dc2'), 503, '... 503 on the standby of another location');
is(http_status($s1, '/replica?tag_location=dc2&tag_priority=100'), 200, 'two tags that match: 200');
is(http_status($s1, '/replica?tag_location=dc2&tag_priority=0'), 503, 'one that does not: 503');
is(http_status($s2, '/replica?tag_nofailover=true'), 200, 'tag_nofailover=true on a priority 0 standby: 200');
is(http_status($s1, '/replica?tag_nofailover=false'), 503,
	'tag_nofailover=false: 503 with repmgr.failover = manual');
is(http_status($s1, '/replica?tag_unknown=x'), 503, 'a tag the node does not have: 503');
is(http_status($s1, '/read-only?tag_location=dc1'), 503, '/read-only applies the tags to a replica');
is(http_status($p, '/primary?tag_location=nowhere'), 200, 'the primary checks ignore tags');
is(http_status($p, '/read-only?tag_location=nowhere'), 200, '... /read-only on the primary too');
is(http_status($s1, '/sync?tag_location=dc2&lag=1GB'), 200, '/sync with a tag and a lag: 200');
is(http_status($s1, '/readiness?lag=1GB&mode=write'), 200, '/readiness?lag=1GB&mode=write: 200');
is(http_status($s1, '/readiness?lag=0&mode=apply'), 200, '/readiness?lag=0&mode=apply: 200 when caught up');
is(http_status($s1, '/readiness?mode=both'), 400, 'mode=both: 400');
is(http_status($s1, '/replica?lag=%zz'), 400, 'a parameter that does not decode: 400');
is(http_status($s1, '/replica?other=1'), 200, 'other parameters are ignored');
my ($st, $body) = http_get($s1, '/replica');
is(decode_json($body)->{replication_state}, 'streaming', 'the body says replication_state');

# /history after a promotion: the timeline it left, as Patroni shows it
($st, $body) = http_get($p, '/history');
is($st, 200, '/history: 200');
is_deeply(decode_json($body), [], '... empty on timeline 1');
$p->stop;
$s1->safe_psql('repmgr', 'SELECT repmgr.promote(force => true)');
ok(poll_until('s1 promoted', 30, sub { http_status($s1, '/') == 200 }), 's1 promoted: / 200');
($st, $body) = http_get($s1, '/history');
my $history = decode_json($body);
is(scalar(@$history), 1, '/history of the new primary: one earlier timeline');
is($history->[0][0], 1, '... timeline 1');
like($history->[0][1], qr/^\d+$/, '... the position where it ended, in bytes');
like($history->[0][2], qr/no recovery target specified/, '... the reason of the history file');
ok(!defined $history->[0][3], '... and no time (the file has none)');

done_testing();
