
# HttpTest.pm
#    Helpers of the tests of the HTTP endpoint: a free port and the settings
#    that turn the endpoint on, requests with HTTP::Tiny, raw bytes on a
#    socket, and promtool.

package HttpTest;

use strict;
use warnings;

use Exporter 'import';
use HTTP::Tiny;
use IO::Socket::INET;
use IO::Select;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Time::HiRes qw(time);

our @EXPORT = qw(
  http_settings http_port http_get http_raw http_status http_worker_pid
  promtool_check
);

my %ports;

# settings that turn the endpoint on for a node named $name, on a free port
sub http_settings
{
	my ($name, %extra) = @_;
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	$ports{$name} = $port;
	return (
		'repmgr.http_listen_addresses' => '127.0.0.1',
		'repmgr.http_port' => $port,
		%extra);
}

sub http_port
{
	my ($node) = @_;
	my $name = ref($node) ? $node->name : $node;
	return $ports{$name};
}

# (status, body, headers) of a request; status 599 when nothing answered
sub http_get
{
	my ($node, $path, %opts) = @_;
	my $http = HTTP::Tiny->new(timeout => $opts{timeout} // 5, keep_alive => 0);
	my $res = $http->request($opts{method} // 'GET',
		'http://127.0.0.1:' . http_port($node) . $path);
	return ($res->{status}, $res->{content}, $res->{headers});
}

sub http_status
{
	my ($node, $path, %opts) = @_;
	my ($status) = http_get($node, $path, %opts);
	return $status;
}

# send raw bytes (optionally half-closing), return what comes back before
# the server closes or $timeout passes, and the time it took
sub http_raw
{
	my ($port, $bytes, %opts) = @_;
	my $timeout = $opts{timeout} // 5;
	my $t0 = time();
	my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
		Proto => 'tcp', Timeout => $timeout) or return ('', 0);
	$sock->blocking(0);
	my $sel = IO::Select->new($sock);
	my $off = 0;
	# send what the server takes; it may close early on a bad request
	while ($off < length($bytes) && time() - $t0 < $timeout)
	{
		my $n = syswrite($sock, $bytes, 65536, $off);
		if (!defined $n)
		{
			last unless $!{EAGAIN};
			my $ws = IO::Select->new($sock);
			$ws->can_write(0.1);
			next;
		}
		$off += $n;
		# stop writing once an answer has arrived
		last if $sel->can_read(0);
	}
	shutdown($sock, 1) if $opts{half_close};
	my $out = '';
	while (time() - $t0 < $timeout)
	{
		next unless $sel->can_read(0.1);
		my $n = sysread($sock, my $buf, 65536);
		last if !defined $n && !$!{EAGAIN} || defined $n && $n == 0;
		$out .= $buf if $n;
	}
	close($sock);
	return ($out, time() - $t0);
}

sub http_worker_pid
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'repmgr http'");
}

# (exit code, output) of promtool check metrics on a text; undef when
# promtool is not installed
sub promtool_check
{
	my ($text) = @_;
	my $promtool = `command -v promtool`;
	chomp $promtool;
	return (undef, 'promtool not installed') unless $promtool;
	my ($out, $err);
	IPC::Run::run([ $promtool, 'check', 'metrics' ], '<', \$text, '>', \$out, '2>', \$err);
	return ($? >> 8, ($out // '') . ($err // ''));
}

1;
