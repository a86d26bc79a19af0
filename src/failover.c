/*-------------------------------------------------------------------------
 *
 * failover.c
 *	  Automatic failover: agree that the primary is gone, hold a quorum,
 *	  elect the best standby by majority vote, promote it, re-point the
 *	  others; and the fence that keeps an isolated or replaced primary from
 *	  accepting writes.
 *
 * The protocol (DESIGN.md, "The failover protocol"):
 *
 *	1. A standby that cannot reach its upstream primary retries
 *	   reconnect_attempts times, reconnect_interval apart (monitor.c).
 *	2. It asks every other node for its node_state(): if one still sees
 *	   the primary, no failover (degraded monitoring).
 *	3. It goes on only if it and the nodes it reaches are a strict
 *	   majority of all active nodes, the lost primary and the witness
 *	   counted.
 *	4. The best candidate (highest LSN, then priority, then lowest id;
 *	   priority 0, manual or paused nodes excluded) asks for votes for
 *	   term T+1.  A node grants one vote per term, durably, to a candidate
 *	   not behind it, and only once it has itself lost the primary.
 *	5. With a majority of votes it promotes, marks the old primary failed
 *	   and tells the others to follow (notify_follow); a node that misses
 *	   the notice finds the new primary by asking its peers.
 *	6. Each standby of the old primary re-points itself; one that has WAL
 *	   beyond the new primary's fork point cannot, and says so.
 *	7. The fence.  The primary sends a heartbeat to every node each
 *	   monitor_interval; it may commit writes only while at least half the
 *	   nodes (itself included) acknowledged a heartbeat sent within the
 *	   lease L = 2 x monitor_interval + connect_timeout.  A voter whose loss
 *	   of the primary rests on timeouts (not on refused connections, which
 *	   prove the server down) grants a vote only when it has had no
 *	   heartbeat for L + FENCE_MARGIN.  Any winning majority of voters
 *	   overlaps the primary's lease majority, so the old primary has
 *	   stopped committing at least FENCE_MARGIN before a new one is
 *	   elected.  A voter refuses heartbeats of an older term than the one
 *	   it voted in, and a primary that meets a newer primary fences itself
 *	   for good (until node rejoin).
 *
 * The pure decisions (candidate ranking, quorum, fence) take plain values
 * and are exposed to pg_regress through SQL wrappers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "actions.h"
#include "failover.h"
#include "worker.h"

#define FENCE_MARGIN_MS 1000

/* ----------
 * Timing, from the settings
 * ----------
 */

/* how long a heartbeat acknowledgement keeps a primary writable */
int
failover_lease_ms(void)
{
	return 2 * repmgr_monitor_interval_ms + repmgr_connect_timeout_ms;
}

/* how long a voter must not have heard the primary, unless it is known down */
int
failover_silence_ms(void)
{
	return failover_lease_ms() + FENCE_MARGIN_MS;
}

/* how long an election and its notice may take before others re-decide */
int
failover_election_timeout_ms(void)
{
	return 2 * repmgr_connect_timeout_ms + repmgr_reconnect_interval_ms +
		repmgr_monitor_interval_ms;
}

/* ----------
 * Pure decisions
 * ----------
 */

/*
 * The best candidate: highest LSN, then highest priority, then lowest node
 * id, among the eligible.  Returns its index, or -1.
 */
int
failover_best_candidate(const CandidateInfo *c, int n)
{
	int			best = -1;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (!c[i].eligible || c[i].priority <= 0)
			continue;
		if (best < 0 ||
			c[i].lsn > c[best].lsn ||
			(c[i].lsn == c[best].lsn && c[i].priority > c[best].priority) ||
			(c[i].lsn == c[best].lsn && c[i].priority == c[best].priority &&
			 c[i].node_id < c[best].node_id))
			best = i;
	}
	return best;
}

/* may the nodes that see each other (visible of total) elect a primary? */
bool
failover_has_quorum(int visible, int total)
{
	return total > 0 && 2 * visible > total;
}

/*
 * Must a primary that reaches acked nodes (itself included) of total
 * fence itself?  Yes when the others could hold a majority without it.
 */
bool
failover_primary_must_fence(int acked, int total)
{
	return 2 * acked < total;
}

/* acknowledgements from other nodes a primary needs to keep its lease */
static int
lease_acks_needed(int total)
{
	/* acked (self + others) must not be under half the nodes */
	return (total + 1) / 2 - 1;
}

/* ----------
 * Voting (the peer side: repmgr.request_vote())
 * ----------
 */
bool
failover_decide_vote(int64 term, int candidate, XLogRecPtr candidate_lsn,
					 char *reason, size_t reasonlen)
{
	WorkerStatus ws;
	RepmgrDurableState durable;
	char		deny[REPMGR_ERROR_LEN] = "";
	bool		may = false;
	TimestampTz heard;
	long		silence_ms;

	if (!shmem_worker_status(&ws) || ws.pid == 0)
	{
		snprintf(reason, reasonlen, "no repmgr worker runs on this node");
		return false;
	}
	shmem_get_durable(&durable);
	heard = shmem_last_heartbeat(NULL, NULL);
	silence_ms = heard ? TimestampDifferenceMilliseconds(heard, GetCurrentTimestamp()) : LONG_MAX;

	if (!RecoveryInProgress() && ws.role != NODE_TYPE_WITNESS)
		snprintf(deny, sizeof(deny), "this node is a running primary");
	else if (durable.paused)
		snprintf(deny, sizeof(deny), "this node is paused");
	else if (!ws.primary_lost)
		snprintf(deny, sizeof(deny), "this node has not lost the primary (%s)",
				 worker_state_name(ws.state));
	else if (!ws.lost_definitive && silence_ms < failover_silence_ms())
		snprintf(deny, sizeof(deny),
				 "this node heard from the primary %ld ms ago (less than %d ms)",
				 silence_ms, failover_silence_ms());
	else if (RecoveryInProgress())
	{
		LocalPosition me;

		local_position(&me);
		if (me.lsn > candidate_lsn)
			snprintf(deny, sizeof(deny),
					 "candidate is behind this node (%X/%X < %X/%X)",
					 LSN_FORMAT_ARGS(candidate_lsn), LSN_FORMAT_ARGS(me.lsn));
		else
			may = true;
	}
	else
		may = true;

	return shmem_request_vote(term, candidate, may, deny, reason, reasonlen);
}

/* ----------
 * Helpers of the worker's failover states
 * ----------
 */

static NodeInfo *
node_of(WorkerCtx *ctx, int node_id)
{
	return nodes_lookup(ctx->nodes, node_id);
}

static void
say_reason(WorkerCtx *ctx, int elevel, const char *reason)
{
	/* a decision repeated every iteration is logged once */
	if (strcmp(ctx->reason, reason) == 0)
		return;
	strlcpy(ctx->reason, reason, sizeof(ctx->reason));
	ereport(elevel, (errmsg("repmgr worker: %s", reason)));
	worker_set_error(ctx, "%s", reason);
}

/* the other nodes, but the lost primary: it would cost a timeout a round */
static PeerState *
poll_others(WorkerCtx *ctx, int *npeers)
{
	return peers_poll_without(ctx->nodes, repmgr_node_id, ctx->lost_primary_id,
							  true, npeers);
}

/*
 * Is the lost upstream back: answering, as a standby (a cascade's
 * upstream) or as a working primary not older than our term?  A short
 * deadline: it is asked every round, and a node that needs longer than
 * this to answer on a working network is not back yet.
 */
static bool
upstream_back(WorkerCtx *ctx)
{
	NodeInfo   *up = node_of(ctx, ctx->upstream_id);
	RemoteOp	op;
	bool		back = false;

	if (up == NULL)
		return false;
	memset(&op, 0, sizeof(op));
	op.conninfo = up->conninfo;
	op.sql = "SELECT in_recovery, term, fenced FROM repmgr.node_state()";
	remote_run(&op, 1, Min(repmgr_connect_timeout_ms, 250));
	if (op.rc->status == REMOTE_OK && op.result && PQntuples(op.result) == 1)
	{
		bool		in_recovery = strcmp(PQgetvalue(op.result, 0, 0), "t") == 0;
		int64		term = strtoll(PQgetvalue(op.result, 0, 1), NULL, 10);
		bool		fenced = strcmp(PQgetvalue(op.result, 0, 2), "t") == 0;

		back = in_recovery ? (ctx->lost_primary_id == InvalidNodeId) :
			(!fenced && term >= ctx->durable.term);
	}
	remote_op_release(&op);
	return back;
}

/*
 * A peer was found to be the new primary: can we follow it?  Sets up
 * ctx->follow_target for act_follow.
 */
static WorkerEvent
follow_event(WorkerCtx *ctx, PeerState *target, PeerState *primary)
{
	char	   *why;

	ctx->follow_target = target->node->node_id;
	ctx->follow_primary = primary ? primary->node->node_id : target->node->node_id;
	ctx->follow_term = target->term;
	if (ctx->status.role == NODE_TYPE_WITNESS)
		return EV_NEW_PRIMARY;	/* a witness only changes what it watches */
	if (ctx->durable.paused)
	{
		say_reason(ctx, LOG, psprintf("this node is paused: not following node %d",
									  target->node->node_id));
		return EV_OK;
	}
	if (!follow_possible(&ctx->position, target->timeline,
						 target == primary ? target->switch_lsn : InvalidXLogRecPtr,
						 &why))
	{
		strlcpy(ctx->reason, why, sizeof(ctx->reason));
		return EV_CANNOT_FOLLOW;
	}
	return EV_NEW_PRIMARY;
}

/*
 * A working primary other than the one we lost, or newer than our term.
 */
static PeerState *
new_primary_among(WorkerCtx *ctx, PeerState *peers, int npeers)
{
	PeerState  *conflict;
	PeerState  *primary = peers_find_primary(peers, npeers, &conflict);

	if (primary == NULL || conflict != NULL)
		return NULL;
	if (primary->node->node_id == ctx->upstream_id &&
		primary->term <= ctx->durable.term && ctx->status.role != NODE_TYPE_WITNESS)
		return NULL;			/* that is the old one, back */
	return primary;
}

/*
 * A notice from a newly promoted primary, taken from shared memory.
 */
static WorkerEvent
check_follow_notice(WorkerCtx *ctx)
{
	int64		term;
	int			id;
	PeerState  *peers;
	PeerState  *target;
	int			npeers;

	/* a paused standby leaves the notice for when it is unpaused */
	if (ctx->durable.paused && ctx->status.role != NODE_TYPE_WITNESS)
		return EV_OK;
	id = shmem_take_follow_notice(&term);
	if (id == InvalidNodeId || id == repmgr_node_id || node_of(ctx, id) == NULL)
		return EV_OK;
	ereport(LOG,
			(errmsg("repmgr worker: node %d received notification to follow node %d",
					repmgr_node_id, id)));
	peers = poll_others(ctx, &npeers);
	target = peers_find(peers, npeers, id);
	if (target == NULL || !peer_is_primary(target))
		return EV_OK;			/* not (yet) a primary we can see */
	return follow_event(ctx, target, target);
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
	NodeInfo   *node = node_of(ctx, node_id);

	memset(&ev, 0, sizeof(ev));
	ev.node_id = node_id;
	ev.event = event;
	ev.successful = true;
	ev.timestamp = GetCurrentTimestamp();
	ev.node_name = node ? node->name : NULL;
	ev.primary_node_id = ctx->lost_primary_id;
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

/* ----------
 * Degraded monitoring: the upstream is lost; decide what to do
 * ----------
 */
WorkerEvent
observe_degraded(WorkerCtx *ctx)
{
	TimestampTz now = GetCurrentTimestamp();
	PeerState  *peers;
	PeerState  *primary;
	CandidateInfo *cands;
	WorkerEvent ev;
	NodeInfo   *lost_node;
	int			npeers;
	int			ncands = 0;
	int			visible = 1;
	int			total;
	int			best;
	int			i;

	if (ctx->status.role == NODE_TYPE_STANDBY && !ctx->position.in_recovery)
		return EV_PROMOTED;
	if (ctx->self == NULL)
		return EV_NOT_READY;
	if ((ev = check_follow_notice(ctx)) != EV_OK)
		return ev;

	/* our record names a new upstream: a follow made elsewhere (switchover) */
	if (ctx->self->upstream_node_id != InvalidNodeId &&
		ctx->self->upstream_node_id != ctx->upstream_id &&
		ctx->self->upstream_node_id != ctx->registry_upstream_seen)
		return EV_UPSTREAM_CHANGED;

	if (now < ctx->next_decision)
		return EV_OK;
	ctx->next_decision = TimestampTzPlusMilliseconds(now, repmgr_monitor_interval_ms);

	/* the upstream is back */
	if (upstream_back(ctx))
		return EV_UPSTREAM_OK;

	peers = poll_others(ctx, &npeers);

	/* somebody already is the new primary */
	primary = new_primary_among(ctx, peers, npeers);
	if (primary != NULL)
		return follow_event(ctx, primary, primary);

	/* a lost upstream that was not the primary: follow its upstream */
	if (ctx->lost_primary_id == InvalidNodeId && ctx->status.role == NODE_TYPE_STANDBY)
	{
		NodeInfo   *up = node_of(ctx, ctx->upstream_id);
		PeerState  *next = up ? peers_find(peers, npeers, up->upstream_node_id) : NULL;
		PeerState  *conflict;

		primary = peers_find_primary(peers, npeers, &conflict);
		if (next == NULL || !next->reachable)
			next = primary;
		if (next != NULL && next->reachable)
		{
			ereport(LOG,
					(errmsg("repmgr worker: upstream node %d is lost; following its upstream, node %d",
							ctx->upstream_id, next->node->node_id)));
			return follow_event(ctx, next, primary);
		}
		say_reason(ctx, LOG, "upstream is lost and no node to follow is reachable");
		return EV_OK;
	}

	/* from here: the primary is lost */
	if (ctx->status.role == NODE_TYPE_WITNESS)
		return EV_OK;
	if (repmgr_failover_mode == FAILOVER_MANUAL)
	{
		say_reason(ctx, LOG, "repmgr.failover is manual: not promoting (degraded monitoring)");
		return EV_OK;
	}
	if (ctx->durable.paused)
	{
		say_reason(ctx, LOG, "this node is paused: not promoting (degraded monitoring)");
		return EV_OK;
	}

	/* 2. nobody may still see the primary */
	for (i = 0; i < npeers && repmgr_primary_visibility_consensus; i++)
	{
		PeerState  *p = &peers[i];

		if (p->reachable && p->primary_visible_known && p->primary_visible &&
			p->primary_node_id == ctx->lost_primary_id)
		{
			say_reason(ctx, LOG,
					   psprintf("node %d (\"%s\") can still see the primary node %d: not failing over (degraded monitoring)",
								p->node->node_id, p->node->name, ctx->lost_primary_id));
			return EV_OK;
		}
	}

	/* 3. quorum: us and whom we reach, of all active nodes */
	total = nodes_count_active(ctx->nodes);
	for (i = 0; i < npeers; i++)
		if (peers[i].reachable && peers[i].node->node_id != ctx->lost_primary_id)
			visible++;
	if (!failover_has_quorum(visible, total))
	{
		lost_node = node_of(ctx, ctx->lost_primary_id);
		say_reason(ctx, WARNING,
				   psprintf("only %d of %d nodes are visible from location \"%s\"; the primary's location is \"%s\" and a majority is %d: not promoting",
							visible, total, ctx->self->location,
							lost_node ? lost_node->location : "?", total / 2 + 1));
		return EV_OK;
	}

	/* the lease guard: a primary cut off by timeouts must have fenced */
	if (!ctx->all_definitive)
	{
		TimestampTz heard = shmem_last_heartbeat(NULL, NULL);
		long		silence = heard ? TimestampDifferenceMilliseconds(heard, now) : LONG_MAX;

		if (silence < failover_silence_ms())
		{
			say_reason(ctx, LOG,
					   psprintf("waiting for the lease of the primary to expire (%ld ms of %d ms)",
								silence, failover_silence_ms()));
			ctx->next_decision = TimestampTzPlusMilliseconds(heard, failover_silence_ms());
			return EV_OK;
		}
	}

	/* 4. the best candidate among the standbys of the lost primary */
	cands = palloc0(sizeof(CandidateInfo) * (npeers + 1));
	cands[ncands].node_id = repmgr_node_id;
	cands[ncands].lsn = ctx->position.lsn;
	cands[ncands].priority = ctx->self->priority;
	cands[ncands].eligible = true;
	ncands++;
	for (i = 0; i < npeers; i++)
	{
		PeerState  *p = &peers[i];

		if (!p->reachable || !p->in_recovery || p->node->type != NODE_TYPE_STANDBY ||
			p->node->upstream_node_id != ctx->lost_primary_id)
			continue;
		cands[ncands].node_id = p->node->node_id;
		cands[ncands].lsn = p->lsn;
		cands[ncands].priority = p->node->priority;
		cands[ncands].eligible = p->automatic && !p->paused &&
			p->timeline == ctx->position.timeline;
		ncands++;
	}
	best = failover_best_candidate(cands, ncands);
	if (best < 0)
	{
		say_reason(ctx, WARNING, "no standby can be promoted (priority 0, manual or paused everywhere)");
		return EV_OK;
	}
	if (cands[best].node_id == repmgr_node_id)
		return EV_CANDIDATE;
	ctx->follow_target = cands[best].node_id;
	return EV_NOT_CANDIDATE;
}

/*
 * One remote operation running sql on every other active node but the
 * lost primary, for remote_run().  Returns their number; (*ids)[i] is the
 * node of ops[i].
 */
static int
ops_for_peers(WorkerCtx *ctx, const char *sql, int nparams,
			  const char *const *params, RemoteOp **ops, int **ids)
{
	ListCell   *lc;
	int			n = 0;

	*ops = palloc0(sizeof(RemoteOp) * Max(list_length(ctx->nodes), 1));
	*ids = palloc0(sizeof(int) * Max(list_length(ctx->nodes), 1));
	foreach(lc, ctx->nodes)
	{
		NodeInfo   *node = (NodeInfo *) lfirst(lc);

		if (!node->active || node->node_id == repmgr_node_id ||
			node->node_id == ctx->lost_primary_id)
			continue;
		(*ops)[n].conninfo = node->conninfo;
		(*ops)[n].sql = sql;
		(*ops)[n].nparams = nparams;
		(*ops)[n].params = params;
		(*ids)[n] = node->node_id;
		n++;
	}
	return n;
}

/* ----------
 * Election
 * ----------
 */
void
act_election_begin(WorkerCtx *ctx)
{
	PeerState  *peers;
	int			npeers;

	peers = poll_others(ctx, &npeers);
	ctx->election_term = Max(ctx->durable.term, peers_max_term(peers, npeers)) + 1;
	ctx->wait_deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													 failover_election_timeout_ms());
	ctx->election_round = 0;
	ctx->status.elections++;
	ereport(LOG,
			(errmsg("repmgr worker: setting voting term to " INT64_FORMAT,
					ctx->election_term)));
	ereport(LOG,
			(errmsg("repmgr worker: node %d is candidate", repmgr_node_id)));
}

#define REQUEST_VOTE_SQL \
	"SELECT granted, term, reason FROM repmgr.request_vote($1::bigint, $2::integer, $3::pg_lsn)"

WorkerEvent
observe_election(WorkerCtx *ctx)
{
	char		reason[REPMGR_ERROR_LEN];
	RemoteOp   *ops;
	int		   *asked;
	const char *params[3];
	int			total = nodes_count_active(ctx->nodes);
	int			votes = 1;
	int			n;
	int			i;
	int			elevel;
	bool		transient = false;
	WorkerEvent ev;

	if (!ctx->position.in_recovery)
		return EV_PROMOTED;
	if ((ev = check_follow_notice(ctx)) != EV_OK)
		return ev;

	/* our own vote first, durably: one vote per term, even for ourselves */
	if (!shmem_request_vote(ctx->election_term, repmgr_node_id, true, "",
							reason, sizeof(reason)))
	{
		ereport(LOG, (errmsg("repmgr worker: cannot stand in term " INT64_FORMAT ": %s",
							 ctx->election_term, reason)));
		return EV_ELECTION_LOST;
	}

	params[0] = psprintf(INT64_FORMAT, ctx->election_term);
	params[1] = psprintf("%d", repmgr_node_id);
	params[2] = psprintf("%X/%X", LSN_FORMAT_ARGS(ctx->position.lsn));
	n = ops_for_peers(ctx, REQUEST_VOTE_SQL, 3, params, &ops, &asked);
	remote_run(ops, n, repmgr_connect_timeout_ms);
	/* each voter's answer is logged in the first round, then on change */
	elevel = (ctx->election_round++ == 0) ? LOG : DEBUG1;
	for (i = 0; i < n; i++)
	{
		PGresult   *res = ops[i].result;

		if (ops[i].rc->status != REMOTE_OK || res == NULL || PQntuples(res) != 1)
			ereport(elevel,
					(errmsg("repmgr worker: node %d did not answer the vote request: %s",
							asked[i], remote_status_name(ops[i].rc->status))));
		else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
		{
			votes++;
			ereport(elevel,
					(errmsg("repmgr worker: node %d voted for node %d in term " INT64_FORMAT,
							asked[i], repmgr_node_id, ctx->election_term)));
		}
		else
		{
			const char *why = PQgetvalue(res, 0, 2);

			ereport(elevel,
					(errmsg("repmgr worker: node %d refused its vote: %s", asked[i], why)));
			if (strstr(why, "has not lost the primary") != NULL ||
				strstr(why, "heard from the primary") != NULL)
				transient = true;
		}
		remote_op_release(&ops[i]);
	}

	if (!failover_has_quorum(votes, total))
	{
		/* others may not have confirmed the loss yet: ask again shortly */
		if (transient && GetCurrentTimestamp() < ctx->wait_deadline)
		{
			if (elevel == LOG)
				ereport(LOG,
						(errmsg("repmgr worker: %d of %d votes; asking again until %d ms have passed",
								votes, total, failover_election_timeout_ms())));
			return EV_OK;
		}
		ereport(LOG,
				(errmsg("repmgr worker: %d of %d votes in term " INT64_FORMAT ": not elected",
						votes, total, ctx->election_term)));
		return EV_ELECTION_LOST;
	}

	if (repmgr_failover_validation_command && repmgr_failover_validation_command[0])
	{
		int			rc = run_hook_command(ctx, repmgr_failover_validation_command,
										  repmgr_node_id, "failover_validation");

		if (rc != 0)
		{
			ereport(WARNING,
					(errmsg("repmgr worker: failover_validation_command exited with %d: not promoting",
							rc)));
			return EV_ELECTION_LOST;
		}
	}
	ereport(LOG,
			(errmsg("repmgr worker: this node is the winner, will now promote self and inform other nodes"),
			 errdetail("%d of %d votes in term " INT64_FORMAT ".", votes, total,
					   ctx->election_term)));
	return EV_ELECTION_WON;
}

void
act_election_lost(WorkerCtx *ctx)
{
	/* a random pause so that two candidates do not collide again */
	long		backoff = repmgr_monitor_interval_ms +
		(long) (random() % Max(repmgr_reconnect_interval_ms, 1));

	ctx->next_decision = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), backoff);
	ctx->reason[0] = '\0';
}

void
act_wait_primary_begin(WorkerCtx *ctx)
{
	ctx->wait_deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													 failover_election_timeout_ms());
	ctx->next_decision = 0;
	ereport(LOG,
			(errmsg("repmgr worker: node %d is the best candidate; waiting for it to be promoted",
					ctx->follow_target)));
}

WorkerEvent
observe_waiting(WorkerCtx *ctx)
{
	TimestampTz now = GetCurrentTimestamp();
	PeerState  *peers;
	PeerState  *primary;
	int			npeers;
	WorkerEvent ev;

	if (ctx->status.role == NODE_TYPE_STANDBY && !ctx->position.in_recovery)
		return EV_PROMOTED;
	if ((ev = check_follow_notice(ctx)) != EV_OK)
		return ev;
	if (now >= ctx->wait_deadline)
	{
		ereport(LOG,
				(errmsg("repmgr worker: no new primary within %d ms; deciding again",
						failover_election_timeout_ms())));
		ctx->next_decision = 0;
		return EV_TIMEOUT;
	}
	if (now < ctx->next_decision)
		return EV_OK;
	ctx->next_decision = TimestampTzPlusMilliseconds(now, Min(repmgr_monitor_interval_ms, 250));

	if (upstream_back(ctx))
		return EV_UPSTREAM_OK;
	peers = poll_others(ctx, &npeers);
	primary = new_primary_among(ctx, peers, npeers);
	if (primary != NULL)
		return follow_event(ctx, primary, primary);
	return EV_OK;
}

/* ----------
 * Promote and follow
 * ----------
 */

#define NOTIFY_FOLLOW_SQL "SELECT repmgr.notify_follow($1::integer, $2::bigint)"

static void
notify_peers(WorkerCtx *ctx, int64 term)
{
	RemoteOp   *ops;
	int		   *ids;
	const char *params[2];
	int			n;
	int			i;

	params[0] = psprintf("%d", repmgr_node_id);
	params[1] = psprintf(INT64_FORMAT, term);
	n = ops_for_peers(ctx, NOTIFY_FOLLOW_SQL, 2, params, &ops, &ids);
	remote_run(ops, n, repmgr_connect_timeout_ms);
	for (i = 0; i < n; i++)
		remote_op_release(&ops[i]);
}

static void
wait_until_promoted(void)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 60000);

	while (RecoveryInProgress() && GetCurrentTimestamp() < deadline)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	if (RecoveryInProgress())
		elog(ERROR, "repmgr worker: promote_command did not promote this node");
}

void
act_promote(WorkerCtx *ctx)
{
	NodeInfo   *old = node_of(ctx, ctx->lost_primary_id);
	bool		by_command = repmgr_promote_command && repmgr_promote_command[0];

	ereport(LOG, (errmsg("repmgr worker: promoting standby")));
	if (by_command)
	{
		int			rc = run_hook_command(ctx, repmgr_promote_command,
										  repmgr_node_id, "promote_command");

		if (rc != 0)
			hook_failed(ctx, "repmgrd_failover_promote", "promote_command",
						repmgr_promote_command, rc);
		wait_until_promoted();
	}
	else
		promote_server();

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(ctx->loop_context);
	promote_record(ctx->self, old, ctx->election_term, ctx->nodes, false,
				   "repmgrd_failover_promote", by_command);
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(ctx->loop_context);

	ereport(LOG,
			(errmsg("repmgr worker: STANDBY PROMOTE successful"),
			 errdetail("node %d was successfully promoted to primary", repmgr_node_id)));
	notify_peers(ctx, ctx->election_term);

	ctx->status.promotions++;
	ctx->status.primary_lost = false;
	ctx->status.primary_visible = true;
	ctx->status.primary_node_id = repmgr_node_id;
	ctx->durable.term = ctx->election_term;
	act_start_primary(ctx);
}

void
act_follow(WorkerCtx *ctx)
{
	NodeInfo   *target = node_of(ctx, ctx->follow_target);
	NodeInfo   *primary = node_of(ctx, ctx->follow_primary);

	if (target == NULL)
		elog(ERROR, "repmgr worker: node %d to follow is not registered", ctx->follow_target);
	if (primary == NULL)
		primary = target;

	if (ctx->status.role == NODE_TYPE_WITNESS)
	{
		ereport(LOG,
				(errmsg("repmgr worker: witness now monitoring primary node %d", target->node_id)));
		remote_close(ctx->upstream_conn);
		ctx->upstream_conn = NULL;
		ctx->upstream_id = target->node_id;
		witness_copy_metadata(ctx, target);
	}
	else
	{
		ereport(LOG,
				(errmsg("repmgr worker: node %d is the new primary, attempting to follow it",
						target->node_id)));
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		MemoryContextSwitchTo(ctx->loop_context);
		if (repmgr_follow_command && repmgr_follow_command[0])
		{
			int			rc = run_hook_command(ctx, repmgr_follow_command,
											  target->node_id, "follow_command");

			if (rc != 0)
				hook_failed(ctx, "repmgrd_failover_follow", "follow_command",
							repmgr_follow_command, rc);
			follow_record(ctx->self, target, primary->conninfo, ctx->nodes,
						  "repmgrd_failover_follow", true);
		}
		else
			action_follow(ctx->self, target, primary->conninfo, ctx->nodes,
						  "repmgrd_failover_follow");
		PopActiveSnapshot();
		CommitTransactionCommand();
		MemoryContextSwitchTo(ctx->loop_context);
		ereport(LOG,
				(errmsg("repmgr worker: node %d now following new upstream node %d",
						repmgr_node_id, target->node_id)));
		ctx->status.follows++;
		ctx->upstream_id = target->node_id;
	}
	if (ctx->follow_term > ctx->durable.term)
		shmem_observe_term(ctx->follow_term);

	remote_close(ctx->upstream_conn);
	ctx->upstream_conn = NULL;
	ctx->next_check = 0;
	ctx->attempts = 0;
	ctx->lost_primary_id = InvalidNodeId;
	ctx->status.primary_lost = false;
	ctx->status.primary_visible = true;
	ctx->status.upstream_node_id = ctx->upstream_id;
	ctx->status.primary_node_id = primary->node_id;
	/* registry_upstream_seen stays: our record changes when it replicates */
	ctx->reason[0] = '\0';
}

void
act_cannot_follow(WorkerCtx *ctx)
{
	ereport(WARNING,
			(errmsg("repmgr worker: this node cannot follow node %d", ctx->follow_target),
			 errdetail("%s.", ctx->reason),
			 errhint("Rejoin it with \"repmgr node rejoin --force-rewind\".")));
	worker_set_error(ctx, "cannot follow node %d: %s", ctx->follow_target, ctx->reason);
	worker_record_event(ctx, "standby_follow", false,
						psprintf("node %d cannot follow node %d: %s",
								 repmgr_node_id, ctx->follow_target, ctx->reason));
}

/*
 * Nothing to do but wait for "repmgr node rejoin", which restarts the
 * server (and so the worker), or for a promotion.
 */
WorkerEvent
observe_cannot_follow(WorkerCtx *ctx)
{
	if (!ctx->position.in_recovery)
		return EV_PROMOTED;
	if (ctx->self == NULL)
		return EV_NOT_READY;
	return EV_OK;
}

/* ----------
 * The primary: heartbeats, downstream nodes, lease and fence
 * ----------
 */

#define HEARTBEAT_SQL \
	"SELECT accepted, term, in_recovery FROM repmgr.heartbeat($1::integer, $2::bigint)"

/*
 * Send a heartbeat to every active node, record who acknowledged it,
 * renew the lease from that, and tell whether a newer primary exists.
 */
void
primary_heartbeat_round(WorkerCtx *ctx, bool *superseded)
{
	TimestampTz sent = GetCurrentTimestamp();
	RemoteOp   *ops;
	PeerLink  **links;
	const char *params[2];
	ListCell   *lc;
	int			n = 0;
	int			i;
	int			total = nodes_count_active(ctx->nodes);
	int			needed = lease_acks_needed(total);
	TimestampTz *acks;
	int64		newer_term = 0;

	*superseded = false;
	ctx->next_heartbeat = TimestampTzPlusMilliseconds(sent, repmgr_monitor_interval_ms);
	params[0] = psprintf("%d", repmgr_node_id);
	params[1] = psprintf(INT64_FORMAT, ctx->durable.term);

	ops = palloc0(sizeof(RemoteOp) * Max(list_length(ctx->nodes), 1));
	links = palloc0(sizeof(PeerLink *) * Max(list_length(ctx->nodes), 1));
	foreach(lc, ctx->nodes)
	{
		NodeInfo   *node = (NodeInfo *) lfirst(lc);
		PeerLink   *link;

		if (!node->active || node->node_id == repmgr_node_id)
			continue;
		link = peer_link(ctx, node->node_id);
		if (link->conn == NULL)
			link->conn = remote_conn_new();
		ops[n].rc = link->conn;
		ops[n].conninfo = node->conninfo;
		ops[n].sql = HEARTBEAT_SQL;
		ops[n].nparams = 2;
		ops[n].params = params;
		links[n] = link;
		n++;
	}
	remote_run(ops, n, repmgr_connect_timeout_ms);

	for (i = 0; i < n; i++)
	{
		PGresult   *res = ops[i].result;

		if (ops[i].rc->status == REMOTE_OK && res != NULL && PQntuples(res) == 1)
		{
			bool		accepted = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
			int64		term = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
			bool		in_recovery = strcmp(PQgetvalue(res, 0, 2), "t") == 0;

			if (accepted)
			{
				links[i]->last_ack_sent = sent;
				links[i]->rejected_since = 0;
			}
			else if (!in_recovery && term > ctx->durable.term)
			{
				*superseded = true;
				newer_term = Max(newer_term, term);
				ctx->follow_target = links[i]->node_id;
			}
			else if (term > ctx->durable.term)
			{
				/* it voted in a newer term; until that elects somebody, no ack */
				if (links[i]->rejected_since == 0)
					links[i]->rejected_since = sent;
				newer_term = Max(newer_term, term);
			}
		}
		PQclear(res);
		ops[i].result = NULL;
	}

	/*
	 * Votes in a newer term that elected nobody: once the election is
	 * certainly over, take that term, so the voters acknowledge us again.
	 */
	if (!*superseded && newer_term > ctx->durable.term)
	{
		bool		stale = true;

		for (i = 0; i < n; i++)
			if (links[i]->rejected_since != 0 &&
				TimestampDifferenceMilliseconds(links[i]->rejected_since, sent) <
				failover_election_timeout_ms())
				stale = false;
		if (stale)
		{
			PeerState  *peers;
			PeerState  *conflict;
			int			npeers;

			peers = peers_poll(ctx->nodes, repmgr_node_id, true, &npeers);
			if (peers_find_primary(peers, npeers, &conflict) == NULL)
			{
				ereport(LOG,
						(errmsg("repmgr worker: the election of term " INT64_FORMAT " produced no primary; this primary takes that term",
								newer_term)));
				shmem_observe_term(newer_term);
				ctx->durable.term = newer_term;
			}
		}
	}
	ctx->superseding_term = newer_term;

	/* the lease: the needed-th most recent acknowledgement, plus L */
	if (!repmgr_fence || repmgr_failover_mode == FAILOVER_MANUAL || needed <= 0)
	{
		shmem_set_lease(false, 0);
		shmem_arm_lease(false);
		return;
	}
	acks = palloc0(sizeof(TimestampTz) * Max(n, 1));
	for (i = 0; i < n; i++)
		acks[i] = links[i]->last_ack_sent;
	/* selection by repeated maximum: n is small */
	for (i = 0; i < needed && i < n; i++)
	{
		int			j;
		int			max = i;
		TimestampTz tmp;

		for (j = i + 1; j < n; j++)
			if (acks[j] > acks[max])
				max = j;
		tmp = acks[i];
		acks[i] = acks[max];
		acks[max] = tmp;
	}
	shmem_arm_lease(true);
	if (needed > n || acks[needed - 1] == 0)
		shmem_set_lease(true, 0);
	else
		shmem_set_lease(true, TimestampTzPlusMilliseconds(acks[needed - 1],
														  failover_lease_ms()));
}

static bool
lease_valid_now(void)
{
	bool		fenced;

	return shmem_writes_allowed(GetCurrentTimestamp(), &fenced);
}

void
act_fence_lease(WorkerCtx *ctx)
{
	ereport(WARNING,
			(errmsg("repmgr worker: this primary cannot reach enough nodes to keep its lease; refusing writes"),
			 errdetail("No heartbeat was acknowledged by half of the %d nodes within %d ms.",
					   nodes_count_active(ctx->nodes), failover_lease_ms())));
	worker_set_error(ctx, "fenced: lost contact with the majority of the cluster");
	worker_record_event(ctx, "repmgrd_fence", true,
						psprintf("primary node %d lost contact with the majority of the cluster; writes refused",
								 repmgr_node_id));
}

void
act_fence_superseded(WorkerCtx *ctx)
{
	if (ctx->durable.fenced)
		return;
	shmem_set_fenced(true, ctx->superseding_term);
	ereport(WARNING,
			(errmsg("repmgr worker: node %d is primary in term " INT64_FORMAT "; this node is fenced until it rejoins",
					ctx->follow_target, ctx->superseding_term),
			 errhint("Run \"repmgr node rejoin\" on this node.")));
	worker_set_error(ctx, "fenced: node %d is the newer primary", ctx->follow_target);
	worker_record_event(ctx, "repmgrd_fence", true,
						psprintf("node %d found node %d primary in term " INT64_FORMAT "; fenced until it rejoins",
								 repmgr_node_id, ctx->follow_target, ctx->superseding_term));
}

void
act_unfence(WorkerCtx *ctx)
{
	ereport(LOG,
			(errmsg("repmgr worker: the majority of the cluster is reachable again; accepting writes")));
	worker_record_event(ctx, "repmgrd_unfence", true,
						psprintf("primary node %d reached the majority of the cluster again; writes accepted",
								 repmgr_node_id));
}

void
act_start_fenced(WorkerCtx *ctx)
{
	ereport(WARNING,
			(errmsg("repmgr worker: this node was fenced (a newer primary exists in term " INT64_FORMAT ")",
					ctx->durable.fenced_term),
			 errhint("Run \"repmgr node rejoin\" on this node.")));
	act_start_primary(ctx);
}

void
act_clear_fence(WorkerCtx *ctx)
{
	shmem_set_fenced(false, 0);
	act_start_standby(ctx);
}

WorkerEvent
observe_fenced(WorkerCtx *ctx)
{
	bool		superseded;

	if (ctx->position.in_recovery)
		return EV_DEMOTED;
	if (ctx->self == NULL)
		return EV_NOT_READY;
	if (GetCurrentTimestamp() < ctx->next_heartbeat)
		return EV_OK;
	primary_heartbeat_round(ctx, &superseded);
	if (superseded && !ctx->durable.fenced)
		return EV_SUPERSEDED;
	if (!ctx->durable.fenced && lease_valid_now())
		return EV_LEASE_OK;
	return EV_OK;
}

/* the primary's observation, called from monitor.c's observe_primary */
WorkerEvent
primary_lease_event(WorkerCtx *ctx)
{
	bool		superseded;

	primary_heartbeat_round(ctx, &superseded);
	if (superseded)
		return EV_SUPERSEDED;
	if (!lease_valid_now())
		return EV_LEASE_LOST;
	return EV_OK;
}
