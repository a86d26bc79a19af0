/*-------------------------------------------------------------------------
 *
 * ballot.c
 *	  A node's requests to all its peers at once, over the persistent
 *	  links: the vote requests of a candidate (or of a primary standing for
 *	  re-election), and the notice of a new primary to follow.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "guc.h"
#include "localnode.h"
#include "worker.h"

/*
 * One remote operation running sql on every other voting member (every
 * registered node, active or not: step_util.c's wk_voters) but skip_id
 * (a lost primary: it would cost a timeout), for remote_run(), over the
 * persistent link to each (the connections of the heartbeats once this
 * node is primary).  Returns their number; (*ids)[i] is the node of ops[i].
 */
static int
ops_for_peers(WorkerCtx *ctx, int skip_id, const char *sql, int nparams,
			  const char *const *params, RemoteOp **ops, int **ids)
{
	ListCell   *lc;
	int			n = 0;

	*ops = palloc0(sizeof(RemoteOp) * Max(list_length(ctx->nodes), 1));
	*ids = palloc0(sizeof(int) * Max(list_length(ctx->nodes), 1));
	foreach(lc, ctx->nodes)
	{
		NodeInfo   *node = (NodeInfo *) lfirst(lc);
		PeerLink   *link;

		if (node->node_id == repmgr_node_id || node->node_id == skip_id)
			continue;
		link = peer_link(ctx, node->node_id);
		if (link->conn == NULL)
			link->conn = remote_conn_new();
		(*ops)[n].rc = link->conn;
		(*ops)[n].conninfo = node->conninfo;
		(*ops)[n].sql = sql;
		(*ops)[n].nparams = nparams;
		(*ops)[n].params = params;
		(*ids)[n] = node->node_id;
		n++;
	}
	return n;
}

/*
 * granted, term, reason, code, then the voter's timeline: a voter whose
 * catalog declares no timeline column answers the first four.  The
 * candidate's history goes only to a catalog that takes it; without one
 * to send, the older form serves every catalog.
 */
#define REQUEST_VOTE_SQL \
	"SELECT v.* FROM repmgr.request_vote($1::bigint, $2::integer, $3::pg_lsn, $4::integer) v"
#define REQUEST_VOTE_HISTORY_SQL \
	"SELECT v.* FROM repmgr.request_vote($1::bigint, $2::integer, $3::pg_lsn, $4::integer, $5::text) v"

/*
 * The ops whose voter has a catalog without candidate_history (no such
 * function: undefined_function) are run again without it, over the same
 * links, within timeout_ms.
 */
static void
retry_without_history(RemoteOp *ops, int n, int timeout_ms)
{
	RemoteOp   *again = palloc0(sizeof(RemoteOp) * Max(n, 1));
	int		   *from = palloc0(sizeof(int) * Max(n, 1));
	int			m = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (ops[i].rc == NULL || ops[i].rc->status != REMOTE_QUERY_FAILED ||
			strcmp(ops[i].rc->sqlstate, "42883") != 0)
			continue;
		again[m] = ops[i];
		again[m].result = NULL;
		again[m].sql = REQUEST_VOTE_SQL;
		again[m].nparams = 4;
		from[m++] = i;
	}
	if (m == 0)
		return;
	remote_run(again, m, timeout_ms);
	for (i = 0; i < m; i++)
		ops[from[i]] = again[i];
	pfree(again);
	pfree(from);
}

/* a voter's answer, decoded once */
typedef struct VoteReply
{
	bool		answered;
	DcVote		vote;
	const char *reason;
	uint32		timeline;		/* the voter's; 0: not said */
	int64		term;			/* the voter's, or a term to ask above */
} VoteReply;

static VoteReply
vote_reply(RemoteOp *op)
{
	VoteReply	r = {false, DC_VOTE_COUNT, NULL, 0, 0};
	PGresult   *res = op->result;

	if (op->rc->status != REMOTE_OK || res == NULL || PQntuples(res) != 1 ||
		PQnfields(res) < 4)
		return r;
	r.answered = true;
	r.vote = dc_vote_from_code(PQgetvalue(res, 0, 3));
	r.reason = pstrdup(PQgetvalue(res, 0, 2));
	if (!PQgetisnull(res, 0, 1))
		r.term = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	if (PQnfields(res) >= 5 && !PQgetisnull(res, 0, 4))
		r.timeline = (uint32) strtoul(PQgetvalue(res, 0, 4), NULL, 10);
	return r;
}

/*
 * Ask every other active node (but skip_id) for its vote on req,
 * within timeout_ms; returns the number granted.  Answers are logged at
 * elevel.  count gets the ids of the candidate and of every node that
 * granted (rule (i), dc_sync_votes_cover), those that answered from the
 * candidate's timeline, and whether a refusal may still turn into a grant.
 */
int
request_votes(WorkerCtx *ctx, const DcVoteRequest *req, int skip_id,
			  int timeout_ms, int elevel, VoteCount *count)
{
	RemoteOp   *ops;
	int		   *asked;
	const char *params[5];
	int			granted = 0;
	int			n;
	int			i;

	params[0] = psprintf(INT64_FORMAT, req->term);
	params[1] = psprintf("%d", req->candidate);
	params[2] = psprintf("%X/%X", LSN_FORMAT_ARGS(req->candidate_lsn));
	params[3] = psprintf("%u", req->candidate_timeline);
	/* where its ancestor timelines ended: a voter on one can follow it */
	params[4] = local_timeline_history(req->candidate_timeline);
	if (params[4] != NULL)
	{
		n = ops_for_peers(ctx, skip_id, REQUEST_VOTE_HISTORY_SQL, 5, params, &ops, &asked);
		remote_run(ops, n, timeout_ms);
		retry_without_history(ops, n, timeout_ms);
	}
	else
	{
		n = ops_for_peers(ctx, skip_id, REQUEST_VOTE_SQL, 4, params, &ops, &asked);
		remote_run(ops, n, timeout_ms);
	}
	memset(count, 0, sizeof(*count));
	count->ids[count->nids++] = req->candidate;
	for (i = 0; i < n; i++)
	{
		VoteReply	r = vote_reply(&ops[i]);

		if (r.answered && r.term > count->max_term)
			count->max_term = r.term;
		if (r.answered && r.timeline != 0 && r.timeline == req->candidate_timeline &&
			count->nsame_timeline < REPMGR_MAX_NODES)
			count->same_timeline[count->nsame_timeline++] = asked[i];
		if (!r.answered)
			ereport(elevel,
					(errmsg("repmgr worker: node %d did not answer the vote request: %s",
							asked[i], remote_status_name(ops[i].rc->status))));
		else if (dc_vote_granted(r.vote))
		{
			granted++;
			if (count->nids < REPMGR_MAX_NODES + 1)
				count->ids[count->nids++] = asked[i];
			ereport(elevel,
					(errmsg("repmgr worker: node %d voted for node %d in term " INT64_FORMAT,
							asked[i], req->candidate, req->term)));
		}
		else
		{
			ereport(elevel,
					(errmsg("repmgr worker: node %d refused its vote: %s", asked[i], r.reason)));
			if (dc_vote_may_change(r.vote))
				count->may_change = true;
		}
		remote_op_release(&ops[i]);
	}
	count->granted = granted;
	return granted;
}

#define NOTIFY_FOLLOW_SQL "SELECT repmgr.notify_follow($1::integer, $2::bigint)"

void
notify_peers(WorkerCtx *ctx, int64 term, int skip_id)
{
	RemoteOp   *ops;
	int		   *ids;
	const char *params[2];
	int			n;
	int			i;

	params[0] = psprintf("%d", repmgr_node_id);
	params[1] = psprintf(INT64_FORMAT, term);
	n = ops_for_peers(ctx, skip_id, NOTIFY_FOLLOW_SQL, 2, params, &ops, &ids);
	remote_run(ops, n, repmgr_connect_timeout_ms);
	for (i = 0; i < n; i++)
		remote_op_release(&ops[i]);
}
