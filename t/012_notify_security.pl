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
# environment of a command).  The worker's events come in between: the
# lines are told apart by their %c.
my $secret = conninfo($node1) . ' password=Secret1pw sslpassword=Secret2pw';
my $huge = conninfo($node1) . ' application_name=' . ('x' x (1024 * 1024));

sub lines_with
{
	my ($re) = @_;
	return grep { $_ =~ $re } notify_lines();
}

$node1->safe_psql('repmgr', "SELECT repmgr.primary_register(1, 'node1', '$secret')");
$node1->safe_psql('repmgr',
	"SELECT repmgr.primary_register(1, 'node1', '$huge', force => true)");
ok(poll_until('a notification with the secret conninfo', 30,
		sub { lines_with(qr/^primary_register\|\d+\|host=.*password=/) >= 1 }),
	'the notification of an event after the primary with a password ran');
my @masked = lines_with(qr/password=/);
is(scalar(grep { !/ password=\*+ sslpassword=\*+$/ } @masked), 0,
	'%c has the passwords masked');
ok((grep { /Secret\dpw/ } notify_lines()) == 0, '... and no password reaches the script');

$node1->safe_psql('repmgr',
	"SELECT repmgr.primary_register(1, 'node1', '" . conninfo($node1) . "', force => true)");
ok(poll_until('a notification with the 1 MB conninfo', 30,
		sub { lines_with(qr/^primary_register\|\d{5,}\|/) >= 1 }),
	'with a 1 MB conninfo, the notification still runs');
my ($big) = lines_with(qr/^primary_register\|\d{5,}\|/);
ok($big =~ /^primary_register\|(\d+)\|host=\S+ port=\d+ dbname=repmgr application_name=x+$/,
	'... with %c');
$big =~ /^primary_register\|(\d+)\|/;
cmp_ok($1, '<=', 32 * 1024, '... cut to at most 32 kB');
# (the log holds the 1 MB statements: no like(), which would print it)
ok(slurp_file($node1->logfile) =~
	  /REPMGR_PRIMARY_CONNINFO of the event notification cut from 1048\d{3} to 32768 bytes/,
	'the log says so');
$node1->safe_psql('repmgr', "SELECT repmgr.record_event(1, 'test_event', true, 'x')");
ok(poll_until('the notification of test_event', 30, sub { lines_with(qr/^test_event\|/) >= 1 }),
	'a later notification runs too');

done_testing();
