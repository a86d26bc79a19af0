/*-------------------------------------------------------------------------
 *
 * walstop.c
 *	  Rule (h) of managed synchronous replication (decide.c): a member of
 *	  the published synchronous set grants a vote in a term only once it
 *	  receives nothing more from the primary it lost, so that the position
 *	  it compares the candidate's with is final.
 *
 * A voter that would grant but still may receive (dc_decide_vote says
 * DC_DENY_RECEIVING, a refusal the candidate asks again after) asks the
 * worker through shared memory.  The worker clears primary_conninfo with
 * ALTER SYSTEM (durable: a restart starts no WAL receiver) and reloads.
 * The startup process stops the WAL receiver when it applies the reload;
 * until it has, it may still start one with its old copy of
 * primary_conninfo, at most wal_retrieve_retry_interval after the last
 * one stopped.  So the stop is taken as final once no WAL receiver has
 * been seen for wal_retrieve_retry_interval since the reload (every look
 * at it records that: the worker's, each iteration, and each voter's).
 * The voter then reads its position (what the WAL receiver flushed before
 * it ended: the primary was never told of more), decides again with it,
 * and records its vote.
 *
 * Streaming comes back when the worker writes primary_conninfo again: by
 * following the winner (action_follow), or, when the primary it lost is
 * back with a term not older than this node's (re-elected), by restoring
 * the cleared value (walstop_restore): when it finds that upstream back
 * after a failure, and while it monitors it (a worker restarted meanwhile;
 * a server restarted with primary_conninfo still empty and a synchronous
 * set managed counts as stopped, walstop_mark_stopped).  The step
 * (step_monitor.c) decides when; this file only does it.
 *
 * None of this happens unless a synchronous set is in force and this node
 * is one of its members: the asynchronous path never stops its receiver.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "replication/walreceiver.h"
#include "utils/guc.h"

#include "actions.h"
#include "guc.h"
#include "voter.h"
#include "worker.h"

/* how long no WAL receiver may run before the stop is final */
int
walstop_settle_ms(void)
{
	return Max(wal_retrieve_retry_interval, 0);
}

/*
 * A voter asked (for a vote in term): clear primary_conninfo durably and
 * reload; from then on every look at the WAL receiver moves the stop
 * towards final.
 */
void
walstop_stop(WorkerCtx *ctx, int64 term)
{
	const char *current = GetConfigOption("primary_conninfo", false, false);

	StartTransactionCommand();
	alter_system_set("primary_conninfo", "");
	CommitTransactionCommand();
	MemoryContextSwitchTo(ctx->loop_context);
	reload_configuration();
	shmem_rcv_set_stopped(current);
	ereport(LOG,
			(errmsg("repmgr worker: stopping the WAL receiver before voting in term " INT64_FORMAT ": primary_conninfo cleared",
					term),
			 errdetail("A member of the synchronous set votes only once it receives nothing more from the primary it lost; the vote waits %d ms (wal_retrieve_retry_interval) without a WAL receiver.",
					   walstop_settle_ms())));
}

/*
 * The WAL receiver was stopped for a vote, and this node streams from
 * upstream again (the primary it lost, back with a term not older than
 * this node's: the step decides): write back the primary_conninfo that
 * was cleared (or, if that is unknown, the upstream's connection string)
 * and reload.
 */
void
walstop_restore(WorkerCtx *ctx, int upstream_id)
{
	NodeInfo   *upstream = worker_node(ctx, upstream_id);
	char		saved[MAXCONNINFO];
	const char *conninfo;

	saved[0] = '\0';
	if (shmem_rcv_state(walstop_settle_ms(), NULL, saved) == RCV_STREAMING)
		return;
	if (saved[0] != '\0')
		conninfo = saved;
	else if (upstream != NULL && ctx->self != NULL)
		conninfo = stream_conninfo(ctx->self, upstream);
	else
		return;
	StartTransactionCommand();
	primary_conninfo_write(conninfo);	/* secrets into the password file */
	CommitTransactionCommand();
	MemoryContextSwitchTo(ctx->loop_context);
	reload_configuration();
	shmem_rcv_restored();
	ereport(LOG,
			(errmsg("repmgr worker: streaming from upstream node %d again: primary_conninfo restored",
					upstream_id)));
}

/*
 * The worker starts on a standby with a synchronous set managed and
 * primary_conninfo empty (cleared for a vote before a restart, durably):
 * the WAL receiver counts as stopped for a vote, restored as the step
 * decides.
 */
void
walstop_mark_stopped(WorkerCtx *ctx)
{
	shmem_rcv_set_stopped("");
}
