# The short version of "make chaos" (bench/chaos.pl): a few fault cycles on
# a primary, three standbys and a witness in network namespaces, with write
# probers next to every node and through the multi-host connection string.
# Every cycle must heal and no two nodes may ever acknowledge writes at the
# same time.  CHAOS_SHORT_FAULTS chooses the faults (see t/Chaos.pm).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/..";
use Chaos;
use NetnsCluster;
use Test::More;

if (my $why = netns_available()) { plan skip_all => $why; }
my @faults = split /[ ,]+/,
  ($ENV{CHAOS_SHORT_FAULTS} // 'kill9 restart two_candidates reject');
my $chaos = Chaos->new(
	cycles => scalar @faults,
	faults => \@faults,
	seed => $ENV{CHAOS_SEED} || time(),
	tag => '040');
$chaos->run;
done_testing();
