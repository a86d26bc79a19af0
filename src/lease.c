/*-------------------------------------------------------------------------
 *
 * lease.c
 *	  The primary's heartbeats and write lease: every round asks each
 *	  active node to acknowledge this primary's term; each acknowledgement
 *	  renews the lease in shared memory at once (dc_lease_expiry), which
 *	  fence.c's commit check enforces.  A heartbeat refused for a newer
 *	  term tells the primary it was superseded (the fence states are in
 *	  failover.c); one refused by voters of a term that elected nobody makes
 *	  it stand for re-election.  An elected standby arms an empty lease
 *	  before it promotes, so it commits only once its first round is
 *	  acknowledged (decide.c states why).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "voter.h"
#include "worker.h"

#define HEARTBEAT_SQL \
	"SELECT accepted, term, is_primary FROM repmgr.heartbeat($1::integer, $2::bigint, $3::pg_lsn)"

/* one heartbeat round of the primary, as its answers come in */
typedef struct HeartbeatRound
{
	WorkerCtx  *ctx;
	MonoTime	sent;
	RemoteOp   *ops;
	PeerLink  **links;
	int			n;
	int			total;
	bool		enforced;		/* the fence is on: keep the lease */
	DcTiming	timing;
} HeartbeatRound;

static DcHeartbeatReply
heartbeat_reply(RemoteOp *op)
{
	DcHeartbeatReply r;
	PGresult   *res = op->result;

	memset(&r, 0, sizeof(r));
	if (op->rc->status != REMOTE_OK || res == NULL || PQntuples(res) != 1 ||
		PQnfields(res) != 3)
		return r;
	r.answered = true;
	r.accepted = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	r.term = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	r.is_primary = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
	return r;
}

/* the lease from the acknowledgements known now (dc_lease_expiry) */
static void
publish_lease(HeartbeatRound *hr)
{
	dc_ms	   *acks = palloc0(sizeof(dc_ms) * Max(hr->n, 1));
	dc_ms		expiry;
	int			i;

	for (i = 0; i < hr->n; i++)
		acks[i] = hr->links[i]->last_ack_sent / 1000;
	expiry = dc_lease_expiry(acks, hr->n, hr->total, &hr->timing);
	shmem_set_lease(true, expiry == 0 ? 0 : (MonoTime) expiry * 1000);
	pfree(acks);
}

/* must a primary of total active nodes hold a lease to commit? */
static bool
lease_enforced(int total)
{
	return repmgr_fence && repmgr_failover_mode != FAILOVER_MANUAL &&
		dc_lease_acks_needed(total) > 0;
}

/*
 * Before an elected standby promotes: the need of a lease, durably, and no
 * lease yet.  The new primary commits from its first heartbeat round that
 * enough nodes acknowledge (act_promote runs it at once), never before: a
 * candidate whose promotion outlasted a second election finds its
 * heartbeats refused by the voters of the newer term, and never commits.
 * The acknowledgements of older rounds, from a time it was primary, are
 * long expired.
 */
void
arm_empty_lease(WorkerCtx *ctx)
{
	if (!lease_enforced(nodes_count_active(ctx->nodes)))
		return;
	shmem_arm_lease(true);
	shmem_set_lease(true, 0);
}

/* an answer arrived: an acknowledgement renews the lease at once */
static void
heartbeat_answered(RemoteOp *op, void *arg)
{
	HeartbeatRound *hr = (HeartbeatRound *) arg;
	PeerLink   *link = hr->links[op - hr->ops];
	DcHeartbeatReply r = heartbeat_reply(op);

	if (dc_heartbeat_verdict(&r, hr->ctx->durable.term) != DC_HB_ACK)
		return;
	link->last_ack_sent = hr->sent;
	link->rejected_since = 0;
	if (hr->enforced)
		publish_lease(hr);
}

/*
 * Rule (i) for a re-election (sim/README.md, SR_REELECT): a primary that
 * published the synchronous set in force holds every commit acknowledged
 * under it; any other needs the votes of dc_sync_needed() members of it,
 * counting also a member that answered from this primary's own timeline
 * whatever its vote (it follows this primary, refusing only because it
 * has not lost it, and holds nothing of an older primary past the fork).
 */
static bool
reelection_covers(WorkerCtx *ctx, const VoteCount *count)
{
	const DcSyncSet *set = &ctx->sync_own.set;
	int			ids[2 * REPMGR_MAX_NODES + 1];
	int			n = 0;
	int			i;

	if (!ctx->sync_own.exists || dc_sync_needed(set) == 0 ||
		set->primary == repmgr_node_id)
		return true;
	for (i = 0; i < count->nids; i++)
		ids[n++] = count->ids[i];
	for (i = 0; i < count->nsame_timeline; i++)
	{
		int			id = count->same_timeline[i];
		int			j;

		for (j = 0; j < n && ids[j] != id; j++)
			;
		if (j == n)
			ids[n++] = id;		/* not counted yet */
	}
	if (dc_sync_votes_cover(set, ids, n))
		return true;
	worker_set_error(ctx, "re-elected by a majority, but fewer than %d members of the synchronous set %s (version " INT64_FORMAT ", published by node %d) voted or follow this primary: not taking the term",
					 dc_sync_needed(set), sync_set_text(set), set->version, set->primary);
	ereport(LOG, (errmsg("repmgr worker: %s", ctx->status.last_error)));
	return false;
}

/*
 * Votes in a newer term that elected nobody: the voters refuse this
 * primary's heartbeats from then on.  Once that election is certainly
 * over, stand for re-election in a term above every term seen, by the
 * voters' own rules (dc_decide_vote).  A term is never taken without
 * winning it: two primaries that both took the newer term would both be
 * acknowledged.
 */
static void
stand_for_reelection(HeartbeatRound *hr, int64 newer_term)
{
	WorkerCtx  *ctx = hr->ctx;
	RepmgrDurableState durable;
	DcVoteRequest req;
	int			votes = 1;
	int			i;
	VoteCount	count;

	for (i = 0; i < hr->n; i++)
		if (hr->links[i]->rejected_since != 0 &&
			mono_diff_ms(hr->links[i]->rejected_since, hr->sent) <
			hr->timing.election_timeout_ms)
			return;

	/*
	 * No poll first: it would wait connect_timeout for a node that does not
	 * answer, with no heartbeat meanwhile, and the lease would lapse (sim/sim
	 * --reelect-poll).  The vote round needs none: a running primary and a
	 * voter that heard another primary within the silence refuse, and a
	 * voter of a newer term refuses too and says so in its next heartbeat
	 * reply, for the next attempt.
	 */
	shmem_get_durable(&durable);
	memset(&req, 0, sizeof(req));
	req.term = Max(newer_term, Max(durable.term, durable.voted_term)) + 1;
	req.candidate = repmgr_node_id;
	/* a follower may have received more than the iteration's position */
	local_position(&ctx->position);
	req.candidate_lsn = ctx->position.lsn;
	req.candidate_timeline = ctx->position.timeline;
	/*
	 * Its own vote is written only if it wins: a running primary grants no
	 * vote to another candidate, so it cannot vote twice in the term, and a
	 * term lost must not become the term of its heartbeats.
	 */
	/* as short as a heartbeat round, so the lease does not lapse meanwhile */
	votes += request_votes(ctx, &req, hr->timing.heartbeat_timeout_ms, LOG, &count);
	/* the next attempt after another election timeout */
	for (i = 0; i < hr->n; i++)
		if (hr->links[i]->rejected_since != 0)
			hr->links[i]->rejected_since = mono_now();
	if (!dc_has_quorum(votes, nodes_count_active(ctx->nodes)))
	{
		ereport(LOG,
				(errmsg("repmgr worker: the election of term " INT64_FORMAT " produced no primary; this primary was not re-elected in term " INT64_FORMAT " (%d of %d votes)",
						newer_term, req.term, votes, nodes_count_active(ctx->nodes))));
		return;
	}
	if (!reelection_covers(ctx, &count))
		return;
	if (!shmem_record_own_win(req.term))
		return;
	ereport(LOG,
			(errmsg("repmgr worker: the election of term " INT64_FORMAT " produced no primary; this primary was re-elected in term " INT64_FORMAT,
					newer_term, req.term)));
	ctx->durable.term = req.term;
	notify_peers(ctx, req.term);
}

/*
 * Send a heartbeat to every active node, record who acknowledged it,
 * renew the lease as the acknowledgements arrive, and tell whether a
 * newer primary exists.
 */
void
primary_heartbeat_round(WorkerCtx *ctx, bool *superseded)
{
	HeartbeatRound hr;
	const char *params[3];
	ListCell   *lc;
	int			i;
	int64		newer_term = 0;

	*superseded = false;
	memset(&hr, 0, sizeof(hr));
	hr.ctx = ctx;
	hr.sent = mono_now();
	hr.total = nodes_count_active(ctx->nodes);
	failover_timing(&hr.timing);
	hr.enforced = lease_enforced(hr.total);
	ctx->next_heartbeat = MonoPlusMs(hr.sent, hr.timing.heartbeat_interval_ms);
	params[0] = psprintf("%d", repmgr_node_id);
	params[1] = psprintf(INT64_FORMAT, ctx->durable.term);
	params[2] = psprintf("%X/%X", LSN_FORMAT_ARGS(GetFlushRecPtr(NULL)));

	hr.ops = palloc0(sizeof(RemoteOp) * Max(list_length(ctx->nodes), 1));
	hr.links = palloc0(sizeof(PeerLink *) * Max(list_length(ctx->nodes), 1));
	foreach(lc, ctx->nodes)
	{
		NodeInfo   *node = (NodeInfo *) lfirst(lc);
		PeerLink   *link;

		if (!node->active || node->node_id == repmgr_node_id)
			continue;
		link = peer_link(ctx, node->node_id);
		if (link->conn == NULL)
			link->conn = remote_conn_new();
		hr.ops[hr.n].rc = link->conn;
		hr.ops[hr.n].conninfo = node->conninfo;
		hr.ops[hr.n].sql = HEARTBEAT_SQL;
		hr.ops[hr.n].nparams = 3;
		hr.ops[hr.n].params = params;
		hr.links[hr.n] = link;
		hr.n++;
	}
	if (!hr.enforced)
	{
		shmem_set_lease(false, 0);
		shmem_arm_lease(false);
	}
	else
		shmem_arm_lease(true);
	remote_run_notify(hr.ops, hr.n, hr.timing.heartbeat_timeout_ms,
					  heartbeat_answered, &hr);

	for (i = 0; i < hr.n; i++)
	{
		DcHeartbeatReply r = heartbeat_reply(&hr.ops[i]);

		switch (dc_heartbeat_verdict(&r, ctx->durable.term))
		{
			case DC_HB_SUPERSEDED:
				*superseded = true;
				newer_term = Max(newer_term, r.term);
				ctx->follow_target = hr.links[i]->node_id;
				break;
			case DC_HB_VOTED_NEWER:
				/* it voted in a newer term; until that elects somebody, no ack */
				if (hr.links[i]->rejected_since == 0)
					hr.links[i]->rejected_since = hr.sent;
				newer_term = Max(newer_term, r.term);
				break;
			default:
				break;
		}
		PQclear(hr.ops[i].result);
		hr.ops[i].result = NULL;
	}
	if (!*superseded && newer_term > ctx->durable.term)
		stand_for_reelection(&hr, newer_term);
	ctx->superseding_term = newer_term;
	if (hr.enforced)
		publish_lease(&hr);
}

/* may this primary commit now (its lease, and no fence)? */
bool
primary_lease_valid(void)
{
	bool		fenced;

	return shmem_writes_allowed(mono_now(), &fenced);
}

/* the primary's observation (monitor.c's observe_primary) */
WorkerEvent
primary_lease_event(WorkerCtx *ctx)
{
	bool		superseded;

	primary_heartbeat_round(ctx, &superseded);
	if (superseded)
		return EV_SUPERSEDED;
	if (!primary_lease_valid())
		return EV_LEASE_LOST;
	return EV_OK;
}
