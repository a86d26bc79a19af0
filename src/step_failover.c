/*-------------------------------------------------------------------------
 *
 * step_failover.c
 *	  The worker's pure step once its upstream is lost: agree that the
 *	  primary is gone, stand (or defer to a better candidate), ask for
 *	  votes, promote; find a new primary and follow it.
 *
 * The protocol:
 *
 *	1. A standby that cannot reach its upstream primary retries
 *	   reconnect_attempts times, reconnect_interval apart (step_monitor.c).
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
 *
 * Every decision is a pure function of decide.c, where the argument that
 * at most one node can commit at any instant is written down.
 *
 *-------------------------------------------------------------------------
 */
#include "step_int.h"

#include <stdio.h>
#include <string.h>

#define LSN_ARGS(lsn) (unsigned) ((lsn) >> 32), (unsigned) (lsn)

/* ----------
 * Finding a primary to follow
 * ----------
 */

/* why dc_decide_follow() said no, with the figures */
static void
follow_reason(const WkFacts *f, DcFollow d, uint32_t tli, dc_lsn switch_lsn,
			  char *buf, int len)
{
	const DcPosition *me = &f->position;
	dc_lsn		mine = me->in_recovery ? me->replay_lsn : me->write_lsn;

	if (d == DC_FOLLOW_NEWER_TIMELINE)
		snprintf(buf, len, "this node is on timeline %u, newer than the timeline %u of the new upstream",
				 me->timeline, tli);
	else if (d == DC_FOLLOW_DIVERGED)
		snprintf(buf, len, "this node has replayed WAL up to %X/%X on timeline %u, beyond %X/%X where timeline %u of the new upstream began",
				 LSN_ARGS(mine), me->timeline, LSN_ARGS(switch_lsn), tli);
	else if (d == DC_FOLLOW_WAIT_REPLAY)
		snprintf(buf, len, "this node received WAL up to %X/%X and replayed up to %X/%X; timeline %u of the new upstream began at %X/%X, so replay must end first",
				 LSN_ARGS(me->receive_lsn), LSN_ARGS(me->replay_lsn), tli,
				 LSN_ARGS(switch_lsn));
	else
		snprintf(buf, len, "%s", dc_follow_name(d));
}

/*
 * A peer was found to be the new primary: can we follow it?  Sets
 * follow_target for act_follow.  While this node's replay may still pass
 * the new timeline's switch point, it waits (EV_OK).
 */
static int
follow_event(Step *st, const WkPeer *target, const WkPeer *primary)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	DcFollow	d;
	DcLine		line;

	s->follow_target = target->id;
	s->follow_primary = primary ? primary->id : target->id;
	s->follow_term = target->term;
	if (s->role == WK_NODE_WITNESS)
		return EV_NEW_PRIMARY;	/* a witness only changes what it watches */
	if (f->paused)
	{
		wk_say_reason(st, WK_LOG, "this node is paused: not following node %d", target->id);
		return EV_OK;
	}

	/*
	 * With a synchronous set managed, stream only from a primary whose
	 * heartbeats this node accepts (sim/README.md, SR_REJOIN): a primary of
	 * an older term than this node's may still release commits with this
	 * node's acknowledgement, which (h) forbids after its vote.  This node
	 * refuses that primary's heartbeats, so it stands for re-election in a
	 * term above, and is followed then.
	 */
	if (!target->in_recovery && target->fenced)
	{
		wk_say_reason(st, WK_LOG, "not following node %d: it is a fenced primary",
					  target->id);
		return EV_OK;
	}
	/*
	 * A target that is itself a working primary is the one whose term
	 * counts, though the poll chose another (the upstream of a lost
	 * upstream, as the catalog names it, may be the old primary)
	 */
	if (wk_peer_is_primary(f, target))
		primary = target;
	if (f->sync_mode != SYNC_MODE_OFF && primary != NULL &&
		!dc_accept_heartbeat(primary->term, f->term, false))
	{
		wk_say_reason(st, WK_LOG,
					  "not following node %d yet: it is primary in term %lld, older than term %lld of this node; waiting for its re-election",
					  primary->id, (long long) primary->term, (long long) f->term);
		return EV_OK;
	}
	line.timeline = target->timeline;
	line.begin = target->switch_lsn;
	line.term = target->timeline_term;
	line.history = target->history;
	line.nhistory = target->nhistory;
	d = dc_decide_follow_line(&f->position, &line);
	if (d == DC_FOLLOW_WAIT_REPLAY)
	{
		wk_say_reason(st, WK_LOG, "not following node %d yet: %s", target->id,
					  dc_follow_name(d));
		return EV_OK;
	}
	if (d != DC_FOLLOW_OK)
	{
		follow_reason(f, d, target->timeline, line.begin, s->reason, sizeof(s->reason));
		return EV_CANNOT_FOLLOW;
	}
	return EV_NEW_PRIMARY;
}

/*
 * A working primary other than the one we lost, or newer than our term.
 */
static const WkPeer *
new_primary_among(Step *st, const WkResult *r)
{
	const WkPeer *conflict;
	const WkPeer *primary = wk_find_primary(st->f, r, &conflict);

	if (primary == NULL || conflict != NULL)
		return NULL;
	if (primary->id == st->s->upstream_id && primary->term <= st->f->term &&
		st->s->role != WK_NODE_WITNESS)
		return NULL;			/* that is the old one, back */
	return primary;
}

/*
 * A notice from a newly promoted primary: first of all (a paused standby
 * leaves it for when it is unpaused).  Then the answers of the poll that
 * checked it.  EV_OK when neither applies.
 */
static int
notice_event(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	const WkResult *r;

	if (s->notice_from != 0 && (r = wk_answers(st, FX_POLL)) != NULL)
	{
		const WkPeer *target = wk_find_peer(r, s->notice_from);
		int			id = s->notice_from;

		s->notice_from = 0;
		if (target != NULL && wk_peer_is_primary(f, target))
			return follow_event(st, target, target);
		{
			char		seen[WK_TEXT_LEN];

			/* not (yet) a primary we can see: the peers' state decides later */
			wk_describe_peers(f, r, seen, sizeof(seen));
			wk_log(st, WK_LOG, "node %d is not a working primary seen from here (%s)",
				   id, seen);
		}
		return EV_OK;
	}
	s->notice_from = 0;
	if (f->notice_primary != 0 && !(f->paused && s->role != WK_NODE_WITNESS))
		return EV_NOTICE;
	return EV_OK;
}

void
act_check_notice(Step *st)
{
	const WkFacts *f = st->f;
	int			id = f->notice_primary;

	wk_fx(st, FX_TAKE_NOTICE)->node = id;
	if (id == f->self_id || wk_node(f, id) == NULL)
		return;
	wk_log(st, WK_LOG, "node %d received notification to follow node %d", f->self_id, id);
	act_poll_peers(st);
	st->s->notice_from = id;
}

/*
 * Each poll opens the persistent links afresh (none is left from long ago,
 * when the network may have been another), and leaves them open: an
 * election decided on this poll sends its first vote requests over them.
 * Every voting member is asked, inactive ones too: the majority counts
 * them (wk_voters), and a node that rejoined may still be inactive in
 * this node's copy of the metadata.
 */
void
act_poll_peers(Step *st)
{
	WkFx	   *fx;

	wk_fx(st, FX_CLOSE_PEERS);
	st->s->peer_links_opened = st->f->now;
	fx = wk_fx(st, FX_POLL);
	/* a witness asks the lost primary too: back as a standby, it has a catalog */
	fx->node = st->s->role == WK_NODE_WITNESS ? 0 : st->s->lost_primary_id;
	fx->flag = false;
	fx->ms = st->f->settings.connect_timeout_ms;
	wk_round(st, FX_POLL);
}

/*
 * Is the lost upstream back: answering, as a standby (a cascade's
 * upstream) or as a working primary not older than our term?  A short
 * deadline: it is asked every round, and a node that needs longer than
 * this to answer on a working network is not back yet.
 */
void
act_probe_back(Step *st)
{
	WkFx	   *fx = wk_fx(st, FX_PROBE_BACK);
	int			deadline = st->f->settings.connect_timeout_ms;

	fx->node = st->s->upstream_id;
	fx->ms = deadline < 250 ? deadline : 250;
	wk_round(st, FX_PROBE_BACK);
}

static bool
upstream_is_back(Step *st, const WkResult *r)
{
	if (!r->answered)
		return false;
	if (r->in_recovery)
		return st->s->lost_primary_id == 0;
	if (r->fenced)
		return false;

	/*
	 * With a synchronous set managed, only a primary of this node's term or
	 * a newer one (rule (h): it may count this node's acknowledgements);
	 * otherwise a node whose own elections raised its term would never
	 * stream from its primary again, and that primary never be re-elected
	 * by the nodes that stream through it
	 */
	return r->term >= st->f->term || st->f->sync_mode == SYNC_MODE_OFF;
}

/* ----------
 * Degraded monitoring: the upstream is lost; decide what to do
 * ----------
 */

/* a peer as dc_decide_failover() takes it */
static void
dc_peer_of(Step *st, const WkPeer *p, DcPeer *d)
{
	const WkNode *n = wk_node(st->f, p->id);
	int			lost = st->s->lost_primary_id;

	memset(d, 0, sizeof(*d));
	d->node_id = p->id;
	d->reachable = p->reachable;
	d->sees_lost_primary = p->reachable && p->primary_visible_known &&
		p->primary_visible && p->primary_node_id == lost;
	d->candidate = p->reachable && p->in_recovery && n != NULL &&
		n->type == WK_NODE_STANDBY && n->upstream == lost;
	d->automatic = p->automatic && !p->paused;
	d->priority = n ? n->priority : 0;
	d->lsn = p->lsn;
	d->timeline = p->timeline;
	d->settled = p->settled;
	d->sync = p->sync;
}

static void
sync_set_words(const DcSyncSet *s, char *buf, int len)
{
	int			used;
	int			i;

	used = snprintf(buf, len, "ANY %d (", s->quorum);
	for (i = 0; i < s->nmembers && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%d", i ? ", " : "", s->members[i]);
	if (used < len)
		snprintf(buf + used, len - used, ")");
}

/*
 * The primary is lost: stand, defer to a better candidate, or wait, as
 * dc_decide_failover() says from what this node and its peers know.
 */
static int
decide_failover(Step *st, const WkResult *r)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	DcPeer		peers[REPMGR_MAX_NODES];
	DcFailoverView view;
	DcFailoverVerdict verdict;
	const WkNode *lost = wk_node(f, s->lost_primary_id);
	char		set[WK_TEXT_LEN];
	int			n = 0;
	int			i;

	/*
	 * A node this node's copy of the metadata does not know sends it
	 * heartbeats, refused for their term, which is newer than any primary
	 * this node accepted: a primary registered and elected beyond what
	 * this node replayed (an old primary unregistered since has an older
	 * term).  Standing against it cannot win (it holds its lease) and
	 * keeps it from being re-elected with this node's vote, which would let
	 * this node accept its heartbeats again.
	 */
	if (f->refused_primary != 0 && wk_node(f, f->refused_primary) == NULL &&
		f->refused_term > f->heard_term &&
		f->refused_ago_ms < f->timing.silence_ms)
	{
		wk_say_reason(st, WK_LOG, "node %d, unknown to this node's copy of the metadata, sends heartbeats as a primary: not standing against it",
					  f->refused_primary);
		return EV_OK;
	}
	for (i = 0; i < r->npeers && n < REPMGR_MAX_NODES; i++)
		dc_peer_of(st, &r->peers[i], &peers[n++]);
	s->decision_max_term = wk_max_term(r);
	memset(&view, 0, sizeof(view));
	view.self_id = f->self_id;
	view.manual = f->manual;
	view.paused = f->paused;
	view.consensus = f->consensus;
	view.total = wk_voters(f);
	view.heard_ago_ms = f->heard_ago_ms;
	view.priority = wk_self(f)->priority;
	view.position = f->position;
	view.sync = f->sync;
	view.primary_lsn = f->heard_lsn;
	view.max_lag = f->max_lag;
	view.peers = peers;
	view.npeers = n;
	dc_decide_failover(&view, &f->timing, &verdict);
	if (verdict.sync != NULL)
		sync_set_words(verdict.sync, set, sizeof(set));

	switch (verdict.decision)
	{
		case DC_FO_STAND:
			/* rule (i): the election counts the votes against this set */
			memset(&s->election_sync, 0, sizeof(s->election_sync));
			if (verdict.sync != NULL)
				s->election_sync = *verdict.sync;
			return EV_CANDIDATE;
		case DC_FO_DEFER:
			s->follow_target = verdict.node;
			return EV_NOT_CANDIDATE;
		case DC_FO_MANUAL:
			wk_say_reason(st, WK_LOG, "repmgr.failover is manual: not promoting (degraded monitoring)");
			break;
		case DC_FO_PAUSED:
			wk_say_reason(st, WK_LOG, "this node is paused: not promoting (degraded monitoring)");
			break;
		case DC_FO_PRIMARY_SEEN:
			wk_say_reason(st, WK_LOG,
						  "node %d (\"%s\") can still see the primary node %d: not failing over (degraded monitoring)",
						  verdict.node, wk_name(f, verdict.node), s->lost_primary_id);
			break;
		case DC_FO_NO_QUORUM:
			wk_say_reason(st, WK_WARNING,
						  "only %d of %d nodes are visible from location \"%s\"; the primary's location is \"%s\" and a majority is %d: not promoting",
						  verdict.visible, view.total, wk_self(f)->location,
						  lost && lost->location ? lost->location : "?", view.total / 2 + 1);
			break;
		case DC_FO_LEASE_WAIT:
			wk_say_reason(st, WK_LOG,
						  "waiting for the lease of the primary to expire (%lld ms of %d ms without a primary's heartbeat)",
						  (long long) view.heard_ago_ms, f->timing.silence_ms);
			s->next_decision = f->now + verdict.wait_ms;
			break;
		case DC_FO_REPLAY_WAIT:
			wk_say_reason(st, WK_LOG, "this node is the best candidate; waiting for replay to apply the WAL it received");
			s->next_decision = f->now + 20;
			break;
		case DC_FO_SYNC_TOO_FEW:
			wk_say_reason(st, WK_WARNING,
						  "only %d of the %d members of the synchronous set %s (version %lld) are visible; %d are needed to be sure one holds every acknowledged commit: not promoting",
						  verdict.sync_seen, verdict.sync->nmembers, set,
						  (long long) verdict.sync->version, verdict.sync_needed);
			break;
		case DC_FO_SYNC_BEHIND:
			wk_say_reason(st, WK_WARNING,
						  "the best candidate of the synchronous set %s (version %lld), node %d, is behind a member that cannot be promoted (priority 0, manual or paused): not promoting",
						  set, (long long) verdict.sync->version, verdict.node);
			break;
		case DC_FO_SYNC_NO_MEMBER:
			wk_say_reason(st, WK_WARNING,
						  "no member of the synchronous set %s (version %lld) can be promoted (priority 0, manual, paused or on another timeline): not promoting",
						  set, (long long) verdict.sync->version);
			break;
		case DC_FO_TOO_FAR_BEHIND:
			wk_say_reason(st, WK_WARNING,
						  "the best candidate, node %d, is more than repmgr.failover_max_lag (%lld bytes) behind %X/%X, the last position the primary's heartbeat carried: not promoting",
						  verdict.node, (long long) f->max_lag, LSN_ARGS(view.primary_lsn));
			break;
		case DC_FO_NO_CANDIDATE:
			wk_say_reason(st, WK_WARNING, "no standby can be promoted (priority 0, manual or paused everywhere)");
			break;
		case DC_FO_COUNT:
			break;
	}
	return EV_OK;
}

/*
 * Does peer p stream from primary_id, directly or through standbys that
 * answered, none of them this node?  A standby cascading from this node
 * hears the same primary but would close a cycle.
 */
static bool
streams_from(const WkResult *r, const WkPeer *p, int primary_id, int self_id)
{
	int			hops;

	for (hops = 0; hops <= r->npeers; hops++)
	{
		if (p->upstream_id == primary_id)
			return true;
		if (p->upstream_id == 0 || p->upstream_id == self_id)
			return false;
		p = wk_find_peer(r, p->upstream_id);
		if (p == NULL || !p->reachable || !p->in_recovery)
			return false;
	}
	return false;
}

/*
 * A standby that streams from the primary it hears from, unknown here: the
 * reachable one furthest ahead.  NULL: none.
 */
static const WkPeer *
peer_following(const WkResult *r, int primary_id, int self_id)
{
	const WkPeer *best = NULL;
	int			i;

	for (i = 0; i < r->npeers; i++)
	{
		const WkPeer *p = &r->peers[i];

		if (p->reachable && p->in_recovery && p->primary_node_id == primary_id &&
			streams_from(r, p, primary_id, self_id) &&
			(best == NULL || p->lsn > best->lsn))
			best = p;
	}
	return best;
}

/* what the answers of a poll decide, in degraded monitoring */
static int
decide_degraded(Step *st, const WkResult *r)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	const WkPeer *primary;

	/* somebody already is the new primary */
	primary = new_primary_among(st, r);
	if (primary != NULL)
		return follow_event(st, primary, primary);

	/*
	 * The primary whose heartbeats this standby accepts is not in its copy
	 * of the catalog (its registration has not replayed here yet): stream
	 * from a standby that follows it, and the catalog comes with the WAL.
	 */
	if (s->role == WK_NODE_STANDBY && f->heard_primary != 0 &&
		wk_node(f, f->heard_primary) == NULL &&
		f->heard_ago_ms < f->timing.silence_ms)
	{
		const WkPeer *via = peer_following(r, f->heard_primary, f->self_id);

		if (via != NULL)
		{
			wk_say_reason(st, WK_LOG,
						  "node %d is primary but not registered in this node's copy of the catalog yet; following node %d, a standby of it",
						  f->heard_primary, via->id);
			return follow_event(st, via, NULL);
		}
	}

	/* a lost upstream that was not the primary: follow its upstream */
	if (s->lost_primary_id == 0 && s->role == WK_NODE_STANDBY)
	{
		const WkNode *up = wk_node(f, s->upstream_id);
		const WkPeer *next = up ? wk_find_peer(r, up->upstream) : NULL;
		const WkPeer *conflict;

		primary = wk_find_primary(f, r, &conflict);
		if (next == NULL || !next->reachable)
			next = primary;
		if (next != NULL && next->reachable)
		{
			wk_say_reason(st, WK_LOG, "upstream node %d is lost; following its upstream, node %d",
						  s->upstream_id, next->id);
			return follow_event(st, next, primary);
		}
		wk_say_reason(st, WK_LOG, "upstream is lost and no node to follow is reachable");
		return EV_OK;
	}

	/* from here: the primary is lost */
	if (s->role == WK_NODE_WITNESS)
	{
		char		seen[WK_TEXT_LEN];

		/* a witness waits for a new primary: say what it sees, on change */
		wk_describe_peers(f, r, seen, sizeof(seen));
		wk_say_reason(st, WK_LOG,
					  "witness: primary node %d is lost and no new primary is seen (%s)",
					  s->lost_primary_id, seen);
		/* its copy may not know the new primary: refresh it from a standby */
		if (f->now >= s->next_witness_copy &&
			(s->copy_source = wk_catalog_source(f, r)) != 0)
			return EV_COPY_DUE;
		return EV_OK;
	}
	return decide_failover(st, r);
}

int
observe_degraded(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	const WkNode *self = wk_self(f);
	const WkResult *r;
	int			ev;

	if (s->role == WK_NODE_STANDBY && !f->position.in_recovery)
		return EV_PROMOTED;
	if (self == NULL)
		return EV_NOT_READY;
	if ((ev = notice_event(st)) != EV_OK)
		return ev;

	/* our record names a new upstream: a follow made elsewhere (switchover) */
	if (self->upstream != 0 && self->upstream != s->upstream_id &&
		self->upstream != s->registry_upstream_seen && self->upstream != self->id)
		return EV_UPSTREAM_CHANGED;

	if ((r = wk_answers(st, FX_PROBE_BACK)) != NULL)
		return upstream_is_back(st, r) ? EV_UPSTREAM_OK : EV_POLL_DUE;
	if ((r = wk_answers(st, FX_POLL)) != NULL)
		return decide_degraded(st, r);

	if (f->now < s->next_decision)
		return EV_OK;
	s->next_decision = f->now + f->settings.monitor_interval_ms;

	/* the upstream is back? (not asked again right after the last attempt) */
	if (f->now - s->upstream_failed_at >= f->settings.reconnect_interval_ms)
		return EV_BACK_DUE;
	return EV_POLL_DUE;
}

/* ----------
 * Election
 * ----------
 */
void
act_election_begin(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;

	/*
	 * Above this node's term, the newest primary it heard, every term the
	 * decision's poll of the peers saw just now, and every term the answers
	 * of its earlier vote rounds gave: a term is won once.
	 */
	s->election_term = f->term;
	if (f->heard_term > s->election_term)
		s->election_term = f->heard_term;
	if (s->decision_max_term > s->election_term)
		s->election_term = s->decision_max_term;
	if (s->votes_max_term > s->election_term)
		s->election_term = s->votes_max_term;
	s->election_term++;
	s->wait_deadline = f->now + f->timing.election_timeout_ms;
	s->election_round = 0;
	s->own_vote_pending = false;
	s->elections++;
	wk_log(st, WK_LOG, "setting voting term to %lld", (long long) s->election_term);
	wk_log(st, WK_LOG, "node %d is candidate", f->self_id);
}

static void
election_request(Step *st, DcVoteRequest *req)
{
	memset(req, 0, sizeof(*req));
	req->term = st->s->election_term;
	req->candidate = st->f->self_id;
	req->candidate_lsn = st->f->lsn;
	req->candidate_timeline = st->f->position.timeline;
}

/* our own vote first, by the voters' rules and durably: one per term */
void
act_vote_self(Step *st)
{
	WkFx	   *fx = wk_fx(st, FX_VOTE_SELF);

	election_request(st, &fx->req);
	wk_round(st, FX_VOTE_SELF);
}

/*
 * Each voter's answer is logged in the first round, then on change.  The
 * first round uses the links the decision's poll has just opened (or
 * opens fresh ones, should that poll be older than an interval); the
 * later rounds and, once elected, the first heartbeats use them too:
 * none is left from long ago.
 */
void
act_request_votes(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	WkFx	   *fx;

	if (s->election_round == 0 &&
		f->now - s->peer_links_opened >= f->settings.monitor_interval_ms)
		wk_fx(st, FX_CLOSE_PEERS);
	fx = wk_fx(st, FX_VOTES);
	election_request(st, &fx->req);
	fx->node = s->lost_primary_id;
	fx->ms = f->settings.connect_timeout_ms;
	fx->flag = (s->election_round++ == 0);
	wk_round(st, FX_VOTES);
}

void
act_validate(Step *st)
{
	wk_fx(st, FX_VALIDATE)->node = st->f->self_id;
	wk_round(st, FX_VALIDATE);
}

static int
election_won(Step *st)
{
	WkFx	   *fx = wk_fx_text(st, FX_LOG, "this node is the winner, will now promote self and inform other nodes");

	fx->level = WK_LOG;
	snprintf(fx->detail, sizeof(fx->detail), "%d of %d votes in term %lld.",
			 st->s->votes_won, wk_voters(st->f), (long long) st->s->election_term);
	return EV_ELECTION_WON;
}

/* the answers of a vote round */
static int
count_votes(Step *st, const WkResult *r)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	int			total = wk_voters(f);
	int			votes = 1 + r->granted;

	/* a next election stands above every term the answers gave */
	if (r->max_term > s->votes_max_term)
		s->votes_max_term = r->max_term;
	if (s->own_vote_pending)
		return EV_OK;			/* asked so that they stop too; ask again */
	if (!dc_has_quorum(votes, total))
	{
		/* others may not have confirmed the loss yet: ask again shortly */
		if (r->may_change && f->now < s->wait_deadline)
		{
			if (s->election_round == 1)
				wk_log(st, WK_LOG, "%d of %d votes; asking again until %d ms have passed",
					   votes, total, f->timing.election_timeout_ms);
			return EV_OK;
		}
		wk_log(st, WK_LOG, "%d of %d votes in term %lld: not elected",
			   votes, total, (long long) s->election_term);
		return EV_ELECTION_LOST;
	}

	/*
	 * (i): with a synchronous set in force, the votes (this node's included)
	 * must come from dc_sync_needed() members, one of which holds every
	 * acknowledged commit and stopped receiving before it voted (h); this
	 * node is not behind it.
	 */
	if (dc_sync_needed(&s->election_sync) > 0 &&
		!dc_sync_votes_cover(&s->election_sync, r->ids, r->nids))
	{
		char		set[WK_TEXT_LEN];
		char		why[WK_TEXT_LEN];

		sync_set_words(&s->election_sync, set, sizeof(set));
		snprintf(why, sizeof(why),
				 "elected in term %lld by %d of %d votes, but fewer than %d of them come from members of the synchronous set %s (version %lld): not promoting",
				 (long long) s->election_term, votes, total,
				 dc_sync_needed(&s->election_sync), set,
				 (long long) s->election_sync.version);
		if (f->now < s->wait_deadline)
		{
			wk_say_reason(st, WK_LOG, "%s; asking again", why);
			return EV_OK;
		}
		wk_say_reason(st, WK_WARNING, "%s", why);
		return EV_ELECTION_LOST;
	}
	s->votes_won = votes;
	if (f->validation_command)
		return EV_VOTED;
	return election_won(st);
}

int
observe_election(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	const WkResult *r;
	int			ev;

	if (!f->position.in_recovery)
		return EV_PROMOTED;
	if ((ev = notice_event(st)) != EV_OK)
		return ev;

	if ((r = wk_answers(st, FX_VOTE_SELF)) != NULL)
	{
		s->own_vote_pending = (r->vote == DC_DENY_RECEIVING && f->now < s->wait_deadline);
		if (s->own_vote_pending)
		{
			/*
			 * (h): the worker stops its own WAL receiver first (walstop.c);
			 * meanwhile the others are asked, so that they stop theirs too
			 */
			wk_say_reason(st, WK_LOG, "candidate in term %lld: %s",
						  (long long) s->election_term, dc_vote_name(r->vote));
		}
		else if (!dc_vote_granted(r->vote))
		{
			wk_log(st, WK_LOG, "cannot stand in term %lld: %s",
				   (long long) s->election_term, r->error ? r->error : dc_vote_name(r->vote));
			return EV_ELECTION_LOST;
		}
		return EV_VOTES_DUE;
	}
	if ((r = wk_answers(st, FX_VOTES)) != NULL)
		return count_votes(st, r);
	if ((r = wk_answers(st, FX_VALIDATE)) != NULL)
	{
		if (r->rc != 0)
		{
			wk_log(st, WK_WARNING, "failover_validation_command exited with %d: not promoting",
				   r->rc);
			return EV_ELECTION_LOST;
		}
		return election_won(st);
	}
	return EV_OWN_VOTE_DUE;
}

void
act_election_lost(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	int			spread = f->settings.reconnect_interval_ms > 1 ? f->settings.reconnect_interval_ms : 1;

	/* a random pause so that two candidates do not collide again */
	s->next_decision = f->now + f->settings.monitor_interval_ms +
		(dc_ms) (wk_random(s) % (uint64_t) spread);
	s->reason[0] = '\0';
}

void
act_wait_primary_begin(Step *st)
{
	WkState    *s = st->s;

	s->wait_deadline = st->f->now + st->f->timing.election_timeout_ms;
	s->next_decision = 0;
	wk_log(st, WK_LOG, "node %d is the best candidate; waiting for it to be promoted",
		   s->follow_target);
}

int
observe_waiting(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	const WkResult *r;
	int			ev;

	if (s->role == WK_NODE_STANDBY && !f->position.in_recovery)
		return EV_PROMOTED;
	if ((ev = notice_event(st)) != EV_OK)
		return ev;
	if ((r = wk_answers(st, FX_PROBE_BACK)) != NULL)
		return upstream_is_back(st, r) ? EV_UPSTREAM_OK : EV_POLL_DUE;
	if ((r = wk_answers(st, FX_POLL)) != NULL)
	{
		const WkPeer *primary = new_primary_among(st, r);

		return primary != NULL ? follow_event(st, primary, primary) : EV_OK;
	}
	if (f->now >= s->wait_deadline)
	{
		wk_log(st, WK_LOG, "no new primary within %d ms; deciding again",
			   f->timing.election_timeout_ms);
		s->next_decision = 0;
		return EV_TIMEOUT;
	}
	if (f->now < s->next_decision)
		return EV_OK;
	s->next_decision = f->now + (f->settings.monitor_interval_ms < 250 ?
								 f->settings.monitor_interval_ms : 250);
	return EV_BACK_DUE;
}

/* ----------
 * Promote and follow
 * ----------
 */
/*
 * The winner promotes.  Its lease is armed, empty and durably, before the
 * server can leave recovery: it commits from its first heartbeat round
 * that enough nodes acknowledge, never before, with the built-in
 * promotion or a promote_command alike.  A command runs in the
 * background (its own writes, "repmgr standby promote", wait for that
 * first round, which only this worker can run), and the worker waits
 * here until the server has left recovery.
 */
#define PROMOTE_WAIT_MS 60000

void
act_promote(Step *st)
{
	WkState    *s = st->s;
	WkFx	   *fx;

	wk_log(st, WK_LOG, "promoting standby");
	fx = wk_fx(st, FX_PROMOTE);
	fx->term = s->election_term;
	fx->node2 = s->lost_primary_id;
	fx->flag = st->f->promote_command;
	/* a new term begins as a change of the membership: strict */
	fx->voters = lease_enforced(st->f, true) ? wk_voters(st->f) : 0;
	fx->ms = PROMOTE_WAIT_MS;
	s->wait_deadline = st->f->now + PROMOTE_WAIT_MS;
}

int
observe_promoting(Step *st)
{
	if (!st->f->position.in_recovery)
		return EV_PROMOTED;
	if (st->f->now >= st->s->wait_deadline)
		return EV_TIMEOUT;
	return EV_OK;
}

/* out of recovery: the metadata, then the lease, then the notices */
void
act_promoted(Step *st)
{
	WkState    *s = st->s;
	WkFx	   *fx = wk_fx(st, FX_PROMOTE_RECORD);

	fx->term = s->election_term;
	fx->node2 = s->lost_primary_id;
	fx->flag = st->f->promote_command;
	s->notify_term = s->election_term;
	s->notify_skip = s->lost_primary_id;
	s->promotions++;
	s->primary_lost = false;
	s->primary_visible = true;
	s->primary_node_id = st->f->self_id;
	act_start_primary(st);
}

void
act_promote_failed(Step *st)
{
	WkFx	   *fx = wk_fx_text(st, FX_LOG, "this node did not leave recovery within %d ms of its promotion",
								PROMOTE_WAIT_MS);

	fx->level = WK_WARNING;
	fx->name = "The server log, and the output of the promote_command if one is set, say why.";
	wk_fx_text(st, FX_ERROR, "not promoted within %d ms", PROMOTE_WAIT_MS);
	wk_event(st, "repmgrd_failover_promote", false,
			 "node %d was elected in term %lld but did not leave recovery within %d ms",
			 st->f->self_id, (long long) st->s->election_term, PROMOTE_WAIT_MS);
	st->s->next_decision = 0;
}

void
act_follow(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	const WkNode *self = wk_self(f);
	const WkNode *target = wk_node(f, s->follow_target);
	const WkNode *primary = wk_node(f, s->follow_primary);

	if (target == NULL)
	{
		wk_say_reason(st, WK_WARNING, "node %d to follow is not registered", s->follow_target);
		return;
	}
	if (primary == NULL)
		primary = target;

	if (s->role == WK_NODE_WITNESS)
	{
		wk_log(st, WK_LOG, "witness now monitoring primary node %d", target->id);
		wk_fx(st, FX_CLOSE_UPSTREAM);
		s->upstream_id = target->id;
		wk_fx(st, FX_COPY_METADATA)->node = target->id;
	}
	else if (self != NULL && f->walreceiver_streaming &&
			 (f->streams_from == target->id ||
			  (f->streams_from == 0 && self->upstream == target->id)))
	{
		/*
		 * a follow made elsewhere (repmgr.follow(), the command line): the
		 * WAL receiver streams from the target, by primary_conninfo (or, if
		 * that is not written as a follow writes it, by the record); not
		 * a record that names it while the stream comes from another node
		 */
		wk_log(st, WK_LOG, "node %d already follows node %d", f->self_id, target->id);
		s->upstream_id = target->id;
	}
	else
	{
		WkFx	   *fx;

		wk_log(st, WK_LOG, "node %d is the new primary, attempting to follow it", target->id);
		fx = wk_fx(st, FX_FOLLOW);
		fx->node = target->id;
		fx->node2 = primary->id;
		fx->flag = f->follow_command;
		wk_round(st, FX_FOLLOW);
		s->follows++;
		s->upstream_id = target->id;
	}
	if (s->follow_term > f->term)
		wk_fx(st, FX_OBSERVE_TERM)->term = s->follow_term;

	wk_fx(st, FX_CLOSE_UPSTREAM);
	wk_fx(st, FX_CLOSE_PEERS);	/* a standby holds none */
	s->next_check = 0;
	s->attempts = 0;
	s->lost_primary_id = 0;
	s->primary_lost = false;
	s->primary_visible = true;
	s->upstream_node_id = s->upstream_id;
	s->primary_node_id = primary->id;
	/* registry_upstream_seen stays: our record changes when it replicates */
	s->reason[0] = '\0';
}

void
act_cannot_follow(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	WkFx	   *fx = wk_fx_text(st, FX_LOG, "this node cannot follow node %d", s->follow_target);

	fx->level = WK_WARNING;
	snprintf(fx->detail, sizeof(fx->detail), "%s.", s->reason);
	fx->name = "Rejoin it with \"repmgr node rejoin --force-rewind\".";
	wk_fx_text(st, FX_ERROR, "cannot follow node %d: %s", s->follow_target, s->reason);
	wk_event(st, "standby_follow", false, "node %d cannot follow node %d: %s",
			 f->self_id, s->follow_target, s->reason);
}

/*
 * Nothing to do but wait for "repmgr node rejoin", which restarts the
 * server (and so the worker), or for a promotion.
 */
int
observe_cannot_follow(Step *st)
{
	if (!st->f->position.in_recovery)
		return EV_PROMOTED;
	if (wk_self(st->f) == NULL)
		return EV_NOT_READY;
	return EV_OK;
}
