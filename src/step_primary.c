/*-------------------------------------------------------------------------
 *
 * step_primary.c
 *	  The worker's pure step on a primary: heartbeat rounds (each
 *	  acknowledgement renews the write lease, executed by lease.c with
 *	  dc_lease_expiry()), the fence when the lease is lost or a newer
 *	  primary exists, the re-election of a primary whose voters moved to a
 *	  newer term that elected nobody, and its standbys and synchronous set.
 *
 *-------------------------------------------------------------------------
 */
#include "step_int.h"

#include <stdio.h>
#include <string.h>

/* must a primary of total active nodes hold a lease to commit? */
bool
lease_enforced(const WkFacts *f, bool strict)
{
	return f->fence && !f->manual && dc_lease_acks_needed(wk_voters(f), strict) > 0;
}

/* ----------
 * The membership the lease counts (decide.c, "Membership")
 * ----------
 */

/* a digest of the voting members (every registered node) */
static uint64_t
members_digest(const WkFacts *f)
{
	uint64_t	d = (uint64_t) f->nnodes;
	int			i;

	for (i = 0; i < f->nnodes; i++)
	{
		uint64_t	x = (uint64_t) f->nodes[i].id * UINT64_C(0x9E3779B97F4A7C15);

		x ^= x >> 31;
		d += x * UINT64_C(0xBF58476D1CE4E5B9);	/* order does not matter */
	}
	return d;
}

/*
 * Could the nodes of this membership elect a primary without this one?
 * Not with two nodes or fewer (a strict majority of them includes it),
 * nor without a standby to stand.
 */
static bool
members_can_elect(const WkFacts *f)
{
	int			i;

	if (wk_voters(f) < 3)
		return false;
	for (i = 0; i < f->nnodes; i++)
		if (f->nodes[i].id != f->self_id && f->nodes[i].type == WK_NODE_STANDBY)
			return true;
	return false;
}

/*
 * What the membership asks of a primary now: a change to begin (or, for a
 * membership that could not elect without it, to take as it is), a
 * claim to end (its change is seen, or its transaction ended without
 * one), or a change that reached a majority.  EV_OK: nothing.
 */
static int
membership_event(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	bool		changed = s->members != members_digest(f);

	if (!s->transition && changed)
		return EV_MEMBERSHIP;
	if (f->membership_claim && (changed || f->claim_ended))
		return EV_MEMBERSHIP;
	/*
	 * enough nodes refuse a candidate behind the change: registered
	 * standbys that stream from it and flushed it (d), and witnesses that
	 * acknowledged a heartbeat that told of it; and, while any standby
	 * streams from it, at least one of them has it, so that a node that
	 * can be elected under the new membership survives this primary
	 * (witnesses alone would refuse every candidate: none has the change)
	 */
	if (s->transition &&
		s->downstream_granted + s->witness_granted >= wk_voters(f) / 2 &&
		(s->downstream_granted > 0 || s->downstream_streaming == 0))
		return EV_MEMBERS_REPLICATED;
	return EV_OK;
}

/*
 * The membership changed.  If the one before could elect a primary
 * without this one, some node may still count with that one: until the
 * change has reached a majority, the lease needs a strict majority (and
 * the next change waits: membership_change_begin()).  A claim ends here:
 * the lease counted it until now, the transition from now on.
 */
void
act_membership(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	bool		changed = s->members != members_digest(f);

	if (!s->transition && changed)
	{
		if (!s->members_elect)
		{
			s->members = members_digest(f);
			s->members_elect = members_can_elect(f);
		}
		else
		{
			s->transition = true;
			/* the end of the change's commit record, when known */
			s->change_lsn = f->claim_commit_lsn != 0 && f->claim_commit_lsn <= f->lsn ?
				f->claim_commit_lsn : f->lsn;
			s->downstream_granted = 0;
			s->downstream_streaming = -1;	/* not looked yet */
			s->witness_granted = 0;
			wk_fx(st, FX_MEMBERSHIP)->flag = true;
			wk_log(st, WK_LOG, "the membership changed (%d nodes): the lease counts a strict majority until the change reaches a majority",
				   f->nnodes);
		}
	}
	if (f->membership_claim && (changed || f->claim_ended))
		wk_fx(st, FX_END_CLAIM);
}

/*
 * Registered standbys that stream from this primary flushed the change:
 * enough of them (with this primary, a strict majority), and no election
 * without it can use the membership before the change any more.
 */
void
act_members_replicated(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;

	WkFx	   *fx;

	s->transition = false;
	s->members = members_digest(f);
	s->members_elect = members_can_elect(f);
	fx = wk_fx(st, FX_MEMBERSHIP);
	fx->flag = false;
	fx->voters = lease_enforced(f, false) ? wk_voters(f) : 0;
	if (f->nnodes >= 3)
		wk_log(st, WK_LOG, "the membership of %d nodes has reached a majority: the lease counts the usual majority",
			   f->nnodes);
}

void
act_heartbeat_round(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	WkFx	   *fx;

	s->next_heartbeat = f->now + f->timing.heartbeat_interval_ms;
	fx = wk_fx(st, FX_HEARTBEATS);
	fx->term = f->term;
	fx->flag = lease_enforced(f, s->transition);
	fx->voters = fx->flag ? wk_voters(f) : 0;
	fx->strict = s->transition;
	/* a witness refuses a candidate without it */
	fx->mark.lsn = s->change_lsn;
	fx->mark.timeline = f->position.timeline;
	fx->mark.timeline_begin = f->position.timeline_begin;
	fx->mark.term = f->term;
	s->hb_round_lsn = s->change_lsn;
	fx->ms = f->timing.heartbeat_timeout_ms;
	wk_round(st, FX_HEARTBEATS);
	/* a new primary: the notices once its first round has run */
	if (s->notify_term != 0)
	{
		fx = wk_fx(st, FX_NOTIFY);
		fx->term = s->notify_term;
		fx->node = s->notify_skip;
		s->notify_term = 0;
	}
}

/*
 * The answers of a heartbeat round.  A refusal for a newer term by a
 * running primary: superseded.  Refusals by voters of a newer term (an
 * election that elected nobody): they acknowledge nothing of this primary
 * until it is re-elected; once that election is certainly over (an
 * election timeout after the first refusal), it stands for re-election in
 * a term above every term seen, by the voters' own rules.  A term is
 * never taken without winning it: two primaries that both took the newer
 * term would both be acknowledged.
 */
static int
read_heartbeats(Step *st, const WkResult *r, bool *superseded)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	int64_t		newer = 0;
	int			i;

	*superseded = false;
	/* the witnesses that know the change (their votes then need it) */
	if (s->transition && s->hb_round_lsn == s->change_lsn)
		s->witness_granted = 0;
	for (i = 0; i < r->nhb; i++)
	{
		WkPeerMem  *m = wk_peer_mem(s, r->hb_node[i]);
		const WkNode *node = wk_node(f, r->hb_node[i]);

		switch (r->hb_verdict[i])
		{
			case DC_HB_ACK:
				m->rejected_since = 0;
				if (s->transition && s->hb_round_lsn == s->change_lsn &&
					node != NULL && node->type == WK_NODE_WITNESS)
					s->witness_granted++;
				break;
			case DC_HB_SUPERSEDED:
				*superseded = true;
				if (r->hb_term[i] > newer)
					newer = r->hb_term[i];
				s->follow_target = r->hb_node[i];
				break;
			case DC_HB_VOTED_NEWER:
				/* it voted in a newer term; until that elects somebody, no ack */
				if (m->rejected_since == 0)
					m->rejected_since = r->hb_sent;
				if (r->hb_term[i] > newer)
					newer = r->hb_term[i];
				break;
			default:
				break;
		}
	}
	s->superseding_term = newer;
	if (*superseded || newer <= f->term || f->fenced)
		return EV_OK;

	/*
	 * A re-election round sends no heartbeat: while the lease holds, only
	 * if it outlasts the round and the heartbeat round after it (a round
	 * that waited its whole deadline for a silent node leaves less; the
	 * next round decides).  A lease lost has nothing to keep.
	 */
	if (f->lease_left_ms > 0 &&
		f->lease_left_ms < f->timing.heartbeat_timeout_ms + f->timing.heartbeat_interval_ms)
		return EV_OK;
	for (i = 0; i < s->npeers; i++)
		if (s->peers[i].rejected_since != 0 &&
			r->hb_sent - s->peers[i].rejected_since < f->timing.election_timeout_ms)
			return EV_OK;

	/*
	 * No poll first: it would wait connect_timeout for a node that does not
	 * answer, with no heartbeat meanwhile, and the lease would lapse (sim/sim
	 * --reelect-poll).  The vote round needs none: a running primary and a
	 * voter that heard another primary within the silence refuse, and a
	 * voter of a newer term refuses too and says so in its next heartbeat
	 * reply, for the next attempt.
	 */
	s->reelect_term = newer;
	if (f->term > s->reelect_term)
		s->reelect_term = f->term;
	if (f->voted_term > s->reelect_term)
		s->reelect_term = f->voted_term;
	if (s->votes_max_term > s->reelect_term)
		s->reelect_term = s->votes_max_term;
	s->reelect_term++;
	return EV_REELECT;
}

void
act_reelection_round(Step *st)
{
	WkFx	   *fx = wk_fx(st, FX_VOTES);

	memset(&fx->req, 0, sizeof(fx->req));
	fx->req.term = st->s->reelect_term;
	fx->req.candidate = st->f->self_id;
	/* a follower may have received more than the last heartbeat's position */
	fx->req.candidate_lsn = st->f->lsn;
	fx->req.candidate_timeline = st->f->position.timeline;
	/* as short as a heartbeat round, so the lease does not lapse meanwhile */
	fx->ms = st->f->timing.heartbeat_timeout_ms;
	fx->flag = true;
	wk_round(st, FX_VOTES);
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
reelection_covers(Step *st, const WkResult *r)
{
	const WkFacts *f = st->f;
	const DcSyncSet *set = &f->sync;
	int			ids[2 * REPMGR_MAX_NODES + 1];
	int			n = 0;
	int			i;

	if (!f->sync_exists || dc_sync_needed(set) == 0 || f->sync_primary_of_set)
		return true;
	for (i = 0; i < r->nids; i++)
		ids[n++] = r->ids[i];
	for (i = 0; i < r->nsame_timeline; i++)
	{
		int			j;

		for (j = 0; j < n && ids[j] != r->same_timeline[i]; j++)
			;
		if (j == n)
			ids[n++] = r->same_timeline[i]; /* not counted yet */
	}
	if (dc_sync_votes_cover(set, ids, n))
		return true;
	wk_fx_text(st, FX_ERROR,
			   "re-elected by a majority, but fewer than %d members of the synchronous set (version %lld, published by node %d) voted or follow this primary: not taking the term",
			   dc_sync_needed(set), (long long) set->version, set->primary);
	wk_log(st, WK_LOG,
		   "re-elected by a majority, but fewer than %d members of the synchronous set (version %lld, published by node %d) voted or follow this primary: not taking the term",
		   dc_sync_needed(set), (long long) set->version, set->primary);
	return false;
}

/* the answers of the re-election's vote round */
static int
count_reelection(Step *st, const WkResult *r)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	int			total = wk_voters(f);
	int			votes = 1 + r->granted;
	int			i;

	if (r->max_term > s->votes_max_term)
		s->votes_max_term = r->max_term;
	/* the next attempt after another election timeout */
	for (i = 0; i < s->npeers; i++)
		if (s->peers[i].rejected_since != 0)
			s->peers[i].rejected_since = f->now;
	if (!dc_has_quorum(votes, total))
	{
		wk_log(st, WK_LOG,
			   "the election of term %lld produced no primary; this primary was not re-elected in term %lld (%d of %d votes)",
			   (long long) s->superseding_term, (long long) s->reelect_term, votes, total);
		s->reelect_term = 0;
		return EV_OK;
	}
	if (!reelection_covers(st, r))
	{
		s->reelect_term = 0;
		return EV_OK;
	}
	return EV_REELECTED;
}

/*
 * Take the term won, durably, unless a newer term or another vote in it
 * came first; then the notices.  Its own vote is written only now: a
 * running primary grants no vote to another candidate, so it cannot vote
 * twice in the term, and a term lost must not become the term of its
 * heartbeats.
 */
void
act_take_term(Step *st)
{
	wk_fx(st, FX_OWN_WIN)->term = st->s->reelect_term;
	wk_round(st, FX_OWN_WIN);
	wk_fx(st, FX_NOTIFY)->term = st->s->reelect_term;
	st->p->fx[st->p->nfx - 1].flag = true;	/* only if the term was taken */
}

/* a decision on the answers the primary's last round brought */
static int
read_primary_round(Step *st, bool *superseded)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	const WkResult *r;

	*superseded = false;
	/*
	 * A primary of a newer term sends this one its heartbeats: one whose
	 * copy of the metadata does not know this node never asks it, and
	 * learns nothing from this node's refusals, so this node must (else
	 * both keep failing re-elections against each other, each counting
	 * its own members: sim/sim --seed 14505 --aim --cascade --firewall)
	 */
	if (f->refused_primary != 0 && f->refused_primary != f->self_id &&
		f->refused_term > f->term && f->refused_ago_ms < f->timing.silence_ms &&
		!f->fenced)
	{
		*superseded = true;
		s->follow_target = f->refused_primary;
		s->superseding_term = f->refused_term;
		return EV_OK;
	}
	if ((r = wk_answers(st, FX_HEARTBEATS)) != NULL)
		return read_heartbeats(st, r, superseded);
	if ((r = wk_answers(st, FX_VOTES)) != NULL && s->reelect_term != 0)
		return count_reelection(st, r);
	if ((r = wk_answers(st, FX_OWN_WIN)) != NULL && s->reelect_term != 0)
	{
		if (r->ok)
			wk_log(st, WK_LOG,
				   "the election of term %lld produced no primary; this primary was re-elected in term %lld",
				   (long long) s->superseding_term, (long long) s->reelect_term);
		s->reelect_term = 0;
	}
	return EV_OK;
}

int
observe_primary(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	const WkResult *r;
	bool		superseded;
	bool		round;
	int			ev;

	if (f->position.in_recovery)
		return EV_DEMOTED;
	if (wk_self(f) == NULL)
		return EV_NOT_READY;
	round = wk_answers(st, FX_HEARTBEATS) != NULL;
	if ((ev = read_primary_round(st, &superseded)) != EV_OK)
		return ev;
	if (superseded)
		return EV_SUPERSEDED;
	if (round && !f->writes_allowed)
		return EV_LEASE_LOST;
	if ((r = wk_answers(st, FX_DOWNSTREAM)) != NULL)
	{
		s->downstream_granted = r->granted;
		s->downstream_streaming = r->streaming;
		if (r->ok)
			return EV_SYNC_CHANGE;
	}
	if ((ev = membership_event(st)) != EV_OK)
		return ev;
	/*
	 * Its record does not say primary: a promotion whose record was lost (a
	 * crash between the promotion and the record).  Written under the
	 * lease only: a majority acknowledged this primary's term.
	 */
	if (f->writes_allowed && !f->paused && f->now >= s->next_record_repair &&
		(wk_self(f)->type != WK_NODE_PRIMARY || !wk_self(f)->active))
		return EV_RECORD_STALE;
	/*
	 * Heartbeats run faster than monitoring: downstream at its own pace, a
	 * quick local look that goes first when due (a round that waits its
	 * whole deadline for a silent node would never leave it a turn)
	 */
	if (f->now >= s->next_heartbeat && !f->writes_allowed)
		return EV_HEARTBEAT_DUE;	/* a new primary: its lease first */
	if (f->now >= s->next_downstream)
		return EV_DOWNSTREAM_DUE;
	if (f->now >= s->next_heartbeat)
		return EV_HEARTBEAT_DUE;
	return EV_OK;
}

/* record the promotion of this primary, its first record lost */
void
act_primary_record(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	const WkNode *old = wk_active_primary(f);
	WkFx	   *fx;

	s->next_record_repair = f->now + f->settings.monitor_interval_ms;
	wk_log(st, WK_WARNING, "the metadata does not record node %d as the primary: recording its promotion in term %lld",
		   f->self_id, (long long) f->term);
	fx = wk_fx(st, FX_PROMOTE_RECORD);
	fx->term = f->term;
	fx->node2 = old != NULL && old->id != f->self_id ? old->id : 0;
	fx->flag = false;
}

void
act_look_downstream(Step *st)
{
	WkFx	   *fx = wk_fx(st, FX_DOWNSTREAM);

	st->s->next_downstream = st->f->now + st->f->settings.monitor_interval_ms;
	fx->lsn = st->s->change_lsn;
	fx->flag = st->s->sync_fresh;
	st->s->sync_fresh = false;
	wk_round(st, FX_DOWNSTREAM);
}

void
act_sync_apply(Step *st)
{
	wk_fx(st, FX_SYNC_APPLY);
}

/* ----------
 * The fence
 * ----------
 */
void
act_fence_lease(Step *st)
{
	const WkFacts *f = st->f;
	WkFx	   *fx = wk_fx_text(st, FX_LOG, "this primary cannot reach enough nodes to keep its lease; refusing writes");

	fx->level = WK_WARNING;
	snprintf(fx->detail, sizeof(fx->detail),
			 "No heartbeat was acknowledged by half of the %d nodes within %d ms.",
			 wk_voters(f), f->timing.lease_ms);
	wk_fx_text(st, FX_ERROR, "fenced: lost contact with the majority of the cluster");
	wk_event(st, "repmgrd_fence", true,
			 "primary node %d lost contact with the majority of the cluster; writes refused",
			 f->self_id);
}

void
act_fence_superseded(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	WkFx	   *fx;

	if (f->fenced)
		return;
	wk_fx(st, FX_FENCE)->term = s->superseding_term;
	fx = wk_fx_text(st, FX_LOG, "node %d is primary in term %lld; this node is fenced until it rejoins",
					s->follow_target, (long long) s->superseding_term);
	fx->level = WK_WARNING;
	fx->name = "Run \"repmgr node rejoin\" on this node.";
	wk_fx_text(st, FX_ERROR, "fenced: node %d is the newer primary", s->follow_target);
	wk_event(st, "repmgrd_fence", true,
			 "node %d found node %d primary in term %lld; fenced until it rejoins",
			 f->self_id, s->follow_target, (long long) s->superseding_term);
}

void
act_unfence(Step *st)
{
	wk_log(st, WK_LOG, "the majority of the cluster is reachable again; accepting writes");
	wk_event(st, "repmgrd_unfence", true,
			 "primary node %d reached the majority of the cluster again; writes accepted",
			 st->f->self_id);
}

void
act_clear_fence(Step *st)
{
	wk_fx(st, FX_FENCE)->term = 0;
	act_start_standby(st);
}

int
observe_fenced(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	bool		superseded;
	bool		round;
	int			ev;

	if (f->position.in_recovery)
		return EV_DEMOTED;
	if (wk_self(f) == NULL)
		return EV_NOT_READY;
	round = wk_answers(st, FX_HEARTBEATS) != NULL;
	if ((ev = read_primary_round(st, &superseded)) != EV_OK)
		return ev;
	if (superseded && !f->fenced)
		return EV_SUPERSEDED;
	if (round && !f->fenced && f->writes_allowed)
		return EV_LEASE_OK;
	if ((ev = membership_event(st)) != EV_OK)
		return ev;
	if (f->now >= s->next_heartbeat)
		return EV_HEARTBEAT_DUE;
	return EV_OK;
}
