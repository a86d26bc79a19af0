# A real HAProxy in front of a 3-node cluster, routing on the HTTP
# endpoint as the README's haproxy.cfg does: writes through its read-write
# address follow the primary through a kill -9, the dead old primary is
# marked down and stays down once it is back (fenced), reads go to the
# healthy standbys.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use IO::Socket::UNIX;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use HttpTest;
use Test::More;
use Time::HiRes qw(time);

my $haproxy = `command -v haproxy || ls /usr/sbin/haproxy 2>/dev/null`;
chomp $haproxy;
plan skip_all => 'haproxy is not installed' unless $haproxy;

my $node1 = new_primary('node1', 1, conf => { http_settings('node1', listen_addresses => '127.0.0.1') });
register_primary($node1, 1);
my $node2 = new_standby($node1, 'node2', 2, conf => { http_settings('node2', listen_addresses => '127.0.0.1') });
my $node3 = new_standby($node1, 'node3', 3, conf => { http_settings('node3', listen_addresses => '127.0.0.1') });
register_standby($node2, 2);
register_standby($node3, 3);
my @nodes = ($node1, $node2, $node3);
foreach my $n (@nodes)
{
	ok(wait_worker_state($n, 30, 'monitoring as primary', 'monitoring upstream'),
		$n->name . ': worker monitoring');
}

# HAProxy as in the README (the nodes listen on 127.0.0.1 for it)
my $dir = PostgreSQL::Test::Utils::tempdir();
my $rw = PostgreSQL::Test::Cluster::get_free_port();
my $ro = PostgreSQL::Test::Cluster::get_free_port();
my $servers = sub {
	join('', map { sprintf("    server %s 127.0.0.1:%d check port %d\n", $_->name, $_->port, http_port($_)) } @nodes);
};
my $cfg = <<"EOF_CFG";
global
    maxconn 200
    stats socket $dir/haproxy.sock mode 600 level admin

defaults
    mode tcp
    timeout connect 1s
    timeout client 30m
    timeout server 30m
    timeout check 1s

frontend postgres_rw
    bind 127.0.0.1:$rw
    default_backend primary

backend primary
    option httpchk OPTIONS /primary
    http-check expect status 200
    default-server inter 200ms fall 2 rise 1 on-marked-down shutdown-sessions
@{[ $servers->() ]}
frontend postgres_ro
    bind 127.0.0.1:$ro
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk OPTIONS /replica?lag=16MB
    http-check expect status 200
    default-server inter 200ms fall 2 rise 1 on-marked-down shutdown-sessions
@{[ $servers->() ]}
EOF_CFG
PostgreSQL::Test::Utils::append_to_file("$dir/haproxy.cfg", $cfg);
my ($hout, $herr) = ('', '');
my $h = IPC::Run::start([ $haproxy, '-db', '-f', "$dir/haproxy.cfg" ], '>', \$hout, '2>', \$herr);
END { $h->kill_kill if $h; }

# server status (UP, DOWN, ...) per backend/server, from the stats socket
sub haproxy_status
{
	my $s = IO::Socket::UNIX->new(Peer => "$dir/haproxy.sock") or return {};
	print $s "show stat\n";
	my %st;
	while (my $line = <$s>)
	{
		my @f = split /,/, $line;
		next if @f < 18 || $f[0] =~ /^#/;
		$st{"$f[0]/$f[1]"} = $f[17];
	}
	return \%st;
}

sub haproxy_is
{
	my ($server, $want) = @_;
	my $got = haproxy_status()->{$server} // '';
	return $got =~ /^\Q$want\E/;
}

ok(poll_until('HAProxy sees node1 as the primary', 30, sub {
		haproxy_is('primary/node1', 'UP') && haproxy_is('primary/node2', 'DOWN') && haproxy_is('primary/node3', 'DOWN') }),
	'HAProxy: node1 UP in the read-write backend, the standbys DOWN');
ok(poll_until('HAProxy sees the replicas', 30, sub {
		haproxy_is('replicas/node2', 'UP') && haproxy_is('replicas/node3', 'UP') && haproxy_is('replicas/node1', 'DOWN') }),
	'HAProxy: the standbys UP in the read-only backend, the primary DOWN');

sub psql_via
{
	my ($port, $sql) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'psql', '-XAtq', '-d', "host=127.0.0.1 port=$port dbname=repmgr connect_timeout=3", '-c', $sql ],
		'>', \$out, '2>', \$err, IPC::Run::timeout(10));
	diag("psql through port $port: $err") if $err ne '';
	chomp $out;
	return $out;
}
is(psql_via($rw, 'SELECT inet_server_port()'), $node1->port, 'writes through HAProxy go to node1');
my $read_port = psql_via($ro, 'SELECT inet_server_port()');
ok($read_port == $node2->port || $read_port == $node3->port, 'reads through HAProxy go to a standby');

# a prober writing through HAProxy's read-write address
my $prober = start_prober("host=127.0.0.1 port=$rw dbname=repmgr connect_timeout=2", interval => 5);
ok(poll_until('the prober writes', 30, sub { scalar(grep { $_->{ok} } prober_results($prober->{out})) >= 50 }),
	'the prober commits through HAProxy');

$node1->kill9;
my $new;
ok(poll_until('a standby promoted', 60, sub {
		foreach my $n ($node2, $node3)
		{
			if ($n->safe_psql('postgres', 'SELECT NOT pg_is_in_recovery()') eq 't') { $new = $n; return 1; }
		}
		return 0 }),
	'a standby is promoted');
my $new_id = $new == $node2 ? 2 : 3;
ok(poll_until('writes through HAProxy on the new primary', 60,
		sub { scalar(grep { $_->{ok} && $_->{node} eq $new_id } prober_results($prober->{out})) >= 20 }),
	'writes through the same HAProxy address resume on the new primary');
my @rows = stop_prober($prober);
my @acked = grep { $_->{ok} } @rows;
my $last_old = (grep { $_->{node} eq '1' } @acked)[-1];
my $first_new = (grep { $_->{node} eq $new_id } @acked)[0];
diag(sprintf('write unavailability through HAProxy: %d ms', $first_new->{end} - $last_old->{end}));
is(scalar(grep { $_->{node} eq '1' && $_->{seq} > $first_new->{seq} } @acked), 0,
	'no write acknowledged by node1 after the first on the new primary');
# replication is asynchronous here: the old primary's last writes before
# the kill may not have reached the standby, so only the new primary's
# acknowledged writes must all be there; the old one's lost are reported
my @acked_new = grep { $_->{node} eq $new_id } @acked;
my $ids = join(',', map { $_->{seq} } @acked_new);
is($new->safe_psql('repmgr', "SELECT count(DISTINCT seq) FROM repmgr_probe WHERE seq IN ($ids)"),
	scalar(@acked_new), 'every write the new primary acknowledged through HAProxy is on it');
my $ids_old = join(',', map { $_->{seq} } grep { $_->{node} eq '1' } @acked);
diag('writes acknowledged by the killed primary and not on the new one (asynchronous replication): '
	  . (scalar(grep { $_->{node} eq '1' } @acked)
		- $new->safe_psql('repmgr', "SELECT count(DISTINCT seq) FROM repmgr_probe WHERE seq IN ($ids_old)")));

is(psql_via($rw, 'SELECT inet_server_port()'), $new->port, 'a new session through HAProxy reaches the new primary');
ok(haproxy_is('primary/node1', 'DOWN'), 'HAProxy: the dead old primary is marked DOWN');
ok(haproxy_is('primary/' . $new->name, 'UP'), 'HAProxy: the new primary is UP');

# the old primary comes back: fenced, it stays DOWN
start_after_kill($node1);
ok(poll_until('node1 answers /health', 30, sub { http_status($node1, '/health') == 200 }),
	'the old primary is back and its endpoint answers');
ok(poll_until('node1 fenced or standby', 30, sub {
		my $st = worker_state($node1);
		$st eq 'fenced' || $st eq 'monitoring upstream' }),
	'the old primary is fenced (or already following)');
is(http_status($node1, '/primary'), 503, '/primary: 503 on the returning old primary');
ok(haproxy_is('primary/node1', 'DOWN'), 'HAProxy: the returning old primary stays DOWN');
is(psql_via($rw, 'SELECT inet_server_port()'), $new->port, 'writes through HAProxy still reach the new primary only');

$h->kill_kill;
done_testing();
