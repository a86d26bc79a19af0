# Makefile for the repmgr extension (PGXS)
#
#   make                 build the extension and bin/repmgr
#   make install         install them (as root, or with sudo)
#   make installcheck    pg_regress (sql/, expected/) on a temporary instance
#                        started with shared_preload_libraries = 'repmgr',
#                        then the TAP tests (t/)
#   make test            all of it from a fresh machine: dependencies, build,
#                        install, tests as an unprivileged user (scripts/test.sh)
#   make simulate        the deterministic simulation of the failover protocol
#                        (sim/): SEEDS=N schedules (default 1,000,000) from
#                        FIRST=S, SIM_ARGS for more (--settings, --sync, ...)
#   make mutate          mutation testing of the worker's core against the
#                        simulation (sim/mutate.sh, sim/mutants.txt)
#   make chaos           fault cycles on real servers in network namespaces, as
#                        root (scripts/chaos.sh; CHAOS_CYCLES=N, CHAOS_SYNC=1)

MODULE_big = repmgr
OBJS = \
	common/conninfo_srv.o \
	common/receiver_srv.o \
	common/settings_srv.o \
	src/actions.o \
	src/ballot.o \
	src/bgworker.o \
	src/check.o \
	src/decide.o \
	src/cluster.o \
	src/events.o \
	src/execute.o \
	src/facts.o \
	src/failover.o \
	src/fence.o \
	src/followrec.o \
	src/fsm.o \
	src/guc.o \
	src/http.o \
	src/http_access.o \
	src/http_cluster.o \
	src/http_parse.o \
	src/http_routes.o \
	src/http_tls.o \
	src/lease.o \
	src/localnode.o \
	src/monoclock.o \
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
	src/status.o \
	src/step.o \
	src/step_failover.o \
	src/step_monitor.o \
	src/step_primary.o \
	src/step_util.o \
	src/syncmgr.o \
	src/syncrep.o \
	src/timelines.o \
	src/voter.o \
	src/votemem.o \
	src/walstop.o \
	src/worker.o
PGFILEDESC = "repmgr - replication manager for PostgreSQL"

EXTENSION = repmgr
DATA = repmgr--3.1.sql

REGRESS = repmgr_setup repmgr_register repmgr_cluster repmgr_worker repmgr_privileges \
	repmgr_limits repmgr_http
REGRESS_OPTS = --temp-instance=tmp_check_regress \
	--temp-config=$(srcdir)/sql/regress.conf --load-extension=repmgr

TAP_TESTS = 1

PG_CPPFLAGS = -I$(libpq_srcdir) -I$(srcdir)/src -I$(srcdir)/common
SHLIB_LINK_INTERNAL = $(libpq)

EXTRA_CLEAN = tmp_check_regress

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# TLS of the HTTP endpoint, with the OpenSSL the server is built with
ifeq ($(with_ssl),openssl)
SHLIB_LINK += -lssl -lcrypto
endif

# PGXS tracks no header dependencies: rebuild all objects when one changes
$(OBJS): $(wildcard $(srcdir)/src/*.h) $(wildcard $(srcdir)/common/*.h)

# common/ is compiled twice, as PostgreSQL's src/common: x_srv.o for the
# extension (here), bin/x.o for bin/repmgr (bin/Makefile, as frontend code)
common/%_srv.o: common/%.c
	$(CC) $(CFLAGS) $(CPPFLAGS) -c -o $@ $<

common/%_srv.bc: common/%.c
	$(COMPILE.c.bc) -o $@ $<

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

# partition tests: network namespaces need root; the servers run as the
# unprivileged REPMGR_TEST_USER (scripts/test.sh runs this as root)
.PHONY: installcheck-netns
installcheck-netns: bench/prober
	rm -rf '$(CURDIR)'/tmp_check_netns && $(MKDIR_P) '$(CURDIR)'/tmp_check_netns && \
	cd $(srcdir) && TESTDIR='$(CURDIR)' PATH="$(bindir):$$PATH" \
	   PG_REGRESS='$(top_builddir)/src/test/regress/pg_regress' \
	   $(PROVE) $(PG_PROVE_FLAGS) $(PROVE_FLAGS) $(if $(PROVE_TESTS),$(PROVE_TESTS),t/netns/*.pl)

# fault cycles on real servers (bench/chaos.pl, t/Chaos.pm): scripts/chaos.sh
# builds, installs and runs chaos-run as root in a copy of the tree
.PHONY: chaos chaos-run
chaos:
	bash scripts/chaos.sh

chaos-run: bench/prober
	rm -rf '$(CURDIR)'/tmp_check_netns && $(MKDIR_P) '$(CURDIR)'/tmp_check_netns && \
	cd $(srcdir) && TESTDIR='$(CURDIR)' PATH="$(bindir):$$PATH" \
	   PG_REGRESS='$(top_builddir)/src/test/regress/pg_regress' \
	   $(PROVE) $(PG_PROVE_FLAGS) $(PROVE_FLAGS) bench/chaos.pl

# the write prober of the failover tests and benchmarks
all: bench/prober
bench/prober: bench/prober.c
	$(CC) $(CFLAGS) -I$(includedir) -o $@ $< -L$(libdir) -lpq

# the HTTP load generator of the endpoint's benchmark
all: bench/httpload
bench/httpload: bench/httpload.c
	$(CC) $(CFLAGS) -o $@ $< -lpthread

clean: clean-prober
.PHONY: clean-prober
clean-prober:
	rm -f bench/prober bench/httpload

# the demo cluster of the README (scripts/demo.sh)
.PHONY: demo demo-stop
demo:
	bash scripts/demo.sh

demo-stop:
	bash scripts/demo.sh stop

# the benchmarks of bench/ in one sitting; writes bench/RESULTS.md
.PHONY: bench
bench:
	BENCH_COMMAND='make bench' bash bench/run.sh

# the deterministic simulation of the failover protocol (sim/): plain C,
# no PostgreSQL; it links the worker's own step (src/step*.c), the voter's
# rules (src/votemem.c) and the decisions (src/decide.c), compiled with the
# server's compiler and flags, and takes its default settings from the
# table of settings (common/)
WORKER_CORE = src/decide.c src/votemem.c src/step.c src/step_failover.c \
	src/step_monitor.c src/step_primary.c src/step_util.c
SIM_SRCS = sim/engine.c sim/server.c sim/worker.c sim/node.c sim/check.c \
	sim/main.c $(WORKER_CORE) common/settings.c
SIM_HDRS = sim/sim.h src/decide.h src/votemem.h src/step.h src/step_int.h \
	common/settings.h
SEEDS ?= 1000000
FIRST ?= 1

sim/sim: $(SIM_SRCS) $(SIM_HDRS)
	$(CC) $(CFLAGS) -I$(srcdir)/src -I$(srcdir)/common -o $@ $(SIM_SRCS)

.PHONY: simulate simulate-check
simulate: sim/sim
	sim/sim --seeds $(SEEDS) --first $(FIRST) $(SIM_ARGS)

# what make test runs: the regression seeds, 100,000 schedules, 10,000 --sync,
# 10,000 --aim
simulate-check: sim/sim
	bash sim/check.sh

# mutation testing: each mutant of sim/mutants.txt must make the simulation
# fail (MUTATE_SEEDS, MUTATE_JOBS, MUTATE_ONLY: see sim/mutate.sh)
.PHONY: mutate
mutate:
	MUTATE_BUILD='$(CC) $(CFLAGS) -I$(srcdir)/src -I$(srcdir)/common -o sim/sim $(SIM_SRCS)' \
		bash sim/mutate.sh

clean: clean-sim
.PHONY: clean-sim
clean-sim:
	rm -f sim/sim
