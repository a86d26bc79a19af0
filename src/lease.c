/*-------------------------------------------------------------------------
 *
 * lease.c
 *	  The primary's heartbeats and write lease: every round asks each
 *	  active node to acknowledge this primary's term; each acknowledgement
 *	  renews the lease in shared memory at once (dc_lease_expiry), which
 *	  fence.c's commit check enforces.  The answers go to the step
 *	  (step_primary.c), which decides on them: superseded by a newer
 *	  primary, a re-election when voters moved to a term that elected
 *	  nobody, the lease lost.  An elected standby arms an empty lease
 *	  before it promotes, so it commits only once its first round is
 *	  acknowledged (decide.c states why).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xlog.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "voter.h"
#include "worker.h"

#define HEARTBEAT_SQL \
	"SELECT accepted, term, is_primary FROM repmgr.heartbeat($1::integer, $2::bigint, $3::pg_lsn, $4::pg_lsn, $5::integer, $6::pg_lsn)"

/* one heartbeat round of the primary, as its answers come in */
typedef struct HeartbeatRound
{
	WorkerCtx  *ctx;
	MonoTime	sent;
	int64		term;
	RemoteOp   *ops;
	PeerLink  **links;
	int			n;
	int			total;
	bool		strict;			/* a strict majority (decide.c, "Membership") */
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

/*
 * The lease from the acknowledgements known now (dc_lease_expiry).  While
 * a transaction claims a change of the membership, a strict majority
 * (decide.c, "Membership"): once it holds (the claim is armed, and the
 * change may be written), and from then on until the claim ends; before
 * that, the usual lease, so that a claim a minority cannot meet costs no
 * commit.
 */
static void
publish_acks(const dc_ms *acks, int n, int total, bool strict, const DcTiming *timing)
{
	dc_ms		expiry;

	expiry = dc_lease_expiry(acks, n, total, strict, timing);
	if (TransactionIdIsValid(shmem_membership_claim_xid()))
	{
		dc_ms		claim = dc_lease_expiry(acks, n, total, true, timing);

		if (shmem_membership_claim_armed() || claim > mono_ms())
		{
			expiry = claim;
			shmem_lease_claim_published();
		}
	}
	shmem_set_lease(true, expiry == 0 ? 0 : (MonoTime) expiry * 1000);
}

static void
publish_lease(HeartbeatRound *hr)
{
	dc_ms	   *acks = palloc0(sizeof(dc_ms) * Max(hr->n, 1));
	int			i;

	for (i = 0; i < hr->n; i++)
		acks[i] = hr->links[i]->last_ack_sent / 1000;
	publish_acks(acks, hr->n, hr->total, hr->strict, &hr->timing);
	pfree(acks);
}

/*
 * A change of the membership reached a majority: the lease from the
 * acknowledgements known, counted the usual way at once (the next
 * acknowledgement would come a heartbeat interval later).
 */
void
lease_republish(WorkerCtx *ctx, int total)
{
	bool		enforced;
	MonoTime	expiry;
	DcTiming	timing;
	dc_ms	   *acks;
	ListCell   *lc;
	int			n = 0;

	shmem_get_lease(&enforced, &expiry);
	if (!enforced || total == 0)
		return;
	failover_timing(&timing);
	acks = palloc0(sizeof(dc_ms) * Max(list_length(ctx->nodes), 1));
	foreach(lc, ctx->nodes)
	{
		NodeInfo   *node = (NodeInfo *) lfirst(lc);

		if (node->node_id != repmgr_node_id)
			acks[n++] = peer_link(ctx, node->node_id)->last_ack_sent / 1000;
	}
	publish_acks(acks, n, total, false, &timing);
	pfree(acks);
}

/*
 * Before an elected standby promotes: the need of a lease (for voters
 * voting members), durably, and no lease yet.  The new primary commits from its first heartbeat round that
 * enough nodes acknowledge (the step runs it at once), never before: a
 * candidate whose promotion outlasted a second election finds its
 * heartbeats refused by the voters of the newer term, and never commits.
 * The acknowledgements of older rounds, from a time it was primary, are
 * long expired.
 */
void
arm_empty_lease(WorkerCtx *ctx, int voters)
{
	if (voters == 0)
		return;					/* no lease is enforced (the step decides) */
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

	if (dc_heartbeat_verdict(&r, hr->term) != DC_HB_ACK)
		return;
	link->last_ack_sent = hr->sent;
	if (hr->enforced)
		publish_lease(hr);
}

/*
 * Send a heartbeat of term fx->term to every other active node, renew the
 * lease as the acknowledgements arrive, and give the step each node's
 * answer (dc_heartbeat_verdict) for its decisions: superseded, a
 * re-election, the lease lost.
 */
void
exec_heartbeats(WorkerCtx *ctx, const WkFx *fx)
{
	HeartbeatRound hr;
	WkResult   *r = worker_new_result(ctx, FX_HEARTBEATS);
	const char *params[6];
	ListCell   *lc;
	int			i;

	memset(&hr, 0, sizeof(hr));
	hr.ctx = ctx;
	hr.sent = mono_now();
	hr.term = fx->term;
	hr.total = fx->voters;
	hr.strict = fx->strict;
	failover_timing(&hr.timing);
	hr.enforced = fx->flag;
	params[0] = psprintf("%d", repmgr_node_id);
	params[1] = psprintf(INT64_FORMAT, fx->term);
	params[2] = psprintf("%X/%X", LSN_FORMAT_ARGS(GetFlushRecPtr(NULL)));
	params[3] = psprintf("%X/%X", LSN_FORMAT_ARGS((XLogRecPtr) fx->mark.lsn));
	params[4] = psprintf("%u", fx->mark.timeline);
	params[5] = psprintf("%X/%X", LSN_FORMAT_ARGS((XLogRecPtr) fx->mark.timeline_begin));

	hr.ops = palloc0(sizeof(RemoteOp) * Max(list_length(ctx->nodes), 1));
	hr.links = palloc0(sizeof(PeerLink *) * Max(list_length(ctx->nodes), 1));
	foreach(lc, ctx->nodes)
	{
		NodeInfo   *node = (NodeInfo *) lfirst(lc);
		PeerLink   *link;

		/* every voting member, active or not (step_util.c, wk_voters) */
		if (node->node_id == repmgr_node_id)
			continue;
		link = peer_link(ctx, node->node_id);
		if (link->conn == NULL)
			link->conn = remote_conn_new();
		hr.ops[hr.n].rc = link->conn;
		hr.ops[hr.n].conninfo = node->conninfo;
		hr.ops[hr.n].sql = HEARTBEAT_SQL;
		hr.ops[hr.n].nparams = 6;
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
	remote_run_notify(hr.ops, hr.n, fx->ms, heartbeat_answered, &hr);

	r->hb_sent = hr.sent / 1000;
	for (i = 0; i < hr.n && i < REPMGR_MAX_NODES; i++)
	{
		DcHeartbeatReply reply = heartbeat_reply(&hr.ops[i]);

		r->hb_node[i] = hr.links[i]->node_id;
		r->hb_verdict[i] = dc_heartbeat_verdict(&reply, fx->term);
		r->hb_term[i] = reply.term;
		r->nhb++;
		PQclear(hr.ops[i].result);
		hr.ops[i].result = NULL;
	}
	if (hr.enforced)
		publish_lease(&hr);
}

/* a re-election won: its term and its own vote in it, durably */
bool
exec_own_win(WorkerCtx *ctx, int64 term)
{
	return shmem_record_own_win(term);
}
