# The HTTP endpoint facing a real network: health checks polled one after
# the other from one address while another floods the endpoint with
# connections never all fail (0 failures: a client evicts only its own
# connections); an address allowlist; TLS with a certificate and key;
# Basic authentication of /cluster and /metrics while the health paths
# stay open; /cluster turned off; a reload whose new values do not load
# keeps the ones in force; an error message of /cluster never shows a
# password, quoted or not.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use HTTP::Tiny;
use IO::Socket::INET;
use IPC::Run;
use MIME::Base64;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use HttpTest;
use Test::More;
use Time::HiRes qw(time);

my $node = new_primary('node1', 1,
	conf => { http_settings('node1', 'repmgr.http_cluster_refresh' => '100ms') });
register_primary($node, 1);
ok(wait_worker_state($node, 30, 'monitoring as primary'), 'worker monitoring');
ok(poll_until('/primary 200', 30, sub { http_status($node, '/primary') == 200 }), 'endpoint up');
# the HTTP worker started before the database restarts once it exists
ok(poll_until('/cluster 200', 30, sub { http_status($node, '/cluster') == 200 }),
	'the endpoint is connected to the database');
my $port = http_port($node);
my $http_pid = http_worker_pid($node);

sub reload_with
{
	my (%settings) = @_;
	foreach my $k (sort keys %settings)
	{
		$node->safe_psql('postgres', "ALTER SYSTEM SET $k = '$settings{$k}'");
	}
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
}

# a request from a given source address: (status, body), 599 when nothing answered
sub get_from
{
	my ($source, $path, %opts) = @_;
	my $http = HTTP::Tiny->new(timeout => $opts{timeout} // 5, keep_alive => 0,
		local_address => $source);
	my $res = $http->request('GET', "http://127.0.0.1:$port$path",
		{ headers => $opts{headers} // {} });
	return ($res->{status}, $res->{content}, $res->{headers});
}

# ---- a flood from one address does not fail the health checks of another
my $flood = <<'PERL';
use strict; use Socket; use Time::HiRes qw(time);
my ($port, $source, $seconds) = @ARGV;
# lowest CPU priority: the flood contends for the server's slots, not for
# its CPU (a flood that outruns the server's accept rate fills the kernel's
# accept queue, which only a firewall can stop: README, "The HTTP endpoint")
setpriority(0, 0, 19);
my $t0 = time(); my @held; my $opened = 0;
while (time() - $t0 < $seconds) {
	socket(my $s, PF_INET, SOCK_STREAM, 0) or do { shift(@held); next };
	bind($s, pack_sockaddr_in(0, inet_aton($source))) or die "bind: $!";
	$s->blocking(0);
	connect($s, pack_sockaddr_in($port, inet_aton('127.0.0.1')));
	push @held, $s; $opened++;
	# half of them send the start of a request and stop there
	syswrite($s, "GET /pri") if $opened % 2;
	shift(@held) while @held > 400;
}
print "$opened\n";
PERL
my @flooders;
my @flood_out;
for my $i (0 .. 3)
{
	my $out = '';
	push @flood_out, \$out;
	push @flooders, IPC::Run::start([ 'perl', '-e', $flood, $port, '127.0.0.2', 6 ],
		'>', \$out, '2>', \my $err);
}
my ($checks, $failures, $slowest) = (0, 0, 0);
my @failed;
my $t0 = time();
while (time() - $t0 < 6)
{
	my $t = time();
	my ($status) = get_from('127.0.0.1', '/health', timeout => 1);
	my $took = time() - $t;
	$slowest = $took if $took > $slowest;
	$checks++;
	if ($status != 200)
	{
		$failures++;
		push @failed, sprintf('%s after %.3f s at +%.3f s', $status, $took, $t - $t0);
	}
}
$_->finish foreach @flooders;
my $opened = 0;
$opened += $$_ foreach @flood_out;
note(sprintf('%d health checks during a flood of %d connections: %d failed, slowest %.3f s',
		$checks, $opened, $failures, $slowest));
ok($opened > 1000, "the flood opened $opened connections from 127.0.0.2 (the slots: 64)");
ok($checks >= 40, "$checks health checks from 127.0.0.1, one after the other");
is($failures, 0, 'no health check failed during the flood (1 s timeout each)')
  or diag('failed checks: ' . join('; ', @failed));
my (undef, $metrics) = http_get($node, '/metrics');
like($metrics, qr/^repmgr_http_dropped_total [1-9]\d*$/m, 'the flood\'s connections were evicted');
is(http_worker_pid($node), $http_pid, 'the HTTP worker is the same process');

# the per-client cap: one address holds at most repmgr.http_max_client_connections
# (the HTTP worker applies the new cap when it has read the reload, which
# pg_reload_conf() does not wait for: connections accepted before that
# are all kept, so they are opened again until the cap is seen to hold)
reload_with('repmgr.http_max_client_connections' => '3');
my @held;
my $counted = -1;
ok(poll_until('held connections counted', 30, sub {
			if (!@held || $counted > 4)
			{
				close($_) foreach @held;
				@held = ();
				for (1 .. 6)
				{
					my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
						LocalAddr => '127.0.0.2', Proto => 'tcp') or die "connect: $!";
					push @held, $s;
				}
			}
			my (undef, $m) = get_from('127.0.0.1', '/metrics');
			$counted = ($m // '') =~ /^repmgr_http_connections (\d+)$/m ? $1 : -1;
			$counted == 4 }),
	'six connections of one client: three are kept (and the scrape itself)');
close($_) foreach @held;
reload_with('repmgr.http_max_client_connections' => '8');

# ---- the allowlist
reload_with('repmgr.http_allowlist' => '127.0.0.2/32, ::1');
ok(poll_until('allowlist in force', 10, sub { (get_from('127.0.0.1', '/health', timeout => 2))[0] == 599 }),
	'an address outside the allowlist gets no answer');
is((get_from('127.0.0.2', '/health'))[0], 200, 'an address inside it is answered');
like(slurp_file($node->logfile), qr/repmgr http: allowlist: 127\.0\.0\.2\/32, ::1/, 'the allowlist is logged');
reload_with('repmgr.http_allowlist' => '127.0.0.1/33');
ok(poll_until('the bad allowlist is logged', 10, sub {
			slurp_file($node->logfile) =~ /invalid repmgr\.http_allowlist: "127\.0\.0\.1\/33" has no valid prefix length.*\n.*The allowlist in force is kept/ }),
	'an allowlist that does not load at a reload is refused, saying why');
is((get_from('127.0.0.2', '/health'))[0], 200, '... and the one in force stays');
is((get_from('127.0.0.1', '/health', timeout => 2))[0], 599, '... for every address');
reload_with('repmgr.http_allowlist' => '127.0.0.0/8');
ok(poll_until('allowlist widened', 10, sub { (get_from('127.0.0.1', '/health', timeout => 2))[0] == 200 }),
	'a network in CIDR notation lets its addresses in');
(undef, $metrics) = http_get($node, '/metrics');
like($metrics, qr/^repmgr_http_refused_total [1-9]\d*$/m, 'refused connections are counted');

# ---- authentication of /cluster and /metrics
my $dir = PostgreSQL::Test::Utils::tempdir();
my $auth = write_file($dir, 'http_users', "# users of the endpoint\nprom:Scrape-s3cret\nops:Ops-s3cret\n");
chmod 0600, $auth;
reload_with('repmgr.http_auth_file' => $auth);
ok(poll_until('authentication in force', 10, sub { http_status($node, '/cluster') == 401 }),
	'/cluster without credentials: 401');
my ($st, $body, $hdr) = http_get($node, '/metrics');
is($st, 401, '/metrics without credentials: 401');
like($hdr->{'www-authenticate'} // '', qr/^Basic realm="repmgr"/, '... asking for Basic authentication');
is(http_status($node, '/health'), 200, '/health needs no credentials');
is(http_status($node, '/primary'), 200, '/primary needs none');
($st) = get_from('127.0.0.1', '/cluster', headers => { Authorization => 'Basic ' . MIME::Base64::encode_base64('prom:wrong', '') });
is($st, 401, 'a wrong password: 401');
($st) = get_from('127.0.0.1', '/cluster', headers => { Authorization => 'Basic ' . MIME::Base64::encode_base64('nobody:Scrape-s3cret', '') });
is($st, 401, 'an unknown user: 401');
($st, $body) = get_from('127.0.0.1', '/cluster', headers => { Authorization => 'Basic ' . MIME::Base64::encode_base64('prom:Scrape-s3cret', '') });
is($st, 200, 'the right user and password: 200');
like($body, qr/"members"/, '... with the members');
($st) = get_from('127.0.0.1', '/metrics', headers => { Authorization => 'Basic ' . MIME::Base64::encode_base64('ops:Ops-s3cret', '') });
is($st, 200, '/metrics with another user of the file: 200');
unlike(slurp_file($node->logfile), qr/s3cret/, 'no password in the server log');
# a file others may read is refused at a reload; the users read before stay
chmod 0604, $auth;
write_file($dir, 'http_users', "prom:Changed-s3cret\n");
reload_with('repmgr.http_auth_file' => $auth);
ok(poll_until('the unsafe file is logged', 10, sub {
			slurp_file($node->logfile) =~ /invalid repmgr\.http_auth_file: ".*" is readable or writable by others \(mode 0604\)/ }),
	'an authentication file readable by others is refused, saying why');
($st) = get_from('127.0.0.1', '/cluster', headers => { Authorization => 'Basic ' . MIME::Base64::encode_base64('prom:Scrape-s3cret', '') });
is($st, 200, '... and the users read before stay');
reload_with('repmgr.http_auth_file' => '');
ok(poll_until('authentication off', 10, sub { http_status($node, '/cluster') == 200 }),
	'without repmgr.http_auth_file, /cluster is open again');

# ---- /cluster turned off
reload_with('repmgr.http_cluster' => 'off');
ok(poll_until('/cluster off', 10, sub { http_status($node, '/cluster') == 404 }), 'repmgr.http_cluster = off: /cluster 404');
(undef, $body) = http_get($node, '/cluster');
like($body, qr/turned off/, '... saying so');
is(http_status($node, '/metrics'), 200, '/metrics still answers');
reload_with('repmgr.http_cluster' => 'on');
ok(poll_until('/cluster on', 10, sub { http_status($node, '/cluster') == 200 }), 'on again: 200');

# ---- an error of /cluster that quotes a connection string: masked
$node->safe_psql('repmgr', q{
	CREATE FUNCTION public.boom() RETURNS boolean LANGUAGE plpgsql AS $$
	BEGIN
		-- only in the HTTP worker: the monitoring worker reads repl_sync too
		IF (SELECT backend_type FROM pg_stat_activity WHERE pid = pg_backend_pid()) = 'repmgr http' THEN
			RAISE EXCEPTION 'could not reach "host=h password=''x y'' user=u", nor postgresql://u:pw2@h/db?sslpassword=ssl3&x=1';
		END IF;
		RETURN true;
	END $$;
	ALTER TABLE repmgr.repl_sync RENAME TO repl_sync_saved;
	-- a one-time filter: evaluated once, before any row
	CREATE VIEW repmgr.repl_sync AS
		SELECT * FROM repmgr.repl_sync_saved WHERE (SELECT public.boom());
});
ok(poll_until('/cluster fails', 10, sub { http_status($node, '/cluster') == 503 }), '/cluster answers 503 on an error');
(undef, $body) = http_get($node, '/cluster');
like($body, qr/could not reach/, '... with the message');
unlike($body, qr/x y|y'|pw2|ssl3/, '... without the passwords it quoted (a quoted value too)');
like($body, qr/password=\*{8}.*postgresql:\/\/u:\*{8}\@h.*sslpassword=\*{8}/, '... masked');
$node->safe_psql('repmgr', q{
	DROP VIEW repmgr.repl_sync;
	ALTER TABLE repmgr.repl_sync_saved RENAME TO repl_sync;
	DROP FUNCTION public.boom();
});

# ---- TLS
SKIP:
{
	skip 'openssl and curl are needed for the TLS tests', 9
	  unless `command -v openssl` && `command -v curl`;
	my $cert = "$dir/server.crt";
	my $key = "$dir/server.key";
	system('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', $key,
		'-out', $cert, '-subj', '/CN=127.0.0.1', '-days', '2', '-addext', 'subjectAltName=IP:127.0.0.1') == 0
	  or die 'openssl req failed';
	chmod 0600, $key;
	my $curl = sub {
		my ($url, @extra) = @_;
		my ($out, $err) = ('', '');
		IPC::Run::run([ 'curl', '-s', '--max-time', '5', '--cacert', $cert, '-o', '/dev/null',
				'-w', '%{http_code}', @extra, $url ], '>', \$out, '2>', \$err);
		return $out;
	};
	reload_with('repmgr.http_ssl_cert_file' => $cert, 'repmgr.http_ssl_key_file' => $key);
	ok(poll_until('HTTPS in force', 10, sub { $curl->("https://127.0.0.1:$port/health") eq '200' }),
		'with a certificate and key: HTTPS, /health 200');
	is($curl->("https://127.0.0.1:$port/primary"), '200', '/primary over HTTPS: 200');
	is($curl->("https://127.0.0.1:$port/cluster"), '200', '/cluster over HTTPS: 200');
	is($curl->("http://127.0.0.1:$port/health"), '000', 'plain HTTP gets no answer');
	chmod 0600, $auth;
	reload_with('repmgr.http_auth_file' => $auth);
	ok(poll_until('auth over HTTPS', 10, sub { $curl->("https://127.0.0.1:$port/metrics") eq '401' }),
		'HTTPS with authentication: /metrics 401 without credentials');
	is($curl->("https://127.0.0.1:$port/metrics", '-u', 'prom:Changed-s3cret'), '200',
		'... 200 with them');
	# a key that does not match: refused at the reload, the one in force stays
	my $other = "$dir/other.key";
	system('openssl', 'genrsa', '-out', $other, '2048') == 0 or die 'openssl genrsa failed';
	chmod 0600, $other;
	reload_with('repmgr.http_ssl_key_file' => $other);
	ok(poll_until('the key mismatch is logged', 10, sub {
				slurp_file($node->logfile) =~ /repmgr http: TLS: the key ".*other\.key" does not match the certificate/ }),
		'a key that does not match the certificate is refused, saying why');
	is($curl->("https://127.0.0.1:$port/health"), '200', '... and the certificate in force stays');
	reload_with('repmgr.http_ssl_cert_file' => '', 'repmgr.http_ssl_key_file' => '', 'repmgr.http_auth_file' => '');
	ok(poll_until('plain HTTP again', 10, sub { http_status($node, '/health') == 200 }),
		'without the files: plain HTTP again');
}

is(http_worker_pid($node), $http_pid, 'the HTTP worker never restarted');
unlike(slurp_file($node->logfile), qr/terminated by signal|server process .* exited with exit code [^01]/,
	'no crash in the server log');

done_testing();
