/*-------------------------------------------------------------------------
 *
 * peers.c
 *	  Asking every other node for its node_state() in one parallel round,
 *	  and reading the answers: who is reachable, who is primary, in which
 *	  term, how far each standby has got.
 *
 * Used by cluster_show(), promote(), follow() and the failover engine, so
 * they all judge the cluster from the same facts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/pg_lsn.h"

#include "guc.h"
#include "peers.h"
#include "syncrep.h"
#include "timelines.h"

/*
 * node_state() of a peer.  Its upstream is read by name, so that a peer
 * whose catalog has the node_state() of before that column answers NULL
 * there instead of an error.
 */
#define PEER_STATE_SQL \
	"SELECT in_recovery, timeline, lsn, timeline_switch_lsn, term, fenced, " \
	"paused, failover, primary_node_id, primary_visible, worker_state, " \
	"wal_receiver_streaming, node_id, replay_settled, " \
	SYNC_AS_TEXT_SQL ", timeline_term, timeline_history, " \
	"(pg_catalog.to_jsonb(ns) OPERATOR(pg_catalog.->>) 'upstream_node_id')::integer " \
	"FROM repmgr.node_state() ns"

static XLogRecPtr
lsn_value(PGresult *res, int col)
{
	bool		have_error = false;
	XLogRecPtr	lsn;

	if (PQgetisnull(res, 0, col))
		return InvalidXLogRecPtr;
	lsn = pg_lsn_in_internal(PQgetvalue(res, 0, col), &have_error);
	return have_error ? InvalidXLogRecPtr : lsn;
}

static bool
bool_value(PGresult *res, int col)
{
	return !PQgetisnull(res, 0, col) && strcmp(PQgetvalue(res, 0, col), "t") == 0;
}

static void
peer_read(PeerState *peer, PGresult *res)
{
	peer->in_recovery = bool_value(res, 0);
	peer->timeline = (TimeLineID) strtoul(PQgetvalue(res, 0, 1), NULL, 10);
	peer->lsn = lsn_value(res, 2);
	peer->switch_lsn = lsn_value(res, 3);
	peer->term = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
	peer->fenced = bool_value(res, 5);
	peer->paused = bool_value(res, 6);
	peer->automatic = strcmp(PQgetvalue(res, 0, 7), "automatic") == 0;
	peer->primary_node_id = PQgetisnull(res, 0, 8) ? InvalidNodeId :
		atoi(PQgetvalue(res, 0, 8));
	peer->primary_visible_known = !PQgetisnull(res, 0, 9);
	peer->primary_visible = bool_value(res, 9);
	strlcpy(peer->worker_state,
			PQgetisnull(res, 0, 10) ? "" : PQgetvalue(res, 0, 10),
			sizeof(peer->worker_state));
	peer->streaming = bool_value(res, 11);
	peer->reported_node_id = PQgetisnull(res, 0, 12) ? InvalidNodeId :
		atoi(PQgetvalue(res, 0, 12));
	peer->settled = bool_value(res, 13);
	sync_parse_text(PQgetisnull(res, 0, 14) ? NULL : PQgetvalue(res, 0, 14), &peer->sync);
	peer->timeline_term = PQgetisnull(res, 0, 15) ? 0 : strtoll(PQgetvalue(res, 0, 15), NULL, 10);
	if (!PQgetisnull(res, 0, 16))
		peer->nhistory = Max(timeline_history_parse(PQgetvalue(res, 0, 16), &peer->history), 0);
	peer->upstream_node_id = PQgetisnull(res, 0, 17) ? InvalidNodeId :
		atoi(PQgetvalue(res, 0, 17));
}

/*
 * node_state() of every node in nodes but skip_id, in parallel, each with
 * the connect timeout.  Returns an array of *npeers entries in list order.
 */
PeerState *
peers_poll(List *nodes, int skip_id, bool active_only, int *npeers)
{
	return peers_poll_without(nodes, skip_id, InvalidNodeId, active_only, npeers);
}

/*
 * The same without a second node either: one known not to answer (a lost
 * primary) would make every round last a full timeout.
 */
PeerState *
peers_poll_without(List *nodes, int skip_id, int skip2_id, bool active_only,
				   int *npeers)
{
	return peers_poll_over(nodes, skip_id, skip2_id, active_only, NULL, NULL,
						   npeers);
}

/*
 * The same over connections the caller keeps: conn_for(arg, node_id) gives
 * the one for each node (opened here when it is not open), which stays
 * open for the caller's next request, so that request costs no new
 * connection.
 */
PeerState *
peers_poll_over(List *nodes, int skip_id, int skip2_id, bool active_only,
				PeerConnFn conn_for, void *arg, int *npeers)
{
	PeerState  *peers;
	RemoteOp   *ops;
	ListCell   *lc;
	int			n = 0;
	int			i;

	peers = palloc0(sizeof(PeerState) * Max(list_length(nodes), 1));
	foreach(lc, nodes)
	{
		NodeInfo   *node = (NodeInfo *) lfirst(lc);

		if (node->node_id == skip_id || node->node_id == skip2_id ||
			(active_only && !node->active))
			continue;
		peers[n++].node = node;
	}
	*npeers = n;
	if (n == 0)
		return peers;

	ops = palloc0(sizeof(RemoteOp) * n);
	for (i = 0; i < n; i++)
	{
		ops[i].conninfo = peers[i].node->conninfo;
		ops[i].sql = PEER_STATE_SQL;
		if (conn_for != NULL)
			ops[i].rc = conn_for(arg, peers[i].node->node_id);
	}
	remote_run(ops, n, repmgr_connect_timeout_ms);

	for (i = 0; i < n; i++)
	{
		PeerState  *peer = &peers[i];

		peer->status = ops[i].rc->status;
		strlcpy(peer->error, ops[i].rc->error, sizeof(peer->error));
		if (peer->status == REMOTE_OK && ops[i].result != NULL &&
			PQntuples(ops[i].result) == 1)
		{
			peer->reachable = true;
			peer_read(peer, ops[i].result);
		}
		else if (peer->status == REMOTE_OK)
			peer->status = REMOTE_QUERY_FAILED;
		remote_op_release(&ops[i]);
	}
	pfree(ops);
	return peers;
}

PeerState *
peers_find(PeerState *peers, int npeers, int node_id)
{
	int			i;

	for (i = 0; i < npeers; i++)
		if (peers[i].node->node_id == node_id)
			return &peers[i];
	return NULL;
}

/*
 * Is this peer a working primary: reachable, not in recovery, not fenced,
 * and not the witness?
 */
bool
peer_is_primary(const PeerState *peer)
{
	return peer->reachable && !peer->in_recovery && !peer->fenced &&
		peer->node->type != NODE_TYPE_WITNESS;
}

/*
 * What the peers look like, for a log line: "node 1 primary term 3,
 * node 2 standby, node 4 unreachable (timeout)".
 */
char *
peers_describe(const PeerState *peers, int npeers)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < npeers; i++)
	{
		const PeerState *p = &peers[i];

		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfo(&buf, "node %d ", p->node->node_id);
		if (!p->reachable)
			appendStringInfo(&buf, "unreachable (%s)", remote_status_name(p->status));
		else if (p->in_recovery)
			appendStringInfoString(&buf, "standby");
		else
			appendStringInfo(&buf, "%s term " INT64_FORMAT,
							 p->fenced ? "fenced primary" : "primary", p->term);
	}
	return buf.data;
}

/*
 * The primary among the peers: the working primary with the highest term.
 * Returns NULL if there is none.  *conflict is set when two working
 * primaries share the highest term (a split brain to report, not resolve).
 */
PeerState *
peers_find_primary(PeerState *peers, int npeers, PeerState **conflict)
{
	PeerState  *best = NULL;
	int			i;

	*conflict = NULL;
	for (i = 0; i < npeers; i++)
	{
		PeerState  *peer = &peers[i];

		if (!peer_is_primary(peer))
			continue;
		if (best == NULL || peer->term > best->term ||
			(peer->term == best->term && peer->timeline > best->timeline))
		{
			best = peer;
			*conflict = NULL;
		}
		else if (peer->term == best->term && peer->timeline == best->timeline)
			*conflict = peer;
	}
	return best;
}

/* the highest term any reachable peer reports */
int64
peers_max_term(PeerState *peers, int npeers)
{
	int64		max = 0;
	int			i;

	for (i = 0; i < npeers; i++)
		if (peers[i].reachable && peers[i].term > max)
			max = peers[i].term;
	return max;
}
