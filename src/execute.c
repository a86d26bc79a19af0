/*-------------------------------------------------------------------------
 *
 * execute.c
 *	  The worker executes the plan of a step (step.h), effect by effect:
 *	  the rounds whose answers the next step reads, and the effects on the
 *	  server, its shared memory, its log and the cluster's events.  Nothing
 *	  here decides: each effect is done as the plan says, or fails with an
 *	  error that ends the worker (the postmaster restarts it).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "guc.h"
#include "worker.h"

/*
 * The answers of a round, kept until the next step has read them: a
 * context of their own, emptied when the next round begins.
 */
WkResult *
worker_new_result(WorkerCtx *ctx, WkFxKind kind)
{
	MemoryContextReset(ctx->result_context);
	memset(&ctx->result, 0, sizeof(ctx->result));
	ctx->result.kind = kind;
	return &ctx->result;
}

static void
log_fx(const WkFx *fx)
{
	int			elevel = fx->level == WK_WARNING ? WARNING : LOG;

	ereport(elevel,
			(errmsg("repmgr worker: %s", fx->text),
			 fx->detail[0] ? errdetail("%s", fx->detail) : 0,
			 fx->name ? errhint("%s", fx->name) : 0));
}

static void
execute_fx(WorkerCtx *ctx, const WkFx *fx, bool *own_win)
{
	switch (fx->kind)
	{
		case FX_NONE:
		case FX_ROUNDS_END:
		case FX_COUNT:
			break;

			/* rounds */
		case FX_PROBE:
			exec_probe(ctx, fx);
			break;
		case FX_ATTEMPT:
			exec_attempt(ctx, fx);
			break;
		case FX_PROBE_BACK:
			exec_probe_back(ctx, fx);
			break;
		case FX_POLL:
			exec_poll(ctx, fx);
			break;
		case FX_VOTE_SELF:
			exec_vote_self(ctx, fx);
			break;
		case FX_VOTES:
			exec_votes(ctx, fx);
			break;
		case FX_VALIDATE:
			exec_validate(ctx, fx);
			break;
		case FX_HEARTBEATS:
			exec_heartbeats(ctx, fx);
			break;
		case FX_OWN_WIN:
			*own_win = exec_own_win(ctx, fx->term);
			worker_new_result(ctx, FX_OWN_WIN)->ok = *own_win;
			break;
		case FX_FOLLOW:
			exec_follow(ctx, fx);
			break;
		case FX_ENSURE_RECORD:
			exec_ensure_record(ctx, fx);
			break;
		case FX_DOWNSTREAM:
			exec_downstream(ctx, fx);
			break;

			/* effects */
		case FX_LOG:
			log_fx(fx);
			break;
		case FX_ERROR:
			worker_set_error(ctx, "%s", fx->text);
			break;
		case FX_EVENT:
			worker_record_event(ctx, fx->name, fx->flag, fx->text);
			break;
		case FX_CLOSE_UPSTREAM:
			worker_close_upstream(ctx);
			break;
		case FX_CLOSE_PEERS:
			worker_close_peer_links(ctx);
			break;
		case FX_TAKE_NOTICE:
			shmem_take_follow_notice(fx->node);
			break;
		case FX_OBSERVE_TERM:
			shmem_observe_term(fx->term);
			break;
		case FX_FENCE:
			shmem_set_fenced(fx->term != 0, fx->term);
			break;
		case FX_LEASE_OFF:
			shmem_arm_lease(false);
			shmem_set_lease(false, 0);
			break;
		case FX_RCV_MARK_STOPPED:
			walstop_mark_stopped(ctx);
			break;
		case FX_RCV_FORGET:
			shmem_rcv_restored();
			break;
		case FX_STOP_WALRECEIVER:
			walstop_stop(ctx, fx->term);
			break;
		case FX_RESTORE_CONNINFO:
			walstop_restore(ctx, fx->node);
			break;
		case FX_HISTORY:
			exec_history(ctx, fx);
			break;
		case FX_COPY_METADATA:
			exec_copy_metadata(ctx, fx->node, fx->flag);
			break;
		case FX_SYNC_APPLY:
			sync_apply(ctx);
			break;
		case FX_MEMBERSHIP:
			shmem_set_membership_changing(fx->flag);
			if (!fx->flag)
				lease_republish(ctx, fx->voters);
			break;
		case FX_END_CLAIM:
			shmem_membership_release();
			break;
		case FX_PROMOTE:
			exec_promote(ctx, fx);
			break;
		case FX_PROMOTE_RECORD:
			exec_promote_record(ctx, fx);
			break;
		case FX_NOTIFY:
			if (!fx->flag || *own_win)
				notify_peers(ctx, fx->term, fx->node);
			break;
	}
	MemoryContextSwitchTo(ctx->loop_context);
}

void
worker_execute(WorkerCtx *ctx, const WkPlan *plan)
{
	bool		own_win = false;
	int			i;

	/* the answers the next step reads come from this plan, or there are none */
	ctx->result.kind = FX_NONE;
	if (plan->to != plan->from)
		elog(DEBUG1, "repmgr worker: \"%s\" --%s--> \"%s\"",
			 worker_state_name(plan->from), worker_event_name(plan->event),
			 worker_state_name(plan->to));
	for (i = 0; i < plan->nfx; i++)
		execute_fx(ctx, &plan->fx[i], &own_win);
}
