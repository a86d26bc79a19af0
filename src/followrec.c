/*-------------------------------------------------------------------------
 *
 * followrec.c
 *	  The worker's record of a follow: once a standby streams from its new
 *	  upstream, it writes that into the metadata on the primary, in a
 *	  transaction of its own, and a refusal there does not end the worker
 *	  (failover.c's follow, monitor.c's repair of a stale record).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/snapmgr.h"

#include "actions.h"
#include "guc.h"
#include "worker.h"

/*
 * Record on the primary at primary_conninfo that this node now streams
 * from target (follow_record()), in a transaction of its own.  False if
 * that failed: the node streams from target all the same, so this is no
 * reason to end the worker, and the standby's monitoring repairs the
 * record (act_repair_record).  The usual cause: target was promoted a
 * moment ago, and refuses writes until its worker's first heartbeat
 * round gives it a lease (fence.c).
 */
bool
worker_record_follow(WorkerCtx *ctx, NodeInfo *target,
					 const char *primary_conninfo, const char *worker_event,
					 bool by_command)
{
	bool		ok = true;

	PG_TRY();
	{
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		MemoryContextSwitchTo(ctx->loop_context);
		follow_record(ctx->self, target, primary_conninfo, ctx->nodes,
					  worker_event, by_command);
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(ctx->loop_context);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(WARNING,
				(errmsg("repmgr worker: node %d streams from node %d, but its record could not be updated",
						repmgr_node_id, target->node_id),
				 errdetail_internal("%s", edata->message),
				 errhint("The worker tries again every monitor_interval.")));
		worker_set_error(ctx, "streams from node %d, but its record could not be updated: %s",
						 target->node_id, edata->message);
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(ctx->loop_context);
	return ok;
}
