# Makefile for the repmgr extension (PGXS)
#
#   make                 build the extension and bin/repmgr
#   make install         install them (as root, or with sudo)
#   make installcheck    pg_regress (sql/, expected/) on a temporary instance
#                        started with shared_preload_libraries = 'repmgr',
#                        then the TAP tests (t/)
#   make test            all of it from a fresh machine: dependencies, build,
#                        install, tests as an unprivileged user (scripts/test.sh)

MODULE_big = repmgr
OBJS = \
	src/actions.o \
	src/bgworker.o \
	src/check.o \
	src/cluster.o \
	src/events.o \
	src/failover.o \
	src/fence.o \
	src/fsm.o \
	src/localnode.o \
	src/monitor.o \
	src/nodes.o \
	src/peers.o \
	src/register.o \
	src/remote.o \
	src/shell.o \
	src/shmem.o \
	src/sqlfuncs.o \
	src/sqlpeer.o \
	src/statefile.o \
	src/status.o
PGFILEDESC = "repmgr - replication manager for PostgreSQL"

EXTENSION = repmgr
DATA = repmgr--3.1.sql

REGRESS = repmgr_setup repmgr_register repmgr_cluster repmgr_worker repmgr_privileges
REGRESS_OPTS = --temp-instance=tmp_check_regress \
	--temp-config=$(srcdir)/sql/regress.conf --load-extension=repmgr

TAP_TESTS = 1

PG_CPPFLAGS = -I$(libpq_srcdir) -I$(srcdir)/src
SHLIB_LINK_INTERNAL = $(libpq)

EXTRA_CLEAN = tmp_check_regress

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

.PHONY: test
test:
	bash scripts/test.sh

# the two halves of installcheck, run separately by scripts/test.sh
.PHONY: installcheck-regress installcheck-tap
installcheck-regress:
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)

installcheck-tap:
	$(prove_installcheck)

# bin/repmgr, the command-line tool, has its own PGXS makefile
.PHONY: bin-all bin-install bin-uninstall bin-clean
all: bin-all
install: bin-install
uninstall: bin-uninstall
clean: bin-clean
bin-all bin-install bin-uninstall bin-clean:
	$(MAKE) -C bin PG_CONFIG=$(PG_CONFIG) $(patsubst bin-%,%,$@)
