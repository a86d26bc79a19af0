/*-------------------------------------------------------------------------
 *
 * bgworker.c
 *	  Entry point of the repmgr library: _PG_init (which defines the
 *	  repmgr.* settings through guc.c), the shared-memory and fence hooks,
 *	  and the monitoring worker: its registration, signal handling and
 *	  main loop.
 *
 * The loop gathers the facts (facts.c), takes one pure step of the state
 * machine (step.c), executes its plan (execute.c) and publishes its
 * status, then sleeps on its latch until the next check is due
 * (wk_wake_in_ms), the upstream's socket stirs (a server that dies closes
 * it at once), or a peer wakes it.  Memory is reset at every iteration.
 * An error ends the worker and the postmaster restarts it a second later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

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
#include "guc.h"
#include "http.h"
#include "worker.h"

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

void		_PG_init(void);

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
	guc_define_settings();
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

static void worker_shutdown(void) pg_attribute_noreturn();

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
	ctx.core.next_check = 0;
	pfree(before);
	pfree(after);
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
	rc = WaitLatchOrSocket(MyLatch, events, sock,
						   (long) wk_wake_in_ms(&ctx.core, &ctx.facts),
						   PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);

	/* the upstream spoke between checks: most likely it went away */
	if ((rc & WL_SOCKET_READABLE) && remote_is_open(ctx.upstream_conn))
	{
		if (!PQconsumeInput(ctx.upstream_conn->conn) ||
			PQstatus(ctx.upstream_conn->conn) != CONNECTION_OK)
		{
			ereport(LOG,
					(errmsg("repmgr worker: connection to upstream node %d closed",
							ctx.upstream_conn_id)));
			worker_close_upstream(&ctx);
			ctx.core.next_check = 0;
		}
	}
}

/* what daemon_status() shows: the step's view, with the times it stamps */
static void
publish_status(void)
{
	WkState    *s = &ctx.core;

	ctx.status.state = s->state;
	ctx.status.node_id = repmgr_node_id;
	ctx.status.role = (RepmgrNodeType) s->role;
	ctx.status.upstream_node_id = s->upstream_node_id;
	ctx.status.primary_node_id = s->primary_node_id;
	ctx.status.primary_visible = s->primary_visible;
	ctx.status.primary_lost = s->primary_lost;
	ctx.status.upstream_failures = s->upstream_failures;
	ctx.status.elections = s->elections;
	ctx.status.promotions = s->promotions;
	ctx.status.follows = s->follows;
	if (s->upstream_seen)
		ctx.status.upstream_last_seen = GetCurrentTimestamp();
	if (s->primary_seen)
		ctx.status.primary_last_seen = GetCurrentTimestamp();
	ctx.status.loops++;
	shmem_worker_publish(&ctx.status);
}

/* one iteration: the facts, the step, its effects */
static void
worker_iteration(void)
{
	WkPlan		plan;

	worker_gather_facts(&ctx);
	if (ShutdownRequestPending)
		worker_shutdown();
	pgstat_report_activity(STATE_RUNNING, worker_state_name(ctx.core.state));
	if (!wk_step(&ctx.core, &ctx.facts, &plan))
		elog(ERROR, "repmgr worker: %s", wk_error(&plan));
	worker_execute(&ctx, &plan);
	MemoryContextSwitchTo(ctx.loop_context);
	worker_flush_events(&ctx);
	publish_status();
	pgstat_report_activity(STATE_IDLE, worker_state_name(ctx.core.state));
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

/*
 * A first connection attempt to a database that does not exist yet (a new
 * cluster, before "createdb repmgr") ends in FATAL; the worker is started
 * again after bgw_restart_time and waits for it, connected to no database,
 * saying once what it waits for (wait_for_database).  That FATAL is
 * expected: it is not logged.
 */
static emit_log_hook_type prev_emit_log_hook = NULL;
static bool database_found_missing = false;

static void
quiet_missing_database(ErrorData *edata)
{
	if (!connected && edata->elevel == FATAL &&
		edata->sqlerrcode == ERRCODE_UNDEFINED_DATABASE)
	{
		edata->output_to_server = false;
		database_found_missing = true;
	}
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/* a connection attempt that found the database missing remembers it */
static void
note_missing_database(int code, Datum arg)
{
	if (!connected && database_found_missing)
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
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = quiet_missing_database;
	BackgroundWorkerInitializeConnection(repmgr_database, NULL, 0);
	connected = true;
	emit_log_hook = prev_emit_log_hook;

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
	wk_init(&ctx.core, (uint64) MyProcPid ^ (uint64) mono_now());
	ctx.loop_context = AllocSetContextCreate(TopMemoryContext,
											 "repmgr worker iteration",
											 ALLOCSET_DEFAULT_SIZES);
	ctx.result_context = AllocSetContextCreate(TopMemoryContext,
											   "repmgr worker round",
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
		worker_iteration();
		if (ShutdownRequestPending)
			worker_shutdown();
		wait_for_work();
	}
}
