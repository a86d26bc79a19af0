/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  A simulated node's repmgr worker: the worker's own step
 *	  (src/step.c), driven by facts gathered from the simulated world as
 *	  src/facts.c gathers them from a server, and its plan executed as
 *	  src/execute.c executes it: rounds of requests over the simulated
 *	  network (their answers are the next step's facts), a promotion that
 *	  takes time, the lease published as acknowledgements arrive
 *	  (dc_lease_expiry, as lease.c), the metadata written on the primary.
 *
 * Like the real worker, it blocks while a round or a promotion runs (its
 * published status is the one of its last step), then executes the rest
 * of the plan, publishes its status, and waits wk_wake_in_ms() or until
 * a peer wakes it.
 *
 *-------------------------------------------------------------------------
 */
#include "sim.h"

#include <stdio.h>
#include <string.h>

static const char *const node_names[MAXN + 1] = {
	"?", "node1", "node2", "node3", "node4", "node5", "node6", "node7"
};

static void run_plan(Node *n);

/* ----------
 * Facts
 * ----------
 */
static void
gather(Node *n, WkFacts *f, WkNode *nodes)
{
	CatRow		cat[MAXN + 1];

	cat_of(n, cat);
	memset(f, 0, sizeof(*f));
	f->now = (dc_ms) now_local(n);
	f->settings = W.s;
	f->timing = W.t;
	f->consensus = true;
	f->fence = true;
	f->sync_mode = W.sync_mode ? SYNC_MODE_ON : SYNC_MODE_OFF;
	f->max_lag = -1;
	f->promote_command = W.promote_command;
	f->self_id = n->id;
	f->database = "repmgr";
	f->extension_ready = true;
	for (int i = 1; i <= W.n; i++)
	{
		WkNode	   *w;

		if (cat[i].type == 0)
			continue;
		w = &nodes[f->nnodes++];
		w->id = i;
		w->type = cat[i].type;
		w->upstream = cat[i].upstream;
		w->priority = W.nodes[i].priority;
		w->active = cat[i].active;
		w->name = node_names[i];
		w->location = "default";
	}
	f->nodes = nodes;
	position_of(n, &f->position);
	f->lsn = dc_position_lsn(&f->position);
	f->walreceiver_streaming = walreceiver_streaming(n);
	f->conninfo_empty = (n->conninfo == 0);
	if (f->walreceiver_streaming && n->conninfo == n->upstream && n->conninfo != 0 &&
		cat[n->conninfo].active && cat[n->conninfo].type != WK_NODE_WITNESS)
		f->streams_from = n->conninfo;
	f->term = n->term;
	f->voted_term = n->voted_term;
	f->voted_for = n->voted_for;
	f->fenced = n->fenced;
	f->fenced_term = n->fenced_term;
	f->lease_armed = n->lease_armed;
	f->membership_claim = n->claim;
	f->claim_ended = n->claim && n->claim_ended;
	f->claim_commit_lsn = n->claim ? n->claim_commit_lsn : 0;
	f->heard_ago_ms = dc_mem_heard_ago(&n->mem, f->now);
	f->heard_lsn = n->mem.heard_lsn;
	f->members = n->mem.members;
	f->refused_primary = n->mem.refused_newest;
	f->refused_term = n->mem.refused_newest_term;
	f->refused_ago_ms = f->now > n->mem.refused_newest_at ? f->now - n->mem.refused_newest_at : 0;
	f->heard_primary = n->mem.heard_primary;
	f->heard_term = n->mem.heard_term_max;
	f->notice_primary = n->mem.notice_primary;
	f->notice_term = n->mem.notice_term;
	f->writes_allowed = !n->fenced &&
		(!n->lease_enforced || now_local(n) < n->lease_expiry);
	f->lease_left_ms = !n->lease_enforced ? -1 :
		n->lease_expiry > now_local(n) ? (dc_ms) (n->lease_expiry - now_local(n)) : 0;
	f->rcv_state = rcv_state(n);
	f->rcv_stop_term = n->rcv_stopped_at == 0 ? n->rcv_stop_term : 0;
	f->sync_exists = W.sync.quorum > 0;
	sync_copy(n->tl, &f->sync);
	f->sync_primary_of_set = (W.sync.quorum > 0 && W.sync.primary == n->id);
	f->result = n->result;
}

/* ----------
 * Waking
 * ----------
 */
void
schedule_tick(Node *n, double delay_ms)
{
	Event	   *e;

	if (n->busy)
	{
		/* a peer set its latch: it looks again right after this step */
		n->tick_gen = -n->tick_gen - 1;
		return;
	}
	if (delay_ms < 0)
		delay_ms = 0;
	e = ev_new(real_at_local(n, now_local(n) + delay_ms), E_TICK, n->id);
	e->arg = ++n->tick_gen;
	ev_push(e);
}

/* one step: the facts, the step, the plan */
void
worker_tick(Node *n)
{
	WkFacts		f;
	WkNode		nodes[MAXN];

	if (!n->up || n->busy)
		return;
	gather(n, &f, nodes);
	if (!wk_step(&n->core, &f, &n->plan))
	{
		violation("node %d: the worker's step failed: %s", n->id, wk_error(&n->plan));
		return;
	}
	if (n->plan.to != n->plan.from || n->plan.event != EV_OK)
		trace(n->plan.to != n->plan.from ? 1 : 3, "node %d: %s --%s/%s--> %s", n->id,
			  worker_state_name(n->plan.from), worker_event_name(n->plan.event),
			  n->plan.action, worker_state_name(n->plan.to));
	if (n->plan.event == EV_CANDIDATE || n->plan.event == EV_REELECT)
		W.elections++;
	n->plan_pos = 0;
	n->own_win = false;
	n->result.kind = FX_NONE;
	run_plan(n);
}

/* the plan is done: publish the status, wait for the next step */
static void
finish_step(Node *n)
{
	WkFacts		f;
	WkNode		nodes[MAXN];
	bool		woken = n->tick_gen < 0;

	n->worker_up = true;
	n->pub_state = n->core.state;
	n->pub_primary = n->core.primary_node_id;
	n->pub_primary_visible = n->core.primary_visible;
	n->pub_primary_lost = n->core.primary_lost;
	n->pub_upstream = n->core.upstream_node_id;
	if (woken)
		n->tick_gen = -n->tick_gen - 1;
	gather(n, &f, nodes);
	f.now = (dc_ms) now_local(n);
	schedule_tick(n, woken ? 0 : (double) wk_wake_in_ms(&n->core, &f));
}

/* ----------
 * Rounds
 * ----------
 */
static void
round_begin(Node *n, WkFxKind kind, double wait_ms)
{
	Event	   *e;

	memset(&n->r, 0, sizeof(n->r));
	n->r.kind = kind;
	n->r.rid = ++W.next_rid;
	n->r.sent_local = now_local(n);
	for (int i = 1; i <= W.n; i++)
		n->r.st[i] = PEER_NOT_ASKED;
	e = ev_new(real_at_local(n, n->r.sent_local + wait_ms), E_ROUND_END, n->id);
	e->arg = n->r.rid;
	ev_push(e);
	n->busy = true;
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

/* the other active nodes of this node's copy of the metadata but skip */
static int
round_ask_all(Node *n, const Msg *m, int skip, bool active_only)
{
	CatRow		cat[MAXN + 1];
	int			k = 0;

	cat_of(n, cat);
	for (int i = 1; i <= W.n; i++)
	{
		if (i == n->id || i == skip || cat[i].type == 0 ||
			(active_only && !cat[i].active))
			continue;
		round_ask(n, i, m);
		k++;
	}
	return k;
}

/* the lease from the acknowledgements known now, as lease.c publishes it */
static void
publish_acks(Node *n, const dc_ms *acks, int k, int voters, bool strict_needed)
{
	dc_ms		e;

	node_catch_up(n);
	n->lease_enforced = true;
	e = dc_lease_expiry(acks, k, voters, strict_needed, &W.t);
	/* a claimed change: a strict majority once it holds, as lease.c */
	if (n->claim)
	{
		dc_ms		strict = dc_lease_expiry(acks, k, n->r.voters, true, &W.t);

		if (n->lease_claim_published >= n->claim_at || (double) strict > now_local(n))
		{
			e = strict;
			n->lease_claim_published = now_local(n);
		}
	}
	set_lease(n, e == 0 ? 0 : (double) e);
	trace(3, "node %d: lease from %d acks of %d voters%s: to %.3f s", n->id, k, voters,
		  strict_needed ? " (strict)" : "", n->lease_real / 1e6);
}

static void
publish_lease(Node *n)
{
	dc_ms		acks[MAXN];
	int			k = 0;

	for (int i = 1; i <= W.n; i++)
		if (n->r.st[i] != PEER_NOT_ASKED)
			acks[k++] = (dc_ms) n->ack_sent[i];
	publish_acks(n, acks, k, n->r.voters, n->r.strict);
}

/* the end of a transition: the usual count at once, as lease_republish() */
static void
republish_lease(Node *n, int voters)
{
	CatRow		cat[MAXN + 1];
	dc_ms		acks[MAXN];
	int			k = 0;

	if (!n->lease_enforced || voters == 0)
		return;
	cat_of(n, cat);
	for (int i = 1; i <= W.n; i++)
		if (i != n->id && cat[i].type != 0)
			acks[k++] = (dc_ms) n->ack_sent[i];
	publish_acks(n, acks, k, voters, false);
}

static void
heartbeat_answered(Node *n, int from, const Msg *m)
{
	DcHeartbeatReply r;

	r.answered = true;
	r.accepted = m->accepted;
	r.term = m->term;
	r.is_primary = m->is_primary;
	if (dc_heartbeat_verdict(&r, n->r.term) != DC_HB_ACK)
		return;
	n->ack_sent[from] = (dc_ms) n->r.sent_local;
	if (n->r.voters > 0)		/* the lease is enforced */
		publish_lease(n);
}

void
worker_round_reply(Node *n, const Msg *m, bool refused)
{
	int			from = m->from;

	if (n->r.kind == FX_NONE || m->rid != n->r.rid || n->r.st[from] != PEER_PENDING)
		return;
	n->r.st[from] = refused ? PEER_REFUSED : PEER_ANSWERED;
	if (!refused)
		n->r.rep[from] = *m;
	n->r.pending--;
	if (!refused && n->r.kind == FX_HEARTBEATS)
	{
		/* superseded only by a primary of a newer term (ground truth) */
		if (m->is_primary && m->term > n->r.term &&
			(!m->truth_primary || m->truth_lead_term <= n->lead_term))
			violation("node %d (term %lld) takes node %d for a primary of a newer term, which it is not (term %lld)",
					  n->id, (long long) n->lead_term, from, (long long) m->term);
		heartbeat_answered(n, from, m);
	}
	if (n->r.pending == 0)
		worker_round_end(n, n->r.rid);
}

/* a timeline's ancestors and where each ended, as its history file says */
static int
history_of(uint32_t k, DcTimelineEnd *out, int max)
{
	int			n = 0;

	for (uint32_t x = k; W.tls[x].parent != 0 && n < max; x = W.tls[x].parent)
	{
		out[n].timeline = W.tls[W.tls[x].parent].tli;
		out[n].end = W.tls[x].fork;
		n++;
	}
	return n;
}

static void
peer_of(const Msg *m, int id, uint8_t st, WkPeer *p, DcTimelineEnd *hist)
{
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->reachable = (st == PEER_ANSWERED);
	p->status = st == PEER_REFUSED ? "refused" : "timeout";
	if (!p->reachable)
		return;
	p->in_recovery = m->in_recovery;
	p->timeline = m->tli;
	p->lsn = m->lsn;
	p->settled = m->settled;
	p->switch_lsn = m->switch_lsn;
	p->timeline_term = m->tl_term;
	p->nhistory = history_of(m->tlk, hist, 64);
	p->history = hist;
	p->term = m->term;
	p->fenced = m->fenced;
	p->paused = m->paused;
	p->automatic = true;
	p->primary_node_id = m->primary_node_id;
	p->upstream_id = m->upstream_id;
	p->primary_visible_known = m->worker;
	p->primary_visible = m->primary_visible;
	sync_copy(m->tlk, &p->sync);
}

/* a probe's answer (PROBE_SQL) into the result */
static void
probe_answer(WkResult *r, const Msg *m, uint8_t st)
{
	r->reach = st == PEER_ANSWERED ? WK_ANSWERED : st == PEER_REFUSED ? WK_REFUSED : WK_TIMEOUT;
	r->status = st == PEER_REFUSED ? "refused" : "timeout";
	r->error = "";
	if (st != PEER_ANSWERED)
		return;
	r->answered = true;
	r->in_recovery = m->in_recovery;
	r->lsn = m->lsn;
	r->term = m->term;
	r->fenced = m->fenced;
}

/* the round's deadline, or its last answer: its result, then the plan goes on */
void
worker_round_end(Node *n, int rid)
{
	Round	   *rd = &n->r;
	WkResult   *r = &n->result;
	WkFx	   *fx;
	CatRow		cat[MAXN + 1];

	if (rd->kind == FX_NONE || rd->rid != rid)
		return;
	for (int i = 1; i <= W.n; i++)
		if (rd->st[i] == PEER_PENDING)
			rd->st[i] = PEER_TIMEOUT;
	fx = &n->plan.fx[n->plan_pos];
	if (rd->kind != FX_NOTIFY)
	{
		/* a notice round's answers are nobody's: the result stays */
		memset(r, 0, sizeof(*r));
		r->kind = rd->kind;
	}
	switch (rd->kind)
	{
		case FX_PROBE:
			probe_answer(r, &rd->rep[fx->node], rd->st[fx->node]);
			if (fx->node2 != 0)
			{
				r->primary_asked = true;
				r->primary_reach = rd->st[fx->node2] == PEER_ANSWERED ? WK_ANSWERED :
					rd->st[fx->node2] == PEER_REFUSED ? WK_REFUSED : WK_TIMEOUT;
				r->primary_lsn = rd->st[fx->node2] == PEER_ANSWERED ? rd->rep[fx->node2].lsn : 0;
			}
			break;
		case FX_ATTEMPT:
		case FX_PROBE_BACK:
			probe_answer(r, &rd->rep[fx->node], rd->st[fx->node]);
			break;
		case FX_POLL:
			for (int i = 1; i <= W.n; i++)
				if (rd->st[i] != PEER_NOT_ASKED)
				{
					peer_of(&rd->rep[i], i, rd->st[i], &n->result_peers[r->npeers],
							n->result_hist[r->npeers]);
					r->npeers++;
				}
			r->peers = n->result_peers;
			break;
		case FX_VOTES:
			r->ids[r->nids++] = n->id;
			for (int i = 1; i <= W.n; i++)
			{
				const Msg  *m = &rd->rep[i];

				if (rd->st[i] != PEER_ANSWERED)
					continue;
				if (m->tli != 0 && m->tli == fx->req.candidate_timeline)
					r->same_timeline[r->nsame_timeline++] = i;
				if (m->term > r->max_term)
					r->max_term = m->term;
				if (dc_vote_granted((DcVote) m->vote))
				{
					r->granted++;
					r->ids[r->nids++] = i;
				}
				else if (dc_vote_may_change((DcVote) m->vote))
					r->may_change = true;
			}
			trace(2, "node %d: %d votes granted in term %lld", n->id, r->granted + 1,
				  (long long) fx->req.term);
			break;
		case FX_HEARTBEATS:
			r->hb_sent = (dc_ms) rd->sent_local;
			cat_of(n, cat);
			for (int i = 1; i <= W.n; i++)
			{
				DcHeartbeatReply h;

				if (rd->st[i] == PEER_NOT_ASKED)
					continue;
				memset(&h, 0, sizeof(h));
				if (rd->st[i] == PEER_ANSWERED)
				{
					h.answered = true;
					h.accepted = rd->rep[i].accepted;
					h.term = rd->rep[i].term;
					h.is_primary = rd->rep[i].is_primary;
				}
				r->hb_node[r->nhb] = i;
				r->hb_verdict[r->nhb] = dc_heartbeat_verdict(&h, fx->term);
				r->hb_term[r->nhb] = h.term;
				r->nhb++;
			}
			if (n->r.voters > 0)
				publish_lease(n);
			break;
		default:
			break;
	}
	rd->kind = FX_NONE;
	n->busy = false;
	n->plan_pos++;
	run_plan(n);
}

/* ----------
 * The effects of a plan
 * ----------
 */

/* may this node write on the primary at primary_id now (a client session)? */
static bool
can_write_on(Node *n, int primary_id)
{
	const Node *p = primary_id > 0 ? &W.nodes[primary_id] : NULL;

	return p != NULL && (p == n || net_ok(n->id, primary_id)) && may_commit(p, W.now);
}

/* follow_record(): this node's row on the primary, written by a session */
static bool
record_follow(Node *n, int target, int primary_id)
{
	CatRow		row = {WK_NODE_STANDBY, target, true};

	if (!can_write_on(n, primary_id))
		return false;
	cat_write(&W.nodes[primary_id], n->id, &row);
	return true;
}

static void
arm_empty_lease(Node *n, int voters)
{
	if (voters == 0)
		return;
	n->lease_armed = true;
	n->lease_enforced = true;
	set_lease(n, 0);
}

/*
 * The promotion of fx: the lease armed first, then the server leaves
 * recovery (later: E_PROMOTED); the built-in promotion blocks the worker
 * until then, a promote_command runs in the background.
 */
static bool
start_promotion(Node *n, const WkFx *fx)
{
	int64_t		ms = rnd_range(W.promote_min_ms, W.promote_max_ms);
	Event	   *e;

	check_winner(fx->term, n->id);
	arm_empty_lease(n, fx->voters);
	n->promoting = true;
	n->promote_term = fx->term;
	n->busy = !fx->flag;
	trace(1, "node %d: elected in term %lld; promoting (%lld ms%s)", n->id,
		  (long long) fx->term, (long long) ms, fx->flag ? ", by a command" : "");
	e = ev_new(W.now + MS(ms), E_PROMOTED, n->id);
	ev_push(e);
	return n->busy;
}

/* the server has left recovery: a new timeline */
void
worker_promoted(Node *n)
{
	uint32_t	tl;

	if (!n->promoting)
		return;
	if (W.ntl + 1 >= MAXTL)
	{
		violation("too many timelines");
		return;
	}
	/* replay ends at the last complete record received: the switch point */
	n->replay = (n->recv / REC) * REC;
	check_promotion(n, n->tl, n->promote_term);
	tl = ++W.ntl;
	W.tls[tl].parent = n->tl;
	W.tls[tl].fork = n->replay;
	W.tls[tl].owner = n->id;
	/* PostgreSQL: one above the newest timeline in its own history */
	W.tls[tl].tli = W.unique_tli ? tl : W.tls[n->tl].tli + 1;
	W.tls[tl].term = n->promote_term;
	W.tls[tl].recorded = false;
	n->tl = tl;
	n->write_lsn = n->replay;
	n->recv = n->replay;
	n->in_recovery = false;
	n->promoting = false;
	n->lead_term = n->promote_term;
	n->conninfo = n->upstream = 0;
	n->primary_since = W.now;
	n->wclock = W.now;
	W.promotions++;
	trace(1, "node %d: promoted: on timeline %u (ID %u) from %llu", n->id, tl,
		  W.tls[tl].tli, (unsigned long long) n->replay);
	if (n->busy)
	{
		n->busy = false;
		n->plan_pos++;
		run_plan(n);
	}
	else
		schedule_tick(n, 0);
}

/* promote_record(): the worker's own writes, which no fence stops */
static void
promote_record(Node *n, const WkFx *fx)
{
	CatRow		row;

	if (fx->term > n->term)
		n->term = fx->term;
	n->lead_term = fx->term;
	/* its first record on the new line: repl_timelines */
	W.tls[n->tl].recorded = true;
	if (fx->node2 != 0 && fx->node2 != n->id)
	{
		CatRow		cat[MAXN + 1];

		cat_of(n, cat);
		row = cat[fx->node2];
		row.active = false;
		cat_write(n, fx->node2, &row);
	}
	row.type = WK_NODE_PRIMARY;
	row.upstream = 0;
	row.active = true;
	cat_write(n, n->id, &row);
	trace(1, "node %d: primary in term %lld", n->id, (long long) n->term);
}

/* returns true when the effect blocks the worker until later */
static bool
execute_fx(Node *n, const WkFx *fx)
{
	Msg			m;
	WkResult   *r = &n->result;
	CatRow		cat[MAXN + 1];

	memset(&m, 0, sizeof(m));
	switch (fx->kind)
	{
		case FX_PROBE:
			m.kind = M_STATE;
			round_begin(n, FX_PROBE, fx->ms);
			round_ask(n, fx->node, &m);
			if (fx->node2 != 0)
				round_ask(n, fx->node2, &m);
			return true;
		case FX_ATTEMPT:
		case FX_PROBE_BACK:
			m.kind = M_STATE;
			round_begin(n, fx->kind, fx->ms);
			round_ask(n, fx->node, &m);
			return true;
		case FX_POLL:
			m.kind = M_STATE;
			round_begin(n, FX_POLL, fx->ms);
			if (round_ask_all(n, &m, fx->node, fx->flag) == 0)
			{
				worker_round_end(n, n->r.rid);
				return true;
			}
			return true;
		case FX_VOTE_SELF:
			{
				Msg			q;

				memset(&q, 0, sizeof(q));
				q.kind = M_VOTE;
				q.from = n->id;
				q.term = fx->req.term;
				q.cand = fx->req.candidate;
				q.lsn = fx->req.candidate_lsn;
				q.tli = fx->req.candidate_timeline;
				q.tlk = n->tl;
				memset(r, 0, sizeof(*r));
				r->kind = FX_VOTE_SELF;
				r->vote = sim_answer_vote(n, &q);
				r->error = dc_vote_name(r->vote);
			}
			return false;
		case FX_VOTES:
			m.kind = M_VOTE;
			m.term = fx->req.term;
			m.cand = fx->req.candidate;
			m.lsn = fx->req.candidate_lsn;
			m.tli = fx->req.candidate_timeline;
			m.tlk = n->tl;
			round_begin(n, FX_VOTES, fx->ms);
			if (round_ask_all(n, &m, fx->node, false) == 0)
				worker_round_end(n, n->r.rid);
			return true;
		case FX_VALIDATE:
			memset(r, 0, sizeof(*r));
			r->kind = FX_VALIDATE;
			return false;
		case FX_HEARTBEATS:
			m.kind = M_HB;
			m.term = fx->term;
			m.lsn = n->write_lsn;
			m.mark = fx->mark;
			round_begin(n, FX_HEARTBEATS, fx->ms);
			n->r.term = fx->term;
			n->r.voters = fx->flag ? fx->voters : 0;
			n->r.strict = fx->strict;
			if (!fx->flag)
			{
				n->lease_enforced = false;
				n->lease_armed = false;
				set_lease(n, 0);
			}
			else
				n->lease_armed = true;
			if (round_ask_all(n, &m, 0, false) == 0)
				worker_round_end(n, n->r.rid);
			return true;
		case FX_OWN_WIN:
			memset(r, 0, sizeof(*r));
			r->kind = FX_OWN_WIN;
			if (fx->term > n->term && n->voted_term < fx->term)
			{
				n->term = n->voted_term = fx->term;
				n->voted_for = n->id;
				n->lead_term = fx->term;
				check_vote(fx->term, n->id, n->id);
				check_winner(fx->term, n->id);
				r->ok = true;
			}
			n->own_win = r->ok;
			return false;
		case FX_FOLLOW:
			memset(r, 0, sizeof(*r));
			r->kind = FX_FOLLOW;
			if (running_primary(&W.nodes[fx->node]))
				check_follow(n, W.nodes[fx->node].tl, fx->node);
			n->conninfo = fx->node;
			n->rcv_stop_term = 0;
			n->rcv_stopped_at = n->rcv_gone_since = 0;
			n->rcv_saved = 0;
			r->ok = record_follow(n, fx->node, fx->node2);
			trace(1, "node %d: follows node %d%s", n->id, fx->node,
				  r->ok ? "" : " (its record not written)");
			return false;
		case FX_ENSURE_RECORD:
			memset(r, 0, sizeof(*r));
			r->kind = FX_ENSURE_RECORD;
			if (fx->node2 != 0)
			{
				cat_of(&W.nodes[fx->node2], cat);
				r->ok = (cat[n->id].upstream == fx->node && net_ok(n->id, fx->node2)) ||
					record_follow(n, fx->node, fx->node2);
			}
			return false;
		case FX_DOWNSTREAM:
			/* registered standbys that stream from it and flushed fx->lsn */
			memset(r, 0, sizeof(*r));
			r->kind = FX_DOWNSTREAM;
			cat_of(n, cat);
			for (int i = 1; i <= W.n; i++)
			{
				const Node *x = &W.nodes[i];

				if (i != n->id && cat[i].type == WK_NODE_STANDBY && x->up &&
					x->in_recovery && x->upstream == n->id && walreceiver_streaming(x) &&
					x->tl == n->tl)
				{
					r->streaming++;
					if (x->recv >= fx->lsn)
						r->granted++;
				}
			}
			trace(3, "node %d: %d standbys flushed %llu", n->id, r->granted,
				  (unsigned long long) fx->lsn);
			return false;
		case FX_MEMBERSHIP:
			n->membership_changing = fx->flag;
			if (!fx->flag)
				republish_lease(n, fx->voters);
			return false;
		case FX_END_CLAIM:
			n->claim = false;
			return false;
		case FX_LOG:
			trace(1, "node %d: %s", n->id, fx->text);
			return false;
		case FX_ERROR:
			trace(3, "node %d: error: %s", n->id, fx->text);
			return false;
		case FX_EVENT:
			trace(2, "node %d: event %s: %s", n->id, fx->name, fx->text);
			return false;
		case FX_TAKE_NOTICE:
			if (n->mem.notice_primary == fx->node)
				n->mem.notice_primary = 0;
			return false;
		case FX_OBSERVE_TERM:
			if (fx->term > n->term)
				n->term = fx->term;
			return false;
		case FX_FENCE:
			n->fenced = fx->term != 0;
			n->fenced_term = fx->term;
			if (n->fenced)
				trace(1, "node %d: fenced (a newer primary in term %lld)", n->id,
					  (long long) fx->term);
			return false;
		case FX_LEASE_OFF:
			n->lease_armed = false;
			n->lease_enforced = false;
			set_lease(n, 0);
			return false;
		case FX_RCV_MARK_STOPPED:
			n->rcv_stopped_at = now_local(n);
			n->rcv_gone_since = 0;
			n->rcv_saved = 0;
			return false;
		case FX_RCV_FORGET:
			n->rcv_stop_term = 0;
			n->rcv_stopped_at = n->rcv_gone_since = 0;
			n->rcv_saved = 0;
			return false;
		case FX_STOP_WALRECEIVER:
			trace(1, "node %d: stops its WAL receiver to vote in term %lld", n->id,
				  (long long) fx->term);
			n->rcv_saved = n->conninfo;
			n->conninfo = 0;
			n->rcv_dies_at = W.now + rnd_range(0, MS(SETTLE_MS));
			n->rcv_stopped_at = now_local(n);
			n->rcv_gone_since = 0;
			return false;
		case FX_RESTORE_CONNINFO:
			if (rcv_state(n) == RCV_STREAMING)
				return false;
			n->conninfo = n->rcv_saved != 0 ? n->rcv_saved : fx->node;
			n->rcv_stop_term = 0;
			n->rcv_stopped_at = n->rcv_gone_since = 0;
			n->rcv_saved = 0;
			trace(1, "node %d: streams from node %d again", n->id, n->conninfo);
			return false;
		case FX_COPY_METADATA:
			if (n->role == ROLE_WITNESS && net_ok(n->id, fx->node))
				cat_of(&W.nodes[fx->node], n->wcat);
			return false;
		case FX_PROMOTE:
			return start_promotion(n, fx);
		case FX_PROMOTE_RECORD:
			promote_record(n, fx);
			return false;
		case FX_NOTIFY:
			if (fx->flag && !n->own_win)
				return false;
			m.kind = M_NOTIFY;
			m.term = fx->term;
			round_begin(n, FX_NOTIFY, W.s.connect_timeout_ms);
			if (round_ask_all(n, &m, fx->node, false) == 0)
				worker_round_end(n, n->r.rid);
			return true;
		case FX_NONE:
		case FX_ROUNDS_END:
		case FX_COUNT:
		case FX_CLOSE_UPSTREAM:
		case FX_CLOSE_PEERS:
		case FX_HISTORY:
		case FX_SYNC_APPLY:
			return false;
	}
	return false;
}

/* execute the plan from plan_pos; stops at an effect that blocks */
static void
run_plan(Node *n)
{
	while (n->plan_pos < n->plan.nfx)
	{
		if (execute_fx(n, &n->plan.fx[n->plan_pos]))
			return;
		n->plan_pos++;
	}
	finish_step(n);
}

void
worker_init(Node *n)
{
	wk_init(&n->core, W.rng ^ (uint64_t) n->id);
	memset(&n->plan, 0, sizeof(n->plan));
	memset(&n->r, 0, sizeof(n->r));
	memset(&n->result, 0, sizeof(n->result));
	n->busy = false;
	n->plan_pos = 0;
	n->worker_up = false;
	n->pub_state = WS_STARTING;
	n->pub_primary = n->pub_upstream = 0;
	n->pub_primary_visible = n->pub_primary_lost = false;
}
