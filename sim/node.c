/*-------------------------------------------------------------------------
 *
 * node.c
 *	  A simulated node: its server (role, WAL, durable term and vote, the
 *	  answers of its SQL functions heartbeat(), request_vote(),
 *	  notify_follow(), node_state()), its walreceiver, and its repmgr
 *	  worker, sequenced as src/monitor.c and src/failover.c do:
 *
 *	  monitoring -> suspect (reconnect_attempts probes, reconnect_interval
 *	  apart) -> degraded (poll every node, dc_decide_failover) ->
 *	  election (dc_decide_vote on every voter) -> promoting (takes time)
 *	  -> primary (heartbeat rounds, dc_heartbeat_verdict, dc_lease_expiry)
 *	  -> fenced; or waiting -> follow (dc_decide_follow) / cannot follow.
 *
 * Every decision is a call of a dc_* function; the legacy switches only
 * change what is passed in (or when the lease is published), which is how
 * the old code differed.
 *
 *-------------------------------------------------------------------------
 */
#include "sim.h"

#include <string.h>

#define LEG(x) ((W.legacy & (x)) != 0)

static void worker_step(Node *n);
static void round_done(Node *n);

/* ----------
 * Helpers
 * ----------
 */
static double
now_local(const Node *n)
{
	return local_ms(n, W.now);
}

static bool
running_primary(const Node *n)
{
	return !n->in_recovery && n->role != ROLE_WITNESS;
}

void
schedule_tick(Node *n, double delay_ms)
{
	Event	   *e;

	if (delay_ms < 0)
		delay_ms = 0;
	e = ev_new(real_at_local(n, now_local(n) + delay_ms), E_TICK, n->id);
	e->arg = ++n->tick_gen;
	ev_push(e);
}

static void
set_state(Node *n, WState s)
{
	if (n->ws != s)
		trace(1, "node %d: %s -> %s (term %lld)", n->id, ws_name(n->ws),
			  ws_name(s), (long long) n->term);
	n->ws = s;
}

void
position_of(const Node *n, DcPosition *p)
{
	memset(p, 0, sizeof(*p));
	p->in_recovery = n->in_recovery;
	p->timeline = n->tl;
	p->write_lsn = n->write_lsn;
	p->replay_lsn = n->replay;
	p->receive_lsn = n->recv;
	p->settled = n->replay >= (n->recv / REC) * REC;
	if (LEG(LEGACY_POSITION) && n->in_recovery)
		p->settled = false;		/* old: max(received, replayed) always */
}

/* the position a node advertises (node_state, request_vote) */
static dc_lsn
advertised_lsn(const Node *n)
{
	DcPosition	p;

	position_of(n, &p);
	return dc_position_lsn(&p);
}

/* the silence a node reports to dc_decide_vote / dc_decide_failover */
static dc_ms
heard_ago(const Node *n)
{
	if (LEG(LEGACY_SILENCE) && n->lost_definitive)
		return DC_NEVER;		/* old: a refused connection proved the loss */
	return (dc_ms) (now_local(n) - n->heard_at);
}

/* publish a lease expiry (local ms), and when it ends in real time */
static void
set_lease(Node *n, double expiry)
{
	n->lease_expiry = expiry;
	if (expiry <= 0)
		n->lease_real = 0;
	else if (expiry >= (double) DC_NEVER)
		n->lease_real = INT64_MAX;
	else
	{
		/* the first real microsecond at which local_ms() >= expiry */
		simtime		r = (simtime) ((expiry - n->clk_off) / n->rate * 1000.0);

		while (local_ms(n, r) >= expiry)
			r--;
		while (local_ms(n, r) < expiry)
			r++;
		n->lease_real = r;
	}
}

/* a primary writes a record every WRITE_US of the time it may commit */
void
node_catch_up(Node *n)
{
	simtime		end;

	if (n->frozen_until > n->wclock)
		n->wclock = n->frozen_until < W.now ? n->frozen_until : W.now;
	if (n->wclock >= W.now)
		return;
	if (!may_commit(n, n->wclock) || W.now < n->frozen_until)
	{
		n->wclock = W.now;
		return;
	}
	end = n->lease_real - 1;
	if (end > W.now)
		end = W.now;
	if (end > n->wclock)
	{
		int64_t		nrec = (end - n->wclock) / WRITE_US;

		n->write_lsn += (dc_lsn) nrec * REC;
		n->wclock += nrec * WRITE_US;
		if (end < W.now)
			n->wclock = W.now;
	}
	else
		n->wclock = W.now;
}

/* ----------
 * Rounds: one request to some nodes, answers until a deadline
 * ----------
 */
static void
round_begin(Node *n, RoundKind kind, double wait_ms)
{
	Event	   *e;

	memset(&n->r, 0, sizeof(n->r));
	n->r.kind = kind;
	n->r.rid = ++W.next_rid;
	n->r.start = W.now;
	n->r.sent_local = now_local(n);
	for (int i = 1; i <= W.n; i++)
		n->r.st[i] = PEER_NOT_ASKED;
	e = ev_new(real_at_local(n, n->r.sent_local + wait_ms), E_ROUND_END, n->id);
	e->arg = n->r.rid;
	ev_push(e);
}

static void
round_ask(Node *n, int to, const Msg *m)
{
	Msg			x = *m;

	x.from = n->id;
	x.to = to;
	x.rid = n->r.rid;
	n->r.st[to] = PEER_PENDING;
	n->r.pending++;
	net_send(&x, true);
}

static void
round_finish_if_done(Node *n)
{
	if (n->r.kind != RK_NONE && n->r.pending == 0)
		round_done(n);
}

/* ----------
 * The server's answers
 * ----------
 */
static void
fill_state(const Node *n, Msg *m)
{
	DcPosition	p;

	position_of(n, &p);
	m->in_recovery = n->in_recovery;
	m->is_primary = running_primary(n);
	m->fenced = n->fenced;
	m->term = running_primary(n) ? n->lead_term : n->term;
	m->tl = n->tl;
	m->lsn = dc_position_lsn(&p);
	m->settled = p.settled;
	m->recv = n->recv;
	m->replay = n->replay;
	m->priority = n->priority;
	m->standby = n->role == ROLE_STANDBY;
	m->upstream = n->upstream;
	m->sees_primary = n->in_recovery && n->ws == WS_MONITORING;
	m->voted_term = n->voted_term;
	m->voted_for = n->voted_for;
	m->writable = may_commit(n, W.now);
}

static void
record_vote(Node *n, int64_t term, int cand)
{
	if (term < n->voted_term)
		violation("node %d records a vote in term %lld after one in term %lld",
				  n->id, (long long) term, (long long) n->voted_term);
	if (term > n->term)
		n->term = term;
	n->voted_term = term;
	n->voted_for = cand;
	check_vote(term, n->id, cand);
}

/* did n accept the heartbeat or notice of a node but who within the silence? */
static bool
other_heard(const Node *n, int who)
{
	for (int j = 1; j <= W.n; j++)
		if (j != who && n->heard_src[j] != 0 &&
			now_local(n) - n->heard_src[j] < W.t.silence_ms)
			return true;
	return false;
}

static DcVote
decide_vote(Node *n, int64_t term, int cand, dc_lsn lsn, uint32_t tl)
{
	DcVoter		v;
	DcVoteRequest r;
	DcVote		d;

	memset(&v, 0, sizeof(v));
	v.worker_running = true;
	/* a node whose promotion has begun answers as the primary it becomes */
	v.running_primary = running_primary(n) || n->ws == WS_PROMOTING;
	v.paused = false;
	/*
	 * A primary this node follows but whose heartbeats it refuses (it
	 * voted in a newer term) counts as lost for its re-election.
	 */
	v.primary_lost = n->primary_lost ||
		(!W.voter_as_worker &&
		 cand == n->upstream && n->ws == WS_MONITORING && n->term > n->up_term);
	v.heard_ago_ms = heard_ago(n);
	/*
	 * --rule-k: the primary it follows is the one whose heartbeat (or
	 * notice) it accepted last, within the silence (shmem.c's
	 * heartbeat_primary_id and heartbeat_at)
	 */
	if (W.rule_k && n->heard_from != 0 && v.heard_ago_ms < W.t.silence_ms)
		v.follows = n->heard_from;
	/* --rule-k-strict: and no other node heard within the silence */
	if (W.rule_k == 2 && other_heard(n, n->heard_from))
		v.follows = 0;
	v.term = n->term;
	v.voted_term = n->voted_term;
	v.voted_for = n->voted_for;
	v.self_id = n->id;
	v.granted_to = n->granted_to;
	v.granted_ago_ms = (dc_ms) (now_local(n) - n->granted_at);
	v.has_position = n->in_recovery;
	position_of(n, &v.position);
	sync_copy(n->tl, &v.sync);
	r.term = term;
	r.candidate = cand;
	r.candidate_lsn = lsn;
	r.candidate_timeline = tl;
	/*
	 * --sync-rules: the request carries the candidate's history, from which
	 * the voter takes where the candidate's timeline left its own (if it
	 * descends from it): dc_decide_vote then accepts a candidate on a newer
	 * timeline that this node can follow.  Without it, a standby that
	 * voted in a newer term (so receives nothing from an older-term primary)
	 * never switches to the timeline of the primary it follows, and refuses
	 * that primary's re-election: no one is ever elected.
	 */
	r.candidate_fork_lsn = 0;
	if ((W.sync_rules & SR_TIMELINE) && tl != 0 && tl > n->tl && tl_ancestor(n->tl, tl))
		r.candidate_fork_lsn = common_prefix(n->tl, tl);
	v.upstream = n->in_recovery ? n->upstream : 0;
	d = dc_decide_vote(&v, &r, &W.t);
	/* SR_KSTREAM: a grant by (k) to the upstream it streams from */
	if ((W.sync_rules & SR_KSTREAM) && dc_vote_records(d) && v.follows == cand &&
		v.heard_ago_ms < W.t.silence_ms && v.upstream == cand)
		n->kstream_term = term;
	if (v.follows != 0 && dc_vote_records(d))
	{
		DcVoter		old = v;

		/* a grant that only (k) gives: one who heard another primary? */
		old.follows = 0;
		if (!dc_vote_granted(dc_decide_vote(&old, &r, &W.t)))
		{
			W.k_grants++;
			if (other_heard(n, v.follows))
			{
				W.k_other_heard++;
				trace(1, "node %d: (k) grants node %d in term %lld, having heard another primary within the silence",
					  n->id, cand, (long long) term);
			}
		}
	}
	if (dc_vote_records(d))
	{
		record_vote(n, term, cand);
		/* src/shmem.c: a window for another candidate, in memory */
		if (cand != n->id && (cand != n->granted_to || v.granted_ago_ms >= W.t.silence_ms))
		{
			n->granted_to = cand;
			n->granted_at = now_local(n);
		}
	}
	return d;
}

static void
serve_request(Node *n, const Msg *m)
{
	Msg			rep;

	memset(&rep, 0, sizeof(rep));
	rep.from = n->id;
	rep.to = m->from;
	rep.rid = m->rid;
	switch (m->kind)
	{
		case M_HB:
			rep.kind = M_HB_REP;
			rep.accepted = dc_accept_heartbeat(m->term, n->term, running_primary(n));
			if (rep.accepted)
			{
				n->heard_at = now_local(n);
				n->heard_from = m->from;
				n->heard_src[m->from] = n->heard_at;
				n->hb_primary = m->from;
				n->hb_term = m->term;
			}
			/* a primary answers with the term it leads */
			rep.term = running_primary(n) ? n->lead_term : n->term;
			rep.in_recovery = n->in_recovery;
			rep.is_primary = LEG(LEGACY_WITNESS) ? !n->in_recovery : running_primary(n);
			rep.truth_primary = running_primary(n);
			rep.truth_lead_term = n->lead_term;
			trace(2, "node %d: heartbeat of node %d term %lld %s", n->id, m->from,
				  (long long) m->term, rep.accepted ? "accepted" : "refused");
			break;
		case M_VOTE:
			rep.kind = M_VOTE_REP;
			rep.vote = decide_vote(n, m->term, m->cand, m->lsn, m->tl);
			rep.term = n->term;
			rep.tl = n->tl;		/* the voter's timeline, for SR_REELECT */
			trace(1, "node %d: vote for node %d in term %lld: %s (heard node %d %lld ms ago, lost %d/%d, pos %llu, term %lld, %s, upstream %d of term %lld)",
				  n->id, m->cand, (long long) m->term, dc_vote_name(rep.vote),
				  n->heard_from, (long long) heard_ago(n), n->primary_lost, n->lost_definitive,
				  (unsigned long long) advertised_lsn(n), (long long) n->term,
				  ws_name(n->ws), n->upstream, (long long) n->up_term);
			break;
		case M_NOTIFY:
			trace(1, "node %d: notice: node %d is primary in term %lld", n->id,
				  m->from, (long long) m->term);
			if (m->term >= n->notice_term)
			{
				n->notice_primary = m->from;
				n->notice_term = m->term;
			}
			if (m->term >= n->term)
			{
				n->heard_at = now_local(n);
				n->heard_from = m->from;
				n->heard_src[m->from] = n->heard_at;
			}
			return;				/* no answer that matters */
		case M_STATE:
			rep.kind = M_STATE_REP;
			fill_state(n, &rep);
			break;
		case M_STREAM:
			if (!running_primary(n))
				return;
			node_catch_up(n);
			rep.kind = M_STREAM_REP;
			rep.tl = n->tl;
			rep.lsn = n->write_lsn;
			break;
		default:
			return;
	}
	net_send(&rep, false);
}

/* ----------
 * The walreceiver and replay
 * ----------
 */
static void
stream_schedule(Node *n)
{
	Event	   *e = ev_new(W.now + rnd_range(MS(150), MS(300)), E_STREAM_TICK, n->id);

	ev_push(e);
}

/*
 * --sync-fix, (h): a node that voted in a newer term than its upstream's
 * receives nothing more from it, unless (SR_KSTREAM) its vote in that term
 * went, by rule (k), to that upstream
 */
static bool
stream_stopped(const Node *n)
{
	if (!W.sync_fix || n->term <= n->up_term)
		return false;
	return !((W.sync_rules & SR_KSTREAM) && n->kstream_term == n->term &&
			 n->voted_term == n->term && n->voted_for == n->upstream);
}

static void
stream_tick(Node *n)
{
	Msg			m;

	/*
	 * --sync: a member that voted in a newer term than its upstream's
	 * acknowledges none of that upstream's WAL any more (the proposal
	 * "stop receiving from the old primary once it voted"; SIM_SYNC_FIX)
	 */
	if (stream_stopped(n))
		;
	else if (n->in_recovery && n->ws != WS_PROMOTING && n->upstream > 0)
	{
		memset(&m, 0, sizeof(m));
		m.kind = M_STREAM;
		m.from = n->id;
		m.to = n->upstream;
		net_send(&m, true);
	}
	stream_schedule(n);
}

static void
replay_schedule(Node *n)
{
	Event	   *e;
	int64_t		lag = rnd01() < 0.1 ? rnd_range(MS(100), MS(1500)) : rnd_range(0, MS(60));

	if (n->replay_pending)
		return;
	n->replay_pending = true;
	e = ev_new(W.now + lag, E_REPLAY, n->id);
	ev_push(e);
}

static void
stream_reply(Node *n, const Msg *m)
{
	dc_lsn		want;

	if (!n->in_recovery || n->ws == WS_PROMOTING || m->from != n->upstream)
		return;
	if (stream_stopped(n))
		return;					/* --sync-fix: its walreceiver was stopped */
	if (m->tl != n->tl)
	{
		/* a walreceiver follows only a newer timeline that did not fork below it */
		dc_lsn		pre = common_prefix(n->tl, m->tl);

		if (!tl_ancestor(n->tl, m->tl) || n->replay > pre)
			return;
		n->tl = m->tl;
		if (n->recv > pre)
			n->recv = pre;
	}
	want = n->recv + rnd_range(1, 2 * REC * 15);
	if (want > m->lsn)
		want = m->lsn;
	if (want > n->recv)
	{
		n->recv = want;
		replay_schedule(n);
	}
}

static void
replay_done(Node *n)
{
	dc_lsn		complete = (n->recv / REC) * REC;

	n->replay_pending = false;
	if (n->in_recovery && complete > n->replay)
		n->replay = complete;
}

/* ----------
 * Following
 * ----------
 */
static void
become_follower(Node *n, int target, int64_t term)
{
	n->upstream = target;
	n->up_term = term;
	if (term > n->term)
		n->term = term;
	n->primary_lost = false;
	n->lost_definitive = false;
	n->lost_primary = 0;
	n->attempts = 0;
	n->notice_primary = 0;
	n->hb_primary = 0;
	set_state(n, WS_MONITORING);
	schedule_tick(n, W.s.monitor_interval_ms);
}

/* the answer m of the new primary (node_state) */
static void
follow_event(Node *n, const Msg *m)
{
	DcPosition	p;
	DcFollow	f;
	dc_lsn		sw;

	if (n->role == ROLE_WITNESS)
	{
		trace(1, "node %d: witness now watching node %d", n->id, m->from);
		become_follower(n, m->from, m->term);
		return;
	}
	position_of(n, &p);
	if (LEG(LEGACY_POSITION))
		p.replay_lsn = p.replay_lsn > p.receive_lsn ? p.replay_lsn : p.receive_lsn;
	sw = m->tl == n->tl ? 0 : common_prefix(n->tl, m->tl);
	if (sw == UINT64_MAX)
		sw = 0;
	if (m->tl != n->tl && m->tl > n->tl && !tl_ancestor(n->tl, m->tl))
	{
		/*
		 * Its timeline is not in the target's history (a sibling): a
		 * walreceiver cannot switch to it, whatever the positions.
		 */
		f = DC_FOLLOW_DIVERGED;
	}
	else
		f = dc_decide_follow(&p, m->tl, sw);
	trace(1, "node %d: follow node %d (tl %u, switch %llu; me tl %u replay %llu recv %llu): %s",
		  n->id, m->from, m->tl, (unsigned long long) sw, n->tl,
		  (unsigned long long) n->replay, (unsigned long long) n->recv,
		  dc_follow_name(f));
	switch (f)
	{
		case DC_FOLLOW_OK:
			check_follow(n, m->tl, m->from);
			become_follower(n, m->from, m->term);
			break;
		case DC_FOLLOW_WAIT_REPLAY:
			schedule_tick(n, W.t.heartbeat_interval_ms);
			break;
		default:
			/* vote for whom you can follow: refusing needs a real divergence */
			if (!wal_diverged(n, m->tl))
				violation("node %d cannot follow node %d (%s) although its WAL did not diverge (replay %llu, received %llu, switch %llu)",
						  n->id, m->from, dc_follow_name(f),
						  (unsigned long long) n->replay, (unsigned long long) n->recv,
						  (unsigned long long) sw);
			n->why_cannot = f;
			n->upstream = m->from;
			if (m->term > n->term)
				n->term = m->term;
			set_state(n, WS_CANNOT_FOLLOW);
			schedule_tick(n, W.s.monitor_interval_ms);
			break;
	}
}

/* a primary newer than the upstream, by its notice or its heartbeat */
static int
newer_primary_known(Node *n)
{
	if (n->notice_primary > 0 && n->notice_primary != n->id &&
		n->notice_term >= n->term &&
		(n->notice_primary != n->upstream || n->ws != WS_MONITORING))
		return n->notice_primary;
	if (n->hb_primary > 0 && n->hb_primary != n->id && n->hb_primary != n->upstream &&
		n->hb_term >= n->term)
		return n->hb_primary;
	return 0;
}

static void
notice_round(Node *n, int target)
{
	Msg			m;

	memset(&m, 0, sizeof(m));
	m.kind = M_STATE;
	n->notice_primary = 0;
	n->hb_primary = 0;
	round_begin(n, RK_NOTICE, W.s.connect_timeout_ms);
	n->follow_target = target;
	round_ask(n, target, &m);
}

/* ----------
 * The worker
 * ----------
 */
static void
poll_round(Node *n)
{
	Msg			m;

	memset(&m, 0, sizeof(m));
	m.kind = M_STATE;
	round_begin(n, RK_POLL, W.s.connect_timeout_ms);
	for (int i = 1; i <= W.n; i++)
		if (i != n->id)
			round_ask(n, i, &m);
}

static void
heartbeat_round(Node *n)
{
	Msg			m;

	memset(&m, 0, sizeof(m));
	m.kind = M_HB;
	m.term = n->lead_term;
	round_begin(n, RK_HB, W.hb_wait_ms);
	n->next_hb = n->r.sent_local + W.hb_interval_ms;
	for (int i = 1; i <= W.n; i++)
		if (i != n->id)
			round_ask(n, i, &m);
}

static void
publish_lease(Node *n)
{
	dc_ms		acks[MAXN];
	int			k = 0;

	for (int i = 1; i <= W.n; i++)
		if (i != n->id)
			acks[k++] = (dc_ms) n->ack_sent[i];
	set_lease(n, (double) dc_lease_expiry(acks, k, W.n, &W.t));
}

static void
election_round(Node *n)
{
	Msg			m;
	DcVote		self;

	self = decide_vote(n, n->election_term, n->id, advertised_lsn(n), n->tl);
	if (!dc_vote_granted(self))
	{
		trace(1, "node %d: cannot stand in term %lld: %s", n->id,
			  (long long) n->election_term, dc_vote_name(self));
		set_state(n, WS_DEGRADED);
		n->next_decision = now_local(n) + W.s.monitor_interval_ms +
			rnd_range(0, W.s.reconnect_interval_ms);
		schedule_tick(n, n->next_decision - now_local(n));
		return;
	}
	memset(&m, 0, sizeof(m));
	m.kind = M_VOTE;
	m.term = n->election_term;
	m.cand = n->id;
	m.lsn = advertised_lsn(n);
	m.tl = n->tl;
	round_begin(n, RK_VOTE, W.s.connect_timeout_ms);
	for (int i = 1; i <= W.n; i++)
		if (i != n->id && i != n->lost_primary)
			round_ask(n, i, &m);
}

static void
worker_step(Node *n)
{
	Msg			m;
	int			target;

	if (!n->up || n->r.kind != RK_NONE)
		return;
	switch (n->ws)
	{
		case WS_MONITORING:
			if ((target = newer_primary_known(n)) != 0)
			{
				notice_round(n, target);
				return;
			}
			memset(&m, 0, sizeof(m));
			m.kind = M_STATE;
			round_begin(n, RK_PROBE, W.s.connect_timeout_ms);
			round_ask(n, n->upstream, &m);
			return;
		case WS_SUSPECT:
			memset(&m, 0, sizeof(m));
			m.kind = M_STATE;
			{
				int			dl = W.s.reconnect_interval_ms > 100 ? W.s.reconnect_interval_ms : 100;

				if (W.s.connect_timeout_ms < dl)
					dl = W.s.connect_timeout_ms;
				round_begin(n, RK_SUSPECT, dl);
			}
			round_ask(n, n->upstream, &m);
			return;
		case WS_DEGRADED:
		case WS_WAITING:
			if ((target = newer_primary_known(n)) != 0)
			{
				notice_round(n, target);
				return;
			}
			if (n->ws == WS_WAITING && now_local(n) >= n->deadline)
			{
				trace(1, "node %d: no new primary in time; deciding again", n->id);
				set_state(n, WS_DEGRADED);
				n->next_decision = 0;
			}
			if (n->ws == WS_DEGRADED && now_local(n) < n->next_decision)
			{
				schedule_tick(n, n->next_decision - now_local(n));
				return;
			}
			poll_round(n);
			return;
		case WS_ELECTION:
			if ((target = newer_primary_known(n)) != 0)
			{
				notice_round(n, target);
				return;
			}
			election_round(n);
			return;
		case WS_CANNOT_FOLLOW:
			/* keep looking: a newer primary may be one it can follow */
			poll_round(n);
			return;
		case WS_PRIMARY:
		case WS_FENCED:
			if (now_local(n) < n->next_hb)
			{
				schedule_tick(n, n->next_hb - now_local(n));
				return;
			}
			heartbeat_round(n);
			return;
		default:
			return;
	}
}

static void
go_degraded(Node *n)
{
	n->lost_primary = n->upstream;
	n->primary_lost = true;
	n->lost_definitive = n->all_definitive;
	n->next_decision = 0;
	set_state(n, WS_DEGRADED);
	schedule_tick(n, 0);
}

/* a peer that is a working primary, newer than the one lost */
static int
new_primary_among(Node *n)
{
	int			found = 0;

	for (int i = 1; i <= W.n; i++)
	{
		const Msg  *p = &n->r.rep[i];

		if (n->r.st[i] != PEER_ANSWERED || !p->is_primary || p->fenced || p->in_recovery)
			continue;
		if (found)
			return 0;			/* two: wait until one is fenced */
		found = i;
	}
	if (found && found == n->upstream && n->r.rep[found].term <= n->term &&
		n->r.rep[found].tl == n->tl && n->role != ROLE_WITNESS)
		return 0;				/* the old one, back */
	return found;
}

static void
decide_degraded(Node *n)
{
	DcPeer		peers[MAXN];
	DcFailoverView v;
	DcFailoverVerdict out;
	int			np = 0;
	int			found;
	int64_t		maxterm = n->term;
	const Msg  *up = &n->r.rep[n->upstream];

	/* the upstream is back */
	if (n->upstream > 0 && n->r.st[n->upstream] == PEER_ANSWERED &&
		!up->in_recovery && !up->fenced && up->is_primary &&
		(up->term >= n->term || up->writable))
	{
		trace(1, "node %d: upstream node %d is back", n->id, n->upstream);
		become_follower(n, n->upstream, up->term);
		return;
	}
	if ((found = new_primary_among(n)) != 0)
	{
		follow_event(n, &n->r.rep[found]);
		return;
	}
	if (n->ws == WS_WAITING)
	{
		schedule_tick(n, W.t.heartbeat_interval_ms);
		return;
	}
	n->next_decision = now_local(n) + W.s.monitor_interval_ms;
	if (n->role == ROLE_WITNESS)
	{
		schedule_tick(n, W.s.monitor_interval_ms);
		return;
	}
	for (int i = 1; i <= W.n; i++)
	{
		const Msg  *p = &n->r.rep[i];
		DcPeer	   *q;

		if (i == n->id || i == n->lost_primary)
			continue;
		q = &peers[np++];
		memset(q, 0, sizeof(*q));
		q->node_id = i;
		q->reachable = n->r.st[i] == PEER_ANSWERED;
		if (!q->reachable)
			continue;
		if (p->term > maxterm)
			maxterm = p->term;
		q->sees_lost_primary = p->sees_primary && p->upstream == n->lost_primary;
		q->candidate = p->in_recovery && p->standby && p->upstream == n->lost_primary;
		q->automatic = true;
		q->priority = p->priority;
		q->lsn = p->lsn;
		q->timeline = p->tl;
		q->settled = p->settled;
		sync_copy(p->tl, &q->sync);
	}
	memset(&v, 0, sizeof(v));
	v.self_id = n->id;
	v.consensus = true;
	v.total = W.n;
	v.heard_ago_ms = heard_ago(n);
	v.priority = n->priority;
	position_of(n, &v.position);
	sync_copy(n->tl, &v.sync);
	v.peers = peers;
	v.npeers = np;
	dc_decide_failover(&v, &W.t, &out);
	trace(2, "node %d: failover decision: %s (node %d, visible %d)", n->id,
		  dc_failover_name(out.decision), out.node, out.visible);
	if (out.decision == DC_FO_REPLAY_WAIT && LEG(LEGACY_POSITION))
		out.decision = DC_FO_STAND;		/* old: no wait for replay */
	switch (out.decision)
	{
		case DC_FO_STAND:
			n->election_term = maxterm + 1;
			n->deadline = now_local(n) + W.t.election_timeout_ms;
			W.elections++;
			trace(1, "node %d: candidate in term %lld (pos %llu)", n->id,
				  (long long) n->election_term, (unsigned long long) advertised_lsn(n));
			set_state(n, WS_ELECTION);
			schedule_tick(n, 0);
			return;
		case DC_FO_DEFER:
			n->follow_target = out.node;
			n->deadline = now_local(n) + W.t.election_timeout_ms;
			set_state(n, WS_WAITING);
			schedule_tick(n, W.t.heartbeat_interval_ms);
			return;
		case DC_FO_LEASE_WAIT:
			n->next_decision = now_local(n) + out.wait_ms;
			schedule_tick(n, out.wait_ms);
			return;
		case DC_FO_REPLAY_WAIT:
			schedule_tick(n, W.t.heartbeat_interval_ms);
			return;
		default:
			schedule_tick(n, W.s.monitor_interval_ms);
			return;
	}
}

/*
 * (i): do the votes of this round (its own included) cover the set s?
 * For a running primary's re-election (on_my_timeline), a member that
 * answers from the candidate's own timeline counts too, whatever its
 * vote: it follows the candidate (it refuses only because it has not lost
 * it), and holds nothing of the old timeline past the fork.
 */
static bool
votes_cover(const Node *n, const DcSyncSet *s, bool on_my_timeline)
{
	int			granted[MAXN + 1];
	int			ng = 0;

	granted[ng++] = n->id;
	for (int i = 1; i <= W.n; i++)
		if (i != n->id && n->r.st[i] == PEER_ANSWERED &&
			(dc_vote_granted((DcVote) n->r.rep[i].vote) ||
			 (on_my_timeline && n->r.rep[i].tl == n->tl)))
			granted[ng++] = i;
	return dc_sync_votes_cover(s, granted, ng);
}

static void
election_done(Node *n)
{
	int			votes = 1;
	bool		transient = false;

	for (int i = 1; i <= W.n; i++)
	{
		if (n->r.st[i] != PEER_ANSWERED)
			continue;
		if (dc_vote_granted((DcVote) n->r.rep[i].vote))
			votes++;
		else if (dc_vote_may_change((DcVote) n->r.rep[i].vote))
			transient = true;
	}
	if (!n->in_recovery)
	{
		/*
		 * --sync-rules: a primary that did not publish the set in force (a
		 * winner whose promotion outlasted the old primary's re-election,
		 * which then committed more) needs the votes of the members too:
		 * its timeline may lack commits acknowledged after its election.
		 * The set in force is timeline 1's (the model's only one); a new
		 * timeline's primary would publish its own, with a newer version.
		 */
		if ((W.sync_rules & SR_REELECT) && n->id != W.sync.primary &&
			dc_has_quorum(votes, W.n))
		{
			DcSyncSet	s;

			sync_copy(1, &s);
			if (!votes_cover(n, &s, true))
			{
				trace(1, "node %d: %d votes for its re-election in term %lld, but fewer than %d of them from members of the synchronous set",
					  n->id, votes, (long long) n->election_term, dc_sync_needed(&s));
				votes = 0;
			}
		}
		/* a primary's re-election */
		if (dc_has_quorum(votes, W.n) && n->ws == WS_PRIMARY && !n->fenced)
		{
			check_winner(n->election_term, n->id);
			n->lead_term = n->election_term;
			trace(1, "node %d: re-elected in term %lld with %d of %d votes", n->id,
				  (long long) n->lead_term, votes, W.n);
		}
		schedule_tick(n, n->next_hb - now_local(n));
		return;
	}
	if (n->term > n->election_term)
	{
		/* it voted in a newer term meanwhile: this election is void */
		trace(1, "node %d: voted in term %lld meanwhile: not promoting for term %lld",
			  n->id, (long long) n->term, (long long) n->election_term);
		votes = 0;
		transient = false;
	}
	/*
	 * --sync-rules: (f) counted on the members that granted their vote (each
	 * stopped receiving from the old primary before it granted, and is not
	 * ahead of the candidate, by (d)), not on the members the poll saw: a
	 * member seen but not voting may still receive, and acknowledge, WAL
	 * the old primary wrote before its lease ended.
	 */
	if ((W.sync_rules & SR_VOTERS) && votes > 0 && dc_has_quorum(votes, W.n))
	{
		DcSyncSet	s;

		sync_copy(n->tl, &s);
		if (!votes_cover(n, &s, false))
		{
			trace(1, "node %d: %d votes in term %lld, but fewer than %d of them from members of the synchronous set",
				  n->id, votes, (long long) n->election_term, dc_sync_needed(&s));
			votes = 0;
			transient = now_local(n) < n->deadline;
		}
	}
	if (dc_has_quorum(votes, W.n))
	{
		int64_t		ms = rnd_range(W.promote_min_ms, W.promote_max_ms);
		Event	   *e;

		trace(1, "node %d: elected in term %lld with %d of %d votes; promoting (%lld ms)",
			  n->id, (long long) n->election_term, votes, W.n, (long long) ms);
		check_winner(n->election_term, n->id);
		set_state(n, WS_PROMOTING);
		e = ev_new(W.now + MS(ms), E_PROMOTED, n->id);
		ev_push(e);
		return;
	}
	if (transient && now_local(n) < n->deadline)
	{
		schedule_tick(n, W.t.heartbeat_interval_ms);
		return;
	}
	trace(1, "node %d: %d of %d votes in term %lld: not elected", n->id, votes,
		  W.n, (long long) n->election_term);
	set_state(n, WS_DEGRADED);
	n->next_decision = now_local(n) + W.s.monitor_interval_ms +
		rnd_range(0, W.s.reconnect_interval_ms);
	schedule_tick(n, n->next_decision - now_local(n));
}

static void
promoted(Node *n)
{
	uint32_t	tl;
	Msg			m;

	if (n->ws != WS_PROMOTING)
		return;
	if (W.ntl + 1 >= MAXTL)
	{
		violation("too many timelines");
		return;
	}
	/* replay ends at the last complete record received: the switch point */
	n->replay = (n->recv / REC) * REC;
	tl = ++W.ntl;
	W.tls[tl].parent = n->tl;
	W.tls[tl].fork = n->replay;
	W.tls[tl].owner = n->id;
	n->tl = tl;
	n->write_lsn = n->replay;
	n->recv = n->replay;
	n->in_recovery = false;
	if (n->election_term > n->term)
		n->term = n->election_term;
	n->lead_term = n->election_term;
	n->primary_lost = false;
	n->lost_definitive = false;
	memset(n->rejected_since, 0, sizeof(n->rejected_since));
	memset(n->ack_sent, 0, sizeof(n->ack_sent));
	/* armed, empty, before the promotion; old: not armed until a round */
	set_lease(n, LEG(LEGACY_UNARMED) ? (double) DC_NEVER : 0);
	n->next_hb = 0;
	n->primary_since = W.now;
	n->wclock = W.now;
	W.promotions++;
	trace(1, "node %d: promoted: primary in term %lld on timeline %u from %llu",
		  n->id, (long long) n->term, tl, (unsigned long long) n->replay);
	set_state(n, WS_PRIMARY);
	memset(&m, 0, sizeof(m));
	m.kind = M_NOTIFY;
	m.from = n->id;
	m.term = n->term;
	for (int i = 1; i <= W.n; i++)
	{
		if (i == n->id || i == n->lost_primary)
			continue;
		m.to = i;
		net_send(&m, false);
	}
	n->lost_primary = 0;
	schedule_tick(n, 0);
}

/* a heartbeat reply, as it arrives */
static void
heartbeat_reply(Node *n, int from, const Msg *m)
{
	DcHeartbeatReply r;
	DcHeartbeat v;

	r.answered = true;
	r.accepted = m->accepted;
	r.term = m->term;
	r.is_primary = m->is_primary;
	v = dc_heartbeat_verdict(&r, n->lead_term);
	switch (v)
	{
		case DC_HB_ACK:
			n->ack_sent[from] = n->r.sent_local;
			n->rejected_since[from] = 0;
			if (!LEG(LEGACY_LEASE))
			{
				node_catch_up(n);
				publish_lease(n);
			}
			break;
		case DC_HB_SUPERSEDED:
			/* superseded only by a primary of a newer term (ground truth) */
			if (!m->truth_primary || m->truth_lead_term <= n->lead_term)
				violation("node %d (term %lld) takes node %d for a primary of a newer term, which it is not (%s, term %lld)",
						  n->id, (long long) n->lead_term, from,
						  W.nodes[from].role == ROLE_WITNESS ? "a witness" : "not a primary",
						  (long long) m->term);
			n->r.superseded = true;
			n->r.superseder = from;
			if (m->term > n->r.newer_term)
				n->r.newer_term = m->term;
			break;
		case DC_HB_VOTED_NEWER:
			if (n->rejected_since[from] == 0)
				n->rejected_since[from] = n->r.sent_local;
			if (m->term > n->r.newer_term)
				n->r.newer_term = m->term;
			break;
		default:
			break;
	}
}

/*
 * Nodes voted in a newer term and refuse this primary's heartbeats, and
 * the election seems over.  Old (failover.c): poll, and with no other
 * primary in sight take that term.  New: stand for re-election in the
 * term above it, like any candidate, once the lease is gone: the voters'
 * silence then covers a winner of that term that was only out of sight.
 */
static void
reelection_round(Node *n, int64_t newer)
{
	Msg			m;

	/* above every term it saw or voted in */
	n->election_term = newer;
	if (n->term > n->election_term)
		n->election_term = n->term;
	if (n->voted_term > n->election_term)
		n->election_term = n->voted_term;
	n->election_term++;
	n->deadline = now_local(n) + W.t.election_timeout_ms;
	if (n->voted_term == n->election_term && n->voted_for != n->id)
		return;
	/* its heartbeats keep the term it leads until it wins */
	record_vote(n, n->election_term, n->id);
	W.elections++;
	trace(1, "node %d: primary refused by voters of term %lld: stands for re-election in term %lld",
		  n->id, (long long) newer, (long long) n->election_term);
	memset(&m, 0, sizeof(m));
	m.kind = M_VOTE;
	m.term = n->election_term;
	m.cand = n->id;
	m.lsn = advertised_lsn(n);
	m.tl = n->tl;
	/*
	 * --reelect-with-lease: as long as a heartbeat round (lease.c's
	 * request_votes), so that the lease does not lapse meanwhile
	 */
	round_begin(n, RK_VOTE, W.reelect_with_lease ? W.hb_wait_ms : W.s.connect_timeout_ms);
	for (int i = 1; i <= W.n; i++)
		if (i != n->id)
			round_ask(n, i, &m);
}

/*
 * A primary asks every other node for its state (kind: what the answers are
 * for), keeping the newer term its heartbeats were refused with.
 */
static void
state_round(Node *n, RoundKind kind)
{
	Msg			m;
	int64_t		newer = n->r.newer_term;

	memset(&m, 0, sizeof(m));
	m.kind = M_STATE;
	round_begin(n, kind, W.s.connect_timeout_ms);
	n->r.newer_term = newer;
	for (int i = 1; i <= W.n; i++)
		if (i != n->id)
			round_ask(n, i, &m);
}

static void
heartbeat_done(Node *n)
{
	bool		stale = true;

	if (LEG(LEGACY_LEASE))
	{
		node_catch_up(n);
		publish_lease(n);
	}
	if (n->r.superseded && !n->fenced)
	{
		node_catch_up(n);
		n->fenced = true;
		trace(1, "node %d: node %d is primary in term %lld: fenced", n->id,
			  n->r.superseder, (long long) n->r.newer_term);
		set_state(n, WS_FENCED);
	}
	else if (!n->r.superseded && n->r.newer_term > n->lead_term && !n->fenced)
	{
		for (int i = 1; i <= W.n; i++)
			if (n->rejected_since[i] != 0 &&
				n->r.sent_local - n->rejected_since[i] < W.t.election_timeout_ms)
				stale = false;
		if (stale && LEG(LEGACY_ADOPT))
		{
			state_round(n, RK_ADOPT);
			return;
		}
		/*
		 * --reelect-with-lease: as lease.c (stand_for_reelection), whether
		 * the lease is valid or not; --reelect-poll: after lease.c's poll
		 */
		if (stale && (W.reelect_with_lease || now_local(n) >= n->lease_expiry) &&
			now_local(n) >= n->deadline)
		{
			if (W.reelect_poll)
			{
				state_round(n, RK_REPOLL);
				return;
			}
			reelection_round(n, n->r.newer_term);
			if (n->r.kind != RK_NONE)
				return;
		}
	}
	schedule_tick(n, n->next_hb - now_local(n));
}

/*
 * --reelect-poll: lease.c polls every node before it stands; a primary in
 * sight stops it (peers_find_primary), to try again at the next heartbeat
 * round; else the term is above every term polled (peers_max_term)
 */
static void
repoll_done(Node *n)
{
	int64_t		newer = n->r.newer_term;

	for (int i = 1; i <= W.n; i++)
	{
		const Msg  *p = &n->r.rep[i];

		if (n->r.st[i] != PEER_ANSWERED)
			continue;
		if (!p->in_recovery && !p->fenced && W.nodes[i].role != ROLE_WITNESS)
		{
			trace(1, "node %d: node %d is a primary (term %lld): not standing for re-election",
				  n->id, i, (long long) p->term);
			schedule_tick(n, n->next_hb - now_local(n));
			return;
		}
		if (p->term > newer)
			newer = p->term;
	}
	reelection_round(n, newer);
	if (n->r.kind != RK_NONE)
		return;
	schedule_tick(n, n->next_hb - now_local(n));
}

static void
adopt_done(Node *n)
{
	bool		primary = false;

	/* as failover.c: any other working primary in sight blocks it */
	for (int i = 1; i <= W.n; i++)
		if (n->r.st[i] == PEER_ANSWERED && n->r.rep[i].is_primary &&
			!n->r.rep[i].fenced)
			primary = true;
	if (!primary && n->r.newer_term > n->lead_term)
	{
		trace(1, "node %d: the election of term %lld produced no primary: taking that term",
			  n->id, (long long) n->r.newer_term);
		n->term = n->lead_term = n->r.newer_term;
	}
	schedule_tick(n, n->next_hb - now_local(n));
}

static void
round_done(Node *n)
{
	Round	   *r = &n->r;
	RoundKind	kind = r->kind;
	int			u = n->upstream;

	for (int i = 1; i <= W.n; i++)
		if (r->st[i] == PEER_PENDING)
			r->st[i] = PEER_TIMEOUT;
	/* keep the answers for the decision, but free the slot */
	r->kind = RK_NONE;
	switch (kind)
	{
		case RK_PROBE:
			if (r->st[u] == PEER_ANSWERED)
			{
				n->up_term = r->rep[u].term;
				if (r->rep[u].fenced || r->rep[u].in_recovery ||
					(r->rep[u].is_primary && r->rep[u].term < n->term && !r->rep[u].writable))
				{
					/* its upstream is fenced, an older primary, or no primary now */
					n->all_definitive = false;
					go_degraded(n);
					return;
				}
				schedule_tick(n, W.s.monitor_interval_ms);
				return;
			}
			trace(1, "node %d: upstream node %d %s", n->id, u,
				  r->st[u] == PEER_REFUSED ? "refused" : "timed out");
			set_state(n, WS_SUSPECT);
			n->attempts = 0;
			n->all_definitive = true;
			schedule_tick(n, 0);
			return;
		case RK_SUSPECT:
			if (r->st[u] == PEER_ANSWERED)
			{
				set_state(n, WS_MONITORING);
				schedule_tick(n, W.s.monitor_interval_ms);
				return;
			}
			n->attempts++;
			if (r->st[u] != PEER_REFUSED)
				n->all_definitive = false;
			if (n->attempts >= W.s.reconnect_attempts)
			{
				go_degraded(n);
				return;
			}
			schedule_tick(n, W.s.reconnect_interval_ms -
						  (now_local(n) - r->sent_local));
			return;
		case RK_NOTICE:
			if (r->st[n->follow_target] == PEER_ANSWERED &&
				r->rep[n->follow_target].is_primary &&
				!r->rep[n->follow_target].fenced &&
				r->rep[n->follow_target].term >= n->term)
			{
				follow_event(n, &r->rep[n->follow_target]);
				return;
			}
			schedule_tick(n, 0);
			return;
		case RK_POLL:
			if (n->ws == WS_CANNOT_FOLLOW)
			{
				int			found = new_primary_among(n);

				if (found && found != n->upstream)
					follow_event(n, &n->r.rep[found]);
				if (n->ws == WS_CANNOT_FOLLOW)
					schedule_tick(n, W.s.monitor_interval_ms);
				return;
			}
			decide_degraded(n);
			return;
		case RK_VOTE:
			election_done(n);
			return;
		case RK_HB:
			heartbeat_done(n);
			return;
		case RK_ADOPT:
			adopt_done(n);
			return;
		case RK_REPOLL:
			repoll_done(n);
			return;
		default:
			return;
	}
}

/* ----------
 * Events
 * ----------
 */
static void
round_reply(Node *n, const Msg *m, bool refused)
{
	int			from = m->from;

	if (n->r.kind == RK_NONE || m->rid != n->r.rid || n->r.st[from] != PEER_PENDING)
		return;
	n->r.st[from] = refused ? PEER_REFUSED : PEER_ANSWERED;
	if (!refused)
		n->r.rep[from] = *m;
	n->r.pending--;
	if (!refused && n->r.kind == RK_HB)
		heartbeat_reply(n, from, m);
	round_finish_if_done(n);
}

void
node_event(Node *n, Event *e)
{
	if (!n->up)
		return;
	if (W.now < n->frozen_until)
	{
		/* a stopped process: everything waits for it to resume */
		Event	   *d = ev_new(n->frozen_until, (EvKind) e->kind, n->id);
		int			inc = e->inc;

		d->arg = e->arg;
		d->m = e->m;
		d->inc = inc;
		ev_push(d);
		return;
	}
	if (e->kind != E_MSG && e->inc != n->inc)
		return;
	node_catch_up(n);
	switch (e->kind)
	{
		case E_MSG:
			switch (e->m.kind)
			{
				case M_HB:
				case M_VOTE:
				case M_NOTIFY:
				case M_STATE:
				case M_STREAM:
					serve_request(n, &e->m);
					break;
				case M_STREAM_REP:
					stream_reply(n, &e->m);
					break;
				case M_REFUSED:
					round_reply(n, &e->m, true);
					break;
				default:
					round_reply(n, &e->m, false);
					break;
			}
			break;
		case E_TICK:
			if (e->arg == n->tick_gen)
				worker_step(n);
			break;
		case E_ROUND_END:
			if (n->r.kind != RK_NONE && n->r.rid == e->arg)
				round_done(n);
			break;
		case E_STREAM_TICK:
			stream_tick(n);
			break;
		case E_REPLAY:
			replay_done(n);
			break;
		case E_PROMOTED:
			promoted(n);
			break;
		default:
			break;
	}
}

/* ----------
 * Faults
 * ----------
 */
void
node_init(Node *n, int id, Role role, int priority)
{
	memset(n, 0, sizeof(*n));
	n->id = id;
	n->role = role;
	n->priority = priority;
	n->up = true;
	n->inc = 1;
	n->rate = 1.0 + (2.0 * rnd01() - 1.0) * W.drift;
	n->clk_off = (double) rnd_range(1000, 1000000);
	n->in_recovery = role == ROLE_STANDBY;
	n->tl = 1;
	/* WAL never starts at 0: 0 is "no position" (InvalidXLogRecPtr) */
	n->write_lsn = n->recv = n->replay = WAL_START;
	n->heard_at = now_local(n);
	n->upstream = role == ROLE_PRIMARY ? 0 : 1;
	n->ws = role == ROLE_PRIMARY ? WS_PRIMARY : WS_MONITORING;
	n->primary_since = 0;
	schedule_tick(n, rnd_range(0, W.s.monitor_interval_ms));
	if (role == ROLE_STANDBY)
		stream_schedule(n);
}

void
node_crash(Node *n)
{
	if (!n->up)
		return;
	node_catch_up(n);
	trace(1, "FAULT node %d crashes (%s)", n->id, ws_name(n->ws));
	/* --sync: the commits it wrote so far wait no more: never acknowledged */
	if (n->tl == 1 && !n->in_recovery && n->write_lsn > W.tl1_unackable)
		W.tl1_unackable = n->write_lsn;
	n->up = false;
	n->inc++;
	n->r.kind = RK_NONE;
	n->ws = WS_DOWN;
	n->frozen_until = 0;
	n->replay_pending = false;
	n->bad_since = W.now;
}

void
node_restart(Node *n)
{
	if (n->up)
		return;
	n->up = true;
	n->bad_since = W.now;
	n->frozen_until = 0;
	n->replay_pending = false;
	n->r.kind = RK_NONE;
	n->deadline = 0;
	n->heard_at = now_local(n);
	n->heard_from = 0;
	memset(n->heard_src, 0, sizeof(n->heard_src));
	n->granted_to = 0;
	n->notice_primary = 0;
	n->notice_term = 0;
	n->hb_primary = 0;
	n->primary_lost = false;
	n->lost_definitive = false;
	n->lost_primary = 0;
	n->attempts = 0;
	set_lease(n, 0);
	memset(n->ack_sent, 0, sizeof(n->ack_sent));
	memset(n->rejected_since, 0, sizeof(n->rejected_since));
	n->next_hb = 0;
	n->wclock = W.now;
	if (n->in_recovery)
	{
		/* replay resumes from disk: every complete record received */
		n->ws = WS_MONITORING;
		stream_schedule(n);
		replay_schedule(n);
	}
	else if (n->role == ROLE_WITNESS)
		n->ws = WS_MONITORING;
	else
	{
		n->ws = n->fenced ? WS_FENCED : WS_PRIMARY;
		n->primary_since = W.now;
	}
	trace(1, "FAULT node %d restarts as %s (term %lld, voted %lld for %d)", n->id,
		  ws_name(n->ws), (long long) n->term, (long long) n->voted_term, n->voted_for);
	schedule_tick(n, rnd_range(10, 200));
}

void
node_freeze(Node *n, simtime until)
{
	if (!n->up)
		return;
	node_catch_up(n);
	if (until < n->frozen_until)
		return;
	n->frozen_until = until;
	n->bad_since = until;
	trace(1, "FAULT node %d frozen for %lld ms", n->id,
		  (long long) ((until - W.now) / 1000));
}
