/*-------------------------------------------------------------------------
 *
 * failover.c
 *	  The worker's effects of automatic failover, as the step asks
 *	  (step_failover.c decides; decide.c holds the rules and the safety
 *	  argument): polling the other nodes, this node's own vote and the
 *	  vote round, the validation command, the promotion, and following a
 *	  new upstream.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "actions.h"
#include "guc.h"
#include "voter.h"
#include "worker.h"

/* ----------
 * Polls and votes
 * ----------
 */

static RemoteConn *
peer_link_conn(void *arg, int node_id)
{
	PeerLink   *link = peer_link((WorkerCtx *) arg, node_id);

	if (link->conn == NULL)
		link->conn = remote_conn_new();
	return link->conn;
}

/*
 * node_state() of every other node but fx->node (the lost primary: it
 * would cost a timeout a round), over the persistent links, which stay
 * open for the requests that follow.
 */
void
exec_poll(WorkerCtx *ctx, const WkFx *fx)
{
	WkResult   *r = worker_new_result(ctx, FX_POLL);
	PeerState  *peers;
	WkPeer	   *out;
	int			npeers;
	int			i;

	MemoryContextSwitchTo(ctx->result_context);
	peers = peers_poll_over(ctx->nodes, repmgr_node_id, fx->node, fx->flag,
							peer_link_conn, ctx, &npeers);
	out = palloc0(sizeof(WkPeer) * Max(npeers, 1));
	for (i = 0; i < npeers; i++)
	{
		PeerState  *p = &peers[i];
		WkPeer	   *w = &out[i];

		w->id = p->node->node_id;
		w->reachable = p->reachable;
		w->status = remote_status_name(p->status);
		w->in_recovery = p->in_recovery;
		w->timeline = p->timeline;
		w->lsn = p->lsn;
		w->settled = p->settled;
		w->switch_lsn = p->switch_lsn;
		w->timeline_term = p->timeline_term;
		w->history = p->history;
		w->nhistory = p->nhistory;
		w->term = p->term;
		w->fenced = p->fenced;
		w->paused = p->paused;
		w->automatic = p->automatic;
		w->primary_node_id = p->primary_node_id;
		w->upstream_id = p->upstream_node_id;
		w->primary_visible_known = p->primary_visible_known;
		w->primary_visible = p->primary_visible;
		w->sync = p->sync;
	}
	r->peers = out;
	r->npeers = npeers;
}

/* this node's own vote, by the voters' rules and durably */
void
exec_vote_self(WorkerCtx *ctx, const WkFx *fx)
{
	WkResult   *r = worker_new_result(ctx, FX_VOTE_SELF);

	r->vote = failover_decide_vote(&fx->req, NULL, 0);
	if (!dc_vote_granted(r->vote))
	{
		MemoryContextSwitchTo(ctx->result_context);
		r->error = failover_vote_reason(r->vote, &fx->req);
	}
}

/* a vote round: every other active node but fx->node */
void
exec_votes(WorkerCtx *ctx, const WkFx *fx)
{
	WkResult   *r = worker_new_result(ctx, FX_VOTES);
	VoteCount	count;

	(void) request_votes(ctx, &fx->req, fx->node, fx->ms, fx->flag ? LOG : DEBUG1, &count);
	r->granted = count.granted;
	r->may_change = count.may_change;
	r->max_term = count.max_term;
	memcpy(r->ids, count.ids, sizeof(r->ids));
	r->nids = count.nids;
	memcpy(r->same_timeline, count.same_timeline, sizeof(r->same_timeline));
	r->nsame_timeline = count.nsame_timeline;
}

/*
 * Run a user command synchronously with the event placeholders; returns
 * its exit status (-1: could not run or timed out).
 */
static int
run_hook_command(WorkerCtx *ctx, const char *template, int node_id,
				 const char *event)
{
	EventInfo	ev;
	char	  **envp;
	char	   *command;
	NodeInfo   *node = worker_node(ctx, node_id);

	memset(&ev, 0, sizeof(ev));
	ev.node_id = node_id;
	ev.event = event;
	ev.successful = true;
	ev.timestamp = GetCurrentTimestamp();
	ev.node_name = node ? node->name : NULL;
	ev.primary_node_id = ctx->core.lost_primary_id;
	command = shell_expand_template(template, &envp, &ev);
	ereport(LOG, (errmsg("repmgr worker: running %s: %s", event, command)));
	return shell_run_sync(command, envp, repmgr_event_notification_timeout_ms);
}

/*
 * A promote_command or follow_command failed: record the failed event (it
 * waits in shared memory for a writable primary) and end this attempt;
 * the worker restarts and decides again.
 */
static void
hook_failed(WorkerCtx *ctx, const char *event, const char *setting,
			const char *command, int rc)
{
	char	   *details = psprintf("%s exited with %d: %s", setting, rc, command);

	worker_record_event(ctx, event, false, details);
	ereport(ERROR,
			(errmsg("repmgr worker: %s exited with %d", setting, rc),
			 errdetail("The command was: %s", command),
			 errhint("The worker restarts and decides again; its server log and the command's own output say why it failed.")));
}

void
exec_validate(WorkerCtx *ctx, const WkFx *fx)
{
	WkResult   *r = worker_new_result(ctx, FX_VALIDATE);

	r->rc = run_hook_command(ctx, repmgr_failover_validation_command, fx->node,
							 "failover_validation");
}

/* ----------
 * Promote and follow
 * ----------
 */

/*
 * The winner of term fx->term promotes: its lease armed, empty, first
 * (durably), so that the server refuses every commit from the moment it
 * leaves recovery until its first heartbeat round is acknowledged; then
 * the built-in promotion (which waits for the end of recovery), or the
 * promote_command in the background: it may itself write ("repmgr
 * standby promote" records the promotion), and its writes wait for the
 * lease that only this worker's heartbeat rounds give.
 */
void
exec_promote(WorkerCtx *ctx, const WkFx *fx)
{
	arm_empty_lease(ctx, fx->voters);
	if (fx->flag)
	{
		EventInfo	ev;
		char	  **envp;
		char	   *command;

		memset(&ev, 0, sizeof(ev));
		ev.node_id = repmgr_node_id;
		ev.event = "promote_command";
		ev.successful = true;
		ev.timestamp = GetCurrentTimestamp();
		ev.node_name = ctx->self ? ctx->self->name : NULL;
		ev.primary_node_id = ctx->core.lost_primary_id;
		command = shell_expand_template(repmgr_promote_command, &envp, &ev);
		ereport(LOG, (errmsg("repmgr worker: running promote_command: %s", command)));
		if (!shell_spawn_detached(command, envp, fx->ms))
			ereport(WARNING,
					(errmsg("repmgr worker: could not start promote_command"),
					 errhint("The worker waits for the end of recovery, then decides again.")));
		return;
	}
	promote_server();
}

/*
 * Out of recovery: the old primary fx->node2 marked failed, the events
 * recorded (by a promote_command, standby_promote is its own).
 */
void
exec_promote_record(WorkerCtx *ctx, const WkFx *fx)
{
	NodeInfo   *old = worker_node(ctx, fx->node2);

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(ctx->loop_context);
	promote_record(ctx->self, old, fx->term, ctx->nodes, false,
				   "repmgrd_failover_promote", fx->flag);
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(ctx->loop_context);

	ereport(LOG,
			(errmsg("repmgr worker: STANDBY PROMOTE successful"),
			 errdetail("node %d was successfully promoted to primary", repmgr_node_id)));
}

/*
 * Stream from fx->node (re-point primary_conninfo, or the follow_command),
 * then record it on the primary fx->node2.  The answer says whether the
 * record was written: a refusal there does not end the worker, the
 * standby's monitoring repairs it (followrec.c).
 */
void
exec_follow(WorkerCtx *ctx, const WkFx *fx)
{
	NodeInfo   *target = worker_node(ctx, fx->node);
	NodeInfo   *primary = worker_node(ctx, fx->node2);
	WkResult   *r = worker_new_result(ctx, FX_FOLLOW);

	if (target == NULL)
		elog(ERROR, "repmgr worker: node %d to follow is not registered", fx->node);
	if (primary == NULL)
		primary = target;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(ctx->loop_context);
	if (fx->flag)
	{
		int			rc = run_hook_command(ctx, repmgr_follow_command,
										  target->node_id, "follow_command");

		if (rc != 0)
			hook_failed(ctx, "repmgrd_failover_follow", "follow_command",
						repmgr_follow_command, rc);
	}
	else
		follow_stream(ctx->self, target);
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(ctx->loop_context);
	ereport(LOG,
			(errmsg("repmgr worker: node %d now following new upstream node %d",
					repmgr_node_id, target->node_id)));
	r->ok = worker_record_follow(ctx, target, primary->conninfo,
								 "repmgrd_failover_follow", fx->flag);
}
