# The durable state file (repmgr.state: term, vote, pause, fence, the
# membership change heard of) is read whole or not at all: a malformed one
# stops the server with an error naming the file, the line and what is
# wrong, instead of being read as zeros (a vote forgotten, a fence lifted).  A missing file is a node
# that never voted.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

my $node = new_primary('node1', 1, conf => { 'repmgr.failover' => 'manual' });
register_primary($node, 1);
ok(wait_worker_state($node, 30, 'monitoring as primary'), 'worker monitoring');
$node->safe_psql('repmgr', 'SELECT repmgr.daemon_set_paused(true)');
my $state = $node->data_dir . '/repmgr.state';
my $good = slurp_file($state);
like($good, qr/^paused=true$/m, 'the state file says the node is paused');
$node->stop;

my $good_lines = $good;
my @cases = (
	[ 'a value that is not a number', sub { $_[0] =~ s/^term=\d+$/term=abc/m },
		qr/the value of "term" is not a whole number of 0 or more, but "abc"/ ],
	[ 'a number with trailing garbage', sub { $_[0] =~ s/^voted_for=(\d+)$/voted_for=$1x/m },
		qr/the value of "voted_for" is not a whole number of 0 to 2147483647/ ],
	[ 'a flag that is neither true nor false', sub { $_[0] =~ s/^paused=true$/paused=yes/m },
		qr/the value of "paused" is neither true nor false, but "yes"/ ],
	[ 'a key missing', sub { $_[0] =~ s/^fenced=\w+\n//m },
		qr/key "fenced" is missing/ ],
	[ 'a key given twice', sub { $_[0] .= "term=7\n" },
		qr/key "term" is given twice/ ],
	[ 'an unknown key', sub { $_[0] .= "termm=7\n" },
		qr/unknown key "termm"/ ],
	[ 'garbage', sub { $_[0] = "\x00\x01garbage" },
		qr/invalid repmgr state file "repmgr\.state"/ ],
	[ 'an empty file', sub { $_[0] = '' },
		qr/key "term" is missing/ ],
	[ 'a term beyond 64 bits', sub { $_[0] =~ s/^term=\d+$/term=99999999999999999999/m },
		qr/the value of "term" is not a whole number/ ],
);
foreach my $case (@cases)
{
	my ($what, $change, $want) = @$case;
	my $text = $good_lines;
	$change->($text);
	write_file($node->data_dir, 'repmgr.state', $text);
	my $offset = -s $node->logfile;
	my $ret = $node->start(fail_ok => 1);
	is($ret, 0, "$what: the server does not start");
	my $log = substr(slurp_file($node->logfile), $offset);
	like($log, qr/FATAL:  invalid repmgr state file "repmgr\.state"/, "$what: refused, naming the file");
	like($log, $want, "$what: saying what is wrong");
	$node->stop('immediate') if $ret;
}

# the file as repmgr writes it: the server starts, and the node is still
# paused (the state was read, not zeros)
write_file($node->data_dir, 'repmgr.state', $good);
$node->start;
is($node->safe_psql('repmgr', 'SELECT paused FROM repmgr.daemon_status()'), 't',
	'the well-formed file is read: the node is still paused');

# the file of an older version, without the members_ keys: read as it is
$node->stop;
like($good, qr/^members_lsn=\d+\nmembers_timeline=\d+\nmembers_timeline_begin=\d+\nmembers_term=\d+$/m,
	'the state file holds the newest change of the membership heard of, with its timeline');
(my $older = $good) =~ s/^members_\w+=\d+\n//mg;
unlike($older, qr/members_/, '(the older file has no members_ key)');
write_file($node->data_dir, 'repmgr.state', $older);
$node->start;
is($node->safe_psql('repmgr', 'SELECT paused FROM repmgr.daemon_status()'), 't',
	'a file without the members_ keys (an older version) is read');

# a missing file is a node that never voted
$node->stop;
unlink($state) or die "$state: $!";
$node->start;
is($node->safe_psql('repmgr', 'SELECT term, voted_for IS NULL OR voted_for = 0, paused FROM repmgr.daemon_status()'),
	'0|t|f', 'no file: term 0, no vote, not paused');

done_testing();
