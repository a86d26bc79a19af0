/*-------------------------------------------------------------------------
 *
 * bgworker.c
 *	  Entry point of the repmgr library: _PG_init, the repmgr.* settings,
 *	  the shared-memory and fence hooks, and the monitoring worker: its
 *	  registration, signal handling and main loop.
 *
 * The loop does one step of the state machine (fsm.c) per iteration,
 * then sleeps on its latch until the next check is due, the upstream's
 * socket stirs (a server that dies closes it at once), or a peer wakes it.
 * Memory is reset at every iteration.  An error ends the worker and the
 * postmaster restarts it a second later.
 *
 * All settings are declared here, in one place, with their units.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <unistd.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "fence.h"
#include "http.h"
#include "worker.h"

/* settings */
int			repmgr_node_id = InvalidNodeId;
char	   *repmgr_database = "repmgr";
char	   *repmgr_cluster = NULL;
int			repmgr_failover_mode = FAILOVER_AUTOMATIC;
int			repmgr_monitor_interval_ms = 1000;
int			repmgr_connect_timeout_ms = 1000;
int			repmgr_reconnect_attempts = 3;
int			repmgr_reconnect_interval_ms = 1000;
bool		repmgr_monitoring_history = false;
char	   *repmgr_event_notification_command = NULL;
char	   *repmgr_event_notifications = NULL;
int			repmgr_event_notification_timeout_ms = 30000;
bool		repmgr_fence = true;
bool		repmgr_primary_visibility_consensus = true;
char	   *repmgr_promote_command = NULL;
char	   *repmgr_follow_command = NULL;
char	   *repmgr_failover_validation_command = NULL;
int			repmgr_synchronous = SYNC_MODE_OFF;
int			repmgr_synchronous_count = 1;
int			repmgr_failover_max_lag = -1;

static const struct config_enum_entry failover_options[] = {
	{"automatic", FAILOVER_AUTOMATIC, false},
	{"manual", FAILOVER_MANUAL, false},
	{NULL, 0, false}
};

static const struct config_enum_entry synchronous_options[] = {
	{"off", SYNC_MODE_OFF, false},
	{"on", SYNC_MODE_ON, false},
	{"strict", SYNC_MODE_STRICT, false},
	{"false", SYNC_MODE_OFF, true},
	{"true", SYNC_MODE_ON, true},
	{NULL, 0, false}
};

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

void		_PG_init(void);

const char *
failover_mode_name(int mode)
{
	return mode == FAILOVER_MANUAL ? "manual" : "automatic";
}

const char *
sync_mode_name(int mode)
{
	switch (mode)
	{
		case SYNC_MODE_ON:
			return "on";
		case SYNC_MODE_STRICT:
			return "strict";
		default:
			return "off";
	}
}

static void
repmgr_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	shmem_request();
}

static void
repmgr_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	shmem_startup();
}

static void
define_int_ms(const char *name, const char *desc, int *var, int def, int min,
			  int max)
{
	DefineCustomIntVariable(name, desc, NULL, var, def, min, max,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
}

static void
define_command(const char *name, const char *desc, char **var)
{
	DefineCustomStringVariable(name, desc,
							   "Placeholders: %n node id, %a node name, %e event, %s success (1/0), "
							   "%t timestamp, %d details, %p primary node id, %c primary conninfo, %% a percent sign.",
							   var, "", PGC_SIGHUP, 0, NULL, NULL, NULL);
}

static void
define_settings(void)
{
	DefineCustomIntVariable("repmgr.node_id",
							"Id of this node in repmgr.repl_nodes.",
							"0 means the node has no id yet.",
							&repmgr_node_id,
							InvalidNodeId, 0, INT_MAX,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	/* a postmaster setting can only be defined while preloading */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomStringVariable("repmgr.database",
								   "Database in which the repmgr extension is installed.",
								   "The worker connects to it.",
								   &repmgr_database,
								   "repmgr",
								   PGC_POSTMASTER, 0,
								   NULL, NULL, NULL);

	DefineCustomStringVariable("repmgr.cluster",
							   "Name of the cluster recorded by primary_register.",
							   NULL,
							   &repmgr_cluster,
							   "default",
							   PGC_SUSET, 0,
							   NULL, NULL, NULL);

	DefineCustomEnumVariable("repmgr.failover",
							 "Whether the worker promotes and follows on its own.",
							 "automatic: fail over when the primary is lost; manual: monitor only.",
							 &repmgr_failover_mode,
							 FAILOVER_AUTOMATIC, failover_options,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	/* under 100 ms is for tests and benchmarks */
	define_int_ms("repmgr.monitor_interval",
				  "Time between two checks of the upstream node (and two heartbeats of the primary).",
				  &repmgr_monitor_interval_ms, 1000, 10, 3600 * 1000);
	define_int_ms("repmgr.connect_timeout",
				  "Deadline of a connection or query to another node.",
				  &repmgr_connect_timeout_ms, 1000, 100, 600 * 1000);
	DefineCustomIntVariable("repmgr.reconnect_attempts",
							"Attempts to reach a lost upstream before it is declared failed.",
							NULL,
							&repmgr_reconnect_attempts,
							3, 1, 1000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	define_int_ms("repmgr.reconnect_interval",
				  "Time between the starts of two attempts to reach a lost upstream.",
				  &repmgr_reconnect_interval_ms, 1000, 10, 3600 * 1000);

	DefineCustomBoolVariable("repmgr.monitoring_history",
							 "Whether standbys write a repl_monitor row every monitor_interval.",
							 NULL,
							 &repmgr_monitoring_history,
							 false,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	define_command("repmgr.event_notification_command",
				   "Shell command run for each event.",
				   &repmgr_event_notification_command);
	DefineCustomStringVariable("repmgr.event_notifications",
							   "Comma-separated events passed to event_notification_command; empty: all.",
							   NULL,
							   &repmgr_event_notifications,
							   "",
							   PGC_SIGHUP, GUC_LIST_INPUT,
							   NULL, NULL, NULL);
	define_int_ms("repmgr.event_notification_timeout",
				  "Time after which a notification command is killed.",
				  &repmgr_event_notification_timeout_ms, 30000, 100, 3600 * 1000);

	DefineCustomBoolVariable("repmgr.fence",
							 "Whether a primary that cannot reach enough of the cluster stops committing writes.",
							 "With automatic failover, a primary that loses contact with the nodes that could "
							 "elect a new primary refuses commits before they can; a replaced primary never "
							 "accepts writes until it rejoins.",
							 &repmgr_fence,
							 true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("repmgr.primary_visibility_consensus",
							 "Whether a failover waits until no other node can see the primary.",
							 NULL,
							 &repmgr_primary_visibility_consensus,
							 true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	define_command("repmgr.promote_command",
				   "Command that promotes this node instead of the built-in promotion (%n: this node).",
				   &repmgr_promote_command);
	define_command("repmgr.follow_command",
				   "Command that re-points this node instead of the built-in follow (%n: the node to follow).",
				   &repmgr_follow_command);
	define_command("repmgr.failover_validation_command",
				   "Command run before an automatic promotion; a non-zero exit vetoes it (%n: this node).",
				   &repmgr_failover_validation_command);

	DefineCustomEnumVariable("repmgr.synchronous",
							 "Whether the primary's worker manages synchronous replication.",
							 "off: synchronous_standby_names is left alone; on: the primary keeps "
							 "it to ANY n of its healthy standbys and drops a dead or lagging one, "
							 "so commits go on; strict: it never lists fewer than "
							 "repmgr.synchronous_count standbys, so commits wait instead.",
							 &repmgr_synchronous,
							 SYNC_MODE_OFF, synchronous_options,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("repmgr.synchronous_count",
							"Standbys that must confirm a commit when repmgr.synchronous is on or strict.",
							"The n of ANY n (...) in synchronous_standby_names.",
							&repmgr_synchronous_count,
							1, 1, REPMGR_MAX_NODES - 1,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("repmgr.failover_max_lag",
							"Most WAL a standby may be behind the primary's last heartbeat to be promoted automatically.",
							"The primary's heartbeat carries its flush position; -1: no limit.",
							&repmgr_failover_max_lag,
							-1, -1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("repmgr");
}

static void
register_worker(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = 1;
	strlcpy(worker.bgw_library_name, "repmgr", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "repmgr_worker_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "repmgr worker", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "repmgr worker", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

void
_PG_init(void)
{
	http_init_gucs();
	define_settings();
	remote_init();
	events_init();

	if (!process_shared_preload_libraries_in_progress)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = repmgr_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = repmgr_shmem_startup;
	fence_init();
	register_worker();
	http_register_worker();
}

/* ----------
 * The worker
 * ----------
 */

static WorkerCtx ctx;
static bool connected = false;

/* a text of the settings that matter to the worker, to see what a reload changed */
static char *
settings_text(void)
{
	return psprintf("failover=%s monitor_interval=%dms connect_timeout=%dms "
					"reconnect_attempts=%d reconnect_interval=%dms "
					"monitoring_history=%s fence=%s "
					"synchronous=%s synchronous_count=%d failover_max_lag=%d",
					failover_mode_name(repmgr_failover_mode),
					repmgr_monitor_interval_ms, repmgr_connect_timeout_ms,
					repmgr_reconnect_attempts, repmgr_reconnect_interval_ms,
					repmgr_monitoring_history ? "on" : "off",
					repmgr_fence ? "on" : "off",
					sync_mode_name(repmgr_synchronous),
					repmgr_synchronous_count, repmgr_failover_max_lag);
}

static void
reload_settings(void)
{
	char	   *before = settings_text();
	char	   *after;

	ConfigReloadPending = false;
	ProcessConfigFile(PGC_SIGHUP);
	after = settings_text();
	if (strcmp(before, after) != 0)
	{
		ereport(LOG, (errmsg("repmgr worker: configuration reloaded: %s", after)));
		worker_record_event(&ctx, "repmgrd_reload", true,
							psprintf("configuration reloaded: %s", after));
	}
	ctx.next_check = 0;
	pfree(before);
	pfree(after);
}

/*
 * Read what every iteration works from: the node records, this node,
 * its position and durable state.
 */
static void
load_facts(void)
{
	ctx.nodes = NIL;
	ctx.self = NULL;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(ctx.loop_context);
	ctx.extension_ready = repmgr_extension_ready();
	if (ctx.extension_ready)
	{
		ctx.nodes = nodes_fetch_all();
		ctx.self = nodes_lookup(ctx.nodes, repmgr_node_id);
		sync_read_published(&ctx.sync_own);
	}
	else
		memset(&ctx.sync_own, 0, sizeof(ctx.sync_own));
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(ctx.loop_context);

	local_position(&ctx.position);
	shmem_get_durable(&ctx.durable);
}

/* how long to sleep: until the next check, shorter in the busy states */
static long
wait_time_ms(void)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz next = ctx.next_check;
	long		ms;

	switch (ctx.state)
	{
		case WS_SUSPECT:
			next = ctx.next_attempt;
			break;
		case WS_ELECTION:
			return 50;
		case WS_DEGRADED:
		case WS_WAITING_PRIMARY:
			next = Min(ctx.next_check, ctx.next_decision);
			break;
		case WS_PRIMARY:
		case WS_FENCED:
			next = ctx.next_heartbeat;
			break;
		default:
			break;
	}
	ms = TimestampDifferenceMilliseconds(now, next);
	/* a standby looks at its WAL receiver often: it is only shared memory */
	if (ctx.position.in_recovery)
		ms = Min(ms, 200);
	return Max(ms, 1);
}

static void
wait_for_work(void)
{
	pgsocket	sock = PGINVALID_SOCKET;
	int			events = WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH;
	int			rc;

	if (remote_is_open(ctx.upstream_conn))
	{
		sock = PQsocket(ctx.upstream_conn->conn);
		events |= WL_SOCKET_READABLE;
	}
	rc = WaitLatchOrSocket(MyLatch, events, sock, wait_time_ms(), PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);

	/* the upstream spoke between checks: most likely it went away */
	if ((rc & WL_SOCKET_READABLE) && remote_is_open(ctx.upstream_conn))
	{
		if (!PQconsumeInput(ctx.upstream_conn->conn) ||
			PQstatus(ctx.upstream_conn->conn) != CONNECTION_OK)
		{
			ereport(LOG,
					(errmsg("repmgr worker: connection to upstream node %d closed",
							ctx.upstream_id)));
			remote_close(ctx.upstream_conn);
			ctx.upstream_conn = NULL;
			ctx.next_check = 0;
		}
	}
}

/*
 * Called when the worker exits, cleanly or not.
 */
static void
worker_on_exit(int code, Datum arg)
{
	shmem_worker_detach();
}

/*
 * The last exit callback: leave without the C library's exit handlers.
 * Every server process inherits from the postmaster OpenSSL's atexit
 * handler (the postmaster draws its random seeds through OpenSSL), and
 * that cleanup, with the library destructors, frees memory the process
 * shares copy-on-write with the postmaster: some 30 ms of page faults per
 * process on a virtual machine, measured (bench/RESULTS.md).  A fast
 * shutdown waits for every backend and worker to be gone before its
 * checkpoint, so that time is write unavailability in a switchover.  By
 * now proc_exit() has done all of PostgreSQL's own cleanup; stderr, the
 * only stream the worker writes, is unbuffered.
 */
static void
worker_exit_now(int code, Datum arg)
{
	_exit(code);
}

static void
worker_shutdown(void)
{
	ereport(LOG, (errmsg("repmgr worker: shutting down")));
	MemoryContextSwitchTo(ctx.loop_context);
	if (ctx.self != NULL)
	{
		worker_record_event(&ctx, "repmgrd_shutdown", true,
							psprintf("repmgr worker on node %d (\"%s\") shutting down",
									 ctx.self->node_id, ctx.self->name));
		ctx.next_flush = 0;
		worker_flush_events(&ctx);
	}
	worker_close_links(&ctx);
	/* exit code 1: restarted if terminated by pg_terminate_backend() */
	proc_exit(1);
}

/*
 * Does a database of that name exist?  Read from pg_database directly, as
 * the autovacuum launcher does: a process connected to no database cannot
 * use the catalog caches.
 */
static bool
database_exists(const char *name)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		if (strcmp(NameStr(db->datname), name) == 0)
		{
			found = true;
			break;
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return found;
}

/*
 * Wait (without spinning) for repmgr.database to be created, connected to
 * no database; then exit, so the next start connects to it.
 */
static void
wait_for_database(void)
{
	bool		said = false;

	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (ShutdownRequestPending)
			proc_exit(1);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (database_exists(repmgr_database))
			break;
		if (!said)
			ereport(LOG,
					(errmsg("repmgr worker: database \"%s\" does not exist; waiting for it to be created",
							repmgr_database),
					 errhint("Create it and the extension in it, or set repmgr.database.")));
		said = true;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	ereport(LOG, (errmsg("repmgr worker: database \"%s\" exists now; restarting to connect to it",
						 repmgr_database)));
	shmem_set_database_missing(false);
	proc_exit(1);
}

/* a connection attempt that ends in FATAL remembers the database is missing */
static void
note_missing_database(int code, Datum arg)
{
	if (!connected)
		shmem_set_database_missing(true);
}

void
repmgr_worker_main(Datum main_arg)
{
	/*
	 * First here, so it runs after every exit callback registered later;
	 * of PostgreSQL's own before it only smgrshutdown, which has nothing
	 * to do for md, is skipped.
	 */
	on_proc_exit(worker_exit_now, (Datum) 0);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();

	if (shmem_database_missing())
		wait_for_database();

	before_shmem_exit(note_missing_database, (Datum) 0);
	BackgroundWorkerInitializeConnection(repmgr_database, NULL, 0);
	connected = true;

	/*
	 * None of the worker's own writes may wait for a synchronous standby:
	 * it runs before it knows whether this node is still the primary, and
	 * a wait for a standby that never comes cannot be interrupted by a
	 * shutdown request.
	 */
	SetConfigOption("synchronous_commit", "local", PGC_SUSET, PGC_S_OVERRIDE);
	pgstat_report_appname("repmgr worker");

	shmem_worker_attach();
	before_shmem_exit(worker_on_exit, (Datum) 0);

	memset(&ctx, 0, sizeof(ctx));
	ctx.state = WS_STARTING;
	ctx.loop_context = AllocSetContextCreate(TopMemoryContext,
											 "repmgr worker iteration",
											 ALLOCSET_DEFAULT_SIZES);
	ereport(LOG,
			(errmsg("repmgr worker started for node %d in database \"%s\"",
					repmgr_node_id, repmgr_database)));

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(ctx.loop_context);
		MemoryContextSwitchTo(ctx.loop_context);
		if (ConfigReloadPending)
			reload_settings();
		load_facts();
		if (ShutdownRequestPending)
			worker_shutdown();

		pgstat_report_activity(STATE_RUNNING, worker_state_name(ctx.state));
		fsm_step(&ctx);
		MemoryContextSwitchTo(ctx.loop_context);

		worker_flush_events(&ctx);
		ctx.status.loops++;
		ctx.status.node_id = repmgr_node_id;
		shmem_worker_publish(&ctx.status);
		pgstat_report_activity(STATE_IDLE, worker_state_name(ctx.state));

		if (ShutdownRequestPending)
			worker_shutdown();
		wait_for_work();
	}
}
