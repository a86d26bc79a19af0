# The HTTP endpoint facing bad clients: garbage, TLS and HTTP/2 on the
# port, a 1 MB request line, huge headers, slow and half-closed clients,
# idle connections, 10,000 connections at once, and a port already taken.
# Each gets its 400/408/431 or is dropped; the worker stays up (same pid),
# the monitoring worker keeps its pace, the server never crashes.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use IO::Socket::INET;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use HttpTest;
use Test::More;
use Time::HiRes qw(time);

my $node = new_primary('node1', 1,
	conf => { http_settings('node1', 'repmgr.http_timeout' => '1s',
			'repmgr.http_max_connections' => '16') });
register_primary($node, 1);
ok(wait_worker_state($node, 30, 'monitoring as primary'), 'worker monitoring');
ok(poll_until('/primary 200', 30, sub { http_status($node, '/primary') == 200 }), 'endpoint up');
my $port = http_port($node);
my $http_pid = http_worker_pid($node);
my $worker_pid = $node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'repmgr worker'");

sub status_of
{
	my ($out) = @_;
	return $out =~ m{^HTTP/1\.1 (\d{3}) } ? $1 : 'none';
}

# not HTTP at all: answered 400 at once, not at the deadline
my @bad = (
	[ 'random bytes', join('', map { chr(int(rand(256))) } 1 .. 512), 400 ],
	[ 'a TLS ClientHello', "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" . ("\0" x 64), 400 ],
	[ 'an HTTP/2 preface', "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400 ],
	[ 'an SQL startup packet', "\0\0\0\x08\x04\xd2\x16\x2f", 400 ],
	[ 'a lowercase method', "get /primary HTTP/1.1\r\n\r\n", 400 ],
	[ 'HTTP/0.9', "GET /primary\r\n\r\n", 400 ],
	[ 'a header without a colon', "GET /primary HTTP/1.1\r\nHost x\r\n\r\n", 400 ],
	[ 'a NUL in a header', "GET /primary HTTP/1.1\r\nHost: a\0b\r\n\r\n", 400 ],
	[ 'a 1 MB request line', 'GET /' . ('a' x (1024 * 1024)) . " HTTP/1.1\r\n\r\n", 431 ],
	[ 'a 100 kB header', "GET /primary HTTP/1.1\r\nX-Big: " . ('b' x (100 * 1024)) . "\r\n\r\n", 431 ],
	[ 'ten thousand headers', "GET /primary HTTP/1.1\r\n" . ("X: y\r\n" x 10000) . "\r\n", 431 ],
	[ 'a long query', '/primary?' . ('q' x 300), 400 ],
);
$bad[-1][1] = "GET $bad[-1][1] HTTP/1.1\r\n\r\n";
foreach my $case (@bad)
{
	my ($what, $bytes, $want) = @$case;
	my ($out, $took) = http_raw($port, $bytes, timeout => 5);
	is(status_of($out), $want, "$what: $want");
	ok($took < 0.9, "$what: answered before the deadline (" . sprintf('%.3f', $took) . ' s)');
}

# slow clients (slowloris): more than there are slots, each sending a few
# bytes; a health check still gets through, and they all end by the deadline
my @slow;
for my $i (1 .. 40)
{
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp')
	  or next;
	syswrite($s, "GET /pri");
	push @slow, $s;
}
my $t0 = time();
is(http_status($node, '/primary'), 200, 'a health check gets through 40 slow clients holding 16 slots');
ok(time() - $t0 < 0.9, 'without waiting for their deadline');
my $ended = 0;
ok(poll_until('slow clients closed', 5, sub {
		$ended = 0;
		foreach my $s (@slow)
		{
			my $sel = IO::Select->new($s);
			if ($sel->can_read(0))
			{
				my $n = sysread($s, my $buf, 4096);
				$ended++ if !defined($n) || $n == 0 || $buf =~ /^HTTP\/1\.1 408/;
			}
		}
		$ended > 0 && (grep { my $x = IO::Select->new($_); $x->can_read(0) } @slow) == @slow }),
	'every slow client is answered 408 or closed by its deadline');
close($_) foreach @slow;

# a request that stops in the middle: 408 at the deadline
my ($out, $took) = http_raw($port, "GET /primary HTTP/1.1\r\nHost: x\r\n", timeout => 5);
is(status_of($out), 408, 'an unfinished request: 408');
ok($took >= 0.9 && $took < 3, sprintf('... at the deadline (%.2f s, repmgr.http_timeout = 1s)', $took));

# half-closed before the end of the request: dropped without an answer
($out, $took) = http_raw($port, "GET /prim", half_close => 1, timeout => 5);
is($out, '', 'half-closed before the end of the request: closed, no answer');
ok($took < 0.9, 'at once');

# half-closed after a whole request: still answered
($out) = http_raw($port, "GET /primary HTTP/1.1\r\n\r\n", half_close => 1, timeout => 5);
is(status_of($out), 200, 'half-closed after a whole request: answered');

# a connection that sends nothing: closed at the deadline
($out, $took) = http_raw($port, '', timeout => 5);
is($out, '', 'an idle connection: closed without an answer');
ok($took >= 0.9 && $took < 3, sprintf('... at the deadline (%.2f s)', $took));

# 10,000 connections at once (a process with a larger descriptor limit)
my $loops_before = $node->safe_psql('repmgr', 'SELECT loops FROM repmgr.daemon_status()');
my $flood = <<'PERL';
use strict; use IO::Socket::INET; use Socket; use Time::HiRes qw(time);
my ($port, $n, $release) = @ARGV; my @s; my $t0 = time();
for (1 .. $n) {
	socket(my $s, PF_INET, SOCK_STREAM, 0) or last;
	$s->blocking(0);
	connect($s, pack_sockaddr_in($port, inet_aton('127.0.0.1')));
	push @s, $s;
}
# hold them open until the test has checked the endpoint (it creates
# $release), for 60 s at most
select(undef, undef, undef, 0.01) until -e $release || time() - $t0 > 60;
print scalar(@s), "\n";
PERL
my ($fout, $ferr);
my $release = PostgreSQL::Test::Utils::tempdir() . '/release';
my $fh = IPC::Run::start([ 'bash', '-c', 'ulimit -n 11000 2>/dev/null || true; exec perl -e "$0" "$@"', $flood, $port, 10000, $release ],
	'>', \$fout, '2>', \$ferr);
# while the flood is on
my $during = 0;
ok(poll_until('a health check answered during the flood', 20,
		sub { $during = http_status($node, '/health', timeout => 2); $during == 200 }),
	'a health check is answered during the flood');
open(my $rf, '>', $release) or die "$release: $!";
close($rf);
$fh->finish;
chomp($fout);
ok($fout >= 1000, "the flood opened $fout connections at once");
ok(poll_until('/primary 200 after the flood', 10, sub { http_status($node, '/primary') == 200 }),
	'after 10,000 connections: /primary 200');
ok($node->poll_query_until('repmgr', "SELECT loops > $loops_before + 2 FROM repmgr.daemon_status()"),
	'the monitoring worker kept looping');

# the endpoint still works, in the same processes
is(http_worker_pid($node), $http_pid, 'the HTTP worker is the same process (never restarted)');
is($node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'repmgr worker'"),
	$worker_pid, 'the monitoring worker is the same process');
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|was terminated|server process .* exited with exit code [^01]/,
	'no crash in the server log');
my (undef, $metrics) = http_get($node, '/metrics');
like($metrics, qr/^repmgr_http_bad_requests_total [1-9]\d*$/m, 'bad requests are counted');
like($metrics, qr/^repmgr_http_timeouts_total [1-9]\d*$/m, 'timeouts are counted');

# a port already taken: logged, retried, served once free; no restart loop
my $busy_port = PostgreSQL::Test::Cluster::get_free_port();
my $squatter = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $busy_port,
	Listen => 5, ReuseAddr => 1) or die "cannot take port $busy_port: $!";
my $node2 = PostgreSQL::Test::Cluster->new('taken');
$node2->init;
$node2->append_conf('postgresql.conf', repmgr_conf(2));
$node2->append_conf('postgresql.conf',
	"repmgr.http_listen_addresses = '127.0.0.1'\nrepmgr.http_port = $busy_port\n");
$node2->start;
ok(poll_until('the bind failure is logged', 20,
		sub { slurp_file($node2->logfile) =~ /repmgr http: could not listen on "127\.0\.0\.1" port $busy_port/ }),
	'a port in use: an error in the log');
my $pid2 = http_worker_pid($node2);
like($pid2, qr/^\d+$/, 'the HTTP worker keeps running');
is($node2->safe_psql('postgres', 'SELECT 1'), '1', 'the server runs');
close($squatter);
ok(poll_until('served once the port is free', 20, sub {
		my ($o) = http_raw($busy_port, "GET /health HTTP/1.1\r\n\r\n", timeout => 2);
		status_of($o) == 200 }),
	'the port freed: the endpoint answers after a retry');
is(http_worker_pid($node2), $pid2, 'the same HTTP worker (it retried, it did not restart)');
my @msgs = (slurp_file($node2->logfile) =~ /could not listen/g);
is(scalar(@msgs), 1, 'the failure was said once, not at every retry');
$node2->stop;

# an address list that does not parse: a warning at start, the endpoint off
# (PostgreSQL keeps the default of an extension's setting it rejects)
my $node3 = PostgreSQL::Test::Cluster->new('badlist');
$node3->init;
$node3->append_conf('postgresql.conf', repmgr_conf(3));
$node3->append_conf('postgresql.conf', "repmgr.http_listen_addresses = '\"127.0.0.1'\n");
$node3->start;
like(slurp_file($node3->logfile), qr/WARNING:  invalid value for parameter "repmgr\.http_listen_addresses"/,
	'an address list that does not parse: a warning names the setting');
is($node3->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'repmgr http'"),
	'0', '... and the endpoint stays off (no worker to restart in a loop)');
$node3->stop;

done_testing();
