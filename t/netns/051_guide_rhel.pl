# The README's real-host guide for RHEL, Rocky and Alma (PGDG:
# configuration in the data directory, the server run by the unit
# postgresql-15 through sudo systemctl, here a stand-in), run from
# README.md itself on three hosts, then a kill -9 of the primary, the
# automatic failover, the README's rejoin and switchover, and a switchover
# that loses ssh part-way (t/GuideTest.pm).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/..";
use GuideTest;

run_guide_test('rhel');
