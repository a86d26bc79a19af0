/*-------------------------------------------------------------------------
 *
 * voter.c
 *	  The protocol's timing from the settings (decide.c's formulas), and
 *	  the voter's side of an election: what this node answers to
 *	  repmgr.request_vote(), by dc_decide_vote() over what it knows, and the
 *	  answer in words.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "utils/snapmgr.h"

#include "guc.h"
#include "voter.h"
#include "worker.h"

/* ----------
 * Timing, from the settings (decide.c's formulas)
 * ----------
 */
void
failover_timing(DcTiming *t)
{
	DcSettings	s;

	s.monitor_interval_ms = repmgr_monitor_interval_ms;
	s.connect_timeout_ms = repmgr_connect_timeout_ms;
	s.reconnect_attempts = repmgr_reconnect_attempts;
	s.reconnect_interval_ms = repmgr_reconnect_interval_ms;
	dc_timing(&s, t);
}

/* how long an acknowledged heartbeat keeps a primary writable */
int
failover_lease_ms(void)
{
	DcTiming	t;

	failover_timing(&t);
	return t.lease_ms;
}

/* how long a voter must not have heard a primary before it votes */
int
failover_silence_ms(void)
{
	DcTiming	t;

	failover_timing(&t);
	return t.silence_ms;
}

/* how long an election and its notice may take before others re-decide */
int
failover_election_timeout_ms(void)
{
	DcTiming	t;

	failover_timing(&t);
	return t.election_timeout_ms;
}

/* ----------
 * Voting (the peer side: repmgr.request_vote())
 * ----------
 */

/*
 * What this node knows, for dc_decide_vote(); shmem_decide_vote() adds the
 * durable state and the silence under its lock.
 */
/*
 * This node's copy of the published synchronous set: in the transaction of
 * request_vote(), or in one of its own for the worker's vote for itself.
 */
static void
gather_voter_sync(DcVoter *v)
{
	MemoryContext caller = CurrentMemoryContext;
	bool		own = !IsTransactionState();
	SyncPublished published;

	if (own)
	{
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
	}
	if (repmgr_extension_ready() && sync_read_published(&published))
		v->sync = published.set;
	if (own)
	{
		PopActiveSnapshot();
		CommitTransactionCommand();
		MemoryContextSwitchTo(caller);
	}
}

static void
gather_voter(DcVoter *v, const DcVoteRequest *req)
{
	WorkerStatus ws;
	RepmgrDurableState durable;
	LocalPosition me;
	DcVoterMem	mem;

	memset(v, 0, sizeof(*v));
	v->worker_running = shmem_worker_status(&ws) && ws.pid != 0;
	shmem_get_durable(&durable);
	local_position(&me);
	v->running_primary = !me.in_recovery && ws.role != NODE_TYPE_WITNESS;
	v->paused = durable.paused;
	shmem_get_voter_mem(&mem);
	v->primary_lost = dc_mem_primary_lost(&mem, ws.primary_lost, ws.primary_node_id,
										  me.in_recovery ? ws.upstream_node_id : InvalidNodeId,
										  req->candidate);
	v->self_id = repmgr_node_id;
	v->standing = v->worker_running &&
		(ws.state == WS_ELECTION || ws.state == WS_PROMOTING);
	v->has_position = me.in_recovery;
	v->upstream = me.in_recovery ? ws.upstream_node_id : InvalidNodeId;
	local_dc_position(&me, &v->position);
	gather_voter_sync(v);
	/* (h): looked at after the position, so the position is not older */
	v->receiving = me.in_recovery &&
		shmem_rcv_state(walstop_settle_ms(), NULL, NULL) != RCV_STOPPED;
}

/*
 * history[0..nhistory): where the candidate's ancestor timelines ended, as
 * it sent them (none: not sent).  The fork from this node's timeline is
 * taken from it against the timeline gathered with the position the vote
 * compares, so that both are of the same moment.
 */
DcVote
failover_decide_vote(const DcVoteRequest *req, const DcTimelineEnd *history,
					 int nhistory)
{
	DcVoter		v;
	DcTiming	t;
	DcVote		vote;
	DcVoteRequest r = *req;

	gather_voter(&v, req);
	failover_timing(&t);
	if (nhistory > 0)
	{
		int			i;

		if (v.has_position)
			r.candidate_fork_lsn = dc_fork_lsn(history, nhistory, v.position.timeline);
		/* its timeline began where the newest of its ancestors ended */
		for (i = 0; i < nhistory; i++)
			r.candidate_timeline_begin = Max(r.candidate_timeline_begin, history[i].end);
	}
	vote = shmem_decide_vote(&v, &r, &t);
	/* (h): the worker stops the WAL receiver; the candidate asks again */
	if (vote == DC_DENY_RECEIVING)
		shmem_rcv_request_stop(req->term);
	return vote;
}

/* the answer in words, with the figures that explain it */
char *
failover_vote_reason(DcVote vote, const DcVoteRequest *req)
{
	const char *name = dc_vote_name(vote);

	if (vote == DC_DENY_HEARD_PRIMARY)
	{
		int			primary;
		int64		term;
		dc_ms		ago = shmem_heard_ago_ms(&primary, &term);

		return psprintf("%s: node %d (term " INT64_FORMAT ") %ld ms ago, less than %d ms",
						name, primary, term, (long) ago, failover_silence_ms());
	}
	if (vote == DC_DENY_CANDIDATE_BEHIND)
	{
		LocalPosition me;

		local_position(&me);
		return psprintf("%s (%X/%X < %X/%X%s)", name,
						LSN_FORMAT_ARGS(req->candidate_lsn), LSN_FORMAT_ARGS(me.lsn),
						me.settled ? "" : ", this node's replay still running");
	}
	if (vote == DC_DENY_OTHER_TIMELINE)
	{
		LocalPosition me;

		local_position(&me);
		return psprintf("%s (%u; this node's: %u)", name, req->candidate_timeline,
						me.timeline);
	}
	if (vote == DC_DENY_RECEIVING)
	{
		int			stopped_ms = -1;

		if (shmem_rcv_state(walstop_settle_ms(), &stopped_ms, NULL) == RCV_STREAMING)
			return psprintf("%s: primary_conninfo is being cleared", name);
		return psprintf("%s: primary_conninfo cleared %d ms ago; no WAL receiver may run for %d ms (wal_retrieve_retry_interval)",
						name, stopped_ms, walstop_settle_ms());
	}
	return pstrdup(name);
}
