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
 *	4. It waits until it has heard no primary (heartbeat or notice) for
 *	   the vote silence, whatever the evidence of the loss.
 *	5. The best candidate (dc_position_lsn, then priority, then lowest
 *	   id; priority 0, manual or paused nodes excluded; once its replay
 *	   has settled) asks for votes for term T+1.  A node grants one vote
 *	   per term, durably, by dc_decide_vote().
 *	6. With a majority of votes it promotes, marks the old primary failed
 *	   and tells the others to follow (notify_follow); a node that misses
 *	   the notice finds the new primary by asking its peers.  Its lease
 *	   is armed, empty, before the promotion: it commits once its first
 *	   heartbeat round, run right after, is acknowledged by enough nodes.
 *	7. Each standby of the old primary re-points itself when
 *	   dc_decide_follow() allows; one that replayed WAL beyond the new
 *	   primary's fork point cannot, and says so.
 *	8. The fence: the primary's heartbeats renew its write lease (lease.c,
 *	   enforced by fence.c); one that meets a newer primary fences itself
 *	   until node rejoin (the fence states, at the end of this file).
 *
 * Every decision is a pure function of decide.c, where the argument that
 * at most one node can commit at any instant is written down; this file
 * gathers what the node knows, calls them, and acts.  The voter's side is
 * voter.c, the requests to all peers ballot.c.
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
 * Helpers of the worker's failover states
 * ----------
 */

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

/*
 * The other nodes, but the lost primary: it would cost a timeout a round.
 * A witness asks the inactive ones too: its copy of the metadata comes
 * from the primary it lost, so a node that rejoined just before (and may
 * now be the new primary) can still be inactive in it.
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
 * Each poll opens the persistent links afresh (none is left from long ago,
 * when the network may have been another), and leaves them open: an
 * election decided on this poll sends its first vote requests over them,
 * without the cost of a second connection.
 */
static PeerState *
poll_others(WorkerCtx *ctx, int *npeers)
{
	worker_close_peer_links(ctx);
	ctx->peer_links_opened = mono_now();
	return peers_poll_over(ctx->nodes, repmgr_node_id, ctx->lost_primary_id,
						   ctx->status.role != NODE_TYPE_WITNESS,
						   peer_link_conn, ctx, npeers);
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
	NodeInfo   *up = worker_node(ctx, ctx->upstream_id);
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
 * ctx->follow_target for act_follow.  While this node's replay may still
 * pass the new timeline's switch point, it waits (EV_OK).
 */
static WorkerEvent
follow_event(WorkerCtx *ctx, PeerState *target, PeerState *primary)
{
	DcFollow	f;

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

	/*
	 * With a synchronous set managed, stream only from a primary whose
	 * heartbeats this node accepts (sim/README.md, SR_REJOIN): a primary
	 * of an older term than this node's may still release commits with
	 * this node's acknowledgement, which (h) forbids after its vote.  This
	 * node refuses that primary's heartbeats, so it stands for re-election
	 * in a term above, and is followed then.
	 */
	if (repmgr_synchronous != SYNC_MODE_OFF && primary != NULL &&
		!dc_accept_heartbeat(primary->term, ctx->durable.term, false))
	{
		say_reason(ctx, LOG,
				   psprintf("not following node %d yet: it is primary in term " INT64_FORMAT ", older than term " INT64_FORMAT " of this node; waiting for its re-election",
							primary->node->node_id, primary->term, ctx->durable.term));
		return EV_OK;
	}
	f = follow_check(&ctx->position, target->timeline,
					 target == primary ? target->switch_lsn : InvalidXLogRecPtr);
	if (f == DC_FOLLOW_WAIT_REPLAY)
	{
		say_reason(ctx, LOG, psprintf("not following node %d yet: %s",
									  target->node->node_id, dc_follow_name(f)));
		return EV_OK;
	}
	if (f != DC_FOLLOW_OK)
	{
		strlcpy(ctx->reason,
				follow_reason(f, &ctx->position, target->timeline, target->switch_lsn),
				sizeof(ctx->reason));
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
	if (id == InvalidNodeId || id == repmgr_node_id || worker_node(ctx, id) == NULL)
		return EV_OK;
	ereport(LOG,
			(errmsg("repmgr worker: node %d received notification to follow node %d",
					repmgr_node_id, id)));
	peers = poll_others(ctx, &npeers);
	target = peers_find(peers, npeers, id);
	if (target == NULL || !peer_is_primary(target))
	{
		/* not (yet) a primary we can see: the peers' state decides later */
		ereport(LOG,
				(errmsg("repmgr worker: node %d is not a working primary seen from here (%s)",
						id, peers_describe(peers, npeers))));
		return EV_OK;
	}
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
	NodeInfo   *node = worker_node(ctx, node_id);

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

/* a peer as dc_decide_failover() takes it */
static void
dc_peer_of(WorkerCtx *ctx, const PeerState *p, DcPeer *d)
{
	memset(d, 0, sizeof(*d));
	d->node_id = p->node->node_id;
	d->reachable = p->reachable;
	d->sees_lost_primary = p->reachable && p->primary_visible_known &&
		p->primary_visible && p->primary_node_id == ctx->lost_primary_id;
	d->candidate = p->reachable && p->in_recovery &&
		p->node->type == NODE_TYPE_STANDBY &&
		p->node->upstream_node_id == ctx->lost_primary_id;
	d->automatic = p->automatic && !p->paused;
	d->priority = p->node->priority;
	d->lsn = p->lsn;
	d->timeline = p->timeline;
	d->settled = p->settled;
	d->sync = p->sync;
}

/*
 * The primary is lost: stand, defer to a better candidate, or wait, as
 * dc_decide_failover() says from what this node and its peers know.
 */
static WorkerEvent
decide_failover(WorkerCtx *ctx, PeerState *peers, int npeers)
{
	DcFailoverView view;
	DcFailoverVerdict verdict;
	DcTiming	timing;
	DcPeer	   *dpeers = palloc0(sizeof(DcPeer) * Max(npeers, 1));
	NodeInfo   *lost_node = worker_node(ctx, ctx->lost_primary_id);
	int			i;

	for (i = 0; i < npeers; i++)
		dc_peer_of(ctx, &peers[i], &dpeers[i]);
	ctx->decision_max_term = peers_max_term(peers, npeers);
	memset(&view, 0, sizeof(view));
	view.self_id = repmgr_node_id;
	view.manual = (repmgr_failover_mode == FAILOVER_MANUAL);
	view.paused = ctx->durable.paused;
	view.consensus = repmgr_primary_visibility_consensus;
	view.total = nodes_count_active(ctx->nodes);
	view.heard_ago_ms = shmem_heard_ago_ms(NULL, NULL);
	view.priority = ctx->self->priority;
	local_dc_position(&ctx->position, &view.position);
	view.sync = ctx->sync_own.set;
	view.primary_lsn = shmem_heard_lsn();
	view.max_lag = repmgr_failover_max_lag;
	view.peers = dpeers;
	view.npeers = npeers;
	failover_timing(&timing);
	dc_decide_failover(&view, &timing, &verdict);

	switch (verdict.decision)
	{
		case DC_FO_STAND:
			/* rule (i): the election counts the votes against this set */
			memset(&ctx->election_sync, 0, sizeof(ctx->election_sync));
			if (verdict.sync != NULL)
				ctx->election_sync = *verdict.sync;
			return EV_CANDIDATE;
		case DC_FO_DEFER:
			ctx->follow_target = verdict.node;
			return EV_NOT_CANDIDATE;
		case DC_FO_MANUAL:
			say_reason(ctx, LOG, "repmgr.failover is manual: not promoting (degraded monitoring)");
			break;
		case DC_FO_PAUSED:
			say_reason(ctx, LOG, "this node is paused: not promoting (degraded monitoring)");
			break;
		case DC_FO_PRIMARY_SEEN:
			{
				NodeInfo   *seer = worker_node(ctx, verdict.node);

				say_reason(ctx, LOG,
						   psprintf("node %d (\"%s\") can still see the primary node %d: not failing over (degraded monitoring)",
									verdict.node, seer ? seer->name : "?",
									ctx->lost_primary_id));
			}
			break;
		case DC_FO_NO_QUORUM:
			say_reason(ctx, WARNING,
					   psprintf("only %d of %d nodes are visible from location \"%s\"; the primary's location is \"%s\" and a majority is %d: not promoting",
								verdict.visible, view.total, ctx->self->location,
								lost_node ? lost_node->location : "?", view.total / 2 + 1));
			break;
		case DC_FO_LEASE_WAIT:
			say_reason(ctx, LOG,
					   psprintf("waiting for the lease of the primary to expire (%ld ms of %d ms without a primary's heartbeat)",
								(long) view.heard_ago_ms, timing.silence_ms));
			ctx->next_decision = MonoPlusMs(mono_now(), verdict.wait_ms);
			break;
		case DC_FO_REPLAY_WAIT:
			say_reason(ctx, LOG, "this node is the best candidate; waiting for replay to apply the WAL it received");
			ctx->next_decision = MonoPlusMs(mono_now(), 20);
			break;
		case DC_FO_SYNC_TOO_FEW:
			say_reason(ctx, WARNING,
					   psprintf("only %d of the %d members of the synchronous set %s (version " INT64_FORMAT ") are visible; %d are needed to be sure one holds every acknowledged commit: not promoting",
								verdict.sync_seen, verdict.sync->nmembers,
								sync_set_text(verdict.sync), verdict.sync->version,
								verdict.sync_needed));
			break;
		case DC_FO_SYNC_BEHIND:
			say_reason(ctx, WARNING,
					   psprintf("the best candidate of the synchronous set %s (version " INT64_FORMAT "), node %d, is behind a member that cannot be promoted (priority 0, manual or paused): not promoting",
								sync_set_text(verdict.sync), verdict.sync->version,
								verdict.node));
			break;
		case DC_FO_SYNC_NO_MEMBER:
			say_reason(ctx, WARNING,
					   psprintf("no member of the synchronous set %s (version " INT64_FORMAT ") can be promoted (priority 0, manual, paused or on another timeline): not promoting",
								sync_set_text(verdict.sync), verdict.sync->version));
			break;
		case DC_FO_TOO_FAR_BEHIND:
			say_reason(ctx, WARNING,
					   psprintf("the best candidate, node %d, is more than repmgr.failover_max_lag (%d bytes) behind %X/%X, the last position the primary's heartbeat carried: not promoting",
								verdict.node, repmgr_failover_max_lag,
								LSN_FORMAT_ARGS(view.primary_lsn)));
			break;
		case DC_FO_NO_CANDIDATE:
			say_reason(ctx, WARNING, "no standby can be promoted (priority 0, manual or paused everywhere)");
			break;
		case DC_FO_COUNT:
			break;
	}
	return EV_OK;
}

WorkerEvent
observe_degraded(WorkerCtx *ctx)
{
	MonoTime	now = mono_now();
	PeerState  *peers;
	PeerState  *primary;
	WorkerEvent ev;
	int			npeers;

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
	ctx->next_decision = MonoPlusMs(now, repmgr_monitor_interval_ms);

	/* the upstream is back (not asked again right after the last attempt) */
	if (mono_exceeds(ctx->upstream_failed_at, now,
								   repmgr_reconnect_interval_ms) &&
		upstream_back(ctx))
		return EV_UPSTREAM_OK;

	peers = poll_others(ctx, &npeers);

	/* somebody already is the new primary */
	primary = new_primary_among(ctx, peers, npeers);
	if (primary != NULL)
		return follow_event(ctx, primary, primary);

	/* a lost upstream that was not the primary: follow its upstream */
	if (ctx->lost_primary_id == InvalidNodeId && ctx->status.role == NODE_TYPE_STANDBY)
	{
		NodeInfo   *up = worker_node(ctx, ctx->upstream_id);
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
	{
		/* a witness waits for a new primary: say what it sees, on change */
		say_reason(ctx, LOG,
				   psprintf("witness: primary node %d is lost and no new primary is seen (%s)",
							ctx->lost_primary_id, peers_describe(peers, npeers)));
		return EV_OK;
	}
	return decide_failover(ctx, peers, npeers);
}

/* ----------
 * Election
 * ----------
 */
void
act_election_begin(WorkerCtx *ctx)
{
	/* above every term the decision's poll of the peers saw, just now */
	ctx->election_term = Max(ctx->durable.term, ctx->decision_max_term) + 1;
	ctx->wait_deadline = MonoPlusMs(mono_now(), failover_election_timeout_ms());
	ctx->election_round = 0;
	ctx->status.elections++;
	ereport(LOG,
			(errmsg("repmgr worker: setting voting term to " INT64_FORMAT,
					ctx->election_term)));
	ereport(LOG,
			(errmsg("repmgr worker: node %d is candidate", repmgr_node_id)));
}

WorkerEvent
observe_election(WorkerCtx *ctx)
{
	DcVoteRequest req;
	DcVote		own;
	VoteCount	count;
	int			total = nodes_count_active(ctx->nodes);
	int			votes = 1;
	int			elevel;
	bool		sync_rule = dc_sync_needed(&ctx->election_sync) > 0;
	bool		own_pending;
	WorkerEvent ev;

	if (!ctx->position.in_recovery)
		return EV_PROMOTED;
	if ((ev = check_follow_notice(ctx)) != EV_OK)
		return ev;

	/* our own vote first, by the voters' rules and durably: one per term */
	memset(&req, 0, sizeof(req));
	req.term = ctx->election_term;
	req.candidate = repmgr_node_id;
	req.candidate_lsn = ctx->position.lsn;
	req.candidate_timeline = ctx->position.timeline;
	own = failover_decide_vote(&req, NULL, 0);
	own_pending = (own == DC_DENY_RECEIVING &&
				   mono_now() < ctx->wait_deadline);
	if (own_pending)
	{
		/*
		 * (h): the worker stops its own WAL receiver first (walstop.c);
		 * meanwhile the others are asked, so that they stop theirs too
		 */
		say_reason(ctx, LOG,
				   psprintf("candidate in term " INT64_FORMAT ": %s",
							ctx->election_term, dc_vote_name(own)));
	}
	else if (!dc_vote_granted(own))
	{
		ereport(LOG, (errmsg("repmgr worker: cannot stand in term " INT64_FORMAT ": %s",
							 ctx->election_term, failover_vote_reason(own, &req))));
		return EV_ELECTION_LOST;
	}
	else if (sync_rule)
	{
		/*
		 * (h): the position sent is read after the WAL receiver stopped
		 * (the iteration's may be older than the stop)
		 */
		local_position(&ctx->position);
		req.candidate_lsn = ctx->position.lsn;
		req.candidate_timeline = ctx->position.timeline;
	}

	/*
	 * Each voter's answer is logged in the first round, then on change.
	 * The first round uses the links the decision's poll has just opened
	 * (or opens fresh ones, should that poll be older than an interval);
	 * the later rounds and, once elected, the first heartbeats use them
	 * too: none is left from long ago.
	 */
	if (ctx->election_round == 0 &&
		mono_exceeds(ctx->peer_links_opened, mono_now(),
								   repmgr_monitor_interval_ms))
		worker_close_peer_links(ctx);
	elevel = (ctx->election_round++ == 0) ? LOG : DEBUG1;
	votes += request_votes(ctx, &req, repmgr_connect_timeout_ms, elevel, &count);
	if (own_pending)
		return EV_OK;

	if (!dc_has_quorum(votes, total))
	{
		/* others may not have confirmed the loss yet: ask again shortly */
		if (count.may_change && mono_now() < ctx->wait_deadline)
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

	/*
	 * (i): with a synchronous set in force, the votes (this node's
	 * included) must come from dc_sync_needed() members, one of which
	 * holds every acknowledged commit and stopped receiving before it
	 * voted (h); this node is not behind it.
	 */
	if (sync_rule && !dc_sync_votes_cover(&ctx->election_sync, count.ids, count.nids))
	{
		char	   *why = psprintf("elected in term " INT64_FORMAT " by %d of %d votes, but fewer than %d of them come from members of the synchronous set %s (version " INT64_FORMAT "): not promoting",
								   ctx->election_term, votes, total,
								   dc_sync_needed(&ctx->election_sync),
								   sync_set_text(&ctx->election_sync),
								   ctx->election_sync.version);

		if (mono_now() < ctx->wait_deadline)
		{
			say_reason(ctx, LOG, psprintf("%s; asking again", why));
			return EV_OK;
		}
		say_reason(ctx, WARNING, why);
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

	ctx->next_decision = MonoPlusMs(mono_now(), backoff);
	ctx->reason[0] = '\0';
}

void
act_wait_primary_begin(WorkerCtx *ctx)
{
	ctx->wait_deadline = MonoPlusMs(mono_now(), failover_election_timeout_ms());
	ctx->next_decision = 0;
	ereport(LOG,
			(errmsg("repmgr worker: node %d is the best candidate; waiting for it to be promoted",
					ctx->follow_target)));
}

WorkerEvent
observe_waiting(WorkerCtx *ctx)
{
	MonoTime	now = mono_now();
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
	ctx->next_decision = MonoPlusMs(now, Min(repmgr_monitor_interval_ms, 250));

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

static void
wait_until_promoted(void)
{
	MonoTime	deadline = MonoPlusMs(mono_now(), 60000);

	while (RecoveryInProgress() && mono_now() < deadline)
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
	NodeInfo   *old = worker_node(ctx, ctx->lost_primary_id);
	bool		by_command = repmgr_promote_command && repmgr_promote_command[0];
	bool		superseded;

	ereport(LOG, (errmsg("repmgr worker: promoting standby")));
	if (by_command)
	{
		int			rc = run_hook_command(ctx, repmgr_promote_command,
										  repmgr_node_id, "promote_command");

		if (rc != 0)
			hook_failed(ctx, "repmgrd_failover_promote", "promote_command",
						repmgr_promote_command, rc);
		wait_until_promoted();

		/*
		 * Only now: the command ("repmgr standby promote") writes to this
		 * node once it is primary, and would wait for a lease that only
		 * this process, waiting for the command, can obtain.  Until here
		 * the new primary accepts writes without a lease (README, "The
		 * fence").
		 */
		arm_empty_lease(ctx);
	}
	else
	{
		arm_empty_lease(ctx);
		promote_server();
	}

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

	/* the lease first: the first heartbeat round, then the notices */
	ctx->durable.term = ctx->election_term;
	primary_heartbeat_round(ctx, &superseded);
	notify_peers(ctx, ctx->election_term);

	ctx->status.promotions++;
	ctx->status.primary_lost = false;
	ctx->status.primary_visible = true;
	ctx->status.primary_node_id = repmgr_node_id;
	act_start_primary(ctx);
}

void
act_follow(WorkerCtx *ctx)
{
	NodeInfo   *target = worker_node(ctx, ctx->follow_target);
	NodeInfo   *primary = worker_node(ctx, ctx->follow_primary);

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
	else if (ctx->self->upstream_node_id == target->node_id &&
			 local_walreceiver_streaming())
	{
		/* a follow made elsewhere (repmgr.follow(), the command line) */
		ereport(LOG,
				(errmsg("repmgr worker: node %d already follows node %d",
						repmgr_node_id, target->node_id)));
		ctx->upstream_id = target->node_id;
	}
	else
	{
		bool		by_command = repmgr_follow_command && repmgr_follow_command[0];

		ereport(LOG,
				(errmsg("repmgr worker: node %d is the new primary, attempting to follow it",
						target->node_id)));
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		MemoryContextSwitchTo(ctx->loop_context);
		if (by_command)
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
		ctx->status.follows++;
		ctx->upstream_id = target->node_id;
		if (worker_record_follow(ctx, target, primary->conninfo,
								 "repmgrd_failover_follow", by_command))
			ctx->record_written = target->node_id;
	}
	if (ctx->follow_term > ctx->durable.term)
		shmem_observe_term(ctx->follow_term);

	remote_close(ctx->upstream_conn);
	ctx->upstream_conn = NULL;
	worker_close_peer_links(ctx);		/* a standby holds none */
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
 * The fence states of a primary (its heartbeats and lease: lease.c)
 * ----------
 */

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
	if (mono_now() < ctx->next_heartbeat)
		return EV_OK;
	primary_heartbeat_round(ctx, &superseded);
	if (superseded && !ctx->durable.fenced)
		return EV_SUPERSEDED;
	if (!ctx->durable.fenced && primary_lease_valid())
		return EV_LEASE_OK;
	return EV_OK;
}

