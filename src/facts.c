/*-------------------------------------------------------------------------
 *
 * facts.c
 *	  The facts of one step of the worker (step.h's WkFacts): its copy of
 *	  the metadata, the server's position and WAL receiver, the durable
 *	  state, what peers told it through shared memory, the settings, and
 *	  the answers of the round the last step asked for.  Reads only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "storage/procarray.h"

#include "actions.h"
#include "guc.h"
#include "timelines.h"
#include "voter.h"
#include "worker.h"

/* the metadata, this node, its position and the line of WAL it is on */
static void
read_catalog(WorkerCtx *ctx, int64 *timeline_term)
{
	ctx->nodes = NIL;
	ctx->self = NULL;
	*timeline_term = 0;

	/*
	 * The position first, then the snapshot the catalog is read with: a
	 * standby's copy of the catalog then holds everything up to the
	 * position it stands with (decide.c, "Membership")
	 */
	MemoryContextSwitchTo(ctx->loop_context);
	local_position(&ctx->position);
	{
		/* a claim's transaction ended before the snapshot: its change shows */
		TransactionId xid = shmem_membership_claim(&ctx->claim_commit_lsn);

		ctx->claim = TransactionIdIsValid(xid);
		ctx->claim_ended = ctx->claim && !TransactionIdIsInProgress(xid);
	}
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(ctx->loop_context);
	ctx->extension_ready = repmgr_extension_ready();
	if (ctx->extension_ready)
	{
		ctx->nodes = nodes_fetch_all();
		ctx->self = nodes_lookup(ctx->nodes, repmgr_node_id);
		(void) sync_read_published(&ctx->sync_own);
		*timeline_term = timeline_term_of(ctx->position.timeline,
										  ctx->position.timeline_switch_lsn);
	}
	else
		memset(&ctx->sync_own, 0, sizeof(ctx->sync_own));
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(ctx->loop_context);
}

static WkNode *
wk_nodes_of(List *nodes, int *n)
{
	WkNode	   *out = palloc0(sizeof(WkNode) * Max(list_length(nodes), 1));
	ListCell   *lc;

	*n = 0;
	foreach(lc, nodes)
	{
		NodeInfo   *node = (NodeInfo *) lfirst(lc);
		WkNode	   *w = &out[(*n)++];

		w->id = node->node_id;
		w->type = (int) node->type;
		w->upstream = node->upstream_node_id;
		w->priority = node->priority;
		w->active = node->active;
		w->name = node->name;
		w->location = node->location;
	}
	return out;
}

/*
 * The node this standby's WAL receiver streams from, known when its
 * primary_conninfo is exactly what a follow writes for a registered node
 * (follow_conninfo()); 0 when it does not stream, or when
 * primary_conninfo is anything else (written by hand or by a clone, or
 * cleared for a vote).
 */
static int
streaming_from(WorkerCtx *ctx, const char *current, bool streaming)
{
	ListCell   *lc;

	if (ctx->self == NULL || current == NULL || current[0] == '\0' || !streaming)
		return InvalidNodeId;
	foreach(lc, ctx->nodes)
	{
		NodeInfo   *node = (NodeInfo *) lfirst(lc);

		if (node->node_id == repmgr_node_id || !node->active ||
			node->type == NODE_TYPE_WITNESS)
			continue;
		if (strcmp(follow_conninfo(ctx->self, node), current) == 0)
			return node->node_id;
	}
	return InvalidNodeId;
}

void
worker_gather_facts(WorkerCtx *ctx)
{
	WkFacts    *f = &ctx->facts;
	DcVoterMem	mem;
	const char *conninfo;
	bool		fenced;
	MonoTime	now;
	int64		timeline_term;

	read_catalog(ctx, &timeline_term);
	shmem_get_durable(&ctx->durable);
	shmem_get_voter_mem(&mem);
	now = mono_now();

	memset(f, 0, sizeof(*f));
	f->now = now / 1000;
	f->settings.monitor_interval_ms = repmgr_monitor_interval_ms;
	f->settings.connect_timeout_ms = repmgr_connect_timeout_ms;
	f->settings.reconnect_attempts = repmgr_reconnect_attempts;
	f->settings.reconnect_interval_ms = repmgr_reconnect_interval_ms;
	dc_timing(&f->settings, &f->timing);
	f->manual = (repmgr_failover_mode == FAILOVER_MANUAL);
	f->consensus = repmgr_primary_visibility_consensus;
	f->fence = repmgr_fence;
	f->sync_mode = repmgr_synchronous;
	f->max_lag = repmgr_failover_max_lag;
	f->monitoring_history = repmgr_monitoring_history;
	f->promote_command = repmgr_promote_command && repmgr_promote_command[0];
	f->follow_command = repmgr_follow_command && repmgr_follow_command[0];
	f->validation_command = repmgr_failover_validation_command &&
		repmgr_failover_validation_command[0];

	f->self_id = repmgr_node_id;
	f->database = repmgr_database;
	f->extension_ready = ctx->extension_ready;
	f->nodes = wk_nodes_of(ctx->nodes, &f->nnodes);

	local_dc_position(&ctx->position, &f->position);
	f->position.timeline_term = timeline_term;
	f->lsn = ctx->position.lsn;
	f->walreceiver_streaming = local_walreceiver_streaming();
	conninfo = GetConfigOption("primary_conninfo", true, false);
	f->conninfo_empty = (conninfo == NULL || conninfo[0] == '\0');
	f->streams_from = streaming_from(ctx, conninfo, f->walreceiver_streaming);

	f->term = ctx->durable.term;
	f->voted_term = ctx->durable.voted_term;
	f->voted_for = ctx->durable.voted_for;
	f->paused = ctx->durable.paused;
	f->fenced = ctx->durable.fenced;
	f->fenced_term = ctx->durable.fenced_term;
	f->lease_armed = ctx->durable.lease_armed;
	f->membership_claim = ctx->claim;
	f->claim_ended = ctx->claim_ended;
	f->claim_commit_lsn = ctx->claim_commit_lsn;

	f->heard_ago_ms = dc_mem_heard_ago(&mem, f->now);
	f->heard_lsn = mem.heard_lsn;
	f->members = mem.members;
	f->refused_primary = mem.refused_newest;
	f->refused_term = mem.refused_newest_term;
	f->refused_ago_ms = f->now > mem.refused_newest_at ? f->now - mem.refused_newest_at : 0;
	f->heard_primary = mem.heard_primary;
	f->heard_term = mem.heard_term_max;
	f->notice_primary = mem.notice_primary;
	f->notice_term = mem.notice_term;
	f->writes_allowed = shmem_writes_allowed(now, &fenced);
	{
		bool		enforced;
		MonoTime	expiry;

		shmem_get_lease(&enforced, &expiry);
		f->lease_left_ms = !enforced ? -1 : expiry > now ? mono_diff_ms(now, expiry) : 0;
	}
	f->rcv_state = shmem_rcv_state(walstop_settle_ms(), NULL, NULL);
	f->rcv_stop_term = shmem_rcv_stop_pending();

	f->sync_exists = ctx->sync_own.exists;
	f->sync = ctx->sync_own.set;
	f->sync_primary_of_set = ctx->sync_own.exists &&
		ctx->sync_own.set.primary == repmgr_node_id;

	f->result = ctx->result;
}
