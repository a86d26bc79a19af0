# The notification command and what it is given: %c (the primary's
# conninfo) without its password; a value too large for the environment
# of a command (1 MB of conninfo) is cut, said so in the log, and the
# notification still runs, for that event and the next ones.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir;
my $notify_log = "$tmp/notify.log";

# one line per event: event, length of %c, %c
my $script = "$tmp/notify.sh";
open my $fh, '>', $script or die;
print $fh "#!/bin/sh\necho \"\$1|\${#2}|\$2\" >> '$notify_log'\n";
close $fh;
chmod 0755, $script;

my $node1 = new_primary('node1', 1,
	conf => { 'repmgr.event_notification_command' => "$script %e %c" });

sub notify_lines
{
	return () unless -f $notify_log;
	return split /\n/, slurp_file($notify_log);
}

# an event carries the conninfo of the primary registered before it: a
# password and an sslpassword in it, then 1 MB (too large for the
# environment of a command)
my $secret = conninfo($node1) . ' password=Secret1pw sslpassword=Secret2pw';
my $huge = conninfo($node1) . ' application_name=' . ('x' x (1024 * 1024));
$node1->safe_psql('repmgr', "SELECT repmgr.primary_register(1, 'node1', '$secret')");
ok(poll_until('the notification of primary_register', 30, sub { notify_lines() >= 1 }),
	'the notification ran');
$node1->safe_psql('repmgr',
	"SELECT repmgr.primary_register(1, 'node1', '$huge', force => true)");
ok(poll_until('the notification of the second primary_register', 30, sub { notify_lines() >= 2 }),
	'the notification of the next event ran');
my @lines = notify_lines();
like($lines[1], qr/^primary_register\|\d+\|host=.*password=\*+ sslpassword=\*+$/,
	'%c has the passwords masked');
unlike(slurp_file($notify_log), qr/Secret\dpw/, '... and no password reaches the script');

$node1->safe_psql('repmgr',
	"SELECT repmgr.primary_register(1, 'node1', '" . conninfo($node1) . "', force => true)");
ok(poll_until('the notification of the third primary_register', 30, sub { notify_lines() >= 3 }),
	'with a 1 MB conninfo, the notification still runs');
@lines = notify_lines();
ok($lines[2] =~ /^primary_register\|(\d+)\|host=\S+ port=\d+ dbname=repmgr application_name=x+$/,
	'... with %c');
$lines[2] =~ /^primary_register\|(\d+)\|/;
cmp_ok($1, '<=', 32 * 1024, '... cut to at most 32 kB');
# (the log holds the 1 MB statements: no like(), which would print it)
ok(slurp_file($node1->logfile) =~
	  /REPMGR_PRIMARY_CONNINFO of the event notification cut from 1048\d{3} to 32768 bytes/,
	'the log says so');
$node1->safe_psql('repmgr', "SELECT repmgr.record_event(1, 'test_event', true, 'x')");
ok(poll_until('the notification of test_event', 30, sub { notify_lines() >= 4 }),
	'a later notification runs too');

done_testing();
